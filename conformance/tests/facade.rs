//! The `roundtrip` facade as a reqwest user would use it: string URLs, JSON
//! and form bodies, whole-response helpers, on Tokio and smol.

use roundtrip::prelude::*;
use roundtrip_conformance::server::{ReceivedRequest, Server};

#[derive(serde::Serialize)]
struct Item<'a> {
    name: &'a str,
    count: u32,
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Created {
    id: u64,
}

/// A server answering every request with `response` and handing back what it got.
fn answering(response: &'static [u8]) -> (Server, std::sync::mpsc::Receiver<ReceivedRequest>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let server = Server::start(move |conn| {
        while let Some(request) = conn.read_request()? {
            tx.lock().unwrap().send(request).unwrap();
            conn.write(response)?;
        }
        Ok(())
    });
    (server, rx)
}

const CREATED: &[u8] =
    b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 9\r\n\r\n{\"id\":42}";

#[test]
fn json_in_and_out_on_tokio() {
    roundtrip_conformance::watchdog::test(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let (server, received) = answering(CREATED);
            let client = roundtrip::Client::new();
            let url = server.url("/items").to_string();
            let created: Created = client
                .post(url)
                .json(&Item { name: "spoon", count: 2 })
                .send()
                .await
                .unwrap()
                .json(1024)
                .await
                .unwrap();
            assert_eq!(created, Created { id: 42 });
            let request = received.recv().unwrap();
            assert_eq!(request.header("content-type"), Some("application/json"));
            assert_eq!(request.body, br#"{"name":"spoon","count":2}"#);
        });
    });
}

#[test]
fn form_and_text_on_smol() {
    roundtrip_conformance::watchdog::test(|| {
        smol::block_on(async {
            let (server, received) =
                answering(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok");
            let client = roundtrip::smol::Client::new();
            let response = client.put(server.url("/")).form(&[("a", "1"), ("b", "x y")]).await.unwrap();
            assert_eq!(response.text(64).await.unwrap(), "ok");
            let request = received.recv().unwrap();
            assert_eq!(request.header("content-type"), Some("application/x-www-form-urlencoded"));
            assert_eq!(request.body, b"a=1&b=x+y");
        });
    });
}

/// A body that is not the JSON asked for is a decode error; a body over the
/// limit is too large; neither is mistaken for the other.
#[test]
fn json_errors_are_typed() {
    roundtrip_conformance::watchdog::test(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let (server, _received) = answering(CREATED);
            let client = roundtrip::Client::new();
            let error = client.get(server.url("/")).await.unwrap().json::<Vec<u8>>(1024).await.unwrap_err();
            assert!(error.is_decode(), "{error:?}");
            let error = client.get(server.url("/")).await.unwrap().json::<Created>(4).await.unwrap_err();
            assert!(error.is_body_too_large(), "{error:?}");
            // A value JSON cannot hold fails the request before it is sent.
            let keys = std::collections::HashMap::from([((1, 2), 3)]);
            let error = client.post(server.url("/")).json(&keys).await.unwrap_err();
            assert!(error.is_request(), "{error:?}");
        });
    });
}

/// `response.text()` decodes the charset the response names.
#[test]
fn text_honours_the_charset() {
    roundtrip_conformance::watchdog::test(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let (server, _received) = answering(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=ISO-8859-1\r\ncontent-length: 4\r\n\r\ncaf\xe9",
            );
            let response = roundtrip::Client::new().get(server.url("/")).await.unwrap();
            assert_eq!(response.text(64).await.unwrap(), "café");
        });
    });
}

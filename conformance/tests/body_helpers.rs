//! The response body's everyday helpers: `frame`, `chunk`, `discard`, and
//! `text` in the charset the response's `Content-Type` names, on every runtime.

use roundtrip_conformance::server::Server;
use roundtrip_conformance::watchdog;
use roundtrip_core::client::{Body, Client, ClientBuilder, Error, Runtime};

/// A chunked body of two chunks and one trailer field.
const CHUNKED_WITH_TRAILERS: &[u8] = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
    5\r\nhello\r\n6\r\n world\r\n0\r\nx-sum: 11\r\n\r\n";

fn client<R: Runtime + Default>() -> Client<R> {
    let client = ClientBuilder::with_runtime(R::default()).build();
    watchdog::watch(&client);
    client
}

/// A keep-alive server that answers every request with `response`, as written.
fn answers(response: impl Into<Vec<u8>>) -> Server {
    let response = response.into();
    Server::start(move |conn| {
        while conn.read_request()?.is_some() {
            conn.write(&response)?;
        }
        Ok(())
    })
}

/// A `200 OK` with `content-type` and `body`, framed by its length.
fn with_content_type(content_type: &str, body: &[u8]) -> Vec<u8> {
    let head =
        format!("HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n", body.len());
    [head.as_bytes(), body].concat()
}

/// `frame` gives the data frames, then the trailers, then `None` (and stays
/// there).
async fn frame_gives_data_then_trailers<R: Runtime + Default>() {
    let server = answers(CHUNKED_WITH_TRAILERS);
    let client = client::<R>();
    let mut body = client.get(server.url("/")).await.unwrap().into_body();
    let mut data = Vec::new();
    let mut trailers = None;
    while let Some(frame) = body.frame().await {
        match frame.unwrap().into_data() {
            Ok(bytes) => {
                assert!(trailers.is_none(), "data after the trailers");
                data.extend_from_slice(&bytes);
            }
            Err(frame) => trailers = Some(frame.into_trailers().unwrap()),
        }
    }
    assert_eq!(data, b"hello world");
    assert_eq!(trailers.expect("a trailers frame")["x-sum"], "11");
    assert!(body.frame().await.is_none(), "the end is sticky");
    assert_eq!(client.pool_stats().idle, 1, "the connection went back at the end");
}

/// `chunk` gives only data: the trailers frame is skipped.
async fn chunk_skips_trailers<R: Runtime + Default>() {
    let server = answers(CHUNKED_WITH_TRAILERS);
    let mut body = client::<R>().get(server.url("/")).await.unwrap().into_body();
    let mut data = Vec::new();
    while let Some(chunk) = body.chunk().await.unwrap() {
        assert!(!chunk.is_empty());
        data.extend_from_slice(&chunk);
    }
    assert_eq!(data, b"hello world");
    assert_eq!(body.chunk().await.unwrap(), None, "the end is sticky");
}

/// `discard` reads out a body nobody wants, so the next request reuses the
/// connection.
async fn discard_returns_the_connection_to_the_pool<R: Runtime + Default>() {
    let server = Server::start(|conn| {
        let big = vec![b'x'; 256 * 1024];
        conn.read_request()?;
        conn.respond(&big)?;
        while conn.read_request()?.is_some() {
            conn.respond(b"hello")?;
        }
        Ok(())
    });
    let client = client::<R>();
    let response = client.get(server.url("/big")).await.unwrap();
    response.into_body().discard().await.unwrap();
    let body = client.get(server.url("/small")).await.unwrap().into_body();
    assert_eq!(body.bytes(64).await.unwrap(), "hello");
    assert_eq!(client.pool_stats().counts.reuses, 1);
    assert_eq!(server.accepted(), 1);
}

/// A body that fails part way (3 bytes of 10, then the server closes) fails
/// `discard`.
async fn discard_reports_a_failed_body<R: Runtime + Default>() {
    let server = Server::start(|conn| {
        conn.read_request()?;
        conn.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")
    });
    let client = client::<R>();
    let body = client.get(server.url("/")).await.unwrap().into_body();
    let error = body.discard().await.unwrap_err();
    assert!(error.is_protocol(), "an incomplete body: {error:?}");
    assert_eq!(client.pool_stats().idle, 0);
}

/// The response's text in the charset its `Content-Type` names
/// (`Body::text_in`, as the `roundtrip` crate's `response.text()` reads it).
async fn text<R: Runtime>(response: http::Response<Body<R>>, limit: usize) -> Result<String, Error> {
    let content_type = response.headers().get(http::header::CONTENT_TYPE).cloned();
    response.into_body().text_in(content_type.as_ref(), limit).await
}

/// Without a charset, and with `utf-8` in any case, quoted or not, the text
/// is UTF-8, and bytes that are not UTF-8 are a decode error.
async fn text_is_utf8_by_default<R: Runtime + Default>() {
    let client = client::<R>();
    for content_type in ["text/plain", "text/plain; charset=utf-8", "text/plain; charset=\"UTF-8\""] {
        let server = answers(with_content_type(content_type, "café".as_bytes()));
        let body = client.get(server.url("/")).await.unwrap();
        assert_eq!(text(body, 64).await.unwrap(), "café", "{content_type}");
    }
    let server = answers(with_content_type("text/plain", b"caf\xe9"));
    let error = text(client.get(server.url("/")).await.unwrap(), 64).await.unwrap_err();
    assert!(error.to_string().contains("could not be decoded"), "{error}");
}

/// `us-ascii` is read as UTF-8, of which it is a subset.
async fn text_reads_us_ascii_as_utf8<R: Runtime + Default>() {
    let server = answers(with_content_type("text/plain; charset=US-ASCII", b"plain"));
    let body = client::<R>().get(server.url("/")).await.unwrap();
    assert_eq!(text(body, 64).await.unwrap(), "plain");
}

/// ISO-8859-1: each byte is the code point of the same value.
async fn text_decodes_iso_8859_1<R: Runtime + Default>() {
    let client = client::<R>();
    for content_type in ["text/plain; charset=ISO-8859-1", "text/plain;charset=latin1"] {
        let server = answers(with_content_type(content_type, b"caf\xe9 \x80\xff"));
        let body = client.get(server.url("/")).await.unwrap();
        assert_eq!(text(body, 64).await.unwrap(), "café \u{80}ÿ", "{content_type}");
    }
}

/// Any other charset is a decode error that names it; `windows-1252` too,
/// rather than a wrong ISO-8859-1 reading of its `0x80..=0x9F`.
async fn text_refuses_other_charsets_by_name<R: Runtime + Default>() {
    let client = client::<R>();
    for (content_type, name) in [
        ("text/plain; charset=shift_jis", "shift_jis"),
        ("text/html; charset=\"windows-1252\"", "windows-1252"),
    ] {
        let server = answers(with_content_type(content_type, b"\x82\xa0"));
        let body = client.get(server.url("/")).await.unwrap();
        let error = text(body, 64).await.unwrap_err();
        let message = error.to_string();
        assert!(message.contains("could not be decoded"), "{message}");
        assert!(message.contains(&format!("charset {name} is not supported")), "{message}");
        assert!(!error.is_retryable());
    }
}

/// A response without a body is `""`, whatever its charset.
async fn text_of_a_bodyless_response_is_empty<R: Runtime + Default>() {
    let server = answers(b"HTTP/1.1 204 No Content\r\ncontent-type: text/plain; charset=shift_jis\r\n\r\n");
    let body = client::<R>().get(server.url("/")).await.unwrap();
    assert_eq!(text(body, 64).await.unwrap(), "");
}

/// The limit counts the bytes received, in any charset.
async fn text_limit_counts_received_bytes<R: Runtime + Default>() {
    let server = answers(with_content_type("text/plain; charset=iso-8859-1", b"\xe9\xe9\xe9\xe9"));
    let body = client::<R>().get(server.url("/")).await.unwrap();
    assert!(text(body, 3).await.unwrap_err().is_body_too_large());
}

/// Response `n`'s 300 KiB body: each byte depends on its position and on `n`,
/// so a byte dropped, repeated or taken from another response shows.
fn large_body(n: usize) -> Vec<u8> {
    (0..300 * 1024).map(|i: usize| (i.wrapping_mul(31) ^ n.wrapping_mul(7)) as u8).collect()
}

/// Bodies long enough to be read straight into the connection's buffer, and
/// the heads after them, which are read there too (docs/architecture.md),
/// arrive whole and in order on one connection; a small response among them
/// goes through the scratch buffer as before.
async fn large_bodies_read_in_place_arrive_whole<R: Runtime + Default>() {
    let expected = |n: usize| if n == 2 { b"small".to_vec() } else { large_body(n) };
    let server = Server::start(move |conn| {
        let mut n = 0;
        while conn.read_request()?.is_some() {
            conn.write(&with_content_type("application/octet-stream", &expected(n)))?;
            n += 1;
        }
        Ok(())
    });
    let client = client::<R>();
    for n in 0..5 {
        let body = client.get(server.url("/")).await.unwrap().into_body().bytes(1 << 20).await.unwrap();
        let want = expected(n);
        assert!(
            body == want,
            "response {n}: {} bytes, not the {} sent, or other bytes",
            body.len(),
            want.len()
        );
    }
    assert_eq!(server.accepted(), 1, "one connection for the five responses");
}

roundtrip_conformance::on_every_runtime!(
    frame_gives_data_then_trailers,
    chunk_skips_trailers,
    discard_returns_the_connection_to_the_pool,
    discard_reports_a_failed_body,
    text_is_utf8_by_default,
    text_reads_us_ascii_as_utf8,
    text_decodes_iso_8859_1,
    text_refuses_other_charsets_by_name,
    text_of_a_bodyless_response_is_empty,
    text_limit_counts_received_bytes,
    large_bodies_read_in_place_arrive_whole,
);

//! Transparent decompression on every runtime (go-transport.md DECODE-1,
//! security.md I1-I3): the client offers gzip and deflate itself, decodes
//! what it offered while the body streams, reuses the connection, leaves
//! alone what the caller asked for, and stops bombs.

use std::io::Write;
use std::sync::mpsc;

use roundtrip_conformance::server::{ReceivedRequest, Server};
use roundtrip_conformance::watchdog;
use roundtrip_core::client::{Client, ClientBuilder, DecompressionLimit, Runtime};

fn build<R: Runtime + Default>(builder: impl FnOnce(ClientBuilder<R>) -> ClientBuilder<R>) -> Client<R> {
    let client = builder(ClientBuilder::with_runtime(R::default()).no_proxy()).build();
    watchdog::watch(&client);
    client
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// A keep-alive server answering every request with `head` and `body`
/// (framed by its length), handing each request to the test.
fn answering(coding: &'static str, body: Vec<u8>) -> (Server, mpsc::Receiver<ReceivedRequest>) {
    let (seen, received) = mpsc::channel();
    let seen = std::sync::Mutex::new(seen);
    let server = Server::start(move |conn| {
        while let Some(request) = conn.read_request()? {
            let _ = seen.lock().unwrap().send(request);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-encoding: {coding}\r\ncontent-length: {}\r\ncontent-type: text/plain\r\n\r\n",
                body.len()
            );
            conn.write(&[head.as_bytes(), &body].concat())?;
        }
        Ok(())
    });
    (server, received)
}

/// The text the tests compress: long enough to span several reads.
fn text() -> Vec<u8> {
    (0..20_000).flat_map(|i| format!("line {i}\n").into_bytes()).collect()
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    // A low quality: the default (11) takes seconds in a debug build.
    let params = brotli::enc::BrotliEncoderParams { quality: 4, ..Default::default() };
    brotli::BrotliCompress(&mut &data[..], &mut out, &params).unwrap();
    out
}

/// gzip, deflate (zlib), br and zstd bodies are decoded; `Content-Encoding` and
/// `Content-Length` go, the rest stays; the client sent its own
/// `Accept-Encoding`; two requests share one connection.
async fn offered_codings_are_decoded_and_the_connection_reused<R: Runtime + Default>() {
    let zstd = zstd::stream::encode_all(&text()[..], 3).unwrap();
    for (coding, compressed) in
        [("gzip", gzip(&text())), ("deflate", zlib(&text())), ("br", brotli(&text())), ("zstd", zstd)]
    {
        let (server, received) = answering(coding, compressed);
        let client = build::<R>(|b| b);
        for _ in 0..2 {
            let response = client.get(server.url("/")).await.unwrap();
            assert!(response.headers().get("content-encoding").is_none(), "{coding}");
            assert!(response.headers().get("content-length").is_none(), "{coding}");
            assert_eq!(response.headers()["content-type"], "text/plain");
            assert_eq!(response.into_body().bytes(1 << 20).await.unwrap(), text(), "{coding}");
        }
        assert_eq!(received.recv().unwrap().header("accept-encoding"), Some("gzip, deflate, br, zstd"));
        assert_eq!(server.accepted(), 1, "{coding}: the connection was reused");
    }
}

/// A caller that sets `Accept-Encoding` gets the bytes as sent; a ranged
/// request asks for the identity coding; `disable_compression` offers
/// nothing and decodes nothing.
async fn what_the_caller_asked_for_is_left_alone<R: Runtime + Default>() {
    let compressed = gzip(b"raw");
    let (server, received) = answering("gzip", compressed.clone());
    let client = build::<R>(|b| b);
    let asked = client.get(server.url("/")).header("accept-encoding", "gzip").await.unwrap();
    assert_eq!(asked.headers()["content-encoding"], "gzip");
    assert_eq!(asked.into_body().bytes(1024).await.unwrap(), compressed);
    let _ = received.recv().unwrap();

    let ranged = client.get(server.url("/")).header("range", "bytes=0-1").await.unwrap();
    ranged.into_body().discard().await.unwrap();
    assert_eq!(received.recv().unwrap().header("accept-encoding"), Some("identity"));

    let plain = build::<R>(|b| b.disable_compression());
    let response = plain.get(server.url("/")).await.unwrap();
    assert_eq!(response.into_body().bytes(1024).await.unwrap(), compressed, "not decoded");
    assert_eq!(received.recv().unwrap().header("accept-encoding"), None, "not offered");
}

/// A chunked gzip body with trailers: the data decoded, the trailers after it.
async fn chunked_gzip_with_trailers<R: Runtime + Default>() {
    let compressed = gzip(&text());
    let server = Server::start(move |conn| {
        while conn.read_request()?.is_some() {
            let mut out =
                b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
            for piece in compressed.chunks(1000) {
                out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                out.extend_from_slice(piece);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\nx-checksum: 42\r\n\r\n");
            conn.write(&out)?;
        }
        Ok(())
    });
    let client = build::<R>(|b| b);
    let mut body = client.get(server.url("/")).await.unwrap().into_body();
    let (mut data, mut trailers) = (Vec::new(), None);
    while let Some(frame) = body.frame().await {
        match frame.unwrap().into_data() {
            Ok(bytes) => {
                assert!(trailers.is_none(), "data after the trailers");
                data.extend_from_slice(&bytes);
            }
            Err(frame) => trailers = frame.into_trailers().ok(),
        }
    }
    assert_eq!(data, text());
    assert_eq!(trailers.expect("the trailers")["x-checksum"], "42");
    assert_eq!(client.pool_stats().idle, 1, "the connection went back at the end");
}

/// security.md I1: 10 MiB of zeros in about 10 KiB of gzip fails at the
/// ratio limit, long before it is decoded whole, and the connection is
/// closed; an absolute cap stops a body too. A truncated stream is a decode
/// error (I2).
async fn bombs_and_truncation_are_decode_errors<R: Runtime + Default>() {
    let (server, _) = answering("gzip", gzip(&vec![0u8; 10 << 20]));
    let client = build::<R>(|b| b);
    let error = client.get(server.url("/")).await.unwrap().into_body().discard().await.unwrap_err();
    assert!(error.is_decode(), "{error:?}");
    let limit = std::error::Error::source(&error).and_then(|s| s.downcast_ref::<DecompressionLimit>());
    assert!(limit.is_some(), "{error:?}");
    assert_eq!(client.pool_stats().idle, 0, "the bomb's connection was not kept");

    let capped = build::<R>(|b| b.decompression_limits(Some(1000), None));
    let (small, _) = answering("gzip", gzip(&[b'a'; 5000]));
    let error = capped.get(small.url("/")).await.unwrap().into_body().bytes(1 << 20).await.unwrap_err();
    assert!(error.is_decode(), "{error:?}");

    let whole = gzip(&text());
    let (truncated, _) = answering("gzip", whole[..whole.len() / 2].to_vec());
    let error = client.get(truncated.url("/")).await.unwrap().into_body().bytes(1 << 20).await.unwrap_err();
    assert!(error.is_decode(), "{error:?}");
}

roundtrip_conformance::on_every_runtime!(
    offered_codings_are_decoded_and_the_connection_reused,
    what_the_caller_asked_for_is_left_alone,
    chunked_gzip_with_trailers,
    bombs_and_truncation_are_decode_errors,
);

//! Reference client for the comparison: hyper-util's legacy pooled client on
//! Tokio, speaking the harness contract (see `common/args.rs`).
//! `--threads 1` (default) is the multi-thread runtime with one worker, as in
//! docs/bench.md; `--threads 0` is the current-thread runtime.
//!
//! An `https` URL goes through hyper-rustls on the workspace's rustls with the
//! aws-lc-rs provider (roundtrip's default), trusting the roots in `--cacert`
//! and offering ALPN `http/1.1` alone, as roundtrip does (docs/bench.md, TLS).

#[path = "common/args.rs"]
mod args;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

fn main() {
    let args = args::BenchArgs::parse();
    let runtime = if args.threads == 0 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(args.threads).enable_all().build()
    }
    .expect("tokio runtime");
    let uri: http::Uri = args.url.parse().expect("url");
    let mut builder = Client::builder(TokioExecutor::new());
    builder.pool_max_idle_per_host(args.connections);
    runtime.block_on(async {
        match uri.scheme_str() {
            Some("https") => run(builder.build(https_connector(&args)), &args, uri).await,
            _ => run(builder.build_http(), &args, uri).await,
        }
    });
}

/// hyper-rustls's connector for `https_or_http` over hyper-util's
/// `HttpConnector`, as `HttpsConnectorBuilder::new().with_tls_config(config)
/// .https_or_http().enable_http1().build()` makes it, except for ALPN: that
/// builder leaves ALPN empty when only HTTP/1.1 is enabled (and refuses a
/// config that sets it), while roundtrip offers `http/1.1`. The `From` pair
/// takes the config as is, so both clients send the same ClientHello.
fn https_connector(args: &args::BenchArgs) -> HttpsConnector<HttpConnector> {
    let path = args.cacert.as_deref().expect("an https URL needs --cacert FILE");
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).unwrap_or_else(|e| panic!("--cacert {path}: {e}")) {
        roots.add(cert.unwrap_or_else(|e| panic!("--cacert {path}: {e}"))).expect("a CA certificate");
    }
    assert!(!roots.is_empty(), "--cacert {path}: no certificate in the file");
    // Session resumption as rustls does by default: the config's in-memory
    // session store, shared by every connection of the client.
    let mut config =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut http = HttpConnector::new();
    http.enforce_http(false); // the scheme is checked by HttpsConnector, as its builder does
    HttpsConnector::from((http, config))
}

/// N requests from C tasks on one pooled client; prints the contract's line.
async fn run<C: Connect + Clone + Send + Sync + 'static>(
    client: Client<C, Full<Bytes>>,
    args: &args::BenchArgs,
    uri: http::Uri,
) {
    let body = Bytes::from(vec![b'x'; args.body_bytes]);
    let remaining = Arc::new(AtomicU64::new(args.requests));
    let started = Instant::now();
    let workers: Vec<_> = (0..args.connections)
        .map(|_| {
            let (client, uri, body, remaining) =
                (client.clone(), uri.clone(), body.clone(), remaining.clone());
            let (method, close) = (args.method.clone(), args.close);
            tokio::spawn(async move {
                let (mut errors, mut bytes) = (0u64, 0u64);
                while remaining
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                    .is_ok()
                {
                    let mut request = http::Request::builder().method(method.as_str()).uri(uri.clone());
                    if close {
                        request = request.header("connection", "close");
                    }
                    let request = request.body(Full::new(body.clone())).expect("request");
                    match client.request(request).await {
                        Ok(response) => match response.into_body().collect().await {
                            Ok(collected) => bytes += collected.to_bytes().len() as u64,
                            Err(_) => errors += 1,
                        },
                        Err(_) => errors += 1,
                    }
                }
                (errors, bytes)
            })
        })
        .collect();
    let (errors, bytes) = args::sum(workers.into_iter().map(|w| async { w.await.expect("worker") })).await;
    args::BenchArgs::report("hyper-util", args.requests, errors, started.elapsed(), bytes);
}

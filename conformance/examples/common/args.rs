//! The command line every client in the comparison speaks (docs/bench.md):
//! `CLIENT --url URL --connections C --requests N [--method M] [--body-bytes B] [--close] [--cacert FILE] [--threads T] [--runtime tokio|smol]`.
//! `--cacert FILE` is a PEM file of the CA certificates to trust for `https` URLs.
//! Shared by the reference clients (`#[path = "common/args.rs"]`).

pub(crate) struct BenchArgs {
    pub url: String,
    pub connections: usize,
    pub requests: u64,
    pub method: String,
    pub body_bytes: usize,
    pub close: bool,
    /// PEM file of the CA certificates trusted for `https` URLs.
    pub cacert: Option<String>,
    pub threads: usize,
    /// The floor's runtime: `tokio` or `smol`.
    pub runtime: String,
}

impl BenchArgs {
    pub(crate) fn parse() -> Self {
        let mut args = BenchArgs {
            url: String::new(),
            connections: 1,
            requests: 1,
            method: "GET".into(),
            body_bytes: 0,
            close: false,
            cacert: None,
            threads: 1,
            runtime: "tokio".into(),
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
            match flag.as_str() {
                "--url" => args.url = value(),
                "--connections" => args.connections = value().parse().expect("--connections"),
                "--requests" => args.requests = value().parse().expect("--requests"),
                "--method" => args.method = value(),
                "--body-bytes" => args.body_bytes = value().parse().expect("--body-bytes"),
                "--threads" => args.threads = value().parse().expect("--threads"),
                "--runtime" => args.runtime = value(),
                "--close" => args.close = true,
                "--cacert" => args.cacert = Some(value()),
                other => panic!("unknown argument {other}"),
            }
        }
        assert!(!args.url.is_empty(), "--url is required");
        args
    }

    /// The contract's result line.
    pub(crate) fn report(client: &str, requests: u64, errors: u64, elapsed: std::time::Duration, bytes: u64) {
        println!(
            "{{\"client\":\"{client}\",\"requests\":{requests},\"errors\":{errors},\"elapsed_s\":{:.6},\"bytes\":{bytes}}}",
            elapsed.as_secs_f64()
        );
    }
}

/// Sums the (errors, bytes) each worker returns.
pub(crate) async fn sum<W: std::future::Future<Output = (u64, u64)>>(
    workers: impl IntoIterator<Item = W>,
) -> (u64, u64) {
    let (mut errors, mut bytes) = (0, 0);
    for worker in workers {
        let (e, b) = worker.await;
        errors += e;
        bytes += b;
    }
    (errors, bytes)
}

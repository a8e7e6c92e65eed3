//! Command line of `load`.

use std::time::Duration;

use clap::{Parser, ValueEnum};
use roundtrip::bytes::Bytes;
use roundtrip::http::{HeaderMap, Method, Uri};

/// HTTP/1.1 load generator on roundtrip. With no URL, starts an embedded
/// loopback server (`/small`: 100 bytes, `/1m`: 1 MiB, `/upload`: reads and
/// discards a body) and loads its `/small`.
#[derive(Parser, Debug)]
#[command(name = "load", version)]
pub(crate) struct Args {
    /// Target URL (http://... or https://...). Omit to load the embedded server.
    pub url: Option<String>,
    /// The target URL as an option (the comparison harness's contract).
    #[arg(long = "url", conflicts_with = "url")]
    pub url_option: Option<String>,
    /// Concurrent requests, and the pool's connections per host.
    #[arg(short = 'c', long, default_value_t = 8)]
    pub connections: usize,
    /// Total requests (default 20000 unless --duration is given).
    #[arg(short = 'n', long)]
    pub requests: Option<u64>,
    /// Run for this long instead of a count: 10s, 500ms, 2m.
    #[arg(short = 'z', long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Give up on a request after this long: 5s, 500ms.
    #[arg(short = 't', long, value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Request method.
    #[arg(short = 'm', long, default_value = "GET")]
    pub method: String,
    /// Send a body of this many bytes with each request.
    #[arg(short = 'b', long, default_value_t = 0)]
    pub body_bytes: usize,
    /// Extra request header, `Name: value`; repeatable.
    #[arg(short = 'H', long = "header")]
    pub headers: Vec<String>,
    /// Send `Connection: close` and open a connection per request.
    #[arg(long)]
    pub close: bool,
    /// Which adapter drives the client.
    #[arg(long, value_enum, default_value_t = RuntimeChoice::Tokio)]
    pub runtime: RuntimeChoice,
    /// Tokio worker threads (1: the current-thread runtime).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Print one JSON object instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Attach a trace to every request that only counts its events: what
    /// observing a request costs (the count is printed).
    #[arg(long)]
    pub trace: bool,
    /// For https: trust the CA certificates in this PEM file instead of the system's.
    #[arg(long)]
    pub cacert: Option<String>,
    /// For https: accept any server certificate (no verification at all).
    #[arg(short = 'k', long)]
    pub insecure: bool,
}

/// The runtime adapter to use.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum RuntimeChoice {
    /// roundtrip-tokio.
    Tokio,
    /// roundtrip-smol.
    Smol,
}

/// What to send, how often, how hard.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// `None`: start the embedded server and target its `/small`.
    pub url: Option<Uri>,
    pub method: Method,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub requests: Option<u64>,
    pub duration: Option<Duration>,
    pub timeout: Option<Duration>,
    pub connections: usize,
    pub close: bool,
    pub progress: bool,
    pub cacert: Option<String>,
    pub insecure: bool,
    pub trace: bool,
}

impl Args {
    /// Validates the arguments into a plan; the error is one line for the user.
    pub(crate) fn plan(&self) -> Result<Plan, String> {
        let url = match self.url.as_ref().or(self.url_option.as_ref()) {
            None => None,
            Some(url) => {
                let uri: Uri = url.parse().map_err(|e| format!("bad URL {url:?}: {e}"))?;
                if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
                    return Err(format!("bad URL {url:?}: need http[s]://host[:port]/path"));
                }
                if uri.scheme_str() == Some("https") && !cfg!(feature = "rustls") {
                    return Err("https:// needs this tool built with the rustls feature".into());
                }
                Some(uri)
            }
        };
        let method = Method::from_bytes(self.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| format!("bad method {:?}", self.method))?;
        let mut headers = HeaderMap::new();
        for header in &self.headers {
            let (name, value) = roundtrip_cli::header::parse(header)?;
            headers.append(name, value);
        }
        if self.connections == 0 {
            return Err("--connections must be at least 1".into());
        }
        let requests = match (self.requests, self.duration) {
            (Some(_), Some(_)) => return Err("give --requests or --duration, not both".into()),
            (None, None) => Some(20_000),
            (n, _) => n,
        };
        Ok(Plan {
            url,
            method,
            headers,
            body: Bytes::from(vec![b'x'; self.body_bytes]),
            requests,
            duration: self.duration,
            timeout: self.timeout,
            connections: self.connections,
            close: self.close,
            progress: !self.json && std::io::IsTerminal::is_terminal(&std::io::stderr()),
            cacert: self.cacert.clone(),
            insecure: self.insecure,
            trace: self.trace,
        })
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| format!("bad duration {text:?}"))?;
    let seconds = match unit {
        "ms" => number / 1000.0,
        "s" | "" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => return Err(format!("bad duration unit in {text:?} (use ms, s, m or h)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("bad duration {text:?}"))
}

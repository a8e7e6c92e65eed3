//! `fetch`: a curl-like single request on roundtrip.
//!
//!     cargo fetch-url http://127.0.0.1:8080/ -v
//!     cargo fetch-url http://host/upload -d 'hello' -H 'content-type: text/plain'
//!     cargo fetch-url http://host/upload --data-binary @file.bin --expect-continue -o reply.txt
//!     cargo fetch-url https://localhost:8443/ -v --cacert ca.pem
//!     cargo fetch-url https://example.com/ -v --proxy http://user:pw@127.0.0.1:3128
//!     cargo fetch-url http://127.0.0.1:8080/old -L -v --compressed
//!
//! Proxies come from the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY,
//! NO_PROXY) unless `--proxy` names one.
//!
//! Exit codes follow curl's: 0 success, 2 usage, 3 bad URL, 5 bad proxy,
//! 7 could not connect, 8 protocol error, 22 HTTP status 400 or above (the
//! body is still written), 23 output write error, 26 input read error,
//! 28 timeout, 35 TLS failure, 47 a redirect not followed (too many, a
//! loop, https to http), 56 connection failed or closed, 60 server
//! certificate not accepted, 77 unreadable `--cacert`, 97 the proxy refused
//! or failed, 1 anything else.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use roundtrip::bytes::Bytes;
use roundtrip::client::redirect::Policy;
use roundtrip::http::uri::Scheme;
use roundtrip::http::{HeaderValue, Method, Request, Uri};
use roundtrip::http_body::{Body as _, Frame, SizeHint};
use roundtrip::redirect::Redirects;
use roundtrip::{Client, Error, Full, NoProxy, Proxies, Proxy, Timings, Trace, TraceEvent};
use roundtrip_cli::tls;

/// Sends one HTTP/1.1 request and writes the response body.
#[derive(Parser, Debug)]
#[command(name = "fetch", version)]
struct Args {
    /// The URL (http://...).
    url: String,
    /// Request method (default GET, or POST with a body).
    #[arg(short = 'X', long = "request")]
    method: Option<String>,
    /// Request header, `Name: value`; repeatable.
    #[arg(short = 'H', long = "header")]
    headers: Vec<String>,
    /// Request body text.
    #[arg(short = 'd', long = "data", conflicts_with = "data_binary")]
    data: Option<String>,
    /// Request body: the text, or `@path` for a file's bytes.
    #[arg(long = "data-binary")]
    data_binary: Option<String>,
    /// Send `Expect: 100-continue` and wait for the server's go-ahead.
    #[arg(long)]
    expect_continue: bool,
    /// Write the body to this file instead of stdout.
    #[arg(short = 'o', long)]
    output: Option<String>,
    /// Write the response head before the body.
    #[arg(short = 'i', long)]
    include: bool,
    /// Print the request and response heads and each phase with its time.
    #[arg(short = 'v', long)]
    verbose: bool,
    /// Give up after this many seconds in all.
    #[arg(long = "max-time")]
    max_time: Option<f64>,
    /// Give up connecting after this many seconds.
    #[arg(long = "connect-timeout")]
    connect_timeout: Option<f64>,
    /// Use this proxy (http://, https://, socks5://, socks5h://, with
    /// user:password@ if it wants them) instead of the environment's.
    #[arg(short = 'x', long)]
    proxy: Option<String>,
    /// Hosts that bypass the proxy, as in NO_PROXY (`*` for all).
    #[arg(long)]
    noproxy: Option<String>,
    /// Trust the CA certificates in this PEM file instead of the system's.
    #[arg(long)]
    cacert: Option<String>,
    /// Accept any server certificate (no verification at all).
    #[arg(short = 'k', long)]
    insecure: bool,
    /// Follow redirects (Go's rules: 301-303 turn into GET, 307 and 308
    /// resend the body, credentials stay with their host, no https to http).
    #[arg(short = 'L', long)]
    location: bool,
    /// Ask for a compressed body (gzip, deflate) and decode it, as curl's
    /// `--compressed`; without it nothing is offered.
    #[arg(long)]
    compressed: bool,
    /// With `-L`, the most redirects to follow.
    #[arg(long = "max-redirs", default_value_t = 50)]
    max_redirs: usize,
    /// After the transfer, print this to stdout with curl's variables filled
    /// in: %{http_code}, %{time_namelookup}, %{time_connect},
    /// %{time_appconnect}, %{time_pretransfer}, %{time_starttransfer},
    /// %{time_total}, %{time_redirect}, %{num_redirects}, %{url_effective},
    /// %{size_download}, %{remote_ip}, %{remote_port}; `\n` is a newline.
    #[arg(short = 'w', long = "write-out")]
    write_out: Option<String>,
}

/// A failure: one line for the user and an exit code.
struct Failure(u8, String);

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(fetch(args)),
        Err(e) => Err(Failure(1, format!("cannot start tokio: {e}"))),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Failure(code, message)) => {
            eprintln!("fetch: {message}");
            ExitCode::from(code)
        }
    }
}

async fn fetch(args: Args) -> Result<u8, Failure> {
    let uri: Uri = args.url.parse().map_err(|e| Failure(3, format!("bad URL {:?}: {e}", args.url)))?;
    if uri.scheme_str() == Some("https") && !cfg!(feature = "rustls") {
        return Err(Failure(1, "https:// needs this tool built with the rustls feature".into()));
    }
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return Err(Failure(3, format!("bad URL {:?}: need http[s]://host[:port]/path", args.url)));
    }
    let seconds = |s: f64| Duration::try_from_secs_f64(s).map_err(|_| Failure(2, format!("bad time {s}")));
    let mut builder = Client::builder();
    if let Some(t) = args.connect_timeout {
        builder = builder.connect_timeout(Some(seconds(t)?));
    }
    if let Some(t) = args.max_time {
        builder = builder.total_timeout(Some(seconds(t)?));
    }
    let proxies = proxies(&args)?;
    let route = uri.host().and_then(|host| {
        let port =
            uri.port_u16().unwrap_or_else(|| if uri.scheme() == Some(&Scheme::HTTPS) { 443 } else { 80 });
        proxies.select(uri.scheme()?, host.trim_start_matches('[').trim_end_matches(']'), port)
    });
    if args.verbose {
        match route {
            Some(proxy) => eprintln!("* via proxy {proxy}"),
            None => eprintln!("* no proxy"),
        }
    }
    builder = builder.proxies(proxies);
    // As curl: no compression unless asked for.
    if !args.compressed {
        builder = builder.disable_compression();
    }
    // As curl: redirects are the response unless -L asks to follow them.
    builder = builder.redirect(if args.location { Policy::limited(args.max_redirs) } else { Policy::none() });
    builder = tls::configure(builder, args.cacert.as_deref(), args.insecure).map_err(|e| Failure(77, e))?;
    let client = builder.build();

    let (body, has_body) = request_body(&args)?;
    let default_method = if has_body { Method::POST } else { Method::GET };
    let method = match &args.method {
        Some(m) => Method::from_bytes(m.as_bytes()).map_err(|_| Failure(2, format!("bad method {m:?}")))?,
        None => default_method,
    };
    let mut request = Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    for header in &args.headers {
        let (name, value) = roundtrip_cli::header::parse(header).map_err(|e| Failure(2, e))?;
        request.headers_mut().append(name, value);
    }
    if args.expect_continue {
        request.headers_mut().insert("expect", HeaderValue::from_static("100-continue"));
    }
    let started = Instant::now();
    // The heads as they crossed the wire, from the client's trace: what
    // `-v` prints and `-i` writes is what was sent and received.
    let final_head = Arc::new(Mutex::new(Bytes::new()));
    let peer = Arc::new(Mutex::new(None));
    if args.verbose || args.include || args.write_out.is_some() {
        let (verbose, slot, peer) = (args.verbose, final_head.clone(), peer.clone());
        request.extensions_mut().insert(Trace::new(move |event: &TraceEvent| {
            match event {
                TraceEvent::RequestHeadBytes(head) if verbose => print_head('>', head),
                TraceEvent::ResponseHeadBytes(head) => {
                    if verbose {
                        print_head('<', head);
                    }
                    *slot.lock().unwrap_or_else(PoisonError::into_inner) = head.clone();
                }
                _ if verbose => {
                    eprintln!("* {:>9.3} ms  {}", started.elapsed().as_secs_f64() * 1000.0, describe(event));
                }
                _ => {}
            }
            if let TraceEvent::GotConnection { peer: address, .. } = event {
                *peer.lock().unwrap_or_else(PoisonError::into_inner) = *address;
            }
        }));
    }

    let url = request.uri().clone();
    let response = client.request(request).await.map_err(failure)?;
    let timings = response.extensions().get::<Timings>().copied();
    let url = response.extensions().get::<Redirects>().map_or(url, |r| r.final_url().clone());
    let redirects = response.extensions().get::<Redirects>().map_or(0, |r| r.urls().len() - 1);
    #[cfg(feature = "rustls")]
    if args.verbose
        && let Some(tls) = response.extensions().get::<Arc<roundtrip::TlsInfo>>()
    {
        describe_tls(tls);
    }
    let status = response.status();

    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => {
            Box::new(File::create(path).map_err(|e| Failure(23, format!("cannot create {path}: {e}")))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let write_error = |e: std::io::Error| Failure(23, format!("cannot write the body: {e}"));
    if args.include {
        let head = final_head.lock().unwrap_or_else(PoisonError::into_inner).clone();
        out.write_all(&head).map_err(write_error)?;
    }
    let mut body = response.into_body();
    let length = body.size_hint().exact();
    let progress = (std::io::stderr().is_terminal() && length.is_none_or(|n| n > 1 << 20)).then(|| {
        let bar = length.map_or_else(ProgressBar::new_spinner, ProgressBar::new);
        let style = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar
    });
    let mut size = 0;
    while let Some(data) = body.chunk().await.map_err(failure)? {
        size += data.len();
        out.write_all(&data).map_err(write_error)?;
        if let Some(bar) = &progress {
            bar.inc(data.len() as u64);
        }
    }
    out.flush().map_err(write_error)?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if args.verbose {
        eprintln!("* {:>9.3} ms  done", started.elapsed().as_secs_f64() * 1000.0);
        if let Some(t) = &timings {
            eprintln!("* {}", describe_timings(t));
        }
    }
    if let Some(format) = &args.write_out {
        let peer = *peer.lock().unwrap_or_else(PoisonError::into_inner);
        let done = Done { status: status.as_u16(), timings, url, redirects, size, peer };
        print!("{}", write_out(format, &done));
    }
    Ok(if status.as_u16() >= 400 { 22 } else { 0 })
}

/// What `-w` can tell about a finished transfer.
struct Done {
    status: u16,
    timings: Option<Timings>,
    url: Uri,
    redirects: usize,
    size: usize,
    peer: Option<SocketAddr>,
}

/// `format` with curl's `%{name}` variables filled in from `done`, times in
/// seconds as curl gives them: from the start of the last hop, each phase
/// including those before it (curl's `time_*`), `time_total` the whole run.
fn write_out(format: &str, done: &Done) -> String {
    let t = done.timings.as_ref();
    let secs = |d: Option<Duration>| format!("{:.6}", d.unwrap_or_default().as_secs_f64());
    let dns = t.and_then(|t| t.dns()).unwrap_or_default();
    let connect = dns + t.and_then(|t| t.connect()).unwrap_or_default();
    let appconnect = t.and_then(|t| t.tls()).map_or(Duration::ZERO, |tls| connect + tls);
    let total = t.map(|t| t.redirects() + t.start().elapsed());
    let mut out = String::new();
    let mut rest = format.replace("\\n", "\n");
    while let Some(at) = rest.find("%{") {
        // An unclosed `%{` is text, as the rest after it.
        let Some(end) = rest[at..].find('}') else { break };
        out.push_str(&rest[..at]);
        let name = &rest[at + 2..at + end];
        let value = match name {
            "http_code" | "response_code" => format!("{:03}", done.status),
            "time_namelookup" => secs(Some(dns)),
            "time_connect" => secs(Some(connect)),
            "time_appconnect" => secs(Some(appconnect)),
            "time_pretransfer" => secs(t.map(|t| t.got_connection())),
            "time_starttransfer" => secs(t.map(|t| t.first_byte())),
            "time_total" => secs(total),
            "time_redirect" => secs(t.map(|t| t.redirects())),
            "num_redirects" => done.redirects.to_string(),
            "url_effective" => done.url.to_string(),
            "size_download" => done.size.to_string(),
            "remote_ip" => done.peer.map_or_else(String::new, |p| p.ip().to_string()),
            "remote_port" => done.peer.map_or_else(String::new, |p| p.port().to_string()),
            other => format!("%{{{other}}}"),
        };
        out.push_str(&value);
        rest = rest[at + end + 1..].to_owned();
    }
    out.push_str(&rest);
    out
}

/// The response's timings on one line, for `-v`.
fn describe_timings(t: &Timings) -> String {
    let ms = |d: Duration| format!("{:.3}", d.as_secs_f64() * 1000.0);
    let mut line = format!("timings (ms): got connection {}", ms(t.got_connection()));
    for (name, phase) in [("dns", t.dns()), ("connect", t.connect()), ("tls", t.tls())] {
        if let Some(d) = phase {
            line += &format!(", {name} {}", ms(d));
        }
    }
    line += &format!(
        ", head written {}, first byte {}, response head {}",
        ms(t.head_written()),
        ms(t.first_byte()),
        ms(t.response_head())
    );
    if !t.redirects().is_zero() {
        line += &format!(" (after {} ms of redirects)", ms(t.redirects()));
    }
    line
}

/// A head's lines, each after `mark` (`>` sent, `<` received), as curl -v
/// prints them; bytes that are not UTF-8 are shown replaced.
fn print_head(mark: char, head: &[u8]) {
    let text = String::from_utf8_lossy(head);
    for line in text.trim_end_matches("\r\n").split("\r\n") {
        eprintln!("{mark} {line}");
    }
    eprintln!("{mark}");
}

fn describe(event: &TraceEvent) -> String {
    let ms = |d: &Duration| format!("{:.3} ms", d.as_secs_f64() * 1000.0);
    let to = |peer: &Option<SocketAddr>| peer.map(|p| format!(" to {p}")).unwrap_or_default();
    match event {
        TraceEvent::PoolWait { queued_ahead } => format!("waiting for a connection ({queued_ahead} ahead)"),
        TraceEvent::DnsStart { host } => format!("resolving {host}"),
        TraceEvent::DnsDone { error: Some(kind), .. } => format!("could not resolve: {kind}"),
        TraceEvent::DnsDone { addrs, .. } => {
            let addrs: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
            format!("resolved to {}", addrs.join(", "))
        }
        TraceEvent::ConnectStart { addr } => format!("connecting to {addr}"),
        TraceEvent::ConnectDone { addr, error: None } => format!("connected to {addr}"),
        TraceEvent::ConnectDone { addr, error: Some(kind) } => format!("connect to {addr} failed: {kind}"),
        TraceEvent::TlsHandshakeStart => "TLS handshake".into(),
        TraceEvent::TlsHandshakeDone { ok: true } => "TLS handshake done".into(),
        TraceEvent::TlsHandshakeDone { ok: false } => "TLS handshake failed".into(),
        TraceEvent::GotConnection { reused: true, idle_for, peer, .. } => {
            format!("reusing the connection{} (idle {})", to(peer), ms(&idle_for.unwrap_or_default()))
        }
        TraceEvent::GotConnection { waited, peer, .. } => {
            format!("new connection{} (waited {})", to(peer), ms(waited))
        }
        TraceEvent::HeadWritten => "request head written".into(),
        TraceEvent::RequestWritten => "request written".into(),
        TraceEvent::Continue => "100 continue received".into(),
        TraceEvent::Informational { status } => format!("{} informational response", status.as_u16()),
        TraceEvent::FirstByte => "first response byte".into(),
        TraceEvent::ResponseHead { status } => format!("{} response head received", status.as_u16()),
        TraceEvent::Retry { error } => format!("retrying on a new connection: {error}"),
        TraceEvent::Redirect { status, location } => format!("{} redirect to {location}", status.as_u16()),
        TraceEvent::BodyDone => "body read".into(),
        TraceEvent::ConnectionClosed { reason } => format!("connection closed: {reason}"),
        other => format!("{other:?}"),
    }
}

/// `--proxy` or the environment's proxies, less `--noproxy`'s hosts.
fn proxies(args: &Args) -> Result<Proxies, Failure> {
    let mut proxies = match &args.proxy {
        // A proxy for both schemes; nothing bypasses it but `--noproxy`.
        Some(url) => {
            let proxy = Proxy::parse(url).map_err(|e| Failure(5, format!("bad proxy: {e}")))?;
            Proxies::all(proxy)
        }
        None => Proxies::from_env(),
    };
    if let Some(list) = &args.noproxy {
        proxies = proxies.no_proxy(NoProxy::parse(list));
    }
    Ok(proxies)
}

/// What `-v` shows of a TLS connection, as curl does.
#[cfg(feature = "rustls")]
fn describe_tls(tls: &roundtrip::TlsInfo) {
    let version = tls.protocol_version().map_or_else(|| "?".into(), |v| format!("{v:?}"));
    let suite = tls.cipher_suite().map_or_else(|| "?".into(), |s| format!("{s:?}"));
    eprintln!("* TLS: {version}, {suite}");
    match tls.alpn_protocol() {
        Some(alpn) => eprintln!("* ALPN: server accepted {}", String::from_utf8_lossy(alpn)),
        None => eprintln!("* ALPN: server did not agree on a protocol"),
    }
    if let Some(leaf) = tls.peer_certificates().first() {
        match x509_parser::parse_x509_certificate(leaf) {
            Ok((_, cert)) => {
                eprintln!("* certificate subject: {}", cert.subject());
                eprintln!("* certificate issuer: {}", cert.issuer());
                eprintln!("* certificate expires: {}", cert.validity().not_after);
            }
            Err(e) => eprintln!("* certificate: unreadable ({e})"),
        }
    }
}

fn failure(error: Error) -> Failure {
    let code = match () {
        // curl's codes: 60, the peer's certificate was not accepted; 35, any
        // other TLS failure.
        #[cfg(feature = "rustls")]
        _ if error.tls_error().is_some_and(|e| {
            matches!(e.kind(), roundtrip::TlsErrorKind::Certificate | roundtrip::TlsErrorKind::Name)
        }) =>
        {
            60
        }
        #[cfg(feature = "rustls")]
        _ if error.is_tls() => 35,
        // 97: the proxy refused or broke its handshake (curl's
        // CURLE_PROXY); 56 for the rest of what curl reports as a receive error.
        _ if error.proxy_error().is_some() => 97,
        // A connect timeout is a timeout first, as in curl (28, not 7).
        _ if error.is_timeout() => 28,
        _ if error.is_connect() => 7,
        _ if error.is_protocol() => 8,
        _ if error.is_closed() => 56,
        // curl's CURLE_TOO_MANY_REDIRECTS; also a refused downgrade or loop.
        _ if error.is_redirect() => 47,
        _ => 1,
    };
    Failure(code, error.to_string())
}

/// The request body from `-d` or `--data-binary`; files are streamed.
fn request_body(args: &Args) -> Result<(RequestBody, bool), Failure> {
    match (&args.data, &args.data_binary) {
        (Some(text), _) => Ok((RequestBody::Bytes(Full::from(text.clone())), true)),
        (None, Some(spec)) => match spec.strip_prefix('@') {
            Some(path) => {
                let file = File::open(path).map_err(|e| Failure(26, format!("cannot open {path}: {e}")))?;
                let length =
                    file.metadata().map_err(|e| Failure(26, format!("cannot read {path}: {e}")))?.len();
                Ok((RequestBody::File { file, remaining: length }, true))
            }
            None => Ok((RequestBody::Bytes(Full::from(spec.clone())), true)),
        },
        (None, None) => Ok((RequestBody::Bytes(Full::default()), false)),
    }
}

enum RequestBody {
    Bytes(Full),
    /// Read in 64 KiB pieces; blocking reads are fine for a one-request tool.
    File {
        file: File,
        remaining: u64,
    },
}

impl roundtrip::http_body::Body for RequestBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            RequestBody::Bytes(full) => {
                Pin::new(full).poll_frame(cx).map(|f| f.map(|f| f.map_err(|e| match e {})))
            }
            RequestBody::File { file, remaining } => {
                if *remaining == 0 {
                    return Poll::Ready(None);
                }
                let mut buf = vec![0; (*remaining).min(64 * 1024) as usize];
                match file.read(&mut buf) {
                    Ok(0) => Poll::Ready(Some(Err(std::io::ErrorKind::UnexpectedEof.into()))),
                    Ok(n) => {
                        buf.truncate(n);
                        *remaining -= n as u64;
                        Poll::Ready(Some(Ok(Frame::data(Bytes::from(buf)))))
                    }
                    Err(e) => Poll::Ready(Some(Err(e))),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            RequestBody::Bytes(full) => full.is_end_stream(),
            RequestBody::File { remaining, .. } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            RequestBody::Bytes(full) => full.size_hint(),
            RequestBody::File { remaining, .. } => SizeHint::with_exact(*remaining),
        }
    }
}

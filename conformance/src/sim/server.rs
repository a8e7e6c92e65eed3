//! The simulated servers. Each connection's server answers request after
//! request and, as the seed decides, misbehaves: it closes idle connections,
//! resets mid-body, answers before the body, stalls, floods 1xx, trickles its
//! head a byte at a time, or sends bytes after a response. On an https host
//! the bytes go through TLS (`tls.rs`), and some connections close without
//! `close_notify`.
//!
//! Each server also judges the client by its own rules, independent of the
//! engine's reuse decision: a request on a connection the server made unfit
//! for reuse (it said `Connection: close`, answered as HTTP/1.0, or sent bytes
//! after its response), or bytes that are not a well-formed request, are
//! violations, and fail the run.

use std::future::poll_fn;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use super::executor::{SimRuntime, sleep};
use super::net::ServerEnd;

/// Largest request head a server reads before calling the client broken.
const MAX_HEAD: usize = 64 * 1024;

/// The byte at `index` of the body answering request `id`.
pub(crate) fn body_byte(id: u64, index: usize) -> u8 {
    b'a' + ((id as usize + index) % 26) as u8
}

fn body(id: u64, len: usize) -> Vec<u8> {
    (0..len).map(|index| body_byte(id, index)).collect()
}

/// What a server does with one exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Behaviour {
    Normal,
    /// `Connection: close`, then closes.
    CloseAfter,
    /// Keeps the connection, then closes it if no request comes within a
    /// random idle time, even one already on its way.
    IdleClose,
    /// Resets the connection partway through the response body.
    ResetMidBody,
    /// Answers before reading the request body, then reads it.
    EarlyAnswer,
    /// The same, saying `Connection: close`; keeps the socket open: unfit for reuse.
    EarlyAnswerClose,
    /// Never answers.
    Stall,
    /// A run of 103s before the answer.
    Flood1xx,
    /// Writes the head one byte at a time.
    TrickleHead,
    /// Sends bytes after the response, in the same write: unfit for reuse.
    JunkAfter,
    /// Says `Connection: close` but keeps the socket open: unfit for reuse.
    CloseHeaderKeepOpen,
    /// An HTTP/1.0 answer without keep-alive, socket kept open: unfit for reuse.
    Http10,
    /// A body delimited by closing the connection.
    NoLength,
}

const BEHAVIOURS: [(Behaviour, u64); 13] = [
    (Behaviour::Normal, 600),
    (Behaviour::CloseAfter, 40),
    (Behaviour::IdleClose, 120),
    (Behaviour::ResetMidBody, 25),
    (Behaviour::EarlyAnswer, 15),
    (Behaviour::EarlyAnswerClose, 15),
    (Behaviour::Stall, 5),
    (Behaviour::Flood1xx, 30),
    (Behaviour::TrickleHead, 30),
    (Behaviour::JunkAfter, 30),
    (Behaviour::CloseHeaderKeepOpen, 30),
    (Behaviour::Http10, 30),
    (Behaviour::NoLength, 30),
];

fn pick(runtime: &SimRuntime) -> Behaviour {
    let total: u64 = BEHAVIOURS.iter().map(|(_, weight)| weight).sum();
    let mut roll = runtime.shared.below(total);
    for (behaviour, weight) in BEHAVIOURS {
        if roll < weight {
            if behaviour == Behaviour::Stall && !runtime.shared.lock().net.stalls {
                return Behaviour::Normal;
            }
            return behaviour;
        }
        roll -= weight;
    }
    Behaviour::Normal
}

/// What a request head said.
struct Head {
    method: String,
    id: u64,
    length: Option<usize>,
    chunked: bool,
    expect_continue: bool,
}

fn violation(runtime: &SimRuntime, host: usize, what: String) {
    runtime.shared.lock().net.violations.push(format!("h{host}.sim: {what}"));
}

/// Serves one connection until the client closes it or the server decides to.
pub(crate) async fn serve(runtime: SimRuntime, end: ServerEnd, host: usize) {
    let mut buf = Vec::new();
    // Why this connection may no longer carry a request, once it may not.
    let mut unfit: Option<&'static str> = None;
    loop {
        let Some(head_len) = read_head(&end, &mut buf).await else { return };
        if let Some(why) = unfit {
            return violation(&runtime, host, format!("a request came on a connection that {why}"));
        }
        let head = match parse(&buf[..head_len]) {
            Ok(head) => head,
            Err(what) => return violation(&runtime, host, what),
        };
        buf.drain(..head_len);
        let behaviour = pick(&runtime);
        let has_body = head.length.is_some_and(|n| n > 0) || head.chunked;
        if behaviour == Behaviour::Stall {
            while end.read(&mut buf).await {}
            return;
        }
        let early = matches!(behaviour, Behaviour::EarlyAnswer | Behaviour::EarlyAnswerClose);
        if early {
            respond(&runtime, &end, &head, behaviour).await;
        } else if has_body && head.expect_continue && runtime.shared.chance(800) {
            end.write(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        if has_body {
            match read_body(&end, &mut buf, &head).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(what) => return violation(&runtime, host, what),
            }
        }
        if !early {
            respond(&runtime, &end, &head, behaviour).await;
        }
        match behaviour {
            Behaviour::CloseAfter | Behaviour::NoLength | Behaviour::ResetMidBody => {
                if behaviour == Behaviour::ResetMidBody {
                    end.reset();
                } else {
                    end.close();
                }
                // A body delimited by a close with no close_notify may be cut
                // short by an attacker: the client must not take it as whole.
                if behaviour == Behaviour::NoLength && head.method != "HEAD" && end.drops_notify() {
                    runtime.shared.lock().net.truncated.push(head.id);
                }
                // Reads nothing more: the client sees EOF or a reset.
                return;
            }
            Behaviour::JunkAfter => unfit = Some("sent bytes after its response"),
            Behaviour::CloseHeaderKeepOpen | Behaviour::EarlyAnswerClose => {
                unfit = Some("answered with Connection: close");
            }
            Behaviour::Http10 => unfit = Some("answered as HTTP/1.0 without keep-alive"),
            Behaviour::IdleClose => {
                let idle = Duration::from_micros(runtime.shared.below(200_000));
                let mut timer = pin!(sleep(&runtime, idle));
                let arrived = poll_fn(|cx| {
                    if timer.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(false);
                    }
                    if !buf.is_empty() {
                        return Poll::Ready(true);
                    }
                    let open = match pin!(end.read(&mut buf)).poll(cx) {
                        Poll::Ready(open) => open,
                        Poll::Pending => return Poll::Pending,
                    };
                    Poll::Ready(open && !buf.is_empty())
                })
                .await;
                if !arrived {
                    // Closes with whatever the client sent unread: the stale-connection race.
                    end.close();
                    return;
                }
            }
            _ => {}
        }
    }
}

/// Reads until `buf` holds a whole head; its length, or `None` at EOF.
async fn read_head(end: &ServerEnd, buf: &mut Vec<u8>) -> Option<usize> {
    loop {
        if let Some(at) = buf.windows(4).position(|window| window == b"\r\n\r\n") {
            return Some(at + 4);
        }
        if buf.len() > MAX_HEAD || !end.read(buf).await {
            return None;
        }
    }
}

fn parse(bytes: &[u8]) -> Result<Head, String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(bytes) {
        Ok(httparse::Status::Complete(_)) => {}
        other => {
            return Err(format!(
                "bytes that are not a request head ({other:?}): {:?}",
                String::from_utf8_lossy(bytes)
            ));
        }
    }
    let mut head = Head {
        method: request.method.unwrap_or_default().to_owned(),
        id: u64::MAX,
        length: None,
        chunked: false,
        expect_continue: false,
    };
    for header in request.headers.iter() {
        let value = std::str::from_utf8(header.value).unwrap_or("");
        match header.name.to_ascii_lowercase().as_str() {
            "x-id" => head.id = value.parse().map_err(|_| format!("x-id {value:?}"))?,
            "content-length" => {
                head.length = Some(value.parse().map_err(|_| format!("content-length {value:?}"))?)
            }
            "transfer-encoding" => head.chunked = value.eq_ignore_ascii_case("chunked"),
            "expect" => head.expect_continue = value.eq_ignore_ascii_case("100-continue"),
            _ => {}
        }
    }
    if head.id == u64::MAX {
        return Err("a request without its x-id".to_owned());
    }
    if head.chunked && head.length.is_some() {
        return Err("a request with both Content-Length and chunked".to_owned());
    }
    Ok(head)
}

/// Reads the request body from `buf` and the connection. `Ok(false)` when
/// the client closed partway (its right), `Err` when it sent a bad framing.
async fn read_body(end: &ServerEnd, buf: &mut Vec<u8>, head: &Head) -> Result<bool, String> {
    if let Some(length) = head.length {
        while buf.len() < length {
            if !end.read(buf).await {
                return Ok(false);
            }
        }
        buf.drain(..length);
        return Ok(true);
    }
    // Chunked: size lines, data, and an empty trailer section.
    loop {
        let Some(line) = read_line(end, buf).await else { return Ok(false) };
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| format!("a chunk-size line {line:?}"))?;
        if size == 0 {
            loop {
                let Some(line) = read_line(end, buf).await else { return Ok(false) };
                if line.is_empty() {
                    return Ok(true);
                }
            }
        }
        while buf.len() < size + 2 {
            if !end.read(buf).await {
                return Ok(false);
            }
        }
        if &buf[size..size + 2] != b"\r\n" {
            return Err("chunk data not followed by CRLF".to_owned());
        }
        buf.drain(..size + 2);
    }
}

async fn read_line(end: &ServerEnd, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(at) = buf.windows(2).position(|window| window == b"\r\n") {
            let line = String::from_utf8_lossy(&buf[..at]).into_owned();
            buf.drain(..at + 2);
            return Some(line);
        }
        if buf.len() > MAX_HEAD || !end.read(buf).await {
            return None;
        }
    }
}

/// Writes the answer to `head` as `behaviour` says.
async fn respond(runtime: &SimRuntime, end: &ServerEnd, head: &Head, behaviour: Behaviour) {
    let shared = &runtime.shared;
    if behaviour == Behaviour::Flood1xx {
        for _ in 0..1 + shared.below(40) {
            end.write(b"HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n");
        }
    }
    let len = [0, 1, 17, 300, 5000, 70_000][shared.below(6) as usize];
    let bodyless = head.method == "HEAD";
    let chunked = behaviour == Behaviour::Normal && shared.chance(300);
    let version = if behaviour == Behaviour::Http10 { "HTTP/1.0" } else { "HTTP/1.1" };
    // x-len: the body's length, however it is framed, for the client to check it whole.
    let mut out = format!("{version} 200 OK\r\nx-id: {}\r\nx-len: {len}\r\n", head.id);
    match behaviour {
        Behaviour::CloseAfter | Behaviour::CloseHeaderKeepOpen | Behaviour::EarlyAnswerClose => {
            out.push_str("connection: close\r\n");
        }
        _ => {}
    }
    if chunked {
        out.push_str("transfer-encoding: chunked\r\n");
    } else if behaviour != Behaviour::NoLength {
        out.push_str(&format!("content-length: {len}\r\n"));
    }
    out.push_str("\r\n");
    if behaviour == Behaviour::TrickleHead {
        for byte in out.as_bytes() {
            end.write(std::slice::from_ref(byte));
            sleep(runtime, Duration::from_micros(shared.below(20))).await;
        }
    } else {
        end.write(out.as_bytes());
    }
    let data = if bodyless { Vec::new() } else { body(head.id, len) };
    if behaviour == Behaviour::ResetMidBody {
        end.write(&data[..data.len() / 2]);
        return;
    }
    if chunked && !bodyless {
        let mut rest = &data[..];
        while !rest.is_empty() {
            let take = (1 + shared.below(rest.len() as u64) as usize).min(rest.len());
            end.write(format!("{take:x}\r\n").as_bytes());
            end.write(&rest[..take]);
            end.write(b"\r\n");
            rest = &rest[take..];
            if shared.chance(200) {
                sleep(runtime, Duration::from_micros(shared.below(500))).await;
            }
        }
        end.write(b"0\r\n\r\n");
        return;
    }
    end.write(&data);
    if behaviour == Behaviour::JunkAfter {
        // Right behind the response, in the same server step: queued before
        // the client can be done with the response.
        end.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    }
}

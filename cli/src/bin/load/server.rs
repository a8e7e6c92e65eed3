//! The embedded loopback server `load` targets when no URL is given: std
//! threads, keep-alive, fixed responses.
//!
//! - `/small`: 100 bytes; `/1m`: 1 MiB; `/upload`: reads the body, answers
//!   empty; anything else: 404.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;

/// A started server; it runs until the process ends.
pub(crate) struct EmbeddedServer {
    pub addr: SocketAddr,
}

pub(crate) fn start() -> io::Result<EmbeddedServer> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let responses = Arc::new(Responses::new());
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let responses = responses.clone();
            thread::spawn(move || {
                let _ = stream.set_nodelay(true);
                let _ = serve(stream, &responses);
            });
        }
    });
    Ok(EmbeddedServer { addr })
}

struct Responses {
    small: Vec<u8>,
    large: Vec<u8>,
    empty: Vec<u8>,
    not_found: Vec<u8>,
}

impl Responses {
    fn new() -> Self {
        let with_body = |body: &[u8]| {
            let mut r = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend_from_slice(body);
            r
        };
        Self {
            small: with_body(&[b'x'; 100]),
            large: with_body(&vec![b'x'; 1 << 20]),
            empty: with_body(b""),
            not_found: b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n".to_vec(),
        }
    }
}

fn serve(mut stream: TcpStream, responses: &Responses) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut filled = 0;
    loop {
        // Read until a whole head is buffered.
        let (head_len, path, body_len, close) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut request = httparse::Request::new(&mut headers);
            if let Ok(httparse::Status::Complete(len)) = request.parse(&buf[..filled]) {
                let field = |name: &str| {
                    request.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value)
                };
                let body_len = field("content-length")
                    .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse().ok())
                    .unwrap_or(0usize);
                let close = field("connection").is_some_and(|v| v.eq_ignore_ascii_case(b"close"));
                break (len, request.path.unwrap_or("/").to_owned(), body_len, close);
            }
            if filled == buf.len() {
                return Err(io::ErrorKind::InvalidData.into());
            }
            let n = stream.read(&mut buf[filled..])?;
            if n == 0 {
                return Ok(());
            }
            filled += n;
        };
        // Consume the head and the body (discarded).
        let mut rest = body_len;
        let mut consumed = head_len;
        let in_buffer = (filled - consumed).min(rest);
        consumed += in_buffer;
        rest -= in_buffer;
        buf.copy_within(consumed..filled, 0);
        filled -= consumed;
        while rest > 0 {
            let n = stream.read(&mut buf[..rest.min(64 * 1024)])?;
            if n == 0 {
                return Ok(());
            }
            rest -= n;
        }
        let response = match path.as_str() {
            "/small" => &responses.small,
            "/1m" => &responses.large,
            "/upload" => &responses.empty,
            _ => &responses.not_found,
        };
        stream.write_all(response)?;
        if close {
            return Ok(());
        }
    }
}

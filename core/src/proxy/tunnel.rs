//! The HTTP `CONNECT` tunnel (RFC 9110 §9.3.6), Sans-IO.

use bytes::BytesMut;
use http::header::{HOST, PROXY_AUTHORIZATION};
use http::{HeaderMap, Method, Uri};

use super::{Handshake, InvalidProxy, Proxy, ProxyError, ProxyErrorKind};
use crate::proto::{BodyLength, HeadLimits, HeadParser, RequestHead, TargetForm, encode_request_head};

/// The client side of a `CONNECT`: one request in authority form, then the
/// proxy's answer. Any 2xx opens the tunnel right after the answer's empty
/// line (its framing fields mean nothing, RFC 9112 §6.3); interim 1xx answers
/// are skipped; anything else fails with the status and fields, and the
/// answer's body is never read as tunnel data (docs/security.md F11).
#[derive(Debug)]
pub struct ConnectTunnel {
    request: Option<Vec<u8>>,
    parser: HeadParser,
    buf: BytesMut,
    done: bool,
}

impl ConnectTunnel {
    /// A `CONNECT authority` (`host:port`) through `proxy`, with its
    /// credentials as Basic `Proxy-Authorization` and its extra `CONNECT`
    /// fields, reading an answer head of at most `max_head_bytes` and
    /// `max_headers` fields.
    pub fn new(
        authority: &str,
        proxy: &Proxy,
        max_head_bytes: usize,
        max_headers: usize,
    ) -> Result<Self, InvalidProxy> {
        let invalid = || InvalidProxy::new("the CONNECT target or a CONNECT field is not valid");
        let uri = Uri::try_from(format!("http://{authority}")).map_err(|_| invalid())?;
        let mut headers = HeaderMap::with_capacity(2 + proxy.connect_headers().len());
        // Host is the tunnel's target, as Go and curl send it.
        headers.insert(HOST, http::HeaderValue::from_str(authority).map_err(|_| invalid())?);
        if let Some(basic) = proxy.basic_auth() {
            headers.insert(PROXY_AUTHORIZATION, basic.clone());
        }
        for (name, value) in proxy.connect_headers() {
            headers.insert(name, value.clone());
        }
        let head = RequestHead { method: Method::CONNECT, uri, headers, target_form: TargetForm::Authority };
        let mut request = BytesMut::new();
        encode_request_head(&head, BodyLength::Empty, &mut request).map_err(|_| invalid())?;
        let limits = HeadLimits { max_head_bytes, max_headers };
        Ok(Self {
            request: Some(request.to_vec()),
            parser: HeadParser::new(limits),
            buf: BytesMut::new(),
            done: false,
        })
    }
}

impl Handshake for ConnectTunnel {
    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.request.take()
    }

    fn handle_read(&mut self, input: &[u8]) -> Result<(), ProxyError> {
        if self.done {
            return Err(ProxyError::protocol("bytes after the CONNECT answer, before the client spoke"));
        }
        self.buf.extend_from_slice(input);
        while let Some(head) = self
            .parser
            .parse(&mut self.buf)
            .map_err(|_| ProxyError::protocol("malformed or oversized CONNECT answer"))?
        {
            let status = head.status();
            if status.is_informational() && status != http::StatusCode::SWITCHING_PROTOCOLS {
                continue;
            }
            if !status.is_success() {
                let headers = head.header_map().unwrap_or_default();
                return Err(ProxyError::status(status, headers));
            }
            if !self.buf.is_empty() {
                return Err(ProxyError::protocol("bytes after the CONNECT answer, before the client spoke"));
            }
            self.done = true;
            return Ok(());
        }
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn handle_eof(&mut self) -> ProxyError {
        ProxyError::new(ProxyErrorKind::Closed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tunnel(proxy: &str) -> ConnectTunnel {
        ConnectTunnel::new("example.com:443", &Proxy::parse(proxy).unwrap(), 1024, 10).unwrap()
    }

    #[test]
    fn sends_authority_form_with_host_and_proxy_credentials() {
        let mut t = tunnel("http://u:p@proxy:3128");
        let sent = String::from_utf8(t.poll_transmit().unwrap()).unwrap();
        assert_eq!(
            sent,
            "CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\nproxy-authorization: Basic dTpw\r\n\r\n"
        );
        assert_eq!(t.poll_transmit(), None);
    }

    #[test]
    fn connect_headers_are_sent_and_refused_when_invalid() {
        let mut headers = HeaderMap::new();
        headers.insert("x-token", "abc".parse().unwrap());
        let proxy = Proxy::parse("proxy:1").unwrap().with_connect_headers(headers);
        let mut t = ConnectTunnel::new("h:1", &proxy, 1024, 10).unwrap();
        assert!(String::from_utf8(t.poll_transmit().unwrap()).unwrap().contains("x-token: abc\r\n"));
        assert!(ConnectTunnel::new("h:1\r\nx: y", &proxy, 1024, 10).is_err());
    }

    #[test]
    fn any_2xx_opens_the_tunnel_even_split_byte_by_byte() {
        let answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 OK\r\ncontent-length: 5\r\n\r\n";
        let mut t = tunnel("proxy:1");
        for b in answer {
            assert!(!t.is_done());
            t.handle_read(&[*b]).unwrap();
        }
        assert!(t.is_done());
        assert_eq!(t.handle_read(b"x").unwrap_err().kind(), ProxyErrorKind::Protocol);
    }

    #[test]
    fn rfc9110_9_3_6_a_non_2xx_answer_fails_with_its_status_and_fields() {
        let mut t = tunnel("proxy:1");
        let e = t
            .handle_read(
                b"HTTP/1.1 407 Auth\r\nproxy-authenticate: Basic realm=\"x\"\r\ncontent-length: 3\r\n\r\nabc",
            )
            .unwrap_err();
        assert_eq!(e.kind(), ProxyErrorKind::Status);
        assert_eq!(e.status_code(), Some(http::StatusCode::PROXY_AUTHENTICATION_REQUIRED));
        assert_eq!(e.headers().unwrap()["proxy-authenticate"], "Basic realm=\"x\"");
        assert!(!t.is_done());
    }

    #[test]
    fn bytes_after_the_answer_and_oversized_heads_are_protocol_errors() {
        let mut t = tunnel("proxy:1");
        let e = t.handle_read(b"HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 200").unwrap_err();
        assert_eq!(e.kind(), ProxyErrorKind::Protocol);
        let mut t = tunnel("proxy:1");
        let e = t.handle_read(&[b'a'; 2000]).unwrap_err();
        assert_eq!(e.kind(), ProxyErrorKind::Protocol);
        let mut t = tunnel("proxy:1");
        assert_eq!(t.handle_eof().kind(), ProxyErrorKind::Closed);
    }
}

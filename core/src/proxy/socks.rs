//! SOCKS5 (RFC 1928) with username/password authentication (RFC 1929), Sans-IO.

use std::fmt;
use std::net::SocketAddr;

use super::{Handshake, InvalidProxy, ProxyError, ProxyErrorKind};

const VERSION: u8 = 5;
/// RFC 1929 §2: the sub-negotiation has its own version.
const AUTH_VERSION: u8 = 1;
const NO_AUTH: u8 = 0x00;
const USER_PASS: u8 = 0x02;
const CONNECT: u8 = 0x01;
const ATYP_IPV4: u8 = 0x01;
const ATYP_DOMAIN: u8 = 0x03;
const ATYP_IPV6: u8 = 0x04;

/// Where a SOCKS5 proxy is asked to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocksTarget {
    /// An address resolved locally (`socks5://`).
    Addr(SocketAddr),
    /// A host name for the proxy to resolve (`socks5h://`).
    Domain(String, u16),
}

/// The client side of a SOCKS5 handshake: a greeting offering no
/// authentication (and username/password when there are credentials), the
/// credentials if the proxy picks them, then `CONNECT` to the target.
///
/// Each message waits for the answer to the one before: a proxy that picks
/// no authentication must not be sent the password, so nothing is pipelined,
/// and a proxy that speaks out of turn or past its reply breaks the protocol.
/// Whatever the proxy bound to (the reply's address) is read and dropped:
/// the connection itself is the tunnel.
///
/// ```
/// use roundtrip_core::proxy::{Handshake, Socks5, SocksTarget};
///
/// let mut socks = Socks5::new(SocksTarget::Domain("example.com".into(), 443), None)?;
/// // Greeting: version 5, one method, "no authentication".
/// assert_eq!(socks.poll_transmit().unwrap(), [5, 1, 0]);
/// assert_eq!(socks.poll_transmit(), None);
/// socks.handle_read(&[5, 0])?; // the proxy picks it
/// // CONNECT to a domain name (type 3) of 11 bytes, port 443.
/// let request = socks.poll_transmit().unwrap();
/// assert_eq!(request[..5], [5, 1, 0, 3, 11]);
/// assert_eq!(request[16..], 443u16.to_be_bytes());
/// // Success, bound to 10.0.0.1:1080; the reply may arrive in pieces.
/// socks.handle_read(&[5, 0, 0, 1, 10])?;
/// assert!(!socks.is_done());
/// socks.handle_read(&[0, 0, 1, 0x04, 0x38])?;
/// assert!(socks.is_done());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Socks5 {
    step: Step,
    /// The next message; until it is sent, the proxy has nothing to answer.
    outgoing: Option<Vec<u8>>,
    /// The RFC 1929 request, sent only if the proxy picks username/password.
    auth: Option<Vec<u8>>,
    /// The `CONNECT` request.
    request: Vec<u8>,
    /// The awaited answer, as much as has arrived: at most a reply with a
    /// 255-byte domain name (4 + 1 + 255 + 2 bytes).
    buf: Vec<u8>,
}

/// Which answer the handshake waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// The method selection (RFC 1928 §3).
    Method,
    /// The username/password status (RFC 1929 §2).
    Auth,
    /// The reply to `CONNECT` (RFC 1928 §6).
    Reply,
    Done,
}

impl Socks5 {
    /// A handshake asking for `target`, offering username/password when
    /// `credentials` are given. A host name must be 1 to 255 bytes, a
    /// username too, a password at most 255 (one length byte each).
    pub fn new(target: SocksTarget, credentials: Option<(&str, &str)>) -> Result<Self, InvalidProxy> {
        // RFC 1928 §4: VER CMD RSV, then the address and the port.
        let mut request = vec![VERSION, CONNECT, 0];
        let port = match &target {
            SocksTarget::Addr(SocketAddr::V4(addr)) => {
                request.push(ATYP_IPV4);
                request.extend_from_slice(&addr.ip().octets());
                addr.port()
            }
            SocksTarget::Addr(SocketAddr::V6(addr)) => {
                request.push(ATYP_IPV6);
                request.extend_from_slice(&addr.ip().octets());
                addr.port()
            }
            SocksTarget::Domain(host, port) => {
                let len = length_byte(host, 1)
                    .ok_or_else(|| InvalidProxy::new("a SOCKS5 host name is 1 to 255 bytes"))?;
                request.extend_from_slice(&[ATYP_DOMAIN, len]);
                request.extend_from_slice(host.as_bytes());
                *port
            }
        };
        request.extend_from_slice(&port.to_be_bytes());

        let auth = match credentials {
            None => None,
            Some((user, pass)) => {
                let lengths = length_byte(user, 1).zip(length_byte(pass, 0)).ok_or_else(|| {
                    InvalidProxy::new(
                        "SOCKS5 credentials are 1 to 255 bytes of username, up to 255 of password",
                    )
                })?;
                let mut auth = Vec::with_capacity(3 + user.len() + pass.len());
                auth.extend_from_slice(&[AUTH_VERSION, lengths.0]);
                auth.extend_from_slice(user.as_bytes());
                auth.push(lengths.1);
                auth.extend_from_slice(pass.as_bytes());
                Some(auth)
            }
        };
        // RFC 1928 §3: no authentication is always offered, so a proxy that
        // needs none is not sent the password.
        let greeting =
            if auth.is_some() { vec![VERSION, 2, NO_AUTH, USER_PASS] } else { vec![VERSION, 1, NO_AUTH] };
        Ok(Self { step: Step::Method, outgoing: Some(greeting), auth, request, buf: Vec::new() })
    }

    /// Checks the part of the awaited answer that has arrived, and says how
    /// long the answer is, as far as that is known yet.
    fn awaited_len(&self) -> Result<usize, ProxyError> {
        let buf = self.buf.as_slice();
        match self.step {
            Step::Method => {
                if buf.first().is_some_and(|&v| v != VERSION) {
                    return Err(ProxyError::protocol("not a SOCKS5 answer"));
                }
                Ok(2)
            }
            Step::Auth => {
                if buf.first().is_some_and(|&v| v != AUTH_VERSION) {
                    return Err(ProxyError::protocol("not a SOCKS5 username/password answer"));
                }
                Ok(2)
            }
            // RFC 1928 §6: VER REP RSV ATYP BND.ADDR BND.PORT.
            Step::Reply => {
                if buf.first().is_some_and(|&v| v != VERSION) {
                    return Err(ProxyError::protocol("not a SOCKS5 reply"));
                }
                // A refusal needs nothing more: its address means nothing.
                if let Some(&rep) = buf.get(1)
                    && rep != 0
                {
                    return Err(ProxyError::socks_refused(rep));
                }
                if buf.get(2).is_some_and(|&rsv| rsv != 0) {
                    return Err(ProxyError::protocol("a SOCKS5 reply with a nonzero reserved byte"));
                }
                let addr_len = match buf.get(3) {
                    None => return Ok(4),
                    Some(&ATYP_IPV4) => 4,
                    Some(&ATYP_IPV6) => 16,
                    Some(&ATYP_DOMAIN) => match buf.get(4) {
                        None => return Ok(5),
                        Some(&len) => 1 + usize::from(len),
                    },
                    Some(_) => {
                        return Err(ProxyError::protocol("a SOCKS5 reply with an unknown address type"));
                    }
                };
                Ok(4 + addr_len + 2)
            }
            // `handle_read` refuses input before asking.
            Step::Done => Ok(0),
        }
    }

    /// Acts on a whole answer: the method and auth answers decide the next
    /// message, the reply ends the handshake.
    fn answered(&mut self) -> Result<(), ProxyError> {
        let code = self.buf[1];
        self.buf.clear();
        let (step, message) = match (self.step, code) {
            // Taking the credentials drops them once they cannot be needed.
            (Step::Method, method) => match (method, self.auth.take()) {
                (NO_AUTH, _) => (Step::Reply, std::mem::take(&mut self.request)),
                (USER_PASS, Some(auth)) => (Step::Auth, auth),
                // 0xFF (no acceptable method) or one never offered.
                _ => return Err(ProxyError::new(ProxyErrorKind::SocksAuth)),
            },
            (Step::Auth, 0) => (Step::Reply, std::mem::take(&mut self.request)),
            (Step::Auth, _) => return Err(ProxyError::new(ProxyErrorKind::SocksAuth)),
            (Step::Reply | Step::Done, _) => {
                self.step = Step::Done;
                return Ok(());
            }
        };
        self.step = step;
        self.outgoing = Some(message);
        Ok(())
    }
}

/// `s.len()` as a length byte, if it is in `min..=255`.
fn length_byte(s: &str, min: usize) -> Option<u8> {
    u8::try_from(s.len()).ok().filter(|&len| usize::from(len) >= min)
}

impl Handshake for Socks5 {
    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.outgoing.take()
    }

    fn handle_read(&mut self, mut input: &[u8]) -> Result<(), ProxyError> {
        while !input.is_empty() {
            if self.step == Step::Done {
                return Err(ProxyError::protocol("bytes after the SOCKS5 reply"));
            }
            if self.outgoing.is_some() {
                return Err(ProxyError::protocol("bytes from the SOCKS5 proxy before the client spoke"));
            }
            // Take only the awaited answer, so the buffer stays bounded and
            // anything past it is caught above.
            let take = (self.awaited_len()? - self.buf.len()).min(input.len());
            self.buf.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.buf.len() == self.awaited_len()? {
                self.answered()?;
            }
        }
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.step == Step::Done
    }

    fn handle_eof(&mut self) -> ProxyError {
        ProxyError::new(ProxyErrorKind::Closed)
    }
}

/// Never shows the credentials.
impl fmt::Debug for Socks5 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socks5")
            .field("step", &self.step)
            .field("credentials", &self.auth.is_some())
            .field("buffered", &self.buf.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK_IPV4: [u8; 10] = [5, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90];

    fn socks(target: SocksTarget, credentials: Option<(&str, &str)>) -> Socks5 {
        Socks5::new(target, credentials).unwrap()
    }

    fn v4() -> SocksTarget {
        SocksTarget::Addr("192.0.2.7:443".parse().unwrap())
    }

    /// Greets, gets `method`, and returns what the client sent next.
    fn after_method(s: &mut Socks5, method: u8) -> Result<Option<Vec<u8>>, ProxyError> {
        s.poll_transmit().unwrap();
        s.handle_read(&[5, method])?;
        Ok(s.poll_transmit())
    }

    fn kind(result: Result<impl fmt::Debug, ProxyError>) -> ProxyErrorKind {
        result.unwrap_err().kind()
    }

    #[test]
    fn rfc1928_4_connect_to_an_ipv4_address() {
        let mut s = socks(v4(), None);
        assert_eq!(s.poll_transmit().unwrap(), [5, 1, 0]);
        assert_eq!(s.poll_transmit(), None);
        s.handle_read(&[5, 0]).unwrap();
        assert_eq!(s.poll_transmit().unwrap(), [5, 1, 0, 1, 192, 0, 2, 7, 1, 187]);
        assert_eq!(s.poll_transmit(), None);
        assert!(!s.is_done());
        s.handle_read(&OK_IPV4).unwrap();
        assert!(s.is_done());
        assert_eq!(s.poll_transmit(), None);
    }

    #[test]
    fn rfc1928_4_connect_to_an_ipv6_address() {
        let mut s = socks(SocksTarget::Addr("[2001:db8::1]:8080".parse().unwrap()), None);
        let request = after_method(&mut s, 0).unwrap().unwrap();
        let mut expected = vec![5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8];
        expected.extend_from_slice(&[0; 11]);
        expected.extend_from_slice(&[1, 0x1f, 0x90]);
        assert_eq!(request, expected);
        // An IPv6 bound address: 4 + 16 + 2 bytes.
        let mut reply = vec![5, 0, 0, 4];
        reply.extend_from_slice(&[0; 18]);
        s.handle_read(&reply[..21]).unwrap();
        assert!(!s.is_done());
        s.handle_read(&reply[21..]).unwrap();
        assert!(s.is_done());
    }

    #[test]
    fn rfc1928_4_connect_to_a_domain_name() {
        let mut s = socks(SocksTarget::Domain("origin.test".into(), 80), None);
        let request = after_method(&mut s, 0).unwrap().unwrap();
        assert_eq!(request, b"\x05\x01\x00\x03\x0borigin.test\x00\x50");
        s.handle_read(&OK_IPV4).unwrap();
        assert!(s.is_done());
    }

    #[test]
    fn rfc1928_5_a_host_name_is_1_to_255_bytes() {
        let name = |len| SocksTarget::Domain("a".repeat(len), 80);
        assert!(Socks5::new(name(256), None).is_err());
        assert!(Socks5::new(name(0), None).is_err());
        let request = after_method(&mut socks(name(255), None), 0).unwrap().unwrap();
        assert_eq!((request[4], request.len()), (255, 4 + 1 + 255 + 2));
    }

    #[test]
    fn rfc1929_2_username_and_password_then_connect() {
        let mut s = socks(v4(), Some(("user", "secret")));
        assert_eq!(s.poll_transmit().unwrap(), [5, 2, 0, 2]);
        s.handle_read(&[5, 2]).unwrap();
        assert_eq!(s.poll_transmit().unwrap(), b"\x01\x04user\x06secret");
        assert_eq!(s.poll_transmit(), None);
        s.handle_read(&[1, 0]).unwrap();
        assert_eq!(s.poll_transmit().unwrap(), [5, 1, 0, 1, 192, 0, 2, 7, 1, 187]);
        s.handle_read(&OK_IPV4).unwrap();
        assert!(s.is_done());
    }

    #[test]
    fn rfc1928_3_with_credentials_the_proxy_may_pick_no_authentication() {
        let mut s = socks(v4(), Some(("user", "secret")));
        // Straight to CONNECT: the password is never sent.
        assert_eq!(after_method(&mut s, 0).unwrap().unwrap()[..4], [5, 1, 0, 1]);
        s.handle_read(&OK_IPV4).unwrap();
        assert!(s.is_done());
    }

    #[test]
    fn rfc1929_2_credentials_are_1_to_255_bytes() {
        let long = "a".repeat(256);
        for credentials in [("", "p"), (long.as_str(), "p"), ("u", long.as_str())] {
            assert!(Socks5::new(v4(), Some(credentials)).is_err(), "{credentials:?}");
        }
        let mut s = socks(v4(), Some(("u", "")));
        assert_eq!(after_method(&mut s, 2).unwrap().unwrap(), [1, 1, b'u', 0]);
    }

    #[test]
    fn rfc1929_2_a_refused_password_is_an_auth_error() {
        let mut s = socks(v4(), Some(("user", "wrong")));
        after_method(&mut s, 2).unwrap().unwrap();
        assert_eq!(kind(s.handle_read(&[1, 1])), ProxyErrorKind::SocksAuth);
        assert_eq!(s.poll_transmit(), None);
        assert!(!s.is_done());
    }

    #[test]
    fn rfc1928_3_no_acceptable_method_is_an_auth_error() {
        assert_eq!(kind(after_method(&mut socks(v4(), None), 0xff)), ProxyErrorKind::SocksAuth);
        assert_eq!(kind(after_method(&mut socks(v4(), Some(("u", "p"))), 0xff)), ProxyErrorKind::SocksAuth);
    }

    #[test]
    fn rfc1928_3_a_method_not_offered_is_an_auth_error() {
        // Username/password without credentials, GSSAPI, a private method.
        for method in [2, 1, 0x80] {
            assert_eq!(kind(after_method(&mut socks(v4(), None), method)), ProxyErrorKind::SocksAuth);
        }
        assert_eq!(kind(after_method(&mut socks(v4(), Some(("u", "p"))), 1)), ProxyErrorKind::SocksAuth);
    }

    #[test]
    fn rfc1928_6_reply_codes_are_refusals() {
        for rep in 1..=8 {
            let mut s = socks(v4(), None);
            after_method(&mut s, 0).unwrap();
            let mut reply = OK_IPV4;
            reply[1] = rep;
            let e = s.handle_read(&reply).unwrap_err();
            assert_eq!((e.kind(), e.socks_reply()), (ProxyErrorKind::SocksRefused, Some(rep)));
            assert!(!s.is_done());
        }
        // Known from its first two bytes: a refusal's address means nothing.
        let mut s = socks(v4(), None);
        after_method(&mut s, 0).unwrap();
        assert_eq!(s.handle_read(&[5, 0x2a]).unwrap_err().socks_reply(), Some(0x2a));
    }

    #[test]
    fn rfc1928_6_a_bound_domain_name_is_read_whole() {
        let mut s = socks(v4(), None);
        after_method(&mut s, 0).unwrap();
        s.handle_read(b"\x05\x00\x00\x03\x0bproxy.local").unwrap();
        assert!(!s.is_done());
        s.handle_read(&[0x04, 0x38]).unwrap();
        assert!(s.is_done());
        // The longest reply, a 255-byte name, in one read.
        let mut s = socks(v4(), None);
        after_method(&mut s, 0).unwrap();
        let mut reply = vec![5, 0, 0, 3, 255];
        reply.extend_from_slice(&[b'a'; 255]);
        reply.extend_from_slice(&[0, 80]);
        s.handle_read(&reply).unwrap();
        assert!(s.is_done());
    }

    /// The whole server side of a user/pass handshake, fed at every split.
    #[test]
    fn rfc1928_6_answers_split_at_any_byte() {
        let answers: [&[u8]; 3] = [&[5, 2], &[1, 0], b"\x05\x00\x00\x03\x03abc\x01\xbb"];
        for chunk in [1, 2, 3, 5] {
            let mut s = socks(SocksTarget::Domain("h".into(), 1), Some(("u", "p")));
            for answer in answers {
                assert!(s.poll_transmit().is_some());
                for piece in answer.chunks(chunk) {
                    assert!(!s.is_done());
                    s.handle_read(piece).unwrap();
                }
            }
            assert!(s.is_done(), "chunks of {chunk}");
            assert_eq!(s.poll_transmit(), None);
        }
    }

    #[test]
    fn rfc1928_6_bytes_after_the_reply_are_a_protocol_error() {
        let mut s = socks(v4(), None);
        after_method(&mut s, 0).unwrap();
        let mut reply = OK_IPV4.to_vec();
        reply.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
        let e = s.handle_read(&reply).unwrap_err();
        assert_eq!(e.kind(), ProxyErrorKind::Protocol);
        assert!(e.to_string().contains("bytes after the SOCKS5 reply"), "{e}");

        let mut s = socks(v4(), None);
        after_method(&mut s, 0).unwrap();
        s.handle_read(&OK_IPV4).unwrap();
        assert_eq!(kind(s.handle_read(b"x")), ProxyErrorKind::Protocol);
        s.handle_read(&[]).unwrap();
    }

    /// No pipelining either way: the proxy answers only what was sent.
    #[test]
    fn rfc1928_3_the_proxy_speaks_only_when_spoken_to() {
        // Before the greeting went out.
        assert_eq!(kind(socks(v4(), None).handle_read(&[5, 0])), ProxyErrorKind::Protocol);
        // The method and the reply at once, before CONNECT went out.
        let mut s = socks(v4(), None);
        s.poll_transmit().unwrap();
        assert_eq!(kind(s.handle_read(&[[5, 0].as_slice(), &OK_IPV4].concat())), ProxyErrorKind::Protocol);
        // The method and the auth status at once, before the password went out.
        let mut s = socks(v4(), Some(("u", "p")));
        s.poll_transmit().unwrap();
        assert_eq!(kind(s.handle_read(&[5, 2, 1, 0])), ProxyErrorKind::Protocol);
    }

    #[test]
    fn rfc1928_6_a_wrong_version_reserved_byte_or_address_type_is_a_protocol_error() {
        let mut s = socks(v4(), None);
        s.poll_transmit().unwrap();
        assert_eq!(kind(s.handle_read(&[4, 0])), ProxyErrorKind::Protocol);
        // RFC 1929 §2: the status answer carries version 1, not 5.
        let mut s = socks(v4(), Some(("u", "p")));
        after_method(&mut s, 2).unwrap().unwrap();
        assert_eq!(kind(s.handle_read(&[5, 0])), ProxyErrorKind::Protocol);
        for (at, byte) in [(0, 4), (2, 1), (3, 2), (3, 5)] {
            let mut s = socks(v4(), None);
            after_method(&mut s, 0).unwrap();
            let mut reply = OK_IPV4;
            reply[at] = byte;
            assert_eq!(kind(s.handle_read(&reply)), ProxyErrorKind::Protocol, "byte {at} = {byte}");
        }
    }

    #[test]
    fn eof_during_the_handshake_means_closed() {
        let mut s = socks(v4(), None);
        after_method(&mut s, 0).unwrap();
        s.handle_read(&OK_IPV4[..3]).unwrap();
        assert_eq!(s.handle_eof().kind(), ProxyErrorKind::Closed);
    }

    #[test]
    fn debug_never_shows_the_password() {
        let s = socks(v4(), Some(("user", "hunter2")));
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}

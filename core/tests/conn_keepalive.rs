//! When a connection may be reused (RFC 9112 §9.3, §9.6; Go's reuse rules,
//! docs/go-transport.md REUSE-1) and what happens to bytes while idle (IDLE-1).

mod support;

use http::Method;
use roundtrip_core::conn::CloseReason;
use roundtrip_core::proto::BodyLength;
use support::conn::Script;

fn exchange(request_headers: &[(&str, &str)], response: &[u8]) -> Script {
    let mut s = Script::default();
    s.send(Method::GET, request_headers, BodyLength::Empty);
    s.flush();
    s.events();
    s.read(response);
    s.events();
    s
}

#[test]
fn keep_alive_is_the_http11_default_rfc9112_9_3() {
    let mut s = exchange(&[], b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    assert!(s.conn.is_reusable());
    assert!(s.conn.wants_read(), "idle connections are read to notice the server closing them");
    assert_eq!(s.conn.close_reason(), None);
    s.complete_one();
}

#[test]
fn connection_close_from_the_server_closes_after_the_exchange_rfc9112_9_6() {
    let mut s = Script::default();
    s.awaiting_head();
    s.read(b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok");
    assert_eq!(s.events(), ["Response 200 Length(2)"]);
    assert_eq!(s.body(), (b"ok".to_vec(), "End".into()));
    assert_eq!(s.events(), ["Finished", "Closed ServerRequestedClose"]);
    assert!(!s.conn.is_reusable());
}

#[test]
fn connection_tokens_are_a_case_insensitive_list_rfc9110_7_6_1() {
    let s = exchange(&[], b"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\ncontent-length: 0\r\n\r\n");
    assert_eq!(s.conn.close_reason(), Some(CloseReason::ServerRequestedClose));
    let s = exchange(&[], b"HTTP/1.1 200 OK\r\nConnection: closed\r\ncontent-length: 0\r\n\r\n");
    assert!(s.conn.is_reusable(), "`closed` is not `close`");
}

#[test]
fn connection_close_from_the_request_closes_after_the_exchange() {
    let s = exchange(&[("connection", "close")], b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    assert_eq!(s.conn.close_reason(), Some(CloseReason::ClientRequestedClose));
}

#[test]
fn http10_without_keep_alive_is_not_reused_rfc9112_9_3() {
    let s = exchange(&[], b"HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n");
    assert_eq!(s.conn.close_reason(), Some(CloseReason::Http10NoKeepAlive));
    let s = exchange(&[], b"HTTP/1.0 200 OK\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n");
    assert!(s.conn.is_reusable());
}

#[test]
fn close_delimited_body_ends_at_eof_and_closes_rfc9112_6_3_item_8() {
    let mut s = Script::default();
    s.awaiting_head();
    s.read(b"HTTP/1.1 200 OK\r\n\r\nuntil ");
    assert_eq!(s.events(), ["Response 200 CloseDelimited"]);
    assert_eq!(s.body(), (b"until ".to_vec(), "Pending".into()));
    s.read(b"close").eof();
    assert_eq!(s.events(), ["BodyReadable"]);
    assert_eq!(s.body(), (b"close".to_vec(), "End".into()));
    assert_eq!(s.events(), ["Finished", "Closed CloseDelimitedBody"]);
}

#[test]
fn transfer_encoding_with_content_length_is_not_reused_rfc9112_6_3_item_3() {
    let mut s = exchange(
        &[],
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    );
    assert_eq!(s.body(), (b"ok".to_vec(), "End".into()));
    assert_eq!(s.events(), ["Finished", "Closed LengthConflict"]);
}

#[test]
fn switching_protocols_hands_over_the_remaining_bytes_rfc9110_15_2_2() {
    let mut s = Script::default();
    s.send(Method::GET, &[("connection", "upgrade"), ("upgrade", "websocket")], BodyLength::Empty);
    s.flush();
    s.events();
    s.read(
        b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n\x81\x05hello",
    );
    assert_eq!(s.events(), ["Response 101 Empty", "Closed ProtocolSwitch"]);
    assert_eq!(&s.conn.take_remaining()[..], b"\x81\x05hello");
}

#[test]
fn connect_2xx_becomes_a_tunnel_rfc9110_9_3_6() {
    let mut s = Script::default();
    let mut head =
        roundtrip_core::proto::RequestHead::new(Method::CONNECT, "http://example.com:443".parse().unwrap());
    head.target_form = roundtrip_core::proto::TargetForm::Authority;
    s.id = Some(s.conn.send_request(&head, BodyLength::Empty).unwrap());
    assert_eq!(s.flush_text(), "CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n");
    s.read(b"HTTP/1.1 200 Connection Established\r\ncontent-length: 5\r\n\r\n\x16\x03");
    assert_eq!(s.events(), ["HeadSent", "RequestSent", "Response 200 Empty", "Closed ProtocolSwitch"]);
    assert_eq!(&s.conn.take_remaining()[..], b"\x16\x03");
}

#[test]
fn eof_while_idle_closes_with_peer_closed_idle() {
    let mut s = Script::default();
    s.complete_one();
    s.eof();
    assert_eq!(s.events(), ["Closed PeerClosedIdle"]);
}

#[test]
fn unsolicited_408_while_idle_closes_quietly_go_is408message() {
    let mut s = Script::default();
    s.complete_one();
    s.read(b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\n\r\n");
    assert_eq!(s.events(), ["Closed UnsolicitedTimeout"]);
}

#[test]
fn garbage_while_idle_closes_with_unsolicited_data() {
    let mut s = Script::default();
    s.complete_one();
    s.read(b"X");
    assert_eq!(s.events(), ["Closed UnsolicitedData"]);
}

#[test]
fn bytes_after_a_complete_response_are_unsolicited_security_c17() {
    let mut s = Script::default();
    s.awaiting_head();
    s.read(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    s.events();
    assert_eq!(s.body(), (b"abc".to_vec(), "End".into()));
    assert_eq!(
        s.events(),
        ["Finished", "Closed UnsolicitedData"],
        "the first response is fine, the rest is not"
    );
}

#[test]
fn response_bytes_before_the_request_is_written_fail_unwritten_security_g9() {
    let mut s = Script::default();
    s.complete_one();
    s.send(Method::GET, &[], BodyLength::Empty);
    s.read(b"HTTP/1.1 200 OK\r\n\r\n");
    assert_eq!(
        s.events(),
        ["Failed Protocol(UnsolicitedData) written=false received=false reused=true", "Closed ProtocolError"]
    );
}

#[test]
fn eof_right_after_a_keep_alive_response_is_not_reused() {
    let mut s = Script::default();
    s.awaiting_head();
    s.read(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").eof();
    s.events();
    assert_eq!(s.body(), (b"ok".to_vec(), "End".into()));
    assert_eq!(s.events(), ["Finished", "Closed PeerClosed"]);
}

/// A head that repeats the last one but in some values takes the framing
/// and keep-alive verdicts worked out for it once (docs/architecture.md):
/// they must follow its own values and the request's method all the same
/// (RFC 9112 §6.3, §9.3).
#[test]
fn a_repeated_head_is_framed_by_its_own_values_rfc9112_6_3() {
    use roundtrip_core::conn::Event;
    let head = |length: usize, connection: &str| {
        format!(
            "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: {length}\r\nConnection: {connection}\r\n\r\n{}",
            "x".repeat(length)
        )
        .into_bytes()
    };
    // One exchange; the response's map is built, as the client does, so the
    // head becomes the thread's template.
    let exchange = |s: &mut Script, method: Method, response: &[u8]| {
        s.send(method, &[], BodyLength::Empty);
        s.flush();
        s.events();
        s.read(response);
        let mut framing = String::new();
        while let Some(event) = s.conn.poll_event() {
            if let Event::Response { head, body, .. } = &event {
                head.header_map().unwrap();
                framing = format!("{body:?}");
            }
        }
        s.body();
        s.events();
        (framing, s.conn.is_reusable())
    };
    let kept = |framing: &str| (framing.to_string(), true);
    let mut s = Script::default();
    for _ in 0..3 {
        assert_eq!(exchange(&mut s, Method::GET, &head(5, "keep-alive")), kept("Length(5)"));
    }
    // A changed Content-Length, then the same again.
    assert_eq!(exchange(&mut s, Method::GET, &head(7, "keep-alive")), kept("Length(7)"));
    assert_eq!(exchange(&mut s, Method::GET, &head(7, "keep-alive")), kept("Length(7)"));
    // HEAD: the same head frames no body.
    let mut head_only = head(7, "keep-alive");
    head_only.truncate(head_only.len() - 7);
    assert_eq!(exchange(&mut s, Method::HEAD, &head_only), kept("Empty"));
    assert_eq!(exchange(&mut s, Method::HEAD, &head(0, "keep-alive")), kept("Empty"));
    assert_eq!(exchange(&mut s, Method::GET, &head(7, "keep-alive")), kept("Length(7)"));
    // `Connection` changed within its length: the server closes.
    assert_eq!(exchange(&mut s, Method::GET, &head(7, "close, xyz")), ("Length(7)".into(), false));
    let mut s = Script::default();
    assert_eq!(exchange(&mut s, Method::GET, &head(7, "keep-alive")), kept("Length(7)"));
}

//! Informational responses (RFC 9110 §15.2): any number before the final one,
//! each surfaced, bounded by a byte budget (Go 1.24, #65035); 101 is final.

mod support;

use http::Method;
use roundtrip_core::conn::Event;
use roundtrip_core::proto::BodyLength;
use support::conn::Script;

#[test]
fn early_hints_are_surfaced_with_their_fields_rfc8297() {
    let mut s = Script::default();
    s.awaiting_head();
    s.read(b"HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n");
    let Some(Event::Informational { head, .. }) = s.conn.poll_event() else {
        panic!("no informational event")
    };
    assert_eq!(head.get("link"), Some(&b"</style.css>; rel=preload"[..]));
    s.read(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    assert_eq!(s.events(), ["Response 200 Empty", "Finished"]);
}

#[test]
fn several_informational_responses_in_one_read() {
    let mut s = Script::default();
    s.awaiting_head();
    s.read(b"HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    assert_eq!(s.events(), ["Informational 102", "Informational 103", "Response 200 Length(2)"]);
    assert_eq!(s.body(), (b"ok".to_vec(), "End".into()));
}

#[test]
fn informational_content_length_is_ignored_security_f4() {
    let mut s = Script::default();
    s.awaiting_head();
    s.read(b"HTTP/1.1 100 Continue\r\ncontent-length: 5\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    assert_eq!(s.events(), ["Response 200 Empty", "Finished"]);
}

#[test]
fn informational_flood_exceeds_the_byte_budget_security_f2() {
    let mut s = Script::with(|c| c.max_informational_bytes = 1000);
    s.awaiting_head();
    let hint = b"HTTP/1.1 103 Early Hints\r\nlink: </a>; rel=preload\r\n\r\n";
    for _ in 0..(1000 / hint.len()) {
        s.read(hint);
    }
    assert!(s.events().iter().all(|e| e == "Informational 103"));
    s.read(hint);
    assert_eq!(
        s.events(),
        [
            "Failed Protocol(InformationalTooLarge { limit: 1000 }) written=true received=true reused=false",
            "Closed ProtocolError"
        ]
    );
}

#[test]
fn switching_protocols_without_an_upgrade_request_is_an_error_security_f6() {
    let mut s = Script::default();
    s.awaiting_head();
    s.read(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n");
    assert_eq!(
        s.events(),
        [
            "Failed Protocol(UnexpectedUpgrade) written=true received=true reused=false",
            "Closed ProtocolError"
        ]
    );
}

#[test]
fn upgrade_header_on_a_200_is_just_a_200_security_f7() {
    let mut s = Script::default();
    s.send(Method::GET, &[("connection", "upgrade"), ("upgrade", "websocket")], BodyLength::Empty);
    s.flush();
    s.events();
    s.read(b"HTTP/1.1 200 OK\r\nupgrade: websocket\r\ncontent-length: 2\r\n\r\nhi");
    s.events();
    assert_eq!(s.body(), (b"hi".to_vec(), "End".into()));
    assert!(s.conn.is_reusable());
}

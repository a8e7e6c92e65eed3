//! Connection lifecycle: one exchange from request bytes to `Finished`, exact
//! wire bytes and exact event sequences (RFC 9112 §3, §6, §9.3).

mod support;

use http::Method;
use roundtrip_core::conn::BodyChunk;
use roundtrip_core::proto::{BodyLength, UsageError};
use support::conn::Script;

#[test]
fn get_exchange_wire_bytes_and_events() {
    let mut s = Script::default();
    s.send(Method::GET, &[("accept", "*/*")], BodyLength::Empty);
    assert_eq!(s.events(), Vec::<String>::new(), "nothing happens before the head is written");
    assert_eq!(s.flush_text(), "GET / HTTP/1.1\r\nhost: example.com\r\naccept: */*\r\n\r\n");
    assert_eq!(s.events(), ["HeadSent", "RequestSent"]);
    s.read(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello");
    assert_eq!(s.events(), ["Response 200 Length(5)"]);
    assert_eq!(s.body(), (b"hello".to_vec(), "End".into()));
    assert_eq!(s.events(), ["Finished"]);
    assert!(s.conn.is_reusable());
    assert_eq!(s.conn.exchanges_completed(), 1);
}

#[test]
fn post_with_a_known_length_streams_the_body_without_copying() {
    let mut s = Script::default();
    s.send(Method::POST, &[], BodyLength::Known(5));
    assert_eq!(s.events(), ["BodyAllowed NoExpectation"]);
    s.data(b"hel");
    s.data(b"lo");
    s.finish();
    assert_eq!(s.flush_text(), "POST / HTTP/1.1\r\nhost: example.com\r\ncontent-length: 5\r\n\r\nhello");
    assert_eq!(s.events(), ["HeadSent", "RequestSent"]);
    s.read(b"HTTP/1.1 204 No Content\r\n\r\n");
    assert_eq!(s.events(), ["Response 204 Empty", "Finished"]);
    assert!(s.conn.is_reusable());
}

#[test]
fn chunked_request_body_with_trailers_rfc9112_7_1() {
    let mut s = Script::default();
    s.send(Method::POST, &[], BodyLength::Unknown);
    s.events();
    s.data(b"hello");
    let mut trailers = http::HeaderMap::new();
    trailers.insert("x-sum", http::HeaderValue::from_static("5"));
    s.conn.finish(s.id(), Some(&trailers)).unwrap();
    assert_eq!(
        s.flush_text(),
        "POST / HTTP/1.1\r\nhost: example.com\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx-sum: 5\r\n\r\n"
    );
}

#[test]
fn head_and_body_in_one_read_and_body_in_pieces() {
    let mut s = Script::default();
    s.awaiting_head();
    s.read(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello");
    assert_eq!(s.events(), ["Response 200 Length(10)"]);
    assert_eq!(s.body(), (b"hello".to_vec(), "Pending".into()));
    s.read(b"world");
    assert_eq!(s.events(), ["BodyReadable"], "announced because the reader was waiting");
    assert_eq!(s.body(), (b"world".to_vec(), "End".into()));
    assert_eq!(s.events(), ["Finished"]);
}

#[test]
fn read_body_splits_at_most_max_bytes() {
    let mut s = Script::default();
    s.awaiting_head();
    s.read(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello");
    let id = s.id();
    let now = s.now;
    assert_eq!(s.conn.read_body(now, id, 2).unwrap(), BodyChunk::Data("he".into()));
    assert_eq!(s.conn.read_body(now, id, 2).unwrap(), BodyChunk::Data("ll".into()));
    assert_eq!(s.conn.read_body(now, id, 2).unwrap(), BodyChunk::Last("o".into()));
    assert_eq!(s.conn.read_body(now, id, 2).unwrap(), BodyChunk::End);
    assert_eq!(s.conn.read_body(now, id, 2).unwrap(), BodyChunk::End, "End again after the exchange ended");
}

/// A body ends with its last bytes (`Last`) when they are known to be the
/// last: the exchange is `Finished` and the connection reusable before the
/// reader asks again, as Go's body returns its last bytes with `io.EOF`.
/// RFC 9112 §6.3: a length says where the body ends.
#[test]
fn last_bytes_of_a_known_length_body_finish_the_exchange_rfc9112_6_3() {
    let mut s = Script::default();
    s.awaiting_head();
    s.read(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello");
    assert_eq!(s.events(), ["Response 200 Length(10)"]);
    let (id, now) = (s.id(), s.now);
    assert_eq!(s.conn.read_body(now, id, usize::MAX).unwrap(), BodyChunk::Data("hello".into()));
    assert_eq!(s.conn.read_body(now, id, usize::MAX).unwrap(), BodyChunk::Pending);
    s.read(b"world");
    s.events();
    assert_eq!(s.conn.read_body(now, id, usize::MAX).unwrap(), BodyChunk::Last("world".into()));
    assert_eq!(s.events(), ["Finished"], "finished with the last bytes");
    assert!(s.conn.is_reusable());
    assert_eq!(s.conn.read_body(now, id, usize::MAX).unwrap(), BodyChunk::End);
}

/// RFC 9112 §7.1: a chunked body's last data is `Last` when the last chunk
/// and the empty trailer section are already buffered behind it (Go's
/// chunked reader looks at a buffered chunk header for the same reason);
/// otherwise the body ends with `End` once they come, or after trailers.
#[test]
fn last_bytes_of_a_chunked_body_when_its_end_is_buffered_rfc9112_7_1() {
    let chunked = |reads: &[&[u8]]| {
        let mut s = Script::default();
        s.awaiting_head();
        s.read(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
        s.events();
        let (id, now) = (s.id(), s.now);
        let mut seen = Vec::new();
        for read in reads {
            s.read(read);
            s.events();
            loop {
                match s.conn.read_body(now, id, usize::MAX).unwrap() {
                    BodyChunk::Pending => break,
                    BodyChunk::End => {
                        seen.push("End".to_string());
                        break;
                    }
                    BodyChunk::Data(d) => seen.push(format!("Data {}", String::from_utf8_lossy(&d))),
                    BodyChunk::Last(d) => seen.push(format!("Last {}", String::from_utf8_lossy(&d))),
                    BodyChunk::Trailers(t) => seen.push(format!("Trailers {}", t.len())),
                }
            }
        }
        assert!(s.conn.is_reusable(), "{seen:?}");
        seen
    };
    assert_eq!(chunked(&[b"5\r\nhello\r\n0\r\n\r\n"]), ["Last hello", "End"]);
    assert_eq!(chunked(&[b"5\r\nhello\r\n3\r\nabc\r\n0;x=1\r\n\r\n"]), ["Data hello", "Last abc", "End"]);
    assert_eq!(chunked(&[b"5\r\nhello\r\n", b"0\r\n\r\n"]), ["Data hello", "End"]);
    assert_eq!(chunked(&[b"5\r\nhello\r\n0\r\n", b"\r\n"]), ["Data hello", "End"]);
    assert_eq!(chunked(&[b"5\r\nhello\r\n0\r\nx-sum: 5\r\n\r\n"]), ["Data hello", "Trailers 1", "End"]);
}

/// Framing after a chunk's data that is wrong fails the body at the next
/// read, not with the data before it.
#[test]
fn bad_framing_behind_a_chunk_fails_the_next_read_rfc9112_7_1() {
    let mut s = Script::default();
    s.awaiting_head();
    s.read(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n");
    s.events();
    let (id, now) = (s.id(), s.now);
    assert_eq!(s.conn.read_body(now, id, usize::MAX).unwrap(), BodyChunk::Data("hello".into()));
    assert!(s.conn.read_body(now, id, usize::MAX).is_err());
    assert!(!s.conn.is_reusable());
}

/// Bytes behind a body's last ones are not a response: the connection that
/// ended with `Last` closes instead of being reused (docs/security.md C17).
#[test]
fn bytes_behind_the_last_ones_close_the_connection() {
    let mut s = Script::default();
    s.awaiting_head();
    s.read(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\n\r\n");
    s.events();
    let (id, now) = (s.id(), s.now);
    assert_eq!(s.conn.read_body(now, id, usize::MAX).unwrap(), BodyChunk::Last("hello".into()));
    assert!(!s.conn.is_reusable());
}

#[test]
fn chunked_response_with_trailers_rfc9112_7_1_2() {
    let mut s = Script::default();
    s.awaiting_head();
    s.read(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx-checksum: 1\r\n\r\n");
    assert_eq!(s.events(), ["Response 200 Chunked"]);
    assert_eq!(s.body(), (b"hello<1 trailers>".to_vec(), "End".into()));
    assert_eq!(s.events(), ["Finished"]);
    assert!(s.conn.is_reusable());
}

#[test]
fn sequential_exchanges_reuse_the_connection() {
    let mut s = Script::default();
    s.complete_one();
    s.complete_one();
    s.complete_one();
    assert_eq!(s.conn.exchanges_completed(), 3);
}

#[test]
fn one_exchange_at_a_time() {
    let mut s = Script::default();
    s.awaiting_head();
    let head = roundtrip_core::proto::RequestHead::new(Method::GET, "http://h/".parse().unwrap());
    assert_eq!(s.conn.send_request(&head, BodyLength::Empty), Err(UsageError::Busy));
}

#[test]
fn bodyless_responses_finish_without_reading_rfc9112_6_3_item_1() {
    for (method, response) in [
        (Method::HEAD, &b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n"[..]),
        (Method::GET, b"HTTP/1.1 204 No Content\r\n\r\n"),
        (Method::GET, b"HTTP/1.1 304 Not Modified\r\ntransfer-encoding: chunked\r\n\r\n"),
        (Method::GET, b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
    ] {
        let mut s = Script::default();
        s.send(method, &[], BodyLength::Empty);
        s.flush();
        s.events();
        s.read(response);
        let events = s.events();
        assert_eq!(events.last().map(String::as_str), Some("Finished"), "{events:?}");
        assert!(s.conn.is_reusable());
    }
}

#[test]
fn errors_are_sticky_after_closed() {
    let mut s = Script::default();
    s.awaiting_head();
    s.read(b"HTTP/9.9 200 OK\r\n\r\n");
    assert_eq!(
        s.events(),
        ["Failed Protocol(Version) written=true received=true reused=false", "Closed ProtocolError"]
    );
    let head = roundtrip_core::proto::RequestHead::new(Method::GET, "http://h/".parse().unwrap());
    assert_eq!(s.conn.send_request(&head, BodyLength::Empty), Err(UsageError::Closed));
    s.read(b"more").eof().timeout();
    assert!(s.conn.poll_event().is_none());
    assert!(s.conn.poll_transmit(s.now).is_none());
    assert!(s.conn.poll_timeout().is_none());
    assert!(!s.conn.wants_read());
    let (_, outcome) = s.body();
    assert_eq!(outcome, "Err Protocol(Version)", "read_body still answers with the exchange's error");
}

#[test]
fn local_close_is_a_close_reason_not_an_error() {
    let mut s = Script::default();
    s.complete_one();
    s.conn.close();
    assert_eq!(s.events(), ["Closed LocalClose"]);
    assert!(s.conn.is_closed());
}

/// A body of known length can be read straight into the connection's buffer:
/// the hint is the rest still to arrive, within `max_buffered_body`; bytes
/// appended there are taken as `handle_read` takes its own.
#[test]
fn body_read_in_place_into_the_receive_buffer() {
    let mut s = Script::default();
    s.send(Method::GET, &[], BodyLength::Empty);
    s.flush();
    assert_eq!(s.conn.read_in_place_hint(), 0, "a head is read through the driver's buffer");
    s.read(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\nabc");
    s.events();
    let max = roundtrip_core::conn::ConnectionConfig::default().max_buffered_body;
    assert_eq!(s.conn.read_in_place_hint(), max - 3, "the room left, less than the 99,997 to come");
    let buf = s.conn.receive_buffer();
    buf.extend_from_slice(&[b'x'; 1000]);
    s.conn.handle_read_in_place(s.now);
    let (body, end) = s.body();
    assert_eq!((body.len(), end.as_str()), (1003, "Pending"));
    assert_eq!(s.conn.read_in_place_hint(), (100_000 - 1003).min(max));
    // The rest, never more at once than the hint allows.
    let mut rest = 0;
    loop {
        let hint = s.conn.read_in_place_hint();
        if hint == 0 {
            break;
        }
        s.conn.receive_buffer().extend_from_slice(&vec![b'y'; hint]);
        s.conn.handle_read_in_place(s.now);
        let (body, end) = s.body();
        rest += body.len();
        if end == "End" {
            break;
        }
    }
    assert_eq!(rest, 100_000 - 1003);
    assert_eq!(s.conn.read_in_place_hint(), 0);
    s.events();
    // After a body that long, the next head is read in place as well: its
    // body likely comes in the same read. A head in the buffer parses as one
    // from `handle_read`.
    s.send(Method::GET, &[], BodyLength::Empty);
    s.flush();
    assert_eq!(s.conn.read_in_place_hint(), max, "after a large body, a head is read in place");
    s.conn.receive_buffer().extend_from_slice(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi");
    s.conn.handle_read_in_place(s.now);
    assert!(s.events().iter().any(|e| e.starts_with("Response")), "the head was parsed");
    let (body, end) = s.body();
    assert_eq!((&body[..], end.as_str()), (&b"hi"[..], "End"));
    s.events();
    // After a small body, heads go through the driver's buffer again.
    s.send(Method::GET, &[], BodyLength::Empty);
    s.flush();
    assert_eq!(
        s.conn.read_in_place_hint(),
        0,
        "after a small body, a head is read through the driver's buffer"
    );
}

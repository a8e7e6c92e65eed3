//! A head that repeats the thread's last one but in some values is taken
//! without httparse (docs/bench.md, S1): whatever the bytes, it must parse
//! exactly as it would on a thread that never saw a head before (RFC 9112 §4
//! and §5 as httparse applies them), and its map must hold its own values.

use bytes::BytesMut;
use http::StatusCode;
use roundtrip_core::proto::{HeadLimits, HeadParser, ProtocolError, ResponseHead};

/// nginx's head with an empty value and one too long for the template to copy.
fn base() -> Vec<u8> {
    let long = "v".repeat(150);
    format!(
        "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 22 Nov 2026 00:50:25 GMT\r\n\
         Content-Type: text/plain\r\nContent-Length: 5\r\nX-Empty:\r\nX-Long: {long}\r\n\
         ETag:  \"6b13fe09-64\" \r\nConnection: keep-alive\r\n\r\nhello"
    )
    .into_bytes()
}

/// Everything a parse gives: the head's length, status, reason, fields as
/// received, and its map in iteration order.
#[derive(Debug, PartialEq)]
struct Parse {
    len: usize,
    status: StatusCode,
    reason: Vec<u8>,
    fields: Vec<(Vec<u8>, Vec<u8>)>,
    map: Vec<(String, Vec<u8>)>,
}

type Outcome = Result<Parse, ProtocolError>;

fn outcome(input: &[u8], limits: HeadLimits) -> Outcome {
    let mut buf = BytesMut::from(input);
    let mut parser = HeadParser::new(limits);
    let head = match parser.parse(&mut buf)? {
        Some(head) => head,
        None => parser.parse_eof(&mut buf)?,
    };
    Ok(describe(&head))
}

fn describe(head: &ResponseHead) -> Parse {
    let map = head.header_map().expect("a parsed head's fields fit a HeaderMap");
    Parse {
        len: head.as_bytes().len(),
        status: head.status(),
        reason: head.reason().to_vec(),
        fields: head.fields().map(|(n, v)| (n.to_vec(), v.to_vec())).collect(),
        map: map.iter().map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec())).collect(),
    }
}

/// The outcome on a thread of its own, which has no template.
fn fresh(input: &[u8], limits: HeadLimits) -> Outcome {
    let input = input.to_vec();
    std::thread::spawn(move || outcome(&input, limits)).join().expect("the parse does not panic")
}

/// Bytes around the edges of what a value may hold, and plain ones.
const BYTES: [u8; 16] =
    [b' ', b'\t', b'\r', b'\n', 0, 0x7f, 0x80, 0xff, b'a', b'Z', b':', b'0', b'9', b'"', 0x1f, b'-'];

/// One to three bytes of the base changed anywhere (status line, names,
/// values, the whitespace around them, line breaks), half of them at the
/// edges of a value, each after the base made the thread's template again:
/// the same outcome as a fresh thread's.
#[test]
fn a_changed_repeat_parses_as_on_a_fresh_thread_rfc9112_5() {
    let base = base();
    let limits = HeadLimits::default();
    assert_eq!(outcome(&base, limits), fresh(&base, limits));
    // A fixed generator: the same cases on every run.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    let head_len = base.len() - b"hello".len();
    // Half the changes fall on the edges of a value, where httparse trims.
    let edges: Vec<usize> =
        (1..head_len - 1).filter(|&i| matches!(base[i - 1], b' ' | b':') || base[i + 1] == b'\r').collect();
    let mut matched = 0;
    for _ in 0..2000 {
        let mut input = base.clone();
        for _ in 0..1 + next(3) {
            let at = if next(2) == 0 { edges[next(edges.len())] } else { next(head_len) };
            input[at] = BYTES[next(BYTES.len())];
        }
        let want = fresh(&input, limits);
        outcome(&base, limits).expect("the base parses");
        assert_eq!(outcome(&input, limits), want, "{:?}", String::from_utf8_lossy(&input));
        matched += usize::from(want.is_ok());
    }
    assert!(matched > 300, "too few changed heads parse ({matched}) for this to test the repeat");
}

/// A value that changes in every response (a `Date` each second) is the
/// template's from then on; a head matched before that keeps its own value.
#[test]
fn a_head_matched_before_the_template_changed_keeps_its_values() {
    let base = base();
    let date = |d: &str| String::from_utf8(base.clone()).unwrap().replace("00:50:25", d).into_bytes();
    let parse = |input: &[u8]| {
        let mut buf = BytesMut::from(input);
        HeadParser::new(HeadLimits::default()).parse(&mut buf).unwrap().unwrap()
    };
    let value = |head: &ResponseHead| head.header_map().unwrap()["date"].as_bytes().to_vec();
    let first = parse(&base);
    assert_eq!(value(&first), b"Sun, 22 Nov 2026 00:50:25 GMT");
    let a = parse(&date("00:50:26"));
    let b = parse(&date("00:50:27"));
    let c = parse(&date("00:50:27"));
    assert_eq!(value(&c), b"Sun, 22 Nov 2026 00:50:27 GMT");
    assert_eq!(value(&a), b"Sun, 22 Nov 2026 00:50:26 GMT");
    assert_eq!(value(&b), b"Sun, 22 Nov 2026 00:50:27 GMT");
    assert_eq!(value(&first), b"Sun, 22 Nov 2026 00:50:25 GMT");
    assert_eq!(describe(&a), fresh(&date("00:50:26"), HeadLimits::default()).unwrap());
}

/// A head matched on one thread and mapped on another, whose template has
/// the same names and length but other values, gets its own values.
#[test]
fn a_head_mapped_on_another_thread_keeps_its_values() {
    let base = base();
    let other = String::from_utf8(base.clone()).unwrap().replace("nginx/1.22.1", "apache/2.4.6").into_bytes();
    let limits = HeadLimits::default();
    outcome(&base, limits).unwrap();
    let mut buf = BytesMut::from(&base[..]);
    let head = HeadParser::new(limits).parse(&mut buf).unwrap().unwrap();
    let mapped = std::thread::spawn(move || {
        outcome(&other, limits).unwrap();
        outcome(&other, limits).unwrap();
        describe(&head)
    })
    .join()
    .unwrap();
    assert_eq!(mapped, fresh(&base, limits).unwrap());
}

/// Another connection's limits may be tighter than those the template was
/// parsed under: they hold for a repeated head too (docs/security.md L1, L2).
#[test]
fn a_repeat_is_held_to_its_own_limits() {
    let base = base();
    outcome(&base, HeadLimits::default()).unwrap();
    for limits in [
        HeadLimits { max_head_bytes: 64 * 1024, max_headers: 7 },
        HeadLimits { max_head_bytes: 100, max_headers: 100 },
    ] {
        let got = outcome(&base, limits);
        assert!(got.is_err(), "{limits:?}");
        assert_eq!(got, fresh(&base, limits));
    }
    assert_eq!(outcome(&base, HeadLimits::default()), fresh(&base, HeadLimits::default()));
}

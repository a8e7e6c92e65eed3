//! Request head and body encoding: RFC 9112 §3 (request line), RFC 9110 §7.2
//! (Host), RFC 9112 §6 and §7 (framing), RFC 9110 §5.5 (field values).

use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Method, Uri};
use roundtrip_core::proto::{
    BodyEncoder, BodyLength, DefaultFields, EncodedHead, Outgoing, RequestFraming, RequestHead, TargetForm,
    UsageError, encode_request_head, encode_request_head_with_fields,
};

fn head(method: Method, uri: &str) -> RequestHead {
    RequestHead::new(method, uri.parse::<Uri>().unwrap())
}

fn encode(head: &RequestHead, body: BodyLength) -> Result<(String, EncodedHead), UsageError> {
    let mut dst = BytesMut::new();
    let encoded = encode_request_head(head, body, &mut dst)?;
    Ok((String::from_utf8(dst.to_vec()).unwrap(), encoded))
}

fn wire(head: &RequestHead, body: BodyLength) -> String {
    encode(head, body).unwrap().0
}

#[test]
fn get_in_origin_form_with_host_from_the_uri_rfc9112_3_2_1() {
    assert_eq!(
        wire(&head(Method::GET, "http://example.com/a/b?q=1"), BodyLength::Empty),
        "GET /a/b?q=1 HTTP/1.1\r\nhost: example.com\r\n\r\n"
    );
    assert_eq!(
        wire(&head(Method::GET, "http://example.com"), BodyLength::Empty),
        "GET / HTTP/1.1\r\nhost: example.com\r\n\r\n"
    );
}

#[test]
fn host_port_only_when_not_the_scheme_default_rfc9110_7_2() {
    assert!(wire(&head(Method::GET, "http://h:8080/"), BodyLength::Empty).contains("host: h:8080\r\n"));
    assert!(wire(&head(Method::GET, "http://h:80/"), BodyLength::Empty).contains("host: h\r\n"));
    assert!(wire(&head(Method::GET, "https://h:443/"), BodyLength::Empty).contains("host: h\r\n"));
    assert!(wire(&head(Method::GET, "https://h:80/"), BodyLength::Empty).contains("host: h:80\r\n"));
    assert!(
        wire(&head(Method::GET, "http://[::1]:8080/"), BodyLength::Empty).contains("host: [::1]:8080\r\n")
    );
    // The port as a number: leading zeros dropped, a default one too.
    for (uri, host) in [
        ("http://h:08080/", "h:8080"),
        ("http://h:0080/", "h"),
        ("http://h:9/", "h:9"),
        ("http://h:09/", "h:9"),
        ("http://h:65535/", "h:65535"),
        ("http://u:p@h:00081/", "h:81"),
    ] {
        assert!(
            wire(&head(Method::GET, uri), BodyLength::Empty).contains(&format!("host: {host}\r\n")),
            "{uri}"
        );
    }
}

/// The thread remembers the last `Host` it wrote and what it came from; one
/// request after another, each gets its own URI's value (RFC 9110 §7.2).
#[test]
fn host_follows_each_uri_in_turn_rfc9110_7_2() {
    let host = |uri: &str| {
        let wire = encode(&head(Method::GET, uri), BodyLength::Empty).map(|(w, _)| w);
        wire.map(|w| w.lines().nth(1).unwrap_or_default().to_owned())
    };
    for (uri, expected) in [
        ("http://h:443/", "host: h:443"),
        ("http://h:443/a", "host: h:443"),
        ("https://h:443/", "host: h"),
        ("https://h:443/", "host: h"),
        ("http://h:443/", "host: h:443"),
        ("http://g:443/", "host: g:443"),
        ("http://u@g:443/", "host: g:443"),
        ("http://g:443/", "host: g:443"),
    ] {
        assert_eq!(host(uri).as_deref(), Ok(expected), "{uri}");
    }
    for _ in 0..2 {
        assert_eq!(host("http://g:99999/"), Err(UsageError::InvalidHost), "not remembered when refused");
    }
    let mut own = head(Method::GET, "http://g:443/");
    own.headers.insert("host", HeaderValue::from_static("other"));
    assert!(wire(&own, BodyLength::Empty).contains("host: other\r\n"), "the caller's Host wins");
    assert_eq!(host("http://g:443/").as_deref(), Ok("host: g:443"));
}

#[test]
fn userinfo_is_never_sent_rfc9110_4_2_4() {
    let mut h = head(Method::GET, "http://user:pw@example.com:81/x");
    assert_eq!(wire(&h, BodyLength::Empty), "GET /x HTTP/1.1\r\nhost: example.com:81\r\n\r\n");
    h.target_form = TargetForm::Absolute;
    assert!(wire(&h, BodyLength::Empty).starts_with("GET http://example.com:81/x HTTP/1.1\r\n"));
}

#[test]
fn absolute_form_for_proxies_rfc9112_3_2_2() {
    let mut h = head(Method::GET, "http://example.com/p?q");
    h.target_form = TargetForm::Absolute;
    assert_eq!(
        wire(&h, BodyLength::Empty),
        "GET http://example.com/p?q HTTP/1.1\r\nhost: example.com\r\n\r\n"
    );
    let mut relative = head(Method::GET, "/p");
    relative.target_form = TargetForm::Absolute;
    relative.headers.insert("host", HeaderValue::from_static("h"));
    assert_eq!(encode(&relative, BodyLength::Empty), Err(UsageError::InvalidTarget));
}

#[test]
fn authority_form_for_connect_rfc9112_3_2_3() {
    let mut h = head(Method::CONNECT, "https://example.com");
    h.target_form = TargetForm::Authority;
    assert_eq!(wire(&h, BodyLength::Empty), "CONNECT example.com:443 HTTP/1.1\r\nhost: example.com\r\n\r\n");
}

#[test]
fn asterisk_form_only_for_options_rfc9112_3_2_4() {
    let mut h = head(Method::OPTIONS, "*");
    h.headers.insert("host", HeaderValue::from_static("example.com"));
    assert_eq!(wire(&h, BodyLength::Empty), "OPTIONS * HTTP/1.1\r\nhost: example.com\r\n\r\n");
    h.method = Method::GET;
    assert_eq!(encode(&h, BodyLength::Empty), Err(UsageError::InvalidTarget));
}

#[test]
fn caller_host_is_used_once_and_validated_cve_2023_29406() {
    let mut h = head(Method::GET, "http://example.com/");
    h.headers.insert("host", HeaderValue::from_static("other.example:8443"));
    assert_eq!(wire(&h, BodyLength::Empty), "GET / HTTP/1.1\r\nhost: other.example:8443\r\n\r\n");
    for bad in ["evil.com/path", "user@evil.com", "a b", "a\tb", ""] {
        h.headers.insert("host", HeaderValue::from_str(bad).unwrap());
        assert_eq!(encode(&h, BodyLength::Empty), Err(UsageError::InvalidHost), "{bad:?}");
    }
    h.headers.insert("host", HeaderValue::from_static("a"));
    h.headers.append("host", HeaderValue::from_static("b"));
    assert_eq!(encode(&h, BodyLength::Empty), Err(UsageError::InvalidHost), "two Host fields");
}

#[test]
fn missing_host_is_a_usage_error_rfc9112_3_2() {
    assert_eq!(encode(&head(Method::GET, "/relative"), BodyLength::Empty), Err(UsageError::MissingHost));
}

#[test]
fn fields_follow_host_in_map_order() {
    let mut h = head(Method::GET, "http://h/");
    h.headers.insert("user-agent", HeaderValue::from_static("roundtrip"));
    h.headers.append("accept", HeaderValue::from_static("a"));
    h.headers.append("accept", HeaderValue::from_static("b"));
    assert_eq!(
        wire(&h, BodyLength::Empty),
        "GET / HTTP/1.1\r\nhost: h\r\nuser-agent: roundtrip\r\naccept: a\r\naccept: b\r\n\r\n"
    );
}

/// A client's default fields, checked and encoded once: written after the
/// request's own unless it sets them; one that bears on reuse (`connection:
/// close`) still counts.
#[test]
fn default_fields_fill_in_what_the_request_leaves_out() {
    let mut defaults = HeaderMap::new();
    defaults.insert("user-agent", HeaderValue::from_static("roundtrip/1"));
    defaults.insert("accept-encoding", HeaderValue::from_static("gzip"));
    let fields = DefaultFields::new(&defaults).unwrap();
    let encode = |h: &RequestHead, fields: &DefaultFields| {
        let mut dst = BytesMut::new();
        let encoded = encode_request_head_with_fields(h, fields, BodyLength::Empty, &mut dst).unwrap();
        (String::from_utf8(dst.to_vec()).unwrap(), encoded)
    };
    let mut h = head(Method::GET, "http://h/");
    h.headers.insert("accept-encoding", HeaderValue::from_static("br"));
    let (wire, _) = encode(&h, &fields);
    assert_eq!(wire, "GET / HTTP/1.1\r\nhost: h\r\naccept-encoding: br\r\nuser-agent: roundtrip/1\r\n\r\n");

    defaults.insert("connection", HeaderValue::from_static("close"));
    let (wire, encoded) = encode(&head(Method::GET, "http://h/"), &DefaultFields::new(&defaults).unwrap());
    assert!(wire.contains("connection: close\r\n"), "{wire}");
    assert!(encoded.close, "a default connection: close ends reuse");
}

#[test]
fn framing_from_the_body_length_rfc9112_6() {
    let cases = [
        (Method::GET, BodyLength::Empty, "", RequestFraming::Empty),
        (Method::HEAD, BodyLength::Known(0), "", RequestFraming::Empty),
        (Method::POST, BodyLength::Empty, "content-length: 0\r\n", RequestFraming::Length(0)),
        (Method::PUT, BodyLength::Known(0), "content-length: 0\r\n", RequestFraming::Length(0)),
        (Method::POST, BodyLength::Known(5), "content-length: 5\r\n", RequestFraming::Length(5)),
        (Method::GET, BodyLength::Known(3), "content-length: 3\r\n", RequestFraming::Length(3)),
        (Method::POST, BodyLength::Unknown, "transfer-encoding: chunked\r\n", RequestFraming::Chunked),
        (Method::DELETE, BodyLength::Empty, "", RequestFraming::Empty),
    ];
    for (method, body, field, framing) in cases {
        let (text, encoded) = encode(&head(method.clone(), "http://h/"), body).unwrap();
        assert_eq!(text, format!("{method} / HTTP/1.1\r\nhost: h\r\n{field}\r\n"));
        assert_eq!(encoded.framing, framing, "{method} {body:?}");
    }
}

#[test]
fn caller_framing_fields_must_agree_with_the_body() {
    let with = |name: &'static str, value: &'static str| {
        let mut h = head(Method::POST, "http://h/");
        h.headers.insert(name, HeaderValue::from_static(value));
        h
    };
    let (text, e) = encode(&with("content-length", "5"), BodyLength::Known(5)).unwrap();
    assert_eq!(text.matches("content-length").count(), 1);
    assert_eq!(e.framing, RequestFraming::Length(5));
    assert_eq!(
        encode(&with("content-length", "10"), BodyLength::Unknown).unwrap().1.framing,
        RequestFraming::Length(10)
    );
    assert_eq!(encode(&with("content-length", "6"), BodyLength::Known(5)), Err(UsageError::FramingConflict));
    assert_eq!(encode(&with("content-length", "1"), BodyLength::Empty), Err(UsageError::FramingConflict));
    assert_eq!(encode(&with("content-length", "+1"), BodyLength::Known(1)), Err(UsageError::FramingConflict));
    assert_eq!(
        encode(&with("transfer-encoding", "chunked"), BodyLength::Known(5)).unwrap().1.framing,
        RequestFraming::Chunked
    );
    assert_eq!(
        encode(&with("transfer-encoding", "chunked"), BodyLength::Empty),
        Err(UsageError::FramingConflict)
    );
    assert_eq!(
        encode(&with("transfer-encoding", "gzip, chunked"), BodyLength::Unknown),
        Err(UsageError::UnsupportedTransferEncoding)
    );
    let mut both = with("transfer-encoding", "chunked");
    both.headers.insert("content-length", HeaderValue::from_static("5"));
    assert_eq!(encode(&both, BodyLength::Known(5)), Err(UsageError::FramingConflict));
}

#[test]
fn a_rejected_head_leaves_the_buffer_untouched() {
    let mut h = head(Method::POST, "http://h/");
    h.headers.insert("content-length", HeaderValue::from_static("9"));
    let mut dst = BytesMut::from(&b"earlier"[..]);
    assert!(encode_request_head(&h, BodyLength::Known(1), &mut dst).is_err());
    assert_eq!(&dst[..], b"earlier");
}

#[test]
fn expect_connection_and_upgrade_are_reported() {
    let mut h = head(Method::PUT, "http://h/");
    h.headers.insert("expect", HeaderValue::from_static("100-Continue"));
    h.headers.insert("connection", HeaderValue::from_static("keep-alive, Close"));
    let (_, e) = encode(&h, BodyLength::Known(3)).unwrap();
    assert!(e.expect_continue && e.close && !e.upgrade);
    let (_, e) = encode(&h, BodyLength::Empty).unwrap();
    assert!(!e.expect_continue, "no body, nothing to wait for (Go: non-nil body only)");
    h.headers.insert("upgrade", HeaderValue::from_static("websocket"));
    assert!(encode(&h, BodyLength::Empty).unwrap().1.upgrade);
}

fn drain(out: &mut Outgoing) -> Vec<u8> {
    let mut bytes = Vec::new();
    while out.has_remaining() {
        let chunk = out.chunk().to_vec();
        out.advance(chunk.len());
        bytes.extend(chunk);
    }
    bytes
}

#[test]
fn length_encoder_holds_the_body_to_its_declared_length() {
    let mut out = Outgoing::new();
    let mut enc = BodyEncoder::new(RequestFraming::Length(5));
    enc.encode(Bytes::from_static(b"hel"), &mut out).unwrap();
    assert_eq!(
        enc.encode(Bytes::from_static(b"lo!"), &mut out),
        Err(UsageError::BodyLongerThanDeclared { declared: 5 })
    );
    assert_eq!(drain(&mut out), b"hel", "nothing of the rejected chunk was queued");
    assert_eq!(enc.finish(None, &mut out), Err(UsageError::BodyShorterThanDeclared { declared: 5, sent: 3 }));
    enc.encode(Bytes::from_static(b"lo"), &mut out).unwrap();
    enc.finish(None, &mut out).unwrap();
    assert_eq!(enc.encode(Bytes::from_static(b"x"), &mut out), Err(UsageError::BodyNotExpected));
    let mut trailers = HeaderMap::new();
    trailers.insert("x-sum", HeaderValue::from_static("1"));
    let mut enc = BodyEncoder::new(RequestFraming::Length(0));
    assert_eq!(enc.finish(Some(&trailers), &mut out), Err(UsageError::TrailersWithoutChunked));
}

#[test]
fn chunked_encoder_frames_caller_bytes_and_trailers_rfc9112_7_1() {
    let mut out = Outgoing::new();
    let mut enc = BodyEncoder::new(RequestFraming::Chunked);
    enc.encode(Bytes::from_static(b"hello"), &mut out).unwrap();
    enc.encode(Bytes::new(), &mut out).unwrap();
    enc.encode(Bytes::from(vec![b'x'; 26]), &mut out).unwrap();
    let mut trailers = HeaderMap::new();
    trailers.insert("x-checksum", HeaderValue::from_static("abc"));
    enc.finish(Some(&trailers), &mut out).unwrap();
    let expected =
        [b"5\r\nhello\r\n1a\r\n".as_slice(), &[b'x'; 26], b"\r\n0\r\nx-checksum: abc\r\n\r\n"].concat();
    assert_eq!(drain(&mut out), expected);
    let mut empty = BodyEncoder::new(RequestFraming::Chunked);
    empty.finish(None, &mut out).unwrap();
    assert_eq!(drain(&mut out), b"0\r\n\r\n");
}

#[test]
fn no_100_continue_expectation_without_content_rfc9110_10_1_1() {
    let cases = [
        (Method::POST, BodyLength::Empty, "content-length: 0\r\n"),
        (Method::PUT, BodyLength::Known(0), "content-length: 0\r\n"),
        (Method::GET, BodyLength::Empty, ""),
    ];
    for (method, body, framing) in cases {
        let mut h = head(method.clone(), "http://h/");
        h.headers.insert("x-a", HeaderValue::from_static("1"));
        h.headers.insert("expect", HeaderValue::from_static("100-Continue"));
        h.headers.insert("x-b", HeaderValue::from_static("2"));
        let (text, e) = encode(&h, body).unwrap();
        assert_eq!(text, format!("{method} / HTTP/1.1\r\nhost: h\r\nx-a: 1\r\nx-b: 2\r\n{framing}\r\n"));
        assert!(!e.expect_continue);
    }
    // A stream the caller declared empty.
    let mut h = head(Method::POST, "http://h/");
    h.headers.insert("expect", HeaderValue::from_static("100-continue"));
    h.headers.insert("content-length", HeaderValue::from_static("0"));
    assert_eq!(wire(&h, BodyLength::Unknown), "POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 0\r\n\r\n");
    // Other expectations stay; with content, 100-continue stays too.
    let mut h = head(Method::POST, "http://h/");
    h.headers.insert("expect", HeaderValue::from_static("x-later,100-continue , x-other"));
    assert_eq!(
        wire(&h, BodyLength::Empty),
        "POST / HTTP/1.1\r\nhost: h\r\nexpect: x-later, x-other\r\ncontent-length: 0\r\n\r\n"
    );
    h.headers.insert("expect", HeaderValue::from_static("100-continue"));
    let (text, e) = encode(&h, BodyLength::Known(1)).unwrap();
    assert!(text.contains("\r\nexpect: 100-continue\r\n") && e.expect_continue);
}

#[test]
fn request_target_bytes_outside_rfc3986_are_percent_encoded_rfc9112_3_2() {
    // `http::Uri` takes raw UTF-8 and some ASCII that RFC 3986 allows in no path
    // or query; they are percent-encoded on the wire (RFC 3986 §2.1, uppercase).
    let cases = [
        ("http://h/caf\u{e9}?q=\u{e9}", "/caf%C3%A9?q=%C3%A9"),
        ("http://h/\u{1F600}", "/%F0%9F%98%80"),
        ("http://h/a\"b{c}|d\\e^f[g]", "/a%22b%7Bc%7D%7Cd%5Ce%5Ef%5Bg%5D"),
        ("http://h/p?x=`{|}^[]\\", "/p?x=%60%7B%7C%7D%5E%5B%5D%5C"),
        // Allowed bytes stay, `%` included: nothing is encoded twice.
        ("http://h/a-._~!$&'()*+,;=:@/b?c=/?%20d", "/a-._~!$&'()*+,;=:@/b?c=/?%20d"),
    ];
    for (uri, target) in cases {
        assert_eq!(
            wire(&head(Method::GET, uri), BodyLength::Empty),
            format!("GET {target} HTTP/1.1\r\nhost: h\r\n\r\n"),
            "{uri}"
        );
        let mut absolute = head(Method::GET, uri);
        absolute.target_form = TargetForm::Absolute;
        assert!(
            wire(&absolute, BodyLength::Empty).starts_with(&format!("GET http://h{target} HTTP/1.1\r\n"))
        );
    }
}

#[test]
fn request_target_is_checked_whatever_the_uri_security_j5() {
    // Origin-form starts with `/`; `*` only for OPTIONS (RFC 9112 §3.2.1, §3.2.4).
    let mut asterisk = RequestHead::new(Method::GET, Uri::from_static("*"));
    asterisk.headers.insert("host", HeaderValue::from_static("h"));
    assert_eq!(encode(&asterisk, BodyLength::Empty), Err(UsageError::InvalidTarget));
    // Authority-form needs a port it can name (RFC 9112 §3.2.3).
    let mut connect = head(Method::CONNECT, "example.com");
    connect.target_form = TargetForm::Authority;
    assert_eq!(encode(&connect, BodyLength::Empty), Err(UsageError::InvalidTarget));
    // Controls, SP, DEL, `<` and `>` cannot be put in a `Uri` at all; were one
    // to get there, the path would be percent-encoded and the rest refused.
    for bad in ["http://h/a b", "http://h/a\tb", "http://h/a\r\nb", "http://h/a\x7fb", "http://h/a<b>"] {
        assert!(bad.parse::<Uri>().is_err(), "{bad:?}");
    }
}

#[test]
fn methods_and_field_names_are_tokens_security_j3_j4() {
    // `http` cannot hold a method or a name that is not a token; both are
    // checked again before writing (unit tests in proto/request.rs).
    let mut h = head(Method::from_bytes(b"PURGE-X.1~").unwrap(), "http://h/");
    h.headers.insert("x-a_b.c!#$%&'*+^`|~", HeaderValue::from_static("v"));
    assert_eq!(
        wire(&h, BodyLength::Empty),
        "PURGE-X.1~ / HTTP/1.1\r\nhost: h\r\nx-a_b.c!#$%&'*+^`|~: v\r\n\r\n"
    );
    assert!(Method::from_bytes(b"GE T").is_err() && Method::from_bytes(b"GET\r\n").is_err());
}

#[test]
fn field_values_are_vchar_obs_text_sp_and_htab_rfc9110_5_5_security_j2() {
    // What Go's httpguts.ValidHeaderFieldValue accepts is written as it is. The
    // rest (controls but HTAB, DEL) `http` refuses to build even unchecked in a
    // debug build, so our own check is unit-tested in proto/request.rs.
    let mut h = head(Method::GET, "http://h/");
    h.headers.insert("x-a", HeaderValue::from_bytes(b"a\tb c \xff\x80~").unwrap());
    let mut dst = BytesMut::new();
    encode_request_head(&h, BodyLength::Empty, &mut dst).unwrap();
    assert_eq!(&dst[..], b"GET / HTTP/1.1\r\nhost: h\r\nx-a: a\tb c \xff\x80~\r\n\r\n");
    for bad in [&b"a\x0bb"[..], b"a\x7fb", b"a\x00b", b"a\rb", b"a\nb"] {
        assert!(HeaderValue::from_bytes(bad).is_err(), "{bad:?}");
    }
}

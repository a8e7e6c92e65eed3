//! Malformed responses and broken connections: each a typed error, the
//! connection closed, nothing guessed (RFC 9112 §4-5; docs/security.md A
//! and B; Go's and hyper's parser tests).

use super::OK_HELLO;
use crate::scenario::{Area, Fail, Outcome, Req, Scenario, Step};
use crate::scenarios;

fn malformed(source: &'static str, response: &'static [u8]) -> Scenario {
    Scenario::reply(Area::Errors, source, response, Outcome::Fails(Fail::Protocol))
}

scenarios! {
    four_digit_status => malformed("docs/security.md A3", b"HTTP/1.1 2000 OK\r\n\r\n");
    two_digit_status => malformed("docs/security.md A5", b"HTTP/1.1 20 OK\r\n\r\n");
    status_below_100 => malformed("docs/security.md A4 (hyper client_error_parse_status_out_of_range)", b"HTTP/1.1 099 X\r\n\r\n");
    // RFC 9110 §15 calls 600-999 invalid; hyper accepts them. Either passes.
    status_above_599 => Scenario::reply(Area::Errors, "RFC 9110 §15; docs/security.md A6", b"HTTP/1.1 600 Weird\r\ncontent-length: 0\r\n\r\n", Outcome::either(Outcome::Fails(Fail::Protocol), Outcome::Response(600, b"")));
    letter_in_status => malformed("docs/security.md A5", b"HTTP/1.1 2O0 OK\r\n\r\n");
    http2_status_line => malformed("docs/security.md A7", b"HTTP/2.0 200 OK\r\n\r\n");
    // RFC 9110 §2.5, §6.2: a higher HTTP/1.x minor version SHOULD be processed as 1.1.
    http12_status_line => Scenario::reply(Area::Errors, "RFC 9110 §6.2; docs/security.md A7", b"HTTP/1.2 200 OK\r\ncontent-length: 5\r\n\r\nhello", Outcome::Response(200, b"hello"));
    http110_status_line => malformed("RFC 9112 §2.3 (one minor digit); docs/security.md A7", b"HTTP/1.10 200 OK\r\ncontent-length: 0\r\n\r\n");
    http09_reply => malformed("docs/security.md A8", b"hello world\r\n\r\n");
    bare_cr_after_status => malformed("docs/security.md A9", b"HTTP/1.1 200 OK\rX-A: b\r\n\r\n");
    space_before_colon => malformed("RFC 9112 §5.1; docs/security.md B1", b"HTTP/1.1 200 OK\r\ncontent-length : 5\r\n\r\nhello");
    leading_whitespace_field => malformed("docs/security.md B2", b"HTTP/1.1 200 OK\r\n\tcontent-length: 5\r\n\r\nhello");
    // RFC 9112 §5.2: a user agent MUST replace each obs-fold with SP.
    obs_fold => Scenario::reply(Area::Errors, "RFC 9112 §5.2; docs/security.md B3", b"HTTP/1.1 200 OK\r\nx-a: a\r\n b\r\n\tc\r\ncontent-length: 5\r\n\r\nhello", Outcome::Response(200, b"hello"));
    fold_after_status_line => malformed("RFC 9112 §2.2 (whitespace before the first field); docs/security.md B2", b"HTTP/1.1 200 OK\r\n x-a: b\r\ncontent-length: 0\r\n\r\n");
    nul_in_value => malformed("RFC 9110 §5.5; docs/security.md B4", b"HTTP/1.1 200 OK\r\nx-a: a\x00b\r\ncontent-length: 0\r\n\r\n");
    bare_cr_in_value => malformed("docs/security.md B5", b"HTTP/1.1 200 OK\r\nx-a: a\rb\r\ncontent-length: 0\r\n\r\n");
    field_without_colon => malformed("docs/security.md B8", b"HTTP/1.1 200 OK\r\ncontent-length 5\r\n\r\nhello");
    empty_field_name => malformed("docs/security.md B9", b"HTTP/1.1 200 OK\r\n: x\r\ncontent-length: 0\r\n\r\n");
    space_in_field_name => malformed("docs/security.md B10", b"HTTP/1.1 200 OK\r\nx a: b\r\ncontent-length: 0\r\n\r\n");
    lone_colon_line => malformed("docs/security.md B15 (HTTP Garden)", b"HTTP/1.1 200 OK\r\nx-a: a\r\n:\r\ncontent-length: 0\r\n\r\n");
    // RFC 9112 §2.2: a recipient MAY accept a bare LF as a line terminator.
    bare_lf_head_is_tolerated => Scenario::reply(Area::Errors, "RFC 9112 §2.2 MAY; docs/security.md B6", b"HTTP/1.1 200 OK\ncontent-length: 5\n\nhello", Outcome::either(Outcome::Response(200, b"hello"), Outcome::Fails(Fail::Protocol)));
    obs_text_value_is_kept => Scenario::reply(Area::Errors, "docs/security.md B11", b"HTTP/1.1 200 OK\r\nx-a: \xff\xfe\r\ncontent-length: 5\r\n\r\nhello", Outcome::Response(200, b"hello"));
    eof_before_response => Scenario::new(Area::Errors, "Go TestTransportReturnsPeekError", vec![Step::Read, Step::Close], Req::get("/"), Outcome::Fails(Fail::Closed));
    eof_inside_head => Scenario::new(Area::Errors, "Go io.ErrUnexpectedEOF in ReadResponse", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\ncontent-le"), Step::Close], Req::get("/"), Outcome::Fails(Fail::Protocol));
    half_close_after_head => Scenario::new(Area::Errors, "docs/security.md F10 (hyper#4085)", vec![Step::ReadHead, Step::HalfClose, Step::Sleep(50)], Req::post("/", b"body"), Outcome::Fails(Fail::Closed));
    response_then_close_with_length => Scenario::new(Area::Errors, "RFC 9112 §9.6 (close after a complete response is fine)", vec![Step::Read, Step::Send(OK_HELLO), Step::Close], Req::get("/"), Outcome::Response(200, b"hello"));
    reset_before_response => Scenario::new(Area::Errors, "Go TestTransportReturnsPeekError (ECONNRESET)", vec![Step::Read, Step::Reset], Req::get("/"), Outcome::Fails(Fail::Closed));
    reset_inside_body => Scenario::new(Area::Errors, "docs/security.md G3 (reset at any offset)", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"), Step::Sleep(20), Step::Reset], Req::get("/"), Outcome::BodyFails(200, Fail::Closed));
    reset_inside_head => Scenario::new(Area::Errors, "docs/security.md G3", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\nx-a:"), Step::Sleep(20), Step::Reset], Req::get("/"), Outcome::Fails(Fail::Closed));
    garbage_instead_of_response => malformed("Go TestBadResponseAfterReadingBody", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n");
}

//! `Expect: 100-continue` (RFC 9110 §10.1.1) with Go 1.23's rule for a final
//! status that comes first (docs/go-transport.md EXPECT-3, #67555).

use http::Method;

use super::OK_HELLO;
use crate::scenario::{Area, Outcome, Req, Scenario, Step};
use crate::scenarios;

fn put() -> Req {
    Req::method(Method::PUT, "/")
        .header("expect", "100-continue")
        .body(crate::scenario::ReqBody::Bytes(b"payload"))
}

fn expect(source: &'static str, script: Vec<Step>, outcome: Outcome) -> Scenario {
    Scenario::new(Area::ExpectContinue, source, script, put(), outcome)
}

scenarios! {
    body_after_100 => expect("Go TestTransportExpect100ContinueSent", vec![Step::ReadHead, Step::Send(b"HTTP/1.1 100 Continue\r\n\r\n"), Step::ReadBody(7), Step::Send(OK_HELLO)], Outcome::Response(200, b"hello"));
    final_200_without_close_gets_the_body => expect("Go TestTransportExpect100Continue200ResponseNoConnClose", vec![Step::ReadHead, Step::Send(OK_HELLO)], Outcome::Response(200, b"hello"));
    final_500_without_close_gets_the_body => expect("Go TestTransportExpect100Continue500ResponseNoConnClose", vec![Step::ReadHead, Step::Send(b"HTTP/1.1 500 Oops\r\ncontent-length: 0\r\n\r\n")], Outcome::Response(500, b""));
    final_with_close_skips_the_body => expect("Go TestTransportExpect100Continue200ResponseWithConnClose; docs/security.md F8", vec![Step::ReadHead, Step::Send(b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok"), Step::ExpectEof], Outcome::Response(200, b"ok"))
        .never_received(b"payload");
    expectation_failed_with_close => expect("RFC 9110 §15.5.18; Go CVE-2024-24791", vec![Step::ReadHead, Step::Send(b"HTTP/1.1 417 Expectation Failed\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"), Step::ExpectEof], Outcome::Response(417, b""))
        .never_received(b"payload");
    unauthorized_without_close_then_reuse => expect("Go TestNoSniffExpectRequestBody", vec![Step::ReadHead, Step::Send(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n"), Step::ReadBody(7), Step::Read, Step::Send(OK_HELLO)], Outcome::Response(401, b""))
        .then(Req::get("/"), Outcome::Response(200, b"hello"))
        .connections(1);
    silence_sends_the_body_after_the_timeout => expect("Go TestTransportExpect100Continue500ResponseTimeout", vec![Step::ReadHead, Step::ReadBody(7), Step::Send(OK_HELLO)], Outcome::Response(200, b"hello"))
        .settings(|s| s.expect_continue_timeout = Some(std::time::Duration::from_millis(50)));
    expect_without_body_waits_for_nothing => Scenario::new(Area::ExpectContinue, "Go: 100-continue needs a body", vec![Step::Read, Step::Send(OK_HELLO)], Req::get("/").header("expect", "100-continue"), Outcome::Response(200, b"hello"));
    // RFC 9110 §10.1.1: "A client MUST NOT generate a 100-continue expectation
    // in a request that does not include content."
    empty_post_sends_no_expectation => Scenario::new(Area::ExpectContinue, "RFC 9110 §10.1.1", vec![Step::Expect(|r| r.header("expect").is_none() && r.header("content-length") == Some("0")), Step::Send(OK_HELLO)], Req::method(Method::POST, "/").header("expect", "100-continue"), Outcome::Response(200, b"hello"))
        .never_received(b"100-continue");
    empty_put_body_sends_no_expectation => Scenario::new(Area::ExpectContinue, "RFC 9110 §10.1.1", vec![Step::Expect(|r| r.header("expect").is_none() && r.header("content-length") == Some("0")), Step::Send(OK_HELLO)], Req::method(Method::PUT, "/").header("expect", "100-continue").body(crate::scenario::ReqBody::Bytes(b"")), Outcome::Response(200, b"hello"))
        .never_received(b"100-continue");
    continue_then_early_final_before_body => expect("RFC 9110 §15.2.1", vec![Step::ReadHead, Step::Send(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")], Outcome::Response(200, b"hello"));
}

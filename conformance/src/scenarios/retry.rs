//! Retries (docs/go-transport.md RETRY-1 to RETRY-4, Go TestRetryRequestsOnError): only
//! on a reused connection, before any response byte; nothing written, or a
//! replayable request. The stale-connection race is made deterministic: the
//! server answers once, then reads the next request and closes.

use http::Method;

use super::OK_HELLO;
use crate::scenario::{Area, Fail, Outcome, Req, ReqBody, Scenario, Step};
use crate::scenarios;

const HELLO: Outcome = Outcome::Response(200, b"hello");

/// First connection: one answer, then `then` for the next request;
/// later connections answer normally.
fn stale(source: &'static str, then: Vec<Step>, second: Req, outcome: Outcome) -> Scenario {
    let first = [vec![Step::Read, Step::Send(OK_HELLO)], then].concat();
    Scenario::new(Area::Retry, source, vec![], Req::get("/"), HELLO)
        .scripts(vec![first, vec![Step::Read, Step::Send(OK_HELLO), Step::Read, Step::Send(OK_HELLO)]])
        .then(second, outcome)
}

scenarios! {
    [engine_only] get_retried_after_eof => stale("Go TestRetryRequestsOnError (GET, EOF)", vec![Step::Read, Step::Close], Req::get("/"), HELLO).connections(2);
    [engine_only] get_retried_after_reset => stale("hyper#2627 class; docs/security.md G7", vec![Step::ReadHead, Step::Close], Req::get("/"), HELLO).connections(2);
    [engine_only] head_retried => stale("Go isReplayable: HEAD", vec![Step::Read, Step::Close], Req::method(Method::HEAD, "/"), Outcome::Response(200, b"")).connections(2);
    [engine_only] options_retried => stale("Go isReplayable: OPTIONS", vec![Step::Read, Step::Close], Req::method(Method::OPTIONS, "/"), HELLO).connections(2);
    [engine_only] post_written_not_retried => stale("Go TestRetryRequestsOnError (POST written)", vec![Step::Read, Step::Close], Req::post("/", b"data"), Outcome::Fails(Fail::Closed)).connections(1);
    [engine_only] put_written_not_retried => stale("Go: PUT not replayable by method", vec![Step::Read, Step::Close], Req::method(Method::PUT, "/").body(ReqBody::Bytes(b"data")), Outcome::Fails(Fail::Closed)).connections(1);
    [engine_only] post_with_idempotency_key_retried => stale("Go Idempotency-Key convention", vec![Step::Read, Step::Close], Req::post("/", b"data").header("idempotency-key", "k1"), HELLO).connections(2);
    [engine_only] post_with_x_idempotency_key_retried => stale("Go X-Idempotency-Key", vec![Step::Read, Step::Close], Req::post("/", b"data").header("x-idempotency-key", "k1"), HELLO).connections(2);
    [engine_only] chunked_replayable_body_retried => stale("replay buffer: a small streamed body is kept", vec![Step::Read, Step::Close], Req::method(Method::GET, "/").body(ReqBody::Chunks(vec![b"a", b"b"])), HELLO).connections(2);
    [engine_only] no_retry_after_response_bytes => stale("Go: retries happen only before any response byte", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\ncontent-le"), Step::Close], Req::get("/"), Outcome::Fails(Fail::Protocol)).connections(1);
    [engine_only] fresh_connection_is_never_retried => Scenario::new(Area::Retry, "Go: a fresh connection never retries", vec![Step::Read, Step::Close], Req::get("/"), Outcome::Fails(Fail::Closed)).connections(1);
}

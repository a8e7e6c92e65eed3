//! The pool under concurrency, over real sockets (docs/go-transport.md POOL-1
//! to POOL-8; Go's MaxConnsPerHost tests). Connection counts are asserted on
//! the server side.

use super::OK_HELLO;
use crate::scenario::{Area, Outcome, Req, Scenario, Step};
use crate::scenarios;

const HELLO: Outcome = Outcome::Response(200, b"hello");

/// A keep-alive server answering `hello` to every request on every
/// connection, slowly enough that concurrent requests overlap.
fn serving(source: &'static str) -> Scenario {
    let script =
        std::iter::repeat_n([Step::Read, Step::Sleep(2), Step::Send(OK_HELLO)], 64).flatten().collect();
    Scenario::new(Area::Pool, source, script, Req::get("/"), HELLO)
}

scenarios! {
    [engine_only] one_connection_serves_ten_concurrent => serving("Go TestTransportMaxConnsPerHost")
        .settings(|s| s.max_conns_per_host = Some(1))
        .concurrent(10, Req::get("/"), HELLO)
        .connections(1);
    [engine_only] limit_of_two_opens_two => serving("Go MaxConnsPerHost counts dialing+active+idle")
        .settings(|s| s.max_conns_per_host = Some(2))
        .concurrent(10, Req::get("/"), HELLO)
        .connections(2);
    [engine_only] limit_of_four_with_sixteen_requests => serving("docs/bench.md: a correct pool opens exactly C")
        .settings(|s| s.max_conns_per_host = Some(4))
        .concurrent(16, Req::get("/"), HELLO)
        .connections(4);
    [engine_only] idle_connection_reused_after_burst => serving("Go TestTransportMaxPerHostIdleConns")
        .settings(|s| s.max_conns_per_host = Some(3))
        .concurrent(6, Req::get("/"), HELLO)
        .then(Req::get("/"), HELLO)
        .connections(3);
    [engine_only] unlimited_concurrency_dials_per_request => serving("Go: no MaxConnsPerHost means no cap")
        .concurrent(4, Req::get("/"), HELLO);
    [engine_only] sequential_requests_under_a_limit_use_one_connection => serving("Go TestTransportKeepAlives with MaxConnsPerHost")
        .settings(|s| s.max_conns_per_host = Some(2))
        .then(Req::get("/"), HELLO)
        .then(Req::get("/"), HELLO)
        .connections(1);
    [engine_only] close_responses_free_slots => Scenario::new(Area::Pool, "Go decConnsPerHost: a closed connection hands its slot on", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 5\r\n\r\nhello")], Req::get("/"), HELLO)
        .settings(|s| s.max_conns_per_host = Some(1))
        .concurrent(5, Req::get("/"), HELLO)
        .connections(6);
    [engine_only] dead_connections_are_replaced_under_load => Scenario::new(Area::Pool, "Go TestStressSurpriseServerCloses", vec![Step::Read, Step::Send(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"), Step::Close], Req::get("/"), HELLO)
        .settings(|s| s.max_conns_per_host = Some(2))
        .concurrent(8, Req::get("/"), HELLO);
}

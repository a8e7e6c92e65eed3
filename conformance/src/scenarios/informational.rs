//! Informational responses (RFC 9110 §15.2): any number before the final one,
//! bounded by a byte budget (Go 1.24, #65035); 101 is final.

use super::OK_HELLO;
use crate::scenario::{Area, Fail, Outcome, Req, Scenario, Step};
use crate::scenarios;

fn reply(source: &'static str, response: &'static [u8], outcome: Outcome) -> Scenario {
    Scenario::reply(Area::Informational, source, response, outcome)
}

const HELLO: Outcome = Outcome::Response(200, b"hello");

scenarios! {
    early_hints_then_final => reply("RFC 8297; Go TestEarlyHintsRequest", b"HTTP/1.1 103 Early Hints\r\nlink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello", HELLO);
    several_informational_responses => reply("Go TestTransportIgnore1xxResponses", b"HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 123 Custom\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello", HELLO);
    unexpected_100_is_skipped => reply("RFC 9110 §15.2 (a client MUST parse unexpected 1xx)", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello", HELLO);
    informational_length_ignored => reply("docs/security.md F4", b"HTTP/1.1 100 Continue\r\ncontent-length: 5\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello", HELLO);
    informational_in_pieces => Scenario::new(Area::Informational, "docs/security.md F5 (hyper#3811)", vec![Step::Read, Step::Send(b"HTTP/1.1 100 Continue\r\n\r\n"), Step::Sleep(5), Step::Dribble(OK_HELLO)], Req::get("/"), HELLO);
    informational_flood_is_bounded => Scenario::new(Area::Informational, "docs/security.md F2; CPython CVE-2021-3737", vec![Step::Read, Step::SendOwned(b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n".repeat(2000))], Req::get("/"), Outcome::Fails(Fail::Protocol));
    endless_informational_head => Scenario::new(Area::Informational, "docs/security.md F3", vec![Step::Read, Step::SendOwned([b"HTTP/1.1 100 Continue\r\n".as_slice(), &b"x-a: b\r\n".repeat(10_000)].concat())], Req::get("/"), Outcome::Fails(Fail::Protocol));
    switching_protocols_without_upgrade_request => reply("docs/security.md F6", b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n", Outcome::Fails(Fail::Protocol));
    upgrade_header_on_200_is_plain => reply("docs/security.md F7 (RUSTSEC-2026-0033)", b"HTTP/1.1 200 OK\r\nupgrade: websocket\r\ncontent-length: 5\r\n\r\nhello", HELLO);
}

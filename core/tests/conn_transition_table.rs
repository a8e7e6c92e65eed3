//! The connection's transitions as one table of (state, input) -> (events,
//! state) rows; the diagram in `core/src/conn/state.rs` is drawn from it.

mod support;

use std::io::ErrorKind;

use roundtrip_core::conn::Direction;
use support::conn::{Script, ms};

#[derive(Clone, Copy, Debug)]
enum State {
    Idle,
    AwaitingHead,
    ReceivingBody,
    AwaitingContinue,
    Closed,
}

#[derive(Clone, Copy, Debug)]
enum Input {
    Eof,
    Bytes(&'static [u8]),
    Timeout,
    Cancel,
    ReadError,
    Close,
}

fn start(from: State) -> Script {
    let mut s = Script::with(|c| c.response_head_timeout = Some(ms(100)));
    match from {
        State::Idle => {
            s.complete_one();
        }
        // After one exchange, so the retry facts show a reused connection.
        State::AwaitingHead => {
            s.complete_one().awaiting_head();
        }
        State::ReceivingBody => {
            s.complete_one().receiving_body(4);
        }
        State::AwaitingContinue => {
            s.awaiting_continue(b"data");
        }
        State::Closed => {
            s.complete_one();
            s.conn.close();
            s.events();
        }
    }
    s
}

fn apply(s: &mut Script, input: Input) {
    match input {
        Input::Eof => {
            s.eof();
        }
        Input::Bytes(b) => {
            s.read(b);
        }
        Input::Timeout => {
            s.at(ms(10_000)).timeout();
        }
        Input::Cancel => {
            let id = s.id();
            s.conn.cancel(id)
        }
        Input::ReadError => s.conn.handle_io_error(s.now, Direction::Read, ErrorKind::ConnectionReset),
        Input::Close => s.conn.close(),
    }
}

fn state_of(s: &Script) -> String {
    if let Some(reason) = s.conn.close_reason() {
        format!("closed {reason:?}")
    } else if s.conn.is_reusable() {
        "idle".into()
    } else {
        "busy".into()
    }
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";

#[rustfmt::skip]
fn table() -> Vec<(State, Input, &'static [&'static str], &'static str)> {
    use State::*;
    use Input::*;
    vec![
        (Idle, Eof, &["Closed PeerClosedIdle"], "closed PeerClosedIdle"),
        (Idle, Bytes(b"HTTP/1.1 408 Request Timeout\r\n\r\n"), &["Closed UnsolicitedTimeout"], "closed UnsolicitedTimeout"),
        (Idle, Bytes(b"junk"), &["Closed UnsolicitedData"], "closed UnsolicitedData"),
        (Idle, Timeout, &[], "idle"),
        (Idle, ReadError, &["Closed IoError"], "closed IoError"),
        (Idle, Close, &["Closed LocalClose"], "closed LocalClose"),
        (AwaitingHead, Bytes(OK), &["Response 200 Empty", "Finished"], "idle"),
        (AwaitingHead, Bytes(b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"), &["Response 200 Empty", "Finished", "Closed ServerRequestedClose"], "closed ServerRequestedClose"),
        (AwaitingHead, Bytes(b"HTTP/1.1 200"), &[], "busy"),
        (AwaitingHead, Bytes(b"HTTP/1.1 103 Early Hints\r\n\r\n"), &["Informational 103"], "busy"),
        (AwaitingHead, Bytes(b"NOT HTTP\r\n\r\n"), &["Failed Protocol(Version) written=true received=true reused=true", "Closed ProtocolError"], "closed ProtocolError"),
        (AwaitingHead, Eof, &["Failed ConnectionClosed written=true received=false reused=true", "Closed PeerClosed"], "closed PeerClosed"),
        (AwaitingHead, Timeout, &["Failed Timeout(ResponseHead) written=true received=false reused=true", "Closed Timeout"], "closed Timeout"),
        (AwaitingHead, Cancel, &["Closed Canceled"], "closed Canceled"),
        (AwaitingHead, ReadError, &["Failed Io { direction: Read, kind: ConnectionReset } written=true received=false reused=true", "Closed IoError"], "closed IoError"),
        (AwaitingHead, Close, &["Closed LocalClose"], "closed LocalClose"),
        (ReceivingBody, Bytes(b"da"), &[], "busy"),
        (ReceivingBody, Eof, &[], "busy"),
        (ReceivingBody, Cancel, &["Closed Canceled"], "closed Canceled"),
        (ReceivingBody, Timeout, &[], "busy"),
        (AwaitingContinue, Bytes(b"HTTP/1.1 100 Continue\r\n\r\n"), &["BodyAllowed Continue"], "busy"),
        (AwaitingContinue, Bytes(OK), &["BodyAllowed FinalResponse", "Response 200 Empty"], "busy"),
        (AwaitingContinue, Timeout, &["BodyAllowed ExpectTimeout"], "busy"),
        (AwaitingContinue, Cancel, &["Closed Canceled"], "closed Canceled"),
        (Closed, Bytes(OK), &[], "closed LocalClose"),
        (Closed, Eof, &[], "closed LocalClose"),
        (Closed, Timeout, &[], "closed LocalClose"),
        (Closed, Close, &[], "closed LocalClose"),
    ]
}

#[test]
fn transition_table() {
    for (from, input, events, to) in table() {
        let mut s = start(from);
        apply(&mut s, input);
        assert_eq!(s.events(), events, "{from:?} + {input:?}: events");
        assert_eq!(state_of(&s), to, "{from:?} + {input:?}: state");
    }
}

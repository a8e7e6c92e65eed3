//! A whole exchange's response fed in arbitrary splits gives the same events,
//! body and wire bytes as fed at once.

mod support;

use proptest::prelude::*;
use support::conn::Script;

const RESPONSES: &[&[u8]] = &[
    b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nhello world",
    b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nx-t: 1\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nclose-delimited body",
    b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhelloXX",
];

fn run(response: &[u8], cuts: &[usize], max: usize) -> (Vec<String>, Vec<u8>, String) {
    let mut s = Script::default();
    s.awaiting_head();
    let mut events = Vec::new();
    let mut body = Vec::new();
    let mut outcome = String::new();
    let mut last = 0;
    for &cut in cuts.iter().chain([response.len()].iter()) {
        s.read(&response[last..cut]);
        last = cut;
        events.extend(s.events());
        if events.iter().any(|e| e.starts_with("Response")) && outcome != "End" && !outcome.starts_with("Err")
        {
            loop {
                let now = s.now;
                match s.conn.read_body(now, s.id(), max) {
                    Ok(
                        roundtrip_core::conn::BodyChunk::Data(d) | roundtrip_core::conn::BodyChunk::Last(d),
                    ) => body.extend_from_slice(&d),
                    Ok(roundtrip_core::conn::BodyChunk::Trailers(t)) => {
                        body.extend(format!("<{}>", t.len()).bytes())
                    }
                    Ok(roundtrip_core::conn::BodyChunk::End) => {
                        outcome = "End".into();
                        break;
                    }
                    Ok(roundtrip_core::conn::BodyChunk::Pending) => break,
                    Err(e) => {
                        outcome = format!("Err {:?}", e.kind);
                        break;
                    }
                }
            }
            events.extend(s.events());
        }
    }
    s.eof();
    events.extend(s.events());
    if outcome.is_empty() || outcome == "Pending" {
        let (rest, end) = s.body();
        body.extend(rest);
        outcome = end;
        events.extend(s.events());
    }
    // Readiness notices depend on timing by design; the rest must not.
    events.retain(|e| e != "BodyReadable");
    (events, body, outcome)
}

proptest! {
    #[test]
    fn response_split_anywhere_gives_the_same_events_and_body(
        which in 0..RESPONSES.len(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        max in 1usize..32,
    ) {
        let response = RESPONSES[which];
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(response.len() + 1)).collect();
        points.sort_unstable();
        let whole = run(response, &[], usize::MAX);
        prop_assert_eq!(run(response, &points, max), whole);
    }
}

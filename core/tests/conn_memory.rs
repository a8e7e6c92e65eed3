//! Bounded memory under a hostile server (docs/security.md, the limits; the
//! reliability figure "heap per connection under attack"): each exhaustion
//! input is streamed at ten times the limit it attacks, in 4 KiB reads, into
//! one `Connection`, and the connection's live heap never grows past the head
//! limit + 2 x 64 KiB (the engine's read size) + 16 KiB. Live bytes are
//! counted by a global allocator on this test's thread only; this file holds
//! one test so that nothing else allocates on it meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Instant;

use http::{Method, Uri};
use roundtrip_core::conn::{BodyChunk, Connection, ConnectionConfig, Event};
use roundtrip_core::proto::{BodyLength, RequestHead};

struct Counting;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn add(delta: isize) {
    // `try_with`: the allocator also runs while thread-locals are torn down.
    if ON.try_with(Cell::get).unwrap_or(false) {
        let _ = LIVE.try_with(|live| {
            live.set(live.get() + delta);
            let _ = PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
        });
    }
}

// SAFETY: forwards every call unchanged to the system allocator; it only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add(new_size as isize - layout.size() as isize);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The most live heap `f` held above what was live when it started.
fn peak_heap(f: impl FnOnce()) -> isize {
    LIVE.with(|l| l.set(0));
    PEAK.with(|p| p.set(0));
    ON.with(|on| on.set(true));
    f();
    ON.with(|on| on.set(false));
    PEAK.with(Cell::get)
}

const READ: usize = 4 * 1024;
const BOUND: isize = 64 * 1024 + 2 * 64 * 1024 + 16 * 1024;

/// Sends a GET, then streams `head` followed by `repeat` over and over
/// until `limit * 10` bytes went in or the connection stopped taking them,
/// reading out any body as a caller would. Returns the outcome and the peak.
fn attack(head: &[u8], repeat: &[u8], limit: usize) -> (String, isize) {
    let now = Instant::now();
    let mut conn = Connection::new(ConnectionConfig::default());
    let request = RequestHead::new(Method::GET, Uri::from_static("http://example.com/"));
    let id = conn.send_request(&request, BodyLength::Empty).unwrap();
    while let Some(mut tx) = conn.poll_transmit(now) {
        let n = bytes::Buf::remaining(&tx);
        bytes::Buf::advance(&mut tx, n);
    }
    // Both made before counting starts, so that nothing allocated outside
    // is freed inside (which would understate the peak).
    let mut first = head.to_vec();
    while first.len() < READ {
        first.extend_from_slice(repeat);
    }
    let tail = repeat.repeat(READ / repeat.len() + 1);
    let mut outcome = String::from("no error");
    let peak = peak_heap(|| {
        let (mut sent, mut at, mut stream) = (0, 0, &first[..]);
        while sent < limit * 10 && conn.wants_read() {
            let mut read = Vec::with_capacity(READ);
            while read.len() < READ {
                let take = (READ - read.len()).min(stream.len() - at);
                read.extend_from_slice(&stream[at..at + take]);
                at += take;
                if at == stream.len() {
                    // From here on, only the repeated part.
                    (stream, at) = (&tail[..], 0);
                }
            }
            conn.handle_read(now, &read);
            sent += read.len();
            while let Some(event) = conn.poll_event() {
                if let Event::Failed { error, .. } = event {
                    outcome = format!("{:?}", error.kind);
                }
            }
            // A caller reads the body as it comes.
            loop {
                match conn.read_body(now, id, usize::MAX) {
                    Ok(BodyChunk::Data(data) | BodyChunk::Last(data)) => drop(data),
                    Ok(_) => break,
                    Err(error) => {
                        outcome = format!("{:?}", error.kind);
                        break;
                    }
                }
            }
        }
        if let Some(reason) = conn.close_reason() {
            outcome = format!("{outcome}, closed: {reason:?}, after {sent} bytes");
        } else {
            outcome = format!("{outcome}, after {sent} bytes");
        }
    });
    (outcome, peak)
}

/// What, the stream's start, what repeats, the limit attacked, how it ends.
type Case = (&'static str, Vec<u8>, Vec<u8>, usize, &'static str);

#[test]
fn hostile_streams_hold_bounded_memory() {
    let ok = b"HTTP/1.1 200 OK\r\n";
    let chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
    let cases: [Case; 8] = [
        ("a huge field value", [&ok[..], b"x-a: "].concat(), b"a".repeat(64), 64 * 1024, "HeadTooLarge"),
        ("endless fields", ok.to_vec(), b"x-a: b\r\n".to_vec(), 64 * 1024, "TooManyHeaders"),
        (
            "an endless chunk extension",
            [&chunked[..], b"5;e="].concat(),
            b"x".repeat(64),
            1024,
            "ChunkExtensionTooLong",
        ),
        ("an endless chunk-size line", chunked.to_vec(), b"0".repeat(64), 1024, "ChunkSizeTooLong"),
        (
            "endless trailers",
            [&chunked[..], b"0\r\n"].concat(),
            b"x-t: v\r\n".to_vec(),
            16 * 1024,
            "TrailersTooLarge",
        ),
        (
            "a 1xx flood",
            Vec::new(),
            b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n".to_vec(),
            64 * 1024,
            "InformationalTooLarge",
        ),
        (
            "bytes past a body's declared end",
            b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n".to_vec(),
            b"b".repeat(64),
            64 * 1024,
            "closed: UnsolicitedData",
        ),
        (
            "a 10 GB body read as it comes",
            b"HTTP/1.1 200 OK\r\ncontent-length: 10000000000\r\n\r\n".to_vec(),
            b"b".repeat(64),
            1024 * 1024,
            "no error, after 10485760 bytes",
        ),
    ];
    let mut report = Vec::new();
    for (name, head, repeat, limit, ends) in cases {
        let (outcome, peak) = attack(&head, &repeat, limit);
        report.push(format!("{name}: {outcome}, peak {peak} bytes"));
        assert!(outcome.contains(ends), "{name}: {outcome}, expected {ends}");
        assert!(peak <= BOUND, "{name}: {peak} bytes live at the peak, over {BOUND}; {outcome}");
    }
    println!("{}", report.join("\n"));
}

//! The `tracing` spans and events of a request, in a test binary of their
//! own: `tracing` caches which callsites are enabled process-wide, and
//! tests running beside this one without a subscriber would race it.

use std::sync::{Arc, Mutex};

use roundtrip_conformance::server::Server;
use roundtrip_conformance::watchdog;
use roundtrip_core::client::ClientBuilder;
use roundtrip_tokio::Tokio;

/// What a `tracing` subscriber is shown: each span with its fields, and
/// each event with the spans it happened in.
#[derive(Default)]
struct Seen {
    spans: Vec<String>,
    events: Vec<String>,
    stack: Vec<u64>,
}

#[derive(Clone, Default)]
struct Subscriber(Arc<Mutex<Seen>>);

/// Writes a span's or an event's fields as `name=value`.
struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl tracing::Subscriber for Subscriber {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut line = span.metadata().name().to_owned();
        span.record(&mut Fields(&mut line));
        let mut seen = self.0.lock().unwrap();
        seen.spans.push(line);
        tracing::span::Id::from_u64(seen.spans.len() as u64)
    }
    fn record(&self, span: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut seen = self.0.lock().unwrap();
        let line = &mut seen.spans[span.into_u64() as usize - 1];
        values.record(&mut Fields(line));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut seen = self.0.lock().unwrap();
        let names: Vec<String> = seen
            .stack
            .iter()
            .map(|id| seen.spans[*id as usize - 1].split(' ').next().unwrap().to_owned())
            .collect();
        let mut line = format!("{} in [{}]", event.metadata().target(), names.join(","));
        event.record(&mut Fields(&mut line));
        seen.events.push(line);
    }
    fn enter(&self, span: &tracing::span::Id) {
        self.0.lock().unwrap().stack.push(span.into_u64());
    }
    fn exit(&self, span: &tracing::span::Id) {
        let mut seen = self.0.lock().unwrap();
        if let Some(at) = seen.stack.iter().rposition(|id| *id == span.into_u64()) {
            seen.stack.remove(at);
        }
    }
}

/// The request span carries the method, host and attempt, the connection
/// span its id and peer; the phase events are logged inside them, at debug
/// level, under `roundtrip::trace`. (One thread: a current-thread runtime,
/// so the subscriber set for this thread sees the dial task too.)
#[test]
fn tracing_sees_the_request_and_connection_spans() {
    let server = Server::ok(b"hello");
    let subscriber = Subscriber::default();
    let seen = subscriber.0.clone();
    tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        watchdog::test(|| {
            runtime.block_on(async {
                let client = ClientBuilder::with_runtime(Tokio).no_proxy().build();
                watchdog::watch(&client);
                for _ in 0..2 {
                    let response = client.get(server.url("/")).await.unwrap();
                    response.into_body().bytes(16).await.unwrap();
                }
            })
        });
    });
    let seen = seen.lock().unwrap();
    let requests: Vec<&String> = seen.spans.iter().filter(|s| s.starts_with("request ")).collect();
    assert_eq!(requests.len(), 2, "{:?}", seen.spans);
    for span in requests {
        assert_eq!(span.as_str(), "request method=GET host=\"127.0.0.1\" attempt=1");
    }
    let connections: Vec<&String> = seen.spans.iter().filter(|s| s.starts_with("connection ")).collect();
    assert_eq!(connections.len(), 1, "{:?}", seen.spans);
    assert!(connections[0].contains(&format!("peer=Some({})", server.addr())), "{}", connections[0]);
    let phases = |name: &str| seen.events.iter().filter(|e| e.contains(name)).cloned().collect::<Vec<_>>();
    let written = phases("HeadWritten");
    assert_eq!(written.len(), 2, "{:?}", seen.events);
    assert!(written.iter().all(|e| e.starts_with("roundtrip::trace in [request")), "{written:?}");
    let connect = phases("ConnectStart");
    assert!(connect.len() == 1 && connect[0].starts_with("roundtrip::trace in [dial"), "{connect:?}");
    let got = phases("GotConnection");
    assert!(got[0].contains("reused: false") && got[1].contains("reused: true"), "{got:?}");
    // The connection's own state changes are logged inside its span.
    let conn_events =
        seen.events.iter().filter(|e| e.contains("connection]") || e.contains(",connection")).count();
    assert!(conn_events > 0, "{:?}", seen.events);
}

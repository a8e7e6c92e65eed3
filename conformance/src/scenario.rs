//! A scenario is data: what the scripted server does on each connection, what
//! the client sends, and what it must see. The same scenario runs on every
//! target (Tokio, smol, and the bare Sans-IO core over a blocking socket).

use std::io;
use std::time::Duration;

use http::Method;

use crate::server::{ReceivedRequest, Server, ServerConn};

/// Which part of the client a scenario exercises; the tables are split by area.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Area {
    Framing,
    Keepalive,
    Pool,
    ExpectContinue,
    Informational,
    Retry,
    Cancel,
    Timeouts,
    Errors,
    Security,
}

impl Area {
    pub const ALL: [Area; 10] = [
        Area::Framing,
        Area::Keepalive,
        Area::Pool,
        Area::ExpectContinue,
        Area::Informational,
        Area::Retry,
        Area::Cancel,
        Area::Timeouts,
        Area::Errors,
        Area::Security,
    ];
}

/// One step of the server's script for a connection.
#[derive(Clone, Debug)]
pub enum Step {
    /// Read one whole request (head and body).
    Read,
    /// Read one request head only.
    ReadHead,
    /// Read this many body bytes.
    ReadBody(usize),
    /// Read one request and require `check` of it.
    Expect(fn(&ReceivedRequest) -> bool),
    /// Write these bytes.
    Send(&'static [u8]),
    /// Write these bytes.
    SendOwned(Vec<u8>),
    /// Write these bytes one at a time with a millisecond between them.
    Dribble(&'static [u8]),
    /// Pause.
    Sleep(u64),
    /// Stop sending (FIN), keep reading.
    HalfClose,
    /// Close the connection now.
    Close,
    /// Abort the connection: a TCP reset (SO_LINGER 0), not a FIN.
    Reset,
    /// Wait until the client closes; fails the scenario if it sends bytes.
    ExpectEof,
}

/// A request body.
#[derive(Clone, Debug)]
pub enum ReqBody {
    None,
    /// Known length: sent with `content-length`.
    Bytes(&'static [u8]),
    /// Unknown length: these chunks, sent chunked.
    Chunks(Vec<&'static [u8]>),
}

/// A request the client sends.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: Method,
    pub path: &'static str,
    pub headers: Vec<(&'static str, &'static str)>,
    pub body: ReqBody,
    /// Milliseconds the client waits before sending (lets a server's late
    /// bytes arrive first).
    pub delay: u64,
}

impl Req {
    pub fn get(path: &'static str) -> Req {
        Req { method: Method::GET, path, headers: Vec::new(), body: ReqBody::None, delay: 0 }
    }

    pub fn method(method: Method, path: &'static str) -> Req {
        Req { method, path, headers: Vec::new(), body: ReqBody::None, delay: 0 }
    }

    pub fn post(path: &'static str, body: &'static [u8]) -> Req {
        Req { method: Method::POST, path, headers: Vec::new(), body: ReqBody::Bytes(body), delay: 0 }
    }

    pub fn header(mut self, name: &'static str, value: &'static str) -> Req {
        self.headers.push((name, value));
        self
    }

    pub fn after(mut self, ms: u64) -> Req {
        self.delay = ms;
        self
    }

    pub fn body(mut self, body: ReqBody) -> Req {
        self.body = body;
        self
    }
}

/// A class of failure, as every target can tell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fail {
    /// The server broke HTTP/1.1.
    Protocol,
    /// The connection failed or closed before the response was complete.
    Closed,
    /// A timeout fired.
    Timeout,
    /// The request itself was refused before sending.
    Request,
}

/// What the client must see for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A response with this status and exactly this body.
    Response(u16, &'static [u8]),
    /// A response head with this status, then a body that fails.
    BodyFails(u16, Fail),
    /// No response: the request fails.
    Fails(Fail),
    /// A response with this status whose body the client drops unread
    /// (cancellation mid-body).
    Dropped(u16),
    /// Either is right; the RFC leaves the choice (the scenario says why).
    Either(Box<Outcome>, Box<Outcome>),
}

impl Outcome {
    pub fn either(a: Outcome, b: Outcome) -> Outcome {
        Outcome::Either(Box::new(a), Box::new(b))
    }
}

/// Client settings a scenario needs; unset means the client's default.
#[derive(Clone, Copy, Debug, Default)]
pub struct Settings {
    pub response_head_timeout: Option<Duration>,
    pub body_read_idle_timeout: Option<Duration>,
    pub expect_continue_timeout: Option<Duration>,
    pub max_conns_per_host: Option<usize>,
    pub max_response_head: Option<(usize, usize)>,
    pub drain_on_cancel: Option<u64>,
    pub disable_keep_alives: bool,
    pub idle_timeout: Option<Duration>,
}

/// One scenario of the table.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The test name.
    pub name: &'static str,
    /// Where the rule comes from: an RFC section, a Go or hyper test, an advisory.
    pub source: &'static str,
    pub area: Area,
    pub settings: Settings,
    /// The script of each accepted connection, in accept order; later
    /// connections repeat the last script.
    pub server: Vec<Vec<Step>>,
    /// Requests sent one after the other, each with its expected outcome.
    pub requests: Vec<(Req, Outcome)>,
    /// Requests sent at once (after `requests`), all expecting this outcome.
    pub concurrent: Option<(usize, Req, Outcome)>,
    /// Connections the server must have accepted in the end.
    pub connections: Option<usize>,
    /// Bytes the server must never receive.
    pub never_received: Option<&'static [u8]>,
    /// Needs the engine (pooling, retries, concurrency): not run on `core`.
    /// Set by the `[engine_only]` tag of its entry in [`scenarios!`](macro@crate::scenarios).
    pub engine_only: bool,
}

impl Scenario {
    /// A scenario with a single connection script and a single request.
    pub fn new(
        area: Area,
        source: &'static str,
        script: Vec<Step>,
        request: Req,
        outcome: Outcome,
    ) -> Scenario {
        Scenario {
            name: "",
            source,
            area,
            settings: Settings::default(),
            server: vec![script],
            requests: vec![(request, outcome)],
            concurrent: None,
            connections: None,
            never_received: None,
            engine_only: false,
        }
    }

    /// The common case: the server reads one request and sends `response`.
    pub fn reply(area: Area, source: &'static str, response: &'static [u8], outcome: Outcome) -> Scenario {
        Scenario::new(area, source, vec![Step::Read, Step::Send(response)], Req::get("/"), outcome)
    }

    pub fn then(mut self, request: Req, outcome: Outcome) -> Scenario {
        self.requests.push((request, outcome));
        self
    }

    pub fn scripts(mut self, scripts: Vec<Vec<Step>>) -> Scenario {
        self.server = scripts;
        self
    }

    pub fn request(mut self, request: Req) -> Scenario {
        self.requests[0].0 = request;
        self
    }

    pub fn connections(mut self, n: usize) -> Scenario {
        self.connections = Some(n);
        self
    }

    pub fn never_received(mut self, bytes: &'static [u8]) -> Scenario {
        self.never_received = Some(bytes);
        self
    }

    pub fn settings(mut self, change: impl FnOnce(&mut Settings)) -> Scenario {
        change(&mut self.settings);
        self
    }

    pub fn concurrent(mut self, n: usize, request: Req, outcome: Outcome) -> Scenario {
        self.concurrent = Some((n, request, outcome));
        self
    }

    /// Starts the scripted server for this scenario.
    pub fn start_server(&self) -> Server {
        Server::start(self.script_player())
    }

    /// [`start_server`](Self::start_server) over TLS with `pki`'s certificate:
    /// the same script, each step on the plaintext side.
    pub fn start_tls_server(&self, pki: &crate::tls::Pki) -> Server {
        Server::start_tls(pki.server_config(&[]), self.script_player())
    }

    /// The handler that plays connection `i` the `i`-th script.
    fn script_player(&self) -> impl Fn(&mut ServerConn) -> io::Result<()> + Send + Sync + 'static {
        let scripts = self.server.clone();
        move |conn| {
            let script = &scripts[conn.index.min(scripts.len() - 1)];
            run_script(conn, script)
        }
    }

    /// Checks the server side after the requests ran; panics with the
    /// scenario's name when something is off.
    pub fn check_server(&self, server: &Server) {
        if let Some(n) = self.connections {
            assert_eq!(server.accepted(), n, "{}: connections accepted", self.name);
        }
        if let Some(bytes) = self.never_received {
            let received = server.received();
            assert!(
                !received.windows(bytes.len()).any(|w| w == bytes),
                "{}: the server received {bytes:?}",
                self.name
            );
        }
    }
}

fn run_script(conn: &mut ServerConn, script: &[Step]) -> io::Result<()> {
    for step in script {
        match step {
            Step::Read => {
                if conn.read_request()?.is_none() {
                    return Ok(());
                }
            }
            Step::ReadHead => {
                if conn.read_head()?.is_none() {
                    return Ok(());
                }
            }
            Step::ReadBody(n) => {
                conn.read_exact_body(*n)?;
            }
            Step::Expect(check) => match conn.read_request()? {
                Some(request) if check(&request) => {}
                Some(request) => {
                    // Answer something no scenario expects, so the mismatch shows.
                    conn.write(b"HTTP/1.1 599 Request Mismatch\r\ncontent-length: 0\r\n\r\n")?;
                    return Err(io::Error::other(format!("unexpected request {request:?}")));
                }
                None => return Ok(()),
            },
            Step::Send(bytes) => conn.write(bytes)?,
            Step::SendOwned(bytes) => conn.write(bytes)?,
            Step::Dribble(bytes) => conn.write_slowly(bytes, 1, Duration::from_millis(1))?,
            Step::Sleep(ms) => std::thread::sleep(Duration::from_millis(*ms)),
            Step::HalfClose => conn.shutdown_write()?,
            Step::Close => return Ok(()),
            Step::Reset => return conn.reset(),
            Step::ExpectEof => {
                if !conn.expect_eof()? {
                    return Err(io::Error::other("the client sent bytes where it should have closed"));
                }
            }
        }
    }
    // After the script: hold the connection until the client closes it,
    // discarding what it sends (closing with unread bytes would reset the
    // connection under a response the client is still reading).
    conn.discard_until_eof()
}

/// Declares the scenarios of one area: a function per scenario, `ALL`, and in
/// test builds one `#[test]` per scenario per target, each under the
/// [`watchdog`](crate::watchdog). An entry tagged `[engine_only]` needs the
/// engine (pooling, retries, concurrency) and gets no `core` test.
#[macro_export]
macro_rules! scenarios {
    ($($([$tag:ident])? $name:ident => $body:expr;)*) => {
        $(
            pub fn $name() -> $crate::scenario::Scenario {
                let mut scenario: $crate::scenario::Scenario = $body;
                scenario.name = stringify!($name);
                $(scenario.engine_only = $crate::scenario_tag!($tag);)?
                scenario
            }
        )*

        /// Every scenario of this area.
        pub const ALL: &[fn() -> $crate::scenario::Scenario] = &[$($name as fn() -> $crate::scenario::Scenario),*];

        #[cfg(test)]
        mod tests {
            $(
                mod $name {
                    $crate::scenario_test!(tokio_current_thread, $name);
                    $crate::scenario_test!(tokio_multi_thread, $name);
                    $crate::scenario_test!(smol, $name);
                    $crate::scenario_test!(tokio_tls, $name);
                    $crate::scenario_test!($($tag)? core, $name);
                }
            )*
        }
    };
}

/// The one tag a scenario entry may carry.
#[doc(hidden)]
#[macro_export]
macro_rules! scenario_tag {
    (engine_only) => {
        true
    };
}

/// One scenario's test on one target; none on `core` for an engine-only one.
#[doc(hidden)]
#[macro_export]
macro_rules! scenario_test {
    (engine_only core, $name:ident) => {};
    ($target:ident, $name:ident) => {
        #[test]
        fn $target() {
            let name = concat!(stringify!($name), "::", stringify!($target));
            $crate::watchdog::run(name, || $crate::targets::$target(&super::super::$name()));
        }
    };
}

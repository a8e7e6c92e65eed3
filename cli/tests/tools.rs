//! The `load` and `fetch` tools run as a user would: as processes, checking
//! their output and exit codes. Cargo builds the binaries for these tests.

use std::process::{Command, Output};

use roundtrip_conformance::server::Server;

fn tool(name: &str) -> Command {
    // Cargo builds this package's binaries for its integration tests.
    Command::new(match name {
        "fetch" => env!("CARGO_BIN_EXE_fetch"),
        "load" => env!("CARGO_BIN_EXE_load"),
        other => panic!("no tool {other}"),
    })
}

fn run(command: &mut Command) -> (i32, String, String) {
    let Output { status, stdout, stderr } = command.output().expect("the example is built by cargo test");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

#[test]
fn load_without_a_url_loads_its_embedded_server() {
    let (code, stdout, stderr) =
        run(tool("load").args(["--requests", "300", "--connections", "4", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("embedded loopback server"), "{stderr}");
    let json = stdout.trim();
    for key in [
        "\"client\":\"roundtrip\"",
        "\"requests\":300",
        "\"errors\":0",
        "\"bytes\":30000",
        "\"elapsed_s\":",
        "\"connections\":4",
    ] {
        assert!(json.contains(key), "{key} missing in {json}");
    }
}

#[test]
fn load_prints_a_readable_summary() {
    let server = Server::ok(b"0123456789");
    let url = server.url("/x").to_string();
    let (code, stdout, stderr) = run(tool("load").args([url.as_str(), "-n", "100", "-c", "2"]));
    assert_eq!(code, 0, "{stderr}");
    for line in [
        "Requests:      100 (0 errors)",
        "Requests/sec:",
        "Latency (ms):",
        "Status codes:  200: 100",
        "Errors:        none",
        "Connections:   2 opened",
        "Phases (ms):   connection ",
        "Dials (ms):    2 by requests, connect ",
        "Pool waits:    2 (p50 <= ",
    ] {
        assert!(stdout.contains(line), "{line:?} missing in\n{stdout}");
    }
    assert_eq!(server.accepted(), 2);
}

/// `load` over https: `--cacert`, and a handshake per connection, counted.
#[test]
fn load_over_https_counts_handshakes() {
    let pki = roundtrip_conformance::tls::Pki::new(&["localhost"]);
    let server = Server::start_tls(pki.server_config(&[]), |conn| {
        while conn.read_request()?.is_some() {
            conn.respond(b"0123456789")?;
        }
        Ok(())
    });
    let dir = std::env::temp_dir().join(format!("roundtrip-load-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, pki.ca_pem()).unwrap();
    let url = server.url_at("localhost", "/x").to_string();
    let args = [url.as_str(), "-n", "6", "-c", "2", "--close", "--json", "--cacert", ca.to_str().unwrap()];
    let (code, stdout, stderr) = run(tool("load").args(args));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\"requests\":6,\"errors\":0"), "{stdout}");
    assert!(stdout.contains("\"handshakes\":6"), "{stdout}");
    assert_eq!(server.accepted(), 6);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn load_rejects_bad_input_with_one_line() {
    let (code, _, stderr) = run(tool("load").args(["ftp://x", "-n", "1"]));
    assert_eq!(code, 2);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn fetch_writes_head_and_body_and_exits_zero() {
    let server = Server::ok(b"hello");
    let (code, stdout, stderr) =
        run(tool("fetch").args([server.url("/greeting").to_string().as_str(), "-i", "-v"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("HTTP/1.1 200 OK\r\n") && stdout.ends_with("\r\n\r\nhello"), "{stdout}");
    for phase in [
        "> GET /greeting HTTP/1.1",
        "connected",
        "request head written",
        "first response byte",
        "< HTTP/1.1 200 OK",
        "done",
    ] {
        assert!(stderr.contains(phase), "{phase:?} missing in\n{stderr}");
    }
}

#[test]
fn fetch_exit_codes_tell_failures_apart() {
    let not_found = Server::start(|conn| {
        conn.read_request()?;
        conn.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 4\r\n\r\nnope")
    });
    let (code, stdout, _) = run(tool("fetch").arg(not_found.url("/").to_string()));
    assert_eq!((code, stdout.as_str()), (22, "nope"), "HTTP errors exit 22 and still write the body");

    let (code, _, stderr) = run(tool("fetch").arg("not a url"));
    assert_eq!(code, 3);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (code, _, stderr) = run(tool("fetch").arg(format!("http://{refused}/")));
    assert_eq!(code, 7, "{stderr}");

    let garbage = Server::start(|conn| {
        conn.read_request()?;
        conn.write(b"HTTP/9.9 200 OK\r\n\r\n")
    });
    let (code, _, stderr) = run(tool("fetch").arg(garbage.url("/").to_string()));
    assert_eq!(code, 8, "{stderr}");

    let silent = Server::start(|conn| {
        conn.read_request()?;
        conn.expect_eof()?;
        Ok(())
    });
    let (code, _, stderr) =
        run(tool("fetch").args([silent.url("/").to_string().as_str(), "--max-time", "0.2"]));
    assert_eq!(code, 28, "{stderr}");

    // The workspace build has the rustls feature on: https works, and a
    // certificate the system does not trust exits 60, as curl does.
    let pki = roundtrip_conformance::tls::Pki::new(&["localhost"]);
    let private = Server::start_tls(pki.server_config(&[]), |conn| {
        let _ = conn.read_head();
        Ok(())
    });
    let (code, _, stderr) = run(tool("fetch").arg(private.url_at("localhost", "/").to_string()));
    assert_eq!(code, 60, "{stderr}");
    assert!(stderr.contains("certificate"), "{stderr}");
}

/// The walk-through: `fetch -v --cacert` to a TLS origin through
/// the proxy in `HTTPS_PROXY`; `-k` instead of the CA; a refused tunnel.
#[test]
fn fetch_reaches_https_through_the_environment_proxy() {
    let pki = roundtrip_conformance::tls::Pki::new(&["origin.test"]);
    let origin = Server::start_tls(pki.server_config(&[b"http/1.1"]), |conn| {
        // The run without the CA refuses the handshake: nothing to answer.
        let Ok(Some(_)) = conn.read_request() else { return Ok(()) };
        conn.respond(b"hello")
    });
    let to = origin.addr();
    let proxy = Server::start(move |conn| {
        let request = conn.read_head()?.expect("a CONNECT");
        assert_eq!(request.target, format!("origin.test:{}", to.port()));
        conn.write(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
        conn.relay(to)
    });
    let dir = std::env::temp_dir().join(format!("roundtrip-tools-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, pki.ca_pem()).unwrap();
    let url = origin.url_at("origin.test", "/").to_string();
    let fetch = |args: &[&str]| {
        let mut command = tool("fetch");
        command.env("HTTPS_PROXY", format!("http://{}", proxy.addr())).env_remove("https_proxy");
        command.env_remove("NO_PROXY").env_remove("no_proxy").args(args);
        run(&mut command)
    };

    let (code, stdout, stderr) = fetch(&[&url, "-v", "--cacert", ca.to_str().unwrap()]);
    assert_eq!((code, stdout.as_str()), (0, "hello"), "{stderr}");
    for line in [
        format!("* via proxy http://{}", proxy.addr()),
        "* TLS: TLSv1_3".into(),
        "* ALPN: server accepted http/1.1".into(),
        "* certificate subject:".into(),
    ] {
        assert!(stderr.contains(&line), "{line:?} missing from:\n{stderr}");
    }

    let (code, stdout, stderr) = fetch(&[&url, "-k"]);
    assert_eq!((code, stdout.as_str()), (0, "hello"), "{stderr}");
    let (code, _, stderr) = fetch(&[&url]);
    assert_eq!(code, 60, "the system does not trust the test CA: {stderr}");

    let refusing = Server::start(|conn| {
        conn.read_head()?;
        conn.write(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
    });
    let (code, _, stderr) = run(tool("fetch").args([&url, "-x", &format!("http://{}", refusing.addr())]));
    assert_eq!(code, 97, "{stderr}");
    assert!(stderr.contains("403"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The tools against a real TLS server: nginx with `ssl` on loopback.
#[test]
fn fetch_and_load_against_nginx_over_tls() {
    let pki = roundtrip_conformance::tls::Pki::new(&["localhost"]);
    let nginx = roundtrip_conformance::daemon::Daemon::nginx_tls(&pki);
    let dir = std::env::temp_dir().join(format!("roundtrip-nginx-tools-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, pki.ca_pem()).unwrap();
    let ca = ca.to_str().unwrap();
    let url = format!("https://{}/", nginx.addr().replace("127.0.0.1", "localhost"));

    let (code, stdout, stderr) = run(tool("fetch").args([&url, "-v", "--cacert", ca]));
    assert_eq!((code, stdout.as_str()), (0, "hello\n"), "{stderr}");
    for line in ["* TLS: TLSv1_3", "* ALPN: server accepted http/1.1", "< Server: nginx"] {
        assert!(stderr.contains(line), "{line:?} missing from:\n{stderr}");
    }
    let (code, stdout, stderr) =
        run(tool("load").args([&url, "-n", "200", "-c", "2", "--json", "--cacert", ca]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("\"requests\":200,\"errors\":0"), "{stdout}");
    assert!(stdout.contains("\"handshakes\":2"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fetch_sends_a_body_from_a_file() {
    let server = Server::start(|conn| {
        let request = conn.read_request()?.unwrap();
        assert_eq!(request.header("content-length"), Some("11"));
        conn.respond(&request.body)
    });
    let path = std::env::temp_dir().join(format!("roundtrip-fetch-{}.txt", std::process::id()));
    std::fs::write(&path, "from a file").unwrap();
    let data = format!("@{}", path.display());
    let (code, stdout, stderr) =
        run(tool("fetch").args([server.url("/").to_string().as_str(), "--data-binary", data.as_str()]));
    std::fs::remove_file(&path).unwrap();
    assert_eq!((code, stdout.as_str()), (0, "from a file"), "{stderr}");
}

/// Runs `command` to its end within a bound, so a tool that hangs fails the
/// test instead of hanging it.
fn run_bounded(command: &mut Command) -> (i32, String, String) {
    let child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the tool starts");
    wait_bounded(child)
}

/// Waits for `child` at most 60 s, then kills it and fails.
fn wait_bounded(mut child: std::process::Child) -> (i32, String, String) {
    for _ in 0..600 {
        if child.try_wait().expect("the tool's status").is_some() {
            let Output { status, stdout, stderr } = child.wait_with_output().expect("its output");
            return (
                status.code().unwrap_or(-1),
                String::from_utf8_lossy(&stdout).into_owned(),
                String::from_utf8_lossy(&stderr).into_owned(),
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("the tool did not end within 60 s");
}

/// `load -z` is a bound: requests in flight at the deadline (here, to a
/// server that never answers) are cancelled there and counted as such, and
/// the summary is printed.
#[test]
fn load_duration_is_a_bound() {
    let server = Server::start(|conn| {
        conn.read_request()?;
        conn.expect_eof()?;
        Ok(())
    });
    let url = server.url("/").to_string();
    let (code, stdout, stderr) = run_bounded(tool("load").args([url.as_str(), "-z", "1s", "-c", "2"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Requests:      0 (0 errors)"), "{stdout}");
    assert!(stdout.contains("Cancelled:     2 in flight at the end of --duration"), "{stdout}");
}

/// `--connect-timeout` exits 28 as curl does; the TLS handshake counts
/// toward it (a server that accepts and never answers the ClientHello).
#[test]
fn fetch_connect_timeout_exits_28() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://127.0.0.1:{}/", silent.local_addr().unwrap().port());
    let (code, _, stderr) = run_bounded(tool("fetch").args([url.as_str(), "--connect-timeout", "0.2"]));
    assert_eq!(code, 28, "{stderr}");
    assert!(stderr.contains("connect timed out"), "{stderr}");
}

/// `fetch -v` prints the heads as they crossed the wire (from the client's
/// trace), not rebuilt from parsed values: the server's own version, reason
/// phrase and field spelling, and the request's framing field as sent; `-i`
/// writes the received head byte for byte.
#[test]
fn fetch_verbose_shows_the_heads_as_written_and_received() {
    const RESPONSE: &[u8] = b"HTTP/1.0 200 Fine Thanks\r\nX-Odd-Case: yes\r\nContent-Length: 2\r\n\r\nok";
    let server = Server::start(|conn| {
        conn.read_request()?;
        conn.write(RESPONSE)
    });
    let url = server.url("/echo").to_string();
    let (code, stdout, stderr) = run(tool("fetch").args([url.as_str(), "-v", "-i", "-d", "hello"]));
    assert_eq!(code, 0, "{stderr}");
    for line in [
        "> POST /echo HTTP/1.1",
        "> content-length: 5",
        "< HTTP/1.0 200 Fine Thanks",
        "< X-Odd-Case: yes",
        "< Content-Length: 2",
    ] {
        assert!(stderr.lines().any(|l| l == line), "{line:?} missing in\n{stderr}");
    }
    assert_eq!(stdout.as_bytes(), RESPONSE, "-i writes the head as received");
}

/// Ctrl-C ends a run with its summary: the requests in flight (to a server
/// that never answers) are cancelled and counted, and the exit code is 130.
#[test]
fn load_ctrl_c_prints_the_summary_so_far() {
    let server = Server::start(|conn| {
        conn.read_request()?;
        conn.expect_eof()?;
        Ok(())
    });
    let url = server.url("/").to_string();
    let child = tool("load")
        .args([url.as_str(), "-z", "60s", "-c", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("load starts");
    // The signal watcher is set up before the workers dial: once the server
    // has a connection, Ctrl-C is caught.
    for _ in 0..600 {
        if server.accepted() > 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(server.accepted() > 0, "load never connected");
    let sent = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(sent.success());
    let (code, stdout, stderr) = wait_bounded(child);
    assert_eq!(code, 130, "{stderr}");
    assert!(stdout.contains("Interrupted:   by Ctrl-C"), "{stdout}");
    assert!(stdout.contains("Cancelled:     2 in flight at Ctrl-C"), "{stdout}");
}

/// Each error kind in the summary comes with the first such error's message
/// and causes, not just its kind.
#[test]
fn load_errors_come_with_their_causes() {
    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let url = format!("http://{refused}/");
    let (_, stdout, stderr) = run_bounded(tool("load").args([url.as_str(), "-n", "3", "-c", "1"]));
    let line =
        stdout.lines().find(|l| l.starts_with("Errors:")).unwrap_or_else(|| panic!("{stdout}{stderr}"));
    assert!(line.contains("connect: 3 (first: "), "{line}");
    assert!(line.to_lowercase().contains("refused"), "the cause is named: {line}");
}

/// As curl: a redirect is the response unless `-L` follows it; `-v` shows
/// each hop; `--max-redirs` bounds them and exits 47 past it.
#[test]
fn fetch_follows_redirects_only_with_dash_l() {
    let server = Server::start(|conn| {
        while let Some(request) = conn.read_request()? {
            let response = match request.target.as_str() {
                "/old" => "HTTP/1.1 301 Moved Permanently\r\nlocation: /new\r\ncontent-length: 0\r\n\r\n",
                "/loop" => "HTTP/1.1 302 Found\r\nlocation: /loop2\r\ncontent-length: 0\r\n\r\n",
                "/loop2" => "HTTP/1.1 302 Found\r\nlocation: /loop3\r\ncontent-length: 0\r\n\r\n",
                "/loop3" => "HTTP/1.1 302 Found\r\nlocation: /loop\r\ncontent-length: 0\r\n\r\n",
                _ => "HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nhere",
            };
            conn.write(response.as_bytes())?;
        }
        Ok(())
    });
    let old = server.url("/old").to_string();
    let (code, stdout, stderr) = run(tool("fetch").args([old.as_str(), "-i"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("HTTP/1.1 301 Moved Permanently\r\n"), "no -L, no follow: {stdout}");

    let (code, stdout, stderr) = run(tool("fetch").args([old.as_str(), "-L", "-v"]));
    assert_eq!((code, stdout.as_str()), (0, "here"), "{stderr}");
    assert!(stderr.contains("301 redirect to http://127.0.0.1:"), "{stderr}");
    assert!(stderr.contains("> GET /new HTTP/1.1"), "{stderr}");

    // curl's -w variables, the timings among them (their values are not
    // compared: a timing is never asserted).
    let format =
        "%{http_code} %{num_redirects} %{url_effective} %{size_download} %{remote_ip} %{time_total}\\n";
    let (code, stdout, stderr) = run(tool("fetch").args([old.as_str(), "-L", "-w", format]));
    assert_eq!(code, 0, "{stderr}");
    let fields: Vec<&str> = stdout.strip_prefix("here").unwrap_or(&stdout).split_whitespace().collect();
    assert_eq!(
        fields[..5],
        ["200", "1", server.url("/new").to_string().as_str(), "4", "127.0.0.1"],
        "{stdout}"
    );
    assert!(fields[5].parse::<f64>().is_ok_and(|t| t > 0.0), "{stdout}");
    assert!(stdout.ends_with('\n'), "\\n is a newline: {stdout:?}");
    let (_, stdout, _) =
        run(tool("fetch").args([old.as_str(), "-L", "-o", "/dev/null", "-w", "x=%{nope} %{"]));
    assert_eq!(stdout, "x=%{nope} %{", "unknown and unclosed variables are text");

    let looping = server.url("/loop").to_string();
    let (code, _, stderr) = run(tool("fetch").args([looping.as_str(), "-L", "--max-redirs", "2"]));
    assert_eq!(code, 47, "{stderr}");
    assert!(stderr.contains("stopped after 2 redirects"), "{stderr}");
}

/// As curl: `--compressed` offers gzip and deflate and writes the decoded
/// body; without it nothing is offered and the bytes are written as sent.
#[test]
fn fetch_compressed_decodes_what_it_asked_for() {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(b"hello, compressed world").unwrap();
    let compressed = encoder.finish().unwrap();
    let body = compressed.clone();
    let server = Server::start(move |conn| {
        while let Some(request) = conn.read_request()? {
            let offered = request.header("accept-encoding").is_some_and(|v| v.contains("gzip"));
            let head = if offered {
                format!("HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: {}\r\n\r\n", body.len())
            } else {
                format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len())
            };
            conn.write(&[head.as_bytes(), &body].concat())?;
        }
        Ok(())
    });
    let url = server.url("/").to_string();
    let (code, stdout, stderr) = run(tool("fetch").args([url.as_str(), "--compressed", "-v"]));
    assert_eq!((code, stdout.as_str()), (0, "hello, compressed world"), "{stderr}");
    assert!(stderr.contains("> accept-encoding: gzip, deflate"), "{stderr}");
    let output = tool("fetch").arg(url.as_str()).output().unwrap();
    assert_eq!(output.stdout, compressed, "without --compressed the bytes are as sent");
}

//! Real servers from Debian on loopback, for the proxy and tool tests: squid
//! (HTTP forwarding and `CONNECT`), dante (SOCKS5) and nginx (TLS). Each is started per test on
//! a free port with a configuration of our own, in a directory of its own,
//! and killed when dropped. `.ci/run` installs them when they are missing.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How long a daemon may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Starts on a new port after a daemon exits before it listens (its port taken).
const START_ATTEMPTS: u32 = 5;

/// A running daemon.
#[derive(Debug)]
pub struct Daemon {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Daemon {
    /// squid with no cache, every request allowed, `CONNECT` to any port,
    /// and `names` resolving to 127.0.0.1 through its own hosts file (no DNS
    /// is asked).
    pub fn squid(names: &[&str]) -> Daemon {
        Self::start("squid", "squid", "cache.log", |dir, port| {
            let hosts = names.iter().map(|name| format!("127.0.0.1 {name}\n")).collect::<String>();
            fs::write(dir.join("hosts"), hosts).expect("squid's hosts file");
            let d = dir.display();
            let config = format!(
                "http_port 127.0.0.1:{port}\n\
                 http_access allow all\n\
                 cache deny all\n\
                 pid_filename none\n\
                 pinger_enable off\n\
                 access_log stdio:{d}/access.log\n\
                 cache_log {d}/cache.log\n\
                 coredump_dir {d}\n\
                 shutdown_lifetime 0 seconds\n\
                 hosts_file {d}/hosts\n\
                 dns_nameservers 127.0.0.1\n"
            );
            fs::write(dir.join("squid.conf"), config).expect("squid's configuration");
            vec!["-N".into(), "-f".into(), dir.join("squid.conf").display().to_string()]
        })
    }

    /// dante's `danted`, a SOCKS5 server without authentication, for
    /// clients and destinations on loopback.
    pub fn dante() -> Daemon {
        Self::start("danted", "dante-server", "danted.log", |dir, port| {
            let config = format!(
                "logoutput: {}/danted.log\n\
                 internal: 127.0.0.1 port = {port}\n\
                 external: 127.0.0.1\n\
                 socksmethod: none\n\
                 clientmethod: none\n\
                 user.unprivileged: nobody\n\
                 client pass {{ from: 127.0.0.0/8 to: 0.0.0.0/0 }}\n\
                 socks pass {{ from: 127.0.0.0/8 to: 127.0.0.0/8 }}\n",
                dir.display()
            );
            fs::write(dir.join("danted.conf"), config).expect("dante's configuration");
            vec!["-N".into(), "1".into(), "-f".into(), dir.join("danted.conf").display().to_string()]
        })
    }

    /// nginx serving `hello\n` at every path over TLS (1.2 and 1.3) with
    /// `pki`'s certificate, keep-alive on. One process (`master_process
    /// off`), so that killing it leaves no orphaned worker behind.
    pub fn nginx_tls(pki: &crate::tls::Pki) -> Daemon {
        Self::start("nginx", "nginx", "error.log", |dir, port| {
            fs::write(dir.join("chain.pem"), pki.chain_pem()).expect("nginx's certificate");
            fs::write(dir.join("key.pem"), pki.key_pem()).expect("nginx's key");
            let d = dir.display();
            let config = format!(
                "daemon off;\n\
                 master_process off;\n\
                 pid {d}/nginx.pid;\n\
                 error_log {d}/error.log;\n\
                 events {{}}\n\
                 http {{\n\
                   access_log off;\n\
                   server {{\n\
                     listen 127.0.0.1:{port} ssl;\n\
                     ssl_certificate {d}/chain.pem;\n\
                     ssl_certificate_key {d}/key.pem;\n\
                     ssl_protocols TLSv1.2 TLSv1.3;\n\
                     location / {{ return 200 \"hello\\n\"; }}\n\
                   }}\n\
                 }}\n"
            );
            fs::write(dir.join("nginx.conf"), config).expect("nginx's configuration");
            vec!["-c".into(), dir.join("nginx.conf").display().to_string(), "-p".into(), d.to_string()]
        })
    }

    /// Starts `binary` (from `/usr/sbin`, Debian package `package`) with the
    /// arguments `setup` returns after writing its files into the daemon's
    /// directory; waits until it listens on the port. Panics with its log
    /// (`log`, in the directory) if it does not come up.
    fn start(binary: &str, package: &str, log: &str, setup: impl Fn(&Path, u16) -> Vec<String>) -> Daemon {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = ["/usr/sbin", "/usr/local/sbin", "/usr/bin"]
            .into_iter()
            .map(|dir| Path::new(dir).join(binary))
            .find(|path| path.exists())
            .unwrap_or_else(|| {
                panic!("{binary} is not installed: `apt-get install {package}` (.ci/run does)")
            });
        let dir = std::env::temp_dir().join(format!(
            "roundtrip-{binary}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        fs::create_dir_all(&dir).expect("the daemon's directory");
        // Run as root, the daemon drops to its own user, which must write here.
        set_mode(&dir);
        // A port that was free a moment ago; the daemon binds it itself. Another
        // process may take it first: a daemon that exits before it listens is
        // started again on a new port, a few times.
        for attempt in 1..=START_ATTEMPTS {
            let port =
                TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
            let args = setup(&dir, port);
            let mut child = Command::new(&path)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
            let started = Instant::now();
            // No readiness signal to await: poll the port, bounded.
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                let exited = child.try_wait().ok().flatten();
                if exited.is_some() && attempt < START_ATTEMPTS {
                    break;
                }
                if exited.is_some() || started.elapsed() > START_TIMEOUT {
                    let _ = child.kill();
                    let log = fs::read_to_string(dir.join(log)).unwrap_or_default();
                    panic!("{binary} did not start on port {port} ({exited:?}, attempt {attempt}):\n{log}");
                }
                thread::sleep(Duration::from_millis(20));
            }
            if child.try_wait().ok().flatten().is_none() {
                return Daemon { child, port, dir };
            }
        }
        panic!(
            "{binary} exited {START_ATTEMPTS} times before it listened; its log:\n{}",
            fs::read_to_string(dir.join(log)).unwrap_or_default()
        )
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A file the daemon wrote in its directory (a log), or "".
    pub fn file(&self, name: &str) -> String {
        fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

#[cfg(unix)]
fn set_mode(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o777));
}

#[cfg(not(unix))]
fn set_mode(_dir: &Path) {}

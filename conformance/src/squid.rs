//! A real squid on loopback, for the proxy tests: Debian's `squid`, started
//! per test on a free port with a configuration of our own (no cache, every
//! request allowed, `CONNECT` to any port, some names mapped to 127.0.0.1),
//! and killed when dropped. `.ci/run` installs squid when it is missing.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How long squid may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running squid.
#[derive(Debug)]
pub struct Squid {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Squid {
    /// Starts squid with `names` resolving to 127.0.0.1 (through its own
    /// hosts file: no DNS is asked). Panics with squid's log if it does not
    /// come up, and with an install hint if it is not installed.
    pub fn start(names: &[&str]) -> Squid {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let binary = ["/usr/sbin/squid", "/usr/local/sbin/squid"]
            .into_iter()
            .find(|path| fs::metadata(path).is_ok())
            .expect("squid is not installed: `apt-get install squid` (.ci/run does)");
        let dir = std::env::temp_dir().join(format!(
            "roundtrip-squid-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        fs::create_dir_all(&dir).expect("squid's directory");
        // Run as root, squid drops to its own user, which must write here.
        set_mode(&dir);
        let hosts = names.iter().map(|name| format!("127.0.0.1 {name}\n")).collect::<String>();
        fs::write(dir.join("hosts"), hosts).expect("squid's hosts file");
        // A port that was free a moment ago; squid binds it itself.
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
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
        let mut child = Command::new(binary)
            .arg("-N")
            .arg("-f")
            .arg(dir.join("squid.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start squid");
        let started = Instant::now();
        // Squid gives no readiness signal to await: poll its port, bounded.
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = child.try_wait().ok().flatten();
            if exited.is_some() || started.elapsed() > START_TIMEOUT {
                let _ = child.kill();
                let log = fs::read_to_string(dir.join("cache.log")).unwrap_or_default();
                panic!("squid did not start on port {port} ({exited:?}):\n{log}");
            }
            thread::sleep(Duration::from_millis(20));
        }
        Squid { child, port, dir }
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What squid logged of the requests it served.
    pub fn access_log(&self) -> String {
        fs::read_to_string(self.dir.join("access.log")).unwrap_or_default()
    }
}

impl Drop for Squid {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

#[cfg(unix)]
fn set_mode(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o777));
}

#[cfg(not(unix))]
fn set_mode(_dir: &std::path::Path) {}

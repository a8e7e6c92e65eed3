//! TLS on the server side of the tests: a PKI made fresh for each test (a CA
//! and a leaf certificate, with rcgen) and a loopback server that runs a
//! handler over a rustls session on std threads, like [`crate::server`].

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A CA and a leaf certificate it signed for some names.
#[derive(Debug)]
pub struct Pki {
    ca: CertificateDer<'static>,
    leaf: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl Pki {
    /// A fresh CA and a leaf for `names` (DNS names or IP literals).
    pub fn new(names: &[&str]) -> Pki {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let leaf = CertificateParams::new(names).unwrap().signed_by(&key, &ca).unwrap();
        Pki {
            ca: ca.der().clone(),
            leaf: leaf.der().clone(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        }
    }

    /// A client configuration that trusts this CA and nothing else.
    pub fn client_config(&self) -> rustls::ClientConfig {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca.clone()).unwrap();
        rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth()
    }

    fn server_config(&self, alpn: &[&[u8]]) -> Arc<ServerConfig> {
        let key = PrivateKeyDer::Pkcs8(self.key.clone_key());
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![self.leaf.clone(), self.ca.clone()], key)
            .unwrap();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }
}

/// One accepted TLS connection, as a handler sees it.
#[derive(Debug)]
pub struct TlsConn {
    stream: StreamOwned<ServerConnection, TcpStream>,
    buf: Vec<u8>,
}

impl TlsConn {
    /// Reads one request head (the handshake runs on the first read);
    /// `false` at EOF before one.
    pub fn read_head(&mut self) -> io::Result<bool> {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                self.buf.drain(..end + 4);
                return Ok(true);
            }
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes `bytes` at once.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// Sends `close_notify`: the end of the data, as TLS says it.
    pub fn close_notify(&mut self) -> io::Result<()> {
        self.stream.conn.send_close_notify();
        self.stream.flush()
    }
}

/// A TLS server on 127.0.0.1; stops accepting when dropped. A handler's
/// failure is the test's failure only through what the client sees.
#[derive(Debug)]
pub struct TlsServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl TlsServer {
    /// Serves `handler` on every connection with `pki`'s leaf certificate.
    pub fn start<F>(pki: &Pki, handler: F) -> TlsServer
    where
        F: Fn(&mut TlsConn) -> io::Result<()> + Send + Sync + 'static,
    {
        Self::start_with_alpn(pki, &[], handler)
    }

    /// [`start`](Self::start) with the server's ALPN protocols.
    pub fn start_with_alpn<F>(pki: &Pki, alpn: &[&[u8]], handler: F) -> TlsServer
    where
        F: Fn(&mut TlsConn) -> io::Result<()> + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let (accepted, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
        let (a, s, config, handler) =
            (accepted.clone(), stop.clone(), pki.server_config(alpn), Arc::new(handler));
        thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                a.fetch_add(1, Ordering::SeqCst);
                let (config, handler) = (config.clone(), handler.clone());
                thread::spawn(move || {
                    let session = ServerConnection::new(config).unwrap();
                    let mut conn = TlsConn { stream: StreamOwned::new(session, stream), buf: Vec::new() };
                    let _ = handler(&mut conn);
                });
            }
        });
        TlsServer { addr, accepted, stop }
    }

    /// `https://host:port` + `path`.
    pub fn url(&self, host: &str, path: &str) -> http::Uri {
        format!("https://{host}:{}{path}", self.addr.port()).parse().unwrap()
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

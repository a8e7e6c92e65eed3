//! TLS on the simulated https hosts: the server's side of each connection is a
//! rustls session over the in-memory pipe, and the client trusts the
//! simulation's CA. Every choice is made so the bytes on the wire have the same
//! lengths in every run (Ed25519 keys and signatures, X25519 only, one cipher
//! suite, fixed serial numbers, no session tickets): the run's schedule
//! depends on lengths, not contents, so a seed replays exactly although the
//! keys and randoms differ from process to process.
//!
//! Not built into the fuzz target, which has no rustls.

use std::io::{self, Read, Write};
use std::sync::{Arc, OnceLock};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, PKCS_ED25519, SerialNumber,
};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, ServerConfig, ServerConnection};

use super::executor::SimRuntime;
use super::net::HOSTS;

struct Pki {
    client: ClientConfig,
    server: Arc<ServerConfig>,
}

fn provider() -> Arc<CryptoProvider> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    provider.kx_groups = vec![rustls::crypto::aws_lc_rs::kx_group::X25519];
    provider.cipher_suites = vec![rustls::crypto::aws_lc_rs::cipher_suite::TLS13_AES_128_GCM_SHA256];
    Arc::new(provider)
}

/// The CA, a leaf for every simulated host, and both ends' configurations;
/// made once per process.
fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.serial_number = Some(SerialNumber::from(1));
        let ca_key = KeyPair::generate_for(&PKCS_ED25519).expect("an Ed25519 key");
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("the CA certificate");
        let names: Vec<String> = (0..HOSTS).map(|host| format!("h{host}.sim")).collect();
        let mut leaf_params = CertificateParams::new(names).expect("leaf parameters");
        leaf_params.serial_number = Some(SerialNumber::from(2));
        let key = KeyPair::generate_for(&PKCS_ED25519).expect("an Ed25519 key");
        let leaf = leaf_params.signed_by(&key, &ca).expect("the leaf certificate");
        let ca: CertificateDer<'static> = ca.der().clone();

        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.clone()).expect("the CA as a root");
        let client = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("TLS 1.3 with the provider")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut server = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("TLS 1.3 with the provider")
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone(), ca], key)
            .expect("the server's chain");
        server.send_tls13_tickets = 0;
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Pki { client, server: Arc::new(server) }
    })
}

/// The client's TLS configuration: trusts the simulation's CA only.
pub(crate) fn client_config() -> ClientConfig {
    pki().client.clone()
}

/// The server's end of one TLS session.
pub(crate) struct Session {
    conn: ServerConnection,
    /// Whether this connection's server closes without `close_notify`.
    pub(crate) drops_notify: bool,
    runtime: SimRuntime,
    host: usize,
}

/// What a session made of bytes from the client.
pub(crate) struct Received {
    /// Records to send back (the handshake's).
    pub(crate) reply: Vec<u8>,
    /// The client sent `close_notify`.
    pub(crate) closed: bool,
}

impl Session {
    /// A session on a connection to `host`; the seed says whether it ends
    /// without `close_notify`.
    pub(crate) fn new(runtime: SimRuntime, host: usize) -> Session {
        let mut conn = ServerConnection::new(pki().server.clone()).expect("a server session");
        // The server writes a response whole, as on a plain connection.
        conn.set_buffer_limit(None);
        let drops_notify = runtime.shared.chance(500);
        Session { conn, drops_notify, runtime, host }
    }

    /// Takes records from the client, appending their plaintext to `plain`;
    /// `None` when they break the protocol: a client bug, recorded as a
    /// violation (the run fails).
    pub(crate) fn receive(&mut self, records: &[u8], plain: &mut Vec<u8>) -> Option<Received> {
        let received = self.try_receive(records, plain);
        received
            .map_err(|what| {
                self.runtime.shared.lock().net.violations.push(format!("h{}.sim: {what}", self.host))
            })
            .ok()
    }

    fn try_receive(&mut self, mut records: &[u8], plain: &mut Vec<u8>) -> Result<Received, String> {
        let mut closed = false;
        while !records.is_empty() {
            self.conn
                .read_tls(&mut records)
                .map_err(|e| format!("TLS records the server cannot take: {e}"))?;
            let state = self.conn.process_new_packets().map_err(|e| format!("TLS from the client: {e}"))?;
            let mut chunk = vec![0; state.plaintext_bytes_to_read()];
            let n = self.conn.reader().read(&mut chunk).or_else(|e| match e.kind() {
                io::ErrorKind::WouldBlock => Ok(0),
                _ => Err(format!("TLS plaintext: {e}")),
            })?;
            plain.extend_from_slice(&chunk[..n]);
            closed |= state.peer_has_closed();
        }
        Ok(Received { reply: self.flush(), closed })
    }

    /// Seals `plain` into records.
    pub(crate) fn seal(&mut self, plain: &[u8]) -> Vec<u8> {
        self.conn.writer().write_all(plain).expect("rustls buffers without limit");
        self.flush()
    }

    /// The `close_notify` alert, sealed.
    pub(crate) fn close_notify(&mut self) -> Vec<u8> {
        self.conn.send_close_notify();
        self.flush()
    }

    fn flush(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while self.conn.wants_write() {
            self.conn.write_tls(&mut out).expect("writing to a Vec");
        }
        out
    }
}

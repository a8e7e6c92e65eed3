//! TLS over any [`Io`] with rustls, in this crate: one implementation for
//! every runtime and for custom transports, so the adapters carry no TLS
//! code. rustls is itself Sans-IO (records in, records out); [`TlsIo`] moves
//! records between it and the transport with the same poll calls the engine
//! uses for plain sockets.
//!
//! Rules:
//! - SNI is the request's host; an IP literal sends none (RFC 6066 §3).
//! - ALPN offers `http/1.1` only; rustls refuses a server that picks a
//!   protocol we did not offer.
//! - A transport that ends without `close_notify` is an error to the reader
//!   (a truncation attack on a close-delimited body, RFC 8446 §6.1), never EOF.
//!   A `close_notify` is EOF.

use std::error::Error as StdError;
use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use rustls::pki_types::ServerName;
use rustls::{CertificateError, ClientConfig, ClientConnection};

use super::runtime::Io;

/// What went wrong in a TLS handshake or session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsErrorKind {
    /// The server's certificate was not trusted (unknown issuer, expired,
    /// revoked, malformed ...).
    Certificate,
    /// The certificate is not valid for the host, or the host is not a valid
    /// server name.
    Name,
    /// The server sent a fatal alert.
    Alert,
    /// The server chose an application protocol other than `http/1.1`.
    Alpn,
    /// Any other violation of the TLS protocol.
    Protocol,
}

/// A TLS failure, with the rustls error as its `source()` when there is one.
#[derive(Debug)]
pub struct TlsError {
    kind: TlsErrorKind,
    source: Option<rustls::Error>,
}

impl TlsError {
    /// Which kind of failure.
    pub fn kind(&self) -> TlsErrorKind {
        self.kind
    }

    fn new(kind: TlsErrorKind) -> Self {
        Self { kind, source: None }
    }

    pub(crate) fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, self)
    }
}

impl From<rustls::Error> for TlsError {
    fn from(error: rustls::Error) -> Self {
        use rustls::{Error as E, PeerMisbehaved};
        let kind = match &error {
            E::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            ) => TlsErrorKind::Name,
            E::InvalidCertificate(_) | E::InvalidCertRevocationList(_) => TlsErrorKind::Certificate,
            E::AlertReceived(rustls::AlertDescription::NoApplicationProtocol)
            | E::NoApplicationProtocol
            | E::PeerMisbehaved(PeerMisbehaved::SelectedUnofferedApplicationProtocol) => TlsErrorKind::Alpn,
            E::AlertReceived(_) => TlsErrorKind::Alert,
            _ => TlsErrorKind::Protocol,
        };
        Self { kind, source: Some(error) }
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TlsErrorKind::Certificate => "the server's certificate is not trusted",
            TlsErrorKind::Name => "the server's certificate is not valid for the host",
            TlsErrorKind::Alert => "the server sent a TLS alert",
            TlsErrorKind::Alpn => "the server chose an application protocol other than http/1.1",
            TlsErrorKind::Protocol => "TLS protocol error",
        };
        match &self.source {
            Some(source) => write!(f, "{what}: {source}"),
            None => f.write_str(what),
        }
    }
}

impl StdError for TlsError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

/// The client configuration the engine uses: the caller's (or the default),
/// with ALPN set to `http/1.1` alone. Clones share the session store, so
/// every connection of a client can resume the sessions of the others.
pub(crate) fn for_http1(config: &ClientConfig) -> Arc<ClientConfig> {
    let mut config = config.clone();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// The crypto provider the default configuration uses: aws-lc-rs when its
/// feature is on (post-quantum key exchange), else ring. Chosen explicitly,
/// not through rustls's process default, which panics when both are built.
#[cfg(any(feature = "platform-verifier", feature = "webpki-roots"))]
fn default_provider() -> Option<Arc<rustls::crypto::CryptoProvider>> {
    #[cfg(feature = "aws-lc-rs")]
    let provider = Some(rustls::crypto::aws_lc_rs::default_provider());
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    let provider = Some(ring_provider());
    #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
    let provider = None;
    provider.map(Arc::new)
}

/// ring with Go's order of key exchange groups: X25519, then P-256, then
/// P-384. rustls 0.23.48 puts P-384 first for ring, which made a handshake
/// 4.5x the CPU here (docs/architecture.md).
#[cfg(all(
    feature = "ring",
    not(feature = "aws-lc-rs"),
    any(feature = "platform-verifier", feature = "webpki-roots")
))]
#[allow(deprecated, reason = "ring is the opt-in for faster builds; it lacks post-quantum key exchange")]
fn ring_provider() -> rustls::crypto::CryptoProvider {
    use rustls::crypto::ring::{default_provider, kx_group};
    let kx_groups = vec![kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1];
    rustls::crypto::CryptoProvider { kx_groups, ..default_provider() }
}

/// The default configuration: the default provider, TLS 1.2 and 1.3, and the
/// operating system's verifier (feature `platform-verifier`) or else Mozilla's
/// root store shipped in `webpki-roots`. `None` when no provider or trust
/// store is built in, or the system's could not be loaded.
#[cfg(any(feature = "platform-verifier", feature = "webpki-roots"))]
pub(crate) fn default_config() -> Option<Arc<ClientConfig>> {
    let builder = ClientConfig::builder_with_provider(default_provider()?)
        .with_safe_default_protocol_versions()
        .ok()?;
    #[cfg(feature = "platform-verifier")]
    let builder = {
        use rustls_platform_verifier::BuilderVerifierExt;
        match builder.with_platform_verifier() {
            Ok(builder) => builder,
            Err(error) => {
                tracing::warn!(%error, "the system's certificate verifier is unavailable");
                return None;
            }
        }
    };
    #[cfg(not(feature = "platform-verifier"))]
    let builder = builder.with_root_certificates(rustls::RootCertStore::from_iter(
        webpki_roots::TLS_SERVER_ROOTS.iter().cloned(),
    ));
    Some(for_http1(&builder.with_no_client_auth()))
}

/// `config` with certificate verification turned off: any chain, any name.
/// Handshake signatures are still checked, with `config`'s provider, so the
/// peer must hold the key of the certificate it sent, whatever that is.
pub(crate) fn accepting_any_certificate(config: &ClientConfig) -> Arc<ClientConfig> {
    let mut config = config.clone();
    let provider = config.crypto_provider().clone();
    config.dangerous().set_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)));
    Arc::new(config)
}

/// The verifier behind [`accepting_any_certificate`].
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// What a TLS connection to the origin negotiated, in the extensions of
/// every response it carries (Go's `Response.TLS`): for logs, pinning, or
/// a tool's `-v`. Shared by the responses of one connection:
/// `response.extensions().get::<Arc<TlsInfo>>()`.
#[derive(Clone, Debug)]
pub struct TlsInfo {
    version: Option<rustls::ProtocolVersion>,
    cipher_suite: Option<rustls::CipherSuite>,
    alpn: Option<Vec<u8>>,
    peer_certificates: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl TlsInfo {
    /// The TLS version (1.2 or 1.3).
    pub fn protocol_version(&self) -> Option<rustls::ProtocolVersion> {
        self.version
    }

    /// The cipher suite.
    pub fn cipher_suite(&self) -> Option<rustls::CipherSuite> {
        self.cipher_suite
    }

    /// The application protocol the server chose (`http/1.1`), if it chose one.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.alpn.as_deref()
    }

    /// The server's certificate chain as it sent it, leaf first (DER).
    pub fn peer_certificates(&self) -> &[rustls::pki_types::CertificateDer<'static>] {
        &self.peer_certificates
    }
}

/// A TLS session over a transport, as an [`Io`] of plaintext.
pub(crate) struct TlsIo {
    io: Box<dyn Io>,
    tls: ClientConnection,
    close_notify_sent: bool,
}

/// Runs the client handshake over `io` for `host` and returns the session.
pub(crate) async fn handshake(io: Box<dyn Io>, config: Arc<ClientConfig>, host: &str) -> io::Result<TlsIo> {
    let name =
        ServerName::try_from(host.to_owned()).map_err(|_| TlsError::new(TlsErrorKind::Name).into_io())?;
    let tls = ClientConnection::new(config, name).map_err(|e| TlsError::from(e).into_io())?;
    let mut session = TlsIo { io, tls, close_notify_sent: false };
    poll_fn(|cx| session.poll_handshake(cx)).await?;
    match session.tls.alpn_protocol() {
        None | Some(b"http/1.1") => Ok(session),
        Some(_) => Err(TlsError::new(TlsErrorKind::Alpn).into_io()),
    }
}

impl TlsIo {
    /// What the handshake negotiated.
    pub(crate) fn info(&self) -> TlsInfo {
        TlsInfo {
            version: self.tls.protocol_version(),
            cipher_suite: self.tls.negotiated_cipher_suite().map(|s| s.suite()),
            alpn: self.tls.alpn_protocol().map(<[u8]>::to_vec),
            peer_certificates: self.tls.peer_certificates().map(<[_]>::to_vec).unwrap_or_default(),
        }
    }

    fn poll_handshake(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.poll_write_tls(cx))?;
            if !self.tls.is_handshaking() {
                return Poll::Ready(Ok(()));
            }
            if !ready!(self.poll_read_tls(cx))? {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection during the TLS handshake",
                )));
            }
        }
    }

    /// Sends every record rustls has queued.
    fn poll_write_tls(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut Blocking { io: &mut *self.io, cx }) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Reads records from the transport and processes them; `false` when the
    /// transport has ended.
    fn poll_read_tls(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<bool>> {
        let read = match self.tls.read_tls(&mut Blocking { io: &mut *self.io, cx }) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
            Err(e) => return Poll::Ready(Err(e)),
        };
        if let Err(error) = self.tls.process_new_packets() {
            // Tell the server why, if the socket takes it now.
            let _ = self.poll_write_tls(cx);
            return Poll::Ready(Err(TlsError::from(error).into_io()));
        }
        Poll::Ready(Ok(read > 0))
    }
}

impl Io for TlsIo {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        loop {
            match self.tls.reader().read(buf) {
                // Ok(0) is close_notify; UnexpectedEof a transport that ended
                // without it: both as rustls reports them.
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
            // Answer what the server asked for (a key update), if anything.
            if let Poll::Ready(Err(e)) = self.poll_write_tls(cx) {
                return Poll::Ready(Err(e));
            }
            ready!(self.poll_read_tls(cx))?;
        }
    }

    fn poll_write_vectored(&mut self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<io::Result<usize>> {
        // Take more plaintext only once the records of the last write are out,
        // so that at most one write's worth waits in rustls.
        ready!(self.poll_write_tls(cx))?;
        let taken = self.tls.writer().write_vectored(bufs)?;
        // Start sending now; what the socket does not take goes out on flush.
        if let Poll::Ready(Err(e)) = self.poll_write_tls(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(taken))
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_write_tls(cx))?;
        self.io.poll_flush(cx)
    }

    /// Records already received, decrypted; no waiting and nothing sent (a
    /// key update the server asked for is answered by the next poll).
    fn try_read(&mut self, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        loop {
            match self.tls.reader().read(buf) {
                Ok(n) => return Poll::Ready(Ok(n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
            match self.tls.read_tls(&mut Now(&mut *self.io)) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
                Err(e) => return Poll::Ready(Err(e)),
            }
            if let Err(error) = self.tls.process_new_packets() {
                return Poll::Ready(Err(TlsError::from(error).into_io()));
            }
        }
    }

    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.close_notify_sent {
            self.tls.send_close_notify();
            self.close_notify_sent = true;
        }
        ready!(self.poll_write_tls(cx))?;
        self.io.poll_shutdown(cx)
    }
}

/// The transport seen as blocking `Read` and `Write` for rustls, with
/// `Pending` as `WouldBlock` (the task's waker is registered by then).
struct Blocking<'a, 'b> {
    io: &'a mut dyn Io,
    cx: &'a mut Context<'b>,
}

impl Read for Blocking<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.io.poll_read(self.cx, buf) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

/// The transport's [`Io::try_read`] as a `Read` for rustls: what is there now.
struct Now<'a>(&'a mut dyn Io);

impl Read for Now<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.try_read(buf) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl Write for Blocking<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self.io.poll_write_vectored(self.cx, bufs) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.io.poll_flush(self.cx) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

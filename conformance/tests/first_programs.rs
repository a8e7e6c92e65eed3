//! Programs a new user writes first, each at most ten lines between the
//! braces of its function, run against loopback servers: an https GET that
//! trusts a custom root, on Tokio and on smol. (The GET through a proxy from
//! `HTTPS_PROXY` is in `first_program_env_proxy.rs`, a test binary of its
//! own, as it sets the process environment.)

use roundtrip_conformance::server::Server;
use roundtrip_conformance::tls::Pki;
use roundtrip_conformance::watchdog;

/// The program, on Tokio: trust the CA in `ca_pem_file`, GET `url`, return the body.
async fn https_with_custom_root_on_tokio(
    url: &str,
    ca_pem_file: &str,
) -> Result<String, roundtrip::BoxError> {
    use roundtrip::prelude::*;
    use roundtrip::rustls::{self, pki_types::CertificateDer, pki_types::pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(CertificateDer::pem_file_iter(ca_pem_file)?.flatten());
    let tls = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    let client = roundtrip::Client::builder().tls_config(tls).build();
    Ok(client.get(url).send().await?.text(1 << 20).await?)
}

/// The same program on smol.
fn https_with_custom_root_on_smol(url: &str, ca_pem_file: &str) -> Result<String, roundtrip::BoxError> {
    use roundtrip::prelude::*;
    use roundtrip::rustls::{self, pki_types::CertificateDer, pki_types::pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(CertificateDer::pem_file_iter(ca_pem_file)?.flatten());
    let tls = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    let client = roundtrip::smol::Client::builder().tls_config(tls).build();
    smol::block_on(async { Ok(client.get(url).send().await?.text(1 << 20).await?) })
}

/// A TLS server for `localhost` saying hello, and its CA in a PEM file.
fn tls_hello() -> (Server, std::path::PathBuf) {
    let pki = Pki::new(&["localhost"]);
    let server = Server::start_tls(pki.server_config(&[]), |conn| {
        while conn.read_request()?.is_some() {
            conn.respond(b"hello over tls")?;
        }
        Ok(())
    });
    let file = std::env::temp_dir().join(format!(
        "roundtrip-first-ca-{}-{}.pem",
        std::process::id(),
        server.addr().port()
    ));
    std::fs::write(&file, pki.ca_pem()).expect("write the CA file");
    (server, file)
}

#[test]
fn custom_root_https_get_on_tokio() {
    watchdog::test(|| {
        let (server, ca) = tls_hello();
        let url = server.url_at("localhost", "/").to_string();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let body = runtime.block_on(https_with_custom_root_on_tokio(&url, ca.to_str().unwrap()));
        let _ = std::fs::remove_file(&ca);
        assert_eq!(body.expect("the program succeeds"), "hello over tls");
    });
}

#[test]
fn custom_root_https_get_on_smol() {
    watchdog::test(|| {
        let (server, ca) = tls_hello();
        let url = server.url_at("localhost", "/").to_string();
        let body = https_with_custom_root_on_smol(&url, ca.to_str().unwrap());
        let _ = std::fs::remove_file(&ca);
        assert_eq!(body.expect("the program succeeds"), "hello over tls");
    });
}

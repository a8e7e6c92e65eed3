//! A first program that reaches an https origin through the proxy named by
//! `HTTPS_PROXY`, as curl and Go read it: no proxy code at all, ten lines.
//! Its own test binary, as it sets the process environment (one test, set
//! before the client exists, read by nothing else).

use roundtrip_conformance::server::Server;
use roundtrip_conformance::tls::Pki;
use roundtrip_conformance::watchdog;

/// The program: GET `url` trusting `ca_pem_file`, through whatever proxy the
/// environment names.
async fn https_get_through_the_environment_proxy(
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

#[test]
fn https_get_through_https_proxy_from_the_environment() {
    watchdog::test(|| {
        // The origin's name is not loopback, which the environment's proxies
        // never serve; only the proxy knows where it is.
        let pki = Pki::new(&["origin.test"]);
        let origin = Server::start_tls(pki.server_config(&[]), |conn| {
            while conn.read_request()?.is_some() {
                conn.respond(b"hello through the proxy")?;
            }
            Ok(())
        });
        let origin_addr = origin.addr();
        let proxy = Server::start(move |conn| {
            let request = conn.read_head()?.expect("the CONNECT");
            assert_eq!((&request.method[..], &request.target[..]), ("CONNECT", "origin.test:443"));
            conn.write(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
            conn.relay(origin_addr)
        });
        let ca = std::env::temp_dir().join(format!("roundtrip-env-proxy-ca-{}.pem", std::process::id()));
        std::fs::write(&ca, pki.ca_pem()).expect("write the CA file");
        // SAFETY: the only test of this binary, and no other thread reads the
        // environment yet.
        unsafe { std::env::set_var("HTTPS_PROXY", format!("http://{}", proxy.addr())) };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let body = runtime
            .block_on(https_get_through_the_environment_proxy("https://origin.test/", ca.to_str().unwrap()));
        let _ = std::fs::remove_file(&ca);
        assert_eq!(body.expect("the program succeeds"), "hello through the proxy");
        assert_eq!(proxy.accepted(), 1, "the proxy carried the request");
    });
}

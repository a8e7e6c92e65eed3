//! `--cacert` and `--insecure`, as `fetch` and `load` take them.

use roundtrip::client::{ClientBuilder, Runtime};

/// Trusts the CA certificates in the PEM file `cacert` instead of the
/// system's, and/or accepts any certificate (`insecure`).
#[cfg(feature = "rustls")]
pub fn configure<R: Runtime>(
    mut builder: ClientBuilder<R>,
    cacert: Option<&str>,
    insecure: bool,
) -> Result<ClientBuilder<R>, String> {
    use roundtrip::rustls;
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    if let Some(path) = cacert {
        let bad = |e: &dyn std::fmt::Display| format!("cannot read CA certificates from {path}: {e}");
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(&e))? {
            roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
        }
        if roots.is_empty() {
            return Err(bad(&"no certificate in the file"));
        }
        let config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
        builder = builder.tls_config(config);
    }
    if insecure {
        builder = builder.danger_accept_invalid_certificates();
    }
    Ok(builder)
}

/// Without TLS built in, `--cacert` and `--insecure` are refused.
#[cfg(not(feature = "rustls"))]
pub fn configure<R: Runtime>(
    builder: ClientBuilder<R>,
    cacert: Option<&str>,
    insecure: bool,
) -> Result<ClientBuilder<R>, String> {
    match cacert.is_some() || insecure {
        true => Err("--cacert and --insecure need this tool built with the rustls feature".into()),
        false => Ok(builder),
    }
}

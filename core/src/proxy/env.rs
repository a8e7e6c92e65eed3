//! Which proxy a request takes: the client's settings, or the environment.
//! (Stub: being written.)

use std::sync::Arc;

use http::uri::Scheme;

use super::Proxy;

/// Hosts that bypass the proxy. (Stub.)
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy {}

impl NoProxy {
    /// Parses a `NO_PROXY` list.
    pub fn parse(_list: &str) -> Self {
        Self {}
    }

    /// Whether `host` (no brackets around IPv6) on `port` bypasses the proxy.
    pub fn matches(&self, _host: &str, _port: u16) -> bool {
        false
    }
}

/// The proxies of a client. (Stub.)
#[derive(Clone, Debug, Default)]
pub struct Proxies {
    http: Option<Arc<Proxy>>,
    https: Option<Arc<Proxy>>,
}

impl Proxies {
    /// No proxy.
    pub fn none() -> Self {
        Self::default()
    }

    /// `proxy` for every target.
    pub fn all(proxy: Proxy) -> Self {
        let proxy = Arc::new(proxy);
        Self { http: Some(proxy.clone()), https: Some(proxy) }
    }

    /// From the environment.
    pub fn from_env() -> Self {
        Self::default()
    }

    /// Whether no target is proxied.
    pub fn is_empty(&self) -> bool {
        self.http.is_none() && self.https.is_none()
    }

    /// The proxy for a target.
    pub fn select(&self, scheme: &Scheme, _host: &str, _port: u16) -> Option<&Arc<Proxy>> {
        if *scheme == Scheme::HTTPS { self.https.as_ref() } else { self.http.as_ref() }
    }
}

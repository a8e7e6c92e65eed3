//! SOCKS5 (RFC 1928) with username/password (RFC 1929), Sans-IO. (Stub.)

use std::net::SocketAddr;

use super::{Handshake, InvalidProxy, ProxyError};

/// Where a SOCKS5 proxy is asked to connect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocksTarget {
    /// An address resolved locally (`socks5://`).
    Addr(SocketAddr),
    /// A host name for the proxy to resolve (`socks5h://`).
    Domain(String, u16),
}

/// The client side of a SOCKS5 handshake. (Stub.)
#[derive(Debug)]
pub struct Socks5 {}

impl Socks5 {
    /// A handshake asking for `target`, offering username/password when
    /// `credentials` are given.
    pub fn new(_target: SocksTarget, _credentials: Option<(&str, &str)>) -> Result<Self, InvalidProxy> {
        Ok(Self {})
    }
}

impl Handshake for Socks5 {
    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        None
    }

    fn handle_read(&mut self, _input: &[u8]) -> Result<(), ProxyError> {
        Ok(())
    }

    fn is_done(&self) -> bool {
        true
    }

    fn handle_eof(&mut self) -> ProxyError {
        ProxyError::new(super::ProxyErrorKind::Closed)
    }
}

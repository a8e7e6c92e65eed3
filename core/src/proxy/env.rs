//! Which proxy a request takes: the client's settings, or the environment.
//!
//! The environment ([`Proxies::from_env`]) is read as Go's
//! `golang.org/x/net/http/httpproxy` reads it, plus curl's `ALL_PROXY`, so a
//! machine set up for either tool routes the same way with this one:
//! - `HTTP_PROXY` / `http_proxy` for `http://` targets, `HTTPS_PROXY` /
//!   `https_proxy` for `https://` ones; the upper-case name first, the first
//!   non-empty value wins (Go's order). `ALL_PROXY` / `all_proxy` (curl)
//!   stands in for either when it is unset.
//! - A value that is not a proxy URL is skipped with a warning naming the
//!   variable, never the value (it may hold a password). A value without a
//!   scheme is an `http://` proxy.
//! - httpoxy (CVE-2016-5385): under CGI (`REQUEST_METHOD` set), `HTTP_PROXY`
//!   may come from the client's `Proxy:` request header, so it is ignored.
//!   Like Go, only under CGI; like curl, only the upper-case name, which a
//!   header can forge (on Windows, where names ignore case, `http_proxy` too).
//! - `NO_PROXY` / `no_proxy` lists the hosts that go direct ([`NoProxy`],
//!   curl's syntax), and, as in Go, `localhost`, `*.localhost` and loopback
//!   addresses always go direct: a proxy cannot reach the caller's loopback.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use http::uri::Scheme;

use super::Proxy;

/// The hosts that bypass the proxy, parsed once from a `NO_PROXY` list and
/// matched without allocating, since every request asks.
///
/// The rules are curl's, with Go's additions (ports, `*.` prefixes):
/// - entries are separated by commas and/or whitespace, compared ignoring
///   ASCII case and a trailing dot; an entry that makes no sense is skipped;
/// - `*` matches every host (as any entry, as in Go; curl wants it alone);
/// - `example.com`, `.example.com` and `*.example.com` all match
///   `example.com` and its subdomains, not `notexample.com` (curl; Go's
///   `.example.com` leaves out `example.com` itself);
/// - an IP literal (`10.1.2.3`, `::1`, `[::1]`) matches that address, and a
///   CIDR block (`10.0.0.0/8`, `fe80::/10`) the addresses in it; addresses
///   only match addresses and names only names, as nothing is resolved;
/// - a port (`example.com:8080`, `[::1]:8080`) limits an entry to it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy {
    entries: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Entry {
    Any,
    /// Lower case, no leading or trailing dot.
    Domain {
        suffix: String,
        port: Option<u16>,
    },
    /// Canonical: an IPv4-mapped IPv6 address is IPv4.
    Ip {
        addr: IpAddr,
        port: Option<u16>,
    },
    /// The network address, masked to `prefix` bits.
    Cidr {
        net: IpAddr,
        prefix: u8,
    },
}

impl NoProxy {
    /// Parses a `NO_PROXY` list. Never fails: entries it cannot read are
    /// skipped, as Go does, so one typo does not void the list.
    pub fn parse(list: &str) -> Self {
        let entries = list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|entry| !entry.is_empty())
            .filter_map(|entry| Entry::parse(&entry.to_ascii_lowercase()))
            .collect();
        Self { entries }
    }

    /// Whether `host` (no brackets around IPv6) on `port` bypasses the proxy.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        !self.entries.is_empty() && self.matches_host(Host::new(host), port)
    }

    fn matches_host(&self, host: Host<'_>, port: u16) -> bool {
        self.entries.iter().any(|entry| entry.matches(host, port))
    }
}

impl Entry {
    /// Parses one lower-case entry.
    fn parse(entry: &str) -> Option<Self> {
        if entry == "*" {
            return Some(Self::Any);
        }
        if let Some((addr, prefix)) = entry.split_once('/') {
            return Self::cidr(unbracket(addr).parse().ok()?, prefix.parse().ok()?);
        }
        let (host, port) = split_port(entry)?;
        let host = host.strip_suffix('.').unwrap_or(host);
        if let Ok(addr) = unbracket(host).parse::<IpAddr>() {
            return Some(Self::Ip { addr: addr.to_canonical(), port });
        }
        let suffix = host.strip_prefix("*.").or_else(|| host.strip_prefix('.')).unwrap_or(host);
        let sensible = !suffix.is_empty() && !suffix.contains(['[', ']', '*']);
        sensible.then(|| Self::Domain { suffix: suffix.to_owned(), port })
    }

    fn cidr(net: IpAddr, prefix: u8) -> Option<Self> {
        let max = if net.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then(|| Self::Cidr { net: mask(net, prefix), prefix })
    }

    fn matches(&self, host: Host<'_>, port: u16) -> bool {
        let port_ok = |want: &Option<u16>| want.is_none_or(|want| want == port);
        match self {
            Self::Any => true,
            Self::Domain { suffix, port: want } => {
                host.ip.is_none() && port_ok(want) && is_domain_or_subdomain(host.name, suffix)
            }
            Self::Ip { addr, port: want } => host.ip == Some(*addr) && port_ok(want),
            Self::Cidr { net, prefix } => host.ip.is_some_and(|ip| mask(ip, *prefix) == *net),
        }
    }
}

/// A target host, normalized once per request.
#[derive(Clone, Copy)]
struct Host<'a> {
    /// No brackets, no trailing dot, any case.
    name: &'a str,
    /// Canonical, if the host is an IP literal.
    ip: Option<IpAddr>,
}

impl<'a> Host<'a> {
    fn new(host: &'a str) -> Self {
        let name = unbracket(host);
        let name = name.strip_suffix('.').unwrap_or(name);
        Self { name, ip: name.parse::<IpAddr>().ok().map(|ip| ip.to_canonical()) }
    }

    /// `localhost`, `*.localhost` (RFC 6761 §6.3) or a loopback address.
    fn is_loopback(self) -> bool {
        match self.ip {
            Some(ip) => ip.is_loopback(),
            None => is_domain_or_subdomain(self.name, "localhost"),
        }
    }
}

/// Whether `name` is `domain` or ends in `.domain`, ignoring ASCII case.
pub(crate) fn is_domain_or_subdomain(name: &str, domain: &str) -> bool {
    let (name, domain) = (name.as_bytes(), domain.as_bytes());
    let Some(dot) = name.len().checked_sub(domain.len()) else { return false };
    name[dot..].eq_ignore_ascii_case(domain) && (dot == 0 || name[dot - 1] == b'.')
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`, or a bare IPv6 literal (no port).
fn split_port(entry: &str) -> Option<(&str, Option<u16>)> {
    if entry.parse::<Ipv6Addr>().is_ok() {
        return Some((entry, None));
    }
    let end =
        if entry.starts_with('[') { entry.find(']')? + 1 } else { entry.find(':').unwrap_or(entry.len()) };
    let port = match &entry[end..] {
        "" | ":" => None,
        rest => Some(rest.strip_prefix(':')?.parse().ok()?),
    };
    Some((&entry[..end], port))
}

fn unbracket(host: &str) -> &str {
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host)
}

/// `ip` with all but its first `prefix` bits cleared.
fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(ip) => {
            let keep = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((ip.to_bits() & keep).into())
        }
        IpAddr::V6(ip) => {
            let keep = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((ip.to_bits() & keep).into())
        }
    }
}

/// The proxies of a client: one for `http://` targets, one for `https://`
/// targets, and the hosts that bypass both. Cheap to clone (the proxies are
/// shared), and its `Debug` never shows a password.
///
/// ```
/// use http::uri::Scheme;
/// use roundtrip_core::proxy::{NoProxy, Proxies, Proxy};
///
/// let proxies = Proxies::none()
///     .https(Proxy::parse("http://proxy:3128")?)
///     .no_proxy(NoProxy::parse("internal.example, 10.0.0.0/8"));
/// let proxy = proxies.select(&Scheme::HTTPS, "example.com", 443).unwrap();
/// assert_eq!(proxy.authority(), "proxy:3128");
/// assert!(proxies.select(&Scheme::HTTP, "example.com", 80).is_none());
/// assert!(proxies.select(&Scheme::HTTPS, "api.internal.example", 443).is_none());
/// assert!(proxies.select(&Scheme::HTTPS, "10.1.2.3", 443).is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Proxies {
    http: Option<Arc<Proxy>>,
    https: Option<Arc<Proxy>>,
    no_proxy: NoProxy,
    /// Loopback targets go direct: set only for the environment, as in Go.
    direct_loopback: bool,
}

impl Proxies {
    /// No proxy: every request connects straight to its host.
    pub fn none() -> Self {
        Self::default()
    }

    /// `proxy` for every target, loopback included, unless
    /// [`no_proxy`](Self::no_proxy) says otherwise.
    pub fn all(proxy: Proxy) -> Self {
        let proxy = Arc::new(proxy);
        Self { http: Some(proxy.clone()), https: Some(proxy), ..Self::default() }
    }

    /// `proxy` for `http://` targets.
    pub fn http(mut self, proxy: Proxy) -> Self {
        self.http = Some(Arc::new(proxy));
        self
    }

    /// `proxy` for `https://` targets.
    pub fn https(mut self, proxy: Proxy) -> Self {
        self.https = Some(Arc::new(proxy));
        self
    }

    /// The hosts that go direct, replacing any list set before.
    pub fn no_proxy(mut self, no_proxy: NoProxy) -> Self {
        self.no_proxy = no_proxy;
        self
    }

    /// The proxies the process environment asks for, read as Go and curl
    /// read it; the rules are on [`from_lookup`](Self::from_lookup).
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over `lookup` instead of the process
    /// environment, so the rules can be tested or fed from elsewhere. They are
    /// Go's (`golang.org/x/net/http/httpproxy`) plus curl's `ALL_PROXY`, so the
    /// client routes as the tools beside it do:
    /// - `HTTP_PROXY`, then `http_proxy`, for `http://` targets; `HTTPS_PROXY`,
    ///   then `https_proxy`, for `https://`; `ALL_PROXY`, then `all_proxy`, for
    ///   either left unset. An empty value counts as unset, and so does one
    ///   that is not a proxy URL, with a warning naming the variable but not
    ///   the value, which may hold a password.
    /// - Under CGI (`REQUEST_METHOD` set), `HTTP_PROXY` is ignored with a
    ///   warning: a request's `Proxy:` header sets it (httpoxy,
    ///   CVE-2016-5385). `http_proxy` still counts (curl), except on Windows,
    ///   where it is the same variable.
    /// - `NO_PROXY`, then `no_proxy`: the hosts that go direct ([`NoProxy`]).
    ///   So do `localhost`, `*.localhost` and loopback addresses, as in Go: a
    ///   proxy elsewhere cannot reach them.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let value = |name: &str| lookup(name).filter(|value| !value.is_empty());
        let proxy = |name: &str| {
            let value = value(name)?;
            Proxy::parse(&value)
                .inspect_err(|error| tracing::warn!(variable = name, %error, "ignoring the proxy variable"))
                .ok()
        };
        let first = |names: &[&str]| names.iter().find_map(|name| proxy(name)).map(Arc::new);

        let cgi = value("REQUEST_METHOD").is_some();
        if cgi && value("HTTP_PROXY").is_some() {
            tracing::warn!("ignoring HTTP_PROXY under CGI: a request can set it (httpoxy, CVE-2016-5385)");
        }
        let http_names: &[&str] = match (cgi, cfg!(windows)) {
            (false, _) => &["HTTP_PROXY", "http_proxy"],
            (true, false) => &["http_proxy"],
            (true, true) => &[],
        };
        let http = first(http_names);
        let https = first(&["HTTPS_PROXY", "https_proxy"]);
        let all = if http.is_none() || https.is_none() { first(&["ALL_PROXY", "all_proxy"]) } else { None };
        let no_proxy = value("NO_PROXY").or_else(|| value("no_proxy")).unwrap_or_default();
        Self {
            http: http.or_else(|| all.clone()),
            https: https.or(all),
            no_proxy: NoProxy::parse(&no_proxy),
            direct_loopback: true,
        }
    }

    /// Whether no target is proxied, so a request need not ask
    /// [`select`](Self::select).
    pub fn is_empty(&self) -> bool {
        self.http.is_none() && self.https.is_none()
    }

    /// The proxy for a request to `host` (no brackets around IPv6) on `port`
    /// over `scheme`, or `None` to connect directly.
    pub fn select(&self, scheme: &Scheme, host: &str, port: u16) -> Option<&Arc<Proxy>> {
        let proxy = if *scheme == Scheme::HTTPS { self.https.as_ref() } else { self.http.as_ref() }?;
        let host = Host::new(host);
        let direct = (self.direct_loopback && host.is_loopback()) || self.no_proxy.matches_host(host, port);
        (!direct).then_some(proxy)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(vars: &[(&str, &str)]) -> Proxies {
        let vars: HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Proxies::from_lookup(|name| vars.get(name).cloned())
    }

    fn authority(proxy: Option<&Arc<Proxy>>) -> Option<&str> {
        proxy.map(|p| p.authority().as_str())
    }

    fn http_proxy(proxies: &Proxies) -> Option<&str> {
        authority(proxies.select(&Scheme::HTTP, "example.com", 80))
    }

    fn https_proxy(proxies: &Proxies) -> Option<&str> {
        authority(proxies.select(&Scheme::HTTPS, "example.com", 443))
    }

    fn proxy(url: &str) -> Proxy {
        Proxy::parse(url).unwrap()
    }

    #[test]
    fn env_each_scheme_takes_its_own_variable_go() {
        let proxies = env(&[("HTTP_PROXY", "http://h:1"), ("HTTPS_PROXY", "http://s:2")]);
        assert_eq!(http_proxy(&proxies), Some("h:1"));
        assert_eq!(https_proxy(&proxies), Some("s:2"));

        let proxies = env(&[("https_proxy", "s:2")]);
        assert_eq!(http_proxy(&proxies), None);
        assert_eq!(https_proxy(&proxies), Some("s:2"));
        assert!(env(&[]).is_empty());
    }

    #[test]
    fn env_upper_case_before_lower_case_first_non_empty_wins_go() {
        let proxies = env(&[("HTTP_PROXY", "upper:1"), ("http_proxy", "lower:1")]);
        assert_eq!(http_proxy(&proxies), Some("upper:1"));
        let proxies = env(&[("HTTPS_PROXY", ""), ("https_proxy", "lower:2")]);
        assert_eq!(https_proxy(&proxies), Some("lower:2"));
    }

    #[test]
    fn env_all_proxy_is_the_fallback_for_either_scheme_curl() {
        let proxies = env(&[("ALL_PROXY", "socks5h://all:1080"), ("HTTPS_PROXY", "s:2")]);
        assert_eq!(http_proxy(&proxies), Some("all:1080"));
        assert_eq!(https_proxy(&proxies), Some("s:2"));

        let proxies = env(&[("HTTP_PROXY", ""), ("ALL_PROXY", ""), ("all_proxy", "all:3")]);
        assert_eq!(http_proxy(&proxies), Some("all:3"));
        assert_eq!(https_proxy(&proxies), Some("all:3"));
    }

    #[test]
    fn env_httpoxy_ignores_upper_case_http_proxy_under_cgi() {
        let cgi = env(&[("REQUEST_METHOD", "GET"), ("HTTP_PROXY", "evil:1"), ("HTTPS_PROXY", "s:2")]);
        assert_eq!(http_proxy(&cgi), None);
        assert_eq!(https_proxy(&cgi), Some("s:2"));

        let cgi = env(&[("REQUEST_METHOD", "GET"), ("HTTP_PROXY", "evil:1"), ("ALL_PROXY", "all:3")]);
        assert_eq!(http_proxy(&cgi), Some("all:3"));

        let not_cgi = env(&[("REQUEST_METHOD", ""), ("HTTP_PROXY", "h:1")]);
        assert_eq!(http_proxy(&not_cgi), Some("h:1"));
    }

    #[test]
    #[cfg(not(windows))]
    fn env_httpoxy_keeps_lower_case_http_proxy_a_header_cannot_set() {
        let cgi = env(&[("REQUEST_METHOD", "POST"), ("HTTP_PROXY", "evil:1"), ("http_proxy", "good:1")]);
        assert_eq!(http_proxy(&cgi), Some("good:1"));
    }

    #[test]
    fn env_invalid_value_is_ignored_like_unset() {
        let proxies = env(&[("HTTP_PROXY", "ftp://u:secret@x"), ("http_proxy", "good:1")]);
        assert_eq!(http_proxy(&proxies), Some("good:1"));
        let proxies = env(&[("HTTPS_PROXY", "http://x/path"), ("ALL_PROXY", "all:3")]);
        assert_eq!(https_proxy(&proxies), Some("all:3"));
        assert!(env(&[("ALL_PROXY", "http://")]).is_empty());
    }

    #[test]
    fn env_value_without_scheme_is_http() {
        let proxies = env(&[("HTTPS_PROXY", "proxy:3128")]);
        let proxy = proxies.select(&Scheme::HTTPS, "example.com", 443).unwrap();
        assert_eq!(proxy.kind(), crate::proxy::ProxyKind::Http);
    }

    #[test]
    fn env_no_proxy_upper_case_first_non_empty_wins() {
        let proxies = env(&[("ALL_PROXY", "p:1"), ("NO_PROXY", "example.com"), ("no_proxy", "other.com")]);
        assert_eq!(http_proxy(&proxies), None);
        assert!(proxies.select(&Scheme::HTTP, "other.com", 80).is_some());

        let proxies = env(&[("ALL_PROXY", "p:1"), ("NO_PROXY", ""), ("no_proxy", "example.com")]);
        assert_eq!(http_proxy(&proxies), None);
    }

    #[test]
    fn env_proxies_never_apply_to_loopback_go() {
        let proxies = env(&[("ALL_PROXY", "p:1")]);
        for host in ["localhost", "LocalHost.", "app.localhost", "127.0.0.1", "127.9.9.9", "::1", "[::1]"] {
            assert!(proxies.select(&Scheme::HTTP, host, 80).is_none(), "{host}");
        }
        for host in ["localhost.example", "notlocalhost", "128.0.0.1", "::2"] {
            assert!(proxies.select(&Scheme::HTTP, host, 80).is_some(), "{host}");
        }
    }

    #[test]
    fn configured_proxies_apply_to_loopback_too() {
        let all = Proxies::all(proxy("p:1"));
        let each = Proxies::none().http(proxy("h:1")).https(proxy("s:2"));
        for proxies in [all, each] {
            assert!(proxies.select(&Scheme::HTTP, "localhost", 80).is_some());
            assert!(proxies.select(&Scheme::HTTPS, "127.0.0.1", 443).is_some());
        }
    }

    #[test]
    fn builder_sets_each_scheme_and_no_proxy() {
        let proxies = Proxies::none().http(proxy("h:1"));
        assert!(!proxies.is_empty());
        assert_eq!(http_proxy(&proxies), Some("h:1"));
        assert_eq!(https_proxy(&proxies), None);

        let proxies = Proxies::all(proxy("p:1")).no_proxy(NoProxy::parse("example.com"));
        assert_eq!(http_proxy(&proxies), None);
        assert_eq!(authority(proxies.select(&Scheme::HTTPS, "example.org", 443)), Some("p:1"));
        assert!(Proxies::none().no_proxy(NoProxy::parse("*")).is_empty());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let proxies = env(&[("HTTPS_PROXY", "http://user:hunter2@proxy:3128")]);
        let debug = format!("{proxies:?}");
        assert!(debug.contains("proxy:3128") && !debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn no_proxy_star_matches_every_host() {
        let no_proxy = NoProxy::parse("example.com, *");
        for host in ["anything.org", "10.0.0.1", "::1"] {
            assert!(no_proxy.matches(host, 443), "{host}");
        }
        assert!(!NoProxy::parse("*example.com").matches("anything.org", 80));
    }

    #[test]
    fn no_proxy_domain_matches_itself_and_subdomains_curl() {
        let no_proxy = NoProxy::parse("example.com");
        for host in ["example.com", "a.example.com", "a.b.example.com"] {
            assert!(no_proxy.matches(host, 80), "{host}");
        }
        for host in ["notexample.com", "example.com.evil", "com", "example.org"] {
            assert!(!no_proxy.matches(host, 80), "{host}");
        }
    }

    #[test]
    fn no_proxy_leading_dot_or_star_dot_means_the_same_curl() {
        for list in [".example.com", "*.example.com"] {
            let no_proxy = NoProxy::parse(list);
            assert!(no_proxy.matches("example.com", 80), "{list}");
            assert!(no_proxy.matches("a.example.com", 80), "{list}");
            assert!(!no_proxy.matches("notexample.com", 80), "{list}");
        }
    }

    #[test]
    fn no_proxy_separators_are_commas_and_whitespace_empty_entries_ignored() {
        let no_proxy = NoProxy::parse(" a.com,,b.com\tc.com ,\n d.com ,");
        for host in ["a.com", "b.com", "c.com", "d.com"] {
            assert!(no_proxy.matches(host, 80), "{host}");
        }
        assert_eq!(NoProxy::parse(" , ,"), NoProxy::default());
    }

    #[test]
    fn no_proxy_ignores_case_and_trailing_dots() {
        let no_proxy = NoProxy::parse("Example.COM.");
        for host in ["example.com", "EXAMPLE.com.", "www.Example.Com"] {
            assert!(no_proxy.matches(host, 80), "{host}");
        }
        assert!(NoProxy::parse("10.0.0.1.").matches("10.0.0.1", 80));
    }

    #[test]
    fn no_proxy_ip_literal_matches_the_same_address() {
        let no_proxy = NoProxy::parse("10.1.2.3, 0:0::1, [fe80::2]");
        for host in ["10.1.2.3", "::1", "0::0:1", "fe80::2", "FE80:0::2", "::ffff:10.1.2.3"] {
            assert!(no_proxy.matches(host, 80), "{host}");
        }
        for host in ["10.1.2.4", "fe80::3", "10.1.2.3.example"] {
            assert!(!no_proxy.matches(host, 80), "{host}");
        }
    }

    #[test]
    fn no_proxy_ip_and_name_never_match_each_other() {
        assert!(!NoProxy::parse("127.0.0.1").matches("localhost", 80));
        assert!(!NoProxy::parse("0.1").matches("10.0.0.1", 80));
        assert!(!NoProxy::parse("localhost").matches("127.0.0.1", 80));
    }

    #[test]
    fn no_proxy_cidr_v4_matches_addresses_in_the_block() {
        let no_proxy = NoProxy::parse("10.0.0.0/8, 192.168.1.77/24");
        for host in ["10.0.0.1", "10.255.255.255", "192.168.1.1", "::ffff:10.2.3.4"] {
            assert!(no_proxy.matches(host, 80), "{host}");
        }
        for host in ["11.0.0.1", "192.168.2.1", "10.example", "::1"] {
            assert!(!no_proxy.matches(host, 80), "{host}");
        }
        assert!(NoProxy::parse("0.0.0.0/0").matches("8.8.8.8", 80));
    }

    #[test]
    fn no_proxy_cidr_v6_matches_addresses_in_the_block() {
        let no_proxy = NoProxy::parse("fe80::/10, [2001:db8::]/32");
        for host in ["fe80::1", "febf::1", "2001:db8:1::1"] {
            assert!(no_proxy.matches(host, 80), "{host}");
        }
        for host in ["fec0::1", "2001:db9::1", "10.0.0.1"] {
            assert!(!no_proxy.matches(host, 80), "{host}");
        }
    }

    #[test]
    fn no_proxy_port_restricts_the_entry_to_that_port_go() {
        let no_proxy = NoProxy::parse("example.com:8080, 10.1.2.3:80, [::1]:8443, plain.com");
        assert!(no_proxy.matches("a.example.com", 8080));
        assert!(!no_proxy.matches("example.com", 80));
        assert!(no_proxy.matches("10.1.2.3", 80));
        assert!(!no_proxy.matches("10.1.2.3", 443));
        assert!(no_proxy.matches("::1", 8443));
        assert!(!no_proxy.matches("::1", 443));
        assert!(no_proxy.matches("plain.com", 1));
    }

    #[test]
    fn no_proxy_entries_that_make_no_sense_are_ignored_go() {
        let list = "[::1, ::1]x, :80, ., *., a.com:http, a.com:99999, 10.0.0.0/33, fe80::/129, x/8, [host]x";
        assert_eq!(NoProxy::parse(list), NoProxy::default());
        assert!(NoProxy::parse("bad:port, good.com").matches("good.com", 80));
    }

    #[test]
    fn no_proxy_empty_list_matches_nothing() {
        assert!(!NoProxy::parse("").matches("example.com", 80));
        assert!(!NoProxy::default().matches("localhost", 80));
    }
}

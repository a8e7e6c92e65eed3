//! Following redirects, with Go's `http.Client` rules as the default policy
//! (docs/go-transport.md, "Redirects"): at most 10 hops; 301, 302 and 303
//! turn any method but GET and HEAD into a GET without a body; 307 and 308
//! keep the method and the body, or return the 3xx when the body cannot be
//! sent again; credentials stay behind when the host changes; an https page
//! never leads to http unless the policy allows it; a loop is an error.
//!
//! The loop runs above the exchange: each hop is a whole request (pooled
//! connection, retries), the previous hop's body is read out (up to 2 KiB,
//! as Go does) so its connection is reused, and the client's total timeout
//! covers every hop.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use http::header::{
    AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HOST, PROXY_AUTHORIZATION,
    REFERER, TRANSFER_ENCODING, WWW_AUTHENTICATE,
};
use http::uri::{Authority, Scheme};
use http::{HeaderValue, Method, Response, StatusCode, Uri};

use super::body::Body;
use super::engine::Engine;
use super::error::{BoxError, Error};
use super::full::Empty;
use super::options::Options;
use super::request::{Answer, hop, respond, route};
use super::request_builder::ResponseFuture;
use super::runtime::Runtime;
use super::trace::TraceEvent;
use super::upload::Upload;
use crate::proto::{RequestHead, ResponseHead};

/// Hops the default policy follows before it fails (Go's and reqwest's).
const DEFAULT_MAX_HOPS: usize = 10;

/// Bytes of a redirect's own body read out so that its connection can be
/// reused (Go's `maxBodySlurpSize`); a longer one closes the connection.
const MAX_DRAIN: usize = 2 << 10;

/// Which redirects a client follows: [`ClientBuilder::redirect`](super::ClientBuilder::redirect).
///
/// The default follows up to 10 and fails on the 11th or on a loop (a URL
/// already visited); [`none`](Self::none) returns every 3xx as it is;
/// [`custom`](Self::custom) decides each hop. Whatever the policy, an
/// `https` URL redirecting to `http` fails unless
/// [`allow_https_downgrade`](Self::allow_https_downgrade) was set.
#[derive(Clone)]
pub struct Policy {
    kind: Kind,
    allow_downgrade: bool,
}

#[derive(Clone)]
enum Kind {
    Limited(usize),
    None,
    Custom(Arc<dyn Fn(Attempt<'_>) -> Action + Send + Sync>),
}

impl Policy {
    /// Follows at most `max` redirects; the next one, or a loop, fails the
    /// request with an error that [`Error::is_redirect`] recognises.
    pub fn limited(max: usize) -> Self {
        Self { kind: Kind::Limited(max), allow_downgrade: false }
    }

    /// Follows none: every 3xx is the response.
    pub fn none() -> Self {
        Self { kind: Kind::None, allow_downgrade: false }
    }

    /// Asks `decide` at each redirect the client would follow (301, 302,
    /// 303, 307 or 308 with a usable `Location`).
    ///
    /// ```
    /// use roundtrip_core::client::redirect::Policy;
    /// // Stay on one host, at most 5 hops.
    /// let policy = Policy::custom(|attempt| {
    ///     if attempt.previous().len() > 5 {
    ///         attempt.error("too many redirects")
    ///     } else if attempt.url().host() != attempt.previous()[0].host() {
    ///         attempt.stop()
    ///     } else {
    ///         attempt.follow()
    ///     }
    /// });
    /// # drop(policy);
    /// ```
    pub fn custom(decide: impl Fn(Attempt<'_>) -> Action + Send + Sync + 'static) -> Self {
        Self { kind: Kind::Custom(Arc::new(decide)), allow_downgrade: false }
    }

    /// Lets an `https` URL redirect to an `http` one (Go follows those;
    /// curl and browsers warn). Credentials are never carried across it.
    pub fn allow_https_downgrade(mut self) -> Self {
        self.allow_downgrade = true;
        self
    }

    pub(crate) fn follows_any(&self) -> bool {
        !matches!(self.kind, Kind::None)
    }

    fn decide(&self, attempt: Attempt<'_>) -> Action {
        match &self.kind {
            Kind::None => attempt.stop(),
            Kind::Limited(max) if attempt.previous.len() > *max => {
                attempt.error(format!("stopped after {max} redirects"))
            }
            Kind::Limited(_) if attempt.previous.contains(attempt.next) => {
                let next = attempt.next;
                attempt.error(format!("redirect loop at {next}"))
            }
            Kind::Limited(_) => attempt.follow(),
            Kind::Custom(decide) => decide(attempt),
        }
    }
}

impl Default for Policy {
    /// Up to 10 redirects, as Go's `http.Client` and reqwest.
    fn default() -> Self {
        Self::limited(DEFAULT_MAX_HOPS)
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Policy");
        match &self.kind {
            Kind::Limited(max) => d.field("max", max),
            Kind::None => d.field("follow", &false),
            Kind::Custom(_) => d.field("custom", &true),
        };
        d.field("allow_https_downgrade", &self.allow_downgrade).finish()
    }
}

/// One redirect the client is about to follow, for a [`Policy::custom`].
#[derive(Debug)]
pub struct Attempt<'a> {
    status: StatusCode,
    next: &'a Uri,
    previous: &'a [Uri],
}

impl<'a> Attempt<'a> {
    /// The redirect's status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Where it leads, resolved against the URL that answered.
    pub fn url(&self) -> &'a Uri {
        self.next
    }

    /// The URLs requested so far, the first request's first: its length is
    /// the number of hops this one would add to.
    pub fn previous(&self) -> &'a [Uri] {
        self.previous
    }

    /// Follow it.
    pub fn follow(self) -> Action {
        Action(ActionKind::Follow)
    }

    /// Return the redirect itself as the response.
    pub fn stop(self) -> Action {
        Action(ActionKind::Stop)
    }

    /// Fail the request with `error` as the cause ([`Error::is_redirect`]).
    pub fn error(self, error: impl Into<BoxError>) -> Action {
        Action(ActionKind::Error(error.into()))
    }
}

/// What a [`Policy`] decided: made by [`Attempt::follow`], [`Attempt::stop`]
/// and [`Attempt::error`].
#[derive(Debug)]
pub struct Action(ActionKind);

#[derive(Debug)]
enum ActionKind {
    Follow,
    Stop,
    Error(BoxError),
}

/// On a response reached through redirects: every URL requested, the
/// first request's first and the one that answered last. Absent when no
/// redirect was followed (the response is then the request's own URL's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirects(pub(crate) Vec<Uri>);

impl Redirects {
    /// The URL that gave this response.
    pub fn final_url(&self) -> &Uri {
        // Never empty: made with the first URL and at least one hop.
        &self.0[self.0.len() - 1]
    }

    /// Every URL requested, in order.
    pub fn urls(&self) -> &[Uri] {
        &self.0
    }
}

/// [`follow`], boxed, and built out of line: a request that is not
/// redirected carries neither its state nor its code.
#[inline(never)]
pub(super) fn follow_boxed<R: Runtime>(
    engine: Arc<Engine<R>>,
    head: RequestHead,
    upload: Upload,
    options: Options,
    deadline: Option<Instant>,
    answer: Answer<R>,
) -> ResponseFuture<R> {
    ResponseFuture::new(follow(engine, head, upload, options, deadline, answer))
}

/// A 3xx arrived for `head`: follows the redirects the policy allows and
/// gives the response of the last hop.
async fn follow<R: Runtime>(
    engine: Arc<Engine<R>>,
    mut head: RequestHead,
    mut upload: Upload,
    options: Options,
    deadline: Option<Instant>,
    mut answer: Answer<R>,
) -> Result<Response<Body<R>>, Error> {
    let policy = &engine.config.redirect;
    let mut urls = vec![head.uri.clone()];
    let start = answer.timings.start();
    loop {
        let status = answer.response.status();
        let next = match next_hop(policy, status, &head, &answer.response, &urls, &mut upload)? {
            Some(next) => next,
            None => return respond(&head, answer, upload, options, deadline, urls),
        };
        options.trace(|| TraceEvent::Redirect { status, location: next.uri.clone() });
        // The redirect's own body, read out so its connection is reused; one
        // past the limit fails and is dropped, which closes the connection.
        let placeholder = Upload::new(Empty, 0);
        let body = Body::new(
            answer.leased,
            answer.kind,
            placeholder,
            options.clone(),
            deadline,
            #[cfg(feature = "gzip")]
            None,
        );
        let _ = body.bytes(MAX_DRAIN).await;
        if !next.keeps_body {
            upload = Upload::new(Empty, 0);
        }
        rewrite(&mut head, next);
        let target = route(&engine, &mut head)?;
        urls.push(head.uri.clone());
        answer = hop(&engine, &target, &head, &mut upload, &options, deadline).await?;
        answer.timings.after_redirects(answer.timings.start().saturating_duration_since(start));
    }
}

/// The next request of a redirect the policy follows.
struct Next {
    uri: Uri,
    method: Method,
    keeps_body: bool,
}

/// Decides on the redirect `response` to `head`: `None` returns it as the
/// response.
fn next_hop(
    policy: &Policy,
    status: StatusCode,
    head: &RequestHead,
    response: &ResponseHead,
    urls: &[Uri],
    upload: &mut Upload,
) -> Result<Option<Next>, Error> {
    let (method, keeps_body) = match status.as_u16() {
        // Go keeps GET and HEAD and turns every other method into a GET
        // without its body (RFC 9110 §15.4.2-4 allow it for 301 and 302).
        301..=303 => match head.method {
            Method::GET | Method::HEAD => (head.method.clone(), false),
            _ => (Method::GET, false),
        },
        // The same method and body (RFC 9110 §15.4.8-9), or the 3xx itself
        // when the body cannot be produced again.
        307 | 308 => {
            if upload.length() != crate::proto::BodyLength::Empty && !upload.rewind() {
                return Ok(None);
            }
            (head.method.clone(), true)
        }
        _ => return Ok(None),
    };
    // No `Location`, as Go: the 3xx is the response.
    let Some(location) = response.get("location") else { return Ok(None) };
    let uri = resolve(&head.uri, location).map_err(Error::redirect)?;
    if head.uri.scheme() == Some(&Scheme::HTTPS)
        && uri.scheme() == Some(&Scheme::HTTP)
        && !policy.allow_downgrade
    {
        return Err(Error::redirect(format!("refused a redirect from https to http ({uri})")));
    }
    let attempt = Attempt { status, next: &uri, previous: urls };
    match policy.decide(attempt).0 {
        ActionKind::Follow => Ok(Some(Next { uri, method, keeps_body })),
        ActionKind::Stop => Ok(None),
        ActionKind::Error(error) => Err(Error::redirect(error)),
    }
}

/// Turns `head` into the request for `next`.
fn rewrite(head: &mut RequestHead, next: Next) {
    let headers = &mut head.headers;
    if !next.keeps_body {
        for name in [CONTENT_LENGTH, CONTENT_TYPE, CONTENT_ENCODING, TRANSFER_ENCODING] {
            headers.remove(name);
        }
    }
    // Credentials go only where they were sent first, or to its subdomains
    // (Go's shouldCopyHeaderOnRedirect), and never over plain http after
    // https. The proxy's are added again by the route if it wants them.
    let downgrade = head.uri.scheme() == Some(&Scheme::HTTPS) && next.uri.scheme() != Some(&Scheme::HTTPS);
    if downgrade || !same_or_subdomain(head.uri.host(), next.uri.host()) {
        for name in [AUTHORIZATION, WWW_AUTHENTICATE, COOKIE] {
            headers.remove(name);
        }
        headers.remove("cookie2");
    }
    headers.remove(PROXY_AUTHORIZATION);
    if head.uri.authority() != next.uri.authority() {
        headers.remove(HOST);
    }
    // The page that sent us, as Go and browsers do; none from https to http.
    if !downgrade && let Some(referer) = referer(&head.uri) {
        headers.insert(REFERER, referer);
    } else {
        headers.remove(REFERER);
    }
    head.method = next.method;
    head.uri = next.uri;
}

/// `from` without user information (never sent as a Referer).
fn referer(from: &Uri) -> Option<HeaderValue> {
    let authority = from.authority()?;
    let host_port = authority.as_str().rsplit('@').next()?;
    let path = from.path_and_query().map_or("/", |p| p.as_str());
    HeaderValue::try_from(format!("{}://{host_port}{path}", from.scheme_str()?)).ok()
}

/// `to` is `from` or one of its subdomains, compared without case.
fn same_or_subdomain(from: Option<&str>, to: Option<&str>) -> bool {
    from.zip(to).is_some_and(|(from, to)| crate::proxy::is_domain_or_subdomain(to, from))
}

/// Resolves a `Location` value against the URL that answered (RFC 3986
/// §5.2, as RFC 9110 §10.2.2 asks): absolute, scheme-relative (`//host/x`),
/// absolute-path, relative-path and query-only forms. The fragment is
/// dropped; bytes a URI may not hold (spaces, UTF-8) are percent-encoded,
/// as Go's parser accepts them.
fn resolve(base: &Uri, location: &[u8]) -> Result<Uri, BoxError> {
    let mut location = encode(location);
    if let Some(hash) = location.find('#') {
        location.truncate(hash);
    }
    let scheme = base.scheme_str().ok_or("the redirected URL has no scheme")?;
    let authority = base.authority().map(Authority::as_str).ok_or("the redirected URL has no host")?;
    let joined = if location.starts_with("//") {
        format!("{scheme}:{location}")
    } else if has_scheme(&location) {
        location
    } else if location.starts_with('/') {
        format!("{scheme}://{authority}{}", remove_dot_segments(&location))
    } else if location.is_empty() || location.starts_with('?') {
        format!("{scheme}://{authority}{}{location}", base.path())
    } else {
        let dir = base.path().rfind('/').map_or("/", |i| &base.path()[..=i]);
        format!("{scheme}://{authority}{}", remove_dot_segments(&format!("{dir}{location}")))
    };
    let uri = Uri::try_from(joined).map_err(|e| format!("bad Location: {e}"))?;
    match uri.scheme() {
        Some(s) if (*s == Scheme::HTTP || *s == Scheme::HTTPS) && uri.host().is_some() => Ok(uri),
        _ => Err(format!("a redirect to {uri}, which is not an http or https URL").into()),
    }
}

/// `scheme:` at the start (RFC 3986 §3.1).
fn has_scheme(s: &str) -> bool {
    let Some(colon) = s.find(':') else { return false };
    let scheme = &s[..colon];
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The bytes of a `Location` as URI text: printable ASCII as it is, the
/// rest as `%XX`.
fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_graphic() {
            out.push(char::from(b));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.extend(['%', char::from(HEX[usize::from(b >> 4)]), char::from(HEX[usize::from(b & 0xf)])]);
        }
    }
    out
}

/// RFC 3986 §5.2.4 on a path with an optional query.
fn remove_dot_segments(path_and_query: &str) -> String {
    let (path, query) = match path_and_query.find('?') {
        Some(i) => path_and_query.split_at(i),
        None => (path_and_query, ""),
    };
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}{query}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(base: &str, location: &str) -> String {
        resolve(&base.parse().unwrap(), location.as_bytes())
            .map(|u| u.to_string())
            .unwrap_or_else(|e| e.to_string())
    }

    /// RFC 3986 §5.4.1's normal examples that an HTTP redirect can carry.
    #[test]
    fn locations_resolve_as_rfc_3986_says() {
        let base = "http://a/b/c/d;p?q";
        for (location, want) in [
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g/"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p"),
            ("g#s", "http://a/b/c/g"),
            ("..", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../g", "http://a/g"),
            ("../../../g", "http://a/g"),
            ("https://other:8443/x?y", "https://other:8443/x?y"),
            ("/a b/é", "http://a/a%20b/%C3%A9"),
        ] {
            assert_eq!(resolved(base, location), want, "{location}");
        }
    }

    #[test]
    fn locations_that_are_not_http_are_refused() {
        for location in ["ftp://a/x", "javascript:alert(1)", "mailto:x@y", "http://"] {
            let got = resolve(&"http://a/".parse().unwrap(), location.as_bytes());
            assert!(got.is_err(), "{location}: {got:?}");
        }
    }

    #[test]
    fn subdomains_keep_credentials_other_hosts_do_not() {
        assert!(same_or_subdomain(Some("example.com"), Some("example.com")));
        assert!(same_or_subdomain(Some("example.com"), Some("API.example.com")));
        assert!(!same_or_subdomain(Some("example.com"), Some("badexample.com")));
        assert!(!same_or_subdomain(Some("api.example.com"), Some("example.com")));
        assert!(!same_or_subdomain(Some("example.com"), None));
    }

    #[test]
    fn the_referer_never_carries_user_information() {
        let from: Uri = "https://user:pw@example.com:8443/a?b".parse().unwrap();
        assert_eq!(referer(&from).unwrap(), "https://example.com:8443/a?b");
    }
}

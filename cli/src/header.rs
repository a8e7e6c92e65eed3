//! `-H 'Name: value'`, as both tools take it.

use roundtrip::http::{HeaderName, HeaderValue};

/// Parses one `Name: value` argument; the error is one line for the user.
pub fn parse(header: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, value) =
        header.split_once(':').ok_or_else(|| format!("bad header {header:?}: need Name: value"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| format!("bad header name in {header:?}"))?;
    let value = HeaderValue::from_str(value.trim()).map_err(|_| format!("bad header value in {header:?}"))?;
    Ok((name, value))
}

//! Byte classes of RFC 9110 §5.6.2 and the checks built on them.

/// `tchar` of RFC 9110 §5.6.2: the bytes allowed in a token.
const fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' |
        b'^' | b'_' | b'`' | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

static TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = is_tchar(i as u8);
        i += 1;
    }
    table
};

/// True when `bytes` is a non-empty token (method, field name, coding name).
pub(crate) fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|&b| TCHAR[b as usize])
}

/// True when a field value may be written: VCHAR, obs-text, SP and HTAB only
/// (RFC 9110 §5.5), so no control byte but HTAB and no DEL. The same rule as
/// Go's `httpguts.ValidHeaderFieldValue` and `http::HeaderValue`'s checked
/// constructors; CR, LF and NUL are what make it a security check.
///
/// Written as a branch-free fold so it vectorises; this runs for every header
/// of every request.
pub(crate) fn is_valid_field_value(bytes: &[u8]) -> bool {
    !bytes.iter().fold(false, |bad, &b| bad | ((b < b' ') & (b != b'\t')) | (b == 0x7f))
}

/// True when `bytes` holds an obs-fold (RFC 9112 §5.2): a line break (CRLF or
/// a bare LF) followed by SP or HTAB.
pub(crate) fn has_obs_fold(bytes: &[u8]) -> bool {
    bytes.windows(2).any(|w| w[0] == b'\n' && matches!(w[1], b' ' | b'\t'))
}

/// Replaces each obs-fold in `bytes` (RFC 9112 §5.2: `OWS CRLF RWS`, a bare LF
/// counting as CRLF) with one SP, in place, moving what follows forward; returns
/// the new length. One SP per fold, trimmed of the whitespace around it, is how
/// Go's textproto joins continuation lines. A line break not followed by SP or
/// HTAB is kept: it ends a line.
pub(crate) fn unfold_in_place(bytes: &mut [u8]) -> usize {
    let (mut read, mut write) = (0, 0);
    while read < bytes.len() {
        let after_break = match bytes[read] {
            b'\r' if bytes.get(read + 1) == Some(&b'\n') => read + 2,
            b'\n' => read + 1,
            _ => 0,
        };
        if after_break > 0 && matches!(bytes.get(after_break), Some(b' ' | b'\t')) {
            while write > 0 && matches!(bytes[write - 1], b' ' | b'\t') {
                write -= 1;
            }
            read = after_break;
            while read < bytes.len() && matches!(bytes[read], b' ' | b'\t') {
                read += 1;
            }
            // `write < read`: the fold took at least two bytes and gives one.
            bytes[write] = b' ';
        } else {
            bytes[write] = bytes[read];
            read += 1;
        }
        write += 1;
    }
    write
}

/// Iterates the elements of a comma-separated list (RFC 9110 §5.6.1), trimmed of
/// optional whitespace, skipping empty elements.
pub(crate) fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(|item| item.trim_ascii()).filter(|item| !item.is_empty())
}

/// True when the comma-separated `value` contains `token` (case-insensitive).
pub(crate) fn list_contains(value: &[u8], token: &[u8]) -> bool {
    list_elements(value).any(|item| item.eq_ignore_ascii_case(token))
}

/// Parses a `Content-Length` value: one or more ASCII digits, nothing else
/// (RFC 9110 §8.6; no sign, no whitespace inside, no empty value).
pub(crate) fn parse_content_length(value: &[u8]) -> Option<u64> {
    if value.is_empty() {
        return None;
    }
    value.iter().try_fold(0u64, |n, &b| {
        if b.is_ascii_digit() { n.checked_mul(10)?.checked_add(u64::from(b - b'0')) } else { None }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_accepts_digits_only_rfc9110_8_6() {
        assert_eq!(parse_content_length(b"0"), Some(0));
        assert_eq!(parse_content_length(b"010"), Some(10));
        assert_eq!(parse_content_length(b"18446744073709551615"), Some(u64::MAX));
        for bad in [
            &b""[..],
            b"+5",
            b"-1",
            b"0x5",
            b"5.0",
            b"1 2",
            b"1_0",
            b"5;",
            b" 5",
            b"18446744073709551616",
            b"99999999999999999999",
            "\u{665}".as_bytes(),
        ] {
            assert_eq!(parse_content_length(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn list_elements_skip_empty_items_rfc9110_5_6_1() {
        let items: Vec<&[u8]> = list_elements(b" ,chunked , ,gzip,").collect();
        assert_eq!(items, [&b"chunked"[..], b"gzip"]);
        assert!(list_contains(b"keep-alive, Close", b"close"));
        assert!(!list_contains(b"closed", b"close"));
    }

    #[test]
    fn tokens_match_rfc9110_tchar() {
        assert!(is_token(b"GET"));
        assert!(is_token(b"x-custom_header.1"));
        assert!(!is_token(b""));
        assert!(!is_token(b"a b"));
        assert!(!is_token(b"a:b"));
        assert!(!is_token(b"a\x7f"));
    }

    #[test]
    fn obs_fold_becomes_one_sp_rfc9112_5_2() {
        let unfold = |input: &[u8]| {
            let mut bytes = input.to_vec();
            let n = unfold_in_place(&mut bytes);
            bytes.truncate(n);
            bytes
        };
        assert_eq!(unfold(b"a\r\n b"), b"a b");
        assert_eq!(unfold(b"a \t\r\n\t  b\n c"), b"a b c");
        assert_eq!(unfold(b"a\r\n \r\n b"), b"a b");
        assert_eq!(unfold(b"x: a\r\n b\r\ny: c\r\n\r\n"), b"x: a b\r\ny: c\r\n\r\n");
        assert_eq!(unfold(b"no fold\r\n"), b"no fold\r\n");
        assert!(has_obs_fold(b"a\n\tb") && has_obs_fold(b"a\r\n b"));
        assert!(!has_obs_fold(b"a\r\nb\r\n\r\n"));
    }

    #[test]
    fn field_values_are_vchar_obs_text_sp_htab_rfc9110_5_5() {
        assert!(is_valid_field_value(b"text/html; charset=\xff\t"));
        assert!(is_valid_field_value(b""));
        assert!(is_valid_field_value(&(b' '..=b'~').chain(0x80..=0xff).chain([b'\t']).collect::<Vec<u8>>()));
        for b in (0..b' ').filter(|&b| b != b'\t').chain([0x7f]) {
            assert!(!is_valid_field_value(&[b'a', b, b'b']), "{b:#x}");
            // Every position of a vector-sized input.
            for at in 0..40 {
                let mut value = vec![b'v'; 40];
                value[at] = b;
                assert!(!is_valid_field_value(&value), "{b:#x} at {at}");
            }
        }
    }
}

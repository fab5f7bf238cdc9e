//! Writing bytes down so that a person can read them and a program can
//! turn them back into exactly the same bytes.
//!
//! A check's request is raw bytes, often on purpose not valid HTTP: a
//! stray `\xff`, a bare `\n`, a header of 16 KiB. The report shows them,
//! and its `try:` line hands them to the `send` command to reproduce the
//! check by hand. Both use one notation:
//!
//! - printable ASCII stands for itself, except `\` and `'`;
//! - `\r`, `\n`, `\t` and `\\` are what they look like;
//! - every other byte, `'` included, is `\xNN`.
//!
//! Leaving `'` out means the text can sit inside single quotes in a POSIX
//! shell or PowerShell with no further quoting. [`unescape`] is the exact
//! inverse of [`escape`], which a test proves for every byte.
//!
//! [`summarise`] is for the eye only: long runs of one byte become
//! `"x" × 1024`, so a report does not print a page of `x`.

use std::fmt::Write as _;

/// `bytes` in the notation above.
pub fn escape(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for &byte in bytes {
        match byte {
            b'\r' => text.push_str(r"\r"),
            b'\n' => text.push_str(r"\n"),
            b'\t' => text.push_str(r"\t"),
            b'\\' => text.push_str(r"\\"),
            b'\'' => text.push_str(r"\x27"),
            b' '..=b'~' => text.push(byte as char),
            _ => {
                let _ = write!(text, "\\x{byte:02x}");
            }
        }
    }
    text
}

/// The bytes that `text`, written in the notation above, stands for.
pub fn unescape(text: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut utf8 = [0; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            continue;
        }
        match chars.next() {
            Some('r') => bytes.push(b'\r'),
            Some('n') => bytes.push(b'\n'),
            Some('t') => bytes.push(b'\t'),
            Some('\\') => bytes.push(b'\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                let byte = u8::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 2)
                    .ok_or_else(|| {
                        format!("\\x must be followed by two hex digits, not {hex:?}")
                    })?;
                bytes.push(byte);
            }
            Some(other) => return Err(format!("unknown escape \\{other}")),
            None => return Err("a lone \\ at the end".to_string()),
        }
    }
    Ok(bytes)
}

/// How long a run of one byte must be before [`summarise`] shortens it.
const LONG_RUN: usize = 32;

/// `bytes` for a person: quoted pieces of [`escape`]d text, with every run
/// of more than 32 equal bytes written as `"x" × 1024`.
pub fn summarise(bytes: &[u8]) -> String {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..].iter().take_while(|&&b| b == bytes[i]).count();
        if run > LONG_RUN {
            if start < i {
                parts.push(format!("\"{}\"", escape(&bytes[start..i])));
            }
            parts.push(format!("\"{}\" × {run}", escape(&bytes[i..=i])));
            i += run;
            start = i;
        } else {
            i += run;
        }
    }
    if start < bytes.len() || parts.is_empty() {
        parts.push(format!("\"{}\"", escape(&bytes[start..])));
    }
    parts.join(" + ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_undoes_escape_for_every_byte() {
        let every_byte: Vec<u8> = (0..=255).collect();
        assert_eq!(unescape(&escape(&every_byte)), Ok(every_byte));
    }

    #[test]
    fn escape_table() {
        let rows: [(&[u8], &str); 4] = [
            (b"GET / HTTP/1.1\r\n\r\n", r"GET / HTTP/1.1\r\n\r\n"),
            (b"GET /\xff HTTP/1.1", r"GET /\xff HTTP/1.1"),
            (b"it's a \\", r"it\x27s a \\"),
            (b"\x00\t", r"\x00\t"),
        ];
        for (bytes, text) in rows {
            assert_eq!(escape(bytes), text);
        }
    }

    #[test]
    fn unescape_refuses_what_escape_never_writes() {
        for text in [r"\q", r"\x4", r"\xzz", "\\"] {
            assert!(unescape(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn summarise_table() {
        let body = [b"POST /echo HTTP/1.1\r\n\r\n".as_slice(), &[b'x'; 1024]].concat();
        let rows: [(&[u8], &str); 3] = [
            (b"GET /\r\n\r\n", r#""GET /\r\n\r\n""#),
            (&body, r#""POST /echo HTTP/1.1\r\n\r\n" + "x" × 1024"#),
            (&[b'a'; 40], r#""a" × 40"#),
        ];
        for (bytes, text) in rows {
            assert_eq!(summarise(bytes), text);
        }
    }
}

//! What a request is, and how its head is parsed.
//!
//! The parsing rules are day 2's (see that chapter), with three changes for
//! a server that keeps connections open:
//! - the HTTP version matters: it decides whether the connection stays open
//!   ([`Request::keep_alive`]);
//! - the body is bytes, handed to `serde_json` as they are;
//! - anything that could make two programs disagree about where a request
//!   ends is refused, since on a kept-open connection the next request
//!   starts right there ([`body_length`]).
//!
//! Reading the bytes off the socket lives in `connection.rs`, which owns the
//! buffer that carries leftover bytes from one request to the next.

use std::collections::HashMap;

// ANCHOR: limits
/// The request line and headers may not be longer than this.
pub const MAX_HEAD_SIZE: usize = 8 * 1024;

/// The largest body we accept.
pub const MAX_BODY_SIZE: usize = 1024 * 1024;
// ANCHOR_END: limits

/// The HTTP version of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

/// One parsed request.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// Percent-decoded query pairs.
    pub query: HashMap<String, String>,
    pub version: Version,
    /// Header names in lower case; repeated headers joined with `, `.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Request {
    /// The value of header `name`, which must be given in lower case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    // ANCHOR: keep_alive
    /// Whether the client wants the connection kept open after this request.
    ///
    /// HTTP/1.1 keeps connections open unless told `Connection: close`;
    /// HTTP/1.0 closes them unless told `Connection: keep-alive` (RFC 9112,
    /// section 9.3).
    pub fn keep_alive(&self) -> bool {
        let connection = self.header("connection").unwrap_or_default();
        let says = |word: &str| {
            connection
                .split(',')
                .any(|token| token.trim().eq_ignore_ascii_case(word))
        };
        match self.version {
            Version::Http11 => !says("close"),
            Version::Http10 => says("keep-alive"),
        }
    }
    // ANCHOR_END: keep_alive

    /// The request line, as the access log prints it.
    pub fn line(&self) -> String {
        let version = match self.version {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        };
        format!("{} {} {version}", self.method, self.path)
    }
}

// ANCHOR: request_error
/// Why no request could be read, and the status each reason gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// The connection closed mid-request.
    Incomplete,
    /// Part of a request arrived, but not all of it in time.
    TimedOut,
    /// The head is over [`MAX_HEAD_SIZE`].
    HeadTooLarge,
    /// The body is over [`MAX_BODY_SIZE`].
    BodyTooLarge,
    /// A chunked body, which we do not decode.
    LengthRequired,
    /// Not HTTP/1.0 or HTTP/1.1.
    UnsupportedVersion,
    /// Malformed, with the reason for the client.
    Malformed(&'static str),
}

impl RequestError {
    /// The status code to answer with.
    pub fn status(&self) -> u16 {
        match self {
            RequestError::Incomplete | RequestError::Malformed(_) => 400,
            RequestError::TimedOut => 408,
            RequestError::LengthRequired => 411,
            RequestError::BodyTooLarge => 413,
            RequestError::HeadTooLarge => 431,
            RequestError::UnsupportedVersion => 505,
        }
    }

    /// What to tell the client.
    pub fn message(&self) -> &'static str {
        match self {
            RequestError::Incomplete => "the connection closed before the request was complete",
            RequestError::TimedOut => "the request took too long to arrive",
            RequestError::HeadTooLarge => "the request line and headers are larger than 8 KiB",
            RequestError::BodyTooLarge => "the body is larger than 1 MiB",
            RequestError::LengthRequired => {
                "chunked bodies are not supported; send a Content-Length instead"
            }
            RequestError::UnsupportedVersion => "only HTTP/1.0 and HTTP/1.1 are supported",
            RequestError::Malformed(why) => why,
        }
    }
}
// ANCHOR_END: request_error

/// A parsed head: everything but the body.
#[derive(Debug)]
pub struct Head {
    pub method: String,
    pub target: String,
    pub version: Version,
    pub headers: HashMap<String, String>,
}

/// Finds the empty line that ends the head: returns where the head's last
/// line ends and where the body starts. Accepts `\r\n` and bare `\n`.
pub fn find_head_end(buffer: &[u8]) -> Option<(usize, usize)> {
    for (i, byte) in buffer.iter().enumerate() {
        if *byte != b'\n' {
            continue;
        }
        let rest = &buffer[i + 1..];
        if rest.starts_with(b"\r\n") {
            return Some((i + 1, i + 3));
        }
        if rest.starts_with(b"\n") {
            return Some((i + 1, i + 2));
        }
    }
    None
}

/// Parses the request line and headers.
pub fn parse_head(bytes: &[u8]) -> Result<Head, RequestError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| RequestError::Malformed("the request line and headers must be UTF-8"))?;
    let mut lines = text.lines();
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(RequestError::Malformed(
            "the request line must be: METHOD /path HTTP/1.1",
        ));
    };
    if !is_token(method) {
        return Err(RequestError::Malformed("the method is not a valid token"));
    }
    if !target.starts_with('/') {
        return Err(RequestError::Malformed(
            "the request target must start with /",
        ));
    }
    let version = match version {
        "HTTP/1.1" => Version::Http11,
        "HTTP/1.0" => Version::Http10,
        v if v.starts_with("HTTP/") => return Err(RequestError::UnsupportedVersion),
        _ => {
            return Err(RequestError::Malformed(
                "the request line must end with HTTP/1.1",
            ));
        }
    };

    let mut headers: HashMap<String, String> = HashMap::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(RequestError::Malformed("a header line has no colon"));
        };
        if !is_token(name) {
            return Err(RequestError::Malformed(
                "a header name is not a valid token",
            ));
        }
        let value = value.trim_matches([' ', '\t']);
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(RequestError::Malformed(
                "a header value holds a control character",
            ));
        }
        headers
            .entry(name.to_ascii_lowercase())
            .and_modify(|existing| {
                existing.push_str(", ");
                existing.push_str(value);
            })
            .or_insert_with(|| value.to_string());
    }
    Ok(Head {
        method: method.to_string(),
        target: target.to_string(),
        version,
        headers,
    })
}

fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

// ANCHOR: body_length
/// How many body bytes follow the head.
///
/// On a connection that stays open, a disagreement about where one request
/// ends is a security hole: a proxy in front of us could read one request
/// where we read two, and the second would be smuggled past it (RFC 9112,
/// section 6.3). So every ambiguous case is refused:
/// - `Transfer-Encoding` together with `Content-Length`: 400;
/// - `Content-Length` given twice, even with the same value: 400;
/// - `Transfer-Encoding` alone (a chunked body, which we do not decode):
///   411, "send a `Content-Length`".
pub fn body_length(headers: &HashMap<String, String>) -> Result<usize, RequestError> {
    let length = headers.get("content-length");
    if headers.contains_key("transfer-encoding") {
        return Err(match length {
            Some(_) => RequestError::Malformed(
                "Transfer-Encoding and Content-Length together are ambiguous",
            ),
            None => RequestError::LengthRequired,
        });
    }
    let Some(text) = length else {
        return Ok(0);
    };
    // A repeated header arrives here joined: "5, 5".
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RequestError::Malformed(
            "Content-Length must be given once, as a whole number",
        ));
    }
    match text.parse::<usize>() {
        Ok(length) if length <= MAX_BODY_SIZE => Ok(length),
        _ => Err(RequestError::BodyTooLarge),
    }
}
// ANCHOR_END: body_length

/// Splits `/path?a=1` into the path and the percent-decoded query pairs.
pub fn split_target(target: &str) -> (String, HashMap<String, String>) {
    let Some((path, query_string)) = target.split_once('?') else {
        return (target.to_string(), HashMap::new());
    };
    let query = query_string
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect();
    (path.to_string(), query)
}

/// Decodes `%XX` escapes and `+` (a space), as day 3 does.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => decoded.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(hex),
                bytes.get(i + 2).and_then(hex),
            ) {
                (Some(high), Some(low)) => {
                    decoded.push(high * 16 + low);
                    i += 2;
                }
                _ => decoded.push(b'%'),
            },
            byte => decoded.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn hex(byte: &u8) -> Option<u8> {
    (*byte as char).to_digit(16).map(|digit| digit as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn body_length_refuses_every_ambiguity() {
        type Row = (
            &'static [(&'static str, &'static str)],
            Result<usize, RequestError>,
        );
        let rows: &[Row] = &[
            (&[], Ok(0)),
            (&[("content-length", "12")], Ok(12)),
            (
                &[("content-length", "5, 5")],
                Err(RequestError::Malformed(
                    "Content-Length must be given once, as a whole number",
                )),
            ),
            (
                &[("transfer-encoding", "chunked")],
                Err(RequestError::LengthRequired),
            ),
            (
                &[("transfer-encoding", "chunked"), ("content-length", "3")],
                Err(RequestError::Malformed(
                    "Transfer-Encoding and Content-Length together are ambiguous",
                )),
            ),
            (
                &[("content-length", "1048577")],
                Err(RequestError::BodyTooLarge),
            ),
        ];
        for (pairs, expected) in rows {
            assert_eq!(&body_length(&headers(pairs)), expected, "{pairs:?}");
        }
    }

    #[test]
    fn keep_alive_depends_on_version_and_connection_header() {
        let rows = [
            (Version::Http11, None, true),
            (Version::Http11, Some("close"), false),
            (Version::Http11, Some("Keep-Alive, Close"), false),
            (Version::Http10, None, false),
            (Version::Http10, Some("keep-alive"), true),
        ];
        for (version, connection, expected) in rows {
            let mut request = Request {
                method: "GET".into(),
                path: "/".into(),
                query: HashMap::new(),
                version,
                headers: HashMap::new(),
                body: Vec::new(),
            };
            if let Some(value) = connection {
                request.headers.insert("connection".into(), value.into());
            }
            assert_eq!(request.keep_alive(), expected, "{version:?} {connection:?}");
        }
    }

    #[test]
    fn parse_head_reads_version_and_lower_cases_names() {
        let head =
            parse_head(b"PATCH /todos/3?x=%41 HTTP/1.0\r\nContent-Type: application/json\r\n")
                .expect("a valid head");
        assert_eq!(head.method, "PATCH");
        assert_eq!(head.version, Version::Http10);
        assert_eq!(head.headers["content-type"], "application/json");
        let (path, query) = split_target(&head.target);
        assert_eq!(path, "/todos/3");
        assert_eq!(query["x"], "A");
    }
}

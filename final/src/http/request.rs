//! What a request is, and how its head is parsed.
//!
//! The parsing rules are day 2's (see that chapter), with these changes
//! for a server that keeps connections open and speaks HTTP/1.1 as the
//! RFCs require:
//! - the HTTP version matters: it decides whether the connection stays open
//!   ([`Request::keep_alive`]), and HTTP/1.1 requests must carry exactly one
//!   `Host` (RFC 9112, section 3.2);
//! - the target may be a path, a whole URL (`http://host/path`, the
//!   absolute form) or, for `OPTIONS`, `*` ([`Target`]);
//! - the body is bytes, handed to `serde_json` as they are, and may arrive
//!   chunked ([`Framing`], and `chunked.rs`);
//! - anything that could make two programs disagree about where a request
//!   ends is refused, since on a kept-open connection the next request
//!   starts right there ([`body_framing`]).
//!
//! Reading the bytes as they arrive, in whatever pieces, lives in
//! `reader.rs`; the socket itself in `connection.rs`.

// ANCHOR: request_use
use std::collections::HashMap;
// ANCHOR_END: request_use

// ANCHOR: size_limits
/// The request line and headers may not be longer than this.
pub const MAX_HEAD_SIZE: usize = 8 * 1024;

/// The largest body we accept; for a chunked body, the decoded total.
pub const MAX_BODY_SIZE: usize = 1024 * 1024;
// ANCHOR_END: size_limits

// ANCHOR: request_line_limit
/// A request line longer than this is answered 414 URI Too Long rather
/// than 431: the head is too large because of its target.
pub const MAX_REQUEST_LINE: usize = MAX_HEAD_SIZE;
// ANCHOR_END: request_line_limit

// ANCHOR: version
/// The HTTP version of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}
// ANCHOR_END: version

// ANCHOR: request
/// One parsed request.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// The path, without the query string; `*` for `OPTIONS *`.
    pub path: String,
    /// Percent-decoded query pairs.
    pub query: HashMap<String, String>,
    pub version: Version,
    /// Header names in lower case; repeated headers joined with `, `.
    pub headers: HashMap<String, String>,
    /// The host the client asked for: the one in an absolute-form target,
    /// else the `Host` header. `None` only for HTTP/1.0 without `Host`.
    pub host: Option<String>,
    pub body: Vec<u8>,
}

impl Request {
    /// The value of header `name`, which must be given in lower case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
    // ANCHOR_END: request

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

    // ANCHOR: line_method
    /// The request line, as the access log prints it. A value that knows
    /// how to print itself rather than a `String`, so that logging a line
    /// formats it once, straight into the log's buffer.
    pub fn line(&self) -> RequestLine<'_> {
        RequestLine(self)
    }
    // ANCHOR_END: line_method
}

// ANCHOR: request_line
/// What [`Request::line`] returns: `GET /path HTTP/1.1` when printed.
pub struct RequestLine<'a>(&'a Request);

impl std::fmt::Display for RequestLine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let version = match self.0.version {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        };
        write!(f, "{} {} {version}", self.0.method, self.0.path)
    }
}
// ANCHOR_END: request_line

// ANCHOR: request_error
/// Why no request could be read, and the status each reason gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// The connection closed mid-request.
    Incomplete,
    /// Part of a request arrived, but not all of it in time.
    TimedOut,
    /// The request line is over its own limit, `MAX_REQUEST_LINE`.
    UriTooLong,
    /// The head is over [`MAX_HEAD_SIZE`].
    HeadTooLarge,
    /// The body is over [`MAX_BODY_SIZE`].
    BodyTooLarge,
    /// A transfer coding other than chunked, such as gzip.
    UnknownTransferCoding,
    /// Not HTTP/1.0 or HTTP/1.1.
    UnsupportedVersion,
    /// Malformed, with the reason for the client.
    Malformed(&'static str),
}
// ANCHOR_END: request_error

// ANCHOR: request_error_status
impl RequestError {
    /// The status code to answer with.
    pub fn status(&self) -> u16 {
        match self {
            RequestError::Incomplete | RequestError::Malformed(_) => 400,
            RequestError::TimedOut => 408,
            RequestError::BodyTooLarge => 413,
            RequestError::UriTooLong => 414,
            RequestError::HeadTooLarge => 431,
            RequestError::UnknownTransferCoding => 501,
            RequestError::UnsupportedVersion => 505,
        }
    }

    /// What to tell the client.
    pub fn message(&self) -> &'static str {
        match self {
            RequestError::Incomplete => "the connection closed before the request was complete",
            RequestError::TimedOut => "the request took too long to arrive",
            RequestError::UriTooLong => "the request line is longer than 8 KiB",
            RequestError::HeadTooLarge => "the request line and headers are larger than 8 KiB",
            RequestError::BodyTooLarge => "the body is larger than 1 MiB",
            /* STAND-IN: coding_message
            RequestError::UnknownTransferCoding => "no transfer coding is understood here yet",
            */
            // ANCHOR: coding_message
            RequestError::UnknownTransferCoding => "the only transfer coding read here is chunked",
            // ANCHOR_END: coding_message
            RequestError::UnsupportedVersion => "only HTTP/1.0 and HTTP/1.1 are supported",
            RequestError::Malformed(why) => why,
        }
    }
}
// ANCHOR_END: request_error_status

// ANCHOR: head
/// A parsed head: everything but the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub method: String,
    /// The target exactly as sent; [`Head::form`] says which form it is.
    pub target: String,
    pub version: Version,
    pub headers: HashMap<String, String>,
}
// ANCHOR_END: head

// ANCHOR: target
/// The three forms of request target a server meets (RFC 9112, section
/// 3.2). The fourth, `host:port` for `CONNECT`, is for proxies only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `/todos?completed=true`: the usual one.
    Origin(String),
    // ANCHOR: absolute_variant
    /// `http://127.0.0.1:5000/todos`: the whole URL, which clients send to
    /// proxies, and which a server must accept too (section 3.2.2). The
    /// authority in it replaces the `Host` header.
    Absolute { authority: String, path: String },
    // ANCHOR_END: absolute_variant
    /// `*`, in `OPTIONS * HTTP/1.1`: a question about the server as a whole.
    Asterisk,
}

impl Head {
    /// Which form the target takes, with the path and, for the absolute
    /// form, the authority split out.
    pub fn form(&self) -> Result<Target, RequestError> {
        target_form(&self.method, &self.target)
    }
}
// ANCHOR_END: target

// ANCHOR: target_form
/// Sorts `target` into one of the [`Target`] forms, or refuses it.
pub fn target_form(method: &str, target: &str) -> Result<Target, RequestError> {
    if target.starts_with('/') {
        return Ok(Target::Origin(target.to_string()));
    }
    if target == "*" {
        return match method {
            "OPTIONS" => Ok(Target::Asterisk),
            _ => Err(RequestError::Malformed("only OPTIONS may ask about *")),
        };
    }
    /* STAND-IN: absolute_form
    Err(RequestError::Malformed(
        "the request target must start with /",
    ))
    */
    // ANCHOR: absolute_form
    // The scheme is case-insensitive (RFC 3986, section 3.1).
    let rest = ["http://", "https://"].iter().find_map(|scheme| {
        let prefix = target.get(..scheme.len())?;
        prefix
            .eq_ignore_ascii_case(scheme)
            .then(|| &target[scheme.len()..])
    });
    let Some(rest) = rest else {
        return Err(RequestError::Malformed(
            "the request target must start with / or http://",
        ));
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    // `user@host` is allowed by URLs and deprecated for HTTP: it makes
    // `http://trusted.example@evil.example/` look like the wrong host
    // (RFC 9110, section 4.2.4).
    if authority.is_empty() || authority.contains('@') {
        return Err(RequestError::Malformed(
            "the URL in the request line has no host, or has user@ in it",
        ));
    }
    let path = match path.as_bytes().first() {
        None => "/".to_string(),
        Some(b'?') => format!("/{path}"),
        Some(_) => path.to_string(),
    };
    Ok(Target::Absolute {
        authority: authority.to_string(),
        path,
    })
    // ANCHOR_END: absolute_form
}
// ANCHOR_END: target_form

// ANCHOR: head_end_why
/// Where the head in `buffer` ends: where its last line ends and where the
/// body starts, once the empty line has arrived. `Ok(None)` means "not
/// yet": read more. Every line must end in `\r\n`.
///
/// It reads the bytes in order and stops at the first thing that settles
/// the matter, so the answer never depends on how many bytes have
/// arrived, only on the bytes themselves: a head cut in two pieces gets
/// the same answer as in one. What settles it, in the order it happens:
/// - a `\r` followed by anything but `\n`: a bare CR, which RFC 9112
///   (section 2.2) lets a server refuse, and which two parsers can read
///   as two different line ends: 400;
/// - a `\n` without its `\r`: a bare LF, which the same section says a
///   server MAY read as a line end. Days 2 to 4 do; here it is a 400,
///   because a head that mixes the two is how a request is smuggled past
///   a proxy that reads `x\nContent-Length: 5` as one header's value;
// ANCHOR: uri_too_long_doc
/// - byte [`MAX_REQUEST_LINE`] of the first line without its end: 414;
// ANCHOR_END: uri_too_long_doc
/// - the empty line: the head, unless its lines pass [`MAX_HEAD_SIZE`];
/// - a byte past the limit with no empty line yet: 431.
///
/// Accepting bare LF only in a head that has no CRLF at all would keep
/// `nc` users happy, but would make the answer to one line depend on
/// another; one rule for every line is easier to get right.
// ANCHOR_END: head_end_why
// ANCHOR: head_end
pub fn head_end(buffer: &[u8]) -> Result<Option<(usize, usize)>, RequestError> {
    let mut first_line_ended = false;
    for (i, &byte) in buffer.iter().enumerate() {
        let before = |back: usize| i.checked_sub(back).map(|at| buffer[at]);
        if before(1) == Some(b'\r') && byte != b'\n' {
            return Err(RequestError::Malformed(
                "a CR in the head must be followed by LF",
            ));
        }
        if byte == b'\n' {
            if before(1) != Some(b'\r') {
                return Err(RequestError::Malformed(
                    "a line in the head ends with a bare LF: end every line with CRLF",
                ));
            }
            // The empty line: `\r\n` right after a `\r\n`.
            if first_line_ended && before(2) == Some(b'\n') {
                let end = i - 1;
                if end > MAX_HEAD_SIZE {
                    return Err(RequestError::HeadTooLarge);
                }
                return Ok(Some((end, i + 1)));
            }
            first_line_ended = true;
        }
        // ANCHOR: uri_too_long
        if !first_line_ended && i >= MAX_REQUEST_LINE {
            return Err(RequestError::UriTooLong);
        }
        // ANCHOR_END: uri_too_long
        // Past this byte, any head would be longer than the limit.
        if i > MAX_HEAD_SIZE {
            return Err(RequestError::HeadTooLarge);
        }
    }
    Ok(None)
}
// ANCHOR_END: head_end

// ANCHOR: leading_empty_lines
/// How many bytes of empty lines start `buffer`. A server should skip
/// them before a request line (RFC 9112, section 2.2): some clients send
/// an extra `\r\n` after a body. A bare `\n` is not skipped: it is the
/// start of a head, which [`head_end`] refuses.
pub fn leading_empty_lines(buffer: &[u8]) -> usize {
    let mut at = 0;
    while buffer[at..].starts_with(b"\r\n") {
        at += 2;
    }
    at
}
// ANCHOR_END: leading_empty_lines

// ANCHOR: head_parse
impl Head {
    /// Parses the request line and headers: `bytes` is the head up to and
    /// including the end of its last line, without the empty line.
    pub fn parse(bytes: &[u8]) -> Result<Head, RequestError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| RequestError::Malformed("the request line and headers must be UTF-8"))?;
        // `head_end` let only `\r\n` end a line; a `\r` or `\n` left inside
        // a line after this split is refused below as a control character,
        // or as a method, target or name that is not a token.
        let text = text.strip_suffix("\r\n").unwrap_or(text);
        let mut lines = text.split("\r\n");
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
        // Visible ASCII only: no spaces, no control characters (a lone CR
        // among them), nothing that would need percent-encoding.
        if target.is_empty() || !target.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(RequestError::Malformed(
                "the request target holds a character that must be percent-encoded",
            ));
        }
        // ANCHOR_END: head_parse
        // ANCHOR: version_and_target
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
        target_form(method, target)?;
        // ANCHOR_END: version_and_target

        // ANCHOR: header_lines
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
            let name = name.to_ascii_lowercase();
            if name == "host" && !is_host(value) {
                return Err(RequestError::Malformed("the Host header is not a host"));
            }
            headers
                .entry(name)
                .and_modify(|existing| {
                    existing.push_str(", ");
                    existing.push_str(value);
                })
                .or_insert_with(|| value.to_string());
        }
        // ANCHOR: host_once
        // RFC 9112, section 3.2: an HTTP/1.1 request without a Host, or any
        // request with two, gets a 400. With two, which one is right? A proxy
        // in front of us might have checked the other. Two arrive joined,
        // "a, b", and one alone never holds a comma (see `is_host`).
        match (version, headers.get("host")) {
            (Version::Http11, None) => {
                return Err(RequestError::Malformed(
                    "an HTTP/1.1 request must say which host it is for, in a Host header",
                ));
            }
            (_, Some(hosts)) if hosts.contains(',') => {
                return Err(RequestError::Malformed("Host must be given only once"));
            }
            _ => {}
        }
        // ANCHOR_END: host_once
        Ok(Head {
            method: method.to_string(),
            target: target.to_string(),
            version,
            headers,
        })
    }
}
// ANCHOR_END: header_lines

// ANCHOR: is_token
/// Whether `text` is a token (RFC 9110, section 5.6.2): the characters
/// allowed in a method or a header name.
pub fn is_token(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(is_tchar)
}
// ANCHOR_END: is_token

// ANCHOR: tchar_and_host
/// Whether `byte` may appear in a token.
pub fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// Whether `text` can be a `Host` value: a name or an address, and maybe
/// a port (RFC 3986's reg-name, IP literal and port characters). Empty is
/// allowed by the grammar; the host allow-list turns it away.
fn is_host(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+;=%:[]".contains(&b))
        && !text.contains(',')
}
// ANCHOR_END: tchar_and_host

// ANCHOR: framing
/// How a request's body is framed: by a length, or in chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// This many bytes follow the head (0 without `Content-Length`).
    Length(usize),
    /// Chunks follow, ended by a chunk of size 0 (see `chunked.rs`).
    Chunked,
}
// ANCHOR_END: framing

/* STAND-IN: body_framing
// ANCHOR: body_framing_trusting
/// How the body after `head` is framed: in chunks if the client says so,
/// and otherwise by its `Content-Length`.
pub fn body_framing(head: &Head) -> Result<Framing, RequestError> {
    let length = head.headers.get("content-length").map(String::as_str);
    match head.headers.get("transfer-encoding") {
        Some(coding) if coding.trim().eq_ignore_ascii_case("chunked") => Ok(Framing::Chunked),
        Some(_) => Err(RequestError::UnknownTransferCoding),
        None => length_framing(length),
    }
}
// ANCHOR_END: body_framing_trusting
*/
// ANCHOR: body_framing
/// How the body after `head` is framed.
///
/// A doubt about where a request ends lets a second one be smuggled past
/// a proxy (RFC 9112, sections 6.3 and 11.2), so every doubt is refused:
/// - `Transfer-Encoding` together with `Content-Length`: 400;
/// - `Content-Length` given twice, even with the same value: 400;
/// - `Transfer-Encoding` in HTTP/1.0, which had none: 400 (section 6.1);
/// - a coding list whose last coding is not `chunked`: nothing says where
///   the body ends, so 400 (section 6.3);
/// - any other coding, such as `gzip, chunked`: 501 (section 6.1).
pub fn body_framing(head: &Head) -> Result<Framing, RequestError> {
    let length = head.headers.get("content-length").map(String::as_str);
    let Some(codings) = head.headers.get("transfer-encoding") else {
        return length_framing(length);
    };
    if length.is_some() {
        return Err(RequestError::Malformed(
            "Transfer-Encoding and Content-Length together are ambiguous",
        ));
    }
    if head.version == Version::Http10 {
        return Err(RequestError::Malformed(
            "HTTP/1.0 has no Transfer-Encoding; send a Content-Length",
        ));
    }
    // A repeated header arrives here joined: "gzip, chunked".
    let codings: Vec<&str> = codings.split(',').map(trim_ows).collect();
    let ends_chunked = codings
        .last()
        .is_some_and(|c| c.eq_ignore_ascii_case("chunked"));
    if !ends_chunked {
        return Err(RequestError::Malformed(
            "a Transfer-Encoding must end with chunked, or the body has no end",
        ));
    }
    if codings.len() > 1 {
        return Err(RequestError::UnknownTransferCoding);
    }
    Ok(Framing::Chunked)
}
// ANCHOR_END: body_framing

// ANCHOR: trim_ows
/// `text` without the spaces and tabs around it (RFC 9110's OWS), and
/// nothing else: `str::trim` would also take a no-break space off
/// `chunked\u{a0}`, which a proxy reads as a coding it does not know.
fn trim_ows(text: &str) -> &str {
    text.trim_matches([' ', '\t'])
}
// ANCHOR_END: trim_ows

// ANCHOR: length_framing
/// The framing a `Content-Length` (or its absence) gives.
fn length_framing(length: Option<&str>) -> Result<Framing, RequestError> {
    let Some(text) = length else {
        return Ok(Framing::Length(0));
    };
    // A repeated header arrives here joined: "5, 5".
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RequestError::Malformed(
            "Content-Length must be given once, as a whole number",
        ));
    }
    match text.parse::<usize>() {
        Ok(length) if length <= MAX_BODY_SIZE => Ok(Framing::Length(length)),
        _ => Err(RequestError::BodyTooLarge),
    }
}
// ANCHOR_END: length_framing

// ANCHOR: path_and_query
/// Splits `/path?a=1` into the path and the percent-decoded query pairs.
pub fn path_and_query(target: &str) -> (String, HashMap<String, String>) {
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
// ANCHOR_END: path_and_query

// ANCHOR: percent_decode
/// Undoes the encoding that browsers and `curl --data-urlencode` apply to
/// query strings: `%XX` is the byte with hex value `XX`, and `+` is a space
/// (the `application/x-www-form-urlencoded` rule).
///
/// Several `%XX` bytes together can spell one UTF-8 character (`%C3%A9` is
/// `é`). Bytes that are not valid UTF-8 become `�` rather than an error:
/// a greeting with a replacement character is more useful than a 400. A `%`
/// not followed by two hex digits is kept as it is.
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

/// The value of one hex digit, if `byte` is one.
fn hex(byte: &u8) -> Option<u8> {
    (*byte as char).to_digit(16).map(|digit| digit as u8)
}
// ANCHOR_END: percent_decode

#[cfg(test)]
mod tests {
    use super::*;

    fn head(version: Version, pairs: &[(&str, &str)]) -> Head {
        Head {
            method: "POST".into(),
            target: "/todos".into(),
            version,
            headers: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn body_framing_refuses_every_ambiguity() {
        use Version::{Http10, Http11};
        type Row = (
            Version,
            &'static [(&'static str, &'static str)],
            Result<Framing, RequestError>,
        );
        let malformed = RequestError::Malformed;
        let rows: &[Row] = &[
            (Http11, &[], Ok(Framing::Length(0))),
            (Http11, &[("content-length", "12")], Ok(Framing::Length(12))),
            (
                Http11,
                &[("content-length", "5, 5")],
                Err(malformed(
                    "Content-Length must be given once, as a whole number",
                )),
            ),
            (
                Http11,
                &[("transfer-encoding", "chunked")],
                Ok(Framing::Chunked),
            ),
            // Coding names are case-insensitive.
            (
                Http11,
                &[("transfer-encoding", "Chunked")],
                Ok(Framing::Chunked),
            ),
            (
                Http11,
                &[("transfer-encoding", "chunked"), ("content-length", "3")],
                Err(malformed(
                    "Transfer-Encoding and Content-Length together are ambiguous",
                )),
            ),
            (
                Http10,
                &[("transfer-encoding", "chunked")],
                Err(malformed(
                    "HTTP/1.0 has no Transfer-Encoding; send a Content-Length",
                )),
            ),
            // chunked is last, but gzip is a coding we do not decode.
            (
                Http11,
                &[("transfer-encoding", "gzip, chunked")],
                Err(RequestError::UnknownTransferCoding),
            ),
            // chunked is not last: the body would have no end.
            (
                Http11,
                &[("transfer-encoding", "chunked, gzip")],
                Err(malformed(
                    "a Transfer-Encoding must end with chunked, or the body has no end",
                )),
            ),
            (
                Http11,
                &[("transfer-encoding", "gzip")],
                Err(malformed(
                    "a Transfer-Encoding must end with chunked, or the body has no end",
                )),
            ),
            // chunked twice is not chunked once.
            (
                Http11,
                &[("transfer-encoding", "chunked, chunked")],
                Err(RequestError::UnknownTransferCoding),
            ),
            (
                Http11,
                &[("content-length", "1048577")],
                Err(RequestError::BodyTooLarge),
            ),
        ];
        for (version, pairs, expected) in rows {
            assert_eq!(
                &body_framing(&head(*version, pairs)),
                expected,
                "{version:?} {pairs:?}"
            );
        }
    }

    #[test]
    fn target_forms() {
        let absolute = |authority: &str, path: &str| {
            Ok(Target::Absolute {
                authority: authority.into(),
                path: path.into(),
            })
        };
        let rows = [
            ("GET", "/todos?x=1", Ok(Target::Origin("/todos?x=1".into()))),
            (
                "GET",
                "http://127.0.0.1:5000/todos",
                absolute("127.0.0.1:5000", "/todos"),
            ),
            ("GET", "HTTP://localhost", absolute("localhost", "/")),
            (
                "GET",
                "http://localhost?x=1",
                absolute("localhost", "/?x=1"),
            ),
            ("OPTIONS", "*", Ok(Target::Asterisk)),
            (
                "GET",
                "*",
                Err(RequestError::Malformed("only OPTIONS may ask about *")),
            ),
            (
                "GET",
                "http://good.example@evil.example/",
                Err(RequestError::Malformed(
                    "the URL in the request line has no host, or has user@ in it",
                )),
            ),
            (
                "GET",
                "http:///todos",
                Err(RequestError::Malformed(
                    "the URL in the request line has no host, or has user@ in it",
                )),
            ),
            (
                "CONNECT",
                "example.com:443",
                Err(RequestError::Malformed(
                    "the request target must start with / or http://",
                )),
            ),
        ];
        for (method, target, expected) in rows {
            assert_eq!(target_form(method, target), expected, "{method} {target}");
        }
    }

    #[test]
    fn host_must_be_given_once_on_http_1_1() {
        let rows: [(&[u8], Result<(), RequestError>); 5] = [
            (b"GET / HTTP/1.1\r\nHost: a\r\n", Ok(())),
            (b"GET / HTTP/1.0\r\n", Ok(())),
            (
                b"GET / HTTP/1.1\r\n",
                Err(RequestError::Malformed(
                    "an HTTP/1.1 request must say which host it is for, in a Host header",
                )),
            ),
            (
                b"GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n",
                Err(RequestError::Malformed("Host must be given only once")),
            ),
            (
                b"GET / HTTP/1.1\r\nHost: a b\r\n",
                Err(RequestError::Malformed("the Host header is not a host")),
            ),
        ];
        for (bytes, expected) in rows {
            assert_eq!(
                Head::parse(bytes).map(drop),
                expected,
                "{}",
                bytes.escape_ascii()
            );
        }
    }

    #[test]
    fn head_limits_say_which_part_is_too_long() {
        let long_target = [b"GET /".as_slice(), &[b'a'; MAX_REQUEST_LINE]].concat();
        assert_eq!(head_end(&long_target), Err(RequestError::UriTooLong));
        let long_header = [b"GET / HTTP/1.1\r\nX: ".as_slice(), &[b'a'; MAX_HEAD_SIZE]].concat();
        assert_eq!(head_end(&long_header), Err(RequestError::HeadTooLarge));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n"), Ok(None));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nrest"), Ok(Some((16, 18))));
        assert_eq!(
            head_end(b"GET / HTTP/1.1\r\n\r\r\n"),
            Err(RequestError::Malformed(
                "a CR in the head must be followed by LF"
            ))
        );
        // A CR at the very end may still be followed by its LF.
        assert_eq!(head_end(b"GET / HTTP/1.1\r"), Ok(None));
    }

    #[test]
    fn every_line_of_the_head_ends_with_crlf() {
        let bare_lf = Err(RequestError::Malformed(
            "a line in the head ends with a bare LF: end every line with CRLF",
        ));
        type Row = (&'static [u8], Result<Option<(usize, usize)>, RequestError>);
        let rows: [Row; 8] = [
            (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", Ok(Some((25, 27)))),
            // Days 2 to 4 accept these, as RFC 9112 section 2.2 allows.
            (b"GET / HTTP/1.1\nHost: a\n\n", bare_lf.clone()),
            (b"GET / HTTP/1.1\n\r\n", bare_lf.clone()),
            // The smuggling pattern: CRLF everywhere but one line, whose
            // bare LF hides a Content-Length inside the value before it.
            (
                b"GET / HTTP/1.1\r\nHost: a\r\nDummy: x\nContent-Length: 5\r\n\r\n",
                bare_lf.clone(),
            ),
            // The empty line itself, with a bare LF.
            (b"GET / HTTP/1.1\r\nHost: a\r\n\n", bare_lf.clone()),
            // Refused as soon as the LF arrives, not when the head ends.
            (b"GET / HTTP/1.1\n", bare_lf.clone()),
            (b"\n", bare_lf),
            (b"GET / HTTP/1.1\r\nHost: a\r\n", Ok(None)),
        ];
        for (bytes, expected) in rows {
            assert_eq!(head_end(bytes), expected, "{}", bytes.escape_ascii());
        }
    }

    #[test]
    fn only_crlf_counts_as_an_empty_line_before_a_request() {
        assert_eq!(leading_empty_lines(b"\r\n\r\nGET"), 4);
        assert_eq!(leading_empty_lines(b"\nGET"), 0);
        assert_eq!(leading_empty_lines(b"\r\n\nGET"), 2);
        assert_eq!(leading_empty_lines(b"\r"), 0);
    }

    #[test]
    fn a_line_end_left_inside_a_line_is_refused() {
        // `head_end` never hands these over; `Head::parse` refuses them
        // all the same, rather than splitting the line a second way.
        let rows: [&[u8]; 3] = [
            b"GET / HTTP/1.1\r\nHost: a\r\nX: a\nContent-Length: 5\r\n",
            b"GET / HTTP/1.1\nHost: a\r\n",
            b"GET / HTTP/1.1\r\nHost: a\rX: b\r\n",
        ];
        for bytes in rows {
            assert!(Head::parse(bytes).is_err(), "{}", bytes.escape_ascii());
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
                host: None,
                body: Vec::new(),
            };
            if let Some(value) = connection {
                request.headers.insert("connection".into(), value.into());
            }
            assert_eq!(request.keep_alive(), expected, "{version:?} {connection:?}");
        }
    }

    #[test]
    fn a_head_another_server_might_read_differently_is_refused() {
        let refused: [(&[u8], &str); 4] = [
            (b"GET / HTTP/1.1\r\nHost: a\r\nX: \xff\r\n", "UTF-8"),
            (b"GET /a\x7fb HTTP/1.1\r\nHost: a\r\n", "percent-encoded"),
            (
                b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n",
                "percent-encoded",
            ),
            (
                b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n",
                "control character",
            ),
        ];
        for (bytes, why) in refused {
            match Head::parse(bytes) {
                Err(RequestError::Malformed(message)) => {
                    assert!(message.contains(why), "{}: {message}", bytes.escape_ascii());
                }
                other => panic!("{}: {other:?}", bytes.escape_ascii()),
            }
        }
        // A repeated header is joined to the first, with a comma.
        let head = Head::parse(b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\nX: 2\r\n").expect("valid");
        assert_eq!(head.headers["x"], "1, 2");
    }

    #[test]
    fn a_head_is_parsed_with_its_version_and_lower_case_names() {
        let head =
            Head::parse(b"PATCH /todos/3?x=%41 HTTP/1.0\r\nContent-Type: application/json\r\n")
                .expect("a valid head");
        assert_eq!(head.method, "PATCH");
        assert_eq!(head.version, Version::Http10);
        assert_eq!(head.headers["content-type"], "application/json");
        let (path, query) = path_and_query(&head.target);
        assert_eq!(path, "/todos/3");
        assert_eq!(query["x"], "A");
    }
}

//! Turning the bytes of one HTTP request into a [`Request`].
//!
//! A request on the wire ([RFC 9112, section 2.1]) is a request line, header
//! lines, an empty line, and then a body whose length the `Content-Length`
//! header gives:
//!
//! ```text
//! POST /todos?list=home HTTP/1.1\r\n      <- request line
//! Host: localhost:5000\r\n                <- headers, one per line
//! Content-Length: 16\r\n
//! \r\n                                    <- the empty line ends the head
//! {"title":"milk"}                        <- exactly 16 bytes of body
//! ```
//!
//! TCP hands us a stream of bytes, not messages. One `read` may return half
//! a header line, or the head and part of the body together. So we read in
//! two phases: until the empty line, then exactly `Content-Length` more bytes.
//!
//! [RFC 9112, section 2.1]: https://www.rfc-editor.org/rfc/rfc9112#section-2.1

use std::collections::HashMap;
use std::io::{self, Read};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// How many bytes one `read` call may return. Any size works; what matters is
/// that we never assume one read is one request.
const CHUNK_SIZE: usize = 1024;

/// How long a client has to send one whole request.
///
/// This is a deadline for the whole request, not a timeout per `read`. A
/// per-read timeout lets a client that sends one byte every few seconds hold
/// the connection for ever (the "slowloris" attack).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The request line and headers may not be longer than this. Without a
/// limit, a client could send headers forever and fill our memory.
pub const MAX_HEAD_SIZE: usize = 8 * 1024;

/// The largest body we accept. Our JSON bodies are small; 1 MiB is generous.
pub const MAX_BODY_SIZE: usize = 1024 * 1024;

/// One parsed HTTP request.
#[derive(Debug)]
pub struct Request {
    /// `GET`, `POST`, … exactly as sent: methods are case-sensitive.
    pub method: String,
    /// The path without the query string, such as `/hello`.
    pub path: String,
    // ANCHOR: query_doc
    /// The query string split into pairs, percent-decoded: `?name=J%C3%BCrgen+X`
    /// gives `name` = `Jürgen X`. A repeated key keeps its last value.
    // ANCHOR_END: query_doc
    pub query: HashMap<String, String>,
    /// Header names in lower case, because names are case-insensitive
    /// ([RFC 9110, section 5.1]): `content-length` finds `Content-Length`.
    /// A repeated header keeps all its values, joined by `, `.
    ///
    /// [RFC 9110, section 5.1]: https://www.rfc-editor.org/rfc/rfc9110#section-5.1
    pub headers: HashMap<String, String>,
    /// The body, exactly `Content-Length` bytes of it (empty without one).
    pub body: String,
}

/// Why no request could be read. [`RequestError::status`] maps each one to
/// the status code the client gets, in one place.
#[derive(Debug, PartialEq, Eq)]
pub enum RequestError {
    /// The connection ended, or stayed silent until the deadline, before a
    /// single byte arrived. There is nobody to answer.
    NoRequest,
    /// Something went wrong on the socket itself (a reset, say). Writing an
    /// answer would fail too.
    Io(io::ErrorKind),
    /// The connection ended in the middle of a request.
    Incomplete,
    /// Part of a request arrived, but not all of it before the deadline.
    TimedOut,
    /// The request line and headers are longer than `MAX_HEAD_SIZE`.
    HeadTooLarge,
    /// `Content-Length` is larger than `MAX_BODY_SIZE`.
    BodyTooLarge,
    /// The request uses `Transfer-Encoding` (a chunked body), which we do not
    /// implement. Guessing at it would misread where the body ends.
    TransferEncoding,
    /// The version is not HTTP/1.0 or HTTP/1.1.
    UnsupportedVersion,
    /// The bytes are not a valid HTTP request; the text says what is wrong.
    Malformed(&'static str),
}

impl RequestError {
    /// The status code to answer with, or `None` when we should just close
    /// the connection without a word.
    pub fn status(&self) -> Option<u16> {
        match self {
            RequestError::NoRequest | RequestError::Io(_) => None,
            RequestError::Incomplete | RequestError::Malformed(_) => Some(400),
            RequestError::TimedOut => Some(408),
            RequestError::BodyTooLarge => Some(413),
            RequestError::HeadTooLarge => Some(431),
            RequestError::TransferEncoding => Some(501),
            RequestError::UnsupportedVersion => Some(505),
        }
    }

    /// A sentence for the client, saying what to fix.
    pub fn message(&self) -> &'static str {
        match self {
            RequestError::NoRequest => "no request was sent",
            RequestError::Io(_) => "the connection failed",
            RequestError::Incomplete => "the connection closed before the request was complete",
            RequestError::TimedOut => "the request took too long to arrive",
            RequestError::HeadTooLarge => "the request line and headers are larger than 8 KiB",
            RequestError::BodyTooLarge => "the body is larger than 1 MiB",
            RequestError::TransferEncoding => {
                "Transfer-Encoding is not supported; send a Content-Length instead"
            }
            RequestError::UnsupportedVersion => "only HTTP/1.0 and HTTP/1.1 are supported",
            RequestError::Malformed(why) => why,
        }
    }
}

impl Request {
    /// Reads one request from `stream`.
    ///
    /// This never panics: every way the bytes can be wrong is a
    /// [`RequestError`].
    pub fn new(stream: &TcpStream) -> Result<Request, RequestError> {
        let deadline = Instant::now() + REQUEST_TIMEOUT;

        // Phase 1: read until the empty line that ends the head.
        let mut received = Vec::new();
        let (head_end, body_start) = read_head(stream, &mut received, deadline)?;
        // The last read may have brought the first body bytes along.
        let mut body = received.split_off(body_start);
        let head = std::str::from_utf8(&received[..head_end])
            .map_err(|_| RequestError::Malformed("the request line and headers must be UTF-8"))?;
        let (method, target, headers) = parse_head(head)?;

        // Phase 2: read exactly as many body bytes as the headers announced.
        let length = body_length(&headers)?;
        read_body(stream, &mut body, length, deadline)?;
        // Anything past `length` belongs to a next request. We close the
        // connection after answering, so it is simply dropped.
        body.truncate(length);

        let body = String::from_utf8(body)
            .map_err(|_| RequestError::Malformed("the body must be UTF-8"))?;

        let (path, query) = split_target(target);
        Ok(Request {
            method: method.to_string(),
            path: path.to_string(),
            query,
            headers,
            body,
        })
    }
}

/// Reads until the empty line after the headers.
///
/// Returns where the head ends (just after its last line's `\n`) and where
/// the body starts in `received`.
/// The devlog stopped reading as soon as one `read` returned fewer than 1024
/// bytes. That guesses wrong both ways: a request can arrive in several small
/// pieces (we would stop too early), and a request of exactly 1024 bytes
/// leaves the next `read` waiting for bytes that never come. The only
/// reliable end of the head is the empty line itself.
fn read_head(
    stream: &TcpStream,
    received: &mut Vec<u8>,
    deadline: Instant,
) -> Result<(usize, usize), RequestError> {
    loop {
        if let Some(found) = find_head_end(received) {
            return Ok(found);
        }
        if received.len() > MAX_HEAD_SIZE {
            return Err(RequestError::HeadTooLarge);
        }
        match read_some(stream, received, deadline) {
            Ok(0) if received.is_empty() => return Err(RequestError::NoRequest),
            Ok(0) => return Err(RequestError::Incomplete),
            Ok(_) => {}
            Err(RequestError::TimedOut) if received.is_empty() => {
                return Err(RequestError::NoRequest);
            }
            Err(err) => return Err(err),
        }
    }
}

/// Finds the empty line that ends the head.
///
/// Lines should end in `\r\n`, but RFC 9112 (section 2.2) lets a server
/// accept a bare `\n` too, which people typing requests by hand often
/// send.
/// So the head ends at `\n\r\n` or `\n\n`, whichever comes first.
fn find_head_end(received: &[u8]) -> Option<(usize, usize)> {
    for (i, byte) in received.iter().enumerate() {
        if *byte != b'\n' {
            continue;
        }
        let rest = &received[i + 1..];
        if rest.starts_with(b"\r\n") {
            return Some((i + 1, i + 3));
        }
        if rest.starts_with(b"\n") {
            return Some((i + 1, i + 2));
        }
    }
    None
}

/// Reads until `body` holds at least `length` bytes.
fn read_body(
    stream: &TcpStream,
    body: &mut Vec<u8>,
    length: usize,
    deadline: Instant,
) -> Result<(), RequestError> {
    while body.len() < length {
        if read_some(stream, body, deadline)? == 0 {
            return Err(RequestError::Incomplete);
        }
    }
    Ok(())
}

/// One `read` from the stream into the end of `buffer`, giving up at
/// `deadline`. Returns how many bytes arrived; 0 means the client closed.
///
/// The devlog's loop printed a read error and read again. On its socket,
/// with no timeout, that ended by luck: Linux reports a reset once and then
/// reads 0 bytes. With a read timeout, every timeout is an error, and a
/// loop that retries errors never gives up on a silent client. So only
/// `Interrupted` is retried here; a timeout is the deadline, and any other
/// error ends the request with that error.
fn read_some(
    mut stream: &TcpStream,
    buffer: &mut Vec<u8>,
    deadline: Instant,
) -> Result<usize, RequestError> {
    let mut chunk = [0u8; CHUNK_SIZE];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(RequestError::TimedOut);
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(|err| RequestError::Io(err.kind()))?;
        match stream.read(&mut chunk) {
            Ok(n) => {
                buffer.extend_from_slice(&chunk[..n]);
                return Ok(n);
            }
            // A signal interrupted the call before any byte arrived: retry.
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            // What a read timeout looks like: `WouldBlock` on Unix,
            // `TimedOut` on Windows.
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(RequestError::TimedOut);
            }
            Err(err) => return Err(RequestError::Io(err.kind())),
        }
    }
}

/// Splits the head into the method, the request target and the headers.
fn parse_head(head: &str) -> Result<(&str, &str, HashMap<String, String>), RequestError> {
    // `lines` splits on `\n` and drops a `\r` before it, so both line
    // endings work.
    let mut lines = head.lines();
    let request_line = lines.next().unwrap_or_default();

    // "GET /path?x=1 HTTP/1.1": exactly three parts, one space apart. The
    // devlog called `unwrap` on each part, so a one-word request line
    // panicked the server.
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
    match version {
        "HTTP/1.1" | "HTTP/1.0" => {}
        v if v.starts_with("HTTP/") => return Err(RequestError::UnsupportedVersion),
        _ => {
            return Err(RequestError::Malformed(
                "the request line must end with HTTP/1.1",
            ));
        }
    }

    let mut headers: HashMap<String, String> = HashMap::new();
    for line in lines {
        // "Name: value". No space is allowed before the colon (RFC 9112,
        // section 5.1), and a line starting with a space is the obsolete
        // "line folding" that we refuse rather than guess at.
        let Some((name, value)) = line.split_once(':') else {
            return Err(RequestError::Malformed("a header line has no colon"));
        };
        if !is_token(name) {
            return Err(RequestError::Malformed(
                "a header name is not a valid token",
            ));
        }
        let name = name.to_ascii_lowercase();
        let value = value.trim_matches([' ', '\t']);
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(RequestError::Malformed(
                "a header value holds a control character",
            ));
        }
        headers
            .entry(name)
            .and_modify(|existing| {
                existing.push_str(", ");
                existing.push_str(value);
            })
            .or_insert_with(|| value.to_string());
    }
    Ok((method, target, headers))
}

/// A "token" is what HTTP allows in methods and header names: letters,
/// digits and a few symbols, but no spaces, colons or control characters
/// (RFC 9110, section 5.6.2).
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// How many body bytes follow the head.
///
/// `Content-Length` must be plain digits. A repeated header arrives here as
/// `"5, 6"` and is refused, since two lengths mean two ways to read the
/// message (the trick behind "request smuggling").
fn body_length(headers: &HashMap<String, String>) -> Result<usize, RequestError> {
    if headers.contains_key("transfer-encoding") {
        return Err(RequestError::TransferEncoding);
    }
    let Some(text) = headers.get("content-length") else {
        return Ok(0);
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RequestError::Malformed(
            "Content-Length must be a single whole number",
        ));
    }
    // Only digits, so parsing can fail for one reason: too many of them.
    let length = text
        .parse::<usize>()
        .map_err(|_| RequestError::BodyTooLarge)?;
    if length > MAX_BODY_SIZE {
        return Err(RequestError::BodyTooLarge);
    }
    Ok(length)
}

/// Splits `/path?a=1&b=2` into the path and the query pairs.
///
/// Only the first `?` separates the path from the query: a `?` inside a
/// value is part of the value. The devlog split on every `?` and glued the
/// pieces back together without them, so `?q=why?` became `q=why`.
fn split_target(target: &str) -> (&str, HashMap<String, String>) {
    let Some((path, query_string)) = target.split_once('?') else {
        return (target, HashMap::new());
    };
    let mut query = HashMap::new();
    for pair in query_string.split('&').filter(|pair| !pair.is_empty()) {
        // `?flag` with no `=` is a key with an empty value.
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        // ANCHOR: decode_pair
        query.insert(percent_decode(key), percent_decode(value));
        // ANCHOR_END: decode_pair
    }
    (path, query)
}

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

    // Each row: raw head, then what `parse_head` should say about it.
    #[test]
    fn parse_head_table() {
        type Row = (
            &'static str,
            Result<(&'static str, &'static str), RequestError>,
        );
        let rows: &[Row] = &[
            ("GET / HTTP/1.1", Ok(("GET", "/"))),
            ("GET /a?b=c HTTP/1.0\r\nHost: x", Ok(("GET", "/a?b=c"))),
            ("GET / HTTP/2.0", Err(RequestError::UnsupportedVersion)),
            (
                "GET /",
                Err(RequestError::Malformed(
                    "the request line must be: METHOD /path HTTP/1.1",
                )),
            ),
            (
                "GET  / HTTP/1.1",
                Err(RequestError::Malformed(
                    "the request line must be: METHOD /path HTTP/1.1",
                )),
            ),
            (
                "GET x HTTP/1.1",
                Err(RequestError::Malformed(
                    "the request target must start with /",
                )),
            ),
            (
                "GET / HTTP/1.1\r\nHost x",
                Err(RequestError::Malformed("a header line has no colon")),
            ),
            (
                "GET / HTTP/1.1\r\nHost : x",
                Err(RequestError::Malformed(
                    "a header name is not a valid token",
                )),
            ),
            (
                "G(T / HTTP/1.1",
                Err(RequestError::Malformed("the method is not a valid token")),
            ),
        ];
        for (head, expected) in rows {
            let got = parse_head(head).map(|(method, target, _)| (method, target));
            assert_eq!(&got, expected, "head: {head:?}");
        }
    }

    #[test]
    fn header_names_are_lower_case_and_repeats_are_joined() {
        let (_, _, headers) =
            parse_head("GET / HTTP/1.1\r\nX-Tag: a\r\nx-tag:  b \r\nHOST: h").expect("valid head");
        assert_eq!(headers["x-tag"], "a, b");
        assert_eq!(headers["host"], "h");
    }

    #[test]
    fn body_length_table() {
        let rows: &[(Option<&str>, Result<usize, RequestError>)] = &[
            (None, Ok(0)),
            (Some("0"), Ok(0)),
            (Some("1024"), Ok(1024)),
            (
                Some(""),
                Err(RequestError::Malformed(
                    "Content-Length must be a single whole number",
                )),
            ),
            (
                Some("-1"),
                Err(RequestError::Malformed(
                    "Content-Length must be a single whole number",
                )),
            ),
            (
                Some("5, 6"),
                Err(RequestError::Malformed(
                    "Content-Length must be a single whole number",
                )),
            ),
            (Some("1048577"), Err(RequestError::BodyTooLarge)),
            (
                Some("99999999999999999999999"),
                Err(RequestError::BodyTooLarge),
            ),
        ];
        for (value, expected) in rows {
            let mut headers = HashMap::new();
            if let Some(value) = value {
                headers.insert("content-length".to_string(), value.to_string());
            }
            assert_eq!(
                &body_length(&headers),
                expected,
                "Content-Length: {value:?}"
            );
        }
    }

    #[test]
    fn split_target_keeps_question_marks_inside_values() {
        let (path, query) = split_target("/hello?name=who?&flag&=x");
        assert_eq!(path, "/hello");
        assert_eq!(query["name"], "who?");
        assert_eq!(query["flag"], "");
        assert_eq!(query[""], "x");
    }

    #[test]
    fn percent_decode_table() {
        let rows = [
            ("plain", "plain"),
            ("Ada+Lovelace", "Ada Lovelace"),
            ("a%20b", "a b"),
            ("%22quoted%22", "\"quoted\""),
            ("%C3%A9t%C3%A9", "été"),
            ("100%", "100%"),
            ("%zz", "%zz"),
            ("%FF", "\u{FFFD}"),
        ];
        for (input, expected) in rows {
            assert_eq!(percent_decode(input), expected, "input: {input:?}");
        }
    }

    /// The devlog's read loop printed a read error and read again. Here
    /// the client resets the connection halfway through a request, and
    /// `Request::new` must stop at the first error and return it. A loop
    /// that reads on gets 0 bytes next and reports an incomplete request
    /// instead, which hides what went wrong.
    #[test]
    fn a_read_error_ends_the_request_with_that_error() {
        use std::io::Write;
        use std::net::TcpListener;
        use std::sync::mpsc;
        use std::thread;

        let listener = TcpListener::bind("127.0.0.1:0").expect("can bind a free port");
        let mut client =
            TcpStream::connect(listener.local_addr().expect("bound")).expect("can connect");
        let (mut server, _) = listener.accept().expect("can accept");
        // Closing a socket that holds unread bytes makes the system send a
        // reset instead of a polite goodbye: give the client a byte it
        // never reads, then let it send half a request and close.
        server.write_all(b"x").expect("can write");
        client
            .write_all(b"GET / HTTP/1.1\r\nHo")
            .expect("can write");
        // `peek` waits for the byte without reading it; within 10 s, so
        // that a lost byte fails the test instead of hanging it.
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("can set a timeout");
        client
            .peek(&mut [0u8; 1])
            .expect("the byte arrives within 10 s");
        drop(client);

        let (done, result) = mpsc::channel();
        thread::spawn(move || done.send(Request::new(&server).map(|r| r.method)));
        let outcome = result
            .recv_timeout(Duration::from_secs(2))
            .expect("Request::new returns within 2 s");
        assert_eq!(
            outcome,
            Err(RequestError::Io(io::ErrorKind::ConnectionReset))
        );
    }

    #[test]
    fn find_head_end_accepts_both_line_endings() {
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n\r\nbody"), Some((16, 18)));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\n\nbody"), Some((15, 16)));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nHost: x\r\n"), None);
    }
}

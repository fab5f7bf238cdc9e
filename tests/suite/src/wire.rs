//! A raw HTTP client: exact bytes out, exact bytes back.
//!
//! Ordinary clients (curl, reqwest) only send well-formed requests, in one
//! piece. To check a parser we must also send broken requests, and good ones
//! cut into pieces with pauses in between, and see exactly what comes back,
//! reason phrase and header spelling included. So most checks talk to the
//! server through this module instead of an HTTP library.

use std::fmt::Write as _;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use crate::receive_queue;

/// How long to wait for an answer unless a check says otherwise. Longer
/// than the stages' 5-second request timeout, so that a 408 can arrive.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// The pause between two pieces of a request sent in several writes. Where
/// the platform shows it, the client also waits until the server has read
/// the piece (see [`receive_queue`]), so that its
/// `read` really returns in between.
pub const SEGMENT_PAUSE: Duration = Duration::from_millis(50);

/// What came back on a connection.
#[derive(Debug)]
pub enum Reply {
    /// A complete HTTP response.
    Response(RawResponse),
    /// The server closed the connection without sending a byte.
    Closed,
    /// Something else: a timeout, a half-written answer, garbage.
    Failed {
        /// What went wrong, in a sentence.
        error: String,
        /// The bytes that did arrive.
        received: Vec<u8>,
    },
}

impl Reply {
    /// What came back, as text a person can read.
    pub fn describe(&self) -> String {
        match self {
            Reply::Response(response) => String::from_utf8_lossy(&response.raw).into_owned(),
            Reply::Closed => "nothing: the server closed the connection".to_string(),
            Reply::Failed { error, received } if received.is_empty() => error.clone(),
            Reply::Failed { error, received } => {
                format!("{error}; received:\n{}", String::from_utf8_lossy(received))
            }
        }
    }
}

/// One HTTP response, parsed just enough to check it.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// Every byte received, for error messages.
    pub raw: Vec<u8>,
    /// `HTTP/1.1 200 OK`.
    pub status_line: String,
    /// `200`.
    pub status: u16,
    /// Headers in the order the server sent them, names as it spelled them.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The value of header `name`, compared without regard to case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.body).map_err(|err| {
            format!(
                "a body of valid JSON; this one is not ({err}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The response laid out for a snapshot: status line, headers as sent
    /// (with `Date` blanked, since it changes every second), an empty line,
    /// and the body, pretty-printed when it is JSON.
    pub fn snapshot(&self) -> String {
        let mut text = format!("{}\n", self.status_line);
        for (name, value) in &self.headers {
            let value = if name.eq_ignore_ascii_case("date") {
                "[date]"
            } else {
                value
            };
            let _ = writeln!(text, "{name}: {value}");
        }
        text.push('\n');
        match serde_json::from_slice::<serde_json::Value>(&self.body) {
            Ok(json) => {
                let pretty = serde_json::to_string_pretty(&json).unwrap_or_default();
                text.push_str(&pretty);
                text.push('\n');
            }
            Err(_) => text.push_str(&String::from_utf8_lossy(&self.body)),
        }
        text
    }
}

/// A request and its answer, the way `curl -v` shows them: `> ` before
/// each line sent, `< ` before each line of the answer's head, then the
/// body. This is the layout of the snapshots the book shows.
pub fn transcript(request: &str, response: &RawResponse) -> String {
    let (head, body) = request.split_once("\r\n\r\n").unwrap_or((request, ""));
    let mut text = String::new();
    for line in head.split("\r\n") {
        let _ = writeln!(text, "> {line}");
    }
    text.push_str(">\n");
    if !body.is_empty() {
        let _ = writeln!(text, "{body}");
    }
    let snapshot = response.snapshot();
    let (head, body) = snapshot.split_once("\n\n").unwrap_or((&snapshot, ""));
    for line in head.lines() {
        let _ = writeln!(text, "< {line}");
    }
    text.push_str("<\n");
    text.push_str(body);
    text
}

/// How to send a request.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The request, in the pieces it is written in.
    pub segments: Vec<Vec<u8>>,
    /// Close our sending side after the last piece, as `nc -N` does: the
    /// server's next `read` returns 0.
    pub half_close: bool,
    /// How long to wait for the answer.
    pub wait: Duration,
}

impl Exchange {
    /// `bytes` in one write.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Exchange {
        Exchange {
            segments: vec![bytes.into()],
            half_close: false,
            wait: DEFAULT_WAIT,
        }
    }

    /// The same exchange, waiting at most `wait` for the answer.
    pub fn waiting(self, wait: Duration) -> Exchange {
        Exchange { wait, ..self }
    }

    /// Every byte of the request, in one piece.
    pub fn bytes(&self) -> Vec<u8> {
        self.segments.concat()
    }

    /// Connects to `addr`, sends the request and reads one answer.
    pub fn run(&self, addr: SocketAddr) -> Reply {
        match self.open(addr) {
            Ok(mut stream) => read_reply(&mut stream, Instant::now() + self.wait),
            Err(error) => Reply::Failed {
                error,
                received: Vec::new(),
            },
        }
    }

    /// Connects and sends the request, leaving the answer to the caller.
    pub fn open(&self, addr: SocketAddr) -> Result<TcpStream, String> {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            .map_err(|err| format!("cannot connect to {addr}: {err}"))?;
        // Send each piece as soon as it is written, not batched by Nagle's
        // algorithm, so that pieces really arrive apart.
        let _ = stream.set_nodelay(true);
        // One bound for the waits of the whole request, not one per piece:
        // on a machine busy enough that every wait runs to its end, two
        // waits of TAKE_LIMIT each would have a server with day 2's 5-s
        // deadline answer 408 to a request we were slow to send.
        let waits_end = Instant::now() + receive_queue::TAKE_LIMIT;
        for (i, segment) in self.segments.iter().enumerate() {
            if i > 0 {
                thread::sleep(SEGMENT_PAUSE);
                receive_queue::wait_until_read_before(&stream, waits_end);
            }
            // The server may answer and hang up before reading everything
            // (a 413 for a body it refuses, say). Its answer is what we
            // check, so a failed write is not an error in itself.
            if stream.write_all(segment).is_err() {
                break;
            }
        }
        if self.half_close {
            let _ = stream.shutdown(Shutdown::Write);
        }
        Ok(stream)
    }
}

/// Reads one response from `stream`, giving up at `deadline`.
pub fn read_reply(stream: &mut TcpStream, deadline: Instant) -> Reply {
    let mut received = Vec::new();
    let failed = |error: String, received: Vec<u8>| Reply::Failed { error, received };

    // The head: everything up to the empty line.
    let head_end = loop {
        if let Some(end) = find(&received, b"\r\n\r\n") {
            break end;
        }
        match take_head_bytes(stream, &mut received, deadline) {
            Ok(0) if received.is_empty() => return Reply::Closed,
            Ok(0) => {
                return failed(
                    "the connection closed before the end of the response headers".into(),
                    received,
                );
            }
            Ok(_) => {}
            Err(err) if received.is_empty() && err.kind() == ErrorKind::ConnectionReset => {
                return Reply::Closed;
            }
            Err(err) => return failed(read_error(&err), received),
        }
    };

    let (status_line, status, headers) = match parse_head(&received[..head_end]) {
        Ok(head) => head,
        Err(error) => return failed(error, received),
    };

    // The body: chunks, `Content-Length` bytes, or everything until the
    // server closes when there is neither (RFC 9112, section 6.3).
    let body_start = head_end + 4;
    let chunked = headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("transfer-encoding")
            && value.to_ascii_lowercase().contains("chunked")
    });
    if chunked && status >= 200 && status != 204 && status != 304 {
        return match read_chunked(stream, &mut received, deadline) {
            Ok(body) => Reply::Response(RawResponse {
                raw: received,
                status_line,
                status,
                headers,
                body,
            }),
            Err(error) => failed(error, received),
        };
    }
    let length = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .map(|(_, value)| value.parse::<usize>());
    // Interim (1xx), 204 and 304 answers never have a body, whatever their
    // headers say (RFC 9112, section 6.3).
    let length = if status < 200 || status == 204 || status == 304 {
        Some(Ok(0))
    } else {
        length
    };
    match length {
        Some(Err(_)) => return failed("Content-Length is not a number".into(), received),
        Some(Ok(length)) => {
            while received.len() < body_start + length {
                let missing = body_start + length - received.len();
                match read_more(stream, &mut received, deadline, missing) {
                    Ok(0) => {
                        let got = received.len() - body_start;
                        return failed(
                            format!(
                                "Content-Length says {length} bytes, but the connection closed after {got}"
                            ),
                            received,
                        );
                    }
                    Ok(_) => {}
                    Err(err) => return failed(read_error(&err), received),
                }
            }
            received.truncate(body_start + length);
        }
        None => loop {
            match read_more(stream, &mut received, deadline, usize::MAX) {
                Ok(0) => break,
                Ok(_) => {}
                Err(err) => return failed(read_error(&err), received),
            }
        },
    }

    let body = received[body_start..].to_vec();
    Reply::Response(RawResponse {
        raw: received,
        status_line,
        status,
        headers,
        body,
    })
}

/// Reads a chunked body (RFC 9112, section 7.1) to its last byte and not
/// one further, keeping the bytes in `received`; returns the body without
/// its framing.
fn read_chunked(
    stream: &mut TcpStream,
    received: &mut Vec<u8>,
    deadline: Instant,
) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line = read_line(stream, received, deadline)?;
        let size = line.split(';').next().unwrap_or_default().trim();
        let size =
            usize::from_str_radix(size, 16).map_err(|_| format!("{line:?} is not a chunk size"))?;
        if size == 0 {
            // Trailer fields, if any, up to an empty line.
            while !read_line(stream, received, deadline)?.is_empty() {}
            return Ok(body);
        }
        let start = received.len();
        while received.len() < start + size + 2 {
            let missing = start + size + 2 - received.len();
            match read_more(stream, received, deadline, missing) {
                Ok(0) => return Err("the connection closed in the middle of a chunk".into()),
                Ok(_) => {}
                Err(err) => return Err(read_error(&err)),
            }
        }
        if !received.ends_with(b"\r\n") {
            return Err(format!("a chunk of {size} bytes is not followed by CRLF"));
        }
        body.extend_from_slice(&received[start..start + size]);
    }
}

/// Reads one line of a chunked body, a byte at a time so as not to take
/// what follows it, and returns it without its CRLF.
fn read_line(
    stream: &mut TcpStream,
    received: &mut Vec<u8>,
    deadline: Instant,
) -> Result<String, String> {
    let start = received.len();
    while !received[start..].ends_with(b"\r\n") {
        match read_more(stream, received, deadline, 1) {
            Ok(0) => return Err("the connection closed in the middle of a chunked body".into()),
            Ok(_) => {}
            Err(err) => return Err(read_error(&err)),
        }
    }
    Ok(String::from_utf8_lossy(&received[start..received.len() - 2]).into_owned())
}

/// A response head, without its empty line: the status line, the status,
/// and the headers in order; or what is wrong with it.
type Head = (String, u16, Vec<(String, String)>);

fn parse_head(head: &[u8]) -> Result<Head, String> {
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default().to_string();
    let Some(status) = parse_status_line(&status_line) else {
        return Err(format!(
            "the status line must look like `HTTP/1.1 200 OK`, not {status_line:?}"
        ));
    };
    let mut headers = Vec::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("a header line has no colon: {line:?}"));
        };
        headers.push((name.to_string(), value.trim().to_string()));
    }
    Ok((status_line, status, headers))
}

/// Reads the answer to a `HEAD` request: everything until the server
/// closes, split into the head and whatever follows it, which should be
/// nothing.
///
/// A `HEAD` answer announces a `Content-Length` but sends no body (RFC
/// 9110, section 9.3.2), so [`read_reply`] would wait for a body that never
/// comes. Ask with `Connection: close`, so that the close ends the answer.
pub fn read_head_reply(stream: TcpStream, deadline: Instant) -> Reply {
    let received = read_to_close(stream, deadline);
    let Some(head_end) = find(&received, b"\r\n\r\n") else {
        return Reply::Failed {
            error: "no complete response head before the close".into(),
            received,
        };
    };
    let (status_line, status, headers) = match parse_head(&received[..head_end]) {
        Ok(head) => head,
        Err(error) => return Reply::Failed { error, received },
    };
    let body = received[head_end + 4..].to_vec();
    Reply::Response(RawResponse {
        raw: received,
        status_line,
        status,
        headers,
        body,
    })
}

/// Everything the server sends until it closes the connection, or until
/// `deadline`.
pub fn read_to_close(mut stream: TcpStream, deadline: Instant) -> Vec<u8> {
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if time_out_at(&stream, deadline).is_err() {
            break;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => received.extend_from_slice(&chunk[..n]),
        }
    }
    received
}

/// Makes the next read give up at `deadline`, or fails at once if it has
/// passed.
fn time_out_at(stream: &TcpStream, deadline: Instant) -> std::io::Result<()> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(ErrorKind::TimedOut.into());
    }
    stream.set_read_timeout(Some(left))
}

/// Reads what has arrived, but no more than `limit` bytes: on a kept-open
/// connection, the bytes after this response belong to the next one.
fn read_more(
    stream: &mut TcpStream,
    received: &mut Vec<u8>,
    deadline: Instant,
    limit: usize,
) -> std::io::Result<usize> {
    time_out_at(stream, deadline)?;
    let mut chunk = [0u8; 8192];
    let size = limit.min(chunk.len());
    loop {
        match stream.read(&mut chunk[..size]) {
            Ok(n) => {
                received.extend_from_slice(&chunk[..n]);
                return Ok(n);
            }
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        }
    }
}

/// Reads head bytes up to the end of the head and not one byte further.
///
/// The end of the head is only known once its bytes are here, so this
/// first looks at what has arrived without taking it (`peek`), then takes
/// exactly as much as belongs to this head. A server that answers two
/// pipelined requests may send both answers in one go, and the second must
/// stay in the socket for the next call.
fn take_head_bytes(
    stream: &mut TcpStream,
    received: &mut Vec<u8>,
    deadline: Instant,
) -> std::io::Result<usize> {
    time_out_at(stream, deadline)?;
    let mut peeked = [0u8; 8192];
    let arrived = loop {
        match stream.peek(&mut peeked) {
            Ok(n) => break n,
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        }
    };
    // The empty line may straddle what we hold and what just arrived.
    let tail = &received[received.len().saturating_sub(3)..];
    let joined = [tail, &peeked[..arrived]].concat();
    let take = match find(&joined, b"\r\n\r\n") {
        Some(at) => at + 4 - tail.len(),
        None => arrived,
    };
    // These bytes have arrived already, so this does not wait.
    stream.read_exact(&mut peeked[..take])?;
    received.extend_from_slice(&peeked[..take]);
    Ok(take)
}

fn read_error(err: &std::io::Error) -> String {
    match err.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => "no complete answer in time".to_string(),
        ErrorKind::ConnectionReset => "the server reset the connection".to_string(),
        _ => format!("reading the answer failed: {err}"),
    }
}

/// The status code in `HTTP/1.1 200 OK`, if the line has that shape.
fn parse_status_line(line: &str) -> Option<u16> {
    let rest = line.strip_prefix("HTTP/1.")?;
    let mut parts = rest.splitn(3, ' ');
    let minor = parts.next()?;
    let code = parts.next()?;
    if !matches!(minor, "0" | "1") || code.len() != 3 {
        return None;
    }
    code.parse().ok()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// The reason phrase RFC 9110 gives each status code the suite expects.
pub fn reason_phrase(status: u16) -> Option<&'static str> {
    Some(match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        421 => "Misdirected Request",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_line_table() {
        let rows = [
            ("HTTP/1.1 200 OK", Some(200)),
            ("HTTP/1.1 404 Not Found", Some(404)),
            ("HTTP/1.0 500 Internal Server Error", Some(500)),
            ("HTTP/1.1 204 ", Some(204)),
            ("HTTP/1.1 204", Some(204)),
            ("HTTP/2 200 OK", None),
            ("HTTP/1.1 20 OK", None),
            ("200 OK", None),
        ];
        for (line, expected) in rows {
            assert_eq!(parse_status_line(line), expected, "line: {line:?}");
        }
    }
}

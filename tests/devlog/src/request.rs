//! Days 2 to 4: the devlog's `Request`, read and parsed its way.
//!
//! Each kept bug is marked "Kept:" where it happens. Our stages' `request.rs`
//! shows the correct version of each step.

use std::collections::HashMap;
use std::io::Read;
use std::net::TcpStream;

/// How many bytes one `read` may bring, and also the devlog's test for the
/// end of a request: a `read` that brings fewer is taken to be the last.
const READ_SIZE: usize = 1024;

/// A request as the devlog parsed it.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// The part of the target before the first `?`.
    pub path: String,
    /// Header names exactly as sent: `host` and `Host` are different keys.
    pub headers: HashMap<String, String>,
    /// Query pairs, not percent-decoded.
    pub query: HashMap<String, String>,
    /// Everything that came after the empty line.
    pub body: String,
}

impl Request {
    /// Reads and parses one request.
    ///
    /// The devlog's signature returns a `Result`, but no path in it returns
    /// `Err`: every failure is one of the panics below.
    ///
    /// # Panics
    ///
    /// On purpose: on bytes that are not UTF-8, on an empty request, on a
    /// request line of fewer than two words, and when no line after the
    /// request line is exactly `"\r\n"`.
    pub fn new(stream: &TcpStream) -> Result<Request, String> {
        let bytes = read_until_short_read(stream);
        // Kept: a single byte that is not UTF-8 panics here.
        let text = String::from_utf8(bytes).unwrap();
        // Each line keeps its `\n` (and its `\r`, if there was one).
        let mut lines: Vec<&str> = text.split_inclusive('\n').collect();

        // Kept: an empty request has no line 0, and the index panics.
        let mut words = lines[0].split_ascii_whitespace();
        // Kept: a request line of one word, or none, panics on these. The
        // third word, the version, is never looked at.
        let method = words.next().unwrap();
        let target = words.next().unwrap();
        let (path, query) = split_target(target);
        lines.remove(0);

        // Kept: the head ends at the first line that is exactly "\r\n". When
        // there is none (the head was cut short, or used bare `\n`), this
        // unwrap panics.
        let empty_line = lines.iter().position(|line| *line == "\r\n").unwrap();
        let after_head = lines.split_off(empty_line);
        // Kept: the body is what follows the empty line, however much of it
        // happened to arrive; `Content-Length` is never read.
        let body = after_head[1..].concat();
        let headers = parse_headers(&lines);

        Ok(Request {
            method: method.to_string(),
            path: path.to_string(),
            headers,
            query,
            body,
        })
    }
}

/// Reads until one `read` returns fewer than [`READ_SIZE`] bytes.
///
/// Kept, both halves of the guess:
/// - a request that arrives in pieces ends after the first piece;
/// - a request of exactly 1024 (or 2048, …) bytes fills every buffer, so the
///   loop reads again and waits for bytes the client will never send.
///
/// Kept too: a `read` error is printed, and the loop reads again.
fn read_until_short_read(mut stream: &TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buffer = [0u8; READ_SIZE];
    loop {
        match stream.read(&mut buffer) {
            Ok(count) => {
                received.extend_from_slice(&buffer[..count]);
                if count < READ_SIZE {
                    break;
                }
            }
            Err(err) => println!("error: {err:#?}"),
        }
    }
    received
}

/// Splits `/path?a=1&b=2` into the path and the query pairs.
///
/// Kept: the target is cut at every `?`, and the pieces after the first are
/// joined again with nothing in between, so `/ask?q=why?&n=1` gives
/// `q` = `why`. A pair without `=` is dropped.
fn split_target(target: &str) -> (&str, HashMap<String, String>) {
    let pieces: Vec<&str> = target.split('?').collect();
    let query_string = pieces[1..].concat();
    let mut query = HashMap::new();
    for pair in query_string.split('&') {
        if let Some((key, value)) = pair.split_once('=') {
            query.insert(key.to_string(), value.to_string());
        }
    }
    (pieces[0], query)
}

/// Turns the header lines into a map.
///
/// Kept: a line is split at the first `": "`, so `Host:x` (legal, no space)
/// is dropped, as is a line with no colon at all, silently. Names keep the
/// case they were sent in. A repeated header keeps its last value.
fn parse_headers(lines: &[&str]) -> HashMap<String, String> {
    let mut headers = HashMap::new();
    for line in lines {
        if line.trim().is_empty() {
            continue;
        }
        if let Some((name, value)) = line.split_once(": ") {
            headers.insert(name.to_string(), value.trim().to_string());
        }
    }
    headers
}

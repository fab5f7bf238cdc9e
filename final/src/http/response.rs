//! Responses: day 3's `Response::json` and `Response::resolve`, with bodies
//! written by `serde_json` and the headers a real API needs.

// ANCHOR: response_use
use std::io::Write as _;

use serde::Serialize;
// ANCHOR_END: response_use

// ANCHOR: date_use
use crate::date;
// ANCHOR_END: date_use

// ANCHOR: cache_control
/// How caches may keep our answers: not at all.
///
/// Without this header, a cache may store `GET /todos` and pick its own
/// freshness time (RFC 9111, section 4.2.2: "heuristic freshness"), so a
/// browser or a proxy could show the list as it was before the last
/// change. `no-cache` would allow storing, as long as every use is first
/// checked with the server; but we send no `ETag` or `Last-Modified` to
/// check against, so that would save nothing, and `no-store` also keeps
/// the to-dos, which may be private, off the disk of every cache on the
/// way.
pub const CACHE_CONTROL: &str = "no-store";
// ANCHOR_END: cache_control

// ANCHOR: response
/// A response, turned into bytes by [`Response::resolve`].
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Headers besides the ones `resolve` always writes.
    pub headers: Vec<(&'static str, String)>,
    /// The body; empty for 204.
    pub body: Vec<u8>,
    // ANCHOR: pieces_field
    /// A body too long to make at once, made a piece at a time instead,
    /// as the client takes it; `body` is then empty. Such an answer has no
    /// `Content-Length` (its length is not known yet): it goes out in
    /// chunks on a connection kept open, or ends with the connection.
    pub pieces: Option<Box<dyn Pieces>>,
    // ANCHOR_END: pieces_field
}

// ANCHOR: pieces
/// Where the pieces of a long body come from (see [`Response::pieces`]).
/// `Send`, because a worker thread may make the response that an event
/// loop then writes.
pub trait Pieces: Send {
    /// Appends the next piece to `out`. `false` once there is none left.
    fn next_piece(&mut self, out: &mut Vec<u8>) -> bool;
}

impl std::fmt::Debug for dyn Pieces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pieces")
    }
}
// ANCHOR_END: pieces

/// The body of every error: `{"error": "…"}`.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}
// ANCHOR_END: response

impl Response {
    // ANCHOR: json
    /// A response whose body is `value` as JSON.
    ///
    /// `serde_json` writes the JSON, so quotes and backslashes in user input
    /// are escaped for us. Serializing our own types cannot fail (they are
    /// plain structs with string keys); if it somehow did, the client gets
    /// a 500 rather than a half-written body.
    pub fn json<T: Serialize>(status: u16, value: &T) -> Response {
        match serde_json::to_vec(value) {
            Ok(body) => Response {
                status,
                headers: vec![("Content-Type", "application/json".to_string())],
                body,
                // ANCHOR: json_no_pieces
                pieces: None,
                // ANCHOR_END: json_no_pieces
            },
            Err(err) => Response::error(500, &format!("could not write the answer: {err}")),
        }
    }
    // ANCHOR_END: json

    // ANCHOR: error
    /// `{"error": message}` with `status`.
    pub fn error(status: u16, message: &str) -> Response {
        let body = serde_json::to_vec(&ErrorBody { error: message })
            .unwrap_or_else(|_| br#"{"error":"internal error"}"#.to_vec());
        Response {
            status,
            headers: vec![("Content-Type", "application/json".to_string())],
            body,
            // ANCHOR: error_no_pieces
            pieces: None,
            // ANCHOR_END: error_no_pieces
        }
    }
    // ANCHOR_END: error

    // ANCHOR: busy
    /// 503 with `Retry-After: 1`: the server has no room for this client
    /// now (too many connections, or every worker busy and its queue
    /// full), and says when to try again (RFC 9110, section 10.2.3).
    pub fn busy() -> Response {
        Response::error(503, "the server is busy; try again in a second")
            .with_header("Retry-After", "1")
    }
    // ANCHOR_END: busy

    // ANCHOR: empty
    /// A response without a body, such as 204 No Content.
    pub fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            // ANCHOR: empty_no_pieces
            pieces: None,
            // ANCHOR_END: empty_no_pieces
        }
    }
    // ANCHOR_END: empty

    // ANCHOR: json_in_pieces
    /// A JSON response whose body `pieces` makes as the client takes it.
    pub fn json_in_pieces(status: u16, pieces: Box<dyn Pieces>) -> Response {
        let mut response = Response::empty(status).with_header("Content-Type", "application/json");
        response.pieces = Some(pieces);
        response
    }
    // ANCHOR_END: json_in_pieces

    // ANCHOR: with_header
    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }
    // ANCHOR_END: with_header

    // ANCHOR: has_header
    /// Whether the response sets header `name` itself (any case).
    pub fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(own, _)| own.eq_ignore_ascii_case(name))
    }
    // ANCHOR_END: has_header

    // ANCHOR: resolve
    /// The bytes on the wire.
    ///
    /// Besides the response's own headers, every response carries:
    /// - `Date`, the time it was made (RFC 9110, section 6.6.1: a server
    ///   with a clock must send it);
    /// - `Cache-Control: no-store` (see `CACHE_CONTROL`), unless the
    ///   response says how it may be cached itself;
    /// - `Content-Length`, so that the client knows where it ends and can
    ///   send its next request on the same connection;
    /// - `Connection`, saying whether we keep the connection open.
    ///
    /// It is written straight into one buffer, sized for the whole answer
    /// up front: building each line as a `String` of its own, then copying
    /// it, cost half a dozen allocations per answer.
    pub fn resolve(response: &Response, keep_alive: bool) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(256 + response.body.len());
        // Writing to a `Vec` cannot fail.
        let _ = write!(
            bytes,
            "HTTP/1.1 {} {}\r\n",
            response.status,
            reason_phrase(response.status)
        );
        // ANCHOR: date_line
        let _ = date::with_now(|now| write!(bytes, "Date: {now}\r\n"));
        // ANCHOR_END: date_line
        for (name, value) in &response.headers {
            let _ = write!(bytes, "{name}: {value}\r\n");
        }
        // ANCHOR: cache_control_line
        // The page's files say otherwise: they may be kept (see assets.rs).
        if !response.has_header("cache-control") {
            let _ = write!(bytes, "Cache-Control: {CACHE_CONTROL}\r\n");
        }
        // ANCHOR_END: cache_control_line
        // ANCHOR_END: resolve
        // ANCHOR: resolve_end
        /* STAND-IN: resolve_length
        // 204 and 304 never have a body, so they carry no length either
        // (RFC 9110, section 8.6).
        if response.status != 204 && response.status != 304 {
            let _ = write!(bytes, "Content-Length: {}\r\n", response.body.len());
        }
        */
        // ANCHOR: resolve_length
        // 204 and 304 never have a body, so they carry no length either
        // (RFC 9110, section 8.6). A body in pieces has no length yet: on
        // a connection that stays open, chunks say where it ends (RFC 9112,
        // section 7.1); on one that closes, the close does (section 6.3).
        if response.pieces.is_some() {
            if keep_alive {
                bytes.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
            }
        } else if response.status != 204 && response.status != 304 {
            let _ = write!(bytes, "Content-Length: {}\r\n", response.body.len());
        }
        // ANCHOR_END: resolve_length
        bytes.extend_from_slice(if keep_alive {
            b"Connection: keep-alive\r\n"
        } else {
            b"Connection: close\r\n"
        });
        bytes.extend_from_slice(b"\r\n");
        bytes.extend_from_slice(&response.body);
        bytes
    }
    // ANCHOR_END: resolve_end
}

// ANCHOR: reason_phrase
/// The reason phrase for each status this server sends (RFC 9110,
/// section 15).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        421 => "Misdirected Request",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}
// ANCHOR_END: reason_phrase

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_escaped_json() {
        let response = Response::error(404, r#"no todo "7\""#);
        assert_eq!(response.body, br#"{"error":"no todo \"7\\\""}"#);
    }

    #[test]
    fn no_content_has_no_length() {
        let bytes = Response::resolve(&Response::empty(204), true);
        let text = String::from_utf8(bytes).expect("ASCII");
        assert!(text.starts_with("HTTP/1.1 204 No Content\r\n"));
        assert!(!text.contains("Content-Length"));
        assert!(text.contains("\r\nDate: "));
        assert!(text.contains("\r\nCache-Control: no-store\r\n"));
        assert!(text.ends_with("Connection: keep-alive\r\n\r\n"));
    }
}

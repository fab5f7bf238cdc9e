//! Building HTTP responses, so that handlers never write status lines and
//! headers by hand again.
//!
//! A response on the wire ([RFC 9112, section 4]) mirrors a request:
//!
//! ```text
//! HTTP/1.1 404 Not Found\r\n               <- status line
//! Content-Type: application/json\r\n       <- headers
//! Content-Length: 30\r\n
//! Connection: close\r\n
//! \r\n                                     <- the empty line
//! {"error":"no route for /nope"}           <- body
//! ```
//!
//! [RFC 9112, section 4]: https://www.rfc-editor.org/rfc/rfc9112#section-4

// ANCHOR: response
use crate::json;

/// Header names and values, in the order they will be sent. A list rather
/// than a map: the order is kept, and a name may appear twice.
pub type Headers = Vec<(String, String)>;

/// A response, ready to be turned into bytes with [`Response::resolve`].
#[derive(Debug)]
pub struct Response {
    /// The status code, such as 200 or 404.
    pub status: u16,
    /// Header names and values, in the order they will be sent.
    pub headers: Headers,
    /// The body; always JSON in this project.
    pub body: String,
}
// ANCHOR_END: response

// ANCHOR: impl_response
impl Response {
    /// A response with a JSON body.
    ///
    /// `Content-Type` and `Content-Length` are filled in here, so no handler
    /// can get them wrong; `headers` adds more, such as `Allow`. Each stage
    /// up to the final server answers one request per connection, so every
    /// response also says `Connection: close`.
    pub fn json(status: u16, body: &str, headers: Option<Headers>) -> Response {
        let mut all_headers: Headers = vec![
            ("Content-Type".into(), "application/json".into()),
            ("Content-Length".into(), body.len().to_string()),
            ("Connection".into(), "close".into()),
        ];
        all_headers.extend(headers.unwrap_or_default());
        Response {
            status,
            headers: all_headers,
            body: body.to_string(),
        }
    }

    /// A JSON error, `{"error": "…"}`, the shape every error in this project
    /// has, so that clients need only one way to read them.
    pub fn error(status: u16, message: &str) -> Response {
        Response::json(
            status,
            &json::object([("error", json::string(message))]),
            None,
        )
    }

    // ANCHOR: resolve
    /// The response as the text that goes on the wire.
    pub fn resolve(response: &Response) -> String {
        let mut text = format!(
            "HTTP/1.1 {} {}\r\n",
            response.status,
            reason_phrase(response.status)
        );
        for (name, value) in &response.headers {
            text.push_str(name);
            text.push_str(": ");
            text.push_str(value);
            text.push_str("\r\n");
        }
        text.push_str("\r\n");
        text.push_str(&response.body);
        text
    }
    // ANCHOR_END: resolve
}
// ANCHOR_END: impl_response

// ANCHOR: reason_phrase
/// The reason phrase for each status code this server sends (RFC 9110,
/// section 15).
///
/// The devlog knew three codes and called every other one "Unknown". The
/// phrase is only for humans and clients ignore it, but a wrong one misleads
/// the human reading it. For a code missing here we send an empty phrase,
/// which RFC 9112 (section 4) allows.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}
// ANCHOR_END: reason_phrase

// ANCHOR: tests
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_writes_status_line_headers_and_body() {
        let response = Response::json(
            405,
            "{}",
            Some(vec![("Allow".to_string(), "GET".to_string())]),
        );
        assert_eq!(
            Response::resolve(&response),
            "HTTP/1.1 405 Method Not Allowed\r\n\
             Content-Type: application/json\r\n\
             Content-Length: 2\r\n\
             Connection: close\r\n\
             Allow: GET\r\n\
             \r\n\
             {}"
        );
    }

    #[test]
    fn content_length_counts_bytes_not_characters() {
        let response = Response::json(200, "\"é\"", None);
        assert!(
            response
                .headers
                .contains(&("Content-Length".to_string(), "4".to_string()))
        );
    }
}
// ANCHOR_END: tests

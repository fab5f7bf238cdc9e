//! Days 3 and 4: the devlog's `Response`, a status text, headers and a body.

/// Header names and values, in the order they are sent.
pub type Headers = Vec<(String, String)>;

pub struct Response {
    /// Code and reason together, such as `200 OK`.
    status_text: String,
    headers: Headers,
    body: String,
}

impl Response {
    /// A response whose body is labelled JSON. Whether `body` really is JSON
    /// is up to the caller, and the devlog's callers did not always make
    /// sure.
    pub fn json(status: u16, body: &str, extra_headers: Option<Headers>) -> Response {
        let mut headers: Headers = vec![
            (
                String::from("Content-Type"),
                String::from("application/json"),
            ),
            (String::from("Content-Length"), body.len().to_string()),
        ];
        headers.extend(extra_headers.unwrap_or_default());
        Response {
            status_text: status_text(status),
            headers,
            body: body.to_string(),
        }
    }

    /// The response as the text that goes on the wire.
    pub fn resolve(response: &Response) -> String {
        let mut text = format!("HTTP/1.1 {}\r\n", response.status_text);
        for (name, value) in &response.headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        text.push_str(&response.body);
        text
    }
}

/// Kept: three known codes; any other would go out as `N Unknown`. The
/// fixture never sends another code, and neither did the devlog.
fn status_text(status: u16) -> String {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        500 => "Internal Server Error",
        _ => "Unknown",
    };
    format!("{status} {reason}")
}

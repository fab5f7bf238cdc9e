//! Helpers for checks that hold a conversation with the server: build a
//! request, send it, check the answer, and say what went wrong.
//!
//! The checks of the final server and the workshop's exercises both talk
//! to the to-do API a few requests at a time (create a to-do, then read it
//! back), so the pieces live here, once, rather than in either of them.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::checks::{Expect, Failure, Payload, json_body};
use crate::wire::{self, Exchange, RawResponse, Reply};

/// `method path` as raw bytes, with `Host: 127.0.0.1`, and, when there is
/// a body, `Content-Type: application/json` and its `Content-Length`. The
/// connection stays open after the answer, as HTTP/1.1's default.
pub fn request(method: &str, path: &str, body: Option<&str>) -> Vec<u8> {
    build(method, path, body, false)
}

/// [`request`], with `Connection: close`: for one-off requests, where the
/// server should hang up once it has answered.
pub fn request_closing(method: &str, path: &str, body: Option<&str>) -> Vec<u8> {
    build(method, path, body, true)
}

fn build(method: &str, path: &str, body: Option<&str>, close: bool) -> Vec<u8> {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if close {
        text.push_str("Connection: close\r\n");
    }
    if let Some(body) = body {
        text.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    text.push_str("\r\n");
    text.push_str(body.unwrap_or_default());
    text.into_bytes()
}

/// Sends [`request`] on a new connection; returns what was sent with the
/// reply.
pub fn call(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> (Vec<u8>, Reply) {
    let bytes = request(method, path, body);
    let reply = Exchange::new(bytes.clone()).run(addr);
    (bytes, reply)
}

/// `expect` checked against `reply`, as a `Failure` when it does not hold.
pub fn expecting(expect: Expect, sent: &[u8], reply: &Reply) -> Result<(), Failure> {
    expect
        .verify(reply, &Payload::Bytes(b""))
        .map_err(|expected| failed_reply(expected, sent, reply))
}

/// Sends `sent` on a new connection and checks the answer against
/// `expect`; returns the answer for a closer look.
pub fn ask(addr: SocketAddr, sent: &[u8], expect: Expect) -> Result<RawResponse, Failure> {
    let reply = Exchange::new(sent.to_vec()).run(addr);
    expecting(expect, sent, &reply)?;
    match reply {
        Reply::Response(response) => Ok(response),
        // Only a reply that passed `Expect::Closed` gets here, and no
        // caller asks for that and then wants a response.
        other => Err(failure("a complete HTTP response", sent, other.describe())),
    }
}

/// A failure: what should have happened, what was sent, what came back.
pub fn failure(expected: impl Into<String>, sent: &[u8], received: String) -> Failure {
    Failure {
        expected: expected.into(),
        sent: Some(sent.to_vec()),
        received,
    }
}

/// A failure whose answer is `reply`.
pub fn failed_reply(expected: String, sent: &[u8], reply: &Reply) -> Failure {
    failure(expected, sent, reply.describe())
}

/// Creates a to-do from the JSON `body` and returns it as JSON.
pub fn create_todo(addr: SocketAddr, body: &str) -> Result<Value, Failure> {
    let (sent, reply) = call(addr, "POST", "/todos", Some(body));
    expecting(Expect::Json(201, &[]), &sent, &reply)?;
    let Reply::Response(response) = &reply else {
        unreachable!("verified above");
    };
    json_body(response).map_err(|expected| failed_reply(expected, &sent, &reply))
}

/// The id of a to-do, as a number.
pub fn id_of(todo: &Value) -> u64 {
    todo.get("id").and_then(Value::as_u64).unwrap_or_default()
}

/// The number at `pointer` in a JSON answer, if there is one.
pub fn number_at(response: &RawResponse, pointer: &str) -> Option<u64> {
    response.json().ok()?.pointer(pointer)?.as_u64()
}

/// Sends `HEAD path` and `GET path`, and checks that the `HEAD` answer has
/// the same status and `Content-Length` as the `GET` one, and no body.
///
/// A `HEAD` answer announces a length but sends no body (RFC 9110, section
/// 9.3.2), so an ordinary client cannot read it: it would wait for the body.
/// We ask with `Connection: close` and read until the server hangs up, so
/// that any stray body bytes show.
pub fn head_matches_get(addr: SocketAddr, path: &str) -> Result<(), Failure> {
    let get = request_closing("GET", path, None);
    let head = request_closing("HEAD", path, None);
    let get_answer = ask(addr, &get, Expect::AnyResponse)?;
    let want_length = get_answer.header("content-length").unwrap_or("none");

    let stream = Exchange::new(head.clone())
        .open(addr)
        .map_err(|err| failure("the server accepts connections", &head, err))?;
    let received = wire::read_to_close(stream, Instant::now() + Duration::from_secs(5));
    let text = String::from_utf8_lossy(&received).into_owned();
    let expected = format!(
        "`{}` with `Content-Length: {want_length}` (the GET answer's) and no body",
        get_answer.status_line
    );
    let Some((head_text, body)) = text.split_once("\r\n\r\n") else {
        return Err(failure(expected, &head, text));
    };
    let mut lines = head_text.lines();
    let same_status = lines.next() == Some(get_answer.status_line.as_str());
    let length = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .map(|(_, value)| value.trim());
    if same_status && length == Some(want_length) && body.is_empty() {
        Ok(())
    } else {
        Err(failure(expected, &head, text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_table() {
        let rows: [(Vec<u8>, &[u8]); 3] = [
            (
                request("GET", "/todos", None),
                b"GET /todos HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            ),
            (
                request("POST", "/todos", Some(r#"{"title":"x"}"#)),
                b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"title\":\"x\"}",
            ),
            (
                request_closing("DELETE", "/todos/1", None),
                b"DELETE /todos/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            ),
        ];
        for (built, expected) in rows {
            assert_eq!(
                built.escape_ascii().to_string(),
                expected.escape_ascii().to_string()
            );
        }
    }
}

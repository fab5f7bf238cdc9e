//! Which code answers which request.
//!
//! A route is a path plus a method. When the path exists but the method does
//! not, the answer is 405 with an `Allow` header listing what would work;
//! when the path does not exist at all, it is 404. The devlog answered 400
//! ("Bad Request") for unknown paths, which tells the client its request was
//! malformed when it was simply aimed at nothing.

use std::time::Duration;

use crate::json;
use crate::request::Request;
use crate::response::Response;

/// Picks the handler for `request` and returns its response.
pub fn route(request: &Request) -> Response {
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/hello") => hello(request),
        // ANCHOR: more_arms
        ("GET", "/sleep") => sleep(request),
        (_, "/hello" | "/sleep") => method_not_allowed("GET"),
        // ANCHOR_END: more_arms
        (_, path) => Response::error(404, &format!("no route for {path}")),
    }
}

/// `GET /hello?name=Ferris` answers `{"message":"Hello, Ferris!"}`.
///
/// The name comes from the client, so it goes through [`json::string`],
/// which escapes it. The devlog pasted it into the JSON with `format!`, and a
/// name with a `"` in it broke the answer.
fn hello(request: &Request) -> Response {
    let name = match request.query.get("name") {
        Some(name) if !name.is_empty() => name.as_str(),
        _ => "World",
    };
    let message = format!("Hello, {name}!");
    Response::json(
        200,
        &json::object([("message", json::string(&message))]),
        None,
    )
}

// ANCHOR: more_handlers
/// The longest `/sleep` we agree to, so one request cannot hold the server
/// for as long as it likes.
pub const MAX_SLEEP_MS: u64 = 10_000;

/// `GET /sleep?ms=500` waits half a second, then answers.
///
/// It stands in for any slow work (a database query, a call to another
/// service). While one thread sleeps here, a single-threaded server can do
/// nothing else, which is what day 4 is about.
fn sleep(request: &Request) -> Response {
    let Some(Ok(ms)) = request.query.get("ms").map(|ms| ms.parse::<u64>()) else {
        return Response::error(
            400,
            "ms must be a whole number of milliseconds, as in /sleep?ms=500",
        );
    };
    let ms = ms.min(MAX_SLEEP_MS);
    std::thread::sleep(Duration::from_millis(ms));
    Response::json(200, &json::object([("slept_ms", ms.to_string())]), None)
}

/// 405, listing the methods the path does accept.
fn method_not_allowed(allow: &str) -> Response {
    let mut response = Response::error(405, &format!("this path only answers {allow}"));
    response
        .headers
        .push(("Allow".to_string(), allow.to_string()));
    response
}
// ANCHOR_END: more_handlers

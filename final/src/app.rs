//! Which handler answers which request.

// ANCHOR: app_use
use std::net::SocketAddr;
// ANCHOR: arc_use
use std::sync::Arc;
// ANCHOR_END: arc_use
use std::time::Duration;

use serde::Serialize;

// ANCHOR: assets_use
use crate::assets;
// ANCHOR_END: assets_use
use crate::http::request::Request;
use crate::http::response::Response;
use crate::origin::Policy;
// ANCHOR: store_use
use crate::store::Store;
// ANCHOR_END: store_use
// ANCHOR: todos_use
use crate::todos;
// ANCHOR_END: todos_use
// ANCHOR_END: app_use

// ANCHOR: app
/// What the handlers need: the store, our own address for building URLs
/// when a client sends no `Host` header, and who may be served.
pub struct App {
    // ANCHOR: app_store
    /// Shared, so that a long list can go on reading it after its
    /// handler has returned (see `todos::list`).
    pub store: Arc<Store>,
    // ANCHOR_END: app_store
    pub addr: SocketAddr,
    /// The host allow-list and CORS (see `origin.rs`).
    pub policy: Policy,
}
// ANCHOR_END: app

// ANCHOR: implemented
/// Every method some path here answers. Any other gets 501 Not
/// Implemented, whatever the path: RFC 9110 (section 15.6.2) keeps 501 for
/// a method the server supports for no resource at all, and 405 (section
/// 15.5.6) for one it knows but this resource does not take, with `Allow`
/// saying which would do. `PUT` is a standard method, but no path here
/// takes it, so it is a 501 too: a client can tell from the status alone
/// that trying another path would not help.
///
/// Answering 405 to everything, as days 3 and 4 do, is simpler; but it
/// tells a client that `BREW /todos` is a method `/todos` merely turns
/// down.
pub const IMPLEMENTED: [&str; 6] = ["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"];
// ANCHOR_END: implemented

// ANCHOR: resource
/// The longest `/sleep` we agree to.
const MAX_SLEEP_MS: u64 = 10_000;

/// The things a path can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource {
    // ANCHOR: todos_resource
    Todos,
    // ANCHOR_END: todos_resource
    // ANCHOR: todo_resource
    Todo(u64),
    // ANCHOR_END: todo_resource
    Hello,
    Sleep,
    Panic,
    // ANCHOR: asset_resource
    /// One of the to-do page's files (see `assets.rs`).
    Asset,
    // ANCHOR_END: asset_resource
}

impl Resource {
    /// What `path` names, if anything. `/todos/abc` names nothing: the id
    /// must be a number.
    fn of(path: &str) -> Option<Resource> {
        match path {
            // ANCHOR: todos_path
            "/todos" => Some(Resource::Todos),
            // ANCHOR_END: todos_path
            "/hello" => Some(Resource::Hello),
            "/sleep" => Some(Resource::Sleep),
            "/panic" => Some(Resource::Panic),
            // ANCHOR: asset_path
            path if assets::is_asset(path) => Some(Resource::Asset),
            // ANCHOR_END: asset_path
            /* STAND-IN: todo_path
            _ => None,
            */
            // ANCHOR: todo_path
            _ => match path.strip_prefix("/todos/").map(str::parse::<u64>) {
                Some(Ok(id)) => Some(Resource::Todo(id)),
                _ => None,
            },
            // ANCHOR_END: todo_path
        }
    }

    /// The methods it answers, for `Allow`. Every `GET` route answers
    /// `HEAD` too (RFC 9110, section 9.1: a general-purpose server must).
    fn allow(self) -> &'static str {
        match self {
            // ANCHOR: todos_allow
            Resource::Todos => "GET, HEAD, POST, DELETE, OPTIONS",
            // ANCHOR_END: todos_allow
            // ANCHOR: todo_allow
            Resource::Todo(_) => "GET, HEAD, PATCH, DELETE, OPTIONS",
            // ANCHOR_END: todo_allow
            Resource::Hello | Resource::Sleep | Resource::Panic => "GET, HEAD, OPTIONS",
            // ANCHOR: asset_allow
            Resource::Asset => "GET, HEAD, OPTIONS",
            // ANCHOR_END: asset_allow
        }
    }
}
// ANCHOR_END: resource

// ANCHOR: route
/// Picks the handler for `request`.
pub fn route(request: &Request, app: &App) -> Response {
    if let Err(refused) = app.policy.check(request) {
        return refused;
    }
    // ANCHOR: not_implemented
    if !IMPLEMENTED.contains(&request.method.as_str()) {
        return Response::error(
            501,
            &format!(
                "{} is not a method this server implements; it knows {}",
                request.method,
                IMPLEMENTED.join(", ")
            ),
        );
    }
    // ANCHOR_END: not_implemented
    // ANCHOR: options_star
    // `OPTIONS *` asks about the server as a whole (RFC 9110, section
    // 9.3.7): every method any path takes.
    if request.path == "*" {
        return app.policy.options(crate::origin::CORS_METHODS);
    }
    // ANCHOR_END: options_star
    let Some(resource) = Resource::of(&request.path) else {
        return Response::error(404, &format!("no route for {}", request.path));
    };
    /* STAND-IN: head_as_get
    let method = request.method.as_str();
    */
    // ANCHOR: head_as_get
    // HEAD is GET without the body (RFC 9110, section 9.3.2): route it as
    // GET; the connection leaves the body out when it queues the answer
    // (`Connection::queue`), and keeps the headers, `Content-Length`
    // included.
    let method = match request.method.as_str() {
        "HEAD" => "GET",
        method => method,
    };
    // ANCHOR_END: head_as_get
    // ANCHOR: base
    let base = base_url(request, app);
    // ANCHOR_END: base
    match (method, resource) {
        ("OPTIONS", resource) => app.policy.options(resource.allow()),

        // ANCHOR: list_route
        ("GET", Resource::Todos) => todos::list(&app.store, &base),
        // ANCHOR_END: list_route
        // ANCHOR: create_route
        ("POST", Resource::Todos) => todos::create(&app.store, request, &base),
        // ANCHOR_END: create_route
        // ANCHOR: todo_routes
        ("DELETE", Resource::Todos) => todos::clear(&app.store),

        ("GET", Resource::Todo(id)) => todos::get(&app.store, id, &base),
        ("PATCH", Resource::Todo(id)) => todos::update(&app.store, id, request, &base),
        ("DELETE", Resource::Todo(id)) => todos::delete(&app.store, id),
        // ANCHOR_END: todo_routes

        // ANCHOR: asset_dispatch
        ("GET", Resource::Asset) => assets::serve(&request.path, request),
        // ANCHOR_END: asset_dispatch
        ("GET", Resource::Hello) => hello(request),
        ("GET", Resource::Sleep) => sleep(request),
        ("GET", Resource::Panic) => panic!("GET /panic panics on purpose"),

        (_, resource) => method_not_allowed(resource.allow()),
    }
}
// ANCHOR_END: route

// ANCHOR: route_or_500
/// Runs [`route`], turning a panic into a 500, as on day 4: a handler that
/// panics costs its request a 500, not the event loop or the worker its
/// life.
pub fn route_or_500(request: &Request, app: &App) -> Response {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| route(request, app)))
        .unwrap_or_else(|_| Response::error(500, "the handler panicked; see the server log"))
}
// ANCHOR_END: route_or_500

// ANCHOR: may_wait
/// Whether answering `request` may make its thread wait: for the disk
/// (a change to the to-dos is answered only once its log record is
/// synced), or on purpose (`/sleep`). Such requests are answered on a
/// worker thread; all others on the event loop, where a wait would hold
/// up every connection the loop serves.
///
/// The rule goes by method and path, not by what a handler happens to
/// do today: any method that may change something counts as waiting, so
/// that a new handler cannot stall the event loop by mistake.
pub fn may_wait(request: &Request) -> bool {
    let reads_only = matches!(request.method.as_str(), "GET" | "HEAD" | "OPTIONS");
    !reads_only || Resource::of(&request.path) == Some(Resource::Sleep)
}
// ANCHOR_END: may_wait

// ANCHOR: base_url
/// `http://HOST`, where HOST is what the client used to reach us (its
/// `Host` header, or the host in an absolute-form target), so that the
/// URLs we hand out work from where it stands. Without one (only HTTP/1.0
/// may leave it out), our own address.
fn base_url(request: &Request, app: &App) -> String {
    match &request.host {
        Some(host) if !host.is_empty() => format!("http://{host}"),
        _ => format!("http://{}", app.addr),
    }
}
// ANCHOR_END: base_url

// ANCHOR: handlers
fn method_not_allowed(allow: &'static str) -> Response {
    Response::error(405, &format!("this path only answers {allow}")).with_header("Allow", allow)
}

#[derive(Serialize)]
struct Greeting {
    message: String,
}

/// `GET /hello?name=Ferris`, as on day 3, with serde writing the JSON.
fn hello(request: &Request) -> Response {
    let name = match request.query.get("name") {
        Some(name) if !name.is_empty() => name.as_str(),
        _ => "World",
    };
    Response::json(
        200,
        &Greeting {
            message: format!("Hello, {name}!"),
        },
    )
}

#[derive(Serialize)]
struct Slept {
    slept_ms: u64,
}

/// `GET /sleep?ms=500`, as on day 3.
fn sleep(request: &Request) -> Response {
    let Some(Ok(ms)) = request.query.get("ms").map(|ms| ms.parse::<u64>()) else {
        return Response::error(
            400,
            "ms must be a whole number of milliseconds, as in /sleep?ms=500",
        );
    };
    let ms = ms.min(MAX_SLEEP_MS);
    std::thread::sleep(Duration::from_millis(ms));
    Response::json(200, &Slept { slept_ms: ms })
}
// ANCHOR_END: handlers

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::{Progress, RequestReader};

    /// Reads one request from raw bytes.
    fn request(raw: &[u8]) -> Request {
        let mut reader = RequestReader::new();
        reader.feed(raw);
        match reader.poll() {
            Ok(Progress::Done(request)) => request,
            other => panic!("not a whole request: {other:?}"),
        }
    }

    #[test]
    fn only_requests_that_may_wait_leave_the_event_loop() {
        let table: &[(&[u8], bool)] = &[
            (b"GET /hello HTTP/1.1\r\nHost: h\r\n\r\n", false),
            (b"HEAD /todos HTTP/1.1\r\nHost: h\r\n\r\n", false),
            (b"GET /todos/7 HTTP/1.1\r\nHost: h\r\n\r\n", false),
            (b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", false),
            (b"GET /app.js HTTP/1.1\r\nHost: h\r\n\r\n", false),
            (b"GET /nowhere HTTP/1.1\r\nHost: h\r\n\r\n", false),
            // Waits on purpose.
            (b"GET /sleep?ms=10 HTTP/1.1\r\nHost: h\r\n\r\n", true),
            (b"HEAD /sleep?ms=10 HTTP/1.1\r\nHost: h\r\n\r\n", true),
            // Changes wait for the disk.
            (
                b"POST /todos HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
                true,
            ),
            (
                b"PATCH /todos/1 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
                true,
            ),
            (b"DELETE /todos HTTP/1.1\r\nHost: h\r\n\r\n", true),
            // A method we do not know might change something: count it
            // as waiting, and let a worker answer 501.
            (b"BREW /hello HTTP/1.1\r\nHost: h\r\n\r\n", true),
        ];
        for (raw, waits) in table {
            let shown = String::from_utf8_lossy(raw);
            assert_eq!(may_wait(&request(raw)), *waits, "{shown:?}");
        }
    }
}

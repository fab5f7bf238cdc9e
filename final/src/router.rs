//! Which handler answers which request.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

use crate::assets;
use crate::request::Request;
use crate::response::Response;
use crate::store::Store;
use crate::todos;

/// What the handlers need: the store, and our own address for building
/// URLs when a client sends no `Host` header.
pub struct App {
    pub store: Store,
    pub addr: SocketAddr,
}

/// The longest `/sleep` we agree to.
const MAX_SLEEP_MS: u64 = 10_000;

/// The methods a CORS preflight may ask about.
const CORS_METHODS: &str = "GET, POST, PATCH, DELETE, OPTIONS";

// ANCHOR: route
/// Picks the handler for `request`.
pub fn route(request: &Request, app: &App) -> Response {
    let method = request.method.as_str();
    let path = request.path.as_str();

    // A browser asks "may I?" with OPTIONS before a cross-origin PATCH or
    // DELETE, or a POST with a JSON body (a CORS "preflight"). We say yes
    // to everything, for every path.
    if method == "OPTIONS" {
        return Response::empty(204)
            .with_header("Access-Control-Allow-Methods", CORS_METHODS)
            .with_header("Access-Control-Allow-Headers", "Content-Type");
    }

    let base = base_url(request, app);
    match (method, path) {
        ("GET", "/todos") => todos::list(&app.store, &base),
        ("POST", "/todos") => todos::create(&app.store, request, &base),
        ("DELETE", "/todos") => todos::clear(&app.store),
        (_, "/todos") => method_not_allowed("GET, POST, DELETE, OPTIONS"),

        ("GET", "/hello") => hello(request),
        ("GET", "/sleep") => sleep(request),
        ("GET", "/panic") => panic!("GET /panic panics on purpose"),
        (_, "/hello" | "/sleep" | "/panic") => method_not_allowed("GET"),

        ("GET" | "HEAD", path) if assets::is_asset(path) => assets::serve(path, request)
            .unwrap_or_else(|| Response::error(404, &format!("no route for {path}"))),
        (_, path) if assets::is_asset(path) => method_not_allowed("GET, HEAD"),

        (_, path) => match path.strip_prefix("/todos/").map(str::parse::<u64>) {
            Some(Ok(id)) => match method {
                "GET" => todos::get(&app.store, id, &base),
                "PATCH" => todos::update(&app.store, id, request, &base),
                "DELETE" => todos::delete(&app.store, id),
                _ => method_not_allowed("GET, PATCH, DELETE, OPTIONS"),
            },
            _ => Response::error(404, &format!("no route for {path}")),
        },
    }
}
// ANCHOR_END: route

// ANCHOR: base_url
/// `http://HOST`, where HOST is what the client used to reach us (its
/// `Host` header), so that the URLs we hand out work from where it stands.
/// Without a `Host` (only HTTP/1.0 may omit it), our own address.
fn base_url(request: &Request, app: &App) -> String {
    match request.header("host") {
        Some(host) if !host.is_empty() => format!("http://{host}"),
        _ => format!("http://{}", app.addr),
    }
}
// ANCHOR_END: base_url

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

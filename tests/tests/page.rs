//! The to-do page as plain HTTP: which paths are files, with which types,
//! and how the caching headers answer. The browser test
//! (`tests/tests/browser.rs`) shows the page works; this shows the rules,
//! on every machine, with or without a browser.

use suite::client;
use suite::server::Server;
use suite::stage::Stage;
use suite::wire::{Exchange, Reply};

/// What a request for a path gets: a status, and for a 200 its type.
const PATHS: &[(&str, &str, u16, Option<&str>)] = &[
    ("GET", "/", 200, Some("text/html; charset=utf-8")),
    ("GET", "/app.css", 200, Some("text/css; charset=utf-8")),
    (
        "GET",
        "/app.js",
        200,
        Some("text/javascript; charset=utf-8"),
    ),
    // Only the three names exist; there is no folder behind them.
    ("GET", "/index.html", 404, None),
    ("GET", "/app.js/", 404, None),
    ("GET", "/static/app.js", 404, None),
    ("GET", "/../app.js", 404, None),
    ("GET", "/%2e%2e/app.js", 404, None),
    ("GET", "/..%2fCargo.toml", 404, None),
    ("POST", "/", 405, None),
    ("DELETE", "/app.js", 405, None),
];

fn start() -> Server {
    Server::reference(Stage::Final).unwrap_or_else(|err| panic!("final starts: {err}"))
}

#[test]
fn only_the_embedded_files_are_served_with_their_types() {
    let server = start();
    for &(method, path, status, content_type) in PATHS {
        let sent = client::request_closing(method, path, None);
        let Reply::Response(response) = Exchange::new(sent).run(server.addr()) else {
            panic!("no answer to {method} {path}");
        };
        assert_eq!(response.status, status, "{method} {path}");
        if let Some(content_type) = content_type {
            assert_eq!(
                response.header("content-type"),
                Some(content_type),
                "{path}"
            );
            assert_eq!(response.header("cache-control"), Some("no-cache"), "{path}");
            assert!(response.header("etag").is_some(), "{path} has an ETag");
        }
        if status == 405 {
            assert_eq!(
                response.header("allow"),
                Some("GET, HEAD, OPTIONS"),
                "{method} {path}"
            );
        }
    }
}

#[test]
fn head_answers_like_get_without_the_body() {
    let server = start();
    for path in ["/", "/app.css", "/app.js"] {
        client::head_matches_get(server.addr(), path)
            .unwrap_or_else(|failure| panic!("HEAD {path}: {failure:?}"));
    }
}

/// `If-None-Match` values, and whether the page counts as unchanged.
#[test]
fn if_none_match_gets_a_304_only_for_the_current_tag() {
    let server = start();
    let get = |extra: &str| {
        let sent = format!("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Connection: close\r\n\r\n");
        match Exchange::new(sent).run(server.addr()) {
            Reply::Response(response) => response,
            other => panic!("no answer to GET / with {extra:?}: {}", other.describe()),
        }
    };
    let tag = get("")
        .header("etag")
        .expect("the page has an ETag")
        .to_string();
    let rows = [
        (format!("If-None-Match: {tag}\r\n"), 304),
        (format!("If-None-Match: W/{tag}\r\n"), 304),
        (format!("If-None-Match: \"old\", {tag}\r\n"), 304),
        ("If-None-Match: *\r\n".to_string(), 304),
        ("If-None-Match: \"old\"\r\n".to_string(), 200),
    ];
    for (header, status) in rows {
        let response = get(&header);
        assert_eq!(response.status, status, "{header:?}");
        assert_eq!(response.header("etag"), Some(tag.as_str()), "{header:?}");
        if status == 304 {
            assert!(response.body.is_empty(), "a 304 has no body ({header:?})");
        }
    }
}

//! A whole conversation with the final server's to-do API, on one kept-open
//! connection, each step recorded as a snapshot (`todos_<step>@final.snap`).
//!
//! It is the tour the book's final chapters show: create, list, change,
//! delete, and the errors a client meets on the way. The steps depend on
//! each other (the to-do created first is the one changed later), so they
//! run in order, in one test.
//!
//! A second, shorter conversation is the one a browser has about the to-do
//! page: "what is its tag?", then "I have this tag; has it changed?".

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use suite::server::Server;
use suite::stage::Stage;
use suite::wire::{self, RawResponse, Reply, transcript};

/// Each step: its name, method, path, extra headers, and body (sent as
/// JSON unless the extra headers set another Content-Type).
const STEPS: &[(&str, &str, &str, &str, &str)] = &[
    ("create", "POST", "/todos", "", r#"{"title":"buy milk"}"#),
    (
        "create_with_order",
        "POST",
        "/todos",
        "",
        r#"{"title":"walk the dog","order":2}"#,
    ),
    ("list", "GET", "/todos", "", ""),
    ("patch", "PATCH", "/todos/1", "", r#"{"completed":true}"#),
    ("get", "GET", "/todos/1", "", ""),
    ("delete", "DELETE", "/todos/2", "", ""),
    ("get_deleted", "GET", "/todos/2", "", ""),
    (
        "not_json",
        "POST",
        "/todos",
        "Content-Type: text/plain\r\n",
        "buy bread",
    ),
    ("empty_title", "POST", "/todos", "", r#"{"title":""}"#),
    (
        "wrong_type",
        "PATCH",
        "/todos/1",
        "",
        r#"{"order":"first"}"#,
    ),
    ("wrong_method", "POST", "/todos/1", "", r#"{"title":"x"}"#),
    ("not_implemented", "PUT", "/todos/1", "", r#"{"title":"x"}"#),
    ("options", "OPTIONS", "/todos/1", "", ""),
    ("delete_all", "DELETE", "/todos", "", ""),
    ("list_empty", "GET", "/todos", "Connection: close\r\n", ""),
];

fn request(method: &str, path: &str, extra_headers: &str, body: &str) -> String {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra_headers}");
    if !body.is_empty() {
        if !extra_headers.contains("Content-Type") {
            text.push_str("Content-Type: application/json\r\n");
        }
        text.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    text.push_str("\r\n");
    text.push_str(body);
    text
}

/// Sends `sent` on `stream` and reads the answer; panics unless one comes.
fn exchange(stream: &mut TcpStream, sent: &str) -> RawResponse {
    stream
        .write_all(sent.as_bytes())
        .expect("the connection stays open");
    match wire::read_reply(stream, Instant::now() + Duration::from_secs(5)) {
        Reply::Response(response) => response,
        other => panic!("no answer to {sent:?}: {}", other.describe()),
    }
}

/// Records the exchange as `tests/snapshots/{name}.snap`.
fn snapshot(name: &str, sent: &str, response: &RawResponse) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(name.to_string(), transcript(sent, response)));
}

#[test]
fn todo_api_conversation() {
    let server = Server::reference(Stage::Final).expect("final starts");
    let mut stream = TcpStream::connect(server.addr()).expect("final accepts");
    for (name, method, path, extra_headers, body) in STEPS {
        let sent = request(method, path, extra_headers, body);
        let response = exchange(&mut stream, &sent);
        snapshot(&format!("todos_{name}@final"), &sent, &response);
    }
}

/// The page's caching exchange (`page_<step>@final.snap`): `GET /` gives
/// the page with its `ETag`; a `GET /` that sends that tag back in
/// `If-None-Match` gets a 304 without a body. The snapshot of the first
/// answer shows the HTML's size instead of the HTML, which the book shows
/// as a file of its own.
#[test]
fn page_revalidation_conversation() {
    let server = Server::reference(Stage::Final).expect("final starts");
    let mut stream = TcpStream::connect(server.addr()).expect("final accepts");

    let sent = request("GET", "/", "", "");
    let page = exchange(&mut stream, &sent);
    let tag = page
        .header("etag")
        .expect("the page has an ETag")
        .to_string();
    let summarised = RawResponse {
        body: format!("({} bytes of HTML)\n", page.body.len()).into_bytes(),
        ..page
    };
    snapshot("page_get@final", &sent, &summarised);

    let sent = request("GET", "/", &format!("If-None-Match: {tag}\r\n"), "");
    let again = exchange(&mut stream, &sent);
    snapshot("page_not_modified@final", &sent, &again);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty(), "a 304 has no body");
}

/// Exchanges the book shows beside the tour, each on a connection of its
/// own, recorded as `<name>@final.snap`: the HTTP/1.1 features the final
/// chapters add, and what the server says to a page from another origin,
/// by default and with `--cors '*'`.
const EXCHANGES: &[(&str, &[&str], &str)] = &[
    (
        "chunked_post",
        &[],
        "POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n9;part=1\r\n{\"title\":\r\n9\r\n\"chunked\"\r\n1\r\n}\r\n0\r\n\r\n",
    ),
    (
        "head",
        &[],
        "HEAD /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    ),
    (
        "options_star",
        &[],
        "OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    ),
    (
        "gzip_chunked",
        &[],
        "POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
    ),
    (
        "foreign_host",
        &[],
        "GET /todos HTTP/1.1\r\nHost: rebind.example:5000\r\nConnection: close\r\n\r\n",
    ),
    (
        "cross_origin_read",
        &[],
        "GET /todos HTTP/1.1\r\nHost: 127.0.0.1:5000\r\nOrigin: http://evil.example\r\nConnection: close\r\n\r\n",
    ),
    (
        "cross_origin_preflight_with_cors",
        &["--cors", "*"],
        "OPTIONS /todos/1 HTTP/1.1\r\nHost: 127.0.0.1:5000\r\nOrigin: http://todobackend.com\r\nAccess-Control-Request-Method: DELETE\r\nConnection: close\r\n\r\n",
    ),
];

#[test]
fn protocol_exchanges() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for (name, args, sent) in EXCHANGES {
            let server = Server::reference_with(Stage::Final, args).expect("final starts");
            let mut stream = std::net::TcpStream::connect(server.addr()).expect("final accepts");
            stream.write_all(sent.as_bytes()).expect("the server reads");
            // A HEAD answer announces a body that never comes, so it is
            // read to the close rather than by its length.
            let deadline = Instant::now() + Duration::from_secs(5);
            let reply = if sent.starts_with("HEAD") {
                wire::read_head_reply(stream, deadline)
            } else {
                wire::read_reply(&mut stream, deadline)
            };
            let Reply::Response(response) = reply else {
                panic!("no answer to {name}: {}", reply.describe());
            };
            insta::assert_snapshot!(format!("{name}@final"), transcript(sent, &response));
        }
    });
}

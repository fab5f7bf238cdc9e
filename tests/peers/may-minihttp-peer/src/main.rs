//! The benchmark's routes on may_minihttp: `GET /hello`, `GET /sleep?ms=N`,
//! `POST /todos` and `GET /todos/{id}`, with the statuses and bodies the
//! final server gives, so that the two are measured doing the same work.
//!
//! may_minihttp is a small HTTP/1.1 server on `may`, a runtime of
//! stackful coroutines: each connection is a coroutine with a stack of its
//! own, written as blocking code, and `may` parks it on an event loop
//! whenever its socket would block. It is near the top of the published
//! plaintext rankings, which is why it is here: the fastest kind of
//! server a reader could pick up from crates.io, next to axum (the usual
//! one) and tiny_http (the simple one). It reads every request that has
//! arrived, then answers them all in one write, so pipelined requests
//! cost one system call.
//!
//! What it does not do, and the final server does: it caps a request at
//! 16 headers, sends no `Location` with a 201 (may_minihttp takes only
//! `&'static str` headers, and a leaked string per POST would grow without
//! end), ignores `Connection: close`, and does not percent-decode the
//! `name` in `/hello?name=`. The benchmark needs none of these. Two
//! things of may_minihttp's own that a test by hand runs into: a client
//! that sends its requests and closes its side at once (`nc -q1`) gets no
//! answer, because may_minihttp takes the end of input for an error and
//! drops what it read with it; and a `Content-Length` that is not a
//! number panics that connection's coroutine (it unwraps the parse),
//! though the server goes on. wrk does neither.
//!
//! It keeps the stage contract, so the benchmark starts it like a stage:
//! `127.0.0.1:$PORT` (5000 by default, 0 for a free port), and a first
//! line `Listening on http://ADDR`.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};
use std::net::{SocketAddr, TcpListener};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::BufMut;
use may_minihttp::{HttpServiceFactory, Request, Response};
use serde::{Deserialize, Serialize};

#[derive(Clone, Serialize)]
struct Todo {
    id: u64,
    title: String,
    completed: bool,
    order: Option<i64>,
    url: String,
}

#[derive(Deserialize)]
struct NewTodo {
    title: String,
    order: Option<i64>,
}

#[derive(Default)]
struct Todos {
    next_id: u64,
    by_id: BTreeMap<u64, Todo>,
}

/// The to-dos, shared by every connection. A std `Mutex`, held only to
/// copy a to-do in or out: a coroutine that waits for it blocks its
/// worker thread for that long. `may::sync::Mutex` would park the
/// coroutine instead, which is worth it only for locks held across I/O.
type Shared = Arc<Mutex<Todos>>;

fn main() {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(5000);
    // may_minihttp binds the address it is given and does not say which
    // port it got, so for port 0 we ask the system for a free port and
    // hand it on. Another program could take it in between; the start
    // then fails loudly, and the benchmark says so.
    let addr = match free_addr(port) {
        Ok(addr) => addr,
        Err(err) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {err}");
            std::process::exit(1);
        }
    };
    // One worker thread per core, as axum's runtime has.
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    may::config().set_workers(cores);
    let server = match Service::factory(Shared::default()).start(addr) {
        Ok(server) => server,
        Err(err) => {
            eprintln!("cannot listen on {addr}: {err}");
            std::process::exit(1);
        }
    };
    println!("Listening on http://{addr}");
    let _ = io::stdout().flush();
    if server.join().is_err() {
        eprintln!("the server's coroutine panicked");
        std::process::exit(1);
    }
}

/// `127.0.0.1:port`, or a port that is free now for port 0.
fn free_addr(port: u16) -> io::Result<SocketAddr> {
    if port != 0 {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    TcpListener::bind(("127.0.0.1", 0))?.local_addr()
}

/// may_minihttp makes one [`Service`] per connection.
struct Factory {
    todos: Shared,
}

impl HttpServiceFactory for Factory {
    type Service = Service;

    fn new_service(&self, _connection: usize) -> Service {
        Service {
            todos: Arc::clone(&self.todos),
        }
    }
}

/// One connection's handler of requests.
struct Service {
    todos: Shared,
}

impl Service {
    fn factory(todos: Shared) -> Factory {
        Factory { todos }
    }
}

impl may_minihttp::HttpService for Service {
    fn call(&mut self, request: Request, response: &mut Response) -> io::Result<()> {
        let (path, query) = match request.path().split_once('?') {
            Some((path, query)) => (path, query),
            None => (request.path(), ""),
        };
        match (request.method(), path) {
            ("GET", "/hello") => {
                let name = parameter(query, "name").filter(|name| !name.is_empty());
                let message = format!("Hello, {}!", name.unwrap_or("World"));
                json(response, 200, &Message { message: &message })
            }
            ("GET", "/sleep") => match parameter(query, "ms").map(str::parse::<u64>) {
                Some(Ok(ms)) => {
                    let ms = ms.min(10_000);
                    // Parks this coroutine, not the worker thread.
                    may::coroutine::sleep(Duration::from_millis(ms));
                    json(response, 200, &Slept { slept_ms: ms })
                }
                _ => json(response, 400, &Error { error: "ms" }),
            },
            ("POST", "/todos") => {
                let host = request
                    .headers()
                    .iter()
                    .find(|header| header.name.eq_ignore_ascii_case("host"))
                    .and_then(|header| std::str::from_utf8(header.value).ok())
                    .unwrap_or("127.0.0.1")
                    .to_string();
                let mut body = request.body();
                let new: Result<NewTodo, _> = serde_json::from_slice(body.fill_buf()?);
                let Ok(new) = new else {
                    return json(response, 400, &Error { error: "bad JSON" });
                };
                let todo = self.create(new, &host);
                json(response, 201, &todo)
            }
            ("GET", _) => {
                let todo = path
                    .strip_prefix("/todos/")
                    .and_then(|id| id.parse::<u64>().ok())
                    .and_then(|id| self.find(id));
                match todo {
                    Some(todo) => json(response, 200, &todo),
                    None => json(response, 404, &NOT_FOUND),
                }
            }
            _ => json(response, 404, &NOT_FOUND),
        }
    }
}

impl Service {
    fn create(&self, new: NewTodo, host: &str) -> Todo {
        let mut todos = self.todos.lock().unwrap_or_else(PoisonError::into_inner);
        todos.next_id += 1;
        let id = todos.next_id;
        let todo = Todo {
            id,
            title: new.title,
            completed: false,
            order: new.order,
            url: format!("http://{host}/todos/{id}"),
        };
        todos.by_id.insert(id, todo.clone());
        todo
    }

    fn find(&self, id: u64) -> Option<Todo> {
        let todos = self.todos.lock().unwrap_or_else(PoisonError::into_inner);
        todos.by_id.get(&id).cloned()
    }
}

#[derive(Serialize)]
struct Message<'a> {
    message: &'a str,
}

#[derive(Serialize)]
struct Slept {
    slept_ms: u64,
}

#[derive(Serialize)]
struct Error {
    error: &'static str,
}

const NOT_FOUND: Error = Error {
    error: "no such to-do",
};

/// The value of `name` in a query string, as it came (not decoded).
fn parameter<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Answers `status` with `value` as JSON, written straight into
/// may_minihttp's buffer for the body.
fn json(response: &mut Response, status: usize, value: &impl Serialize) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        _ => "Not Found",
    };
    response
        .status_code(status, reason)
        .header("Content-Type: application/json");
    serde_json::to_writer(response.body_mut().writer(), value).map_err(io::Error::other)
}

//! The benchmark's routes on tiny_http: `GET /hello`, `GET /sleep?ms=N`,
//! `POST /todos` and `GET /todos/{id}`, answering what the final server
//! answers. tiny_http reads requests on its own threads and hands them to
//! ours; four handler threads, like day 4's pool.
//!
//! It keeps the stage contract, so the benchmark starts it like a stage:
//! `127.0.0.1:$PORT` (5000 by default, 0 for a free port), and a first
//! line `Listening on http://ADDR`.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tiny_http::{Header, Method, Request, Response, Server};

/// Handler threads, as many as day 4's pool.
const THREADS: usize = 4;

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

fn main() {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(5000);
    let server = match Server::http(("127.0.0.1", port)) {
        Ok(server) => Arc::new(server),
        Err(err) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {err}");
            std::process::exit(1);
        }
    };
    if let Some(addr) = server.server_addr().to_ip() {
        println!("Listening on http://{addr}");
        let _ = std::io::stdout().flush();
    }
    let todos = Arc::new(Mutex::new(Todos::default()));
    let handlers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (server, todos) = (Arc::clone(&server), Arc::clone(&todos));
            thread::spawn(move || {
                for request in server.incoming_requests() {
                    handle(request, &todos);
                }
            })
        })
        .collect();
    for handler in handlers {
        let _ = handler.join();
    }
}

fn json(status: u16, value: &impl Serialize) -> Response<std::io::Cursor<Vec<u8>>> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let content_type =
        Header::from_bytes("Content-Type", "application/json").expect("a constant, valid header");
    Response::from_data(body)
        .with_status_code(status)
        .with_header(content_type)
}

fn handle(mut request: Request, todos: &Mutex<Todos>) {
    let url = request.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    };
    let response = match (request.method(), path) {
        (Method::Get, "/hello") => {
            let name = param("name").filter(|name| !name.is_empty());
            let message = format!("Hello, {}!", name.as_deref().unwrap_or("World"));
            json(200, &serde_json::json!({ "message": message }))
        }
        (Method::Get, "/sleep") => match param("ms").map(|ms| ms.parse::<u64>()) {
            Some(Ok(ms)) => {
                let ms = ms.min(10_000);
                thread::sleep(Duration::from_millis(ms));
                json(200, &serde_json::json!({ "slept_ms": ms }))
            }
            _ => json(400, &serde_json::json!({"error": "ms"})),
        },
        (Method::Post, "/todos") => {
            let mut body = String::new();
            let _ = request.as_reader().read_to_string(&mut body);
            match serde_json::from_str::<NewTodo>(&body) {
                Ok(new) => {
                    let host = request
                        .headers()
                        .iter()
                        .find(|header| header.field.equiv("Host"))
                        .map_or("127.0.0.1".to_string(), |header| header.value.to_string());
                    let mut todos = todos.lock().unwrap_or_else(PoisonError::into_inner);
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
                    json(201, &todo)
                }
                Err(err) => json(400, &serde_json::json!({"error": err.to_string()})),
            }
        }
        (Method::Get, path) => match path.strip_prefix("/todos/").map(str::parse::<u64>) {
            Some(Ok(id)) => {
                let todos = todos.lock().unwrap_or_else(PoisonError::into_inner);
                match todos.by_id.get(&id) {
                    Some(todo) => json(200, todo),
                    None => json(404, &serde_json::json!({"error": "no such to-do"})),
                }
            }
            _ => json(404, &serde_json::json!({"error": "no route"})),
        },
        _ => json(405, &serde_json::json!({"error": "method not allowed"})),
    };
    let _ = request.respond(response);
}

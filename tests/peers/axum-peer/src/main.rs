//! The benchmark's routes on axum: `GET /hello`, `GET /sleep?ms=N`,
//! `POST /todos` and `GET /todos/{id}`, answering what the final server
//! answers, so that the two are measured doing the same work.
//!
//! It keeps the stage contract, so the benchmark starts it like a stage:
//! `127.0.0.1:$PORT` (5000 by default, 0 for a free port), and a first
//! line `Listening on http://ADDR`.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
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

type Shared = Arc<Mutex<Todos>>;

#[tokio::main]
async fn main() {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(5000);
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {err}");
            std::process::exit(1);
        }
    };
    if let Ok(addr) = listener.local_addr() {
        println!("Listening on http://{addr}");
        let _ = std::io::stdout().flush();
    }
    let app = Router::new()
        .route("/hello", get(hello))
        .route("/sleep", get(sleep))
        .route("/todos", post(create))
        .route("/todos/{id}", get(one))
        .with_state(Shared::default());
    if let Err(err) = axum::serve(listener, app).await {
        eprintln!("server error: {err}");
    }
}

async fn hello(Query(query): Query<HashMap<String, String>>) -> Response {
    let name = query.get("name").filter(|name| !name.is_empty());
    let message = format!("Hello, {}!", name.map_or("World", String::as_str));
    Json(serde_json::json!({ "message": message })).into_response()
}

async fn sleep(Query(query): Query<HashMap<String, String>>) -> Response {
    let Some(Ok(ms)) = query.get("ms").map(|ms| ms.parse::<u64>()) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({"error": "ms"})),
        )
            .into_response();
    };
    let ms = ms.min(10_000);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Json(serde_json::json!({ "slept_ms": ms })).into_response()
}

async fn create(
    State(todos): State<Shared>,
    headers: HeaderMap,
    Json(new): Json<NewTodo>,
) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or("127.0.0.1");
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
    (
        StatusCode::CREATED,
        [(header::LOCATION, todo.url.clone())],
        Json(todo),
    )
        .into_response()
}

async fn one(State(todos): State<Shared>, Path(id): Path<u64>) -> Response {
    let todos = todos.lock().unwrap_or_else(PoisonError::into_inner);
    match todos.by_id.get(&id) {
        Some(todo) => Json(todo.clone()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": "no such to-do"})),
        )
            .into_response(),
    }
}

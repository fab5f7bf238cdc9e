//! The to-do API: what each route does with the store, and how request
//! bodies are checked.
//!
//! The API follows the Todo-Backend contract (todobackend.com), so that
//! existing Todo-Backend clients work against it. Bodies are read with
//! `serde_json` into a generic JSON object first, and each field is checked
//! by hand, so that an error can name the field that is wrong ("completed
//! must be true or false") instead of serde's position-based messages.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::request::Request;
use crate::response::Response;
use crate::store::{Changes, SaveError, Store, Todo};

// ANCHOR: view
/// A to-do as clients see it: the stored fields plus `url`, the absolute
/// address a client can follow to reach it.
#[derive(Serialize)]
struct TodoView<'a> {
    id: u64,
    title: &'a str,
    completed: bool,
    order: Option<i64>,
    url: String,
}

impl<'a> TodoView<'a> {
    fn new(todo: &'a Todo, base: &str) -> TodoView<'a> {
        TodoView {
            id: todo.id,
            title: &todo.title,
            completed: todo.completed,
            order: todo.order,
            url: format!("{base}/todos/{}", todo.id),
        }
    }
}
// ANCHOR_END: view

/// `GET /todos`: every to-do, oldest first.
pub fn list(store: &Store, base: &str) -> Response {
    let todos = store.list();
    let views: Vec<TodoView> = todos.iter().map(|todo| TodoView::new(todo, base)).collect();
    Response::json(200, &views)
}

// ANCHOR: create
/// `POST /todos`: 201 with the new to-do, and its address in `Location`.
pub fn create(store: &Store, request: &Request, base: &str) -> Response {
    let fields = match json_object(request) {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    let parsed = (|| {
        let title = title(&fields)?.ok_or("title is required")?;
        let completed = boolean(&fields, "completed")?.unwrap_or(false);
        let order = integer(&fields, "order")?;
        Ok::<_, String>((title, completed, order))
    })();
    let (title, completed, order) = match parsed {
        Ok(values) => values,
        Err(message) => return Response::error(400, &message),
    };
    match store.create(title, completed, order) {
        Ok(todo) => {
            let view = TodoView::new(&todo, base);
            let location = view.url.clone();
            Response::json(201, &view).with_header("Location", location)
        }
        Err(err) => save_failed(&err),
    }
}
// ANCHOR_END: create

/// `DELETE /todos`: removes every to-do.
pub fn clear(store: &Store) -> Response {
    match store.clear() {
        Ok(()) => Response::empty(204),
        Err(err) => save_failed(&err),
    }
}

/// `GET /todos/{id}`.
pub fn get(store: &Store, id: u64, base: &str) -> Response {
    match store.get(id) {
        Some(todo) => Response::json(200, &TodoView::new(&todo, base)),
        None => not_found(id),
    }
}

/// `PATCH /todos/{id}`: changes the fields given, keeps the others.
pub fn update(store: &Store, id: u64, request: &Request, base: &str) -> Response {
    let fields = match json_object(request) {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    let changes = (|| {
        Ok::<_, String>(Changes {
            title: title(&fields)?,
            completed: boolean(&fields, "completed")?,
            order: integer(&fields, "order")?,
        })
    })();
    let changes = match changes {
        Ok(changes) => changes,
        Err(message) => return Response::error(400, &message),
    };
    match store.update(id, changes) {
        Ok(Some(todo)) => Response::json(200, &TodoView::new(&todo, base)),
        Ok(None) => not_found(id),
        Err(err) => save_failed(&err),
    }
}

/// `DELETE /todos/{id}`.
pub fn delete(store: &Store, id: u64) -> Response {
    match store.delete(id) {
        Ok(true) => Response::empty(204),
        Ok(false) => not_found(id),
        Err(err) => save_failed(&err),
    }
}

fn not_found(id: u64) -> Response {
    Response::error(404, &format!("there is no todo {id}"))
}

// ANCHOR: save_failed
fn save_failed(err: &SaveError) -> Response {
    eprintln!("{err}");
    Response::error(500, "the change could not be saved; nothing was changed")
}
// ANCHOR_END: save_failed

// ANCHOR: json_object
/// The body as a JSON object, or the error response that explains why not.
///
/// No `Content-Type` at all is accepted: requests typed by hand (with `nc`,
/// say) and minimal clients often leave it out, and the body shows what it
/// is anyway. Anything other than JSON is a 415 that says what to add;
/// that is what `curl -d` users meet, since curl labels such bodies
/// `application/x-www-form-urlencoded` unless told otherwise.
fn json_object(request: &Request) -> Result<Map<String, Value>, Response> {
    if let Some(content_type) = request.header("content-type") {
        let media_type = content_type.split(';').next().unwrap_or_default().trim();
        if !media_type.eq_ignore_ascii_case("application/json") {
            return Err(Response::error(
                415,
                &format!(
                    "the body must be JSON, not {media_type}; with curl, add -H 'Content-Type: application/json'"
                ),
            ));
        }
    }
    match serde_json::from_slice::<Value>(&request.body) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(Response::error(
            400,
            "the body must be a JSON object, like {\"title\": \"milk\"}",
        )),
        Err(err) => Err(Response::error(
            400,
            &format!("the body is not valid JSON: {err}"),
        )),
    }
}
// ANCHOR_END: json_object

// ANCHOR: fields
/// `title`, if present: a string with something in it. `null` counts as
/// absent, as it does for every field.
fn title(fields: &Map<String, Value>) -> Result<Option<String>, String> {
    match fields.get("title") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(title)) if title.trim().is_empty() => {
            Err("title must not be empty".into())
        }
        Some(Value::String(title)) => Ok(Some(title.clone())),
        Some(_) => Err("title must be a string".into()),
    }
}

fn boolean(fields: &Map<String, Value>, name: &str) -> Result<Option<bool>, String> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(value)) => Ok(Some(*value)),
        Some(_) => Err(format!("{name} must be true or false")),
    }
}

fn integer(fields: &Map<String, Value>, name: &str) -> Result<Option<i64>, String> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("{name} must be a whole number")),
    }
}
// ANCHOR_END: fields

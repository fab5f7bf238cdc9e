//! The to-do API: what each route does with the store, and how request
//! bodies are checked.
//!
//! The API follows the Todo-Backend contract (todobackend.com), so that
//! existing Todo-Backend clients work against it. Bodies are read with
//! `serde_json` into a generic JSON object first, and each field is checked
//! by hand, so that an error can name the field that is wrong ("completed
//! must be true or false") instead of serde's position-based messages.

// ANCHOR: uses
use std::sync::Arc;

use serde::Serialize;
// ANCHOR: json_uses
use serde_json::{Map, Value};
// ANCHOR_END: json_uses

// ANCHOR: request_use
use crate::http::request::Request;
// ANCHOR_END: request_use
use crate::http::response::Response;
use crate::store::{Changes, SaveError, Store, Todo};
// ANCHOR_END: uses
// ANCHOR: pieces_uses
use crate::http::response::Pieces;
// ANCHOR_END: pieces_uses

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

// ANCHOR: list
/// `GET /todos`: every to-do, oldest first.
pub fn list(store: &Arc<Store>, base: &str) -> Response {
    // ANCHOR_END: list
    // ANCHOR: list_in_pieces
    if store.count() > PAGE {
        return Response::json_in_pieces(200, Box::new(ListPieces::new(store, base)));
    }
    // ANCHOR_END: list_in_pieces
    // ANCHOR: list_all
    let todos = store.list();
    let views: Vec<TodoView> = todos.iter().map(|todo| TodoView::new(todo, base)).collect();
    Response::json(200, &views)
}
// ANCHOR_END: list_all

// ANCHOR: list_pieces
/// How many to-dos a list answers at once: a list this long or shorter is
/// one body with a `Content-Length`, and a longer one goes out in pieces
/// of this many (about 30 kB), one per turn of the event loop.
///
/// Writing a list of 100,000 to-dos (12 MB of JSON) in one go would keep
/// its event loop from every other connection for a tenth of a second.
/// Making it on a worker thread instead frees the loop, but holds the
/// whole body in memory while it is sent, once per client that asks.
pub const PAGE: usize = 256;

/// The pieces of a long list: `[`, then a page of to-dos at a time
/// separated by commas, then `]`.
///
/// Each page is read under the store's lock, but not the whole list at
/// once: a change that lands while the list is on its way shows in it if
/// its to-do is on a page not yet read. Each to-do is whole either way.
struct ListPieces {
    store: Arc<Store>,
    base: String,
    /// The id of the last to-do written: the next page starts after it.
    after: u64,
    /// Whether the `[` is out.
    started: bool,
    /// Whether the `]` is out.
    done: bool,
}

impl ListPieces {
    fn new(store: &Arc<Store>, base: &str) -> ListPieces {
        ListPieces {
            store: Arc::clone(store),
            base: base.to_string(),
            after: 0,
            started: false,
            done: false,
        }
    }
}
// ANCHOR_END: list_pieces

// ANCHOR: list_next_piece
impl Pieces for ListPieces {
    fn next_piece(&mut self, out: &mut Vec<u8>) -> bool {
        if self.done {
            return false;
        }
        let page = self.store.page(self.after, PAGE);
        for todo in &page {
            out.push(if self.started { b',' } else { b'[' });
            self.started = true;
            // Writing to a `Vec` cannot fail, nor can serializing a view
            // of plain fields; and with part of the list sent, there would
            // be no other status left to give.
            let _ = serde_json::to_writer(&mut *out, &TodoView::new(todo, &self.base));
        }
        if page.len() < PAGE {
            if !self.started {
                out.push(b'[');
            }
            out.push(b']');
            self.done = true;
        }
        if let Some(last) = page.last() {
            self.after = last.id;
        }
        true
    }
}
// ANCHOR_END: list_next_piece

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

// ANCHOR: one_todo
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

// ANCHOR_END: one_todo

// ANCHOR: change_one
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
// ANCHOR_END: change_one

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
    // ANCHOR: media_type
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
    // ANCHOR_END: media_type
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A store with `count` to-dos, and the list it answers, pieces and
    /// all, as one body.
    fn listed(count: usize) -> (Arc<Store>, Vec<serde_json::Value>) {
        let store = Arc::new(Store::in_memory());
        for n in 0..count {
            let created = store.create(format!("to-do {n}"), n % 2 == 0, None);
            assert!(created.is_ok(), "an in-memory store takes every to-do");
        }
        let mut response = list(&store, "http://x");
        let mut body = std::mem::take(&mut response.body);
        if let Some(mut pieces) = response.pieces {
            while pieces.next_piece(&mut body) {}
        }
        let list = serde_json::from_slice(&body).expect("a JSON list");
        (store, list)
    }

    #[test]
    fn a_list_in_pieces_is_the_list_in_one_piece() {
        for count in [0, 1, PAGE, PAGE + 1, 2 * PAGE, 3 * PAGE + 7] {
            let (store, got) = listed(count);
            let todos = store.page(0, usize::MAX);
            let want: Vec<serde_json::Value> = todos
                .iter()
                .map(|todo| serde_json::json!(TodoView::new(todo, "http://x")))
                .collect();
            assert_eq!(got, want, "{count} to-dos");
        }
    }

    #[test]
    fn a_change_lands_in_a_long_list_on_its_way_if_its_page_is_not_read_yet() {
        let (store, _) = listed(2 * PAGE);
        let mut response = list(&store, "http://x");
        let mut pieces = response.pieces.take().expect("a long list goes in pieces");
        let mut body = Vec::new();
        assert!(pieces.next_piece(&mut body)); // The first page.
        let (first, last) = (1, 2 * PAGE as u64);
        assert!(store.delete(first).is_ok() && store.delete(last).is_ok());
        let added = store
            .create("late".into(), false, None)
            .expect("a new to-do");
        while pieces.next_piece(&mut body) {}
        let ids: Vec<u64> = serde_json::from_slice::<Vec<serde_json::Value>>(&body)
            .expect("a JSON list")
            .iter()
            .filter_map(|todo| todo["id"].as_u64())
            .collect();
        assert!(ids.contains(&first), "the page read before the delete");
        assert!(!ids.contains(&last), "a page read after it");
        assert_eq!(ids.last(), Some(&added.id));
    }
}

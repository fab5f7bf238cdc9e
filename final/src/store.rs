//! The to-dos, shared by every worker, and kept on disk if asked to.
//!
//! All to-dos live in one `BTreeMap` behind one `Mutex`. A read-write lock
//! or a concurrent map would let readers overlap, but every request here
//! holds the lock for microseconds, and one mutex is much easier to reason
//! about: there is exactly one order in which changes happen.
//!
//! With a data file, every change is written to disk before it is
//! acknowledged, in a way that survives `kill -9` and power loss at any
//! moment (see [`save`]). The whole file is rewritten each time. That is
//! fine for a to-do list and would not be for a million rows, where a
//! database (or an append-only log) earns its keep.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

/// One to-do as it is stored. The `url` clients see is added by the API
/// layer, since it depends on how the client reached us.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Todo {
    pub id: u64,
    pub title: String,
    pub completed: bool,
    pub order: Option<i64>,
}

/// A change to one to-do: each field that is `Some` is replaced.
#[derive(Debug, Default)]
pub struct Changes {
    pub title: Option<String>,
    pub completed: Option<bool>,
    pub order: Option<i64>,
}

// ANCHOR: state
/// Everything the data file holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    /// The id the next to-do gets. It only ever grows, so an id is never
    /// reused, not even after `DELETE /todos`.
    next_id: u64,
    todos: BTreeMap<u64, Todo>,
}
// ANCHOR_END: state

/// Why a change could not be saved.
#[derive(Debug)]
pub struct SaveError(io::Error);

impl std::fmt::Display for SaveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "could not save the to-dos: {}", self.0)
    }
}

// ANCHOR: store
/// The to-do store.
pub struct Store {
    state: Mutex<State>,
    file: Option<PathBuf>,
}
// ANCHOR_END: store

impl Store {
    /// A store that keeps to-dos in memory only.
    pub fn in_memory() -> Store {
        Store {
            state: Mutex::new(State {
                next_id: 1,
                todos: BTreeMap::new(),
            }),
            file: None,
        }
    }

    // ANCHOR: open
    /// A store backed by `path`. A missing file is an empty list (created on
    /// the first change). A file that exists but cannot be read or parsed
    /// is an error: starting empty would overwrite it at the first change,
    /// and silently losing someone's data is the worst thing we could do.
    pub fn open(path: &Path) -> Result<Store, String> {
        let state = match fs::read(path) {
            Ok(bytes) => serde_json::from_slice::<State>(&bytes).map_err(|err| {
                format!(
                    "{} is not a valid to-do file ({err}); refusing to start rather than overwrite it",
                    path.display()
                )
            })?,
            Err(err) if err.kind() == io::ErrorKind::NotFound => State {
                next_id: 1,
                todos: BTreeMap::new(),
            },
            Err(err) => return Err(format!("cannot read {}: {err}", path.display())),
        };
        Ok(Store {
            state: Mutex::new(state),
            file: Some(path.to_path_buf()),
        })
    }
    // ANCHOR_END: open

    /// Where the to-dos are kept, if on disk.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    // ANCHOR: list_get
    /// Every to-do, oldest first.
    pub fn list(&self) -> Vec<Todo> {
        self.lock().todos.values().cloned().collect()
    }

    /// The to-do with `id`.
    pub fn get(&self, id: u64) -> Option<Todo> {
        self.lock().todos.get(&id).cloned()
    }
    // ANCHOR_END: list_get

    // ANCHOR: create
    /// Adds a to-do and returns it, with its new id.
    pub fn create(
        &self,
        title: String,
        completed: bool,
        order: Option<i64>,
    ) -> Result<Todo, SaveError> {
        self.change(|state| {
            let todo = Todo {
                id: state.next_id,
                title,
                completed,
                order,
            };
            state.next_id += 1;
            state.todos.insert(todo.id, todo.clone());
            todo
        })
    }
    // ANCHOR_END: create

    /// Applies `changes` to the to-do with `id`; `None` if there is none.
    pub fn update(&self, id: u64, changes: Changes) -> Result<Option<Todo>, SaveError> {
        self.change(|state| {
            let todo = state.todos.get_mut(&id)?;
            if let Some(title) = changes.title {
                todo.title = title;
            }
            if let Some(completed) = changes.completed {
                todo.completed = completed;
            }
            if changes.order.is_some() {
                todo.order = changes.order;
            }
            Some(todo.clone())
        })
    }

    /// Removes the to-do with `id`; `false` if there was none.
    pub fn delete(&self, id: u64) -> Result<bool, SaveError> {
        self.change(|state| state.todos.remove(&id).is_some())
    }

    /// Removes every to-do. Ids keep counting up.
    pub fn clear(&self) -> Result<(), SaveError> {
        self.change(|state| state.todos.clear())
    }

    // ANCHOR: change
    /// Runs `edit` on a copy of the state, saves the copy, and only then
    /// makes it the current state. If saving fails, nothing changed: the
    /// client gets an error and the old state stays, on disk and in memory.
    ///
    /// The lock is held while saving, so changes reach the disk in the same
    /// order they happen, and an acknowledged change is always on disk.
    fn change<T>(&self, edit: impl FnOnce(&mut State) -> T) -> Result<T, SaveError> {
        let mut state = self.lock();
        let mut next = state.clone();
        let result = edit(&mut next);
        if let Some(path) = &self.file {
            save(path, &next).map_err(SaveError)?;
        }
        *state = next;
        Ok(result)
    }
    // ANCHOR_END: change

    // ANCHOR: lock
    /// The state, even if a thread panicked while holding the lock: every
    /// change is made on a copy first, so the state behind the lock is
    /// never half-changed.
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
    // ANCHOR_END: lock
}

// ANCHOR: save
/// Writes `state` to `path` so that, whenever the process dies, the file
/// holds either the old state or the new one, never a mix:
/// 1. write everything to a temporary file next to it;
/// 2. `sync_all`: wait until those bytes are on the disk, not just in the
///    operating system's cache;
/// 3. `rename` the temporary file over the real one, which replaces it in
///    one atomic step;
/// 4. sync the directory, so that the rename itself is on the disk.
fn save(path: &Path, state: &State) -> io::Result<()> {
    let bytes = serde_json::to_vec_pretty(state).map_err(io::Error::other)?;
    // `todos.json.tmp` next to `todos.json`. Appending rather than
    // replacing the extension: with `--data todos.tmp`, `with_extension`
    // would name the real file itself, and `File::create` would empty it.
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let mut file = File::create(&temporary)?;
    file.write_all(&bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temporary, path)?;
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(directory)?.sync_all()
}
// ANCHOR_END: save

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("todo-store-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("can create a temporary directory");
        dir.join("todos.json")
    }

    #[test]
    fn ids_are_never_reused() {
        let store = Store::in_memory();
        let first = store.create("a".into(), false, None).expect("in memory");
        store.clear().expect("in memory");
        let second = store.create("b".into(), false, None).expect("in memory");
        assert!(second.id > first.id);
    }

    #[test]
    fn changes_survive_a_reopen() {
        let path = temp_file("reopen");
        let store = Store::open(&path).expect("a missing file is an empty store");
        store.create("milk".into(), false, Some(2)).expect("saved");
        store.create("eggs".into(), true, None).expect("saved");
        store.delete(1).expect("saved");
        drop(store);

        let reopened = Store::open(&path).expect("the file is valid");
        let todos = reopened.list();
        assert_eq!(todos.len(), 1);
        assert_eq!(todos[0].title, "eggs");
        let next = reopened.create("bread".into(), false, None).expect("saved");
        assert_eq!(next.id, 3, "the id counter was saved too");
    }

    #[test]
    fn a_corrupt_file_is_refused_and_left_alone() {
        let path = temp_file("corrupt");
        fs::write(&path, b"{ not json").expect("can write");
        assert!(Store::open(&path).is_err());
        assert_eq!(fs::read(&path).expect("still there"), b"{ not json");
    }
}

//! What the store knows, and the one way it changes: by applying a
//! [`Record`] of the log.
//!
//! The running server and the recovery at start-up both go through
//! [`State::apply`], so memory after a restart is, by construction, what
//! memory was before it: the same records, applied in the same order, by
//! the same code.

// ANCHOR: uses
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Todo;
// ANCHOR_END: uses

// ANCHOR: state
/// Everything the store knows. The snapshot file is this, as JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The id the next to-do gets. It only ever grows, so an id is never
    /// reused, not even after `DELETE /todos`.
    pub next_id: u64,
    pub todos: BTreeMap<u64, Todo>,
    /// The sequence number of the last log record this state includes.
    /// Data files written before the log existed have no such field:
    /// `default` reads them as 0, "no record applied yet", which is
    /// exactly what they are.
    #[serde(default)]
    pub seq: u64,
}
// ANCHOR_END: state

// ANCHOR: record
/// One entry of the log: a change, and its place in the order of changes.
///
/// Every change is a *blind write*: it says what a to-do is now (`put`),
/// or that it is gone, never "flip `completed`". Applying a record twice
/// leaves the same state as applying it once, which makes replay simple
/// to trust. The sequence number still lets replay skip what a snapshot
/// already holds, and notice a record that went missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub seq: u64,
    pub change: Change,
}

/// What a record changes, written as
/// `{"put":{"id":3,…}}`, `{"delete":3}` or `"clear"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The to-do with this id is now exactly this: a create or an update.
    Put(Todo),
    Delete(u64),
    Clear,
}
// ANCHOR_END: record

// ANCHOR: state_impl
impl State {
    /// An empty list, whose first to-do gets id 1.
    pub fn empty() -> State {
        State {
            next_id: 1,
            todos: BTreeMap::new(),
            seq: 0,
        }
    }

    /// Applies `record`. A `put` also moves `next_id` past its id, so
    /// that ids stay unique after a replay even though no record says
    /// "the counter is now 8".
    pub fn apply(&mut self, record: &Record) {
        match &record.change {
            Change::Put(todo) => {
                self.next_id = self.next_id.max(todo.id + 1);
                self.todos.insert(todo.id, todo.clone());
            }
            Change::Delete(id) => {
                self.todos.remove(id);
            }
            Change::Clear => self.todos.clear(),
        }
        self.seq = record.seq;
    }
}
// ANCHOR_END: state_impl

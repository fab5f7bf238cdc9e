//! Working out what a batch of requests changes, before any of it is
//! saved.
//!
//! With group commit, several writers' requests are saved together, and
//! each must see the ones before it: the second of two creates gets the
//! next id, and a `PATCH` after a `DELETE` of the same to-do finds nothing.
//! Yet none of them may show in the state that readers see until the log
//! holds them. So the batch is worked out on a [`Draft`]: the published
//! state, read-only, plus the batch's own changes on top.
//!
//! The simpler alternative, a full copy of the state per batch, is what
//! the store did before the log: a copy of every to-do for every change,
//! which is the O(n) cost the log exists to remove. A draft costs only
//! what the batch touches.

// ANCHOR: uses
use std::collections::BTreeMap;

use super::state::{Change, Record, State};
use super::{Changes, Todo};
// ANCHOR_END: uses

// ANCHOR: op
/// A request to change the store, as a writer hands it over.
#[derive(Debug)]
pub enum Op {
    Create {
        title: String,
        completed: bool,
        order: Option<i64>,
    },
    Update {
        id: u64,
        changes: Changes,
    },
    Delete {
        id: u64,
    },
    Clear,
}

/// What an [`Op`] did, for the writer that asked.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The to-do as it is now, after a create or an update.
    pub todo: Option<Todo>,
    /// Whether a delete found its to-do.
    pub found: bool,
}
// ANCHOR_END: op

// ANCHOR: draft_struct
/// The published state plus the changes of one batch.
pub struct Draft<'a> {
    base: &'a State,
    /// To-dos the batch changed: `None` if deleted.
    changed: BTreeMap<u64, Option<Todo>>,
    /// Whether the batch cleared the list, hiding all of `base`.
    cleared: bool,
    next_id: u64,
    seq: u64,
}
// ANCHOR_END: draft_struct

// ANCHOR: draft_new
impl<'a> Draft<'a> {
    pub fn new(base: &'a State) -> Draft<'a> {
        Draft {
            base,
            changed: BTreeMap::new(),
            cleared: false,
            next_id: base.next_id,
            seq: base.seq,
        }
    }

    fn get(&self, id: u64) -> Option<&Todo> {
        match self.changed.get(&id) {
            Some(changed) => changed.as_ref(),
            None if self.cleared => None,
            None => self.base.todos.get(&id),
        }
    }

    /// To-do `id` with `changes` made, or `None` if there is no such to-do.
    fn updated(&self, id: u64, changes: Changes) -> Option<Todo> {
        let mut todo = self.get(id)?.clone();
        if let Some(title) = changes.title {
            todo.title = title;
        }
        if let Some(completed) = changes.completed {
            todo.completed = completed;
        }
        if changes.order.is_some() {
            todo.order = changes.order;
        }
        Some(todo)
    }
    // ANCHOR_END: draft_new

    // ANCHOR: draft_apply
    /// Works out `op` on top of everything before it in the batch: what
    /// it answers, and the record that says what it changed (`None` when
    /// it changed nothing, such as a `PATCH` of a missing to-do).
    pub fn apply(&mut self, op: Op) -> (Outcome, Option<Record>) {
        let change = match op {
            Op::Create {
                title,
                completed,
                order,
            } => {
                let todo = Todo {
                    id: self.next_id,
                    title,
                    completed,
                    order,
                };
                self.next_id += 1;
                Change::Put(todo)
            }
            Op::Update { id, changes } => match self.updated(id, changes) {
                Some(todo) => Change::Put(todo),
                None => return (Outcome::default(), None),
            },
            Op::Delete { id } => {
                if self.get(id).is_none() {
                    return (Outcome::default(), None);
                }
                Change::Delete(id)
            }
            Op::Clear => Change::Clear,
        };
        // ANCHOR_END: draft_apply
        // ANCHOR: draft_record
        let outcome = match &change {
            Change::Put(todo) => {
                self.changed.insert(todo.id, Some(todo.clone()));
                Outcome {
                    todo: Some(todo.clone()),
                    found: true,
                }
            }
            Change::Delete(id) => {
                self.changed.insert(*id, None);
                Outcome {
                    todo: None,
                    found: true,
                }
            }
            Change::Clear => {
                self.changed.clear();
                self.cleared = true;
                Outcome::default()
            }
        };
        self.seq += 1;
        let record = Record {
            seq: self.seq,
            change,
        };
        (outcome, Some(record))
    }
    // ANCHOR_END: draft_record
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(title: &str) -> Op {
        Op::Create {
            title: title.into(),
            completed: false,
            order: None,
        }
    }

    #[test]
    fn each_op_sees_the_ones_before_it_and_the_base_is_untouched() {
        let mut base = State::empty();
        let mut draft = Draft::new(&base);
        let (first, _) = draft.apply(create("a"));
        let (second, _) = draft.apply(create("b"));
        assert_eq!(first.todo.map(|t| t.id), Some(1));
        assert_eq!(second.todo.map(|t| t.id), Some(2));
        let (deleted, record) = draft.apply(Op::Delete { id: 1 });
        assert!(deleted.found);
        assert_eq!(record.map(|r| r.seq), Some(3));
        let (patched, record) = draft.apply(Op::Update {
            id: 1,
            changes: Changes::default(),
        });
        assert!(patched.todo.is_none() && record.is_none(), "1 is gone");

        // Applying the records to the base gives what the draft saw.
        let mut records = Vec::new();
        let mut draft = Draft::new(&base);
        for op in [create("a"), create("b"), Op::Clear, create("c")] {
            records.extend(draft.apply(op).1);
        }
        for record in &records {
            base.apply(record);
        }
        let titles: Vec<&str> = base.todos.values().map(|t| t.title.as_str()).collect();
        assert_eq!(titles, ["c"]);
        assert_eq!((base.next_id, base.seq), (4, 4));
    }
}

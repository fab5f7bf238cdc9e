//! The to-dos, shared by every worker, and kept on disk if asked to.
//!
//! All to-dos live in one `BTreeMap` behind one `Mutex`. A read-write lock
//! or a concurrent map would let readers overlap, but every request here
//! holds the lock for microseconds, and one mutex is much easier to reason
//! about: there is exactly one order in which changes happen.
//!
//! With `--data FILE`, every change is on disk before it is acknowledged,
//! in a way that survives `kill -9` and power loss at any moment. Two
//! files hold the to-dos:
//! - `FILE`, the **snapshot**: the whole list as JSON, the format the
//!   store has always written, so older data files open as they are;
//! - `FILE.log`, the **log**: one record per change since the snapshot,
//!   appended, never rewritten.
//!
//! and a third, empty one keeps a second server away: `FILE.lock`, which
//! a running server holds locked (see [`Store::open_with`]).
//!
//! The parts, one file each:
//! - [`state`]: what the store knows, and applying a log record to it;
//! - [`draft`]: working out a batch of changes before they are saved;
//! - [`group_commit`]: writers that arrive together share one sync;
//! - [`log`]: appending to the log, and replaying it at start-up;
//! - [`frame`] and [`crc32`]: how a record is framed and checked;
//! - [`snapshot`]: writing the whole state atomically;
//! - [`compaction`]: folding the log into a new snapshot;
//! - [`disk`]: every file operation, behind a trait the tests can fault.
//!
//! Until the log, every change rewrote the whole file, which is O(n) work
//! per change under the lock: fine for a few hundred to-dos, a few dozen
//! changes a second at a hundred thousand. The log makes a change cost
//! the same at any size.

mod compaction;
mod crc32;
pub mod disk;
mod draft;
#[cfg(test)]
mod faulty_disk;
mod frame;
mod group_commit;
mod log;
mod snapshot;
mod state;
#[cfg(test)]
mod tests;

// ANCHOR: io_use
use std::io;
// ANCHOR_END: io_use
// ANCHOR: bound_use
use std::ops::Bound::{Excluded, Unbounded};
// ANCHOR_END: bound_use
// ANCHOR: path_uses
use std::path::{Path, PathBuf};
// ANCHOR_END: path_uses
// ANCHOR: sync_use
use std::sync::{Mutex, MutexGuard, PoisonError};
// ANCHOR_END: sync_use

// ANCHOR: serde_use
use serde::{Deserialize, Serialize};
// ANCHOR_END: serde_use

// ANCHOR: compaction_use
pub use compaction::Compaction;
// ANCHOR_END: compaction_use
// ANCHOR: schedule_use
use compaction::Schedule;
// ANCHOR_END: schedule_use
// ANCHOR: disk_uses
use disk::{Disk, FileLock, RealDisk};
// ANCHOR_END: disk_uses
// ANCHOR: draft_use
use draft::{Draft, Op, Outcome};
// ANCHOR_END: draft_use
// ANCHOR: group_use
use group_commit::GroupCommit;
// ANCHOR_END: group_use
// ANCHOR: log_use
use log::Log;
// ANCHOR_END: log_use
/* STAND-IN: record_use
// ANCHOR: state_use
use state::State;
// ANCHOR_END: state_use
*/
// ANCHOR: record_use
use state::{Record, State};
// ANCHOR_END: record_use

// ANCHOR: todo
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
// ANCHOR_END: todo

// ANCHOR: save_error
/// Why a change could not be saved. Nothing of the change was applied.
///
/// It holds the message rather than the `io::Error`, because one failed
/// sync fails a whole batch, and every writer in it gets a copy.
#[derive(Debug, Clone)]
pub struct SaveError(String);

impl SaveError {
    fn new(message: impl Into<String>) -> SaveError {
        SaveError(message.into())
    }
}

impl From<io::Error> for SaveError {
    fn from(err: io::Error) -> SaveError {
        SaveError(err.to_string())
    }
}

impl std::fmt::Display for SaveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "could not save the to-dos: {}", self.0)
    }
}
// ANCHOR_END: save_error

// ANCHOR: store
/// The to-do store.
pub struct Store {
    /// What readers see: only changes that are on disk.
    state: Mutex<State>,
    // ANCHOR: durable_field
    /// The files, when the to-dos are kept on disk.
    durable: Option<Durable>,
    // ANCHOR_END: durable_field
}
// ANCHOR_END: store

// ANCHOR: durable
/// The parts of a store that has files.
struct Durable {
    /// The snapshot; the log is this path plus `.log`.
    path: PathBuf,
    disk: Box<dyn Disk>,
    // ANCHOR: durable_log
    /// Locked by whoever writes to the log: a batch's leader, or a
    /// compaction. Always taken before `state`, never after.
    log: Mutex<Log>,
    // ANCHOR_END: durable_log
    // ANCHOR: durable_group
    group: GroupCommit,
    // ANCHOR_END: durable_group
    // ANCHOR: durable_schedule
    /// When the next compaction is due (see `compaction.rs`).
    schedule: Schedule,
    // ANCHOR_END: durable_schedule
    /// `FILE.lock`, locked for as long as this store lives.
    _lock: FileLock,
}
// ANCHOR_END: durable

impl Store {
    // ANCHOR: in_memory
    /// A store that keeps to-dos in memory only.
    pub fn in_memory() -> Store {
        Store {
            state: Mutex::new(State::empty()),
            // ANCHOR: in_memory_durable
            durable: None,
            // ANCHOR_END: in_memory_durable
        }
    }
    // ANCHOR_END: in_memory

    // ANCHOR: open_store
    /// A store backed by the snapshot `path` and the log beside it: see
    /// [`open_with`](Self::open_with).
    pub fn open(path: &Path) -> Result<Store, String> {
        /* STAND-IN: open_default
        Store::open_with(path, Box::new(RealDisk))
        */
        // ANCHOR: open_default
        Store::open_with(path, Box::new(RealDisk), Compaction::default())
        // ANCHOR_END: open_default
    }
    // ANCHOR_END: open_store

    // ANCHOR: open
    /// A store backed by the snapshot at `path` and the log beside it, on
    /// `disk`.
    ///
    /// A missing snapshot is an empty list, and a missing log is created empty, so a
    /// data file from before the log opens as it is and is only rewritten at the first
    /// compaction. A snapshot or a log that exists but cannot be read or makes no sense
    /// is an error, and neither file is touched: starting empty would overwrite them,
    /// and silently losing someone's data is the worst thing we could do.
    pub fn open_with(
        path: &Path,
        disk: Box<dyn Disk>,
        // ANCHOR: policy_param
        policy: Compaction,
        // ANCHOR_END: policy_param
    ) -> Result<Store, String> {
        let lock = lock_data_file(&*disk, path)?;
        /* STAND-IN: replay_log
        let (state, _) = snapshot::load(&*disk, path)?;
        */
        // ANCHOR: replay_log
        let (mut state, snapshot_size) = snapshot::load(&*disk, path)?;
        let log_path = snapshot::beside(path, ".log");
        let (log, dropped) = Log::open(&*disk, &log_path, &mut state)?;
        if dropped > 0 {
            eprintln!(
                "{}: dropped an unfinished record at the end ({dropped} bytes); it was never acknowledged",
                log_path.display()
            );
        }
        // ANCHOR_END: replay_log
        // ANCHOR: schedule_new
        let schedule = Schedule::new(policy, snapshot_size, log.len());
        // ANCHOR_END: schedule_new
        Ok(Store {
            state: Mutex::new(state),
            durable: Some(Durable {
                path: path.to_path_buf(),
                disk,
                // ANCHOR: log_new
                log: Mutex::new(log),
                // ANCHOR_END: log_new
                // ANCHOR: group_new
                group: GroupCommit::default(),
                // ANCHOR_END: group_new
                // ANCHOR: schedule_field
                schedule,
                // ANCHOR_END: schedule_field
                _lock: lock,
            }),
        })
    }
    // ANCHOR_END: open

    // ANCHOR: compact
    /// Writes a new snapshot and starts a fresh log, unless a compaction
    /// is running already (see `compaction.rs`). Does nothing for a store
    /// in memory.
    ///
    /// Changes go on meanwhile: they are held up only while the state is
    /// copied, and while the fresh log is written at the end.
    pub fn compact(&self) -> Result<(), SaveError> {
        match &self.durable {
            Some(durable) => compaction::run(durable, || self.lock().clone()),
            None => Ok(()),
        }
    }
    // ANCHOR_END: compact

    // ANCHOR: file
    /// Where the to-dos are kept, if on disk: the snapshot's path.
    pub fn file(&self) -> Option<&Path> {
        self.durable.as_ref().map(|durable| durable.path.as_path())
    }
    // ANCHOR_END: file

    // ANCHOR: list_get
    /// Every to-do, oldest first.
    pub fn list(&self) -> Vec<Todo> {
        self.lock().todos.values().cloned().collect()
    }

    /// How many to-dos there are.
    pub fn count(&self) -> usize {
        self.lock().todos.len()
    }

    /// At most `count` to-dos, oldest first, from the first one whose id
    /// is above `after`: a page of the list, for answering a long list
    /// a piece at a time without holding the lock for all of it.
    pub fn page(&self, after: u64, count: usize) -> Vec<Todo> {
        let state = self.lock();
        let later = state.todos.range((Excluded(after), Unbounded));
        later.take(count).map(|(_, todo)| todo.clone()).collect()
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
        let outcome = self.write(Op::Create {
            title,
            completed,
            order,
        })?;
        outcome
            .todo
            .ok_or_else(|| SaveError::new("a create made no to-do (a bug in draft.rs)"))
    }
    // ANCHOR_END: create

    // ANCHOR: update_delete_clear
    /// Applies `changes` to the to-do with `id`; `None` if there is none.
    pub fn update(&self, id: u64, changes: Changes) -> Result<Option<Todo>, SaveError> {
        Ok(self.write(Op::Update { id, changes })?.todo)
    }

    /// Removes the to-do with `id`; `false` if there was none.
    pub fn delete(&self, id: u64) -> Result<bool, SaveError> {
        Ok(self.write(Op::Delete { id })?.found)
    }

    /// Removes every to-do. Ids keep counting up.
    pub fn clear(&self) -> Result<(), SaveError> {
        self.write(Op::Clear).map(|_| ())
    }
    // ANCHOR_END: update_delete_clear

    /* STAND-IN: write
    /* STAND-IN: write_snapshot
    // ANCHOR: write_memory
    /// Makes one change.
    fn write(&self, op: Op) -> Result<Outcome, SaveError> {
        let mut state = self.lock();
        let (outcome, record) = Draft::new(&state).apply(op);
        if let Some(record) = record {
            state.apply(&record);
        }
        Ok(outcome)
    }
    // ANCHOR_END: write_memory
    */
    // ANCHOR: write_snapshot
    /// Makes one change, and returns once it is saved. On disk, that is
    /// the whole list written again the careful way, with the lock held
    /// throughout: no reader sees a change the disk does not have yet.
    fn write(&self, op: Op) -> Result<Outcome, SaveError> {
        let mut state = self.lock();
        let (outcome, record) = Draft::new(&state).apply(op);
        let Some(record) = record else {
            return Ok(outcome);
        };
        match &self.durable {
            Some(durable) => {
                let mut changed = state.clone();
                changed.apply(&record);
                snapshot::save(&*durable.disk, &durable.path, &changed)?;
                *state = changed;
            }
            None => state.apply(&record),
        }
        Ok(outcome)
    }
    // ANCHOR_END: write_snapshot
    */
    // ANCHOR: write
    /// Makes one change, and returns once it is saved.
    ///
    /// In memory, that is at once. On disk, the change joins the group
    /// commit, and the batch that carries it is saved by
    /// [`save_batch`](Self::save_batch).
    fn write(&self, op: Op) -> Result<Outcome, SaveError> {
        let Some(durable) = &self.durable else {
            let mut state = self.lock();
            let (outcome, record) = Draft::new(&state).apply(op);
            if let Some(record) = record {
                state.apply(&record);
            }
            return Ok(outcome);
        };
        let outcome = durable
            .group
            .write(op, &mut |batch| self.save_batch(durable, batch))?;
        // ANCHOR: compact_when_due
        // If the log has grown too long, this writer folds it into a new
        // snapshot; its own change is saved and answered for everyone
        // else already.
        if durable.schedule.is_due()
            && let Err(err) = self.compact()
        {
            eprintln!("compaction failed, the log keeps growing: {err}");
        }
        // ANCHOR_END: compact_when_due
        Ok(outcome)
    }
    // ANCHOR_END: write

    // ANCHOR: save_batch
    /// Saves one batch of changes, as its leader: works out every change
    /// on a draft of the published state, appends their records to the
    /// log with one sync, and only then publishes them, in log order.
    ///
    /// The log stays locked from the draft to the publishing, so no other
    /// batch (and no compaction) can come between: memory and the log see
    /// the same changes in the same order. The state is locked only to
    /// draft and to publish, microseconds each: readers never wait for the
    /// disk. If the append fails, the whole batch fails, and nothing of it
    /// is published: later changes in a batch were worked out on top of
    /// earlier ones, so they cannot stand alone.
    fn save_batch(&self, durable: &Durable, batch: Vec<Op>) -> Vec<Result<Outcome, SaveError>> {
        let count = batch.len();
        let mut log = durable.log();
        let (outcomes, records): (Vec<Outcome>, Vec<Option<Record>>) = {
            let state = self.lock();
            let mut draft = Draft::new(&state);
            batch.into_iter().map(|op| draft.apply(op)).unzip()
        };
        let records: Vec<Record> = records.into_iter().flatten().collect();
        if !records.is_empty() {
            if let Err(err) = encode(&records).and_then(|bytes| log.append(&bytes)) {
                let err = SaveError::from(err);
                return vec![Err(err); count];
            }
            let mut state = self.lock();
            for record in &records {
                state.apply(record);
            }
        }
        // ANCHOR: log_grew
        durable.schedule.log_grew(log.len());
        // ANCHOR_END: log_grew
        outcomes.into_iter().map(Ok).collect()
    }
    // ANCHOR_END: save_batch

    // ANCHOR: lock
    /// The state, even if a thread panicked while holding the lock: a
    /// change is drafted aside and published by [`State::apply`](state::State::apply), whose
    /// steps cannot panic, so the state behind the lock is never
    /// half-changed.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
    // ANCHOR_END: lock
}

// ANCHOR: lock_file
/// Locks `path.lock`, beside the snapshot `path`, or says who holds it:
/// two servers appending to one log would interleave their records, and
/// each would acknowledge changes the other never sees.
///
/// Why not lock the snapshot or the log themselves: a lock belongs to the
/// file, not to its name, and compaction renames a new snapshot and a new
/// log over the old ones. After the first compaction, a second server
/// would open the new files, which nobody has locked. `path.lock` is
/// never renamed, and never removed either: removing it on the way out
/// would let a server that opened it just before lock a file that no
/// longer has a name, while a third creates a new one and locks that.
fn lock_data_file(disk: &dyn Disk, path: &Path) -> Result<FileLock, String> {
    let lock_path = snapshot::beside(path, ".lock");
    match disk.lock(&lock_path) {
        Ok(Some(lock)) => Ok(lock),
        Ok(None) => Err(format!(
            "{} is in use: another server holds it (it has {} locked). Stop that server, or give this one another --data file.",
            path.display(),
            lock_path.display()
        )),
        Err(err) => Err(format!("cannot lock {}: {err}", lock_path.display())),
    }
}
// ANCHOR_END: lock_file

// ANCHOR: durable_log_lock
impl Durable {
    /// The log, even after a panic while it was held: a panic cannot
    /// leave it half-appended, since [`Log::append`](log::Log::append) only counts bytes once
    /// they are synced.
    fn log(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
// ANCHOR_END: durable_log_lock

// ANCHOR: encode
/// `records`, framed, ready to append in one write.
fn encode(records: &[Record]) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    for record in records {
        let payload = serde_json::to_vec(record).map_err(io::Error::other)?;
        frame::encode(&payload, &mut bytes)?;
    }
    Ok(bytes)
}
// ANCHOR_END: encode

//! Compaction: folding the log into a new snapshot, so that the log, and
//! the time it takes to replay it at start-up, stay in proportion to the
//! to-dos that are actually there.
//!
//! Without it, the log only grows: a to-do edited a thousand times is a
//! thousand records, and a cleared list is every record that built it.

// ANCHOR: atomic_uses
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
// ANCHOR_END: atomic_uses

// ANCHOR: store_uses
use super::state::State;
use super::{Durable, SaveError, snapshot};
// ANCHOR_END: store_uses

// ANCHOR: policy
/// When to compact: once the log is at least `min_log_bytes` long *and*
/// at least `ratio` times the size of the snapshot.
///
/// The ratio keeps the work in proportion: writing a snapshot costs its
/// size, and with a ratio of 4, at most a quarter more than the log
/// itself has cost. The minimum keeps a small list from being compacted
/// every few changes, and bounds start-up: replaying 16 MiB of records
/// (about 140,000 creates) takes a fraction of a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compaction {
    pub min_log_bytes: u64,
    pub ratio: u64,
}

impl Default for Compaction {
    fn default() -> Compaction {
        Compaction {
            min_log_bytes: 16 * 1024 * 1024,
            ratio: 4,
        }
    }
}

impl Compaction {
    /// Never on its own: only when [`Store::compact`](super::Store::compact) is called.
    pub const NEVER: Compaction = Compaction {
        min_log_bytes: u64::MAX,
        ratio: 1,
    };

    /// Whether a log of `log_len` bytes beside a snapshot of
    /// `snapshot_size` bytes is due for compaction.
    pub fn due(&self, log_len: u64, snapshot_size: u64) -> bool {
        log_len >= self.min_log_bytes && log_len >= snapshot_size.saturating_mul(self.ratio)
    }
}
// ANCHOR_END: policy

// ANCHOR: schedule
/// When the next compaction is due, and whether one is running. Every
/// batch tells it how long the log has grown, and every change asks it
/// whether to compact, so its parts are atomics: asking costs a change no
/// lock. Only this file writes them.
pub(super) struct Schedule {
    policy: Compaction,
    /// The size of the last snapshot, which decides when to compact.
    snapshot_size: AtomicU64,
    /// Set when the log has outgrown the snapshot.
    due: AtomicBool,
    /// Set while a compaction runs, so that only one does.
    running: AtomicBool,
    /// After a failed compaction, the log length to wait for before the
    /// next try, so that a full disk is not hammered on every write.
    retry_at: AtomicU64,
}
// ANCHOR_END: schedule

// ANCHOR: schedule_methods
impl Schedule {
    /// The schedule of a store just opened, with a snapshot of
    /// `snapshot_size` bytes and a log of `log_len`.
    pub(super) fn new(policy: Compaction, snapshot_size: u64, log_len: u64) -> Schedule {
        Schedule {
            policy,
            snapshot_size: AtomicU64::new(snapshot_size),
            due: AtomicBool::new(policy.due(log_len, snapshot_size)),
            running: AtomicBool::new(false),
            retry_at: AtomicU64::new(0),
        }
    }

    /// Whether the next change should start a compaction.
    pub(super) fn is_due(&self) -> bool {
        self.due.load(Ordering::SeqCst)
    }

    /// A batch has made the log `log_len` bytes long.
    pub(super) fn log_grew(&self, log_len: u64) {
        let snapshot_size = self.snapshot_size.load(Ordering::SeqCst);
        if self.policy.due(log_len, snapshot_size)
            && log_len >= self.retry_at.load(Ordering::SeqCst)
        {
            self.due.store(true, Ordering::SeqCst);
        }
    }
    // ANCHOR_END: schedule_methods

    // ANCHOR: ended
    /// A compaction ended, well or not, leaving a log of `log_len` bytes.
    fn ended(&self, worked: bool, log_len: u64) {
        if !worked {
            let retry_at = log_len.saturating_add(self.policy.min_log_bytes.min(1 << 20));
            self.retry_at.store(retry_at, Ordering::SeqCst);
        }
        let snapshot_size = self.snapshot_size.load(Ordering::SeqCst);
        let due = worked && self.policy.due(log_len, snapshot_size);
        self.due.store(due, Ordering::SeqCst);
        self.running.store(false, Ordering::SeqCst);
    }
    // ANCHOR_END: ended
}

// ANCHOR: run
/// Compacts `durable`'s files, unless a compaction is running already.
/// `copy_state` copies the state readers see; it is called with the log
/// locked.
pub(super) fn run(durable: &Durable, copy_state: impl FnOnce() -> State) -> Result<(), SaveError> {
    let schedule = &durable.schedule;
    if schedule.running.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    let result = compact(durable, copy_state);
    schedule.ended(result.is_ok(), durable.log().len());
    result
}
// ANCHOR_END: run

// ANCHOR: compact
/// The steps of a compaction. A crash between any two of them leaves
/// files that open to exactly the acknowledged to-dos:
///
/// 1. With the log locked (so no batch is half-done), copy the state,
///    whose `seq` says which records it holds, and have the log keep a
///    copy of every batch appended from now on.
/// 2. Write the copy as the new snapshot, the atomic way. Batches go on
///    meanwhile. A crash before the rename leaves the old snapshot and
///    the whole log; after it, the new snapshot and the whole log, whose
///    older records replay skips by their `seq`.
/// 3. With the log locked again, replace it with a fresh log holding only
///    the batches kept since step 1, also the atomic way. A crash before
///    that rename leaves the case above; after it, the new snapshot and
///    exactly the records it lacks.
fn compact(durable: &Durable, copy_state: impl FnOnce() -> State) -> Result<(), SaveError> {
    let copy = {
        let mut log = durable.log();
        log.usable()?;
        log.keep_from_now();
        copy_state()
    };
    let saved = snapshot::save(&*durable.disk, &durable.path, &copy);
    drop(copy);
    let mut log = durable.log();
    let kept = log.take_kept();
    let size = saved?;
    durable.schedule.snapshot_size.store(size, Ordering::SeqCst);
    log.restart(&*durable.disk, &kept)?;
    Ok(())
}
// ANCHOR_END: compact

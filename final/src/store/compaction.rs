//! Compaction: folding the log into a new snapshot, so that the log, and
//! the time it takes to replay it at start-up, stay in proportion to the
//! to-dos that are actually there.
//!
//! Without it, the log only grows: a to-do edited a thousand times is a
//! thousand records, and a cleared list is every record that built it.

use std::sync::atomic::Ordering;

use super::{Durable, SaveError, Store, snapshot};

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
    /// Never on its own: only when [`Store::compact`] is called.
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

impl Store {
    /// Writes a new snapshot and starts a fresh log, unless a compaction
    /// is running already. Does nothing for a store in memory.
    ///
    /// Changes go on meanwhile: they are held up only while the state is
    /// copied, and while the fresh log is written at the end.
    pub fn compact(&self) -> Result<(), SaveError> {
        let Some(durable) = &self.durable else {
            return Ok(());
        };
        if durable.compacting.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let result = self.compact_now(durable);
        let log_len = durable.log().len();
        if result.is_err() {
            let retry_at = log_len.saturating_add(durable.policy.min_log_bytes.min(1 << 20));
            durable.retry_at.store(retry_at, Ordering::SeqCst);
        }
        let snapshot_size = durable.snapshot_size.load(Ordering::SeqCst);
        let due = result.is_ok() && durable.policy.due(log_len, snapshot_size);
        durable.compaction_due.store(due, Ordering::SeqCst);
        durable.compacting.store(false, Ordering::SeqCst);
        result
    }

    // ANCHOR: compact
    /// The steps of a compaction. A crash between any two of them leaves
    /// files that open to exactly the acknowledged to-dos:
    ///
    /// 1. With the log locked (so no batch is half-done), copy the state,
    ///    whose `seq` says which records it holds, and have the log keep
    ///    a copy of every batch appended from now on.
    /// 2. Write the copy as the new snapshot, the atomic way. Batches go
    ///    on meanwhile. A crash before the rename leaves the old snapshot
    ///    and the whole log; after it, the new snapshot and the whole log,
    ///    whose older records replay skips by their `seq`.
    /// 3. With the log locked again, replace it with a fresh log holding
    ///    only the batches kept since step 1, also the atomic way. A
    ///    crash before that rename leaves the case above; after it, the
    ///    new snapshot and exactly the records it lacks.
    fn compact_now(&self, durable: &Durable) -> Result<(), SaveError> {
        let copy = {
            let mut log = durable.log();
            log.usable()?;
            log.keep_from_now();
            self.lock().clone()
        };
        let saved = snapshot::save(&*durable.disk, &durable.path, &copy);
        drop(copy);
        let mut log = durable.log();
        let kept = log.take_kept();
        durable.snapshot_size.store(saved?, Ordering::SeqCst);
        log.restart(&*durable.disk, &kept)?;
        Ok(())
    }
    // ANCHOR_END: compact
}

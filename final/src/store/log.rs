//! The log file: appending batches of records, undoing a failed append,
//! and replaying what is there at start-up.

// ANCHOR: uses
use std::io;
use std::path::{Path, PathBuf};

use super::disk::{Disk, DiskFile};
use super::frame::{self, Frame, MAGIC};
use super::snapshot::{beside, folder};
use super::state::{Record, State};
// ANCHOR_END: uses

// ANCHOR: log
/// The open log, appended to by one writer at a time (the group commit's
/// leader, or a compaction).
pub struct Log {
    path: PathBuf,
    file: Box<dyn DiskFile>,
    /// How many bytes of the file are whole, synced records.
    len: u64,
    /// Why the log may not be written any more, if it may not.
    broken: Option<String>,
    // ANCHOR: log_kept
    /// While a compaction writes its snapshot, every batch appended is
    /// also kept here, to become the start of the next log.
    since_snapshot: Option<Vec<u8>>,
    // ANCHOR_END: log_kept
}
// ANCHOR_END: log

impl Log {
    // ANCHOR: open
    /// Opens the log at `path` and replays it onto `state` (the snapshot),
    /// or starts an empty log if there is none. Returns the log and how
    /// many bytes of an unfinished last record it dropped.
    ///
    /// The only change recovery ever makes to the file is that drop: it
    /// cuts the torn record off, so that the next append does not land
    /// after it and turn it into a damaged *middle* record. Anything else
    /// that is wrong stops the server with a message, and leaves the file
    /// as it is for a human to look at.
    pub fn open(disk: &dyn Disk, path: &Path, state: &mut State) -> Result<(Log, u64), String> {
        let bytes = match disk.read(path) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                let file = start(disk, path, &[])
                    .map_err(|err| format!("cannot create {}: {err}", path.display()))?;
                return Ok((Log::new(path, file, MAGIC.len() as u64), 0));
            }
            Err(err) => return Err(format!("cannot read {}: {err}", path.display())),
        };
        if !bytes.starts_with(MAGIC) {
            return Err(format!(
                "{} is not a to-do log (it does not start with \"todolog1\"); refusing to start",
                path.display()
            ));
        }
        let end = replay(&bytes, state).map_err(|err| {
            format!(
                "{}: {err}; a crash cannot do that, so this is corruption. Refusing to start; the file is left as it was",
                path.display()
            )
        })?;
        let cannot = |err: io::Error| format!("cannot open {}: {err}", path.display());
        let mut file = disk.open_append(path).map_err(cannot)?;
        let dropped = (bytes.len() - end) as u64;
        if dropped > 0 {
            file.truncate(end as u64).map_err(cannot)?;
            file.sync().map_err(cannot)?;
        }
        Ok((Log::new(path, file, end as u64), dropped))
    }
    // ANCHOR_END: open

    // ANCHOR: new
    fn new(path: &Path, file: Box<dyn DiskFile>, len: u64) -> Log {
        Log {
            path: path.to_path_buf(),
            file,
            len,
            broken: None,
            // ANCHOR: new_kept
            since_snapshot: None,
            // ANCHOR_END: new_kept
        }
    }

    /// Bytes of whole records, header included.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// An error if the log may not be written any more.
    pub fn usable(&self) -> io::Result<()> {
        match &self.broken {
            Some(why) => Err(io::Error::other(why.clone())),
            None => Ok(()),
        }
    }
    // ANCHOR_END: new

    // ANCHOR: append
    /// Appends `batch` (framed records) and syncs: when this returns `Ok`,
    /// the records are on the disk.
    ///
    /// When the write or the sync fails, the batch is cut off again, so
    /// that the file ends where it did. That matters after a failed sync
    /// above all: the bytes may still be in the operating system's cache,
    /// and reach the disk later, bringing back changes whose clients were
    /// told 500. If even the cut fails, nothing about the file's end is
    /// known any more, and the log refuses every later write: the server
    /// keeps answering reads, and a restart (whose recovery drops a torn
    /// end) is the way out.
    pub fn append(&mut self, batch: &[u8]) -> io::Result<()> {
        self.usable()?;
        let written = self.file.append(batch).and_then(|()| self.file.sync());
        if let Err(err) = written {
            let undone = self.file.truncate(self.len).and_then(|()| self.file.sync());
            if let Err(undo) = undone {
                self.broken = Some(format!(
                    "a write to {} failed ({err}) and could not be undone ({undo}); restart the server",
                    self.path.display()
                ));
            }
            return Err(err);
        }
        self.len += batch.len() as u64;
        // ANCHOR: append_kept
        if let Some(kept) = &mut self.since_snapshot {
            kept.extend_from_slice(batch);
        }
        // ANCHOR_END: append_kept
        Ok(())
    }
    // ANCHOR_END: append

    // ANCHOR: keep
    /// Starts keeping a copy of every batch appended from now on.
    pub fn keep_from_now(&mut self) {
        self.since_snapshot = Some(Vec::new());
    }

    /// The batches appended since [`keep_from_now`](Self::keep_from_now),
    /// and stops keeping them.
    pub fn take_kept(&mut self) -> Vec<u8> {
        self.since_snapshot.take().unwrap_or_default()
    }
    // ANCHOR_END: keep

    // ANCHOR: restart
    /// Replaces the log with a fresh one that holds only `tail`: the
    /// records that are newer than the snapshot just written.
    ///
    /// The fresh log is written under a temporary name, synced, and
    /// renamed over the old one, so a crash at any moment leaves one whole
    /// log or the other; with the new snapshot, either replays to the same
    /// state. Until the rename, a failure leaves everything as it was.
    /// After it, the log is the new file; if the folder cannot be synced,
    /// the rename might not survive a power cut while new batches go to
    /// the new file, so the log stops taking writes.
    pub fn restart(&mut self, disk: &dyn Disk, tail: &[u8]) -> io::Result<()> {
        self.usable()?;
        let temporary = beside(&self.path, ".tmp");
        let file = match write_synced(disk, &temporary, tail) {
            Ok(file) => file,
            Err(err) => {
                let _ = disk.remove(&temporary);
                return Err(err);
            }
        };
        if let Err(err) = disk.rename(&temporary, &self.path) {
            let _ = disk.remove(&temporary);
            return Err(err);
        }
        self.file = file;
        self.len = (MAGIC.len() + tail.len()) as u64;
        if let Err(err) = disk.sync_dir(folder(&self.path)) {
            self.broken = Some(format!(
                "the new {} may not survive a power cut ({err}); restart the server",
                self.path.display()
            ));
            return Err(err);
        }
        Ok(())
    }
    // ANCHOR_END: restart
}

// ANCHOR: start
/// A new log at `path` holding `records`, made whole before it gets the
/// name: written under a temporary name, synced, renamed, folder synced.
fn start(disk: &dyn Disk, path: &Path, records: &[u8]) -> io::Result<Box<dyn DiskFile>> {
    let temporary = beside(path, ".tmp");
    let file = write_synced(disk, &temporary, records)?;
    disk.rename(&temporary, path)?;
    disk.sync_dir(folder(path))?;
    Ok(file)
}

/// Creates `path` with the log's header and `records`, and syncs it.
/// The open file follows the rename that gives it its real name.
fn write_synced(disk: &dyn Disk, path: &Path, records: &[u8]) -> io::Result<Box<dyn DiskFile>> {
    let mut file = disk.create(path)?;
    let mut bytes = Vec::with_capacity(MAGIC.len() + records.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(records);
    file.append(&bytes)?;
    file.sync()?;
    Ok(file)
}
// ANCHOR_END: start

// ANCHOR: replay
/// Applies every whole record of `log` to `state`, and returns where the
/// whole records end: the length of the file, or the start of a torn
/// last record.
///
/// Records the snapshot already holds (`seq` at or below its own) are
/// skipped: a crash during compaction can leave a new snapshot beside the
/// old log. Every other record must be the very next in the order; a gap
/// means one went missing, and that is corruption too.
fn replay(log: &[u8], state: &mut State) -> Result<usize, String> {
    let mut at = MAGIC.len();
    loop {
        let (payload, end) = match frame::read(log, at) {
            Frame::Record { payload, end } => (payload, end),
            Frame::End | Frame::Torn => return Ok(at),
            Frame::Corrupt(why) => {
                return Err(format!("the record at byte {at} is damaged ({why})"));
            }
        };
        let record: Record = serde_json::from_slice(payload).map_err(|err| {
            format!("the record at byte {at} has a valid checksum but is not a change this server knows ({err})")
        })?;
        if record.seq > state.seq {
            if record.seq != state.seq + 1 {
                return Err(format!(
                    "the record at byte {at} is number {}, but the one before it was {}",
                    record.seq, state.seq
                ));
            }
            state.apply(&record);
        }
        at = end;
    }
}
// ANCHOR_END: replay

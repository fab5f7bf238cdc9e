//! Every file operation the store makes, behind one small trait.
//!
//! The store never calls `std::fs` itself: it asks a [`Disk`]. The server
//! uses [`RealDisk`], a thin layer over `std::fs`. The fault tests use a
//! disk that fails, or "crashes", at the step they choose, and so can show
//! what every step of a save or a compaction leaves behind, and that a
//! failed write or sync costs no acknowledged to-do.
//!
//! The alternative is to test on a real disk and kill the process at
//! random moments. That is worth doing too (`tests/tests/final_server.rs`
//! does it), but it hits the interesting moments by luck; a seam hits
//! every one of them, in milliseconds, and the same way every run.

// ANCHOR: uses
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;
// ANCHOR_END: uses

// ANCHOR: disk
/// The file operations the store needs.
pub trait Disk: Send + Sync {
    /// The whole file, or `None` if there is none.
    fn read(&self, path: &Path) -> io::Result<Option<Vec<u8>>>;
    /// Creates `path`, or empties it, for writing.
    fn create(&self, path: &Path) -> io::Result<Box<dyn DiskFile>>;
    /// Opens an existing `path` for writing at its end.
    fn open_append(&self, path: &Path) -> io::Result<Box<dyn DiskFile>>;
    /// Renames `from` to `to`, replacing `to` in one step.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Waits until the names in `dir` (a rename, a new file) are on disk.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Removes `path`; a missing file is not an error.
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Takes the exclusive lock on `path`, creating the file if it is
    /// missing; `Ok(None)` if someone else holds it: another server, or
    /// another store in this process (the lock belongs to an open file,
    /// not to a process). It lasts as long as the [`FileLock`], or until
    /// the process dies.
    fn lock(&self, path: &Path) -> io::Result<Option<FileLock>>;
}

/// An open file that is only ever written at its end.
pub trait DiskFile: Send {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Waits until everything appended is on the disk.
    fn sync(&mut self) -> io::Result<()>;
    /// Cuts the file to `len` bytes; the next append goes there.
    fn truncate(&mut self, len: u64) -> io::Result<()>;
}
// ANCHOR_END: disk

// ANCHOR: file_lock
/// An exclusive lock on a file, held until this is dropped, or until the
/// process dies, `kill -9` included: the operating system releases it.
/// (`File::try_lock` is `flock` on Linux and macOS today, and `LockFileEx`
/// on Windows.)
///
/// The lock is advisory: it stops another server that asks for it, not a
/// program that writes the file without asking. That is enough here,
/// since the one thing to prevent is two servers appending to one log.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}
// ANCHOR_END: file_lock

// ANCHOR: real_disk
/// The disk the server runs on.
pub struct RealDisk;

impl Disk for RealDisk {
    fn read(&self, path: &Path) -> io::Result<Option<Vec<u8>>> {
        match fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn DiskFile>> {
        Ok(Box::new(RealFile(File::create(path)?)))
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn DiskFile>> {
        let mut file = OpenOptions::new().write(true).open(path)?;
        file.seek(SeekFrom::End(0))?;
        Ok(Box::new(RealFile(file)))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }
    // ANCHOR_END: real_disk

    // ANCHOR: real_disk_rest
    #[cfg(unix)]
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    /// The standard library cannot open a directory on Windows, so there
    /// is nothing to sync; NTFS journals its metadata itself, but this
    /// server makes no promise about power cuts there.
    #[cfg(not(unix))]
    fn sync_dir(&self, _dir: &Path) -> io::Result<()> {
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        match fs::remove_file(path) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }

    fn lock(&self, path: &Path) -> io::Result<Option<FileLock>> {
        // Opened for writing: the standard library leaves it unspecified
        // whether a file opened otherwise can be locked. Never truncated,
        // though nothing is written to it: another server may hold it.
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(FileLock { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(err)) => Err(err),
        }
    }
}
// ANCHOR_END: real_disk_rest

// ANCHOR: real_file
struct RealFile(File);

impl DiskFile for RealFile {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.0.write_all(bytes)
    }

    /// `sync_data` (`fdatasync` on Linux): the bytes, and what it takes to
    /// read them back, such as the file's new length, but not its
    /// modification time. That saves a second write per sync; PostgreSQL
    /// and SQLite sync their logs the same way. `sync_all` would also be
    /// correct, a little slower.
    fn sync(&mut self) -> io::Result<()> {
        self.0.sync_data()
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.0.set_len(len)?;
        self.0.seek(SeekFrom::Start(len))?;
        Ok(())
    }
}
// ANCHOR_END: real_file

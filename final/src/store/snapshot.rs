//! The snapshot: the whole state as one JSON file, replaced atomically.
//!
//! Before the log, this was the store's only way to save: every change
//! rewrote the whole file. Now it runs only when the log is compacted,
//! and the file it writes is the same format as before, so data files
//! from before the log are simply snapshots with no log beside them.

// ANCHOR: uses
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use super::disk::Disk;
use super::state::State;
// ANCHOR_END: uses

// ANCHOR: beside
/// `path` with `suffix` added: `todos.json.tmp` beside `todos.json`.
///
/// Appending rather than replacing the extension: with `--data todos.tmp`,
/// `with_extension("tmp")` would name the real file itself, and creating
/// the temporary file would empty it.
pub fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// The folder `path` is in, for syncing after a rename.
pub fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}
// ANCHOR_END: beside

// ANCHOR: load
/// The snapshot at `path` and its size in bytes; an empty state if there
/// is no file.
///
/// A file that exists but cannot be read or parsed is an error: starting
/// empty would let the next compaction overwrite it, and silently losing
/// someone's data is the worst thing a store can do.
pub fn load(disk: &dyn Disk, path: &Path) -> Result<(State, u64), String> {
    match disk.read(path) {
        Ok(Some(bytes)) => match serde_json::from_slice::<State>(&bytes) {
            Ok(state) => Ok((state, bytes.len() as u64)),
            Err(err) => Err(format!(
                "{} is not a valid to-do file ({err}); refusing to start rather than overwrite it",
                path.display()
            )),
        },
        Ok(None) => Ok((State::empty(), 0)),
        Err(err) => Err(format!("cannot read {}: {err}", path.display())),
    }
}
// ANCHOR_END: load

// ANCHOR: save
/// Writes `state` to `path` so that, whenever the process dies, the file
/// holds either the old state or the new one, never a mix, and returns
/// the new file's size:
/// 1. write everything to a temporary file next to it;
/// 2. sync it: wait until those bytes are on the disk, not just in the
///    operating system's cache;
/// 3. `rename` the temporary file over the real one, which replaces it in
///    one atomic step;
/// 4. sync the folder, so that the rename itself is on the disk.
pub fn save(disk: &dyn Disk, path: &Path, state: &State) -> io::Result<u64> {
    let bytes = serde_json::to_vec_pretty(state).map_err(io::Error::other)?;
    let temporary = beside(path, ".tmp");
    let mut file = disk.create(&temporary)?;
    file.append(&bytes)?;
    file.sync()?;
    drop(file);
    disk.rename(&temporary, path)?;
    disk.sync_dir(folder(path))?;
    Ok(bytes.len() as u64)
}
// ANCHOR_END: save

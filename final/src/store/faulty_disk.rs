//! A disk for the fault tests: the real one, plus a script of what goes
//! wrong and when.
//!
//! Every operation is a numbered step. A test can make one step fail
//! ([`Kind::Once`]: a full disk, an I/O error), or make the process "die"
//! there ([`Kind::Crash`]: that step and every later one fail, as if
//! nothing after it ever ran; the test then drops the store and opens the
//! files with a real disk, as a restart would). A failing append writes
//! the first half of its bytes first: a torn write. A test can also hold
//! a step until it says go, to look at the store in the middle of it.
//!
//! A crash leaves the files as they are, as `kill -9` does: bytes written
//! but not synced are still there, since the operating system has them.
//! A power cut is worse, and [`Faults::cut_power`] plays it: the disk
//! keeps, besides the real files, what a power cut would leave of them,
//! and after a crash it puts that back. A file keeps only the bytes it
//! had at its last sync; a folder keeps only the names (a file created,
//! renamed or removed) it had at its last sync. That is the pessimistic
//! reading of what `fdatasync` and a folder's `fsync` promise, and the
//! one that makes a missing sync show.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::disk::{Disk, DiskFile, FileLock, RealDisk};

/// How an injected fault behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only that step fails; later ones work.
    Once,
    /// That step and every later one fail: the process died there.
    Crash,
}

/// The script, shared by the test and the disk it hands to the store.
#[derive(Clone, Default)]
pub struct Faults(Arc<Mutex<Plan>>);

#[derive(Default)]
struct Plan {
    /// Every step so far, such as `"append todos.json.log"`.
    steps: Vec<String>,
    fail: Option<(usize, Kind)>,
    crashed: bool,
    /// Hold the next step whose name starts with this; tell the test on
    /// the first channel, and wait for its go on the second.
    pause: Option<(String, Sender<()>, Receiver<()>)>,
    sync_delay: Duration,
    power: PowerModel,
}

/// What a power cut would leave of the files this disk has touched.
/// Files are numbered, because a rename moves a name from one file to
/// another, and the file keeps its bytes.
#[derive(Default)]
struct PowerModel {
    /// Each file's bytes as of its last sync.
    synced: HashMap<u64, Vec<u8>>,
    /// Which file each name is now, and as of its folder's last sync.
    names: HashMap<PathBuf, u64>,
    synced_names: HashMap<PathBuf, u64>,
    next_file: u64,
}

impl PowerModel {
    /// The file at `path` now, if any. A file this disk has not seen yet
    /// was there before the test, and counts as synced, name and bytes.
    fn file_at(&mut self, path: &Path) -> Option<u64> {
        if let Some(file) = self.names.get(path) {
            return Some(*file);
        }
        let bytes = fs::read(path).ok()?;
        let file = self.new_file();
        self.synced.insert(file, bytes);
        self.names.insert(path.to_path_buf(), file);
        self.synced_names.insert(path.to_path_buf(), file);
        Some(file)
    }

    fn new_file(&mut self) -> u64 {
        self.next_file += 1;
        self.next_file
    }
}

/// How long a held step waits for the test's go before giving up, so that
/// a test that forgets to say go fails instead of hanging.
const HOLD_LIMIT: Duration = Duration::from_secs(10);

impl Faults {
    /// A disk that follows this script.
    pub fn disk(&self) -> Box<dyn Disk> {
        Box::new(FaultyDisk(self.clone()))
    }

    fn plan(&self) -> MutexGuard<'_, Plan> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes step `n` from now fail (0 is the next step).
    pub fn fail_in(&self, n: usize, kind: Kind) {
        let mut plan = self.plan();
        plan.fail = Some((plan.steps.len() + n, kind));
        plan.crashed = false;
    }

    /// Whether an injected fault has happened since [`fail_in`](Self::fail_in).
    pub fn fired(&self) -> bool {
        let plan = self.plan();
        plan.crashed || plan.fail.is_some_and(|(step, _)| plan.steps.len() > step)
    }

    /// The steps taken so far.
    pub fn steps(&self) -> Vec<String> {
        self.plan().steps.clone()
    }

    /// How many steps so far start with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.plan()
            .steps
            .iter()
            .filter(|step| step.starts_with(prefix))
            .count()
    }

    /// Holds the next step that starts with `prefix`. Returns a receiver
    /// that hears when it is held, and a sender that lets it go.
    pub fn hold(&self, prefix: &str) -> (Receiver<()>, Sender<()>) {
        let (held, on_hold) = mpsc::channel();
        let (go, wait_for_go) = mpsc::channel();
        self.plan().pause = Some((prefix.to_string(), held, wait_for_go));
        (on_hold, go)
    }

    /// Makes every sync take `delay`, like a slow disk.
    pub fn slow_syncs(&self, delay: Duration) {
        self.plan().sync_delay = delay;
    }

    /// Plays a power cut, after a crash and once the store is dropped:
    /// every file goes back to its bytes at its last sync, and every
    /// folder to the names it had at its last sync (so a file created or
    /// renamed since is gone, or back under its old name).
    pub fn cut_power(&self) -> io::Result<()> {
        let mut plan = self.plan();
        let power = &mut plan.power;
        let paths: Vec<PathBuf> = power
            .names
            .keys()
            .chain(power.synced_names.keys())
            .cloned()
            .collect();
        for path in paths {
            match power.synced_names.get(&path) {
                Some(file) => {
                    let bytes = power.synced.get(file).cloned().unwrap_or_default();
                    fs::write(&path, bytes)?;
                }
                None => RealDisk.remove(&path)?,
            }
        }
        power.names = power.synced_names.clone();
        Ok(())
    }

    /// Takes a step called `name`: `Err` if it is to fail.
    fn step(&self, name: String) -> io::Result<()> {
        let (hold, delay) = {
            let mut plan = self.plan();
            let index = plan.steps.len();
            let is_sync = name.starts_with("sync");
            let hold = match &plan.pause {
                Some((prefix, _, _)) if name.starts_with(prefix.as_str()) => plan.pause.take(),
                _ => None,
            };
            plan.steps.push(name.clone());
            if plan.crashed {
                return Err(io::Error::other(format!("{name}: the process is dead")));
            }
            if let Some((step, kind)) = plan.fail
                && step == index
            {
                plan.crashed = kind == Kind::Crash;
                return Err(io::Error::other(format!("{name}: injected fault")));
            }
            (
                hold,
                if is_sync {
                    plan.sync_delay
                } else {
                    Duration::ZERO
                },
            )
        };
        if let Some((_, held, go)) = hold {
            let _ = held.send(());
            go.recv_timeout(HOLD_LIMIT)
                .map_err(|_| io::Error::other(format!("{name}: held, and never let go")))?;
        }
        std::thread::sleep(delay);
        Ok(())
    }
}

fn name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

struct FaultyDisk(Faults);

impl Disk for FaultyDisk {
    fn read(&self, path: &Path) -> io::Result<Option<Vec<u8>>> {
        self.0.step(format!("read {}", name(path)))?;
        RealDisk.read(path)
    }

    fn create(&self, path: &Path) -> io::Result<Box<dyn DiskFile>> {
        self.0.step(format!("create {}", name(path)))?;
        let real = RealDisk.create(path)?;
        // An existing file is emptied, not replaced: same file, new bytes
        // (which a power cut loses until they are synced).
        let mut plan = self.0.plan();
        let file = match plan.power.file_at(path) {
            Some(file) => file,
            None => {
                let file = plan.power.new_file();
                plan.power.names.insert(path.to_path_buf(), file);
                file
            }
        };
        drop(plan);
        Ok(Box::new(FaultyFile {
            faults: self.0.clone(),
            name: name(path),
            real,
            file,
            bytes: Vec::new(),
        }))
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn DiskFile>> {
        self.0.step(format!("open {}", name(path)))?;
        let mut plan = self.0.plan();
        let file = plan.power.file_at(path);
        drop(plan);
        let real = RealDisk.open_append(path)?;
        let file = file.ok_or_else(|| io::Error::other("opened a file the model never saw"))?;
        Ok(Box::new(FaultyFile {
            faults: self.0.clone(),
            name: name(path),
            real,
            file,
            bytes: fs::read(path)?,
        }))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.0
            .step(format!("rename {} to {}", name(from), name(to)))?;
        RealDisk.rename(from, to)?;
        let mut plan = self.0.plan();
        plan.power.file_at(to);
        if let Some(file) = plan.power.file_at(from) {
            plan.power.names.remove(from);
            plan.power.names.insert(to.to_path_buf(), file);
        }
        Ok(())
    }

    /// The power model, not the real disk, decides what a sync keeps
    /// (see [`Faults::cut_power`]), so the real sync is skipped here and
    /// in [`FaultyFile::sync`]: it would only make the tests slow.
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.0.step("sync the folder".into())?;
        let mut plan = self.0.plan();
        let power = &mut plan.power;
        power
            .synced_names
            .retain(|path, _| path.parent() != Some(dir));
        for (path, file) in &power.names {
            if path.parent() == Some(dir) {
                power.synced_names.insert(path.clone(), *file);
            }
        }
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        self.0.step(format!("remove {}", name(path)))?;
        RealDisk.remove(path)?;
        let mut plan = self.0.plan();
        plan.power.file_at(path);
        plan.power.names.remove(path);
        Ok(())
    }

    fn lock(&self, path: &Path) -> io::Result<Option<FileLock>> {
        self.0.step(format!("lock {}", name(path)))?;
        RealDisk.lock(path)
    }
}

/// An open file of the faulty disk: the real one, and, for the power
/// model, which file it is and the bytes it holds now.
struct FaultyFile {
    faults: Faults,
    name: String,
    real: Box<dyn DiskFile>,
    file: u64,
    bytes: Vec<u8>,
}

impl DiskFile for FaultyFile {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let was_dead = self.faults.plan().crashed;
        if let Err(err) = self.faults.step(format!("append {}", self.name)) {
            // A torn write: half of it made it, unless the process was
            // dead already.
            if !was_dead {
                let half = &bytes[..bytes.len() / 2];
                if self.real.append(half).is_ok() {
                    self.bytes.extend_from_slice(half);
                }
            }
            return Err(err);
        }
        self.real.append(bytes)?;
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        self.faults.step(format!("sync {}", self.name))?;
        let mut plan = self.faults.plan();
        plan.power.synced.insert(self.file, self.bytes.clone());
        Ok(())
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.faults.step(format!("truncate {}", self.name))?;
        self.real.truncate(len)?;
        self.bytes
            .truncate(usize::try_from(len).unwrap_or(usize::MAX));
        Ok(())
    }
}

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
//! What this cannot show is a power cut: bytes that were written but not
//! synced stay in the files here, as they do after `kill -9`. Proving the
//! syncs are in the right places would take a disk model that forgets
//! unsynced writes; the book says so, and the order of the syncs follows
//! what the operating system documents.

use std::io;
use std::path::Path;
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
        let file = RealDisk.create(path)?;
        Ok(Box::new(FaultyFile(self.0.clone(), name(path), file)))
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn DiskFile>> {
        self.0.step(format!("open {}", name(path)))?;
        let file = RealDisk.open_append(path)?;
        Ok(Box::new(FaultyFile(self.0.clone(), name(path), file)))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.0
            .step(format!("rename {} to {}", name(from), name(to)))?;
        RealDisk.rename(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.0.step("sync the folder".into())?;
        RealDisk.sync_dir(dir)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        self.0.step(format!("remove {}", name(path)))?;
        RealDisk.remove(path)
    }

    fn lock(&self, path: &Path) -> io::Result<Option<FileLock>> {
        self.0.step(format!("lock {}", name(path)))?;
        RealDisk.lock(path)
    }
}

struct FaultyFile(Faults, String, Box<dyn DiskFile>);

impl DiskFile for FaultyFile {
    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        let was_dead = self.0.plan().crashed;
        if let Err(err) = self.0.step(format!("append {}", self.1)) {
            // A torn write: half of it made it, unless the process was
            // dead already.
            if !was_dead {
                let _ = self.2.append(&bytes[..bytes.len() / 2]);
            }
            return Err(err);
        }
        self.2.append(bytes)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.0.step(format!("sync {}", self.1))?;
        self.2.sync()
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.0.step(format!("truncate {}", self.1))?;
        self.2.truncate(len)
    }
}

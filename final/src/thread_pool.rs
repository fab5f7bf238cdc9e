//! Day 4's `ThreadPool`, made elastic: threads start on demand, up to a
//! ceiling, and the queue behind them is bounded.
//!
//! The event loops (`event_loop.rs`) read and write every connection, but
//! they must never wait, and some requests do: a change to the to-dos
//! waits for the disk, and `/sleep` waits on purpose. Those go to this
//! pool. A burst of them starts threads as needed, up to `max_threads`:
//!
//! ```text
//!                execute(job)                   ┌── Worker 0 ── POST /todos
//!  event loop ─▶ [ sender ] ═ queue (bounded) ═▶├── Worker 1 ── GET /sleep
//!    │                                          ├── …           (started on demand)
//!    └── no room? answer 503                    └── Worker N ── (N < max_threads)
//! ```
//!
//! The ceiling keeps memory bounded; the alternative (`thread::spawn` per
//! request) does not. When every thread is busy, jobs wait in the queue;
//! when the queue is full too, the event loop answers 503 at once.

/* STAND-IN: uses FROM day4/src/thread_pool.rs:uses */
// ANCHOR: uses
// ANCHOR: drop_uses
use std::io::{self, Write as _};
// ANCHOR_END: drop_uses
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread;
// ANCHOR_END: uses

/* STAND-IN: job FROM day4/src/thread_pool.rs:queue_per_worker,job */
// ANCHOR: job
/// A job is any closure that runs once (`FnOnce`), can move to another
/// thread (`Send`), and borrows nothing that could disappear before it runs
/// (`'static`).
type Job = Box<dyn FnOnce() + Send + 'static>;

/// The receiving end of the job queue, shared by every worker: `Arc` so
/// that they can all own it, `Mutex` so that one at a time takes a job.
type SharedReceiver = Arc<Mutex<mpsc::Receiver<Job>>>;
// ANCHOR_END: job

// ANCHOR: worker_stack
/// The stack each worker reserves: 256 KiB instead of Rust's default of
/// 2 MiB.
///
/// Memory a thread never touches costs no RAM, so this does not change
/// the resident size; it changes the address space reserved. With
/// thousands of threads, 2 MiB each is gigabytes, which a system that
/// does not overcommit memory refuses. Serving a request fits, even in a
/// debug build and with the deepest JSON `serde_json` accepts (128
/// levels): `tests/tests/final_server.rs` sends that, and deeper. A stack
/// overflow would abort the whole server, so that test guards this number.
pub const WORKER_STACK: usize = 256 * 1024;
// ANCHOR_END: worker_stack

// ANCHOR: load
/// How busy the pool is, shared with the workers.
#[derive(Debug, Default)]
struct Load {
    /// Workers waiting for a job.
    idle: AtomicUsize,
    /// Jobs waiting for a worker.
    queued: AtomicUsize,
}
// ANCHOR_END: load

/* STAND-IN: pool FROM day4/src/thread_pool.rs:thread_pool,impl_pool */
// ANCHOR: pool
/// An elastic pool of worker threads with a bounded queue.
pub struct ThreadPool {
    workers: Vec<Worker>,
    sender: Option<mpsc::Sender<Job>>,
    receiver: SharedReceiver,
    load: Arc<Load>,
    max_threads: usize,
    max_queued: usize,
}

impl ThreadPool {
    /// A pool that starts threads as needed, up to `max_threads`, and lets
    /// at most `max_queued` jobs wait when they are all busy. No thread
    /// starts until the first job arrives.
    ///
    /// # Panics
    ///
    /// Panics if `max_threads` is 0: such a pool could never run a job.
    pub fn new(max_threads: usize, max_queued: usize) -> ThreadPool {
        assert!(max_threads > 0, "a thread pool needs at least one thread");
        // The channel itself is unbounded; `has_room` bounds it, because
        // the caller must decide what to do with a job that does not fit
        // *before* handing it over (it still owns the request then).
        let (sender, receiver) = mpsc::channel();
        ThreadPool {
            workers: Vec::new(),
            sender: Some(sender),
            receiver: Arc::new(Mutex::new(receiver)),
            load: Arc::new(Load::default()),
            max_threads,
            max_queued,
        }
    }

    // ANCHOR: has_room
    /// Whether [`execute`](Self::execute) would find a worker, start one, or
    /// queue the job without going over `max_queued`.
    ///
    /// The event loops share the pool behind a `Mutex`, and workers only
    /// ever empty the queue, so while the caller holds the lock, a yes
    /// cannot turn into a no before `execute`.
    pub fn has_room(&self) -> bool {
        let idle = self.load.idle.load(Ordering::SeqCst);
        let queued = self.load.queued.load(Ordering::SeqCst);
        idle > queued || self.workers.len() < self.max_threads || queued < self.max_queued
    }
    // ANCHOR_END: has_room

    // ANCHOR: execute
    /// Runs `f` on a free worker, starting one if none is free and the
    /// ceiling allows; otherwise `f` waits in the queue.
    pub fn execute<F>(&mut self, f: F)
    where
        F: FnOnce() + Send + 'static,
    {
        let idle = self.load.idle.load(Ordering::SeqCst);
        let queued = self.load.queued.load(Ordering::SeqCst);
        if idle <= queued && self.workers.len() < self.max_threads {
            self.start_worker();
        }
        let Some(sender) = &self.sender else {
            return; // Only `drop` takes the sender.
        };
        if self.workers.is_empty() {
            // The system refused even one thread: queueing the job would
            // leave it waiting for ever. Dropping it lets its owner know
            // (the event loop's jobs answer 503 when dropped unrun).
            eprintln!("thread pool: no worker can run the job");
            return;
        }
        self.load.queued.fetch_add(1, Ordering::SeqCst);
        if sender.send(Box::new(f)).is_err() {
            self.load.queued.fetch_sub(1, Ordering::SeqCst);
            eprintln!("thread pool: no worker is left to run the job");
        }
    }
    // ANCHOR_END: execute

    // ANCHOR: start_worker
    fn start_worker(&mut self) {
        let id = self.workers.len();
        match Worker::new(id, Arc::clone(&self.receiver), Arc::clone(&self.load)) {
            Ok(worker) => self.workers.push(worker),
            // The system refused another thread (out of memory, or a
            // process limit). The job still queues, and busy workers will
            // get to it. Carrying on beats crashing here.
            Err(err) => eprintln!("thread pool: cannot start worker {id}: {err}"),
        }
    }
    // ANCHOR_END: start_worker

    /// How many threads the pool has started.
    pub fn threads(&self) -> usize {
        self.workers.len()
    }
}
// ANCHOR_END: pool

/* STAND-IN: drop FROM day4/src/thread_pool.rs:drop */
// ANCHOR: drop
impl Drop for ThreadPool {
    /// Closes the queue and waits for every worker to finish. Every
    /// handler's wait is bounded (a sync, or `/sleep`'s ten seconds at
    /// most), so this wait is too.
    fn drop(&mut self) {
        drop(self.sender.take());
        for worker in &mut self.workers {
            if let Some(thread) = worker.thread.take()
                && thread.join().is_err()
            {
                let _ = writeln!(io::stderr(), "worker {} had panicked", worker.id);
            }
        }
        // Not `eprintln!`, which panics if standard error is gone: the
        // server is stopping, and a lost message must not stop that.
        let _ = match self.workers.len() {
            // No request ever needed a worker: nothing to report.
            0 => Ok(()),
            1 => writeln!(io::stderr(), "Joined the worker thread."),
            n => writeln!(io::stderr(), "Joined all {n} worker threads."),
        };
    }
}
// ANCHOR_END: drop

/* STAND-IN: worker FROM day4/src/thread_pool.rs:worker */
// ANCHOR: worker
struct Worker {
    id: usize,
    thread: Option<thread::JoinHandle<()>>,
}

impl Worker {
    /// Starts worker number `id` on a stack of [`WORKER_STACK`] bytes,
    /// named for its number, so that a debugger says which worker is which.
    fn new(id: usize, receiver: SharedReceiver, load: Arc<Load>) -> std::io::Result<Worker> {
        let thread = thread::Builder::new()
            .name(format!("worker-{id}"))
            .stack_size(WORKER_STACK)
            .spawn(move || work(id, &receiver, &load))?;
        Ok(Worker {
            id,
            thread: Some(thread),
        })
    }
}
// ANCHOR_END: worker

// ANCHOR: work
/// A worker's life: take jobs off the queue and run them until it closes,
/// keeping `load` up to date.
fn work(id: usize, receiver: &Mutex<mpsc::Receiver<Job>>, load: &Load) {
    loop {
        load.idle.fetch_add(1, Ordering::SeqCst);
        // As on day 4: the guard is dropped at the end of this statement,
        // so the lock is held only while waiting.
        let message = receiver
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        let Ok(job) = message else {
            load.idle.fetch_sub(1, Ordering::SeqCst);
            break;
        };
        // The job leaves the queue before the worker stops being idle, so
        // that for no moment does it look as if a job waits with nobody
        // free to take it.
        load.queued.fetch_sub(1, Ordering::SeqCst);
        load.idle.fetch_sub(1, Ordering::SeqCst);
        if panic::catch_unwind(AssertUnwindSafe(job)).is_err() {
            eprintln!("worker {id}: a job panicked; the worker carries on");
        }
    }
}
// ANCHOR_END: work

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// How long a test waits for anything. A healthy run needs
    /// milliseconds; the bound is there so that a bug fails the test with a
    /// message instead of hanging it.
    const PATIENCE: Duration = Duration::from_secs(10);

    /// A job that tells the test, through `started`, that it is running,
    /// then holds its worker until the test drops the returned sender.
    ///
    /// "Running" is the state the tests mean by "busy": by then the worker
    /// has taken the job off the queue and stopped counting itself idle.
    /// Watching the counters instead would also catch the moment in
    /// between, when the job has left the queue but the worker still
    /// counts as idle.
    ///
    /// The job gives up after `PATIENCE` even if nobody releases it, so the
    /// pool's `Drop` can always join its worker, even after a failed
    /// assertion.
    fn held_job(started: &mpsc::Sender<()>) -> (impl FnOnce() + Send + 'static, mpsc::Sender<()>) {
        let started = started.clone();
        let (release, held) = mpsc::channel::<()>();
        let job = move || {
            let _ = started.send(());
            let _ = held.recv_timeout(PATIENCE);
        };
        (job, release)
    }

    /// Waits, within `PATIENCE`, for one held job to say it has started.
    fn wait_until_started(started: &mpsc::Receiver<()>, which: &str) {
        started
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("the worker never started {which} within 10 s"));
    }

    #[test]
    #[should_panic(expected = "at least one thread")]
    fn a_pool_of_zero_threads_is_a_bug() {
        ThreadPool::new(0, 1);
    }

    #[test]
    fn threads_start_on_demand_up_to_the_ceiling() {
        // The pool is declared first, so it is dropped last: the jobs are
        // released before its `Drop` joins their workers.
        let mut pool = ThreadPool::new(3, 10);
        let (started_tx, started) = mpsc::channel();
        let mut releases = Vec::new();
        assert_eq!(pool.threads(), 0, "no thread before the first job");
        // Three jobs that hold their workers: each one finds every thread
        // busy, so each starts a thread of its own.
        for n in 1..=3 {
            let (job, release) = held_job(&started_tx);
            releases.push(release);
            pool.execute(job);
            wait_until_started(&started, &format!("job {n}"));
            assert_eq!(pool.threads(), n);
        }
        // A fourth job finds three busy threads and the ceiling reached.
        pool.execute(|| {});
        assert_eq!(pool.threads(), 3, "the ceiling holds");
        drop(releases);
    }

    #[test]
    fn has_room_says_no_when_threads_and_queue_are_full() {
        let mut pool = ThreadPool::new(1, 1);
        let (started_tx, started) = mpsc::channel();
        // The one thread takes a job and holds on to it.
        let (job, release) = held_job(&started_tx);
        pool.execute(job);
        wait_until_started(&started, "the first job");
        assert!(pool.has_room(), "one job may queue");
        // That one job queues, and then there is no room left.
        pool.execute(|| {});
        assert!(
            !pool.has_room(),
            "the one thread is busy and the queue is full"
        );
        drop(release);
    }
}

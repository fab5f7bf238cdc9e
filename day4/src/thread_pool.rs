//! A fixed set of threads that run jobs handed to them through a channel.
//!
//! The alternative is one new thread per connection (`thread::spawn` in the
//! accept loop). That is simpler and fast, but it lets clients decide how
//! many threads we run: ten thousand connections, ten thousand threads and
//! their stacks. A pool puts a ceiling on that.
//!
//! ```text
//!             execute(job)                     ┌── Worker 0 ── job()
//!  main ──▶ [ sender ] ══ channel (bounded) ══▶├── Worker 1 ── job()
//!                                              ├── Worker 2 ── job()
//!                                              └── Worker 3 ── job()
//! ```
//!
//! Two changes from the devlog's pool (which is also the Rust Book's):
//! - The queue is bounded. The devlog's `mpsc::channel` grows without limit,
//!   so a flood of connections waits in memory while four workers crawl
//!   through it. Here `execute` blocks when the queue is full, which stops
//!   the accept loop, and further clients wait in the operating system's
//!   listen backlog instead of in our memory.
//! - A job that panics does not kill its worker. In the devlog's pool the
//!   thread died with the job, and the pool quietly shrank by one.

// ANCHOR: uses
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread;
// ANCHOR_END: uses

// ANCHOR: queue_per_worker
/// How many jobs may wait for a free worker, per worker.
pub const QUEUE_PER_WORKER: usize = 16;
// ANCHOR_END: queue_per_worker

// ANCHOR: job
/// A job is any closure that runs once (`FnOnce`), can move to another
/// thread (`Send`), and borrows nothing that could disappear before it runs
/// (`'static`).
type Job = Box<dyn FnOnce() + Send + 'static>;

/// The receiving end of the job queue, shared by every worker: `Arc` so
/// that they can all own it, `Mutex` so that one at a time takes a job.
type SharedReceiver = Arc<Mutex<mpsc::Receiver<Job>>>;
// ANCHOR_END: job

// ANCHOR: thread_pool
/// A fixed number of worker threads sharing one queue of jobs.
pub struct ThreadPool {
    workers: Vec<Worker>,
    /// `Option` so that `drop` can take the sender out and drop it first:
    /// that closes the channel, which is how the workers learn to stop.
    sender: Option<mpsc::SyncSender<Job>>,
}
// ANCHOR_END: thread_pool

// ANCHOR: impl_pool
impl ThreadPool {
    /// Starts `size` worker threads.
    ///
    /// # Panics
    ///
    /// Panics if `size` is 0: a pool without workers would accept jobs and
    /// never run them. A zero here is a bug in the caller, not bad input.
    pub fn new(size: usize) -> ThreadPool {
        assert!(size > 0, "a thread pool needs at least one thread");

        let (sender, receiver) = mpsc::sync_channel(size * QUEUE_PER_WORKER);
        // One receiver, shared by every worker: `Arc` lets them all own it,
        // `Mutex` lets only one of them take a job at a time.
        let receiver = Arc::new(Mutex::new(receiver));

        // Each worker gets its own handle on the receiver, and its number,
        // which only shows in log lines.
        let workers = (0..size)
            .map(|id| Worker::new(id, Arc::clone(&receiver)))
            .collect();
        ThreadPool {
            workers,
            sender: Some(sender),
        }
    }

    // ANCHOR: execute
    /// Queues `job` to run on the next free worker.
    ///
    /// Blocks while the queue is full. That pause is the point: it pushes
    /// back on the accept loop instead of piling up work we cannot do.
    pub fn execute(&self, job: impl FnOnce() + Send + 'static) {
        let Some(sender) = &self.sender else {
            return; // Only `drop` takes the sender, and nothing runs after it.
        };
        // `send` fails only when every worker has stopped, and workers stop
        // only when the channel closes, in `drop`. Say so rather than panic.
        if sender.send(Box::new(job)).is_err() {
            eprintln!("thread pool: no worker is left to run the job");
        }
    }
    // ANCHOR_END: execute
}
// ANCHOR_END: impl_pool

// ANCHOR: drop
impl Drop for ThreadPool {
    /// Closes the queue, then waits for every worker to finish its current
    /// job and stop.
    fn drop(&mut self) {
        // Dropping the only sender closes the channel. Each worker's `recv`
        // then returns an error once the queue is empty, and its loop ends.
        drop(self.sender.take());

        for worker in &mut self.workers {
            println!("Waiting for worker {} to finish", worker.id);
            if let Some(thread) = worker.thread.take() {
                // `join` fails only if the thread itself panicked, and the
                // worker loop catches panics from jobs.
                if thread.join().is_err() {
                    eprintln!("worker {} had panicked", worker.id);
                }
            }
        }
    }
}
// ANCHOR_END: drop

// ANCHOR: worker
/// One thread, taking jobs from the shared queue until it closes.
struct Worker {
    id: usize,
    /// `Option` so that `drop` can take the handle out and `join` it.
    thread: Option<thread::JoinHandle<()>>,
}

impl Worker {
    fn new(id: usize, jobs: SharedReceiver) -> Worker {
        let thread = thread::spawn(move || {
            loop {
                // The lock is held only while waiting for a job: the guard is
                // a temporary, dropped at the end of this statement, so the
                // next worker can wait while this one works. A mutex is
                // "poisoned" when a thread panics while holding it; nothing
                // here can panic while holding it, and a receiver has no
                // state to corrupt anyway, so we take it back either way.
                let message = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();

                let Ok(job) = message else {
                    println!("Worker {id} stopping: the pool is closed.");
                    break;
                };
                // A panicking job must not take the worker down with it.
                // `AssertUnwindSafe` is our promise that nothing the job
                // leaves half-done is used afterwards: the job owns all its
                // data, and it is gone once it has run.
                if panic::catch_unwind(AssertUnwindSafe(job)).is_err() {
                    eprintln!("Worker {id}: a job panicked; the worker carries on.");
                }
            }
        });
        Worker {
            id,
            thread: Some(thread),
        }
    }
}
// ANCHOR_END: worker

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;
    use std::time::{Duration, Instant};

    /// How long a test waits for anything. A healthy run needs
    /// milliseconds; the bound is there so that a bug fails the test with a
    /// message instead of hanging it.
    const PATIENCE: Duration = Duration::from_secs(10);

    /// `join`, but within `PATIENCE`: a thread that never ends fails the
    /// test instead of hanging it.
    fn join_within(thread: thread::JoinHandle<()>, what: &str) {
        let deadline = Instant::now() + PATIENCE;
        while !thread.is_finished() {
            assert!(
                Instant::now() < deadline,
                "{what} did not finish within 10 s"
            );
            thread::sleep(Duration::from_millis(1));
        }
        thread.join().unwrap_or_else(|_| panic!("{what} panicked"));
    }

    #[test]
    #[should_panic(expected = "at least one thread")]
    fn a_pool_of_zero_threads_is_a_bug() {
        ThreadPool::new(0);
    }

    #[test]
    fn jobs_run_on_several_threads_and_drop_waits_for_them() {
        let (done, finished) = channel();
        {
            let pool = ThreadPool::new(4);
            for _ in 0..8 {
                let done = done.clone();
                pool.execute(move || {
                    done.send(thread::current().id())
                        .expect("the test is listening");
                });
            }
        } // `drop` joins the workers here, so every job has run...
        // ...and `try_iter`, which never waits, finds all eight reports.
        let threads: Vec<_> = finished.try_iter().collect();
        assert_eq!(threads.len(), 8, "drop returned before every job had run");
        let distinct: std::collections::HashSet<_> = threads.into_iter().collect();
        assert!(distinct.len() <= 4, "only the pool's four threads ran jobs");
    }

    #[test]
    fn a_full_queue_makes_execute_wait() {
        let pool = Arc::new(ThreadPool::new(1));
        // The one worker takes this job, tells us, and waits until we let
        // it go (or until PATIENCE is up, so the pool can always be
        // dropped).
        let (started_tx, started) = channel();
        let (release, held) = channel::<()>();
        pool.execute(move || {
            let _ = started_tx.send(());
            let _ = held.recv_timeout(PATIENCE);
        });
        started
            .recv_timeout(PATIENCE)
            .expect("the worker started the job within 10 s");
        // Another thread fills the queue, one job at a time, and reports
        // each `execute` that returned.
        let (returned, executes) = channel();
        let filler = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || {
                for i in 0..=QUEUE_PER_WORKER {
                    pool.execute(|| {});
                    returned.send(i).expect("the test is listening");
                }
            })
        };
        // The queue holds QUEUE_PER_WORKER jobs: that many calls return...
        for i in 0..QUEUE_PER_WORKER {
            assert_eq!(
                executes.recv_timeout(PATIENCE).ok(),
                Some(i),
                "execute returns within 10 s while there is room"
            );
        }
        // ...and the next one waits, instead of growing the queue.
        assert!(
            executes.recv_timeout(Duration::from_millis(200)).is_err(),
            "execute returned although the queue was full"
        );
        // Once the worker is free, the waiting call goes through.
        drop(release);
        assert_eq!(
            executes.recv_timeout(PATIENCE).ok(),
            Some(QUEUE_PER_WORKER),
            "the waiting execute returns within 10 s of the worker being freed"
        );
        join_within(filler, "the filler thread");
    }

    #[test]
    fn a_panicking_job_leaves_the_pool_whole() {
        let pool = ThreadPool::new(1);
        pool.execute(|| panic!("a job fails"));
        let (done, finished) = channel();
        pool.execute(move || done.send(()).expect("the test is listening"));
        // With one worker, this second job runs only if the worker survived.
        assert!(
            finished.recv_timeout(PATIENCE).is_ok(),
            "the job after the panic never ran within 10 s: the worker died with the first"
        );
    }
}

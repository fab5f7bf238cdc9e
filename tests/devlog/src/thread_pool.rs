//! Day 4: the devlog's pool, which has the Rust Book's shape.
//!
//! What it lacks, kept on purpose: the queue has no bound, and a job that
//! panics ends its worker for good. Our day-4 stage bounds the queue at 64
//! and keeps its workers alive.

use std::sync::{Arc, Mutex, mpsc};
use std::thread::{self, JoinHandle};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The receiving end of the queue, shared by every worker.
type SharedQueue = Arc<Mutex<mpsc::Receiver<Job>>>;

pub struct ThreadPool {
    workers: Vec<Worker>,
    /// `Option` so that `Drop` can close the queue before joining.
    sender: Option<mpsc::Sender<Job>>,
}

impl ThreadPool {
    /// Starts `size` workers.
    ///
    /// # Panics
    ///
    /// If `size` is zero.
    pub fn new(size: usize) -> ThreadPool {
        assert!(size > 0, "a pool needs at least one worker");
        // Kept: `channel`, which grows without limit, not `sync_channel`.
        let (sender, receiver) = mpsc::channel();
        let queue: SharedQueue = Arc::new(Mutex::new(receiver));
        let workers = (0..size)
            .map(|id| Worker::start(id, Arc::clone(&queue)))
            .collect();
        ThreadPool {
            workers,
            sender: Some(sender),
        }
    }

    /// Queues `job` for the next free worker.
    ///
    /// # Panics
    ///
    /// Kept: once every worker has died, nothing holds the receiver any
    /// more, `send` fails, and this unwrap panics the accept loop.
    pub fn execute(&self, job: impl FnOnce() + Send + 'static) {
        let sender = self.sender.as_ref().unwrap();
        sender.send(Box::new(job)).unwrap();
    }
}

/// Kept: the accept loop never ends and Ctrl-C runs no destructors, so this
/// runs only while a panic in `execute` unwinds `main`. Then the unwrap of
/// a dead worker's `join` panics a second time, and the process aborts.
impl Drop for ThreadPool {
    fn drop(&mut self) {
        // Dropping the sender closes the queue: each `recv` then fails, and
        // each worker leaves its loop.
        drop(self.sender.take());
        for worker in &mut self.workers {
            println!("stopping worker {}", worker.id);
            if let Some(handle) = worker.thread.take() {
                // Kept: a worker that panicked makes this unwrap panic.
                handle.join().unwrap();
            }
        }
    }
}

struct Worker {
    id: usize,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    fn start(id: usize, queue: SharedQueue) -> Worker {
        let thread = thread::spawn(move || {
            loop {
                // The lock guard is a temporary of this `let`, so the lock is
                // released as soon as `recv` returns, before the job runs. A
                // panicking job therefore never poisons the lock: it only
                // unwinds this thread, which is gone for good (kept).
                let next = queue.lock().unwrap().recv();
                match next {
                    Ok(job) => job(),
                    Err(_) => {
                        println!("worker {id}: the queue is closed, stopping");
                        break;
                    }
                }
            }
        });
        Worker {
            id,
            thread: Some(thread),
        }
    }
}

//! The access log: one line per answer, on standard error, written by a
//! thread of its own.
//!
//! A connection could write its own line, whole, with one `write` to
//! standard error. Under load that is a system call per request, and
//! threads queue on standard error's lock while one of them sits in that
//! call (the benchmark chapter's profiling counted the cost with
//! `strace -c`).
//!
//! Instead, a connection formats its line into a buffer of its own thread, then
//! appends it to a shared buffer, holding a lock only for that copy. A
//! logger thread writes out the whole shared buffer, many lines in one
//! `write`, every [`FLUSH_EVERY`]:
//!
//! ```text
//!  connection ─┐  format on its own thread   ┌───────────┐   every 50 ms,
//!  connection ─┼── append under a short lock ▶│  pending  │── one write ──▶ stderr
//!  connection ─┘  (wake the logger if empty)  └───────────┘   (logger thread)
//! ```
//!
//! The usual alternative, a channel to the logger thread, wakes that thread
//! for every line sent while it sleeps: a context switch per request, the
//! very cost the profile showed. Here only the first line of a batch wakes
//! it, and it then sleeps [`FLUSH_EVERY`] to let the batch fill.
//!
//! If standard error cannot keep up (a full pipe nobody reads), the buffer
//! stops at [`MAX_PENDING`] bytes and lines are counted, not kept: a slow
//! log must not grow the server's memory without bound, nor stall the
//! connections. The count is logged once the log catches up.

// ANCHOR: uses
// ANCHOR: record_uses
use std::cell::RefCell;
use std::fmt::Display;
// ANCHOR_END: record_uses
use std::fmt::Write as _;
use std::io::{self, Write as _};
// ANCHOR: record_addr
use std::net::SocketAddr;
// ANCHOR_END: record_addr
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;
// ANCHOR_END: uses

// ANCHOR: logger
/// How long the logger lets lines gather before it writes them: the
/// longest a line waits to appear.
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);
// ANCHOR: max_pending
/// How many bytes may wait to be written before lines are dropped: about
/// ten thousand lines.
pub const MAX_PENDING: usize = 1024 * 1024;
// ANCHOR_END: max_pending

/// The logger thread, and the buffer it empties. Dropping it writes what
/// is left and stops the thread.
pub struct AccessLog {
    inner: Arc<Inner>,
    thread: Option<thread::JoinHandle<()>>,
}

// ANCHOR: log_handle
/// What connections use to log: cheap to clone, one per server.
#[derive(Clone)]
pub struct LogHandle {
    inner: Arc<Inner>,
}
// ANCHOR_END: log_handle

struct Inner {
    state: Mutex<State>,
    /// Signalled when `pending` stops being empty, and on close.
    filled: Condvar,
}

#[derive(Default)]
struct State {
    pending: String,
    /// Lines dropped because `pending` was full.
    dropped: u64,
    /// Set by [`AccessLog::drop`]; the logger writes what is left and stops.
    closed: bool,
}

impl Inner {
    /// A poisoned lock only means a thread panicked while appending; the
    /// text is still text, so carry on with it.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
// ANCHOR_END: logger

// ANCHOR: start
impl AccessLog {
    /// Starts the logger thread.
    ///
    /// If the system refuses a thread, the log still works: lines are
    /// then written by [`AccessLog::drop`] only, at shutdown, or dropped
    /// once `MAX_PENDING` is reached. That beats a server that does not
    /// start because of its log.
    pub fn start() -> AccessLog {
        let inner = Arc::new(Inner {
            state: Mutex::new(State::default()),
            filled: Condvar::new(),
        });
        let logger = Arc::clone(&inner);
        let thread = thread::Builder::new()
            .name("access-log".into())
            .spawn(move || write_batches(&logger));
        let thread = match thread {
            Ok(thread) => Some(thread),
            Err(err) => {
                eprintln!("access log: cannot start its thread: {err}");
                None
            }
        };
        AccessLog { inner, thread }
    }
    // ANCHOR_END: start

    // ANCHOR: for_tests
    /// A log without its thread, which keeps its lines until
    /// [`take_lines`](Self::take_lines): for tests that read them.
    #[cfg(test)]
    pub(crate) fn unstarted() -> AccessLog {
        AccessLog {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                filled: Condvar::new(),
            }),
            thread: None,
        }
    }

    /// The lines logged since the last call, taken out of the log.
    #[cfg(test)]
    pub(crate) fn take_lines(&self) -> String {
        std::mem::take(&mut self.inner.lock().pending)
    }
    // ANCHOR_END: for_tests

    // ANCHOR: handle
    /// A handle for connections to log with.
    pub fn handle(&self) -> LogHandle {
        LogHandle {
            inner: Arc::clone(&self.inner),
        }
    }
    // ANCHOR_END: handle
}

// ANCHOR: drop
impl Drop for AccessLog {
    fn drop(&mut self) {
        self.inner.lock().closed = true;
        self.inner.filled.notify_one();
        match self.thread.take() {
            Some(thread) => {
                if thread.join().is_err() {
                    eprintln!("access log: the logger thread panicked");
                }
            }
            None => write_out(&self.inner, &mut String::new()),
        }
    }
}
// ANCHOR_END: drop

// ANCHOR: record
impl LogHandle {
    /// Logs one answer: who asked, the request line, the status, how many
    /// bytes went out, and how long it took.
    pub fn record(
        &self,
        peer: SocketAddr,
        line: impl Display,
        status: u16,
        bytes: usize,
        elapsed: Duration,
    ) {
        thread_local! {
            /// This thread's line, kept between calls so that formatting
            /// does not allocate once the buffer has grown.
            static LINE: RefCell<String> = const { RefCell::new(String::new()) };
        }
        LINE.with_borrow_mut(|text| {
            text.clear();
            let millis = elapsed.as_secs_f64() * 1000.0;
            let _ = writeln!(text, "{peer} \"{line}\" {status} {bytes} {millis:.1}ms");
            let mut state = self.inner.lock();
            if state.pending.len() + text.len() > MAX_PENDING {
                state.dropped += 1;
                return;
            }
            let was_empty = state.pending.is_empty();
            state.pending.push_str(text);
            drop(state);
            // Only the first line of a batch wakes the logger; it is
            // asleep or busy writing for every other one.
            if was_empty {
                self.inner.filled.notify_one();
            }
        });
    }
}
// ANCHOR_END: record

// ANCHOR: write_batches
/// The logger thread: wait for a first line, let the batch gather for
/// [`FLUSH_EVERY`], write it out, until closed.
fn write_batches(inner: &Inner) {
    // Two buffers that trade places, so neither is ever reallocated once
    // grown: connections fill one while this thread writes the other.
    let mut batch = String::new();
    loop {
        let closed = {
            let mut state = inner.lock();
            while state.pending.is_empty() && !state.closed {
                state = inner
                    .filled
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            state.closed
        };
        if closed {
            write_out(inner, &mut batch);
            return;
        }
        thread::sleep(FLUSH_EVERY);
        write_out(inner, &mut batch);
    }
}
// ANCHOR_END: write_batches

// ANCHOR: write_out
/// Takes the pending lines, and writes them with one `write_all`.
fn write_out(inner: &Inner, batch: &mut String) {
    let dropped = {
        let mut state = inner.lock();
        std::mem::swap(batch, &mut state.pending);
        std::mem::take(&mut state.dropped)
    };
    if dropped > 0 {
        let _ = writeln!(
            batch,
            "access log: {dropped} lines dropped, standard error was too slow"
        );
    }
    let _ = io::stderr().write_all(batch.as_bytes());
    batch.clear();
}
// ANCHOR_END: write_out

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_kept_in_order_and_a_full_buffer_drops_and_counts() {
        // No thread: only `drop` writes, so the test can look at the
        // buffer itself.
        let log = AccessLog::unstarted();
        let handle = log.handle();
        let peer: SocketAddr = ([127, 0, 0, 1], 4000).into();
        handle.record(peer, "GET / HTTP/1.1", 200, 42, Duration::from_micros(1500));
        handle.record(peer, "GET /b HTTP/1.1", 404, 7, Duration::ZERO);
        assert_eq!(
            log.inner.lock().pending,
            "127.0.0.1:4000 \"GET / HTTP/1.1\" 200 42 1.5ms\n\
             127.0.0.1:4000 \"GET /b HTTP/1.1\" 404 7 0.0ms\n"
        );
        // Fill the buffer to the brim: the next line is counted, not kept.
        log.inner.lock().pending = "x".repeat(MAX_PENDING);
        handle.record(peer, "GET / HTTP/1.1", 200, 42, Duration::ZERO);
        let state = log.inner.lock();
        assert_eq!(state.pending.len(), MAX_PENDING);
        assert_eq!(state.dropped, 1);
        drop(state);
        // Dropping `log` writes those bytes to the test's stderr: empty
        // them first, so the test output stays readable.
        log.inner.lock().pending.clear();
        log.inner.lock().dropped = 0;
    }
}

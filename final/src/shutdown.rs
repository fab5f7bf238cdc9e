//! Stopping on Ctrl-C or SIGTERM, instead of dying mid-request.
//!
//! On day 4, Ctrl-C killed the process on the spot: the accept loop never
//! ended, so the pool's `Drop` never ran, and a request being served was
//! cut off. Here a stop request only raises a flag. The accept loop sees
//! it and stops accepting, idle connections see it and close, requests in
//! flight finish, the pool's `Drop` joins every worker, and `main` returns.
//!
//! A flag alone wakes nobody, and the accept loop spends its life waiting
//! in `poll` for clients. So the flag keeps a list of mio `Waker`s, and
//! raising it wakes each: the accept loop registers one, and a stop
//! request reaches it at once.

// ANCHOR: signal_uses
use std::io::{self, Write as _};
// ANCHOR_END: signal_uses
// ANCHOR: uses
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use mio::Waker;
// ANCHOR_END: uses

// ANCHOR: flag
/// A flag every part of the server can check: "are we stopping?"
#[derive(Clone, Default)]
pub struct Shutdown(Arc<Flag>);

#[derive(Default)]
struct Flag {
    raised: AtomicBool,
    /// Woken when the flag goes up: threads that wait in `poll`.
    wakers: Mutex<Vec<Waker>>,
}

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Whether the server is shutting down.
    pub fn requested(&self) -> bool {
        self.0.raised.load(Ordering::SeqCst)
    }

    // ANCHOR_END: flag
    // ANCHOR: flag_wake
    /// Starts the shutdown: raises the flag, and wakes every thread that
    /// asked to be woken.
    pub fn request(&self) {
        self.0.raised.store(true, Ordering::SeqCst);
        for waker in self.wakers().iter() {
            if let Err(err) = waker.wake() {
                eprintln!("shutdown: cannot wake a thread: {err}");
            }
        }
    }

    /// Has `waker` woken when the flag goes up, or at once if it is up
    /// already: a request that came just before this call is not missed.
    pub fn wake_on_request(&self, waker: Waker) {
        let mut wakers = self.wakers();
        wakers.push(waker);
        if self.requested()
            && let Some(waker) = wakers.last()
            && let Err(err) = waker.wake()
        {
            eprintln!("shutdown: cannot wake a thread: {err}");
        }
    }

    /// A poisoned lock only means a thread panicked while it held the
    /// list; the wakers in it still work.
    fn wakers(&self) -> MutexGuard<'_, Vec<Waker>> {
        self.0.wakers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
// ANCHOR_END: flag_wake

// ANCHOR: on_signals
/// The exit status after a second stop request: 130, which is 128 + 2
/// (SIGINT's number), what a shell reports for a program that Ctrl-C
/// killed. It is a convention, not a report: ctrlc does not say which
/// signal arrived, so a second SIGTERM exits with 130 too, not 143 (128 +
/// 15), and on Windows, which has no signal numbers, 130 is just a
/// non-zero status.
pub const EXIT_ON_SECOND_SIGNAL: i32 = 130;

/// Requests the shutdown on the first stop request: Ctrl-C (SIGINT),
/// SIGTERM or SIGHUP on Unix; Ctrl-C, Ctrl-Break or closing the console on
/// Windows. A second one while shutting down exits at once, for when a
/// request takes too long to finish.
///
/// The ctrlc crate runs `handler` on an ordinary thread of its own, not
/// inside the signal handler, so it may print, and take a lock. It does not
/// tell which signal arrived, so the messages name none; signal-hook's
/// `Signals` iterator would, but it does not exist on Windows.
///
/// ctrlc allows one handler per process: a second call fails, and so does
/// a system that refuses the handler. Either way the error is returned,
/// and `main` serves anyway, with a warning.
pub fn on_signals(shutdown: Shutdown) -> io::Result<()> {
    // Stop first, then say so, with no `eprintln!`: it panics on a closed pipe.
    let handler = move || {
        if shutdown.requested() {
            let _ = writeln!(io::stderr(), "Second stop signal: exiting now.");
            std::process::exit(EXIT_ON_SECOND_SIGNAL);
        }
        shutdown.request();
        let _ = writeln!(
            io::stderr(),
            "Received a stop signal (Ctrl-C or SIGTERM): finishing requests in flight, then stopping."
        );
    };
    ctrlc::set_handler(handler).map_err(|err| match err {
        // The operating system's own error says more than ctrlc's wrapper.
        ctrlc::Error::System(err) => err,
        other => io::Error::other(other),
    })
}
// ANCHOR_END: on_signals

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use mio::{Events, Poll, Token};

    use super::*;

    /// How long a waker that went off may take to show: it shows at once,
    /// and this bound only turns a lost wake-up into a failure.
    const BOUND: Duration = Duration::from_secs(5);

    /// Whether `poll` reports its waker within `wait`.
    fn woken(poll: &mut Poll, wait: Duration) -> bool {
        let mut events = Events::with_capacity(4);
        poll.poll(&mut events, Some(wait)).expect("poll works");
        events.iter().any(|event| event.token() == Token(7))
    }

    #[test]
    fn a_stop_request_wakes_a_waker_handed_over_before_it_or_after_it() {
        let mut before = Poll::new().expect("a poll");
        let mut after = Poll::new().expect("a poll");
        let shutdown = Shutdown::new();
        shutdown.wake_on_request(Waker::new(before.registry(), Token(7)).expect("a waker"));
        // A tenth of a second of nothing is enough to call it nothing.
        assert!(
            !woken(&mut before, Duration::from_millis(100)),
            "woken before any request"
        );
        shutdown.request();
        assert!(shutdown.requested());
        assert!(
            woken(&mut before, BOUND),
            "a waker held when the request came"
        );
        // A loop still starting when the request came is not left waiting.
        shutdown.wake_on_request(Waker::new(after.registry(), Token(7)).expect("a waker"));
        assert!(
            woken(&mut after, BOUND),
            "a waker handed over after the request"
        );
    }
}

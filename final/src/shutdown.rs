//! Stopping on Ctrl-C or SIGTERM, instead of dying mid-request.
//!
//! On day 4, Ctrl-C killed the process on the spot: the accept loop never
//! ended, so the pool's `Drop` never ran, and a request being served was
//! cut off. Here a stop request only raises a flag. The accept loop sees
//! it and stops accepting, idle connections see it and close, requests in
//! flight finish, the pool's `Drop` joins every worker, and `main` returns.
//!
//! One difficulty: the accept loop is blocked inside `accept`, and a flag
//! does not wake it. So after raising the flag, the signal thread connects
//! to our own listening address. That connection wakes `accept`, and the
//! loop checks the flag before serving it.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

// ANCHOR: flag
/// A flag every part of the server can check: "are we stopping?"
#[derive(Clone, Default)]
pub struct Shutdown(Arc<AtomicBool>);

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Whether the server is shutting down.
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Starts the shutdown, and wakes the accept loop listening at `wake`.
    pub fn request(&self, wake: SocketAddr) {
        self.0.store(true, Ordering::SeqCst);
        // Bounded: with a full backlog, a plain `connect` would wait for
        // the kernel's retries, and a second Ctrl-C with it. The accept
        // loop also checks the flag whenever its next connection comes.
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
    }

    /// Raises the flag and wakes nobody: for the tests of a connection,
    /// which only looks at the flag.
    #[cfg(test)]
    pub(crate) fn raise(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}
// ANCHOR_END: flag

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
/// inside the signal handler, so it may print and connect. It does not
/// tell which signal arrived, so the messages name none; signal-hook's
/// `Signals` iterator would, but it does not exist on Windows.
///
/// ctrlc allows one handler per process: a second call fails, and so does
/// a system that refuses the handler. Either way the error is returned,
/// and `main` serves anyway, with a warning.
pub fn on_signals(shutdown: Shutdown, wake: SocketAddr) -> io::Result<()> {
    let handler = move || {
        if shutdown.requested() {
            eprintln!("Second stop signal: exiting now.");
            std::process::exit(EXIT_ON_SECOND_SIGNAL);
        }
        eprintln!(
            "Received a stop signal (Ctrl-C or SIGTERM): finishing requests in flight, then stopping."
        );
        shutdown.request(wake);
    };
    ctrlc::set_handler(handler).map_err(|err| match err {
        // The operating system's own error says more than ctrlc's wrapper.
        ctrlc::Error::System(err) => err,
        other => io::Error::other(other),
    })
}
// ANCHOR_END: on_signals

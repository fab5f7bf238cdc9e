//! Stopping on Ctrl-C (SIGINT) and SIGTERM, instead of dying mid-request.
//!
//! On day 4, Ctrl-C killed the process on the spot: the accept loop never
//! ended, so the pool's `Drop` never ran, and a request being served was
//! cut off. Here a signal only raises a flag. The accept loop sees it and
//! stops accepting, idle connections see it and close, requests in flight
//! finish, the pool's `Drop` joins every worker, and `main` returns.
//!
//! One difficulty: the accept loop is blocked inside `accept`, and a flag
//! does not wake it. So after raising the flag, the signal thread connects
//! to our own listening address. That connection wakes `accept`, and the
//! loop checks the flag before serving it.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

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
        let _ = TcpStream::connect(wake);
    }
}
// ANCHOR_END: flag

// ANCHOR: on_signals
/// Starts a thread that waits for SIGINT or SIGTERM and then requests the
/// shutdown. A second signal while shutting down exits at once, for when
/// a request takes too long to finish.
pub fn on_signals(shutdown: Shutdown, wake: SocketAddr) -> io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if shutdown.requested() {
                    // 128 + the signal's number, as a shell reports a
                    // process that the signal killed: 130 for SIGINT, 143
                    // for SIGTERM.
                    eprintln!("Second signal: exiting now.");
                    std::process::exit(128 + signal);
                }
                let name = if signal == SIGINT {
                    "SIGINT"
                } else {
                    "SIGTERM"
                };
                eprintln!("Received {name}: finishing requests in flight, then stopping.");
                shutdown.request(wake);
            }
        })?;
    Ok(())
}
// ANCHOR_END: on_signals

//! The accept loop: for now, it takes each connection and hangs up. The
//! chapter on connections makes it serve them (its step 1).

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::num::NonZeroUsize;
use std::thread;

use crate::router::App;
use crate::shutdown::Shutdown;

// ANCHOR: listen
/// How many connections the system may hold for us, accepted by the
/// kernel but not yet by [`run`]. Linux caps it at `net.core.somaxconn`
/// (4,096 by default).
pub const BACKLOG: i32 = 4096;

/// Listens on `addr` with a backlog of [`BACKLOG`].
///
/// `TcpListener::bind` would do, but it always asks for a backlog of 128.
/// When more clients connect at once than the accept loop takes in that
/// moment, the system drops the rest of their handshakes, and each one
/// waits a second, then three, before trying again: at 2,048 connections
/// arriving together, the benchmark's probe found hundreds never served
/// within two seconds. Like `bind`, it lets a restarted server reuse the
/// port at once (`SO_REUSEADDR`), on Unix.
pub fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}
// ANCHOR_END: listen

// ANCHOR: limits
/// How much the server takes on at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Worker threads for requests that may wait (see `router::may_wait`).
    pub threads: usize,
    /// Connections open at once; the next client gets 503.
    pub connections: usize,
    /// Event loops, each a thread serving its share of the connections.
    pub loops: usize,
}

/// The default for [`Limits::loops`]: one per processor core, so that
/// every core can be reading and writing at once, and no more, since a
/// loop never waits for anything but news.
pub fn one_loop_per_core() -> usize {
    thread::available_parallelism().map_or(1, NonZeroUsize::get)
}
// ANCHOR_END: limits

/// Takes connections until `shutdown` is requested, and hangs up on each:
/// the API is ready, and nothing reads a request yet.
pub fn run(listener: TcpListener, app: App, limits: Limits, shutdown: Shutdown) {
    let _ = (app, limits);
    for stream in listener.incoming() {
        if shutdown.requested() {
            break;
        }
        drop(stream);
    }
}

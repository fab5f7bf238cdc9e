//! The accept loop: hand each connection to an event loop, or refuse it
//! with 503 when the server is full, until shutdown.

// ANCHOR: uses
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crate::access_log::AccessLog;
use crate::connection::Shared;
use crate::event_loop::{Counted, LoopHandle, Message};
use crate::response::Response;
use crate::router::App;
use crate::shutdown::Shutdown;
use crate::thread_pool::ThreadPool;
// ANCHOR_END: uses

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
    /// Worker threads for requests that may wait (see [`may_wait`](crate::router::may_wait)).
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

// ANCHOR: run
/// Serves `listener` until `shutdown` is requested, then waits for the
/// connections in flight to finish.
///
/// `limits.loops` event loops (one per processor core, unless asked
/// otherwise) do the reading and writing for every connection;
/// `limits.threads` worker threads answer the requests that may wait (see
/// [`may_wait`](crate::router::may_wait)).
///
/// Taking a listener that is already bound (rather than an address) lets
/// `main` print the real port before serving, and lets tests bind port 0.
pub fn run(listener: TcpListener, app: App, limits: Limits, shutdown: Shutdown) {
    // As many requests may wait for a worker as there are workers.
    let workers = Arc::new(Mutex::new(ThreadPool::new(limits.threads, limits.threads)));
    let log = AccessLog::start();
    let shared = Arc::new(Shared {
        app,
        shutdown: shutdown.clone(),
        log: log.handle(),
    });
    let open = Arc::new(AtomicUsize::new(0));
    let loops: io::Result<Vec<LoopHandle>> = (0..limits.loops)
        .map(|id| {
            let (shared, workers) = (Arc::clone(&shared), Arc::clone(&workers));
            LoopHandle::start(id, shared, workers)
        })
        .collect();
    let loops = match loops {
        Ok(loops) => loops,
        Err(err) => {
            eprintln!("error: cannot start the event loops: {err}");
            return;
        }
    };
    // ANCHOR_END: run

    // ANCHOR: accept_loop
    // Each new connection goes to the next loop in turn.
    for (stream, event_loop) in listener.incoming().zip(loops.iter().cycle()) {
        if shutdown.requested() {
            break;
        }
        match stream {
            Ok(stream) if open.load(Ordering::SeqCst) < limits.connections => {
                event_loop.send(Message::Connect(stream, Counted::new(&open)));
            }
            Ok(stream) => refuse(stream),
            Err(err) => {
                eprintln!("accept failed: {err}");
                // Out of file descriptors, most likely: pause rather than
                // spin, and let connections finish and free some.
                thread::sleep(Duration::from_millis(10));
            }
        }
    }
    // ANCHOR_END: accept_loop
    // ANCHOR: after_loop
    // Close the listening socket first: from now on, new clients are
    // refused at once instead of queueing in the backlog for a server that
    // will never accept them.
    drop(listener);
    eprintln!("Stopped accepting; waiting for connections in flight.");
    drop(loops); // Each loop finishes its connections, then stops.
    drop(workers); // The last handle: closes the queue, joins the workers.
    drop(log); // Every connection is done: write the last lines.
    // ANCHOR_END: after_loop
}

// ANCHOR: refuse
/// Tells a client we are too busy, right from the accept loop.
///
/// `Retry-After` says when to try again. The accept loop must not wait on a
/// slow client, so reading and writing get short timeouts, and whatever
/// happens, we hang up.
///
/// We read once before answering, to take the request off the socket:
/// closing a socket with unread bytes in it makes the system reset the
/// connection, and a reset can destroy the 503 before the client reads it.
fn refuse(mut stream: TcpStream) {
    let response = Response::busy();
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    let _ = stream.read(&mut [0u8; 8192]);
    let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
    let _ = stream.write_all(&Response::resolve(&response, false));
    let _ = stream.shutdown(std::net::Shutdown::Write);
}
// ANCHOR_END: refuse

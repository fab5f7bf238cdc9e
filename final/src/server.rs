//! The accept loop: hand each connection to an event loop, or have one
//! turn it away with 503 when the server is full, until shutdown.

/* STAND-IN: uses
// ANCHOR: listen_uses
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::num::NonZeroUsize;
use std::thread;
// ANCHOR_END: listen_uses
// ANCHOR: day_4_way_uses
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::app::{self, App};
use crate::http::response::Response;
use crate::reader::{Progress, RequestReader};
// ANCHOR: stoppable_use
use crate::shutdown::Shutdown;
// ANCHOR_END: stoppable_use
use crate::thread_pool::ThreadPool;
// ANCHOR_END: day_4_way_uses
*/
// ANCHOR: uses
use std::io::{self, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

// ANCHOR: log_use
use crate::access_log::AccessLog;
// ANCHOR_END: log_use
use crate::app::App;
use crate::connection::ServerWide;
use crate::shutdown::Shutdown;
use crate::thread_pool::ThreadPool;
// ANCHOR_END: uses

// ANCHOR: accept_uses
// The accept loop's own: it waits on mio, and counts open connections.
use std::sync::atomic::{AtomicUsize, Ordering};

use mio::{Events, Interest, Poll, Token, Waker};

use crate::event_loop::{Counted, LoopHandle, Message};
// ANCHOR_END: accept_uses

// ANCHOR: listen
/// How many connections the system may hold for us, accepted by the
/// kernel but not yet by `run`. Linux caps it at `net.core.somaxconn`
/// (4,096 by default).
pub const BACKLOG: i32 = 4096;

/// Listens on `addr` with a backlog of [`BACKLOG`].
///
/// `TcpListener::bind` would do, but it always asks for a backlog of 128.
/// When more clients connect at once than the accept loop takes in that
/// moment, the system drops the rest of their handshakes, and each one
/// waits a second, then three, before trying again (the README's table
/// of dependencies has the measurement). Like `bind`, it lets a restarted
/// server reuse the port at once (`SO_REUSEADDR`), on Unix.
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
    /// Worker threads for requests that may wait (see `app::may_wait`).
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

/* STAND-IN: run
// ANCHOR: one_request_each
/// Serves each connection on a worker of the pool, day 4's way: one
/// request, one answer, then the connection closes. A client that says
/// nothing holds its worker until the read times out.
/* STAND-IN: stoppable
pub fn run(listener: TcpListener, app: App, limits: Limits) {
*/
// ANCHOR: stoppable
pub fn run(listener: TcpListener, app: App, limits: Limits, shutdown: Shutdown) {
// ANCHOR_END: stoppable
    let app = Arc::new(app);
    let pool = ThreadPool::new(limits.threads.min(DAY_4_WORKERS));
    for stream in listener.incoming() {
        // ANCHOR: stop_check
        if shutdown.requested() {
            break;
        }
        // ANCHOR_END: stop_check
        let Ok(stream) = stream else {
            continue;
        };
        let app = Arc::clone(&app);
        pool.execute(move || answer_one(stream, &app));
    }
}


/// As many workers as day 4 had.
const DAY_4_WORKERS: usize = 4;

/// How long a request may take to arrive, as on day 2.
const REQUEST_DEADLINE: Duration = Duration::from_secs(5);
// ANCHOR_END: one_request_each

// ANCHOR: answer_one
/// Reads one request from `stream`, answers it, and hangs up gently.
fn answer_one(mut stream: TcpStream, app: &App) {
    let until = Instant::now() + REQUEST_DEADLINE;
    let mut reader = RequestReader::new();
    let mut chunk = [0u8; 16 * 1024];
    let (response, head_only) = loop {
        match reader.poll() {
            Ok(Progress::Done(request)) => {
                break (app::route_or_500(&request, app), request.method == "HEAD");
            }
            Ok(Progress::NeedHead | Progress::NeedBody { .. }) => {}
            Err(err) => break (Response::error(err.status(), err.message()), false),
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break (Response::error(408, "the request took too long"), false);
        }
        let _ = stream.set_read_timeout(Some(left));
        match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => reader.feed(&chunk[..n]),
            // Silence before a request closes without a word; a request
            // cut short by the deadline or the client gets its 408.
            Err(_) if reader.is_empty() => return,
            Err(_) => break (Response::error(408, "the request took too long"), false),
        }
    };
    let response = app.policy.decorate(response);
    let mut bytes = Response::resolve(&response, false);
    if head_only {
        bytes.truncate(bytes.len() - response.body.len());
    }
    let _ = stream.write_all(&bytes);
    // As on day 2: shut our side, and read what the client still sends,
    // so that closing does not reset the connection and lose the answer.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until && matches!(stream.read(&mut chunk), Ok(1..)) {}
}
// ANCHOR_END: answer_one
*/
// ANCHOR: run
/// Serves `listener` until `shutdown` is requested, then waits for the
/// connections in flight to finish.
///
/// `limits.loops` event loops (one per processor core, unless asked
/// otherwise) do the reading and writing for every connection;
/// `limits.threads` worker threads answer the requests that may wait (see
/// `app::may_wait`).
///
/// Taking a listener that is already bound (rather than an address) lets
/// `main` print the real port before serving, and lets tests bind port 0.
pub fn run(listener: TcpListener, app: App, limits: Limits, shutdown: Shutdown) {
    /* STAND-IN: pool_bound
    let workers = Arc::new(Mutex::new(ThreadPool::new(limits.threads)));
    */
    // ANCHOR: pool_bound
    // As many requests may wait for a worker as there are workers.
    let workers = Arc::new(Mutex::new(ThreadPool::new(limits.threads, limits.threads)));
    // ANCHOR_END: pool_bound
    // ANCHOR: log_start
    let log = AccessLog::start();
    // ANCHOR_END: log_start
    let server = Arc::new(ServerWide {
        app,
        shutdown: shutdown.clone(),
        // ANCHOR: log_handle
        log: log.handle(),
        // ANCHOR_END: log_handle
    });
    let loops: io::Result<Vec<LoopHandle>> = (0..limits.loops)
        .map(|id| {
            let (server, workers) = (Arc::clone(&server), Arc::clone(&workers));
            LoopHandle::start(id, server, workers)
        })
        .collect();
    let loops = match loops {
        Ok(loops) => loops,
        Err(err) => {
            eprintln!("error: cannot start the event loops: {err}");
            return;
        }
    };

    if let Err(err) = accept_until_shutdown(listener, &loops, limits.connections, &shutdown) {
        eprintln!("error: the accept loop failed: {err}");
    }
    // ANCHOR: after_loop
    // The listening socket closed when the accept loop returned: from now
    // on, new clients are refused at once instead of queueing in the
    // backlog for a server that will never accept them.
    let _ = writeln!(
        io::stderr(),
        "Stopped accepting; waiting for connections in flight."
    );
    drop(loops); // Each loop finishes its connections, then stops.
    drop(workers); // The last handle: closes the queue, joins the workers.
    // ANCHOR: log_drop
    drop(log); // Every connection is done: write the last lines.
    // ANCHOR_END: log_drop
}
// ANCHOR_END: after_loop
// ANCHOR_END: run

// ANCHOR: accept
/// The listening socket's token, and the shutdown waker's.
const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);

/// Deals each new client out to the event loops in turn, or, past
/// `connections` open at once, has a loop turn it away (503), until the
/// server is stopping.
///
/// The accept loop waits in `poll` like an event loop, for the listening
/// socket and for a [`Waker`] that a stop request sets off (see
/// `shutdown.rs`). A plain blocking `accept` would wait for the next
/// client even after the flag went up.
fn accept_until_shutdown(
    listener: TcpListener,
    loops: &[LoopHandle],
    connections: usize,
    shutdown: &Shutdown,
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let mut listener = mio::net::TcpListener::from_std(listener);
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    shutdown.wake_on_request(Waker::new(poll.registry(), WAKER)?);
    let open = Arc::new(AtomicUsize::new(0));
    let mut events = Events::with_capacity(8);
    if loops.is_empty() {
        return Ok(()); // Nothing could serve a client.
    }
    // ANCHOR_END: accept
    // ANCHOR: accept_clients
    let mut turn = 0;
    while !shutdown.requested() {
        match poll.poll(&mut events, None) {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            other => other?,
        }
        // The listener, like a socket, reports news once: take every
        // client that is waiting, until `accept` says `WouldBlock`.
        while !shutdown.requested() {
            let stream = match listener.accept() {
                Ok((stream, _)) => stream,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    eprintln!("accept failed: {err}");
                    // Out of file descriptors, most likely: pause rather
                    // than spin, and let connections finish and free some.
                    thread::sleep(Duration::from_millis(10));
                    continue;
                }
            };
            let event_loop = &loops[turn % loops.len()];
            turn = turn.wrapping_add(1);
            if open.load(Ordering::SeqCst) < connections {
                event_loop.send(Message::Connect(stream, Counted::new(&open)));
            } else {
                event_loop.send(Message::TurnAway(stream));
            }
        }
    }
    Ok(())
}
// ANCHOR_END: accept_clients

//! One connection, from its first byte to its close: keep-alive,
//! pipelining, deadlines, and closing without losing the last answer.
//!
//! Days 1 to 4 gave each connection a thread, which read and waited and
//! wrote, in that order, blocking at each step. Here a connection is a
//! *state machine*: a value that remembers where it is ([`Phase`]), and a
//! method, [`Connection::advance`], that goes as far as the bytes at hand
//! allow and then returns, instead of waiting. The event loop
//! (`event_loop.rs`) calls it again when the socket has news. So a
//! connection that waits costs a few hundred bytes of memory, not a
//! thread, and a few threads serve thousands of connections.
//!
//! Nothing here knows about `epoll` or tokens: the event loop owns the
//! waiting, and this file owns what one connection does next.

// ANCHOR: uses
use std::cell::RefCell;
use std::fmt::Display;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::ops::ControlFlow::{self, Break, Continue};
use std::time::{Duration, Instant};

use mio::net::TcpStream;

// ANCHOR: log_use
use crate::access_log::LogHandle;
// ANCHOR_END: log_use
use crate::app::{self, App};
use crate::http::request::{Request, RequestError};
use crate::http::response::Response;
use crate::reader::{Progress, RequestReader};
use crate::shutdown::Shutdown;
// ANCHOR_END: uses
// ANCHOR: pieces_uses
use crate::http::request::Version;
use crate::http::response::Pieces;
// ANCHOR_END: pieces_uses

// ANCHOR: socket
/// What a connection reads from and writes to. The event loop gives it a
/// non-blocking TCP socket; the tests (`connection/tests.rs`) give it a
/// script of reads and writes, and pass the time in by hand, so that every
/// phase can be tested without a network, a thread or a clock.
pub trait Socket: Read + Write {
    /// Stops sending: the peer reads the end of the stream once it has
    /// read everything we wrote before.
    fn shutdown_write(&mut self) -> io::Result<()>;
}

impl Socket for TcpStream {
    fn shutdown_write(&mut self) -> io::Result<()> {
        self.shutdown(std::net::Shutdown::Write)
    }
}
// ANCHOR_END: socket

// ANCHOR: timeouts
/// How long a kept-open connection may wait for its next request.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a client has to send a request's line and headers once it has
/// begun.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a client has to send a body once the headers are in.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long writing one response may take.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long, after our last answer, we keep reading what a client still
/// sends before closing (see [`Phase::Lingering`]), and how much of it.
pub const LINGER_TIMEOUT: Duration = Duration::from_secs(1);
pub const LINGER_LIMIT: usize = 2 * 1024 * 1024;

/// How many steps (a read, an answer, a write) one connection may take in
/// one call to [`Connection::advance`] before the event loop serves the
/// others: a few dozen requests. A connection with hundreds of pipelined
/// requests in hand then takes turns with the rest instead of answering
/// them all first. It is a bound that keeps one turn short whatever a
/// client sends, chosen by reasoning rather than measured: a real client
/// on loopback does not outrun the loop, so no test here shows the
/// starvation it prevents.
pub const STEPS_PER_TURN: usize = 64;
// ANCHOR_END: timeouts

// ANCHOR: server_wide
/// What is the server's rather than one connection's, and every
/// connection reads: the app (the store, and who may be served), whether
/// the server is stopping, and the access log.
pub struct ServerWide {
    pub app: App,
    pub shutdown: Shutdown,
    // ANCHOR: log_field
    pub log: LogHandle,
    // ANCHOR_END: log_field
}
// ANCHOR_END: server_wide

// ANCHOR: phase
/// Where a connection is, and until when it may stay there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between requests: nothing of the next one has arrived.
    Idle { until: Instant },
    /// Part of a request is in: its head, or (with `body`) its head and
    /// part of its body.
    Reading { until: Instant, body: bool },
    // ANCHOR: phase_handling
    /// A worker thread is answering the request (see [`Next::Handle`]).
    /// No deadline: the handler's own time is bounded.
    Handling,
    // ANCHOR_END: phase_handling
    /// An answer is being written; then the connection goes back to
    /// `Idle`, or, with `close`, to `Lingering`.
    Writing { until: Instant, close: bool },
    /// We have sent our last answer and shut our side down; what the
    /// client still sends is read and thrown away, so that closing does
    /// not destroy the answer (see [`Connection::linger`]).
    Lingering { until: Instant, discarded: usize },
}
// ANCHOR_END: phase

// ANCHOR: next
/// What the event loop should do with a connection after
/// [`Connection::advance`].
#[derive(Debug)]
pub enum Next {
    /// Nothing until the socket has news or a deadline passes.
    Wait,
    // ANCHOR: next_handle
    /// Run this request's handler on a worker thread, then call
    /// [`Connection::answer`]: the handler may wait (for the disk, or on
    /// purpose), and the event loop must not.
    Handle(Request),
    // ANCHOR_END: next_handle
    /// Close the connection.
    Close,
    /// There is more to do, but the connection has had its turn: call
    /// [`Connection::advance`] again once the loop has served the others.
    Again,
}
// ANCHOR_END: next

// ANCHOR: connection
/// A socket, and the reader that turns what arrives on it into requests.
///
/// The socket is a type parameter, not a `Box<dyn Socket>`: the event
/// loop's connections are all TCP, and the compiler then calls the socket
/// directly.
pub struct Connection<S = TcpStream> {
    socket: S,
    peer: SocketAddr,
    /// Bytes read and not used yet: a request in progress, and possibly
    /// the start of the next (HTTP pipelining).
    reader: RequestReader,
    phase: Phase,
    /// What we still have to write, from `sent` on.
    out: Vec<u8>,
    sent: usize,
    // ANCHOR: connection_pieces
    /// The rest of a body made in pieces (see [`Response::pieces`]), and
    /// whether each piece goes out as a chunk.
    pieces: Option<Box<dyn Pieces>>,
    chunked: bool,
    // ANCHOR_END: connection_pieces
    /// Whether the socket may have bytes we have not read. The event loop
    /// reports news once (it is edge-triggered), so we must remember it
    /// until a read says there is nothing left.
    readable: bool,
    /// When the current request's first byte arrived, for the access log.
    started: Instant,
}

/// How [`Connection::queue`] sends an answer.
struct Delivery {
    /// Stay open for the next request, rather than close after this one.
    keep_alive: bool,
    /// Only the head: the answer to a `HEAD` request.
    head_only: bool,
}
// ANCHOR_END: connection

// ANCHOR: new
impl<S: Socket> Connection<S> {
    /// A connection just accepted, waiting for its first request.
    pub fn new(socket: S, peer: SocketAddr, now: Instant) -> Connection<S> {
        Connection {
            socket,
            peer,
            reader: RequestReader::new(),
            phase: Phase::Idle {
                until: now + IDLE_TIMEOUT,
            },
            out: Vec::new(),
            sent: 0,
            // ANCHOR: new_pieces
            pieces: None,
            chunked: false,
            // ANCHOR_END: new_pieces
            // The client may have sent its request before we registered
            // the socket: look once.
            readable: true,
            started: now,
        }
    }

    /// The socket, for the event loop to register.
    pub fn socket(&mut self) -> &mut S {
        &mut self.socket
    }

    /// The event loop saw news on the socket: bytes, the client's end of
    /// it, or an error. Whichever it is, the next read says.
    pub fn mark_readable(&mut self) {
        self.readable = true;
    }

    /// Moves the connection to `phase`. Every change of phase goes through
    /// here, so that this one line is where to watch them all.
    fn enter(&mut self, phase: Phase) {
        self.phase = phase;
    }
    // ANCHOR_END: new

    // ANCHOR: advance
    /// Goes as far as the bytes at hand allow: writes what is owed, reads
    /// what has arrived, answers whole requests, and says what the event
    /// loop should do next. `now` is the time, read once by the caller:
    /// deadlines are seconds long, and each look at the clock costs a
    /// little.
    pub fn advance(&mut self, server: &ServerWide, now: Instant) -> Next {
        for _ in 0..STEPS_PER_TURN {
            if let Break(next) = self.step(server, now) {
                return next;
            }
        }
        // Still more to do: the others on this loop get their turn first.
        Next::Again
    }

    /// One step: write what is owed, then do what the phase calls for.
    /// `Continue` means "go round again"; `Break` ends the turn with what
    /// the event loop should do.
    fn step(&mut self, server: &ServerWide, now: Instant) -> ControlFlow<Next> {
        if self.flush().is_err() {
            return Break(Next::Close);
        }
        if self.sent < self.out.len() {
            return Break(Next::Wait); // The client is not reading; wait.
        }
        match self.phase {
            Phase::Writing { close, .. } => {
                // ANCHOR: advance_pieces
                if self.next_piece(close, now) {
                    // One piece per turn: the others on this loop go first.
                    return Break(Next::Again);
                }
                // ANCHOR_END: advance_pieces
                self.written(close, now);
                Continue(())
            }
            Phase::Idle { .. } | Phase::Reading { .. } => self.read_request(server, now),
            // ANCHOR: advance_handling
            Phase::Handling => Break(Next::Wait),
            // ANCHOR_END: advance_handling
            Phase::Lingering { .. } => Break(self.linger(now)),
        }
    }
    // ANCHOR_END: advance

    // ANCHOR: next_piece
    /// Puts the next piece of a body made in pieces in the outgoing
    /// buffer, as a chunk if the connection stays open; after the last,
    /// the empty chunk that ends them. `false` when there is nothing more.
    /// Each piece gives the client a fresh [`WRITE_TIMEOUT`] to take it.
    fn next_piece(&mut self, close: bool, now: Instant) -> bool {
        let Some(pieces) = &mut self.pieces else {
            return false;
        };
        self.out.clear();
        self.sent = 0;
        if !self.chunked {
            if !pieces.next_piece(&mut self.out) {
                self.pieces = None;
                return false;
            }
        } else {
            let mut piece = Vec::new();
            if pieces.next_piece(&mut piece) {
                // An empty chunk would end the body: skip it.
                if !piece.is_empty() {
                    // Writing to a `Vec` cannot fail.
                    let _ = write!(self.out, "{:x}\r\n", piece.len());
                    self.out.extend_from_slice(&piece);
                    self.out.extend_from_slice(b"\r\n");
                }
            } else {
                self.out.extend_from_slice(b"0\r\n\r\n");
                self.pieces = None;
            }
        }
        self.enter(Phase::Writing {
            until: now + WRITE_TIMEOUT,
            close,
        });
        true
    }
    // ANCHOR_END: next_piece

    // ANCHOR: written
    /// The answer is out: wait for the next request, or start closing.
    fn written(&mut self, close: bool, now: Instant) {
        self.out.clear();
        self.sent = 0;
        if close {
            // Stop sending, but keep reading for a moment (see `linger`).
            let _ = self.socket.shutdown_write();
            self.enter(Phase::Lingering {
                until: now + LINGER_TIMEOUT,
                discarded: 0,
            });
        } else {
            self.enter(Phase::Idle {
                until: now + IDLE_TIMEOUT,
            });
        }
    }
    // ANCHOR_END: written

    // ANCHOR: read_request
    /// One step towards the next request: use the bytes the reader holds,
    /// or read more.
    fn read_request(&mut self, server: &ServerWide, now: Instant) -> ControlFlow<Next> {
        let idle = matches!(self.phase, Phase::Idle { .. });
        if idle && server.shutdown.requested() && self.reader.is_empty() {
            return Break(Next::Close); // No request started: nobody loses.
        }
        if !self.reader.is_empty() {
            if idle {
                self.started = now;
                self.enter(Phase::Reading {
                    until: now + HEAD_TIMEOUT,
                    body: false,
                });
            }
            match self.reader.poll() {
                Err(err) => {
                    self.refuse(&err, server, now);
                    return Continue(());
                }
                Ok(Progress::Done(request)) => return self.handle(request, server, now),
                Ok(Progress::NeedBody { send_continue }) => {
                    self.body_started(now);
                    // ANCHOR: send_continue
                    if send_continue {
                        // The client waits for this before it sends the
                        // body: go round, so that the next step writes it
                        // before we wait for the body in turn.
                        self.out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                        return Continue(());
                    }
                    // ANCHOR_END: send_continue
                }
                Ok(Progress::NeedHead) => {}
            }
        }
        self.read_more(server, now)
    }
    // ANCHOR_END: read_request

    // ANCHOR: read_more
    /// The reader needs more bytes: read, if the socket may have some.
    fn read_more(&mut self, server: &ServerWide, now: Instant) -> ControlFlow<Next> {
        if !self.readable {
            return Break(Next::Wait);
        }
        match self.read_some() {
            Ok(0) if self.reader.is_empty() => Break(Next::Close), // Left between requests.
            Ok(0) => {
                self.refuse(&RequestError::Incomplete, server, now);
                Continue(())
            }
            Ok(_) => Continue(()),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                self.readable = false;
                Break(Next::Wait)
            }
            Err(_) => Break(Next::Close),
        }
    }
    // ANCHOR_END: read_more

    // ANCHOR: body_started
    /// The head is in and the body is not: the body gets a deadline of its
    /// own, from when its wait began.
    fn body_started(&mut self, now: Instant) {
        if let Phase::Reading { body: false, .. } = self.phase {
            self.enter(Phase::Reading {
                until: now + BODY_TIMEOUT,
                body: true,
            });
        }
    }
    // ANCHOR_END: body_started

    // ANCHOR: handle
    /// A whole request: route it, and queue the answer.
    fn handle(&mut self, request: Request, server: &ServerWide, now: Instant) -> ControlFlow<Next> {
        // ANCHOR: handle_may_wait
        // Answering here is faster: no hand-over, no thread to wake. But
        // while a handler runs, this event loop serves nobody else, so
        // only a handler that never waits may run here.
        if app::may_wait(&request) {
            self.enter(Phase::Handling);
            return Break(Next::Handle(request));
        }
        // ANCHOR_END: handle_may_wait
        let response = app::route_or_500(&request, &server.app);
        self.answer(&request, response, server, now);
        Continue(())
    }
    // ANCHOR_END: handle

    // ANCHOR: answer
    /// Queues the answer to `request` and logs it. The event loop calls
    /// this when a worker is done; [`advance`](Self::advance) writes it.
    pub fn answer(
        &mut self,
        request: &Request,
        response: Response,
        server: &ServerWide,
        now: Instant,
    ) {
        let response = server.app.policy.decorate(response);
        /* STAND-IN: keep_alive
        let keep_alive = false;
        */
        // ANCHOR: keep_alive
        let keep_alive = request.keep_alive() && !server.shutdown.requested();
        // ANCHOR_END: keep_alive
        // Whatever we answer to a HEAD, even a 405, has no body (RFC 9110,
        // section 9.3.2): the client will not read one, and on a kept-open
        // connection it would be read as the start of the next answer.
        let head_only = request.method == "HEAD";
        // ANCHOR: answer_pieces
        // A body in pieces goes out in chunks, and only an HTTP/1.1 client
        // may be sent those (RFC 9112, section 6.1): an HTTP/1.0 one learns
        // where the body ends from the close.
        let keep_alive =
            keep_alive && (response.pieces.is_none() || request.version == Version::Http11);
        // ANCHOR_END: answer_pieces
        let delivery = Delivery {
            keep_alive,
            head_only,
        };
        /* STAND-IN: log_line
        self.queue(response, delivery, "-", server, now);
        */
        // ANCHOR: log_line
        self.queue(response, delivery, request.line(), server, now);
        // ANCHOR_END: log_line
    }
    // ANCHOR_END: answer

    // ANCHOR: refuse
    /// Answers a request that could not be read (or served), then closes:
    /// after a broken request we cannot know where the next would start.
    pub fn refuse(&mut self, err: &RequestError, server: &ServerWide, now: Instant) {
        let response = server
            .app
            .policy
            .decorate(Response::error(err.status(), err.message()));
        let delivery = Delivery {
            keep_alive: false,
            head_only: false,
        };
        self.queue(response, delivery, "-", server, now);
    }

    // ANCHOR_END: refuse

    // ANCHOR: turn_away
    /// Answers 503 before reading anything, then closes: the server has as
    /// many connections as it takes (see `server.rs`). The close lingers
    /// like any other, so that the request the client sent meanwhile does
    /// not make the system reset the connection and destroy the 503.
    pub fn turn_away(&mut self, server: &ServerWide, now: Instant) {
        let response = server.app.policy.decorate(Response::busy());
        let delivery = Delivery {
            keep_alive: false,
            head_only: false,
        };
        self.queue(response, delivery, "-", server, now);
    }
    // ANCHOR_END: turn_away

    // ANCHOR: queue
    /// Puts `response` in the outgoing buffer, as `delivery` says, and
    /// logs it.
    fn queue(
        &mut self,
        response: Response,
        delivery: Delivery,
        line: impl Display,
        server: &ServerWide,
        now: Instant,
    ) {
        // ANCHOR: log_size
        let start = self.out.len();
        // ANCHOR_END: log_size
        self.out
            .extend_from_slice(&Response::resolve(&response, delivery.keep_alive));
        if delivery.head_only {
            // The body comes last; the headers, Content-Length included,
            // stay as they are.
            self.out.truncate(self.out.len() - response.body.len());
        }
        // ANCHOR: log_record
        // One access-log line per request: who, what, how it went, how
        // long. The log's own thread writes it, with others (access_log.rs).
        server.log.record(
            self.peer,
            line,
            response.status,
            self.out.len() - start,
            now.saturating_duration_since(self.started),
        );
        // ANCHOR_END: log_record
        self.enter(Phase::Writing {
            until: now + WRITE_TIMEOUT,
            close: !delivery.keep_alive,
        });
        // ANCHOR: queue_pieces
        if !delivery.head_only {
            // The rest of a body in pieces: `step` writes it, a piece a turn.
            self.pieces = response.pieces;
            self.chunked = delivery.keep_alive;
        }
        // ANCHOR_END: queue_pieces
    }
    // ANCHOR_END: queue

    // ANCHOR: deadline
    /// Called by the event loop every so often: whatever phase has
    /// overstayed its deadline ends here.
    pub fn check_deadline(&mut self, server: &ServerWide, now: Instant) -> Next {
        match self.phase {
            Phase::Idle { until } if now >= until => Next::Close,
            // The server is stopping: `read_request` closes the
            // connection, unless a request has just begun to arrive.
            Phase::Idle { .. } if server.shutdown.requested() => self.advance(server, now),
            Phase::Reading { until, .. } if now >= until => {
                self.refuse(&RequestError::TimedOut, server, now);
                self.advance(server, now)
            }
            Phase::Writing { until, .. } | Phase::Lingering { until, .. } if now >= until => {
                Next::Close
            }
            _ => Next::Wait,
        }
    }
    // ANCHOR_END: deadline

    // ANCHOR: flush
    /// Writes as much of `out` as the socket takes. An error means the
    /// connection is gone: the client reset it, or a write took nothing.
    fn flush(&mut self) -> io::Result<()> {
        while self.sent < self.out.len() {
            match self.socket.write(&self.out[self.sent..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.sent += n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }
    // ANCHOR_END: flush

    // ANCHOR: read_some
    /// One read, handed to the reader. `readable` stays set after it,
    /// even when the read did not fill the buffer: only a read that says
    /// `WouldBlock` clears it (in `read_more`). mio promises news again
    /// only after an operation said `WouldBlock` (its `Poll` docs,
    /// "Draining readiness"). Clearing the flag after a short read saves
    /// a system call per request, and works on Linux and macOS, but on
    /// Windows, where mio builds its news on IOCP, a connection that
    /// stopped there waited for ever (mio issue 1611).
    fn read_some(&mut self) -> io::Result<usize> {
        CHUNK.with_borrow_mut(|chunk| {
            loop {
                match self.socket.read(chunk) {
                    Ok(n) => {
                        self.reader.feed(&chunk[..n]);
                        return Ok(n);
                    }
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(err) => return Err(err),
                }
            }
        })
    }
    // ANCHOR_END: read_some

    // ANCHOR: linger
    /// Hangs up without destroying the last answer, as on day 2: our side
    /// is shut, and we read and discard what the client still sends, until
    /// it closes too, [`LINGER_TIMEOUT`] passes, or [`LINGER_LIMIT`] bytes
    /// have been thrown away. Closing a socket with unread bytes in it
    /// makes the system send a reset, and a reset can destroy an answer
    /// the client has not read yet.
    fn linger(&mut self, now: Instant) -> Next {
        let Phase::Lingering { until, discarded } = &mut self.phase else {
            return Next::Wait;
        };
        let mut sink = [0u8; 16 * 1024];
        loop {
            match self.socket.read(&mut sink) {
                Ok(0) => return Next::Close,
                Ok(n) => {
                    *discarded += n;
                    if *discarded >= LINGER_LIMIT || now >= *until {
                        return Next::Close;
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Next::Wait,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Next::Close,
            }
        }
    }
    // ANCHOR_END: linger
}

// ANCHOR: chunk
thread_local! {
    /// Where reads land before the reader takes them: one per event loop
    /// thread, zeroed once. A fresh `[0u8; 16 * 1024]` on the stack for
    /// every read would be zeroed for every request: the profile showed
    /// that `memset`.
    static CHUNK: RefCell<Vec<u8>> = RefCell::new(vec![0; 16 * 1024]);
}

// ANCHOR_END: chunk

#[cfg(test)]
mod tests;

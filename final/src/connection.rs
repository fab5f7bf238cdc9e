//! One connection, from its first byte to its close: keep-alive, pipelining,
//! timeouts, and the access log.
//!
//! Days 1 to 4 answered one request and hung up. Here a connection stays
//! open for as many requests as the client sends, which saves a TCP
//! handshake per request, and is what browsers and HTTP libraries expect.
//! The cost is that a connection now spends most of its life *waiting*, and
//! while it waits it holds a worker thread. Three rules keep that in check:
//! - an idle connection (before a request's first byte) is closed after
//!   [`IDLE_TIMEOUT`], or at once when the pool is crowded or the server is
//!   shutting down: it checks every [`IDLE_SLICE`];
//! - once a request has started, its head must arrive within
//!   [`HEAD_TIMEOUT`] and its body within [`BODY_TIMEOUT`], or it gets 408;
//! - a response to a client that is not reading must be written within
//!   [`WRITE_TIMEOUT`].

use std::fmt::Display;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::access_log::LogHandle;
use crate::reader::{Progress, RequestReader};
use crate::request::{Request, RequestError};
use crate::response::Response;
use crate::router::{self, App};
use crate::shutdown::Shutdown as ShutdownFlag;
use crate::thread_pool::Load;

// ANCHOR: timeouts
/// How long a kept-open connection may wait for its next request.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a waiting connection looks up to see whether it should give
/// way. Shorter means faster hand-over under load, longer means fewer
/// wake-ups; a tenth of a second is both quick and cheap.
pub const IDLE_SLICE: Duration = Duration::from_millis(100);
/// How long a client has to send a request's line and headers once it has
/// begun.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a client has to send a body once the headers are in.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long writing one response may take.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
// ANCHOR_END: timeouts

// ANCHOR: shared
/// What every connection shares: the app (the store, and who may be
/// served), how busy the pool is, and whether the server is stopping.
pub struct Shared {
    pub app: App,
    pub load: Arc<Load>,
    pub shutdown: ShutdownFlag,
    pub log: LogHandle,
}
// ANCHOR_END: shared

/// Why reading a request stopped without a request.
enum ReadFailure {
    /// The client made a mistake; answer it, then close.
    Answer(RequestError),
    /// There is nobody to answer: the client left, or the socket failed.
    Gone,
}

// ANCHOR: connection
/// A socket, and the reader that turns what arrives on it into requests.
///
/// A client may send its next request before we answer the current one
/// (HTTP pipelining), and one `read` may return the end of one request and
/// the start of the next. The reader keeps leftover bytes for the next
/// call to [`Connection::read_request`].
struct Connection {
    stream: TcpStream,
    peer: SocketAddr,
    reader: RequestReader,
    /// The read timeout the socket has now, so that it is set only when
    /// it changes (see [`Connection::set_read_timeout`]).
    read_timeout: Option<Duration>,
}
// ANCHOR_END: connection

// ANCHOR: serve
/// Serves `stream` until the client closes it or we decide to.
pub fn serve(stream: TcpStream, shared: &Shared) {
    let Ok(peer) = stream.peer_addr() else {
        return; // Already disconnected.
    };
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let mut connection = Connection {
        stream,
        peer,
        reader: RequestReader::new(),
        read_timeout: None,
    };

    loop {
        if !connection.wait_for_request(shared) {
            return;
        }
        let started = Instant::now();
        let request = match connection.read_request() {
            Ok(request) => request,
            Err(ReadFailure::Gone) => return,
            Err(ReadFailure::Answer(err)) => {
                // After a broken request we cannot know where the next one
                // would start, so we answer and close.
                let response = Response::error(err.status(), err.message());
                let response = shared.app.policy.decorate(response);
                connection.send(&response, false, false, "-", started, shared);
                connection.close_gracefully();
                return;
            }
        };
        // ANCHOR_END: serve

        // ANCHOR: serve_answer
        let response = shared
            .app
            .policy
            .decorate(route_or_500(&request, &shared.app));
        let keep_alive =
            request.keep_alive() && !shared.shutdown.requested() && !shared.load.crowded();
        // Whatever we answer to a HEAD, even a 405, has no body (RFC 9110,
        // section 9.3.2): the client will not read one, and on a kept-open
        // connection it would be read as the start of the next answer.
        let head_only = request.method == "HEAD";
        let line = request.line();
        if !connection.send(&response, keep_alive, head_only, line, started, shared) || !keep_alive
        {
            connection.close_gracefully();
            return;
        }
    }
}
// ANCHOR_END: serve_answer

/// Runs the router, turning a panic into a 500, as on day 4.
fn route_or_500(request: &Request, app: &App) -> Response {
    panic::catch_unwind(AssertUnwindSafe(|| router::route(request, app)))
        .unwrap_or_else(|_| Response::error(500, "the handler panicked; see the server log"))
}

impl Connection {
    // ANCHOR: wait_for_request
    /// Waits for the first byte of the next request. Returns `false` when
    /// the connection should close instead: the client left, stayed idle
    /// too long, the pool needs this thread for someone else, or the server
    /// is shutting down.
    ///
    /// It waits in slices of [`IDLE_SLICE`], and looks up only after a
    /// slice in which nothing arrived. So every connection, even one
    /// accepted in a rush, has a fair chance to send its request before it
    /// is asked to give way.
    fn wait_for_request(&mut self, shared: &Shared) -> bool {
        if !self.reader.is_empty() {
            return true; // A pipelined request is already here.
        }
        let give_up = Instant::now() + IDLE_TIMEOUT;
        loop {
            let left = give_up.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            match self.read_more(left.min(IDLE_SLICE)) {
                Ok(0) => return false,
                Ok(_) => return true,
                Err(err) if is_timeout(&err) => {
                    if shared.shutdown.requested() || shared.load.crowded() {
                        return false;
                    }
                }
                Err(_) => return false,
            }
        }
    }
    // ANCHOR_END: wait_for_request

    // ANCHOR: read_request
    /// Reads one whole request, starting with what the reader already
    /// holds: the head within [`HEAD_TIMEOUT`], then the body within
    /// [`BODY_TIMEOUT`].
    fn read_request(&mut self) -> Result<Request, ReadFailure> {
        let mut deadline = Instant::now() + HEAD_TIMEOUT;
        let mut reading_body = false;
        loop {
            match self.reader.poll().map_err(ReadFailure::Answer)? {
                Progress::Done(request) => return Ok(request),
                Progress::NeedHead => {}
                Progress::NeedBody { send_continue } => {
                    if !reading_body {
                        reading_body = true;
                        deadline = Instant::now() + BODY_TIMEOUT;
                    }
                    // The client waits for a go-ahead before it sends
                    // the body: say "go on" (RFC 9110, section 10.1.1).
                    if send_continue {
                        self.stream
                            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                            .map_err(|_| ReadFailure::Gone)?;
                    }
                }
            }
            self.read_before(deadline)?;
        }
    }
    // ANCHOR_END: read_request

    /// One read, giving up at `deadline`. The client closing mid-request
    /// is a 400; the deadline passing is a 408.
    fn read_before(&mut self, deadline: Instant) -> Result<(), ReadFailure> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ReadFailure::Answer(RequestError::TimedOut));
        }
        match self.read_more(left) {
            Ok(0) => Err(ReadFailure::Answer(RequestError::Incomplete)),
            Ok(_) => Ok(()),
            Err(err) if is_timeout(&err) => Err(ReadFailure::Answer(RequestError::TimedOut)),
            Err(_) => Err(ReadFailure::Gone),
        }
    }

    /// Hands whatever arrives within `timeout` to the reader.
    fn read_more(&mut self, timeout: Duration) -> io::Result<usize> {
        self.set_read_timeout(timeout)?;
        let mut chunk = [0u8; 8 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(n) => {
                    self.reader.feed(&chunk[..n]);
                    return Ok(n);
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            }
        }
    }

    // ANCHOR: set_read_timeout
    /// Sets the socket's read timeout, unless it already is `timeout`.
    ///
    /// Each wait for a request reads in slices of [`IDLE_SLICE`], so
    /// nearly every read asks for the timeout the last one had; setting it
    /// again anyway cost a `setsockopt` system call per request. Deadlines
    /// that shrink (a head, a body) still set it each time: a longer
    /// timeout than the time left would let a client overstay.
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        if self.read_timeout != Some(timeout) {
            self.stream.set_read_timeout(Some(timeout))?;
            self.read_timeout = Some(timeout);
        }
        Ok(())
    }
    // ANCHOR_END: set_read_timeout

    /// Writes `response` (only its head, with `head_only`) and logs it.
    /// Returns `false` if writing failed.
    fn send(
        &mut self,
        response: &Response,
        keep_alive: bool,
        head_only: bool,
        line: impl Display,
        started: Instant,
        shared: &Shared,
    ) -> bool {
        let mut bytes = Response::resolve(response, keep_alive);
        if head_only {
            // The body comes last; the headers, Content-Length included,
            // stay as they are.
            bytes.truncate(bytes.len() - response.body.len());
        }
        let written = self.stream.write_all(&bytes);
        // One access-log line per request: who, what, how it went, how
        // long. The log's own thread writes it, with others (access_log.rs).
        shared.log.record(
            self.peer,
            line,
            response.status,
            bytes.len(),
            started.elapsed(),
        );
        written.is_ok()
    }

    /// Hangs up without destroying the last answer, as on day 2: stop
    /// sending, then discard what the client still sends, briefly.
    fn close_gracefully(mut self) {
        if self.stream.shutdown(Shutdown::Write).is_err() {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut discarded = 0;
        let mut sink = [0u8; 8 * 1024];
        while discarded < 2 * 1024 * 1024 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.set_read_timeout(left).is_err() {
                return;
            }
            match self.stream.read(&mut sink) {
                Ok(0) | Err(_) => return,
                Ok(n) => discarded += n,
            }
        }
    }
}

/// What a read timeout looks like: `WouldBlock` on Unix, `TimedOut` on
/// Windows.
fn is_timeout(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

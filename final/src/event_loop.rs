//! The event loop: one thread, many connections.
//!
//! The standard library can wait on one socket at a time, so days 1 to 4
//! gave every connection a thread to wait in. With keep-alive, most
//! connections wait most of the time, and a thread each costs a stack per
//! connection and a switch between threads per request (the book's
//! appendix of designs measured and dropped has the figures). The
//! operating system can do better: `epoll` on Linux,
//! `kqueue` on macOS and the BSDs, and IOCP on Windows each take a whole
//! set of sockets and report which of them have news. mio is the small,
//! well-kept crate over all three that tokio is built on; we use it
//! directly, with no async runtime.
//!
//! Each loop owns some of the connections. It waits until one of them has
//! news (or a worker has finished an answer, or it is time to check the
//! deadlines), lets each connection [`advance`](Connection::advance) as
//! far as it can without waiting, and waits again:
//!
//! ```text
//!  accept ──▶ inbox ──▶ ┌ event loop 0 ┐ ◀── news on any of its sockets
//!                       │  connection 0 │
//!   worker ── answer ─▶ │  connection 1 │ ── requests that may wait ──▶ workers
//!                       │  …            │
//!                       └───────────────┘
//! ```

// ANCHOR: uses
use std::io::{self, Write as _};
use std::mem;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::connection::{Connection, Next, ServerWide};
use crate::slots::{Key, Slots};
use crate::thread_pool::ThreadPool;
// ANCHOR_END: uses
// ANCHOR: worker_uses
use crate::app::route_or_500;
use crate::http::request::Request;
use crate::http::response::Response;
// ANCHOR_END: worker_uses

// ANCHOR: sweep_every
/// How often a loop looks for connections past their deadlines. The
/// deadlines are seconds long, so a tenth of a second late is close
/// enough, and a loop with nothing to do wakes ten times a second.
pub const SWEEP_EVERY: Duration = Duration::from_millis(100);
// ANCHOR_END: sweep_every

// ANCHOR: yield_after
/// After a batch of at least this many events, or once [`GIVE_WAY_EVERY`]
/// has passed since it last did, a loop hands its core over
/// (`thread::yield_now`) before it waits again.
///
/// A loop that always has news has no time to sleep in `poll`, and the
/// system then takes its core away at a moment of its own choosing, for a
/// whole time slice, with every connection of the loop waiting for its
/// answer. Giving way between batches, when no connection is half
/// served, makes the pauses short and regular instead. A big batch gives
/// way at once. Small batches that never stop coming (a few busy clients
/// on a machine whose cores they share) give way once a millisecond:
/// giving way after every small batch costs more than it saves. Both
/// numbers are measured, not derived: the benchmark chapter ("Round two:
/// the event loop", and "Against axum and tiny_http") has the figures.
pub const YIELD_AFTER: usize = 16;
pub const GIVE_WAY_EVERY: Duration = Duration::from_millis(1);
// ANCHOR_END: yield_after

// ANCHOR: waker
/// The token the [`Waker`] reports with; connections use their places'
/// numbers ([`Key::index`]), which never get this large.
const WAKER: Token = Token(usize::MAX);
// ANCHOR_END: waker

// ANCHOR: message
/// What other threads tell an event loop.
pub enum Message {
    /// A new connection, from the accept loop, counted among the open
    /// ones.
    Connect(TcpStream, Counted),
    /// A connection past the server's limit: answer 503 and close it
    /// (see `Connection::turn_away`).
    TurnAway(TcpStream),
    // ANCHOR: message_answer
    /// A worker's answer (boxed: a request and a response are large, and
    /// every message would otherwise take their size).
    Answer(Box<Answer>),
    // ANCHOR_END: message_answer
    /// No more connections will come: finish the ones you have, then stop.
    Stop,
}
// ANCHOR_END: message

// ANCHOR: answer
/// The answer to the request of the connection `key`.
pub struct Answer {
    key: Key,
    request: Request,
    response: Response,
}
// ANCHOR_END: answer

// ANCHOR: pending
/// A request on its way to a worker, and where its answer goes.
///
/// If the job is dropped without running (the pool had no thread for it,
/// because the system refused one), dropping this answers 503 instead: a
/// connection waiting for a worker has no deadline, and must not wait for
/// an answer that will never come.
struct Pending {
    key: Key,
    request: Option<Request>,
    inbox: Arc<Inbox>,
}

impl Pending {
    fn answer(mut self, handle: impl FnOnce(&Request) -> Response) {
        if let Some(request) = self.request.take() {
            let response = handle(&request);
            self.post(request, response);
        }
    }

    fn post(&self, request: Request, response: Response) {
        let key = self.key;
        let answer = Answer {
            key,
            request,
            response,
        };
        self.inbox.send(Message::Answer(Box::new(answer)));
    }
}

// ANCHOR_END: pending

// ANCHOR: pending_drop
impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(request) = self.request.take() {
            self.post(request, Response::busy());
        }
    }
}
// ANCHOR_END: pending_drop

// ANCHOR: inbox
/// Messages for one loop, and the [`Waker`] that interrupts its wait.
pub struct Inbox {
    messages: Mutex<Vec<Message>>,
    waker: Waker,
}

impl Inbox {
    /// Leaves `message` for the loop, and wakes it if it was not already
    /// woken: a loop that has not yet taken the earlier messages will take
    /// this one with them.
    pub fn send(&self, message: Message) {
        let mut messages = self.messages.lock().unwrap_or_else(PoisonError::into_inner);
        let was_empty = messages.is_empty();
        messages.push(message);
        drop(messages);
        if was_empty && let Err(err) = self.waker.wake() {
            eprintln!("event loop: cannot wake the loop: {err}");
        }
    }

    fn take(&self) -> Vec<Message> {
        mem::take(&mut *self.messages.lock().unwrap_or_else(PoisonError::into_inner))
    }
}
// ANCHOR_END: inbox

// ANCHOR: counted
/// A connection's place in the count of open connections, which the
/// accept loop holds to its limit. The accept loop makes one for each
/// connection it lets in, and the event loop keeps it with the
/// connection; dropping it takes the connection off the count, so no way
/// a connection can end forgets to.
pub struct Counted(Arc<AtomicUsize>);

impl Counted {
    pub fn new(open: &Arc<AtomicUsize>) -> Counted {
        open.fetch_add(1, Ordering::SeqCst);
        Counted(Arc::clone(open))
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
// ANCHOR_END: counted

// ANCHOR: loop_handle
/// A running event loop, as the accept loop sees it.
pub struct LoopHandle {
    inbox: Arc<Inbox>,
    thread: Option<JoinHandle<()>>,
}
// ANCHOR_END: loop_handle

// ANCHOR: loop_start
impl LoopHandle {
    /// Starts loop number `id`. Requests that may wait go to `workers`.
    pub fn start(
        id: usize,
        server: Arc<ServerWide>,
        workers: Arc<Mutex<ThreadPool>>,
    ) -> io::Result<LoopHandle> {
        let poll = Poll::new()?;
        let inbox = Arc::new(Inbox {
            messages: Mutex::new(Vec::new()),
            waker: Waker::new(poll.registry(), WAKER)?,
        });
        let event_loop = EventLoop {
            poll,
            inbox: Arc::clone(&inbox),
            clients: Slots::default(),
            server,
            workers,
            stopping: false,
            again: Vec::new(),
        };
        let thread = thread::Builder::new()
            .name(format!("event-loop-{id}"))
            .spawn(move || event_loop.run())?;
        Ok(LoopHandle {
            inbox,
            thread: Some(thread),
        })
    }

    pub fn send(&self, message: Message) {
        self.inbox.send(message);
    }
}
// ANCHOR_END: loop_start

// ANCHOR: loop_drop
impl Drop for LoopHandle {
    /// Tells the loop to stop, and waits until its connections are done.
    /// Every phase but `Handling` has a deadline, and handlers are
    /// bounded, so the wait is too.
    fn drop(&mut self) {
        self.inbox.send(Message::Stop);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            let _ = writeln!(io::stderr(), "an event loop panicked");
        }
    }
}
// ANCHOR_END: loop_drop

// ANCHOR: event_loop
/// One loop's state: its connections, each with its [`Key`].
struct EventLoop {
    poll: Poll,
    inbox: Arc<Inbox>,
    /// The connections, found by key; a key's number is its socket's
    /// [`Token`] (see `slots.rs` for why a number alone is not enough).
    clients: Slots<Client>,
    server: Arc<ServerWide>,
    workers: Arc<Mutex<ThreadPool>>,
    /// Whether [`Message::Stop`] has come.
    stopping: bool,
    /// Connections that had more to do when their turn ended
    /// ([`Next::Again`]): they go again after the next batch.
    again: Vec<Key>,
}

/// A connection, counted among the open ones for as long as it is here
/// (all but those turned away, which were never let in).
struct Client {
    connection: Connection,
    _counted: Option<Counted>,
}
// ANCHOR_END: event_loop

impl EventLoop {
    // ANCHOR: run
    fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let mut next_sweep = Instant::now() + SWEEP_EVERY;
        let mut gave_way = Instant::now();
        loop {
            // With connections waiting for another turn, only look for news.
            let timeout = if self.again.is_empty() {
                next_sweep.saturating_duration_since(Instant::now())
            } else {
                Duration::ZERO
            };
            if let Err(err) = self.poll.poll(&mut events, Some(timeout))
                && err.kind() != io::ErrorKind::Interrupted
            {
                // Not seen in practice. Leaving the loop would strand its
                // connections and its inbox, so pause, and try again.
                eprintln!("event loop: waiting failed: {err}");
                thread::sleep(SWEEP_EVERY);
                continue;
            }
            // One look at the clock per batch: deadlines are seconds long.
            let now = Instant::now();
            // Whoever ends their turn in this round goes again in the next.
            let turns = mem::take(&mut self.again);
            for event in &events {
                // The waker's token finds no connection: its news is the
                // inbox, below. A socket's news is always for the
                // connection in its place now: closing one stops its
                // events.
                let Some(key) = self.clients.key_at(event.token().0) else {
                    continue;
                };
                let news = event.is_readable() || event.is_read_closed() || event.is_error();
                if news && let Some(client) = self.clients.get_mut(key) {
                    client.connection.mark_readable();
                }
                self.drive(key, now, Connection::advance);
            }
            // ANCHOR_END: run
            // ANCHOR: run_rest
            if events.iter().count() >= YIELD_AFTER || now >= gave_way + GIVE_WAY_EVERY {
                thread::yield_now();
                gave_way = now;
            }
            for message in self.inbox.take() {
                self.receive(message, now);
            }
            for key in turns {
                self.drive(key, now, Connection::advance);
            }
            // ANCHOR: sweep
            if now >= next_sweep || self.server.shutdown.requested() {
                for key in self.clients.keys() {
                    self.drive(key, now, Connection::check_deadline);
                }
                next_sweep = now + SWEEP_EVERY;
            }
            // ANCHOR_END: sweep
            if self.stopping && self.clients.is_empty() {
                break;
            }
        }
    }
    // ANCHOR_END: run_rest

    // ANCHOR: receive
    fn receive(&mut self, message: Message, now: Instant) {
        match message {
            Message::Connect(stream, counted) => self.connect(stream, Some(counted), now),
            Message::TurnAway(stream) => self.connect(stream, None, now),
            // ANCHOR: receive_answer
            Message::Answer(answer) => {
                let Answer {
                    key,
                    request,
                    response,
                } = *answer;
                self.drive(key, now, |connection, server, now| {
                    connection.answer(&request, response, server, now);
                    connection.advance(server, now)
                });
            }
            // ANCHOR_END: receive_answer
            Message::Stop => self.stopping = true,
        }
    }
    // ANCHOR_END: receive

    // ANCHOR: connect
    /// Registers a new connection: from now on, `poll` reports its news.
    /// Both directions are watched from the start, so that a client that
    /// stops reading does not need a second registration later.
    fn connect(&mut self, stream: TcpStream, counted: Option<Counted>, now: Instant) {
        let Ok(peer) = stream.peer_addr() else {
            return; // Gone before we could look at it.
        };
        let mut connection = Connection::new(stream, peer, now);
        if counted.is_none() {
            connection.turn_away(&self.server, now);
        }
        let key = self.clients.insert(Client {
            connection,
            _counted: counted,
        });
        let interest = Interest::READABLE | Interest::WRITABLE;
        let registered = match self.clients.get_mut(key) {
            Some(client) => self.poll.registry().register(
                client.connection.socket(),
                Token(key.index()),
                interest,
            ),
            None => return,
        };
        if let Err(err) = registered {
            eprintln!("event loop: cannot watch a new connection: {err}");
            self.clients.remove(key);
            return;
        }
        self.drive(key, now, Connection::advance);
    }
    // ANCHOR_END: connect

    // ANCHOR: drive
    /// Lets the connection `key` do `step`, then carries out what it asks
    /// for.
    fn drive(
        &mut self,
        key: Key,
        now: Instant,
        step: impl FnOnce(&mut Connection, &ServerWide, Instant) -> Next,
    ) {
        let Some(client) = self.clients.get_mut(key) else {
            return; // Closed already: a key can outlive its connection.
        };
        match step(&mut client.connection, &self.server, now) {
            Next::Wait => {}
            Next::Again => self.again.push(key),
            // ANCHOR: drive_handle
            Next::Handle(request) => self.hand_over(key, request, now),
            // ANCHOR_END: drive_handle
            Next::Close => self.close(key),
        }
    }
    // ANCHOR_END: drive

    // ANCHOR: hand_over
    /// Sends a request that may wait to a worker thread, which answers it
    /// and posts the answer back to this loop's inbox. With every worker
    /// busy and the queue full, the answer is 503, at once.
    fn hand_over(&mut self, key: Key, request: Request, now: Instant) {
        let mut workers = self.workers.lock().unwrap_or_else(PoisonError::into_inner);
        if !workers.has_room() {
            drop(workers);
            return self.drive(key, now, |connection, server, now| {
                connection.answer(&request, Response::busy(), server, now);
                connection.advance(server, now)
            });
        }
        let server = Arc::clone(&self.server);
        let pending = Pending {
            key,
            request: Some(request),
            inbox: Arc::clone(&self.inbox),
        };
        workers.execute(move || pending.answer(|request| route_or_500(request, &server.app)));
    }
    // ANCHOR_END: hand_over

    // ANCHOR: close
    /// Closes the connection `key`: dropping it closes its socket, and
    /// takes it off the count of open connections.
    fn close(&mut self, key: Key) {
        if let Some(mut client) = self.clients.remove(key) {
            // Closing the socket would stop its events anyway; saying so
            // first is what mio asks for, and portable.
            let _ = self.poll.registry().deregister(client.connection.socket());
        }
    }
    // ANCHOR_END: close
}

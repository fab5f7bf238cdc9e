//! The floor: what serving HTTP/1.1 costs at the least on this machine,
//! the reference `bench --peers` measures the final server against.
//!
//! What it does: it reads each connection's bytes, finds the end of every
//! request head (the next `\r\n\r\n`), and for each head writes one fixed,
//! complete response: `200 OK`, `Content-Type: application/json`,
//! `Content-Length: 27` and the body `{"message":"Hello, World!"}`, the
//! bytes the final server puts in its `GET /hello` body. Connections stay
//! open until the client closes them (HTTP/1.1's default). Heads that
//! arrive together (pipelined) are answered together, in one write.
//!
//! What it does not do, on purpose, so that what is left is the cost of
//! the sockets and the event loop:
//! - no parsing: the method, the path, the version and the headers are
//!   never looked at. Every request gets the same answer, `GET /todos/1`
//!   and `GET /nowhere` alike, and `Connection: close` is ignored.
//! - no `Date` header, which a server with a clock must send (RFC 9110,
//!   section 6.6.1). The final server sends one, and pays for it.
//! - no bodies: the bytes after a head are taken for the next head, so a
//!   request with a body is misread. The benchmark sends the floor only
//!   GETs; it does not create its to-do there, and has no slow-handler
//!   point for it, since the floor would answer `/sleep` at once.
//! - no limits and no timeouts: a head longer than [`READ_BUFFER`] closes
//!   the connection without an answer (no 431), and an idle connection
//!   stays open for as long as the client keeps it.
//! - no fairness: a client that keeps sending keeps its loop busy.
//!
//! How: one event loop per core, each a mio `Poll` on a thread of its own
//! with a listener of its own, all bound to the same port with
//! `SO_REUSEPORT`, so that the kernel deals new connections out among
//! the loops. The other way, one acceptor handing connections to the
//! loops, costs a channel send and a wake-up (a system call) per
//! connection and one more thread on a two-core machine; with a listener
//! each, no loop ever talks to another. The price: the kernel deals by a
//! hash of the client's address and port, not by load, so 16 connections
//! may be split 10 and 6.
//!
//! Each connection has a read buffer of fixed size, allocated once when
//! it is accepted, and a count of response bytes still owed. Nothing is
//! allocated per request: the response is a constant, and N answers are
//! one `write_vectored` of N slices of it.
//!
//! It keeps the stage contract, so the benchmark starts it like a stage:
//! `127.0.0.1:$PORT` (5000 by default, 0 for a free port), and a first
//! line `Listening on http://ADDR`. Unix only, like `SO_REUSEPORT`.

#![forbid(unsafe_code)]

use std::io::{self, IoSlice, Read, Write};
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::thread;

use mio::event::Event;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Registry, Token};
use socket2::{Domain, Socket, Type};

/// The one answer, to every head.
const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
Content-Type: application/json\r\n\
Content-Length: 27\r\n\
\r\n\
{\"message\":\"Hello, World!\"}";

/// Where a request head ends: an empty line.
const HEAD_END: &[u8] = b"\r\n\r\n";

/// Bytes of one connection's unanswered head. wrk's heads are under 100
/// bytes and a browser's under 2 KiB; the final server allows 8 KiB, but
/// the floor has no reason to hold more than the benchmark sends.
const READ_BUFFER: usize = 4096;

/// Answers handed to one `write_vectored`, as slices on the stack. More
/// pipelined heads than this take more than one write.
const SLICES: usize = 64;

/// Connections the kernel may queue for each listener before the loop
/// accepts them, as the final server asks for (Linux caps it at
/// `net.core.somaxconn`). The default of `TcpListener::bind`, 128, drops
/// handshakes when 2,048 clients connect at once.
const BACKLOG: i32 = 4096;

/// The listener's token. A connection's token never reaches it: that
/// would take 2^32 - 1 slots.
const LISTENER: Token = Token(usize::MAX);

// A token packs a slot and its generation into 32 bits each.
const _: () = assert!(usize::BITS == 64, "tokens need 64 bits");

fn main() {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(5000);
    let loops = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let listeners = match listeners(SocketAddr::from(([127, 0, 0, 1], port)), loops) {
        Ok(listeners) => listeners,
        Err(err) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {err}");
            std::process::exit(1);
        }
    };
    if let Some(Ok(addr)) = listeners.first().map(TcpListener::local_addr) {
        println!("Listening on http://{addr}");
        let _ = io::stdout().flush();
    }
    // The main thread runs the last loop. A loop that fails ends the
    // process: its listener would go on taking connections nobody serves.
    let mut listeners = listeners;
    let own = listeners.pop();
    for listener in listeners {
        thread::spawn(move || exit_on_error(serve_forever(listener)));
    }
    if let Some(listener) = own {
        exit_on_error(serve_forever(listener));
    }
}

fn exit_on_error(result: io::Result<()>) {
    if let Err(err) = result {
        eprintln!("event loop failed: {err}");
        std::process::exit(1);
    }
}

/// `count` listeners on `addr`, all on the port the first one got (the
/// one the kernel picked, for port 0).
///
/// `SO_REUSEPORT` has a trap: on a fixed port, a second floor started by
/// the same user joins the first one's group instead of failing with
/// "address in use", and the kernel deals connections to both. The
/// benchmark asks for port 0, which is always fresh.
fn listeners(addr: SocketAddr, count: usize) -> io::Result<Vec<TcpListener>> {
    let first = listen(addr)?;
    let bound = first.local_addr()?;
    let mut all = vec![first];
    for _ in 1..count {
        all.push(listen(bound)?);
    }
    Ok(all)
}

/// A non-blocking listener on `addr` that shares the port with the other
/// loops' (`SO_REUSEPORT`), with a backlog of [`BACKLOG`].
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(TcpListener::from_std(socket.into()))
}

/// One event loop: accepts from `listener` and serves what it accepted,
/// until `poll` itself fails.
fn serve_forever(mut listener: TcpListener) -> io::Result<()> {
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut events = Events::with_capacity(1024);
    let mut connections = Connections::default();
    loop {
        match poll.poll(&mut events, None) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        }
        for event in &events {
            if event.token() == LISTENER {
                accept_all(&listener, poll.registry(), &mut connections);
                continue;
            }
            // None: an event for a connection closed earlier in this batch.
            let Some(connection) = connections.get_mut(event.token()) else {
                continue;
            };
            if let Next::Close = connection.serve(event)
                && let Some(mut closed) = connections.remove(event.token())
            {
                let _ = poll.registry().deregister(&mut closed.stream);
            }
        }
    }
}

/// Accepts until the listener says `WouldBlock`, as mio's readiness asks.
fn accept_all(listener: &TcpListener, registry: &Registry, connections: &mut Connections) {
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                // Answers go out whole in one write; Nagle's algorithm
                // would only hold back the tail of a write that the socket
                // took in part.
                let _ = stream.set_nodelay(true);
                let token = connections.insert(Connection::new(stream));
                // Both at once, so that a blocked write never costs a
                // `reregister`. Edge-triggered: one event per change.
                let interest = Interest::READABLE | Interest::WRITABLE;
                let registered = connections
                    .get_mut(token)
                    .map(|connection| registry.register(&mut connection.stream, token, interest));
                if !matches!(registered, Some(Ok(()))) {
                    connections.remove(token);
                }
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => {
                // Out of descriptors, say. The connection waits in the
                // backlog until the next one wakes this loop.
                eprintln!("cannot accept: {err}");
                return;
            }
        }
    }
}

/// What a connection wants after an event.
enum Next {
    /// More readiness: the socket said `WouldBlock`, or a short read
    /// emptied it.
    Wait,
    /// Done: the client closed or broke it, or sent a head too long.
    Close,
}

/// One client's connection.
struct Connection {
    stream: TcpStream,
    heads: Heads,
    /// Response bytes not yet written: whole answers, and the tail of the
    /// one a write took in part.
    owed: usize,
    /// The client has closed its side: answer what is owed, then close.
    client_done: bool,
}

impl Connection {
    fn new(stream: TcpStream) -> Connection {
        Connection {
            stream,
            heads: Heads::new(),
            owed: 0,
            client_done: false,
        }
    }

    /// Writes what is owed, reads, answers the heads it completed, and so
    /// on until the socket has nothing more to give or take.
    fn serve(&mut self, event: &Event) -> Next {
        // A short read only proves the socket empty if the client has not
        // also closed: a close that came with the data is in this event,
        // and no later event would tell of it.
        let hang_up = event.is_read_closed() || event.is_error();
        loop {
            match self.flush() {
                Ok(true) => {}
                Ok(false) => return Next::Wait,
                Err(_) => return Next::Close,
            }
            if self.client_done {
                return Next::Close;
            }
            let free = self.heads.free();
            let room = free.len();
            if room == 0 {
                return Next::Close;
            }
            match self.stream.read(free) {
                Ok(0) => self.client_done = true,
                Ok(read) => {
                    self.owed += self.heads.complete(read) * RESPONSE.len();
                    // The socket had no more than it gave: on Linux, new
                    // bytes will bring a new event, so the `read` that
                    // would say `WouldBlock` is a system call saved.
                    if read < room && !hang_up {
                        return match self.flush() {
                            Ok(_) => Next::Wait,
                            Err(_) => Next::Close,
                        };
                    }
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Next::Wait,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Next::Close,
            }
        }
    }

    /// Writes owed answers until none is left (`Ok(true)`) or the socket
    /// is full (`Ok(false)`: a writable event comes when it has room).
    fn flush(&mut self) -> io::Result<bool> {
        while self.owed > 0 {
            // The owed bytes end where an answer ends, so the first of
            // them is this far into one.
            let len = RESPONSE.len();
            let into = (len - self.owed % len) % len;
            let mut slices = [IoSlice::new(&[]); SLICES];
            slices[0] = IoSlice::new(&RESPONSE[into..]);
            let mut used = 1;
            let mut left = self.owed - (len - into);
            while left > 0 && used < SLICES {
                slices[used] = IoSlice::new(RESPONSE);
                left -= len;
                used += 1;
            }
            match self.stream.write_vectored(&slices[..used]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(written) => self.owed -= written,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        Ok(true)
    }
}

/// A connection's read buffer: at most one unfinished head, at the front.
struct Heads {
    buffer: Box<[u8]>,
    /// Bytes of `buffer` in use.
    filled: usize,
    /// How much of them was searched for [`HEAD_END`] without finding it.
    searched: usize,
}

impl Heads {
    fn new() -> Heads {
        Heads {
            buffer: vec![0; READ_BUFFER].into_boxed_slice(),
            filled: 0,
            searched: 0,
        }
    }

    /// Where the next read goes. Empty when one head fills the buffer.
    fn free(&mut self) -> &mut [u8] {
        &mut self.buffer[self.filled..]
    }

    /// Takes in `read` new bytes at [`free`](Heads::free), and returns
    /// how many heads they complete. The start of an unfinished head moves
    /// to the front.
    fn complete(&mut self, read: usize) -> usize {
        self.filled += read;
        // An end may straddle two reads: back up three bytes.
        let mut from = self.searched.saturating_sub(HEAD_END.len() - 1);
        let mut next_head = 0;
        let mut count = 0;
        while let Some(at) = self.buffer[from..self.filled]
            .windows(HEAD_END.len())
            .position(|window| window == HEAD_END)
        {
            count += 1;
            next_head = from + at + HEAD_END.len();
            from = next_head;
        }
        self.buffer.copy_within(next_head..self.filled, 0);
        self.filled -= next_head;
        self.searched = self.filled;
        count
    }
}

/// The connections of one loop. A token is a slot and that slot's
/// generation, so that an event for a closed connection finds nothing,
/// rather than the connection that took its slot in the same batch.
#[derive(Default)]
struct Connections {
    slots: Vec<Slot>,
    /// Slots with no connection, to use before growing `slots`.
    free: Vec<usize>,
}

#[derive(Default)]
struct Slot {
    generation: u32,
    connection: Option<Connection>,
}

impl Connections {
    /// Keeps `connection`, and returns its token.
    fn insert(&mut self, connection: Connection) -> Token {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.slots.push(Slot::default());
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[index];
        slot.connection = Some(connection);
        Token(((slot.generation as usize) << 32) | index)
    }

    fn get_mut(&mut self, token: Token) -> Option<&mut Connection> {
        let (index, generation) = (token.0 & 0xFFFF_FFFF, (token.0 >> 32) as u32);
        let slot = self.slots.get_mut(index)?;
        if slot.generation != generation {
            return None;
        }
        slot.connection.as_mut()
    }

    /// Takes the connection of `token` out; its slot gets a new
    /// generation, so `token` finds nothing from now on.
    fn remove(&mut self, token: Token) -> Option<Connection> {
        self.get_mut(token)?;
        let index = token.0 & 0xFFFF_FFFF;
        let slot = &mut self.slots[index];
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        slot.connection.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_length_is_the_body_s() {
        let text = std::str::from_utf8(RESPONSE).expect("ASCII");
        let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
        let length = head
            .lines()
            .find_map(|line| line.strip_prefix("Content-Length: "))
            .and_then(|length| length.parse::<usize>().ok());
        assert_eq!(length, Some(body.len()));
    }

    /// Counts the heads in `bytes` fed to [`Heads`] in pieces of `step`.
    fn heads_in(bytes: &[u8], step: usize) -> usize {
        let mut heads = Heads::new();
        let mut count = 0;
        for piece in bytes.chunks(step) {
            heads.free()[..piece.len()].copy_from_slice(piece);
            count += heads.complete(piece.len());
        }
        count
    }

    #[test]
    fn the_same_heads_whole_or_byte_by_byte() {
        let two = b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /todos/1 HTTP/1.1\r\n\r\n";
        for step in [two.len(), 1, 2, 3, 5, 7] {
            assert_eq!(heads_in(two, step), 2, "in pieces of {step}");
        }
        let unfinished = b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\n\r";
        for step in [unfinished.len(), 1, 4] {
            assert_eq!(heads_in(unfinished, step), 1, "in pieces of {step}");
        }
    }

    #[test]
    fn an_unfinished_head_moves_to_the_front() {
        let mut heads = Heads::new();
        let bytes = b"GET / HTTP/1.1\r\n\r\nGET /b";
        heads.free()[..bytes.len()].copy_from_slice(bytes);
        assert_eq!(heads.complete(bytes.len()), 1);
        assert_eq!(&heads.buffer[..heads.filled], b"GET /b");
    }

    #[test]
    fn a_stale_token_finds_nothing() -> io::Result<()> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let stream = || -> io::Result<Connection> {
            let client = std::net::TcpStream::connect(listener.local_addr()?)?;
            Ok(Connection::new(TcpStream::from_std(client)))
        };
        let mut connections = Connections::default();
        let old = connections.insert(stream()?);
        assert!(connections.remove(old).is_some());
        // The same slot, another generation.
        let new = connections.insert(stream()?);
        assert_ne!(new, old);
        assert!(connections.get_mut(old).is_none());
        assert!(connections.remove(old).is_none());
        assert!(connections.get_mut(new).is_some());
        Ok(())
    }
}

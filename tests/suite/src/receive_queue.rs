//! Has the server read what we sent? Where the platform lets us see it.
//!
//! A check that sends a request in pieces wants the server's `read` to
//! return between two pieces: that is the whole point of `day2-split-writes`
//! and `day2-body-late`, which catch a server that takes one short read for
//! the whole request. A fixed pause only makes that likely. On a busy
//! machine the server may not be scheduled for a while, find every piece
//! already waiting, and read them in one go, and then the check proves
//! nothing about it.
//!
//! Linux shows, for every TCP socket, how many received bytes its program
//! has not read yet (`rx_queue` in `/proc/net/tcp`). Both ends of a
//! loopback connection are in that table, so the client can wait until
//! the server's end of its own connection has an empty queue: the server
//! has called `read` and taken the piece. Elsewhere there is no such
//! window, and the pause alone has to do.
//!
//! The wait is bounded: a server that never reads (one that has not
//! accepted the connection yet, say) gets the next piece anyway after
//! [`TAKE_LIMIT`], and the check goes on.
//!
//! The table lists every TCP socket on the machine, those in `TIME_WAIT`
//! included, and a run of the steps proof leaves some twenty thousand of
//! them: one read then costs the kernel tens of milliseconds. A dozen
//! checks each reading it every [`POLL`] would keep both cores busy and
//! starve the very servers they wait on, until one misses a deadline of
//! its own and answers 408. So the process reads the table once for all
//! its waiters, and no more often than [`COST_SHARE`] allows.

use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// The longest to wait for the server to read a piece: for a request
/// sent in pieces (`wire::Exchange`), the longest for all of them together.
pub const TAKE_LIMIT: Duration = Duration::from_secs(2);

/// How often to look.
const POLL: Duration = Duration::from_millis(2);
/// How many times its own cost the last read of the table stands before
/// the next: a read that cost 30 ms is not repeated for 120 ms, however
/// many checks are waiting, so reading takes at most a quarter of a core.
#[cfg(target_os = "linux")]
const COST_SHARE: u32 = 4;

/// Waits until the server has read everything sent so far on `stream`, for
/// at most [`TAKE_LIMIT`]. Says whether it could tell: `false` on platforms
/// without the table, and when the limit ran out.
pub fn wait_until_read(stream: &TcpStream) -> bool {
    wait_until_read_before(stream, Instant::now() + TAKE_LIMIT)
}

/// [`wait_until_read`], with a deadline of the caller's: several streams
/// can then share one bound, however many of them the server leaves
/// unread.
pub fn wait_until_read_before(stream: &TcpStream, deadline: Instant) -> bool {
    let (Ok(client), Ok(server)) = (stream.local_addr(), stream.peer_addr()) else {
        return false;
    };
    // The stages listen on IPv4, and only Linux has the table; anything
    // else gets the pause alone.
    if !cfg!(target_os = "linux") || !server.is_ipv4() {
        return false;
    }
    // Only a look at the table made after this moment says anything about
    // what was sent before it.
    let mut since = Instant::now();
    loop {
        match unread_by(server, client, since) {
            // Read, or the server's end is gone: it answered and closed.
            Seen::Unread(0) | Seen::NotListed => return true,
            Seen::Unread(_) | Seen::NotYet if Instant::now() >= deadline => return false,
            // Still unread in that look: only a later look can say the
            // server has read since. (Asking for the same moment again
            // would be answered from the same look, until the deadline.)
            Seen::Unread(_) => {
                since = Instant::now();
                thread::sleep(POLL);
            }
            Seen::NotYet => thread::sleep(POLL),
        }
    }
}

/// What a look at the table said about one socket.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
enum Seen {
    /// Received, and not read yet by its program: this many bytes.
    Unread(u64),
    /// Not in the table (closed), or no table to look at.
    NotListed,
    /// No look at the table since the moment asked about yet.
    NotYet,
}

/// How many bytes the socket `local` ↔ `remote` has received and its
/// program not yet read, in a look at the table made after `since`.
#[cfg(target_os = "linux")]
fn unread_by(local: SocketAddr, remote: SocketAddr, since: Instant) -> Seen {
    let (SocketAddr::V4(local), SocketAddr::V4(remote)) = (local, remote) else {
        return Seen::NotListed;
    };
    // The kernel prints an address as its 32-bit value in memory order,
    // then the port in hex: 127.0.0.1:5000 is `0100007F:1388` on x86.
    let key = |addr: std::net::SocketAddrV4| {
        format!(
            "{:08X}:{:04X}",
            u32::from_ne_bytes(addr.ip().octets()),
            addr.port()
        )
    };
    let (local, remote) = (key(local), key(remote));
    let table = match shared_table(since) {
        Table::Read(table) => table,
        Table::Later => return Seen::NotYet,
        Table::Unreadable => return Seen::NotListed,
    };
    let unread = table.lines().skip(1).find_map(|line| {
        // sl local_address rem_address st tx_queue:rx_queue ...
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.get(1) != Some(&local.as_str()) || fields.get(2) != Some(&remote.as_str()) {
            return None;
        }
        let (_, rx_queue) = fields.get(4)?.split_once(':')?;
        u64::from_str_radix(rx_queue, 16).ok()
    });
    unread.map_or(Seen::NotListed, Seen::Unread)
}

/// A look at `/proc/net/tcp`, shared by the waiters of the process.
#[cfg(target_os = "linux")]
enum Table {
    Read(std::sync::Arc<String>),
    /// The last read is older than asked for, and too recent to repeat.
    Later,
    Unreadable,
}

/// `/proc/net/tcp` as read after `since`: the last read if it was made
/// after `since`, otherwise a new one, unless the last is younger than
/// [`COST_SHARE`] times what it cost (and than [`POLL`]).
#[cfg(target_os = "linux")]
fn shared_table(since: Instant) -> Table {
    use std::sync::{Arc, Mutex, PoisonError};
    /// The last read: when it started, what it cost, what it said.
    static LAST: Mutex<Option<(Instant, Duration, Arc<String>)>> = Mutex::new(None);
    // Held while reading, so that waiters arriving meanwhile use this read
    // instead of starting their own.
    let mut last = LAST.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((at, cost, table)) = last.as_ref() {
        if *at >= since {
            return Table::Read(Arc::clone(table));
        }
        if at.elapsed() < (*cost * COST_SHARE).max(POLL) {
            return Table::Later;
        }
    }
    let start = Instant::now();
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else {
        return Table::Unreadable;
    };
    let table = Arc::new(table);
    *last = Some((start, start.elapsed(), Arc::clone(&table)));
    Table::Read(table)
}

#[cfg(not(target_os = "linux"))]
fn unread_by(_local: SocketAddr, _remote: SocketAddr, _since: Instant) -> Seen {
    Seen::NotListed
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// A loopback connection whose client has written `hello`, and whose
    /// server end has not read it: (client, server).
    fn hello_unread() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port on loopback");
        let mut client = TcpStream::connect(
            listener
                .local_addr()
                .expect("a bound listener has an address"),
        )
        .expect("connect to our own listener");
        let (server, _) = listener.accept().expect("accept our own connection");
        client
            .write_all(b"hello")
            .expect("write to a fresh connection");
        (client, server)
    }

    #[test]
    fn sees_when_the_other_end_reads() {
        let (client, mut server) = hello_unread();
        let (client_end, server_end) = (
            client
                .local_addr()
                .expect("a connected socket has an address"),
            client.peer_addr().expect("a connected socket has a peer"),
        );

        // Written but not read: five bytes wait in the server's queue.
        let deadline = Instant::now() + TAKE_LIMIT;
        let since = Instant::now();
        while !matches!(unread_by(server_end, client_end, since), Seen::Unread(5)) {
            assert!(
                Instant::now() < deadline,
                "the five bytes never showed in /proc/net/tcp"
            );
            thread::sleep(POLL);
        }

        let mut buffer = [0; 5];
        server
            .read_exact(&mut buffer)
            .expect("read what the client wrote");
        assert!(
            wait_until_read(&client),
            "the read was not seen within {TAKE_LIMIT:?}"
        );
    }

    #[test]
    fn sees_a_read_that_comes_while_it_waits() {
        let (client, mut server) = hello_unread();
        // The server reads a tenth of a second after the wait starts: the
        // first looks see five bytes, a later one none.
        let reader = thread::spawn(move || {
            thread::sleep(Duration::from_millis(100));
            let mut buffer = [0; 5];
            server
                .read_exact(&mut buffer)
                .expect("read what the client wrote");
            server
        });
        assert!(
            wait_until_read(&client),
            "a read made while waiting was not seen within {TAKE_LIMIT:?}"
        );
        crate::process::join_within(reader, TAKE_LIMIT).expect("the reader finishes its read");
    }
}

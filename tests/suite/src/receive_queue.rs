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

use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// The longest to wait for the server to read a piece.
pub const TAKE_LIMIT: Duration = Duration::from_secs(2);

/// How often to look.
const POLL: Duration = Duration::from_millis(2);

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
    loop {
        match unread_by(server, client) {
            // Read, or the server's end is gone: it answered and closed.
            Some(0) | None => return true,
            Some(_) if Instant::now() >= deadline => return false,
            Some(_) => thread::sleep(POLL),
        }
    }
}

/// How many bytes the socket `local` ↔ `remote` has received and its
/// program not yet read, or `None` when no such socket is listed.
#[cfg(target_os = "linux")]
fn unread_by(local: SocketAddr, remote: SocketAddr) -> Option<u64> {
    let (SocketAddr::V4(local), SocketAddr::V4(remote)) = (local, remote) else {
        return None;
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
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|line| {
        // sl local_address rem_address st tx_queue:rx_queue ...
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.get(1) != Some(&local.as_str()) || fields.get(2) != Some(&remote.as_str()) {
            return None;
        }
        let (_, rx_queue) = fields.get(4)?.split_once(':')?;
        u64::from_str_radix(rx_queue, 16).ok()
    })
}

#[cfg(not(target_os = "linux"))]
fn unread_by(_local: SocketAddr, _remote: SocketAddr) -> Option<u64> {
    None
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    #[test]
    fn sees_when_the_other_end_reads() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port on loopback");
        let mut client = TcpStream::connect(
            listener
                .local_addr()
                .expect("a bound listener has an address"),
        )
        .expect("connect to our own listener");
        let (mut server, _) = listener.accept().expect("accept our own connection");
        client
            .write_all(b"hello")
            .expect("write to a fresh connection");
        let (client_end, server_end) = (
            client
                .local_addr()
                .expect("a connected socket has an address"),
            client.peer_addr().expect("a connected socket has a peer"),
        );

        // Written but not read: five bytes wait in the server's queue.
        let deadline = Instant::now() + TAKE_LIMIT;
        while unread_by(server_end, client_end) != Some(5) {
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
}

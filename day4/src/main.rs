//! Day 4: the same server as day 3, with a pool of four threads.
//!
//! The accept loop only accepts; each connection becomes a job for the
//! [`ThreadPool`], so a slow request no longer holds up the others.

// ANCHOR: uses
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

use day4::request::Request;
use day4::response::Response;
use day4::router;
use day4::thread_pool::ThreadPool;
// ANCHOR_END: uses

// ANCHOR: pool_size
/// How many requests are served at the same time.
///
/// Four is the devlog's number. A fifth client waits in the pool's queue,
/// however idle the first four are: the final server deals with that.
const POOL_SIZE: usize = 4;
// ANCHOR_END: pool_size

fn main() {
    let port = match port_from_env() {
        Ok(port) => port,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };

    // Binding fails when the port is taken. Nothing can be served without a
    // listener, so stopping here with a clear message is the right answer.
    let listener = match TcpListener::bind(("127.0.0.1", port)) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {err}");
            std::process::exit(1);
        }
    };
    let address = listener
        .local_addr()
        .expect("a bound listener always has a local address");
    println!("Listening on http://{address}");

    // ANCHOR: make_pool
    // The pool lives as long as `main`. Its `Drop` (closing the queue and
    // joining the workers) would run when `main` returns, but this loop never
    // ends, and Ctrl-C kills the process without running destructors at all.
    // The final server stops the loop on Ctrl-C, so that `Drop` really runs.
    let pool = ThreadPool::new(POOL_SIZE);
    // ANCHOR_END: make_pool
    for stream in listener.incoming() {
        match stream {
            // ANCHOR: hand_over
            Ok(stream) => pool.execute(move || handle_connection(stream)),
            // ANCHOR_END: hand_over
            Err(err) => eprintln!("accept failed: {err}"),
        }
    }
}

/// Reads the port from the `PORT` environment variable, or picks 5000.
///
/// `PORT=0` asks the operating system for any free port; the real one is
/// printed in the `Listening on` line, which is how the test suite finds it.
fn port_from_env() -> Result<u16, String> {
    match std::env::var("PORT") {
        Ok(text) => text
            .parse()
            .map_err(|_| format!("PORT must be a number from 0 to 65535, not {text:?}")),
        Err(_) => Ok(5000),
    }
}

// ANCHOR: handle_connection
/// Serves one connection on a worker thread: read, route, answer, close.
fn handle_connection(mut stream: TcpStream) {
    let response = match Request::new(&stream) {
        Ok(request) => {
            let response = route_or_500(&request);
            println!("{} {} -> {}", request.method, request.path, response.status);
            response
        }
        Err(err) => match err.status() {
            Some(status) => Response::error(status, err.message()),
            None => return,
        },
    };
    if let Err(err) = stream.write_all(Response::resolve(&response).as_bytes()) {
        eprintln!("could not send the answer: {err}");
        return;
    }
    close_gracefully(stream);
}

/// Runs the router, turning a panic in a handler into a 500 answer.
///
/// The pool's workers survive a panic anyway (see `Worker::new`), but the
/// client would get no answer at all. Catching it here, where the stream is
/// still at hand, lets us say what happened. `AssertUnwindSafe` is sound
/// because the request is only read, never left half-changed.
fn route_or_500(request: &Request) -> Response {
    panic::catch_unwind(AssertUnwindSafe(|| router::route(request)))
        .unwrap_or_else(|_| Response::error(500, "the handler panicked; see the server log"))
}
// ANCHOR_END: handle_connection

/// Hangs up without destroying the answer we just sent.
///
/// If we close a socket while the client's bytes are still unread in it (the
/// rest of a body we refused with 413, say), the operating system resets the
/// connection, and the client may lose our answer before reading it. So we
/// first say "no more from us" (`shutdown(Write)`), then read and discard
/// what the client still sends, for a short while, until it hangs up too.
/// Web servers call this a "lingering close".
fn close_gracefully(mut stream: TcpStream) {
    const LINGER: Duration = Duration::from_secs(1);
    const MAX_DISCARD: usize = 2 * 1024 * 1024;

    if stream.shutdown(Shutdown::Write).is_err() {
        return;
    }
    let deadline = Instant::now() + LINGER;
    let mut discarded = 0;
    let mut sink = [0u8; 4096];
    while discarded < MAX_DISCARD {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => discarded += n,
        }
    }
}

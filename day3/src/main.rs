//! Day 3: the server answers through `Response` and the router.
//!
//! Still one thread, one connection at a time: try `/sleep?ms=5000` in one
//! terminal and `/hello` in another, and watch the second one wait.

// ANCHOR: uses
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use day3::request::Request;
use day3::response::Response;
use day3::router;
// ANCHOR_END: uses

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

    for stream in listener.incoming() {
        match stream {
            Ok(stream) => handle_connection(stream),
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
/// Serves one connection: read a request, route it, answer, close.
///
/// Compare with the devlog's version: there, a request that failed to parse
/// got a 500 ("the server broke") with the parser's message pasted into
/// JSON unescaped. A request we cannot read is the client's mistake, so it
/// gets the 4xx its `RequestError` names.
fn handle_connection(mut stream: TcpStream) {
    let response = match Request::new(&stream) {
        Ok(request) => {
            let response = router::route(&request);
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

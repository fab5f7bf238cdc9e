//! Day 2: the server reads whole requests and echoes back what it parsed.
//!
//! Still one thread and one connection at a time, as on day 1. New today:
//! [`Request::new`] reads a request correctly (however the bytes arrive),
//! and every way a request can be wrong gets a clear 4xx or 5xx answer
//! instead of a panic.

// ANCHOR: uses
use std::io::Write;
use std::net::{TcpListener, TcpStream};

use day2::json;
use day2::request::Request;
// ANCHOR_END: uses
// ANCHOR: close_uses
use std::io::Read;
use std::net::Shutdown;
use std::time::{Duration, Instant};
// ANCHOR_END: close_uses

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

    // ANCHOR: accept_loop
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => handle_connection(stream),
            Err(err) => eprintln!("accept failed: {err}"),
        }
    }
    // ANCHOR_END: accept_loop
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
/// Serves one connection: one request, one answer, then close.
fn handle_connection(mut stream: TcpStream) {
    let (status, body) = match Request::new(&stream) {
        Ok(request) => {
            println!("{} {}", request.method, request.path);
            (200, echo(&request))
        }
        Err(err) => match err.status() {
            Some(status) => (
                status,
                json::object([("error", json::string(err.message()))]),
            ),
            // Nobody to answer: the client left, or never said anything.
            None => return,
        },
    };

    let head = format!(
        "HTTP/1.1 {status} {reason}\r\n\
         Content-Type: application/json\r\n\
         Content-Length: {length}\r\n\
         Connection: close\r\n\r\n",
        reason = reason_phrase(status),
        length = body.len(),
    );
    // `write_all`, not `write`: `write` may send only part of the buffer and
    // return how much it sent, which the devlog never checked.
    let written = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()));
    if let Err(err) = written {
        eprintln!("could not send the answer: {err}");
        return;
    }
    // ANCHOR: hang_up
    close_gracefully(stream);
    // ANCHOR_END: hang_up
}
// ANCHOR_END: handle_connection

// ANCHOR: echo
/// The parsed request as JSON, so the suite (and you, with `curl`) can see
/// exactly what the parser understood.
///
/// Maps are written with sorted keys: a `HashMap` has no stable order, and
/// an answer that changes from run to run is hard to compare.
fn echo(request: &Request) -> String {
    json::object([
        ("method", json::string(&request.method)),
        ("path", json::string(&request.path)),
        ("query", sorted_object(&request.query)),
        ("headers", sorted_object(&request.headers)),
        ("body", json::string(&request.body)),
    ])
}

fn sorted_object(map: &std::collections::HashMap<String, String>) -> String {
    let mut pairs: Vec<(&String, &String)> = map.iter().collect();
    pairs.sort();
    json::object(
        pairs
            .into_iter()
            .map(|(key, value)| (key.as_str(), json::string(value))),
    )
}
// ANCHOR_END: echo

// ANCHOR: reason_phrase
/// The reason phrase that goes after the status code, for the codes this
/// stage sends (RFC 9110, section 15).
fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        408 => "Request Timeout",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        505 => "HTTP Version Not Supported",
        // The reason phrase is optional (RFC 9112, section 4): an empty one
        // is better than a wrong one.
        _ => "",
    }
}
// ANCHOR_END: reason_phrase

// ANCHOR: close_gracefully
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
// ANCHOR_END: close_gracefully

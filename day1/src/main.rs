//! Day 1: a raw TCP server that prints what it receives and answers with a
//! fixed, hand-written HTTP response.
//!
//! Everything lives in this one file on purpose. There is no parser yet, no
//! response type and only one thread: one client is served at a time, from
//! the first byte to the last.
//!
//! What is deliberately naive today, and which day fixes it:
//! - It reads lines until the blank line and never looks at a body (day 2).
//! - It gives every request the same answer, whatever was asked (day 3).
//! - A client that connects and says nothing blocks everybody else, forever,
//!   because nothing here has a timeout (day 2).

// ANCHOR: uses
use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
// ANCHOR_END: uses

// ANCHOR: main
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
        // `incoming` yields an error when accepting one connection fails:
        // the process is out of file descriptors or memory, say. That costs
        // one client, not the server: log it and wait for the next one.
        let stream = match stream {
            Ok(stream) => stream,
            Err(err) => {
                eprintln!("accept failed: {err}");
                continue;
            }
        };
        if let Err(err) = handle_connection(stream) {
            eprintln!("connection failed: {err}");
        }
    }
}
// ANCHOR_END: main

// ANCHOR: port
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
// ANCHOR_END: port

// ANCHOR: handle_connection
/// Prints the request line and the headers, then sends the fixed response.
///
/// Reading stops at the first empty line, which ends the headers. Any body
/// is left unread: day 1 does not know how long it is.
fn handle_connection(mut stream: TcpStream) -> io::Result<()> {
    let reader = BufReader::new(&stream);
    for line in reader.lines() {
        // `lines` fails on bytes that are not UTF-8. The `?` hands that error
        // to `main`, which logs it and drops this one connection. The devlog
        // called `unwrap` here, which stops the whole server instead.
        let line = line?;
        if line.is_empty() {
            break;
        }
        println!("Received: {line}");
    }

    stream.write_all(HELLO_RESPONSE.as_bytes())?;
    Ok(())
}
// ANCHOR_END: handle_connection

// ANCHOR: response
/// The only answer day 1 knows, written out byte for byte.
///
/// - The status line, then one header per line, each ending in `\r\n`.
/// - An empty line ends the headers.
/// - `Content-Length` counts the body's bytes: 17 for `{"hello":"World"}`.
///   The suite's `day1-valid-json` check makes sure it is right.
/// - `Connection: close` tells the client that we hang up after this answer,
///   so it does not try to send a second request on this connection.
///
/// The devlog sent `{'hello': 'World'}`. JSON strings need double quotes,
/// so no JSON parser accepts that body (`day1-valid-json` pins this).
const HELLO_RESPONSE: &str = "HTTP/1.1 200 OK\r\n\
Content-Type: application/json\r\n\
Content-Length: 17\r\n\
Connection: close\r\n\
\r\n\
{\"hello\":\"World\"}";
// ANCHOR_END: response

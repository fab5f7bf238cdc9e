//! NAME: an HTTP/1.1 server, built along the book.
//!
//! What is here already is the contract every stage keeps, so that the
//! checker can find your server:
//! - it listens on 127.0.0.1:5000, or on the port in the `PORT` environment
//!   variable (`PORT=0` lets the system pick a free one);
//! - the first line it prints is `Listening on http://ADDRESS`.
//!
//! It began as a starter that closes every connection without a word;
//! the chapters, from "Day 1: a server that says hello" on, make it speak
//! HTTP. Check it as you go:
//!
//!     cargo run -p tests --bin check -- day1 --crate NAME
//!
//! `cargo run -p tests --bin check -- next` says what to do after that.

use std::io;
use std::net::{TcpListener, TcpStream};

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

/// Day 1 starts here: read the request up to its empty line, then write a
/// response. For now, dropping `stream` closes the connection unanswered.
fn handle_connection(stream: TcpStream) -> io::Result<()> {
    drop(stream);
    Ok(())
}

//! Day 1: print the request's lines, then send one fixed answer.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

/// The devlog's day-1 body. Single quotes are not JSON, yet the header below
/// says `application/json`: `day1-valid-json` fails on it.
const HELLO: &str = "{'hello': 'World'}";

/// Prints each line of the head, up to the empty line, then answers.
///
/// # Panics
///
/// On purpose, as the devlog did: on a line that is not UTF-8 (the unwrap
/// below), and when writing the answer fails.
pub fn handle_connection(mut stream: TcpStream) {
    for line in BufReader::new(&stream).lines() {
        // `lines` reports bytes that are not UTF-8 as an error. Unwrapping
        // it turns one bad byte into a panic on the only thread.
        let line = line.unwrap();
        if line.is_empty() {
            break;
        }
        println!("Received: {line}");
    }
    write_answer(&mut stream, "HTTP/1.1 200 OK", HELLO);
}

/// Formats a head by hand and sends it with the body in a single `write`.
///
/// This is the devlog's day-1 way of answering; the day-2 echo uses it too,
/// since the devlog had nothing else until day 3. `write` may send only part
/// of the buffer and says how much it sent; that count is thrown away, and
/// an error is unwrapped.
#[expect(
    clippy::unused_io_amount,
    reason = "the devlog ignored how much `write` sent; the fixture keeps that bug"
)]
pub fn write_answer(stream: &mut TcpStream, status_line: &str, body: &str) {
    let head = [
        status_line.to_string(),
        format!("Content-Length: {}", body.len()),
        String::from("Content-Type: application/json"),
    ];
    let answer = format!("{}\r\n\r\n{body}", head.join("\r\n"));
    stream.write(answer.as_bytes()).unwrap();
}

//! Day 1: any answer at all, as long as it is well-formed HTTP with JSON in it.

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use super::{Check, Expect, Failure, Payload, Probe, still_answers};
use crate::stage::Stage::Day1;

pub static CHECKS: &[Check] = &[
    Check {
        id: "day1-answers",
        from: Day1,
        until: None,
        title: "answers a plain GET with a complete HTTP response",
        hint: "Read the request up to the empty line, then write a status line, headers, an empty line and a body, each line ending in \\r\\n.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            expect: Expect::AnyResponse,
        },
    },
    Check {
        id: "day1-valid-json",
        from: Day1,
        until: None,
        title: "labels the body as JSON, gives its length, and it really is JSON",
        hint: "JSON strings use double quotes: {\"hello\":\"World\"}, not {'hello': 'World'}. Send `Content-Type: application/json` and a `Content-Length` that counts the body's bytes.",
        probe: Probe::Request {
            // Not `/`, which the final server answers with its HTML page:
            // a path no stage routes, so that every stage answers JSON
            // (day 1 the same greeting as always, later days a 404).
            payload: Payload::Bytes(b"GET /nothing-here HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            expect: Expect::AnyJson,
        },
    },
    Check {
        id: "day1-hello-world",
        from: Day1,
        until: Some(Day1),
        title: "answers {\"hello\":\"World\"} with 200 OK",
        hint: "Day 1 answers every request with the same fixed response: `HTTP/1.1 200 OK` and the body {\"hello\":\"World\"}.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            expect: Expect::Json(200, &[("/hello", "\"World\"")]),
        },
    },
    Check {
        id: "day1-post-with-body",
        from: Day1,
        until: None,
        title: "answers a POST that carries a small body",
        hint: "The body comes after the empty line. Day 1 may ignore it, but must still answer.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"title\":\"milk\"}"),
            expect: Expect::AnyJson,
        },
    },
    Check {
        id: "day1-survives-bad-bytes",
        from: Day1,
        until: None,
        title: "survives a request line that is not UTF-8",
        hint: "Reading lines fails on bytes that are not UTF-8. Drop that one connection (with `?` or a `match`), instead of calling `unwrap`, which stops the whole server.",
        probe: Probe::Request {
            // 0xFF never appears in UTF-8. Day 1 may hang up without a
            // word; from day 2 on, the answer is a 400. Either way the
            // server must answer the next client.
            payload: Payload::Bytes(b"GET /\xff HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            expect: Expect::ErrorOrClosed(400),
        },
    },
    Check {
        id: "day1-empty-connection",
        from: Day1,
        until: None,
        title: "survives a client that connects and leaves without a word",
        hint: "When a read returns 0 bytes the client has gone. Handle errors from reading and writing by dropping that connection, not with `unwrap`, which stops the whole server.",
        probe: Probe::Script(connect_and_leave),
    },
];

/// Connects, hangs up at once, then checks the server still answers.
fn connect_and_leave(addr: SocketAddr) -> Result<(), Failure> {
    let stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|err| Failure {
            expected: "the server accepts connections".into(),
            sent: None,
            received: err.to_string(),
        })?;
    drop(stream);
    still_answers(addr, None)
}

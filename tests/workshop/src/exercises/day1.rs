//! Exercises on day 1: a little routing and a little state, with nothing
//! but the request line and the response bytes.

use std::net::SocketAddr;

use super::Exercise;
use suite::checks::{Check, Expect, Failure, Probe};
use suite::client::{ask, failure, number_at};
use suite::stage::Stage::Day1;

pub static EXERCISES: &[Exercise] = &[
    Exercise {
        check: Check {
            id: "day1-not-found",
            from: Day1,
            until: None,
            title: "answers 404 with a JSON error for every path but /",
            hint: "The path is the second word of the request line. Keep the first line you read instead of only printing it.",
            probe: Probe::Script(not_found),
        },
        more_hints: &[
            "`request_line.split(' ').nth(1)` is `Some(\"/nope\")` for `GET /nope HTTP/1.1`. Compare it with `Some(\"/\")`.",
            "Write a second constant next to HELLO_RESPONSE: `HTTP/1.1 404 Not Found`, the same headers, and a body such as {\"error\":\"not found\"}. Count its bytes for Content-Length, and pick one of the two constants to write.",
        ],
    },
    Exercise {
        check: Check {
            id: "day1-method-not-allowed",
            from: Day1,
            until: None,
            title: "answers 405 with `Allow: GET` to any method but GET",
            hint: "The method is the first word of the request line.",
            probe: Probe::Script(method_not_allowed),
        },
        more_hints: &[
            "`request_line.split(' ').next()` is the method. Methods are case-sensitive: `get` is not `GET`.",
            "A 405 must say what would have worked: add the header `Allow: GET` to a `HTTP/1.1 405 Method Not Allowed` response with a JSON error body.",
        ],
    },
    Exercise {
        check: Check {
            id: "day1-request-count",
            from: Day1,
            until: None,
            title: "counts the requests it has answered: {\"hello\":\"World\",\"requests\":N}",
            hint: "A `let mut served = 0;` before the accept loop lives as long as the server. Pass it to `handle_connection` as `&mut`.",
            probe: Probe::Script(request_count),
        },
        more_hints: &[
            "The body now changes from request to request, so build it with `format!` (it only holds a number, never user input) and compute `Content-Length` from `body.len()`.",
            "Build the body first, with `format!` and the counter; then the head, with `Content-Length` set to `body.len()`. Write the head, then the body, and add one to the counter.",
        ],
    },
];

const ROOT: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
const HELLO_WORLD: Expect = Expect::Json(200, &[("/hello", "\"World\"")]);

fn not_found(addr: SocketAddr) -> Result<(), Failure> {
    ask(
        addr,
        b"GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        Expect::Error(&[404]),
    )?;
    // And `/` still says hello: a server that answers 404 to everything
    // has not done the exercise.
    ask(addr, ROOT, HELLO_WORLD).map(drop)
}

fn method_not_allowed(addr: SocketAddr) -> Result<(), Failure> {
    ask(
        addr,
        b"DELETE / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        Expect::ErrorWithHeader(405, "allow", "GET"),
    )?;
    ask(addr, ROOT, HELLO_WORLD).map(drop)
}

fn request_count(addr: SocketAddr) -> Result<(), Failure> {
    let first = ask(addr, ROOT, HELLO_WORLD)?;
    let second = ask(addr, ROOT, HELLO_WORLD)?;
    match (
        number_at(&first, "/requests"),
        number_at(&second, "/requests"),
    ) {
        (Some(a), Some(b)) if a >= 1 && b == a + 1 => Ok(()),
        _ => Err(failure(
            "two GET / in a row answered with \"requests\" counting up by one (such as 4, then 5)",
            ROOT,
            format!(
                "{}\n…then:\n{}",
                String::from_utf8_lossy(&first.raw),
                String::from_utf8_lossy(&second.raw)
            ),
        )),
    }
}

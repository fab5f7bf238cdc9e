//! Day 3: real routes, built with `Response`, and JSON that stays valid.

use std::net::SocketAddr;

use super::{Check, Expect, Failure, Payload, Probe, still_answers};
use crate::stage::Stage::Day3;
use crate::wire::Exchange;

pub static CHECKS: &[Check] = &[
    Check {
        id: "day3-hello",
        from: Day3,
        until: None,
        title: "GET /hello answers {\"message\":\"Hello, World!\"}",
        hint: "Match on the path: `/hello` builds its answer with `Response::json(200, ...)`. Without a `name`, greet the World.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            expect: Expect::Json(200, &[("/message", "\"Hello, World!\"")]),
        },
    },
    Check {
        id: "day3-hello-name",
        from: Day3,
        until: None,
        title: "GET /hello?name=Ferris greets Ferris",
        hint: "Take the name from the query map: `request.query.get(\"name\")`.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"GET /hello?name=Ferris HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            expect: Expect::Json(200, &[("/message", "\"Hello, Ferris!\"")]),
        },
    },
    Check {
        id: "day3-hello-escaping",
        from: Day3,
        until: None,
        title: "a name with quotes and backslashes still gives valid JSON",
        hint: "Never paste user input into JSON with `format!`. Escape `\"` as `\\\"` and `\\` as `\\\\` (and control characters) before quoting.",
        probe: Probe::Script(hello_escaping),
    },
    Check {
        id: "day3-hello-unicode",
        from: Day3,
        until: None,
        title: "percent-encoded UTF-8 in a name comes out as the right characters",
        hint: "Decode `%XX` to a byte, collect the bytes, then turn them into a String: `%C3%A9` is the two bytes of `é`.",
        probe: Probe::Request {
            payload: Payload::Bytes(
                b"GET /hello?name=J%C3%BCrgen%20%F0%9F%A6%80 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            ),
            expect: Expect::Json(200, &[("/message", "\"Hello, Jürgen 🦀!\"")]),
        },
    },
    Check {
        id: "day3-hello-plus",
        from: Day3,
        until: None,
        title: "a `+` in a query value is a space",
        hint: "In query strings from HTML forms, `+` stands for a space.",
        probe: Probe::Request {
            payload: Payload::Bytes(
                b"GET /hello?name=Ada+Lovelace HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            ),
            expect: Expect::Json(200, &[("/message", "\"Hello, Ada Lovelace!\"")]),
        },
    },
    Check {
        id: "day3-not-found",
        from: Day3,
        until: None,
        title: "an unknown path gets 404 Not Found",
        hint: "400 means the request itself was malformed. A well-formed request for a path that does not exist is a 404 (RFC 9110, section 15.5.5).",
        probe: Probe::Request {
            payload: Payload::Bytes(b"GET /no/such/page HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            expect: Expect::Error(&[404]),
        },
    },
    Check {
        id: "day3-method-not-allowed",
        from: Day3,
        until: None,
        title: "a known path with the wrong method gets 405 and an Allow header",
        hint: "Match on the method and the path together. When only the method is wrong, answer 405 with `Allow: GET`.",
        probe: Probe::Request {
            payload: Payload::Bytes(
                b"POST /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
            ),
            expect: Expect::ErrorWithHeader(405, "Allow", "GET"),
        },
    },
    Check {
        id: "day3-sleep",
        from: Day3,
        until: None,
        title: "GET /sleep?ms=20 waits, then answers {\"slept_ms\":20}",
        hint: "Parse `ms` from the query, `thread::sleep` that long (at most 10 s), then answer.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"GET /sleep?ms=20 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            expect: Expect::Json(200, &[("/slept_ms", "20")]),
        },
    },
    Check {
        id: "day3-sleep-bad-ms",
        from: Day3,
        until: None,
        title: "GET /sleep?ms=soon gets 400",
        hint: "When `ms` does not parse as a number, the client made a mistake: 400, with a message saying what `ms` should be.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"GET /sleep?ms=soon HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            expect: Expect::Error(&[400]),
        },
    },
];

/// The greeting for the name `"Bobby"\`, as the JSON text of the string.
const BOBBY: &[(&str, &str)] = &[("/message", r#""Hello, \"Bobby\"\\!""#)];

/// Asks for a greeting of `"Bobby"\` twice: with the quotes and the
/// backslash as they are, then percent-encoded.
///
/// The raw name comes first because it needs no decoding to reach the
/// JSON: a server that pastes the name in with `format!` breaks its JSON
/// here even if it decodes nothing. The quote has no place in a URI
/// (RFC 3986), so a strict server may refuse it with a 400 instead. The
/// encoded name is what browsers send, and it must be decoded and then
/// escaped.
fn hello_escaping(addr: SocketAddr) -> Result<(), Failure> {
    const RAW: &[u8] = b"GET /hello?name=\"Bobby\"\\ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    const ENCODED: &[u8] = b"GET /hello?name=%22Bobby%22%5C HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let reply = Exchange::new(RAW).run(addr);
    let greeted = Expect::Json(200, BOBBY).verify(&reply, &Payload::Bytes(RAW));
    let refused = Expect::Error(&[400]).verify(&reply, &Payload::Bytes(RAW));
    if let (Err(expected), Err(_)) = (greeted, refused) {
        return Err(Failure {
            expected: format!("{expected}, or a 400 refusing the raw quote"),
            sent: Some(RAW.to_vec()),
            received: reply.describe(),
        });
    }
    let reply = Exchange::new(ENCODED).run(addr);
    Expect::Json(200, BOBBY)
        .verify(&reply, &Payload::Bytes(ENCODED))
        .map_err(|expected| Failure {
            expected,
            sent: Some(ENCODED.to_vec()),
            received: reply.describe(),
        })?;
    still_answers(addr, None)
}

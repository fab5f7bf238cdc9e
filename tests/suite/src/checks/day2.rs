//! Day 2: reading whole requests, whatever shape the bytes arrive in.
//!
//! The first group relies on day 2's echo (the parsed request sent back as
//! JSON), which day 3 replaces with real routes; those checks stop at day 2.
//! The second group is about surviving bad input, and applies from day 2 on.

use std::io::{ErrorKind, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{Check, Expect, Failure, Payload, Probe, open, still_answers};
use crate::stage::Stage::{Day2, Day4};
use crate::wire;

pub static CHECKS: &[Check] = &[
    // What the parser understood, seen through the echo.
    Check {
        id: "day2-echo-request-line",
        from: Day2,
        until: Some(Day2),
        title: "echoes the method and path it parsed",
        hint: "Split the first line on spaces: METHOD TARGET VERSION. Answer with JSON holding \"method\" and \"path\".",
        probe: Probe::Request {
            payload: Payload::Bytes(b"DELETE /todos/7 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            expect: Expect::Json(200, &[("/method", "\"DELETE\""), ("/path", "\"/todos/7\"")]),
        },
    },
    Check {
        id: "day2-query",
        from: Day2,
        until: Some(Day2),
        title: "splits the query string into pairs",
        hint: "Everything after the first `?` is the query: split it on `&`, then each pair on its first `=`.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"GET /search?q=rust&page=2&flag HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            expect: Expect::Json(
                200,
                &[("/path", "\"/search\""), ("/query/q", "\"rust\""), ("/query/page", "\"2\""), ("/query/flag", "\"\"")],
            ),
        },
    },
    // ANCHOR: question_mark_row
    Check {
        id: "day2-query-question-mark",
        from: Day2,
        until: Some(Day2),
        title: "keeps a `?` that appears inside a query value",
        hint: "Only the first `?` separates path and query. Use `split_once('?')`, not `split('?')`: the devlog's split dropped the second `?`.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"GET /ask?q=why?&n=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            expect: Expect::Json(200, &[("/path", "\"/ask\""), ("/query/q", "\"why?\""), ("/query/n", "\"1\"")]),
        },
    },
    // ANCHOR_END: question_mark_row
    Check {
        id: "day2-header-names",
        from: Day2,
        until: Some(Day2),
        title: "treats header names without regard to case",
        hint: "`Content-Type`, `content-type` and `CONTENT-TYPE` are the same header (RFC 9110, section 5.1). Store names in lower case.",
        probe: Probe::Request {
            // Lower case, upper case, no space after the colon, extra
            // spaces around the value: all the same to HTTP.
            payload: Payload::Bytes(b"GET / HTTP/1.1\r\nhost:127.0.0.1\r\nX-Request-ID:   abc-123  \r\nACCEPT: text/plain\r\n\r\n"),
            expect: Expect::Json(200, &[("/headers/host", "\"127.0.0.1\""), ("/headers/x-request-id", "\"abc-123\""), ("/headers/accept", "\"text/plain\"")]),
        },
    },
    Check {
        id: "day2-bare-newlines",
        from: Day2,
        until: Some(Day2),
        title: "accepts lines that end in a bare \\n",
        hint: "RFC 9112 (section 2.2) lets a server accept `\\n` alone as a line ending. People typing requests by hand send those.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"GET /lf HTTP/1.1\nHost: 127.0.0.1\n\n"),
            expect: Expect::Json(200, &[("/path", "\"/lf\"")]),
        },
    },
    Check {
        id: "day2-split-writes",
        from: Day2,
        until: Some(Day2),
        title: "reads a request that arrives in three pieces",
        hint: "One `read` is not one request. Keep reading and appending until the buffer holds the empty line that ends the headers.",
        probe: Probe::Request {
            payload: Payload::Pieces(&[b"GET /sp", b"lit?x=1 HTTP/1.1\r\nHo", b"st: 127.0.0.1\r\n\r\n"]),
            expect: Expect::Json(200, &[("/path", "\"/split\""), ("/query/x", "\"1\"")]),
        },
    },
    Check {
        id: "day2-body-1023",
        from: Day2,
        until: Some(Day2),
        title: "reads a body of 1023 bytes",
        hint: "After the headers, read until you hold `Content-Length` body bytes, no more and no fewer.",
        probe: Probe::Request {
            payload: Payload::Body { len: 1023, split: false },
            expect: Expect::EchoedBody,
        },
    },
    Check {
        id: "day2-body-1024",
        from: Day2,
        until: Some(Day2),
        title: "reads requests of exactly 1024 and 2048 bytes, head and body together",
        hint: "Stopping when a read returns fewer than 1024 bytes waits for ever here: a request that fills every buffer leaves the next read nothing to return. The devlog's loop guessed the end of the request from the read size. Use the empty line and `Content-Length`.",
        probe: Probe::Script(exact_multiples_of_1024),
    },
    Check {
        id: "day2-body-1025",
        from: Day2,
        until: Some(Day2),
        title: "reads a body of 1025 bytes",
        hint: "A body one byte over your buffer size needs a second read. Loop until you hold `Content-Length` bytes.",
        probe: Probe::Request {
            payload: Payload::Body { len: 1025, split: false },
            expect: Expect::EchoedBody,
        },
    },
    Check {
        id: "day2-body-64k",
        from: Day2,
        until: Some(Day2),
        title: "reads a body of 64 KiB",
        hint: "Large bodies arrive over many reads. Keep appending until you hold `Content-Length` bytes.",
        probe: Probe::Request {
            payload: Payload::Body { len: 64 * 1024, split: false },
            expect: Expect::EchoedBody,
        },
    },
    Check {
        id: "day2-body-late",
        from: Day2,
        until: Some(Day2),
        title: "waits for a body that arrives after the headers",
        hint: "The headers may arrive in one read and the body in a later one. Read the body until `Content-Length` bytes are there.",
        probe: Probe::Request {
            payload: Payload::Body { len: 100, split: true },
            expect: Expect::EchoedBody,
        },
    },
    // Bad input: a clear 4xx or 5xx, and the server lives on.
    Check {
        id: "day2-not-http",
        from: Day2,
        until: None,
        title: "answers 400 to a line that is not a request line",
        hint: "A request line has exactly three parts. When it does not, answer 400 with a JSON error instead of calling `unwrap`.",
        probe: Probe::Request {
            // One word: a parser that unwraps the second word panics here.
            payload: Payload::Bytes(b"hello\r\n\r\n"),
            expect: Expect::Error(&[400]),
        },
    },
    Check {
        id: "day2-missing-version",
        from: Day2,
        until: None,
        title: "answers 400 to a request line without a version",
        hint: "`GET /` has two parts, not three: answer 400.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"GET /\r\n\r\n"),
            expect: Expect::Error(&[400]),
        },
    },
    Check {
        id: "day2-header-without-colon",
        from: Day2,
        until: None,
        title: "answers 400 to a header line without a colon",
        hint: "Each header line is `Name: value`. A line without `:` is an error, not something to skip.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"GET / HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n"),
            expect: Expect::Error(&[400]),
        },
    },
    Check {
        id: "day2-invalid-utf8",
        from: Day2,
        until: None,
        title: "answers 400 to bytes that are not UTF-8",
        hint: "`String::from_utf8(...).unwrap()` panics here. Map the error to a 400 instead.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"GET /caf\xe9 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            expect: Expect::Error(&[400]),
        },
    },
    Check {
        id: "day2-bad-content-length",
        from: Day2,
        until: None,
        title: "answers 400 to a Content-Length that is not a number",
        hint: "Parse `Content-Length` as digits only; anything else is a 400.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ten\r\n\r\n"),
            expect: Expect::Error(&[400]),
        },
    },
    Check {
        id: "day2-negative-content-length",
        from: Day2,
        until: None,
        title: "answers 400 to a negative Content-Length",
        hint: "`-5` is not a length. Accept digits only.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n"),
            expect: Expect::Error(&[400]),
        },
    },
    Check {
        id: "day2-two-content-lengths",
        from: Day2,
        until: None,
        title: "answers 400 to two different Content-Lengths",
        hint: "Two lengths mean two ways to read the message, the trick behind request smuggling. Refuse them.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"),
            expect: Expect::Error(&[400]),
        },
    },
    Check {
        id: "day2-repeated-content-length",
        from: Day2,
        until: None,
        title: "answers 400 to Content-Length sent twice, even with the same value",
        hint: "A repeated header arrives as \"5, 5\": not a number, so a 400. Picking one of the two is how smuggling starts.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}"),
            expect: Expect::Error(&[400]),
        },
    },
    Check {
        id: "day2-chunked",
        from: Day2,
        // The days refuse chunked bodies; the final server decodes them,
        // as RFC 9112 requires, and `final-chunked` checks that instead.
        until: Some(Day4),
        title: "refuses a chunked body instead of misreading it",
        hint: "Without `Content-Length`, a `Transfer-Encoding: chunked` body has no length you can read. Answer 501 (or 411) rather than guess.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"),
            expect: Expect::Error(&[411, 501]),
        },
    },
    Check {
        id: "day2-http-version",
        from: Day2,
        until: None,
        title: "answers 505 to an HTTP version it does not speak",
        hint: "Accept HTTP/1.0 and HTTP/1.1; answer 505 HTTP Version Not Supported to other HTTP/ versions.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"GET / HTTP/3.0\r\nHost: 127.0.0.1\r\n\r\n"),
            expect: Expect::Error(&[505]),
        },
    },
    Check {
        id: "day2-headers-too-large",
        from: Day2,
        until: None,
        title: "answers 431 to headers over 8 KiB",
        hint: "Stop reading once the headers pass a limit (8 KiB is common) and answer 431, or a client can fill your memory.",
        probe: Probe::Request {
            payload: Payload::Bytes(&HUGE_HEADER),
            expect: Expect::Error(&[431]),
        },
    },
    Check {
        id: "day2-body-too-large",
        from: Day2,
        until: None,
        title: "answers 413 to a Content-Length over 1 MiB",
        hint: "Check `Content-Length` against a limit before reading (or allocating) the body, and answer 413.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2000000\r\n\r\n"),
            expect: Expect::Error(&[413]),
        },
    },
    Check {
        id: "day2-no-blank-line",
        from: Day2,
        until: None,
        title: "does not answer 200 to headers cut off before the empty line",
        hint: "If the client closes before the empty line, the request is incomplete: answer 400, or just close.",
        probe: Probe::Request {
            payload: Payload::BytesThenHalfClose(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"),
            expect: Expect::ErrorOrClosed(400),
        },
    },
    Check {
        id: "day2-partial-request-timeout",
        from: Day2,
        until: None,
        title: "gives up on a request that stops halfway (408)",
        hint: "Set a deadline for the whole request (`set_read_timeout` with the time left) and answer 408 when it passes. Without it, one stalled client blocks the server for ever.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"GET / HTTP/1.1\r\nHo"),
            expect: Expect::ErrorOrClosed(408),
        },
    },
    Check {
        id: "day2-silent-client",
        from: Day2,
        until: None,
        title: "hangs up on a client that connects and says nothing",
        hint: "A connection that sends nothing before the deadline gets closed without an answer: there is no request to answer.",
        probe: Probe::Request {
            payload: Payload::Nothing,
            expect: Expect::Closed,
        },
    },
    Check {
        id: "day2-deadline-whole-request",
        from: Day2,
        until: None,
        title: "gives up on a request that trickles in a byte at a time (408)",
        hint: "A timeout per read starts again with every byte, so a client that sends one byte every two seconds is never timed out. Keep one deadline for the whole request, and before each read set the read timeout to the time left until it.",
        probe: Probe::Script(trickle),
    },
];

/// How often [`trickle`] sends the next byte: well inside any per-read
/// timeout a server might pick (the stages' is 5 s).
const TRICKLE_EVERY: Duration = Duration::from_secs(2);

/// How long [`trickle`] waits for the 408: the stages' 5-second deadline,
/// and a margin for a slow machine. A server that times out each read
/// instead never answers while the bytes keep coming.
pub const TRICKLE_LIMIT: Duration = Duration::from_secs(12);

// ANCHOR: trickle
/// Sends a request one byte every two seconds, and expects a 408 (or a
/// close) within [`TRICKLE_LIMIT`], long before the request is complete.
fn trickle(addr: SocketAddr) -> Result<(), Failure> {
    const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let started = Instant::now();
    let mut stream = open(addr, &REQUEST[..1])?;
    let mut sent = 1;
    let failure = |expected: &str, received: String, sent: usize| Failure {
        expected: expected.to_string(),
        sent: Some(REQUEST[..sent].to_vec()),
        received,
    };
    let expected = "a 408 within 12 s, although a byte arrives every 2 s";
    loop {
        // Wait for the server to say something, for at most one interval.
        let waited = stream
            .set_read_timeout(Some(TRICKLE_EVERY))
            .and_then(|()| stream.peek(&mut [0u8; 1]));
        match waited {
            // It answered or hung up: that answer must be the 408.
            Ok(_) => {
                let reply = wire::read_reply(&mut stream, Instant::now() + Duration::from_secs(5));
                Expect::ErrorOrClosed(408)
                    .verify(&reply, &Payload::Nothing)
                    .map_err(|wanted| failure(&wanted, reply.describe(), sent))?;
                // Closing is a fair end to a deadline, but a server that
                // hangs up on every connection closes this one too: it
                // must still answer a whole request.
                return still_answers(addr, Some(&REQUEST[..sent]));
            }
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(err) => return Err(failure(expected, format!("reading failed: {err}"), sent)),
        }
        if started.elapsed() >= TRICKLE_LIMIT || sent == REQUEST.len() {
            return Err(failure(
                expected,
                format!(
                    "no answer after {} s and {sent} bytes: the server is still reading",
                    started.elapsed().as_secs()
                ),
                sent,
            ));
        }
        // A server that already gave up may refuse the byte; its answer
        // is read on the next turn.
        let _ = stream.write_all(&REQUEST[sent..=sent]);
        sent += 1;
    }
}
// ANCHOR_END: trickle

/// A request whose one header is 16 KiB long: twice the usual limit.
static HUGE_HEADER: [u8; HUGE_LEN] = huge_header();

const HUGE_START: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ";
const HUGE_END: &[u8] = b"\r\n\r\n";
const HUGE_LEN: usize = HUGE_START.len() + 16 * 1024 + HUGE_END.len();

const fn huge_header() -> [u8; HUGE_LEN] {
    let mut bytes = [b'a'; HUGE_LEN];
    let mut i = 0;
    while i < HUGE_START.len() {
        bytes[i] = HUGE_START[i];
        i += 1;
    }
    let mut j = 0;
    while j < HUGE_END.len() {
        bytes[HUGE_LEN - HUGE_END.len() + j] = HUGE_END[j];
        j += 1;
    }
    bytes
}

/// The whole request sizes that [`exact_multiples_of_1024`] sends: what a
/// reader that reads 1024 bytes at a time and stops at the first short read
/// never sees the end of.
const EXACT_SIZES: [usize; 2] = [1024, 2048];

/// Sends `POST /echo` requests of exactly 1024 and then 2048 bytes, head
/// included, each in one write, and expects every body echoed back.
///
/// The sizes count the whole request, not the body: that is what fills a
/// 1024-byte buffer exactly, once or twice, so that the next `read` has
/// nothing to return and waits.
fn exact_multiples_of_1024(addr: std::net::SocketAddr) -> Result<(), super::Failure> {
    for total in EXACT_SIZES {
        // The head holds the body's length, so find the length whose
        // request comes out at `total` bytes.
        let payload = (total.saturating_sub(100)..total)
            .map(|len| Payload::Body { len, split: false })
            .find(|payload| payload.exchange().bytes().len() == total)
            .expect("some body length makes a request of this size");
        let exchange = payload.exchange();
        let reply = exchange.run(addr);
        Expect::EchoedBody
            .verify(&reply, &payload)
            .map_err(|expected| super::Failure {
                expected: format!("for a request of exactly {total} bytes: {expected}"),
                sent: Some(exchange.bytes()),
                received: reply.describe(),
            })?;
    }
    super::still_answers(addr, None)
}

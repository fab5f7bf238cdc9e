//! The checks: what each stage must do, as tables of requests and expected
//! answers.
//!
//! Every check is tagged with the stage that introduces it (`from`) and,
//! for behaviour a later stage replaces, the last stage it applies to
//! (`until`): day 2 echoes every request back, and day 3 stops doing that.
//! Two rules follow, and `tests/gate.rs` enforces both:
//! - every stage passes every check that applies to it;
//! - the stage before fails every check a stage introduces. A check that the
//!   previous stage already passes does not prove a step was taken.
//!
//! Most checks are one row: raw bytes to send and the answer to expect,
//! after which the runner checks that the server still answers. The few
//! that need several connections are plain functions.

mod day1;
mod day2;
mod day3;
mod day4;
pub mod r#final;

use std::net::SocketAddr;

use serde_json::Value;

use crate::server::Server;
use crate::stage::Stage;
use crate::wire::{self, Exchange, RawResponse, Reply};

// ANCHOR: check
/// One thing a stage must do.
pub struct Check {
    /// A stable name, such as `day2-query-question-mark`. Progress files and
    /// the book refer to checks by it, so it never changes.
    pub id: &'static str,
    /// The stage that introduces it.
    pub from: Stage,
    /// The last stage it applies to; `None` for every later stage too.
    pub until: Option<Stage>,
    /// What a passing server does, in a line.
    pub title: &'static str,
    /// A nudge for a learner whose server fails it.
    pub hint: &'static str,
    /// How to run it.
    pub probe: Probe,
}
// ANCHOR_END: check

/// How a check runs.
pub enum Probe {
    /// Send one request, compare the answer, then make sure the server still
    /// answers a plain `GET /`.
    Request { payload: Payload, expect: Expect },
    /// Anything that needs more than one connection, or more than one
    /// request: a function that talks to the server itself.
    Script(fn(SocketAddr) -> Result<(), Failure>),
    /// Anything about the server's process: a function that starts more
    /// servers of the same program ([`Server::another_with`]), with other
    /// arguments, and kills them, such as a restart on the same data file.
    Process(fn(&Server) -> Result<(), Failure>),
}

// ANCHOR: payload
/// What a one-request check sends.
pub enum Payload {
    /// These bytes, in one write.
    Bytes(&'static [u8]),
    /// These pieces, one write each, with a short pause between them.
    Pieces(&'static [&'static [u8]]),
    /// These bytes, then close our sending side: the server reads the end of
    /// the stream where it expected more.
    BytesThenHalfClose(&'static [u8]),
    /// `POST /echo` with a body of `len` letters `x`. With `split`, the head
    /// and the body go in separate writes.
    Body { len: usize, split: bool },
    /// Connect, then send nothing at all.
    Nothing,
}
// ANCHOR_END: payload

// ANCHOR: expect
/// What must come back.
pub enum Expect {
    /// This status, and a JSON body with these values at these JSON
    /// pointers (`"/query/name"`), each given as JSON text.
    Json(u16, &'static [(&'static str, &'static str)]),
    /// This status and a header holding these values, with a JSON error
    /// body. Header values are lists (`Allow: GET, HEAD`), so every item
    /// given must be there, in any order and without regard to case; more
    /// items may be.
    ErrorWithHeader(u16, &'static str, &'static str),
    /// A JSON error, `{"error": "…"}`, with one of these statuses.
    Error(&'static [u16]),
    /// A JSON error with this status, whose message mentions this text.
    ErrorMentioning(u16, &'static str),
    /// A JSON error with this status, or a close without a word.
    ErrorOrClosed(u16),
    /// A close without a word.
    Closed,
    /// Any status, as long as the body is JSON and `Content-Length` is right.
    AnyJson,
    /// Any complete HTTP response.
    AnyResponse,
    /// 200, echoing back the body that [`Payload::Body`] sent.
    EchoedBody,
}
// ANCHOR_END: expect

/// Why a check failed, with what a learner needs to see it happen.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What should have happened.
    pub expected: String,
    /// The bytes sent, if one request shows the problem.
    pub sent: Option<Vec<u8>>,
    /// What came back instead.
    pub received: String,
}

impl Check {
    /// Whether this check applies to `stage`.
    pub fn applies_to(&self, stage: Stage) -> bool {
        self.from <= stage && self.until.is_none_or(|until| stage <= until)
    }

    /// What the check waits for, when it waits long enough for a learner
    /// to wonder: "10 s for a 408".
    pub fn waits_for(&self) -> Option<String> {
        if self.id == "day2-deadline-whole-request" {
            return Some(format!(
                "{} s for a 408 while a byte trickles in every 2 s",
                day2::TRICKLE_LIMIT.as_secs()
            ));
        }
        let Probe::Request { expect, .. } = &self.probe else {
            return None;
        };
        let status = match expect {
            Expect::ErrorOrClosed(status) | Expect::ErrorMentioning(status, _) => *status,
            Expect::Error(statuses) => *statuses.first()?,
            _ => return None,
        };
        (status == 408).then(|| format!("{} s for a 408", wire::DEFAULT_WAIT.as_secs()))
    }

    /// Runs the check against `server`.
    pub fn run(&self, server: &Server) -> Result<(), Failure> {
        let addr = server.addr();
        match &self.probe {
            Probe::Script(run) => run(addr),
            Probe::Process(run) => run(server),
            Probe::Request { payload, expect } => {
                let exchange = payload.exchange();
                let reply = exchange.run(addr);
                if let Err(expected) = expect.verify(&reply, payload) {
                    return Err(Failure {
                        expected,
                        sent: Some(exchange.bytes()),
                        received: reply.describe(),
                    });
                }
                still_answers(addr, Some(&exchange.bytes()))
            }
        }
    }
}

/// Every check, in the order of the book.
pub fn all() -> impl Iterator<Item = &'static Check> {
    day1::CHECKS
        .iter()
        .chain(day2::CHECKS)
        .chain(day3::CHECKS)
        .chain(day4::CHECKS)
        .chain(r#final::CHECKS)
}

/// The checks a server of `stage` must pass.
pub fn for_stage(stage: Stage) -> Vec<&'static Check> {
    all().filter(|check| check.applies_to(stage)).collect()
}

/// Checks whose requests go on after the check has its verdict: handlers
/// that sleep for seconds. On a server the next check shares (`check
/// --addr`, `check --cmd`), they run last, or a server without worker
/// threads would still be asleep when the next check asks it something.
pub const LEAVE_THE_SERVER_BUSY: &[&str] =
    &["day4-concurrent-sleeps", "final-sleepers-do-not-block"];

/// Checks whose verdict is a time bound while the server is busy. The
/// steps proof runs them after everything else: beside builds and other
/// servers on two cores, they would measure the machine. (Beside each
/// other they hardly would: each spends its time with its server asleep.)
pub const TIMED: &[&str] = &[
    "final-sleepers-do-not-block",
    "day4-concurrent-sleeps",
    "final-idle-clients-do-not-starve",
];

/// The checks `stage` introduces: the ones the stage before must fail.
pub fn introduced_by(stage: Stage) -> Vec<&'static Check> {
    all().filter(|check| check.from == stage).collect()
}

/// The check called `id`.
pub fn find(id: &str) -> Option<&'static Check> {
    all().find(|check| check.id == id)
}

impl Payload {
    /// The exchange that sends this payload.
    pub fn exchange(&self) -> Exchange {
        match self {
            Payload::Bytes(bytes) => Exchange::new(*bytes),
            Payload::Pieces(pieces) => Exchange {
                segments: pieces.iter().map(|piece| piece.to_vec()).collect(),
                ..Exchange::new(Vec::new())
            },
            Payload::BytesThenHalfClose(bytes) => Exchange {
                half_close: true,
                ..Exchange::new(*bytes)
            },
            Payload::Body { len, split } => {
                let head = format!(
                    "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len}\r\n\r\n"
                );
                let body = vec![b'x'; *len];
                let segments = if *split {
                    vec![head.into_bytes(), body]
                } else {
                    vec![[head.into_bytes(), body].concat()]
                };
                Exchange {
                    segments,
                    ..Exchange::new(Vec::new())
                }
            }
            Payload::Nothing => Exchange {
                segments: Vec::new(),
                ..Exchange::new(Vec::new())
            },
        }
    }
}

impl Expect {
    /// `Ok` when `reply` is what this expects; otherwise what was expected.
    pub fn verify(&self, reply: &Reply, payload: &Payload) -> Result<(), String> {
        match (self, reply) {
            (Expect::Closed, Reply::Closed) => Ok(()),
            (Expect::Closed, _) => Err("the server closes the connection without answering".into()),
            (Expect::ErrorOrClosed(_), Reply::Closed) => Ok(()),
            (_, Reply::Response(response)) => self.verify_response(response, payload),
            (_, _) => Err(self.describe()),
        }
    }

    fn verify_response(&self, response: &RawResponse, payload: &Payload) -> Result<(), String> {
        let wanted = self.describe();
        match self {
            Expect::Closed => Err(wanted),
            Expect::AnyResponse => Ok(()),
            Expect::AnyJson => json_body(response).map(drop),
            Expect::Error(statuses) => {
                if !statuses.contains(&response.status) {
                    return Err(wanted);
                }
                error_body(response)
            }
            Expect::ErrorOrClosed(status) => {
                expect_status(response, *status)?;
                error_body(response)
            }
            Expect::ErrorMentioning(status, text) => {
                expect_status(response, *status)?;
                error_body(response)?;
                let json = response.json()?;
                match json.pointer("/error").and_then(Value::as_str) {
                    Some(message) if message.contains(text) => Ok(()),
                    _ => Err(wanted),
                }
            }
            Expect::ErrorWithHeader(status, name, value) => {
                expect_status(response, *status)?;
                match response.header(name) {
                    Some(got) if lists_all(got, value) => error_body(response),
                    _ => Err(wanted),
                }
            }
            Expect::Json(status, pointers) => {
                expect_status(response, *status)?;
                let json = json_body(response)?;
                for (pointer, expected) in *pointers {
                    let expected: Value = serde_json::from_str(expected)
                        .unwrap_or_else(|_| Value::String(expected.to_string()));
                    if json.pointer(pointer) != Some(&expected) {
                        return Err(wanted);
                    }
                }
                Ok(())
            }
            Expect::EchoedBody => {
                expect_status(response, 200)?;
                let Payload::Body { len, .. } = payload else {
                    return Err("EchoedBody goes with Payload::Body".into());
                };
                let json = json_body(response)?;
                match json.pointer("/body").and_then(Value::as_str) {
                    Some(body) if body.len() == *len && body.bytes().all(|b| b == b'x') => Ok(()),
                    Some(body) => Err(format!(
                        "200 echoing all {len} body bytes, but \"body\" holds {} bytes",
                        body.len()
                    )),
                    None => Err(wanted),
                }
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            Expect::Json(status, pointers) => {
                let values: Vec<String> = pointers
                    .iter()
                    .map(|(pointer, value)| format!("{pointer} = {value}"))
                    .collect();
                if values.is_empty() {
                    format!("{} with a JSON body", status_line(*status))
                } else {
                    format!("{} with JSON {}", status_line(*status), values.join(", "))
                }
            }
            Expect::ErrorWithHeader(status, name, value) => {
                format!("{} with `{name}: {value}`", status_line(*status))
            }
            Expect::Error(statuses) => {
                let lines: Vec<String> = statuses.iter().map(|s| status_line(*s)).collect();
                format!(
                    "{} with a JSON body {{\"error\": \"…\"}}",
                    lines.join(" or ")
                )
            }
            Expect::ErrorMentioning(status, text) => format!(
                "{} with a JSON error whose message mentions {text:?}",
                status_line(*status)
            ),
            Expect::ErrorOrClosed(status) => format!(
                "{} with a JSON error body, or a close without an answer",
                status_line(*status)
            ),
            Expect::Closed => "the server closes the connection without answering".into(),
            Expect::AnyJson => {
                "a complete response with `Content-Type: application/json` and a JSON body".into()
            }
            Expect::AnyResponse => "a complete HTTP response".into(),
            Expect::EchoedBody => "200 echoing the whole body back in \"body\"".into(),
        }
    }
}

/// Whether the header value `got` holds every comma-separated item of
/// `wanted`.
fn lists_all(got: &str, wanted: &str) -> bool {
    let items = || got.split(',').map(str::trim);
    wanted
        .split(',')
        .map(str::trim)
        .all(|item| items().any(|have| have.eq_ignore_ascii_case(item)))
}

/// `HTTP/1.1 404 Not Found`, for messages.
pub fn status_line(status: u16) -> String {
    match wire::reason_phrase(status) {
        Some(reason) => format!("HTTP/1.1 {status} {reason}"),
        None => format!("HTTP/1.1 {status}"),
    }
}

/// The status code must be `status`, and the status line must carry the
/// reason phrase RFC 9110 gives it.
pub fn expect_status(response: &RawResponse, status: u16) -> Result<(), String> {
    let expected = status_line(status);
    if response.status != status || response.status_line != expected {
        return Err(format!("the status line `{expected}`"));
    }
    Ok(())
}

/// The body, which must be JSON and labelled as JSON.
pub fn json_body(response: &RawResponse) -> Result<Value, String> {
    let content_type = response.header("content-type").unwrap_or_default();
    if !content_type.starts_with("application/json") {
        return Err(format!(
            "`Content-Type: application/json`, not {:?}",
            content_type
        ));
    }
    if response.header("content-length").is_none() {
        return Err("a `Content-Length` header".into());
    }
    response.json()
}

/// The body must be `{"error": "some message"}`.
fn error_body(response: &RawResponse) -> Result<(), String> {
    let json = json_body(response)?;
    match json.pointer("/error") {
        Some(Value::String(message)) if !message.is_empty() => Ok(()),
        _ => Err("a JSON body {\"error\": \"…\"} saying what is wrong".into()),
    }
}

/// Connects to `addr` and sends `bytes`, for checks that keep talking on
/// the connection afterwards.
pub fn open(addr: SocketAddr, bytes: &[u8]) -> Result<std::net::TcpStream, Failure> {
    Exchange::new(bytes).open(addr).map_err(|err| Failure {
        expected: "the server accepts connections".into(),
        sent: Some(bytes.to_vec()),
        received: err,
    })
}

/// The request every wire check sends afterwards, to prove the server
/// survived: any complete answer will do.
pub const PLAIN_GET: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

/// The server must still answer a plain `GET /` after `before` (the bytes
/// of the check's own request, if it sent any). A failure names `before`
/// as what was sent: those are the bytes that broke the server, and the
/// ones a learner needs to reproduce it.
pub fn still_answers(addr: SocketAddr, before: Option<&[u8]>) -> Result<(), Failure> {
    match Exchange::new(PLAIN_GET).run(addr) {
        Reply::Response(_) => Ok(()),
        other => Err(Failure {
            expected: "the server still answers a plain GET / afterwards".into(),
            sent: before.map(<[u8]>::to_vec),
            received: format!("the plain GET / that followed got: {}", other.describe()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_checks_that_leave_a_server_busy_exist() {
        for id in LEAVE_THE_SERVER_BUSY {
            assert!(find(id).is_some(), "no check {id}");
        }
    }

    #[test]
    fn ids_are_unique_and_start_with_their_stage() {
        let mut seen = HashSet::new();
        for check in all() {
            assert!(seen.insert(check.id), "duplicate check id {}", check.id);
            assert!(
                check.id.starts_with(&format!("{}-", check.from)),
                "{} should start with {}-",
                check.id,
                check.from
            );
        }
    }

    #[test]
    fn every_one_request_check_has_a_reproducer_that_sends_its_bytes() {
        // Checks that are scripts show the bytes of the request that went
        // wrong; `tests/gate.rs` proves their `try:` lines on failures.
        for check in all() {
            if let Probe::Request { payload, .. } = &check.probe {
                let bytes = payload.exchange().bytes();
                let command = crate::report::reproducer(crate::report::LEARNER_ADDR, &bytes);
                assert_eq!(
                    crate::report::bytes_of_reproducer(&command),
                    Ok(bytes),
                    "{}: {command}",
                    check.id
                );
            }
        }
    }

    #[test]
    fn every_stage_after_the_first_introduces_checks() {
        for stage in Stage::ALL {
            assert!(
                !introduced_by(stage).is_empty(),
                "{stage} introduces no check"
            );
        }
    }
}

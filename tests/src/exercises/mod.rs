//! The workshop's exercises: small extensions beyond the devlog, each with
//! a check, layered hints and a reference solution.
//!
//! An exercise extends one stage: its check fails on that stage as it is,
//! and passes once the stage has the feature. `tests/tests/exercises.rs`
//! proves both, for every exercise, by applying the solution patch in
//! `tests/solutions/<id>.patch` to a copy of the stage.
//!
//! Exercises are not part of any stage, so the stage gate never runs them:
//! the stages stay exactly what their chapters describe.

mod day1;
mod day2;
mod day3;
mod day4;
mod r#final;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::checks::{Check, Expect, Failure, Send};
use crate::stage::Stage;
use crate::wire::{self, Exchange, RawResponse, Reply};

// ANCHOR: exercise
/// One exercise.
pub struct Exercise {
    /// What the exercise asks, as a check. Its `id` is the exercise's stable
    /// id, `from` the stage it extends, and `hint` the first hint.
    pub check: Check,
    /// Further hints, each more direct than the last, revealed one at a time
    /// by `check <id> --hint`.
    pub more_hints: &'static [&'static str],
}
// ANCHOR_END: exercise

impl Exercise {
    pub fn id(&self) -> &'static str {
        self.check.id
    }

    /// The stage this exercise extends.
    pub fn stage(&self) -> Stage {
        self.check.from
    }

    /// Every hint, first to last.
    pub fn hints(&self) -> Vec<&'static str> {
        std::iter::once(self.check.hint)
            .chain(self.more_hints.iter().copied())
            .collect()
    }

    /// The reference solution: a patch against the stage's crate.
    pub fn solution(&self) -> PathBuf {
        solutions_dir().join(format!("{}.patch", self.id()))
    }
}

/// Every exercise, in the order of the book.
pub fn all() -> impl Iterator<Item = &'static Exercise> {
    day1::EXERCISES
        .iter()
        .chain(day2::EXERCISES)
        .chain(day3::EXERCISES)
        .chain(day4::EXERCISES)
        .chain(r#final::EXERCISES)
}

/// The exercise called `id`.
pub fn find(id: &str) -> Option<&'static Exercise> {
    all().find(|exercise| exercise.id() == id)
}

/// The exercises that extend `stage`.
pub fn extending(stage: Stage) -> Vec<&'static Exercise> {
    all().filter(|exercise| exercise.stage() == stage).collect()
}

/// `tests/solutions`, where the solution patches live.
pub fn solutions_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("solutions")
}

/// Sends `sent` on a new connection and checks the answer against
/// `expect`; returns the answer for a closer look.
pub(crate) fn ask(addr: SocketAddr, sent: &[u8], expect: Expect) -> Result<RawResponse, Failure> {
    let reply = Exchange::new(sent.to_vec()).run(addr);
    match expect.verify(&reply, &Send::Bytes(b"")) {
        Ok(()) => match reply {
            Reply::Response(response) => Ok(response),
            other => Err(failure(expect_text(&expect), sent, other.describe())),
        },
        Err(expected) => Err(failure(expected, sent, reply.describe())),
    }
}

fn expect_text(expect: &Expect) -> String {
    // Only reached for a reply that verified without being a response,
    // which no `Expect` used here allows; say what was wanted anyway.
    match expect {
        Expect::Closed | Expect::ErrorOrClosed(_) => "a closed connection".into(),
        _ => "a complete HTTP response".into(),
    }
}

pub(crate) fn failure(expected: impl Into<String>, sent: &[u8], received: String) -> Failure {
    Failure {
        expected: expected.into(),
        sent: Some(sent.to_vec()),
        received,
    }
}

/// The number at `pointer` in a JSON answer, if there is one.
pub(crate) fn number_at(response: &RawResponse, pointer: &str) -> Option<u64> {
    response.json().ok()?.pointer(pointer)?.as_u64()
}

/// Sends `HEAD path` and `GET path`, and checks that the `HEAD` answer has
/// the same status and `Content-Length` as the `GET` one, and no body.
///
/// A `HEAD` answer announces a length but sends no body (RFC 9110, section
/// 9.3.2), so an ordinary client cannot read it: it would wait for the body.
/// We ask with `Connection: close` and read until the server hangs up, so
/// that any stray body bytes show.
pub(crate) fn head_matches_get(addr: SocketAddr, path: &str) -> Result<(), Failure> {
    let get = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    let head = format!("HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    let get_answer = ask(addr, get.as_bytes(), Expect::AnyResponse)?;
    let want_length = get_answer.header("content-length").unwrap_or("none");

    let stream = Exchange::new(head.clone().into_bytes())
        .open(addr)
        .map_err(|err| failure("the server accepts connections", head.as_bytes(), err))?;
    let received = wire::read_to_close(stream, Instant::now() + Duration::from_secs(5));
    let text = String::from_utf8_lossy(&received).into_owned();
    let expected = format!(
        "`{}` with `Content-Length: {want_length}` (the GET answer's) and no body",
        get_answer.status_line
    );
    let Some((head_text, body)) = text.split_once("\r\n\r\n") else {
        return Err(failure(expected, head.as_bytes(), text));
    };
    let mut lines = head_text.lines();
    let same_status = lines.next() == Some(get_answer.status_line.as_str());
    let length = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .map(|(_, value)| value.trim());
    if same_status && length == Some(want_length) && body.is_empty() {
        Ok(())
    } else {
        Err(failure(expected, head.as_bytes(), text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_never_clash_with_checks() {
        let mut seen = HashSet::new();
        for exercise in all() {
            assert!(seen.insert(exercise.id()), "{} twice", exercise.id());
            assert!(
                crate::checks::find(exercise.id()).is_none(),
                "{} is also a check",
                exercise.id()
            );
            assert!(
                exercise.id().starts_with(exercise.stage().name()),
                "{} should start with its stage's name",
                exercise.id()
            );
        }
    }

    #[test]
    fn three_or_more_per_stage_each_with_two_or_more_hints() {
        for stage in Stage::ALL {
            assert!(extending(stage).len() >= 3, "{stage} has too few exercises");
        }
        for exercise in all() {
            assert!(exercise.hints().len() >= 2, "{}", exercise.id());
        }
    }
}

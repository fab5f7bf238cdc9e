//! Running checks and saying how they went, the way `check` prints it.

use std::fmt::Write as _;
use std::net::SocketAddr;

use crate::checks::{Check, Failure};
use crate::wire;

/// The most of a reply we print: enough to see the problem, not a page of `x`.
const SHOWN_BYTES: usize = 600;

/// One check's result.
pub struct Outcome {
    pub check: &'static Check,
    pub result: Result<(), Failure>,
}

/// Runs `checks` one after another against the server at `addr`.
///
/// One after another, because a learner's server may serve one connection
/// at a time, and a check that holds a connection open would otherwise
/// disturb the timing of the next.
pub fn run_all(checks: &[&'static Check], addr: SocketAddr) -> Vec<Outcome> {
    checks
        .iter()
        .map(|check| Outcome {
            check,
            result: check.run(addr),
        })
        .collect()
}

/// One line for the check, and for a failure, what was sent, what came
/// back, how to reproduce it and a hint.
pub fn describe(outcome: &Outcome, addr: SocketAddr) -> String {
    let check = outcome.check;
    let Err(failure) = &outcome.result else {
        return format!("✓ {:<34} {}\n", check.id, check.title);
    };
    let mut text = format!("✗ {:<34} {}\n", check.id, check.title);
    let _ = writeln!(text, "    expected: {}", failure.expected);
    if let Some(sent) = &failure.sent {
        let _ = writeln!(text, "    sent:     {}", escape(sent));
    }
    let _ = writeln!(
        text,
        "    received: {}",
        indent(&shorten(&failure.received))
    );
    if let Some(sent) = &failure.sent {
        let _ = writeln!(text, "    try:      {}", wire::reproducer(addr, sent));
    }
    let _ = writeln!(text, "    hint:     {}", check.hint);
    text
}

/// `passed, failed` counts, on the line test tools look for.
pub fn summary(outcomes: &[Outcome]) -> String {
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    format!("{} passed, {failed} failed", outcomes.len() - failed)
}

/// Bytes as a Rust-style string literal, so `\r\n` and stray bytes show.
fn escape(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(SHOWN_BYTES)];
    let mut text = format!("\"{}\"", shown.escape_ascii());
    if bytes.len() > shown.len() {
        let _ = write!(text, " … ({} bytes in all)", bytes.len());
    }
    text
}

fn shorten(text: &str) -> String {
    if text.len() <= SHOWN_BYTES {
        return text.to_string();
    }
    let mut cut = SHOWN_BYTES;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{} … ({} bytes in all)", &text[..cut], text.len())
}

fn indent(text: &str) -> String {
    text.trim_end().replace('\n', "\n              ")
}

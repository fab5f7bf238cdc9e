//! Running checks and saying how they went, the way `check` prints it.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::net::SocketAddr;
use std::time::Duration;

use crate::checks::{Check, Failure};
use crate::notation;
use crate::server::Server;

/// The most of a reply we print: enough to see the problem, not a page of `x`.
const SHOWN_BYTES: usize = 600;

/// One check's result.
pub struct Outcome {
    pub check: &'static Check,
    pub result: Result<(), Failure>,
    /// How the server died during the check, if it did.
    pub crash: Option<Crash>,
}

/// A server that exited while a check ran: a crash is reported as a crash,
/// not as the "connection refused" that follows it.
#[derive(Debug, Clone)]
pub struct Crash {
    /// How it exited, as the system says it (`exit status: 101`).
    pub status: String,
    /// The last lines it printed (a panic message, usually).
    pub last_lines: Vec<String>,
}

/// How many of the server's last lines a crash report shows.
const CRASH_LINES: usize = 8;

/// Runs `checks` one after another, each against a server from `start`.
///
/// One after another, because a learner's server may serve one connection
/// at a time, and a check that holds a connection open would otherwise
/// disturb the timing of the next. With `fresh`, every check gets a server
/// of its own, so a check that crashes or wedges the server cannot fail the
/// next one; without it (a server someone else started), one server serves
/// them all, and a crash is reported once. `before` is called as each
/// check starts, with its number, for a progress line.
pub fn run_all(
    checks: &[&'static Check],
    start: &dyn Fn() -> Result<Server, String>,
    fresh: bool,
    mut before: impl FnMut(usize, &Check),
) -> Result<Vec<Outcome>, String> {
    let mut outcomes = Vec::new();
    let mut shared: Option<Server> = None;
    for (index, &check) in checks.iter().enumerate() {
        before(index, check);
        let mut own;
        let server = if fresh {
            own = start()?;
            &mut own
        } else {
            match &mut shared {
                Some(server) => server,
                none => none.insert(start()?),
            }
        };
        let result = check.run(server);
        // A failed check may have been a crash: give the exit a moment to
        // show. A passed one is only asked, at no cost.
        let status = if result.is_err() {
            server.exited_within(Duration::from_millis(500))
        } else {
            server.exited()
        };
        let crash = status.map(|status| Crash {
            status: status.to_string(),
            last_lines: last_lines(&server.output(), CRASH_LINES),
        });
        if crash.is_some() && !fresh {
            shared = None;
        }
        outcomes.push(Outcome {
            check,
            result,
            crash,
        });
    }
    Ok(outcomes)
}

/// The lines that say why a server died: from its last panic message on,
/// if it panicked (a backtrace after it is cut short), else its last lines.
fn last_lines(text: &str, count: usize) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let from = lines
        .iter()
        .rposition(|line| line.contains("panicked at"))
        .unwrap_or(lines.len().saturating_sub(count));
    lines[from..]
        .iter()
        .take(count)
        .map(|line| line.to_string())
        .collect()
}

/// Where a learner's server listens when they run it by hand
/// (`cargo run -p NAME`): what `try:` lines assume.
pub const LEARNER_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 5000);

/// One line for the check, and for a failure, what was sent, what came
/// back, a command that sends the same bytes to `reproduce_at`, and a hint.
/// Long payloads are summarised (`"x" × 1024`) unless `full`.
pub fn describe(outcome: &Outcome, reproduce_at: SocketAddr, full: bool) -> String {
    let check = outcome.check;
    let Err(failure) = &outcome.result else {
        return format!("✓ {:<34} {}\n", check.id, check.title);
    };
    let mut text = format!("✗ {:<34} {}\n", check.id, check.title);
    if let Some(crash) = &outcome.crash {
        let _ = writeln!(
            text,
            "    crashed:  your server exited ({}) during this check{}",
            crash.status,
            if failure.sent.is_some() {
                ", after the bytes under `sent:`"
            } else {
                ""
            }
        );
        if !crash.last_lines.is_empty() {
            let _ = writeln!(text, "    its last lines:");
            for line in &crash.last_lines {
                let _ = writeln!(text, "      | {line}");
            }
        }
    }
    let _ = writeln!(text, "    expected: {}", failure.expected);
    if let Some(sent) = &failure.sent {
        let shown = if full {
            format!("\"{}\"", notation::escape(sent))
        } else {
            notation::summarise(sent)
        };
        let _ = writeln!(text, "    sent:     {shown}");
    }
    let _ = writeln!(
        text,
        "    received: {}",
        indent(&shorten(&failure.received, full))
    );
    if let Some(sent) = &failure.sent {
        let _ = writeln!(text, "    try:      {}", reproducer(reproduce_at, sent));
    }
    let _ = writeln!(text, "    hint:     {}", check.hint);
    text
}

/// A command that sends exactly `bytes` to `addr` and prints the answer:
/// the repository's own `send`, which needs nothing installed and takes
/// long runs of one byte as `'x' --times 1024`.
pub fn reproducer(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut command = format!("cargo run -q -p tests --bin send -- {addr}");
    for piece in send_arguments(bytes) {
        let _ = write!(command, " {piece}");
    }
    command
}

/// `bytes` as arguments of `send`: quoted pieces in the notation of
/// [`notation`], each long run of one byte as `'x' --times N`.
pub fn send_arguments(bytes: &[u8]) -> Vec<String> {
    let mut arguments = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..].iter().take_while(|&&b| b == bytes[i]).count();
        if run > 32 {
            if start < i {
                arguments.push(format!("'{}'", notation::escape(&bytes[start..i])));
            }
            arguments.push(format!("'{}'", notation::escape(&bytes[i..=i])));
            arguments.push(format!("--times {run}"));
            start = i + run;
        }
        i += run;
    }
    if start < bytes.len() {
        arguments.push(format!("'{}'", notation::escape(&bytes[start..])));
    }
    arguments
}

/// The bytes that `send`'s arguments stand for: the inverse of
/// [`send_arguments`], after the shell has removed the quotes.
pub fn parse_send_arguments(arguments: &[String]) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let mut last: Vec<u8> = Vec::new();
    let mut arguments = arguments.iter();
    while let Some(argument) = arguments.next() {
        if argument == "--times" {
            let count: usize = arguments
                .next()
                .and_then(|count| count.parse().ok())
                .filter(|count| *count >= 1)
                .ok_or("--times needs a count of 1 or more")?;
            bytes.extend(std::iter::repeat_n(last.as_slice(), count - 1).flatten());
            continue;
        }
        last = notation::unescape(argument)?;
        bytes.extend_from_slice(&last);
    }
    Ok(bytes)
}

/// The bytes a [`reproducer`] command line sends: its words after
/// `-- ADDR`, read as a POSIX shell would (its quotes are all single
/// quotes), then as `send` does. Tests use it to prove that every `try:`
/// line sends exactly what its check sent.
pub fn bytes_of_reproducer(command: &str) -> Result<Vec<u8>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in command.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => words.extend((!word.is_empty()).then(|| std::mem::take(&mut word))),
            c => word.push(c),
        }
    }
    words.extend((!word.is_empty()).then_some(word));
    let after = words
        .iter()
        .position(|word| word == "--")
        .ok_or("no -- in the command")?;
    // Skip `--` and the address.
    parse_send_arguments(words.get(after + 2..).unwrap_or_default())
}

/// A line saying which check runs now, and what it waits for when it
/// waits long, for a terminal: cleared again before the result is printed.
pub fn progress(index: usize, total: usize, check: &Check) {
    if !std::io::stdout().is_terminal() {
        return;
    }
    let waits = check
        .waits_for()
        .map(|what| format!(" (waiting up to {what})"))
        .unwrap_or_default();
    print!("\r\x1b[2K[{}/{total}] {}{waits}…\r", index + 1, check.id);
    let _ = std::io::stdout().flush();
}

/// `passed, failed` counts, on the line test tools look for.
pub fn summary(outcomes: &[Outcome]) -> String {
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    format!("{} passed, {failed} failed", outcomes.len() - failed)
}

fn shorten(text: &str, full: bool) -> String {
    if full || text.len() <= SHOWN_BYTES {
        return text.to_string();
    }
    let mut cut = SHOWN_BYTES;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{} … ({} bytes in all; --full shows them)",
        &text[..cut],
        text.len()
    )
}

fn indent(text: &str) -> String {
    text.trim_end().replace('\n', "\n              ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_arguments_round_trip() {
        let body = [
            b"POST /echo HTTP/1.1\r\nContent-Length: 1024\r\n\r\n".as_slice(),
            &[b'x'; 1024],
        ]
        .concat();
        let rows: [&[u8]; 4] = [
            b"GET / HTTP/1.1\r\n\r\n",
            b"GET /\xff it's\r\n",
            &body,
            &[b'a'; 40],
        ];
        for bytes in rows {
            let command = reproducer(LEARNER_ADDR, bytes);
            assert!(command.starts_with("cargo run -q -p tests --bin send -- 127.0.0.1:5000 "));
            assert_eq!(bytes_of_reproducer(&command), Ok(bytes.to_vec()));
        }
        assert_eq!(
            reproducer(LEARNER_ADDR, &body),
            "cargo run -q -p tests --bin send -- 127.0.0.1:5000 'POST /echo HTTP/1.1\\r\\nContent-Length: 1024\\r\\n\\r\\n' 'x' --times 1024"
        );
    }
}

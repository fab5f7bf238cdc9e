//! The devlog's bugs, and what proves that our stages left each one behind.
//!
//! The book's "What the devlog did" sections make claims of the form "the
//! devlog did X, and check Y catches it". A claim like that is only worth
//! something if Y really fails on X. So the devlog's approach is rebuilt,
//! bugs and all, as the fixture `tests/devlog` (`devlog --day N`), and this
//! table says, bug by bug, what must happen:
//!
//! - each check listed for a bug fails on the fixture of that day, in the
//!   way the table says (a crash, a hang, or a wrong answer), and passes on
//!   the stage that fixes the bug (`tests/tests/devlog.rs` runs them all);
//! - a bug that no request can provoke names the test or lint that pins it
//!   instead;
//! - the book tells every bug here, under its bold lead words, and names its
//!   checks next to them; every check a "What the devlog did" section names
//!   is in this table (`tests/tests/book.rs`).
//!
//! One table, so that the book, the fixture and the checks cannot drift
//! apart without a test noticing.

use crate::stage::Stage;

/// One bug of the devlog.
pub struct DevlogBug {
    /// The day of the devlog that had it, which is also the fixture's
    /// `--day`.
    pub day: u8,
    /// Our stage that fixes it: the listed checks pass there.
    pub fixed_in: Stage,
    /// The book page whose "What the devlog did" section tells it.
    pub page: &'static str,
    /// The bold words that open its paragraph on that page, without the
    /// `**` around them.
    pub lead: &'static str,
    /// What proves the fix.
    pub pin: Pin,
}

/// What proves that a bug is gone.
pub enum Pin {
    /// Checks of the catalogue, each with the way the fixture fails it.
    Checks(&'static [(&'static str, Fails)]),
    /// No request can provoke the bug, so a test does: the file it lives
    /// in, relative to the repository's root, and its name.
    Test {
        file: &'static str,
        name: &'static str,
    },
    /// No test can provoke it either, so a Clippy lint that CI runs with
    /// warnings as errors rejects the code that has it.
    Lint(&'static str),
}

/// How the fixture fails a check. Saying which keeps the table honest: a
/// check that fails for some other reason than the bug it is listed under
/// would not notice the bug coming back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fails {
    /// The fixture's process exits: a panic on the main thread.
    Crash,
    /// No answer within the check's wait. What the fixture does once the
    /// check gives up and hangs up does not count: it may well crash then.
    Hang,
    /// An answer, or a close, that is not what the check expects; the
    /// process still runs.
    Wrong,
}

use Fails::{Crash, Hang, Wrong};

/// Every bug, in the order of the book.
pub static BUGS: &[DevlogBug] = &[
    // Day 1.
    DevlogBug {
        day: 1,
        fixed_in: Stage::Day1,
        page: "day1.md",
        lead: "The body was not JSON.",
        pin: Pin::Checks(&[("day1-valid-json", Wrong)]),
    },
    DevlogBug {
        day: 1,
        fixed_in: Stage::Day1,
        page: "day1.md",
        lead: "`unwrap` on every line read.",
        pin: Pin::Checks(&[("day1-survives-bad-bytes", Crash)]),
    },
    DevlogBug {
        day: 1,
        fixed_in: Stage::Day1,
        page: "day1.md",
        lead: "`unwrap` on every accepted stream.",
        pin: Pin::Test {
            file: "tests/tests/devlog.rs",
            name: "a_failed_accept_stops_only_the_devlog",
        },
    },
    DevlogBug {
        day: 1,
        fixed_in: Stage::Day1,
        page: "day1.md",
        lead: "`write` instead of `write_all`.",
        pin: Pin::Lint("unused_io_amount"),
    },
    // Day 2.
    DevlogBug {
        day: 2,
        fixed_in: Stage::Day2,
        page: "day2.md",
        lead: "It stopped reading when a `read` returned fewer than 1024 bytes.",
        pin: Pin::Checks(&[
            ("day2-split-writes", Crash),
            ("day2-body-1024", Hang),
            ("day2-body-late", Wrong),
        ]),
    },
    DevlogBug {
        day: 2,
        fixed_in: Stage::Day2,
        page: "day2.md",
        lead: "It read again after a read error.",
        pin: Pin::Test {
            file: "day2/src/request.rs",
            name: "a_read_error_ends_the_request_with_that_error",
        },
    },
    DevlogBug {
        day: 2,
        fixed_in: Stage::Day2,
        page: "day2.md",
        lead: "`String::from_utf8(…).unwrap()`.",
        pin: Pin::Checks(&[("day2-invalid-utf8", Crash)]),
    },
    DevlogBug {
        day: 2,
        fixed_in: Stage::Day2,
        page: "day2.md",
        lead: "Unwrapping the request line.",
        pin: Pin::Checks(&[("day2-not-http", Crash), ("day1-empty-connection", Crash)]),
    },
    DevlogBug {
        day: 2,
        fixed_in: Stage::Day2,
        page: "day2.md",
        lead: "The version was never read.",
        pin: Pin::Checks(&[
            ("day2-missing-version", Wrong),
            ("day2-http-version", Wrong),
        ]),
    },
    DevlogBug {
        day: 2,
        fixed_in: Stage::Day2,
        page: "day2.md",
        lead: "Unwrapping the position of the empty line.",
        pin: Pin::Checks(&[
            ("day2-no-blank-line", Crash),
            ("day2-bare-newlines", Crash),
            ("day2-partial-request-timeout", Crash),
        ]),
    },
    DevlogBug {
        day: 2,
        fixed_in: Stage::Day2,
        page: "day2.md",
        lead: "Ignoring `Content-Length` and `Transfer-Encoding`.",
        pin: Pin::Checks(&[
            ("day2-bad-content-length", Wrong),
            ("day2-negative-content-length", Wrong),
            ("day2-two-content-lengths", Wrong),
            ("day2-repeated-content-length", Wrong),
            ("day2-chunked", Wrong),
        ]),
    },
    DevlogBug {
        day: 2,
        fixed_in: Stage::Day2,
        page: "day2.md",
        lead: "Splitting the target on every `?`.",
        pin: Pin::Checks(&[("day2-query-question-mark", Wrong), ("day2-query", Wrong)]),
    },
    DevlogBug {
        day: 2,
        fixed_in: Stage::Day2,
        page: "day2.md",
        lead: "Case-sensitive header names, split on `\": \"`.",
        pin: Pin::Checks(&[
            ("day2-header-names", Wrong),
            ("day2-header-without-colon", Wrong),
        ]),
    },
    DevlogBug {
        day: 2,
        fixed_in: Stage::Day2,
        page: "day2.md",
        lead: "No limits.",
        pin: Pin::Checks(&[
            ("day2-headers-too-large", Wrong),
            ("day2-body-too-large", Wrong),
            ("day2-silent-client", Hang),
        ]),
    },
    // Day 3.
    DevlogBug {
        day: 3,
        fixed_in: Stage::Day3,
        page: "day3.md",
        lead: "JSON built with `format!` from user input.",
        pin: Pin::Checks(&[("day3-hello-escaping", Wrong)]),
    },
    DevlogBug {
        day: 3,
        fixed_in: Stage::Day3,
        page: "day3.md",
        lead: "Nothing was decoded.",
        pin: Pin::Checks(&[("day3-hello-unicode", Wrong), ("day3-hello-plus", Wrong)]),
    },
    DevlogBug {
        day: 3,
        fixed_in: Stage::Day3,
        page: "day3.md",
        lead: "A \"JSON\" string with doubled braces.",
        pin: Pin::Checks(&[("day1-valid-json", Wrong), ("day1-post-with-body", Wrong)]),
    },
    DevlogBug {
        day: 3,
        fixed_in: Stage::Day3,
        page: "day3.md",
        lead: "400 for an unknown path.",
        pin: Pin::Checks(&[("day3-not-found", Wrong)]),
    },
    DevlogBug {
        day: 3,
        fixed_in: Stage::Day3,
        page: "day3.md",
        lead: "The method was never looked at.",
        pin: Pin::Checks(&[("day3-method-not-allowed", Wrong)]),
    },
    DevlogBug {
        day: 3,
        fixed_in: Stage::Day3,
        page: "day3.md",
        lead: "500 for a request that could not be parsed.",
        pin: Pin::Checks(&[("day2-not-http", Crash)]),
    },
    // Day 4.
    DevlogBug {
        day: 4,
        fixed_in: Stage::Day4,
        page: "day4.md",
        lead: "An unbounded queue.",
        pin: Pin::Test {
            file: "day4/src/thread_pool.rs",
            name: "a_full_queue_makes_execute_wait",
        },
    },
    DevlogBug {
        day: 4,
        fixed_in: Stage::Day4,
        page: "day4.md",
        lead: "No timeouts.",
        pin: Pin::Checks(&[("day4-idle-client-does-not-block", Hang)]),
    },
    DevlogBug {
        day: 4,
        fixed_in: Stage::Day4,
        page: "day4.md",
        lead: "A panicking job killed its worker.",
        pin: Pin::Checks(&[("day4-panic-is-500", Wrong)]),
    },
    DevlogBug {
        day: 4,
        fixed_in: Stage::Final,
        page: "day4.md",
        lead: "`Drop` ran only in a crash.",
        pin: Pin::Test {
            file: "tests/tests/final_server.rs",
            name: "sigterm_finishes_the_request_in_flight_then_exits_0",
        },
    },
    // What the devlog promised and never built: the final server.
    DevlogBug {
        day: 4,
        fixed_in: Stage::Final,
        page: "final-api.md",
        lead: "It promised a to-do API and never built it.",
        pin: Pin::Checks(&[
            ("final-list", Wrong),
            ("final-create", Wrong),
            ("final-get", Wrong),
            ("final-patch", Wrong),
            ("final-delete", Wrong),
            ("final-delete-all", Wrong),
        ]),
    },
    DevlogBug {
        day: 4,
        fixed_in: Stage::Final,
        page: "final-api.md",
        lead: "It wrote JSON by pasting strings together",
        pin: Pin::Checks(&[
            ("day3-hello-escaping", Wrong),
            ("final-bad-json", Wrong),
            ("final-wrong-type", Wrong),
        ]),
    },
    DevlogBug {
        day: 4,
        fixed_in: Stage::Final,
        page: "final-api.md",
        lead: "It knew three status codes",
        pin: Pin::Checks(&[
            ("final-method-not-allowed", Wrong),
            ("final-unsupported-media-type", Wrong),
            ("final-smuggling", Wrong),
        ]),
    },
    DevlogBug {
        day: 4,
        fixed_in: Stage::Day4,
        page: "final-connections.md",
        lead: "Nothing timed out, and the queue had no end.",
        pin: Pin::Checks(&[("day4-idle-client-does-not-block", Hang)]),
    },
];

impl DevlogBug {
    /// The checks listed for this bug, with how the fixture fails each;
    /// empty for a bug pinned by a test or a lint.
    pub fn checks(&self) -> &'static [(&'static str, Fails)] {
        match self.pin {
            Pin::Checks(checks) => checks,
            Pin::Test { .. } | Pin::Lint(_) => &[],
        }
    }
}

/// Every check id the table lists, once each, in table order.
pub fn check_ids() -> Vec<&'static str> {
    let mut ids: Vec<&'static str> = Vec::new();
    for bug in BUGS {
        for (id, _) in bug.checks() {
            if !ids.contains(id) {
                ids.push(id);
            }
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{cargo, checks};

    #[test]
    fn every_listed_check_exists_and_applies_to_the_stage_that_fixes_it() {
        for bug in BUGS {
            assert!((1..=4).contains(&bug.day), "{}: no such day", bug.lead);
            for (id, _) in bug.checks() {
                let check = checks::find(id).unwrap_or_else(|| panic!("no check {id}"));
                assert!(
                    check.applies_to(bug.fixed_in),
                    "{id} does not apply to {}, which fixes {:?}",
                    bug.fixed_in,
                    bug.lead
                );
            }
        }
    }

    #[test]
    fn every_pinning_test_exists() {
        for bug in BUGS {
            if let Pin::Test { file, name } = bug.pin {
                let text = std::fs::read_to_string(cargo::root().join(file))
                    .unwrap_or_else(|err| panic!("{file}: {err}"));
                assert!(
                    text.contains(&format!("fn {name}(")),
                    "{file} has no test {name}, which pins {:?}",
                    bug.lead
                );
            }
        }
    }
}

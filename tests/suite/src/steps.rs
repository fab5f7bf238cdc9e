//! The build-along steps: a stage's chapter cut into small steps, each of
//! which turns a few checks green in a learner's own crate.
//!
//! This table is the one place that says which step owns which check. The
//! book's headings (`## Step 3: Read the body`), `check next`, and the
//! proof in `tests/tests/steps.rs` all read it, so none of them can tell a
//! different story:
//! - `tests/tests/book.rs` makes sure every step has its heading in the
//!   chapter, names exactly its checks, and ends with the `check` command;
//! - `tests/tests/steps.rs` builds the learner's code after each step (as
//!   `workshop::build_along` makes it) and proves that exactly the checks
//!   of the steps done so far pass.
//!
//! A check of the stage that is in no step is one the learner's crate
//! already passed before the first step (day 1's checks, on day 2; days
//! 1 to 4's, on the final server). A step may also turn a check red for a while,
//! when it replaces code that passed it with code that does not yet
//! ([`Step::turns_red`]); a later step names it and turns it green again.

use crate::checks;
use crate::stage::Stage;

/// One step of a chapter.
#[derive(Debug)]
pub struct Step {
    pub stage: Stage,
    /// The chapter the step is in, as `book/src/<chapter>.md`: a day's
    /// own, or one of the final server's.
    pub chapter: &'static str,
    /// 1, 2, 3… in the order of the chapter.
    pub number: usize,
    /// The heading's words after `Step N: `.
    pub title: &'static str,
    /// The checks this step turns green, in the order the book names them.
    /// Empty for a step that no check can see (the book says why).
    pub checks: &'static [&'static str],
    /// The checks this step turns red, until a later step turns them
    /// green again: the final server's event loop replaces a thread pool
    /// that had deadlines and workers before the loop has either.
    pub turns_red: &'static [&'static str],
}

impl Step {
    /// The heading in the chapter, without the `## `.
    pub fn heading(&self) -> String {
        format!("Step {}: {}", self.number, self.title)
    }

    /// The id mdBook gives the heading, for a link: lower case, spaces as
    /// `-`, punctuation dropped.
    pub fn html_id(&self) -> String {
        self.heading()
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect()
    }

    /// Where the step stands among all of its stage's, from 1: the
    /// learner's crate after it is the stage's crate after this many
    /// steps, across the chapters.
    pub fn position(&self) -> usize {
        of_stage(self.stage)
            .iter()
            .position(|step| std::ptr::eq(*step, self))
            .map_or(0, |at| at + 1)
    }
}

/// The chapters that hold `stage`'s steps, in the book's order: a day's
/// own, and those of the final server's chapters that are cut into steps.
pub fn chapters_with_steps(stage: Stage) -> Vec<&'static str> {
    let mut chapters: Vec<&'static str> = Vec::new();
    for step in of_stage(stage) {
        if !chapters.contains(&step.chapter) {
            chapters.push(step.chapter);
        }
    }
    chapters
}

use Stage::{Day1, Day2, Day3, Day4, Final};

pub static STEPS: &[Step] = &[
    Step {
        stage: Day1,
        chapter: "day1",
        number: 1,
        title: "Write the answer down",
        // Nothing sends the answer yet: the compiler is this step's
        // judge, and the chapter says so.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Day1,
        chapter: "day1",
        number: 2,
        title: "Read the request, and answer",
        checks: &[
            "day1-answers",
            "day1-valid-json",
            "day1-hello-world",
            "day1-post-with-body",
            "day1-survives-bad-bytes",
            "day1-empty-connection",
        ],
        turns_red: &[],
    },
    Step {
        stage: Day2,
        chapter: "day2",
        number: 1,
        title: "A library, and what we want out",
        // Types no client can see: the compiler is the judge of steps 1
        // to 4, and the chapter says so.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Day2,
        chapter: "day2",
        number: 2,
        title: "Everything that can go wrong",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Day2,
        chapter: "day2",
        number: 3,
        title: "Where does a request end?",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Day2,
        chapter: "day2",
        number: 4,
        title: "The request line",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Day2,
        chapter: "day2",
        number: 5,
        title: "Echo the request line",
        checks: &[
            "day2-echo-request-line",
            "day2-query",
            "day2-query-question-mark",
            "day2-split-writes",
            "day2-bare-newlines",
            "day2-no-blank-line",
            "day2-not-http",
            "day2-missing-version",
            "day2-invalid-utf8",
        ],
        turns_red: &[],
    },
    Step {
        stage: Day2,
        chapter: "day2",
        number: 6,
        title: "Header lines, and the rules of the request line",
        checks: &[
            "day2-header-names",
            "day2-header-without-colon",
            "day2-http-version",
        ],
        turns_red: &[],
    },
    Step {
        stage: Day2,
        chapter: "day2",
        number: 7,
        title: "Read the body",
        checks: &[
            "day2-body-1023",
            "day2-body-1024",
            "day2-body-1025",
            "day2-body-64k",
            "day2-body-late",
        ],
        turns_red: &[],
    },
    Step {
        stage: Day2,
        chapter: "day2",
        number: 8,
        title: "Refuse the lengths you cannot trust",
        checks: &[
            "day2-bad-content-length",
            "day2-negative-content-length",
            "day2-two-content-lengths",
            "day2-repeated-content-length",
            "day2-chunked",
        ],
        turns_red: &[],
    },
    Step {
        stage: Day2,
        chapter: "day2",
        number: 9,
        title: "Limits on size",
        checks: &["day2-headers-too-large", "day2-body-too-large"],
        turns_red: &[],
    },
    Step {
        stage: Day2,
        chapter: "day2",
        number: 10,
        title: "A deadline for the whole request",
        checks: &["day2-deadline-whole-request"],
        turns_red: &[],
    },
    Step {
        stage: Day2,
        chapter: "day2",
        number: 11,
        title: "A timeout on every read",
        checks: &["day2-partial-request-timeout", "day2-silent-client"],
        turns_red: &[],
    },
    Step {
        stage: Day2,
        chapter: "day2",
        number: 12,
        title: "Hang up gently",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Day3,
        chapter: "day3",
        number: 1,
        title: "A response, as a value",
        // Nothing builds a response yet: the compiler is this step's
        // judge, and the chapter says so.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Day3,
        chapter: "day3",
        number: 2,
        title: "A response, as bytes",
        // Still not sent: the unit tests the step shows are its judge
        // (`cargo test`), and the chapter says so.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Day3,
        chapter: "day3",
        number: 3,
        title: "Route, and answer with a Response",
        checks: &["day3-hello", "day3-hello-name", "day3-not-found"],
        turns_red: &[],
    },
    Step {
        stage: Day3,
        chapter: "day3",
        number: 4,
        title: "Decode the query",
        checks: &[
            "day3-hello-unicode",
            "day3-hello-plus",
            "day3-hello-escaping",
        ],
        turns_red: &[],
    },
    Step {
        stage: Day3,
        chapter: "day3",
        number: 5,
        title: "A slow route, and 405 for the wrong method",
        checks: &["day3-sleep", "day3-sleep-bad-ms", "day3-method-not-allowed"],
        turns_red: &[],
    },
    Step {
        stage: Day4,
        chapter: "day4",
        number: 1,
        title: "Workers that wait for jobs",
        // Nothing starts a worker yet: the compiler is this step's judge,
        // and its warnings say what step 2 will use.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Day4,
        chapter: "day4",
        number: 2,
        title: "A pool that hands out jobs",
        // Still unused by main: the judge is the compiler, whose warnings
        // from step 1 are gone, and the chapter says so.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Day4,
        chapter: "day4",
        number: 3,
        title: "Hand each connection to the pool",
        checks: &["day4-concurrent-sleeps", "day4-idle-client-does-not-block"],
        turns_red: &[],
    },
    Step {
        stage: Day4,
        chapter: "day4",
        number: 4,
        title: "A panic costs one 500",
        checks: &["day4-panic-is-500"],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-groundwork",
        number: 1,
        title: "What the command line can say",
        // Nothing calls these steps' code until the new parts take over
        // (step 20), and no check sees a step before it: the compiler is
        // the judge of steps 1 to 19, and the chapter says so.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-groundwork",
        number: 2,
        title: "The values a flag takes",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-groundwork",
        number: 3,
        title: "Reading the flags",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-groundwork",
        number: 4,
        title: "The names we answer to",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-groundwork",
        number: 5,
        title: "What can go wrong",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-groundwork",
        number: 6,
        title: "Where a head ends",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-groundwork",
        number: 7,
        title: "A head, and the forms of its target",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-groundwork",
        number: 8,
        title: "Tokens, hosts and lengths",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-groundwork",
        number: 9,
        title: "Reading a head",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-groundwork",
        number: 10,
        title: "A request, whole",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-groundwork",
        number: 11,
        title: "Listening, and how much to take on",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-groundwork",
        number: 12,
        title: "A reader that keeps its place",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-groundwork",
        number: 13,
        title: "A head, and how its body will come",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-groundwork",
        number: 14,
        title: "A whole request, and the bytes after it",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-groundwork",
        number: 15,
        title: "A response, written by serde",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-groundwork",
        number: 16,
        title: "The bytes on the wire",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-groundwork",
        number: 17,
        title: "Who may ask, and what there is to ask for",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-groundwork",
        number: 18,
        title: "Which handler answers",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-groundwork",
        number: 19,
        title: "Day 4's way of serving, on the new parts",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-groundwork",
        number: 20,
        title: HANDOVER,
        // The new parts take over from day 4's, and with them the reader
        // that calls the stricter parser, which refuses a bare LF.
        checks: &["final-bare-lf-in-head"],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 1,
        title: "A to-do, as the store keeps it",
        // The store comes before the routes that use it, and no check
        // sees it until a route does (step 7): the compiler is the judge
        // of steps 1 to 6, and the chapter says so.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 2,
        title: "Everything the store knows",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 3,
        title: "A change, worked out aside",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 4,
        title: "What a change does",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 5,
        title: "One lock around it all",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 6,
        title: "Changing the store",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 7,
        title: "The list of to-dos",
        checks: &["final-list", "final-method-not-allowed"],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 8,
        title: "A new to-do",
        checks: &[
            "final-create",
            "final-bad-json",
            "final-wrong-type",
            "final-missing-title",
            "final-empty-title",
            "final-no-content-type",
            "final-concurrent-creates",
        ],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 9,
        title: "One to-do, and all of them",
        checks: &[
            "final-get",
            "final-patch",
            "final-delete",
            "final-delete-all",
        ],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 10,
        title: "A Date on every answer",
        checks: &["final-date"],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 11,
        title: "Host, exactly once",
        checks: &["final-host-required", "final-host-twice"],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 12,
        title: "501 for a method nobody here implements",
        checks: &["final-not-implemented"],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 13,
        title: "OPTIONS *",
        checks: &["final-options-star"],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 14,
        title: "A to-do list must not be served stale",
        checks: &["final-cache-control"],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 15,
        title: "The absolute form",
        checks: &["final-absolute-form"],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 16,
        title: "HEAD is GET without the body",
        checks: &["final-head"],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 17,
        title: "414 for a request line that never ends",
        checks: &["final-uri-too-long"],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 18,
        title: "415 for a body labelled as something else",
        checks: &["final-unsupported-media-type"],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 19,
        title: "Serve only our own names",
        checks: &["final-foreign-host"],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 20,
        title: "Refuse pages from other origins",
        checks: &[
            "final-cross-origin-read",
            "final-cross-origin-write",
            "final-cross-origin-preflight",
        ],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-api",
        number: 21,
        title: "CORS, when you ask for it",
        // No check starts the server with `--cors`: the chapter says so,
        // and shows the exchange the integration tests record.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-bodies",
        number: 1,
        title: "Refuse every doubt about where a body ends",
        checks: &[
            "final-smuggling",
            "final-chunked-not-last",
            "final-strict-fields",
        ],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-bodies",
        number: 2,
        title: "The lines of a chunked body",
        // Nothing decodes a chunk yet: the compiler is the judge.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-bodies",
        number: 3,
        title: "Where the decoder is",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-bodies",
        number: 4,
        title: "One move for each place",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-bodies",
        number: 5,
        title: "Decoding as the bytes arrive",
        checks: &[
            "final-chunked",
            "final-unknown-transfer-coding",
            "final-chunk-size-overflow",
            "final-chunked-too-large",
        ],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-bodies",
        number: 6,
        title: "Every chunk line ends in CRLF",
        checks: &["final-chunk-lines-crlf", "final-chunk-extensions"],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-shutdown",
        number: 1,
        title: "A flag every part can check",
        // Nothing raises the flag until step 2, and no check sends the
        // server a signal: the compiler is the judge, and the chapter
        // shows what to try by hand.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-shutdown",
        number: 2,
        title: "Stop on Ctrl-C",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 1,
        title: "A socket, and the phases",
        // Types and constants no client can see: the compiler is the
        // judge of steps 1 to 14, and the chapter says so.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 2,
        title: "A connection's parts",
        // Nothing calls the connection yet: the compiler is this step's
        // judge, and the chapter says so.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 3,
        title: "Answering",
        // Nothing calls the connection until step 15: the compiler is the
        // judge, and the chapter says so.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 4,
        title: "Reading from the socket",
        // Nothing calls the connection until step 15: the compiler is the
        // judge, and the chapter says so.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 5,
        title: "Reading a request",
        // Nothing calls the connection until step 15: the compiler is the
        // judge, and the chapter says so.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 6,
        title: "Driving it, and closing",
        // Nothing calls the connection until step 15: the compiler is the
        // judge, and the chapter says so.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 7,
        title: "Places that can be reused",
        // Nothing uses `Slots` until step 10: the compiler is the judge.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 8,
        title: "Finding a place, and freeing it",
        // Nothing uses `Slots` until step 10: the compiler is the judge.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 9,
        title: "An inbox for each loop",
        // Nothing makes a loop until step 13: the compiler is the judge.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 10,
        title: "A loop's state",
        // Nothing makes a loop until step 13: the compiler is the judge.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 11,
        title: "A connection comes, and goes",
        // Nothing makes a loop until step 13: the compiler is the judge.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 12,
        title: "Running the loop",
        // Nothing starts a loop until step 13: the compiler is the judge.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 13,
        title: "Starting the loops",
        // Nothing calls it until step 15: the compiler is the judge.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 14,
        title: "An accept loop of its own",
        // Nothing calls the accept loop until step 15: the compiler is
        // the judge, and the chapter says so.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 15,
        title: "The loops take over",
        // The one check the chapter's subject decides: a server that gives
        // each waiting connection a thread from a small pool fails it.
        checks: &["final-idle-clients-do-not-starve"],
        // The pool it replaces had day 2's deadlines and day 4's
        // concurrent sleepers; steps 18 and 20 bring them back.
        turns_red: &[
            "day2-partial-request-timeout",
            "day2-silent-client",
            "day2-deadline-whole-request",
            "day4-concurrent-sleeps",
        ],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 16,
        title: "Keep the connection open",
        checks: &[
            "final-keep-alive",
            "final-pipelining",
            "final-head-without-body",
        ],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 17,
        title: "Say 100 Continue",
        checks: &["final-expect-continue", "final-chunked-expect-continue"],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 18,
        title: "Deadlines, checked ten times a second",
        checks: &[
            "day2-partial-request-timeout",
            "day2-silent-client",
            "day2-deadline-whole-request",
        ],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 19,
        title: "Workers that keep count",
        // The pool is day 4's until step 20, and nothing sends it a job
        // until step 23: the compiler is the judge of steps 19 to 21, and
        // the chapter says so.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 20,
        title: "A pool that starts empty",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 21,
        title: "Threads on demand, and a queue that can say no",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 22,
        title: "A worker's answer finds its way back",
        // Nothing hands a request over until step 23: the compiler is
        // the judge, and the chapter says so.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 23,
        title: "Handlers that wait go to worker threads",
        checks: &["day4-concurrent-sleeps", "final-sleepers-do-not-block"],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 24,
        title: "Room for a body in pieces",
        // Nothing makes an answer in pieces until step 26: the compiler
        // is the judge of steps 24 and 25, and the chapter says so.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 25,
        title: "Sending an answer in pieces",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 26,
        title: "A long list, a piece at a time",
        checks: &["final-long-list-in-chunks"],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 27,
        title: "A log that writes in batches",
        // Nothing uses the log until step 30, and no check reads standard
        // error: the compiler is the judge, and the chapter says so.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 28,
        title: "Starting and stopping the log",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 29,
        title: "A handle, and a line",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-connections",
        number: 30,
        title: "One line per answer",
        // The warnings about the log's fields end here; the chapter
        // shows a line of the log to look for.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-state",
        number: 1,
        title: "Every file operation, behind a trait",
        // Nothing reads the to-dos from a file until step 5, and no
        // check sees a step before it: the compiler is the judge of steps
        // 1 to 4, and the chapter says so.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-state",
        number: 2,
        title: "The real disk",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-state",
        number: 3,
        title: "A snapshot, written the careful way",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-state",
        number: 4,
        title: "Open the store from its file",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-state",
        number: 5,
        title: "Keep the to-dos where --data says",
        checks: &["final-data-survives-kill"],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-durability",
        number: 1,
        title: "A checksum",
        // The log replaces a store that already keeps every to-do safe:
        // `final-data-survives-kill` passes before these steps and after
        // each of them, and no check can tell the log from the snapshot.
        // The compiler is the judge, and the chapter says so.
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-durability",
        number: 2,
        title: "Framing a record",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-durability",
        number: 3,
        title: "A whole record, a torn one, or a damaged one",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-durability",
        number: 4,
        title: "The log file",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-durability",
        number: 5,
        title: "A new log, and replaying an old one",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-durability",
        number: 6,
        title: "Open the log at start-up",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-durability",
        number: 7,
        title: "Append, or leave no trace",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-durability",
        number: 8,
        title: "A queue of writers",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-durability",
        number: 9,
        title: "The leader saves for everyone",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-durability",
        number: 10,
        title: "Every change in the log",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-durability",
        number: 11,
        title: "When to compact",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-durability",
        number: 12,
        title: "Keeping the schedule",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-durability",
        number: 13,
        title: "A log that starts over",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-durability",
        number: 14,
        title: "Fold the log into a snapshot",
        checks: &[],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-browser",
        number: 1,
        title: "Three files, built into the binary",
        checks: &["final-page"],
        turns_red: &[],
    },
    Step {
        stage: Final,
        chapter: "final-browser",
        number: 2,
        title: "Is my copy still good? ETag and 304",
        checks: &["final-page-not-modified"],
        turns_red: &[],
    },
];

/// The title of the final server's step where its new parts take over
/// from day 4's: the parts of day 4 they replace go there, and any code
/// of the final server that no step shows would arrive there (see
/// `workshop::build_along`).
pub const HANDOVER: &str = "The new parts take over";

/// Where the step that hands over `stage`'s unshown code stands among
/// its steps (see [`HANDOVER`]); 0, before the first step, if there is
/// none.
pub fn handover(stage: Stage) -> usize {
    of_stage(stage)
        .into_iter()
        .find(|step| step.title == HANDOVER)
        .map_or(0, |step| step.position())
}

/// The steps of `stage`, in order; empty for a chapter without steps.
pub fn of_stage(stage: Stage) -> Vec<&'static Step> {
    STEPS.iter().filter(|step| step.stage == stage).collect()
}

/// The step a learner is on: the first step of `stage` with a check that
/// `passed` says is not passed yet. `None` when every step's checks pass,
/// or the stage has no steps.
///
/// A check the stage introduces that no step names would belong to a
/// chapter that is not in steps: a learner who fails one has that chapter
/// to read first, not a step, and until they pass, this says `None`.
pub fn next(stage: Stage, passed: impl Fn(&str) -> bool) -> Option<&'static Step> {
    let steps = of_stage(stage);
    let named: Vec<&str> = steps
        .iter()
        .flat_map(|step| step.checks.iter().copied())
        .collect();
    let chapter_first = checks::introduced_by(stage)
        .into_iter()
        .filter(|check| !named.contains(&check.id))
        .any(|check| !passed(check.id));
    if chapter_first {
        return None;
    }
    let at = steps
        .iter()
        .position(|step| !step.checks.iter().all(|id| passed(id)))?;
    // The steps just before it that no check can see may not be done
    // either: start at the first of them.
    let first = (0..at)
        .rev()
        .take_while(|&k| steps[k].checks.is_empty())
        .last()
        .unwrap_or(at);
    Some(steps[first])
}

/// The first step after `step` that a check can see: the one that shows
/// whether `step` was done.
pub fn seen_after(step: &Step) -> Option<&'static Step> {
    of_stage(step.stage)
        .into_iter()
        .filter(|later| later.position() > step.position())
        .find(|later| !later.checks.is_empty())
}

/// The last steps of the stage just before `stage` that no check can see
/// (no later step's checks show them either). A learner who passed that
/// stage may have skipped them without any sign, so `check next` mentions
/// them on the way to `stage`.
pub fn unseen_before(stage: Stage) -> Vec<&'static Step> {
    let earlier = Stage::ALL.iter().take_while(|earlier| **earlier != stage);
    let Some(previous) = earlier.last() else {
        return Vec::new();
    };
    of_stage(*previous)
        .into_iter()
        .filter(|step| step.checks.is_empty())
        .filter(|step| seen_after(step).is_none())
        .collect()
}

/// The checks of `stage` that belong to no step: the ones a learner's
/// crate passes before the first step.
pub fn before_the_first_step(stage: Stage) -> Vec<&'static str> {
    let owned: Vec<&str> = of_stage(stage)
        .iter()
        .flat_map(|step| step.checks.iter().copied())
        .collect();
    checks::for_stage(stage)
        .into_iter()
        .map(|check| check.id)
        .filter(|id| !owned.contains(id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_no_check_can_see_is_named_on_the_way_to_the_next_stage() {
        let headings = |stage| -> Vec<String> {
            unseen_before(stage)
                .iter()
                .map(|step| step.heading())
                .collect()
        };
        assert_eq!(headings(Stage::Day3), ["Step 12: Hang up gently"]);
        assert!(headings(Stage::Day1).is_empty());
        assert!(headings(Stage::Day2).is_empty());
        assert!(headings(Stage::Day4).is_empty());
    }

    #[test]
    fn steps_are_numbered_in_order_and_own_checks_of_their_stage_once() {
        for stage in Stage::ALL {
            let mut owned: Vec<&str> = Vec::new();
            for (i, step) in of_stage(stage).iter().enumerate() {
                let first_of_chapter = i == 0 || of_stage(stage)[i - 1].chapter != step.chapter;
                let expected = if first_of_chapter {
                    1
                } else {
                    of_stage(stage)[i - 1].number + 1
                };
                assert_eq!(step.number, expected, "{}", step.heading());
                assert_eq!(step.position(), i + 1);
                for id in step.checks {
                    let check = checks::find(id).unwrap_or_else(|| panic!("no check {id}"));
                    assert!(check.applies_to(stage), "{id} does not apply to {stage}");
                    assert!(!owned.contains(id), "{id} is in two steps");
                    owned.push(id);
                }
            }
        }
    }

    #[test]
    fn every_check_a_stage_introduces_is_in_one_of_its_steps() {
        for stage in Stage::ALL {
            if of_stage(stage).is_empty() {
                continue;
            }
            // The final server's chapters are not all in steps yet: the
            // checks of those that are not pass before its first step,
            // with the code that is given (see `workshop::build_along`).
            if stage == Final {
                continue;
            }
            let left = before_the_first_step(stage);
            for check in checks::introduced_by(stage) {
                assert!(!left.contains(&check.id), "{} is in no step", check.id);
            }
        }
    }

    #[test]
    fn next_is_the_first_step_not_all_green() {
        let rows: &[(&[&str], Option<usize>)] = &[
            // Steps 1 to 4 have no checks: a crate that fails step 5's
            // starts at step 1.
            (&[], Some(1)),
            (&["day2-query"], Some(1)),
            (of_stage(Day2)[4].checks, Some(6)),
            (&["day2-header-names", "day2-http-version"], Some(1)),
        ];
        for (passed, expected) in rows {
            let step = next(Day2, |id| passed.contains(&id));
            assert_eq!(step.map(|step| step.number), *expected, "{passed:?}");
        }
        // Day 1's first step has no check: a learner whose crate fails
        // step 2's checks starts at step 1, which step 2's checks show.
        assert_eq!(next(Day1, |_| false).map(|step| step.number), Some(1));
        assert_eq!(
            seen_after(of_stage(Day1)[0]).map(|step| step.number),
            Some(2)
        );
        let everything: Vec<&str> = STEPS
            .iter()
            .flat_map(|s| s.checks.iter().copied())
            .collect();
        assert!(next(Day2, |id| everything.contains(&id)).is_none());
    }

    #[test]
    fn on_the_final_server_next_names_the_handover_then_each_chapters_steps() {
        // Day 4's crate fails the handover's check, and no check sees the
        // nineteen steps before it: the learner starts at the first.
        assert_eq!(
            next(Final, |_| false).map(|step| (step.chapter, step.number)),
            Some(("final-groundwork", 1))
        );
        let named: Vec<&str> = of_stage(Final)
            .iter()
            .flat_map(|step| step.checks.iter().copied())
            .collect();
        let api: Vec<&str> = checks::for_stage(Final)
            .into_iter()
            .map(|check| check.id)
            .filter(|id| !named.contains(id))
            .collect();
        assert!(api.contains(&"day1-answers"));
        // Past the handover: the API's first step is next.
        let api: Vec<&str> = api
            .into_iter()
            .chain(checks_of_chapter("final-groundwork"))
            .collect();
        let step = next(Final, |id| api.contains(&id));
        assert_eq!(
            step.map(|step| (step.chapter, step.number)),
            Some(("final-api", 1))
        );
        // Its checks all pass: its last step, CORS, which no check sees,
        // is next, until a check of the bodies chapter passes.
        let checks_of = checks_of_chapter;
        let api_steps = checks_of("final-api");
        let step = next(Final, |id| api.contains(&id) || api_steps.contains(&id));
        assert_eq!(
            step.map(|step| (step.chapter, step.number)),
            Some(("final-api", 21))
        );
        // The bodies' steps done too, on a server whose idle clients
        // starve others: the connections' step 11 check fails, and neither
        // its steps 1 to 10 nor the shutdown chapter's two before them have
        // one, so the learner starts at the shutdown chapter's step 1.
        let bodies_steps = checks_of("final-bodies");
        let done =
            |id: &str| api.contains(&id) || api_steps.contains(&id) || bodies_steps.contains(&id);
        let step = next(Final, done);
        assert_eq!(
            step.map(|step| (step.chapter, step.number)),
            Some(("final-shutdown", 1))
        );
        let serving = |id: &str| done(id) || id == "final-idle-clients-do-not-starve";
        let step = next(Final, serving);
        assert_eq!(
            step.map(|step| (step.chapter, step.number)),
            Some(("final-connections", 16))
        );
        // The connections' checks all pass: its last two steps, which no
        // check sees, come before the browser chapter's first.
        let connected = |id: &str| {
            serving(id)
                || of_stage(Final)
                    .iter()
                    .any(|step| step.chapter == "final-connections" && step.checks.contains(&id))
        };
        let step = next(Final, connected);
        assert_eq!(
            step.map(|step| (step.chapter, step.number)),
            Some(("final-connections", 27))
        );
    }

    /// The checks that `chapter`'s steps name.
    fn checks_of_chapter(chapter: &str) -> Vec<&'static str> {
        of_stage(Final)
            .into_iter()
            .filter(|step| step.chapter == chapter)
            .flat_map(|step| step.checks.iter().copied())
            .collect()
    }

    #[test]
    fn a_check_a_step_turns_red_is_turned_green_by_a_later_step() {
        for step in STEPS {
            for id in step.turns_red {
                let later = of_stage(step.stage)
                    .into_iter()
                    .find(|other| other.checks.contains(id))
                    .unwrap_or_else(|| panic!("{id} turns red, and no step turns it green"));
                assert!(later.position() > step.position(), "{id}");
            }
        }
    }

    #[test]
    fn html_ids_are_what_mdbook_makes() {
        assert_eq!(of_stage(Day2)[4].html_id(), "step-5-echo-the-request-line");
        assert_eq!(
            of_stage(Day2)[2].html_id(),
            "step-3-where-does-a-request-end"
        );
    }
}

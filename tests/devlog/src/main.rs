//! The devlog's server, rebuilt as a fixture for the test suite.
//!
//! The book says that each bug of the devlog is caught by a check that fails
//! on the devlog's approach. A claim like that needs a server to run the
//! checks against, and this is it: the devlog's design, day by day, with its
//! bugs left in on purpose. The table of those bugs, with the checks that
//! must fail here, is `suite::devlog::BUGS` (`tests/suite/src/devlog.rs`);
//! `tests/tests/devlog.rs` runs it. The code is written afresh for this
//! repository; only the behaviour follows the devlog. It is a fixture, not
//! a stage: nothing here is an example to follow.
//!
//! # Running it
//!
//! `devlog --day N`, with N from 1 to 4, picks the day. A command-line flag
//! rather than an environment variable, because the suite already starts
//! reference binaries with arguments (`Server::reference_with`), and because
//! `ps` then shows which day is running.
//!
//! # Modules
//!
//! - [`day1`]: the day-1 connection handler and its hand-written answer.
//! - [`request`]: the read loop and parser of days 2 to 4.
//! - [`echo`]: the day-2 answer, an echo of what the parser understood.
//! - [`response`]: the `Response` type of days 3 and 4.
//! - [`router`]: the day-3 and day-4 connection handler and its routes.
//! - [`thread_pool`]: the day-4 pool.
//!
//! # What this adds to the devlog, and why
//!
//! - **The stage contract** (this file): the devlog always bound
//!   127.0.0.1:5000 and printed nothing. Here `PORT` overrides the port,
//!   `PORT=0` picks a free one, and the first line on stdout is
//!   `Listening on http://ADDR`, so the suite can start it like any stage.
//! - **The day-2 echo** ([`echo`]): the devlog's day 2 only printed the
//!   method. Our day-2 stage answers with the parsed request as JSON, and the
//!   day-2 checks read that answer, so the fixture does the same. The echo
//!   escapes its strings properly: a day-2 check must fail because of the
//!   parser, not because of the echo.
//! - **`GET /sleep?ms=N`** on days 3 and 4, and **`GET /panic`** on day 4
//!   ([`router`]): routes of our stages that the day-4 checks use. The devlog
//!   had only `/hello` (its day 4 put a sleep inside that handler).
//!
//! Nothing else is added. Headers are the devlog's, in its order: there is no
//! `Connection: close` as our stages send, which changes no check, since the
//! suite reads a body by its `Content-Length`.
//!
//! # The devlog's behaviours, kept on purpose
//!
//! "Book" names the chapter; every entry is in its "What the devlog did"
//! section unless it says otherwise. A panic on the main thread (days 1 to
//! 3, and the accept loop of day 4) ends the whole process, as in any Rust
//! program.
//!
//! Day 1 ([`day1`]):
//! - every accepted stream is unwrapped, so one failed `accept` ends the
//!   server (book: day1.md);
//! - the request is read line by line with each line unwrapped, so a byte
//!   that is not UTF-8, such as 0xFF, panics (book: day1.md);
//! - the answer is `{'hello': 'World'}`, single quotes and all, labelled
//!   `application/json` (book: day1.md);
//! - the answer goes out with one `write`, whose count is ignored and whose
//!   error is unwrapped (book: day1.md);
//! - reading stops at the empty line, so any body is left unread (not
//!   discussed in the book; our day 1 does the same).
//!
//! Days 2 to 4 read requests with [`request::Request::new`]:
//! - a 1024-byte buffer, and the request is over at the first `read` that
//!   returns fewer than 1024 bytes: a request sent in pieces is cut after
//!   the first, a body sent after the head is lost, and a request whose
//!   total size is a multiple of 1024 waits for ever (book: day2.md);
//! - a `read` error is printed and the loop reads again (book: day2.md).
//!   On Linux a reset is reported once and the next `read` returns 0, so
//!   the loop ends and the parse below panics; it would only go round for
//!   ever with a read timeout or a non-blocking socket, which the devlog
//!   never set;
//! - `String::from_utf8(..).unwrap()`: bytes that are not UTF-8 panic
//!   (book: day2.md);
//! - the first line is taken by index, so an empty request (connect, then
//!   close) panics on an index out of bounds (book: day2.md; the suite's
//!   `day1-empty-connection` catches it from day 2 on);
//! - the method and the target are unwrapped from the request line, so a
//!   line of fewer than two words panics; the version is never read, so
//!   any version, or none, is accepted (book: day2.md);
//! - the target is split on every `?` and the pieces after the first are
//!   glued back with nothing between them: `?q=why?` gives `q` = `why`
//!   (book: day2.md);
//! - a query pair without `=` is dropped (book: day2.md), and nothing is
//!   percent-decoded (book: day3.md);
//! - the end of the head is found with `position(..).unwrap()` over the
//!   lines after the request line, looking for a line that is exactly
//!   `"\r\n"`: a head cut off before its empty line, or written with bare
//!   `\n`, panics (book: day2.md);
//! - the body is whatever arrived after the empty line; `Content-Length` and
//!   `Transfer-Encoding` are never looked at (book: day2.md);
//! - headers are split on `": "` and stored with their names as sent, so
//!   lookups are case-sensitive and `Host:x` is silently dropped; a line
//!   without `": "` is skipped, and a repeated header keeps its last value
//!   (book: day2.md);
//! - no size limit and no timeout anywhere (book: day2.md, the limits
//!   paragraph, and day4.md).
//!
//! Day 2 ([`echo`]) answers every request `200 OK` with the echo, written
//! the day-1 way (one `write`, unwrapped).
//!
//! Days 3 and 4 ([`router`], [`response`]):
//! - routing looks at the path only, so `POST /hello` is greeted like a GET
//!   (book: day3.md, through `day3-method-not-allowed`);
//! - the greeting is built with `format!` around the raw name, so a `"` in
//!   it breaks the JSON (book: day3.md);
//! - an unknown path gets `400 Bad Request` with the body
//!   `{{"message": "Invalid Path"}}`, braces doubled, because the devlog
//!   wrote `format!`-style escapes in a plain string (book: day3.md);
//! - the `Err` of `Request::new` becomes a 500 with the message pasted into
//!   JSON; the devlog's `Request::new` never returns `Err` (every failure
//!   is a panic), so this branch never runs, here as there (book: day3.md);
//! - the status table knows 200, 400 and 500; any other code would read
//!   `N Unknown` (book: day3.md);
//! - errors are `{"message": …}`, not the `{"error": …}` of our stages;
//! - a failed `write` is printed, not unwrapped, and its count is ignored.
//!
//! Day 4 ([`thread_pool`]):
//! - four workers fed by an unbounded `mpsc::channel` (book: day4.md);
//! - no read timeout, so a client that sends nothing holds a worker for
//!   ever, and four such clients stop the server (book: day4.md);
//! - a panic in a job ends its worker, and the pool never replaces it
//!   (book: day4.md, last paragraph). Once all four are gone, the queue's
//!   receiver is dropped, `send` fails, and the unwrap in `execute` panics
//!   the accept loop (book: day4.md);
//! - `Drop` closes the queue and joins the workers, but the accept loop
//!   never ends, so it runs only while that panic unwinds `main`. It then
//!   unwraps the join of a worker that panicked, a panic during a panic,
//!   and the process aborts (book: day4.md).

#![forbid(unsafe_code)]

mod day1;
mod echo;
mod request;
mod response;
mod router;
mod thread_pool;

use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};

use thread_pool::ThreadPool;

/// Which day of the devlog to behave like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Day {
    One,
    Two,
    Three,
    Four,
}

/// The devlog's number of workers.
const POOL_SIZE: usize = 4;

const USAGE: &str = "usage: devlog --day 1|2|3|4";

fn main() {
    let day = match day_from_args(std::env::args().skip(1)) {
        Ok(day) => day,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let listener = listen();
    match day {
        Day::One => serve_in_turn(listener, day1::handle_connection),
        Day::Two => serve_in_turn(listener, echo::handle_connection),
        Day::Three => serve_in_turn(listener, |stream| {
            router::handle_connection(stream, Day::Three);
        }),
        Day::Four => serve_with_pool(listener),
    }
}

/// Reads `--day N` from the command line.
fn day_from_args(mut args: impl Iterator<Item = String>) -> Result<Day, String> {
    match (args.next().as_deref(), args.next().as_deref(), args.next()) {
        (Some("--day"), Some("1"), None) => Ok(Day::One),
        (Some("--day"), Some("2"), None) => Ok(Day::Two),
        (Some("--day"), Some("3"), None) => Ok(Day::Three),
        (Some("--day"), Some("4"), None) => Ok(Day::Four),
        _ => Err("pick a day of the devlog".to_string()),
    }
}

/// Binds the listener and announces it: the stage contract, which is not
/// the devlog's (it bound port 5000 and said nothing).
///
/// Failures here panic, like the devlog's `bind(..).unwrap()`: there is
/// nothing to serve without a listener.
fn listen() -> TcpListener {
    let port: u16 = match std::env::var("PORT") {
        Ok(text) => text.parse().expect("PORT must be a number from 0 to 65535"),
        Err(_) => 5000,
    };
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let address = listener.local_addr().unwrap();
    println!("Listening on http://{address}");
    // The suite waits for this line; do not leave it in a buffer.
    io::stdout().flush().unwrap();
    listener
}

/// Days 1 to 3: one connection at a time, on the main thread, so a panic
/// in `handle` ends the process.
fn serve_in_turn(listener: TcpListener, handle: impl Fn(TcpStream)) {
    for stream in listener.incoming() {
        // Kept from the devlog: one failed `accept` ends the server.
        handle(stream.unwrap());
    }
}

/// Day 4: the accept loop hands each connection to the pool.
fn serve_with_pool(listener: TcpListener) {
    let pool = ThreadPool::new(POOL_SIZE);
    for accepted in listener.incoming() {
        // Kept, as on days 1 to 3: a failed `accept` ends the server.
        let stream = accepted.unwrap();
        pool.execute(move || router::handle_connection(stream, Day::Four));
    }
}

//! The connection without a network: a scripted socket, a clock moved by
//! hand, and a driver that plays the event loop's part.
//!
//! Real sockets show a race one run in twenty; a script shows it every
//! time. Each row of [`BEHAVIOUR`] is one thing a client does to a
//! connection (sends, stops reading, goes quiet, resets, or the server
//! starts stopping), and what must come of it: the statuses written, in
//! order, and how the connection ends up. The property test at the end
//! feeds the same requests cut into random pieces, with random short
//! writes, and wants the same answers as when they arrive in one piece
//! (h11's `tr()` does this for its parser).

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::access_log::AccessLog;
use crate::app::{self, App};
use crate::origin::Policy;
use crate::store::Store;

/// What the client's side of the socket holds for the connection's next
/// read.
#[derive(Debug, Clone)]
enum Arrival {
    Bytes(Vec<u8>),
    /// Nothing yet: the read says `WouldBlock`, as a socket does between
    /// two pieces that arrive apart.
    Pause,
    /// The client shut its side: every read from here on returns 0.
    End,
}

/// A socket whose reads follow a script, and whose writes land in
/// `written`, as much at a time as the client takes.
#[derive(Default)]
struct Script {
    arrivals: VecDeque<Arrival>,
    ended: bool,
    /// The client reset the connection: reads and writes fail.
    reset: bool,
    /// The client has stopped reading: writes say `WouldBlock`.
    full: bool,
    /// The most each write takes, in turn (a short write); once empty,
    /// writes take everything.
    write_sizes: VecDeque<usize>,
    written: Vec<u8>,
    /// Whether the connection shut its sending side.
    shut: bool,
}

impl Read for Script {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.reset {
            return Err(io::ErrorKind::ConnectionReset.into());
        }
        if self.ended {
            return Ok(0);
        }
        match self.arrivals.pop_front() {
            None | Some(Arrival::Pause) => Err(io::ErrorKind::WouldBlock.into()),
            Some(Arrival::End) => {
                self.ended = true;
                Ok(0)
            }
            Some(Arrival::Bytes(mut bytes)) => {
                let n = bytes.len().min(buf.len());
                buf[..n].copy_from_slice(&bytes[..n]);
                if n < bytes.len() {
                    self.arrivals.push_front(Arrival::Bytes(bytes.split_off(n)));
                }
                Ok(n)
            }
        }
    }
}

impl Write for Script {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.reset {
            return Err(io::ErrorKind::ConnectionReset.into());
        }
        if self.full {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf
            .len()
            .min(self.write_sizes.pop_front().unwrap_or(usize::MAX));
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Socket for Script {
    fn shutdown_write(&mut self) -> io::Result<()> {
        self.shut = true;
        Ok(())
    }
}

/// One thing that happens to a connection, in a row of [`BEHAVIOUR`].
#[derive(Debug, Clone, Copy)]
enum Event {
    /// These bytes arrive, and the loop hears of it.
    Send(&'static str),
    /// The client shuts its sending side.
    End,
    /// These bytes arrive and the client shuts its side, all before the
    /// loop hears of either.
    SendAndEnd(&'static str),
    /// The client resets the connection.
    Reset,
    /// The client stops reading, or reads again.
    StopReading,
    ReadAgain,
    /// The clock moves on by this much, and the loop sweeps the
    /// deadlines.
    Sleep(Duration),
    /// A worker thread's answer comes back.
    Worker,
    /// The server starts stopping (the loop sweeps at once).
    ServerStops,
    /// The accept loop found the server full: the loop turns the
    /// connection away.
    TurnAway,
}

/// How a connection stands at the end of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ends {
    /// The event loop was told to close it.
    Closed,
    /// Still open, in this phase (see [`phase_name`]).
    In(&'static str),
}

fn phase_name(phase: &Phase) -> &'static str {
    match phase {
        Phase::Idle { .. } => "idle",
        Phase::Reading { body: false, .. } => "reading a head",
        Phase::Reading { body: true, .. } => "reading a body",
        Phase::Handling => "handling",
        Phase::Writing { .. } => "writing",
        Phase::Lingering { .. } => "lingering",
    }
}

/// The server's address, and a `Host` it accepts.
const ADDR: ([u8; 4], u16) = ([127, 0, 0, 1], 5000);

/// A connection to a fresh in-memory server, and what runs it.
struct Driver {
    connection: Connection<Script>,
    server: ServerWide,
    log: AccessLog,
    now: Instant,
    /// A request a worker is answering, if any.
    handling: Option<Request>,
    /// Whether the worker answers at once ([`Event::Worker`] otherwise).
    eager_worker: bool,
    closed: bool,
}

impl Driver {
    fn new(script: Script) -> Driver {
        Driver::with_cors(script, None)
    }

    /// A driver whose server answers with CORS headers for `cors`.
    fn with_cors(script: Script, cors: Option<&str>) -> Driver {
        let addr = SocketAddr::from(ADDR);
        let app = App {
            store: Arc::new(Store::in_memory()),
            addr,
            policy: Policy::new(addr, &[], cors.map(str::to_string)),
        };
        let log = AccessLog::unstarted();
        let server = ServerWide {
            app,
            shutdown: Shutdown::new(),
            log: log.handle(),
        };
        let now = Instant::now();
        let peer = SocketAddr::from(([127, 0, 0, 1], 40_000));
        Driver {
            connection: Connection::new(script, peer, now),
            server,
            log,
            now,
            handling: None,
            eager_worker: false,
            closed: false,
        }
    }

    fn script(&mut self) -> &mut Script {
        self.connection.socket()
    }

    /// Does what `next` asks, as the event loop would, until the
    /// connection waits or closes.
    fn carry_out(&mut self, mut next: Next) {
        // A connection that asked for more turns than any row needs is
        // stuck going round: fail, rather than hang the test.
        for _ in 0..10_000 {
            match next {
                Next::Wait => return,
                Next::Close => {
                    self.closed = true;
                    return;
                }
                Next::Again => {}
                Next::Handle(request) => {
                    assert!(self.handling.is_none(), "two requests with workers at once");
                    self.handling = Some(request);
                    if !self.eager_worker {
                        return;
                    }
                    self.answer_from_worker();
                    if self.closed {
                        return;
                    }
                }
            }
            next = self.connection.advance(&self.server, self.now);
        }
        panic!("the connection went round 10,000 times without waiting");
    }

    fn advance(&mut self) {
        let next = self.connection.advance(&self.server, self.now);
        self.carry_out(next);
    }

    fn news(&mut self) {
        self.connection.mark_readable();
        self.advance();
    }

    fn answer_from_worker(&mut self) {
        let request = self.handling.take().expect("a request with a worker");
        let response = app::route_or_500(&request, &self.server.app);
        self.connection
            .answer(&request, response, &self.server, self.now);
        let next = self.connection.advance(&self.server, self.now);
        self.carry_out(next);
    }

    fn sweep(&mut self) {
        let next = self.connection.check_deadline(&self.server, self.now);
        self.carry_out(next);
    }

    fn happen(&mut self, event: Event) {
        assert!(!self.closed, "{event:?} after the connection closed");
        match event {
            Event::Send(text) => {
                let bytes = text.as_bytes().to_vec();
                self.script().arrivals.push_back(Arrival::Bytes(bytes));
                self.news();
            }
            Event::End => {
                self.script().arrivals.push_back(Arrival::End);
                self.news();
            }
            Event::SendAndEnd(text) => {
                let bytes = text.as_bytes().to_vec();
                self.script().arrivals.push_back(Arrival::Bytes(bytes));
                self.script().arrivals.push_back(Arrival::End);
                self.news();
            }
            Event::Reset => {
                self.script().reset = true;
                self.news();
            }
            Event::StopReading => self.script().full = true,
            Event::ReadAgain => {
                self.script().full = false;
                self.advance(); // The socket became writable.
            }
            Event::Sleep(duration) => {
                self.now += duration;
                self.sweep();
            }
            Event::Worker => self.answer_from_worker(),
            Event::TurnAway => {
                self.connection.turn_away(&self.server, self.now);
                self.advance();
            }
            Event::ServerStops => {
                self.server.shutdown.request();
                self.sweep();
            }
        }
    }

    fn ends(&self) -> Ends {
        if self.closed {
            Ends::Closed
        } else {
            Ends::In(phase_name(&self.connection.phase))
        }
    }
}

/// The statuses of the answers in `written`, in order.
///
/// An answer's body is skipped by its `Content-Length`, unless the next
/// answer starts right after its head: the answer to a `HEAD` keeps the
/// `Content-Length` of the body it does not send.
fn statuses(written: &[u8]) -> Vec<u16> {
    let text = String::from_utf8_lossy(written);
    let mut rest = text.as_ref();
    let mut found = Vec::new();
    while !rest.is_empty() {
        let Some(end) = rest.find("\r\n\r\n") else {
            panic!("an answer cut short: {rest:?}");
        };
        let head = &rest[..end];
        let status = head.get(9..12).and_then(|code| code.parse().ok());
        found.push(status.unwrap_or_else(|| panic!("no status line in {head:?}")));
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("Content-Length: "))
            .map_or(0, |length| length.parse().expect("a number"));
        rest = &rest[end + 4..];
        if !rest.starts_with("HTTP/1.1 ") {
            rest = &rest[length.min(rest.len())..];
        }
    }
    found
}

const GET: &str = "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n";
const GET_CLOSE: &str = "GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
const POST: &str = "POST /todos HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"title\":\"milk\"}";
const POST_HEAD_EXPECT: &str = "POST /todos HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 16\r\nExpect: 100-continue\r\n\r\n";
/// [`POST_HEAD_EXPECT`] with its body in the same piece.
const POST_EXPECT_WHOLE: &str = "POST /todos HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 16\r\nExpect: 100-continue\r\n\r\n{\"title\":\"milk\"}";

/// A moment: how far before a deadline "just before" is.
const JUST: Duration = Duration::from_millis(1);

use Ends::{Closed, In};
use Event::*;

/// `(what it shows, what happens, the statuses written, how it ends)`.
type Row = (&'static str, &'static [Event], &'static [u16], Ends);

#[rustfmt::skip]
const BEHAVIOUR: &[Row] = &[
    // Keep-alive, and when not to.
    ("HTTP/1.1 stays open", &[Send(GET)], &[200], In("idle")),
    ("Connection: close closes", &[Send(GET_CLOSE)], &[200], In("lingering")),
    ("HTTP/1.0 closes", &[Send("GET /hello HTTP/1.0\r\n\r\n")], &[200], In("lingering")),
    ("HTTP/1.0 with keep-alive stays open",
        &[Send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")], &[200], In("idle")),
    ("the next request on a kept-open connection", &[Send(GET), Send(GET)], &[200, 200], In("idle")),
    ("a broken request is answered, then the connection closes",
        &[Send("GET /hello HTTP/1.1\r\nHost: localhost\r\nBad Header: x\r\n\r\n"), Send(GET)],
        &[400], In("lingering")),
    // Pipelining: answers in the order the requests came.
    ("three requests in one piece",
        &[Send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\nGET /nope HTTP/1.1\r\nHost: localhost\r\n\r\nHEAD /hello HTTP/1.1\r\nHost: localhost\r\n\r\n")],
        &[200, 404, 200], In("idle")),
    ("a request in pieces", &[Send("GET /hel"), Send("lo HTTP/1.1\r\nHost: loc"), Send("alhost\r\n\r\n")],
        &[200], In("idle")),
    ("a request that waits: no answer until the worker's",
        &[Send(POST)], &[], In("handling")),
    ("the worker's answer, then the next request",
        &[Send(POST), Send(GET), Worker], &[201, 200], In("idle")),
    // 100-continue.
    ("100 Continue is written before the body is waited for",
        &[Send(POST_HEAD_EXPECT)], &[100], In("reading a body")),
    ("100 Continue once, then the answer",
        &[Send(POST_HEAD_EXPECT), Send("{\"title\""), Send(":\"milk\"}"), Worker], &[100, 201], In("idle")),
    ("no 100 Continue when the body came with the head",
        &[Send(POST_EXPECT_WHOLE), Worker], &[201], In("idle")),
    // Deadlines.
    ("idle until just before the deadline", &[Sleep(IDLE_TIMEOUT.saturating_sub(JUST))], &[], In("idle")),
    ("idle past the deadline: closed, nothing said", &[Sleep(IDLE_TIMEOUT)], &[], Closed),
    ("a head not finished in time: 408", &[Send("GET /hello HT"), Sleep(HEAD_TIMEOUT)], &[408], In("lingering")),
    ("the body gets its own deadline, longer than the head's",
        &[Send(POST_HEAD_EXPECT), Sleep(BODY_TIMEOUT.saturating_sub(JUST)), Send("{\"title\"")], &[100], In("reading a body")),
    // ANCHOR: row
    ("a body not finished in time: 408",
        &[Send(POST_HEAD_EXPECT), Sleep(BODY_TIMEOUT.saturating_sub(JUST)), Send("{\"title\""), Sleep(JUST)], &[100, 408], In("lingering")),
    // ANCHOR_END: row
    ("a client that never reads its answer", &[StopReading, Send(GET), Sleep(WRITE_TIMEOUT)], &[], Closed),
    ("lingering ends at its deadline", &[Send(GET_CLOSE), Sleep(LINGER_TIMEOUT)], &[200], Closed),
    ("lingering ends when the client closes", &[Send(GET_CLOSE), End], &[200], Closed),
    ("lingering reads and throws away what the client still sends",
        &[Send(GET_CLOSE), Send(GET)], &[200], In("lingering")),
    // The client leaving.
    ("the close that arrived with the last bytes: the answer first",
        &[SendAndEnd(GET)], &[200], Closed),
    ("a client that closes after its answer", &[Send(GET), End], &[200], Closed),
    ("a close in the middle of a request: 400, in case it still reads",
        &[Send("GET /hello HTTP/1.1\r\n"), End], &[400], Closed),
    ("a reset between requests", &[Send(GET), Reset], &[200], Closed),
    ("a reset while the answer waits to be written",
        &[StopReading, Send(GET), Reset], &[], Closed),
    ("a worker's answer after the client left",
        &[Send(POST), Reset, Worker], &[], Closed),
    // Back-pressure.
    ("a client that stops reading gets nothing more, and nothing is lost",
        &[StopReading, Send(GET), Send(GET)], &[], In("writing")),
    ("and when it reads again, both answers, in order",
        &[StopReading, Send(GET), Send("GET /nope HTTP/1.1\r\nHost: localhost\r\n\r\n"), ReadAgain],
        &[200, 404], In("idle")),
    // Too many connections.
    ("turned away: 503 before reading anything, then closed",
        &[TurnAway, Send(GET)], &[503], In("lingering")),
    // Shutdown, in every phase.
    ("shutdown while idle: closed at once", &[ServerStops], &[], Closed),
    ("shutdown while a head arrives: answered, then closed",
        &[Send("GET /hello HTTP/1.1\r\n"), ServerStops, Send("Host: localhost\r\n\r\n")], &[200], In("lingering")),
    ("shutdown while a worker answers: answered, then closed",
        &[Send(POST), ServerStops, Worker], &[201], In("lingering")),
    ("shutdown while an answer is written: finished, then closed",
        &[StopReading, Send(GET), ServerStops, ReadAgain], &[200], Closed),
    ("shutdown while lingering: lingering still", &[Send(GET_CLOSE), ServerStops], &[200], In("lingering")),
];

#[test]
fn each_behaviour_of_a_connection() {
    let mut failures = Vec::new();
    for row in BEHAVIOUR {
        // A row that panics (a connection going round for ever, say) is
        // that row's failure, and the other rows still run.
        let outcome = std::panic::catch_unwind(|| problems_with(row));
        match outcome {
            Ok(problems) => failures.extend(problems),
            Err(_) => failures.push(format!("{}: panicked (see above)", row.0)),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// What is wrong with how a connection plays out `row`, if anything.
fn problems_with((shows, events, want_statuses, want_end): &Row) -> Vec<String> {
    let mut problems = Vec::new();
    let mut driver = Driver::new(Script::default());
    for event in *events {
        driver.happen(*event);
    }
    let got_statuses = statuses(&driver.connection.socket.written);
    let got_end = driver.ends();
    if got_statuses != *want_statuses || got_end != *want_end {
        problems.push(format!(
            "{shows}: wrote {got_statuses:?} and ended {got_end:?}; \
             want {want_statuses:?} and {want_end:?}"
        ));
    }
    // A lingering connection has shut its sending side; one that is
    // still open for requests has not.
    if let In(phase) = got_end
        && (phase == "lingering") != driver.connection.socket.shut
    {
        problems.push(format!("{shows}: {phase}, and shut is the opposite"));
    }
    // Every answer written was logged, a 100 aside. (An answer that could
    // not be written is logged too: the log says what the server
    // answered, not what the client read.)
    let logged = driver.log.take_lines().lines().count();
    let answered = got_statuses.iter().filter(|status| **status != 100).count();
    if logged < answered {
        problems.push(format!("{shows}: {answered} answers, {logged} log lines"));
    }
    problems
}

#[test]
fn a_connection_with_many_requests_in_hand_takes_turns() {
    let pipelined = GET.repeat(200);
    let mut script = Script::default();
    script
        .arrivals
        .push_back(Arrival::Bytes(pipelined.into_bytes()));
    let mut driver = Driver::new(script);
    let mut turns = 1;
    let mut next = driver.connection.advance(&driver.server, driver.now);
    while let Next::Again = next {
        turns += 1;
        next = driver.connection.advance(&driver.server, driver.now);
    }
    assert!(matches!(next, Next::Wait), "{next:?}");
    assert_eq!(statuses(&driver.connection.socket.written), [200; 200]);
    // Each answer is a read or poll, an answer and a write: about three
    // steps, so 200 answers take several turns of STEPS_PER_TURN.
    assert!(turns > 200 * 2 / STEPS_PER_TURN, "{turns} turns");
    driver.log.take_lines();
}

/// A small, seeded random source (xorshift), so that a failing case can
/// be run again from the seed the failure prints.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The requests a script is made of: every kind of framing and of
/// answer, one that goes to a worker, and (last, since nothing after it
/// is read) one that is refused.
const REQUESTS: &[&str] = &[
    GET,
    "HEAD /hello HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "GET /todos/7 HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "OPTIONS /todos HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "BREW /todos HTTP/1.1\r\nHost: localhost\r\n\r\n",
    POST,
    POST_EXPECT_WHOLE,
    "POST /todos HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\n{\"tit\r\nb\r\nle\":\"eggs\"}\r\n0\r\n\r\n",
    "GET /todos HTTP/1.1\r\nHost: localhost\r\n\r\n",
];
const REFUSED: &str = "GET /hello HTTP/1.1\r\nHost: localhost\r\nContent-Length: x\r\n\r\n";

/// What the client gets, Date headers and 100 Continue aside: the first
/// depends on the clock, the second on where the cuts fall.
fn answers(written: &[u8]) -> String {
    String::from_utf8_lossy(written)
        .replace("HTTP/1.1 100 Continue\r\n\r\n", "")
        .split("\r\n")
        .filter(|line| !line.starts_with("Date: "))
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// Runs `requests` (one string) through a fresh server, cut at `cuts`
/// (sorted byte offsets), with writes taking at most `write_sizes`
/// bytes each, in turn, and the client closing at the end. Returns the
/// answers and how the connection ended.
fn run(requests: &str, cuts: &[usize], write_sizes: Vec<usize>) -> (String, Ends) {
    let mut driver = Driver::new(Script {
        write_sizes: write_sizes.into(),
        ..Script::default()
    });
    driver.eager_worker = true;
    let bytes = requests.as_bytes();
    let mut from = 0;
    for &cut in cuts.iter().chain([&bytes.len()]) {
        let piece = bytes[from..cut].to_vec();
        driver.script().arrivals.push_back(Arrival::Bytes(piece));
        driver.script().arrivals.push_back(Arrival::Pause);
        from = cut;
    }
    driver.script().arrivals.push_back(Arrival::End);
    // Each piece is news; a Pause ends a read round as a real socket's
    // WouldBlock does, and the next news starts another.
    for _ in 0..=cuts.len() + 1 {
        if driver.closed {
            break;
        }
        driver.news();
    }
    driver.log.take_lines();
    let written = std::mem::take(&mut driver.script().written);
    (answers(&written), driver.ends())
}

/// How many cases the property below tries: 300 in `cargo test` (a
/// fraction of a second), or `CONNECTION_CASES`, for a long run:
///
/// ```text
/// CONNECTION_CASES=1000000 cargo test --release -p final --lib requests_cut_anywhere
/// ```
fn cases() -> u64 {
    std::env::var("CONNECTION_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(300)
}

#[test]
fn requests_cut_anywhere_with_short_writes_get_the_same_answers() {
    let mut dice = Dice(0x5eed_1e55_c0ff_ee00);
    for case in 0..cases() {
        let seed = dice.0;
        let count = 1 + dice.below(6);
        let mut requests: String = (0..count)
            .map(|_| REQUESTS[dice.below(REQUESTS.len())])
            .collect();
        if dice.below(4) == 0 {
            requests.push_str(REFUSED);
        }
        let (whole, whole_end) = run(&requests, &[], Vec::new());
        let mut cuts: Vec<usize> = (0..dice.below(12))
            .map(|_| 1 + dice.below(requests.len() - 1))
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        let write_sizes = (0..dice.below(40)).map(|_| 1 + dice.below(64)).collect();
        let (pieces, pieces_end) = run(&requests, &cuts, write_sizes);
        assert_eq!(
            (&pieces, pieces_end),
            (&whole, whole_end),
            "case {case} (seed {seed:#x}): {requests:?} cut at {cuts:?}"
        );
    }
}

#[test]
fn every_cut_of_a_pipelined_pair_gets_the_same_answers() {
    let requests = format!("{POST_EXPECT_WHOLE}{GET}");
    let (whole, whole_end) = run(&requests, &[], Vec::new());
    for cut in 1..requests.len() {
        let (pieces, end) = run(&requests, &[cut], vec![1; 50]);
        assert_eq!((&pieces, end), (&whole, whole_end), "cut at {cut}");
    }
}

#[test]
fn a_client_turned_away_gets_the_cors_headers_like_every_answer() {
    let mut driver = Driver::with_cors(Script::default(), Some("*"));
    driver.happen(Event::TurnAway);
    let written = String::from_utf8_lossy(&driver.connection.socket.written).into_owned();
    assert!(written.starts_with("HTTP/1.1 503 "), "{written}");
    assert!(
        written.contains("\r\nAccess-Control-Allow-Origin: *\r\n"),
        "{written}"
    );
    assert!(written.contains("\r\nRetry-After: "), "{written}");
    driver.log.take_lines();
}

#[test]
fn the_answer_to_head_has_its_head_only_even_with_another_behind_it() {
    let head = "HEAD /hello HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let mut driver = Driver::new(Script::default());
    driver.happen(Event::Send(head));
    driver.happen(Event::Send(GET));
    let written = String::from_utf8_lossy(&driver.connection.socket.written).into_owned();
    let (first, second) = written
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no whole head in {written:?}"));
    assert!(first.contains("\r\nContent-Length: 27\r\n"), "{first}");
    assert!(
        second.starts_with("HTTP/1.1 200 "),
        "a body after HEAD's answer: {second:?}"
    );
    driver.log.take_lines();
}

/// A driver whose store holds more to-dos than one page of a list: three
/// pieces, the last with a single to-do.
fn with_a_long_list() -> Driver {
    let driver = Driver::new(Script::default());
    for n in 0..=2 * crate::todos::PAGE {
        let title = format!("to-do {n}");
        let created = driver.server.app.store.create(title, false, None);
        assert!(created.is_ok(), "an in-memory store takes every to-do");
    }
    driver
}

/// The body of a chunked answer that starts `text`, and what follows it.
fn dechunk(text: &str) -> (String, &str) {
    let mut body = String::new();
    let mut rest = text;
    loop {
        let (size, after) = rest.split_once("\r\n").expect("a chunk size line");
        let size = usize::from_str_radix(size, 16).expect("a hexadecimal size");
        let (data, after) = after.split_at(size);
        rest = after.strip_prefix("\r\n").expect("a CRLF after the chunk");
        if size == 0 {
            return (body, rest);
        }
        body.push_str(data);
    }
}

/// What the connection wrote: the first answer's head, and all after it.
fn head_and_rest(driver: &Driver) -> (String, String) {
    let written = String::from_utf8_lossy(&driver.connection.socket.written);
    let (head, rest) = written.split_once("\r\n\r\n").expect("a whole head");
    (head.to_string(), rest.to_string())
}

/// How many to-dos the JSON list `body` holds.
fn count_of(body: &str) -> usize {
    let list: Vec<serde_json::Value> = serde_json::from_str(body).expect("a JSON list");
    list.len()
}

#[test]
fn a_long_list_goes_out_in_chunks_a_piece_per_turn_and_the_connection_stays_open() {
    let mut driver = with_a_long_list();
    let list = "GET /todos HTTP/1.1\r\nHost: localhost\r\n\r\n";
    driver
        .script()
        .arrivals
        .push_back(Arrival::Bytes(list.into()));
    driver
        .script()
        .arrivals
        .push_back(Arrival::Bytes(GET.into()));
    driver.connection.mark_readable();
    // Three pieces and the empty chunk that ends them, each its own turn.
    let mut turns = 1;
    while let Next::Again = driver.connection.advance(&driver.server, driver.now) {
        turns += 1;
    }
    assert_eq!(turns, 5);
    let (head, rest) = head_and_rest(&driver);
    assert!(
        head.contains("\r\nTransfer-Encoding: chunked\r\n"),
        "{head}"
    );
    assert!(!head.contains("Content-Length"), "{head}");
    let (body, after) = dechunk(&rest);
    assert_eq!(count_of(&body), 2 * crate::todos::PAGE + 1);
    assert!(after.starts_with("HTTP/1.1 200 "), "{after:?}");
    assert_eq!(driver.ends(), In("idle"));
    driver.log.take_lines();
}

#[test]
fn a_long_list_to_an_http_1_0_client_ends_with_the_close() {
    let mut driver = with_a_long_list();
    driver.happen(Event::Send(
        "GET /todos HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    ));
    let (head, body) = head_and_rest(&driver);
    assert!(!head.contains("Transfer-Encoding"), "{head}");
    assert!(!head.contains("Content-Length"), "{head}");
    assert!(head.ends_with("\r\nConnection: close"), "{head}");
    assert_eq!(count_of(&body), 2 * crate::todos::PAGE + 1);
    assert_eq!(driver.ends(), In("lingering"));
    assert!(driver.connection.socket.shut);
    driver.log.take_lines();
}

#[test]
fn the_answer_to_head_on_a_long_list_has_no_pieces() {
    let mut driver = with_a_long_list();
    driver.happen(Event::Send(
        "HEAD /todos HTTP/1.1\r\nHost: localhost\r\n\r\n",
    ));
    driver.happen(Event::Send(GET));
    let (head, rest) = head_and_rest(&driver);
    assert!(
        head.contains("\r\nTransfer-Encoding: chunked\r\n"),
        "{head}"
    );
    assert!(rest.starts_with("HTTP/1.1 200 "), "{rest:?}");
    assert_eq!(driver.ends(), In("idle"));
    driver.log.take_lines();
}

//! The benchmark: every stage under the same load, side by side.
//!
//! The load comes from `wrk` (an established load generator; Debian's
//! package `wrk`), never from a home-made loop, because a slow client
//! measures itself rather than the server. `wrk` only counts the answers
//! it got, though, and the question the final server exists to answer is
//! "does every connection get served?". So after each `wrk` run, a probe of
//! our own opens the same number of connections, each asking over and over
//! for a couple of seconds, and counts the connections that never got a
//! single answer.
//!
//! Each point starts a fresh server, so that its peak memory (`VmHWM` in
//! `/proc/PID/status`) belongs to that point alone. Every point runs three
//! times, in three rounds over all points, and the report keeps the
//! median: on a shared two-core machine, a slow minute can make a run 20%
//! off, and back-to-back runs of one point would all catch it.

//!
//! This crate uses the `suite` crate to build and start servers and to
//! read their answers, and nothing else of this repository: not the
//! workshop. [`plot`] draws the charts from the CSV it writes, and
//! [`storage`] is the scenario for keeping to-dos on disk.

pub mod big_list;
pub mod plot;
pub mod storage;

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use suite::cargo::{self, ScratchCrate};
use suite::client;
use suite::server::Server;
use suite::stage::Stage;
use suite::wire::{self, Reply};

/// What the load asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// `GET /hello`, connections kept open.
    Hello,
    /// `GET /hello` with `Connection: close`: a new connection per request,
    /// as the Rust Book's server and our day stages do.
    HelloClose,
    /// `GET /sleep?ms=200`: a slow handler.
    Sleep,
    /// `GET /todos/1` on the final server, connections kept open.
    Todo,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Hello => "hello",
            Scenario::HelloClose => "hello-close",
            Scenario::Sleep => "sleep-200ms",
            Scenario::Todo => "todos-1",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Scenario::Hello | Scenario::HelloClose => "/hello",
            Scenario::Sleep => "/sleep?ms=200",
            Scenario::Todo => "/todos/1",
        }
    }

    fn closes(self) -> bool {
        self == Scenario::HelloClose
    }
}

/// The server being measured: a stage, the one design the stages are
/// measured against, or a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contender {
    Stage(Stage),
    /// Day 4 with the solution of the `day4-keep-alive` exercise: keep-alive
    /// on a fixed pool of four threads. It is the design the final server
    /// exists to avoid, so the benchmark shows what it does to clients.
    Day4KeepAlive,
    /// What a reader would use instead of writing a server: see [`Peer`].
    Peer(Peer),
    /// Another build of `final`, such as the version before a change,
    /// measured in the same rounds as the current one: see [`Build`].
    Build(&'static Build),
}

/// A binary of `final` built elsewhere, and the name it goes by in the
/// CSV (`bench --peers --contender before=PATH`).
#[derive(Debug, PartialEq, Eq)]
pub struct Build {
    pub name: String,
    pub binary: PathBuf,
}

impl Build {
    /// A contender for `binary`, named `name`. It lives as long as the
    /// program, like the stages' names, so that [`Contender`] stays
    /// `Copy`; a benchmark makes one or two.
    pub fn contender(name: String, binary: PathBuf) -> Contender {
        Contender::Build(Box::leak(Box::new(Build { name, binary })))
    }
}

impl std::fmt::Display for Contender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Contender::Stage(stage) => write!(f, "{stage}"),
            Contender::Day4KeepAlive => f.write_str(KEEP_ALIVE_POOL),
            Contender::Peer(peer) => f.write_str(peer.name()),
            Contender::Build(build) => f.write_str(&build.name),
        }
    }
}

/// A server built on a crate, serving the same routes as `final`, from
/// the workspace `tests/peers`.
///
/// That workspace is separate so that `cargo test` and the main workspace
/// never compile tokio, axum, tiny_http or may: only `bench --peers`
/// builds it. A dev-dependency of this crate would have been simpler to
/// wire, and would have put some hundred crates into every `cargo test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// axum 0.8 on tokio's multi-threaded runtime: the usual choice.
    Axum,
    /// tiny_http 0.12 with four handler threads: a small synchronous crate.
    TinyHttp,
    /// may_minihttp 0.1, stackful coroutines on the `may` runtime: near
    /// the top of published plaintext rankings, the fastest kind of
    /// server a reader could take from crates.io.
    MayMinihttp,
    /// The floor: one fixed answer to every request head, no parsing, no
    /// routes (see `tests/peers/floor-peer`). Not a server anyone would
    /// use: what a server costs at the least, on this machine. Its
    /// `/todos/1` is the same fixed answer as its `/hello`.
    Floor,
}

impl Peer {
    pub const ALL: [Peer; 4] = [Peer::Axum, Peer::TinyHttp, Peer::MayMinihttp, Peer::Floor];

    /// The name in the CSV files and on the charts.
    pub fn name(self) -> &'static str {
        match self {
            Peer::Axum => "axum",
            Peer::TinyHttp => "tiny_http",
            Peer::MayMinihttp => "may_minihttp",
            Peer::Floor => "floor",
        }
    }

    /// The package, and binary, in `tests/peers`.
    fn package(self) -> &'static str {
        match self {
            Peer::Axum => "axum-peer",
            Peer::TinyHttp => "tiny-http-peer",
            Peer::MayMinihttp => "may-minihttp-peer",
            Peer::Floor => "floor-peer",
        }
    }

    /// Whether it serves final's routes, rather than one answer to
    /// everything. The floor does not: it cannot create the to-do (it
    /// would read the POST's body as a request head), and it would answer
    /// `/sleep` at once, so it has no slow-handler point.
    fn serves_routes(self) -> bool {
        self != Peer::Floor
    }
}

impl Contender {
    /// Whether it serves final's routes: see [`Peer::serves_routes`].
    fn serves_routes(self) -> bool {
        match self {
            Contender::Peer(peer) => peer.serves_routes(),
            Contender::Stage(_) | Contender::Day4KeepAlive | Contender::Build(_) => true,
        }
    }
}

/// The workshop exercise whose solution is [`Contender::Day4KeepAlive`],
/// and its name in the CSV files.
pub const KEEP_ALIVE_POOL: &str = "day4-keep-alive";

/// Where a long run is: `[12/45, about 8 min left]`, the time left
/// estimated from the time the runs so far took on average.
pub fn progress(done: usize, total: usize, elapsed: Duration) -> String {
    let left = if done == 0 {
        Duration::ZERO
    } else {
        elapsed.mul_f64((total.saturating_sub(done)) as f64 / done as f64)
    };
    let minutes = left.as_secs().div_ceil(60);
    let left = match (done >= total, minutes) {
        (true, _) => "done".to_string(),
        (false, 0 | 1) => "under a minute left".to_string(),
        (false, minutes) => format!("about {minutes} min left"),
    };
    format!("[{done}/{total}, {left}]")
}

/// One point of the benchmark: a server, a scenario, a number of
/// connections.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    pub contender: Contender,
    pub scenario: Scenario,
    pub connections: usize,
}

/// What one run of one point measured.
#[derive(Debug, Clone, Default)]
pub struct Measure {
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Socket errors and non-2xx answers, as `wrk` counts them.
    pub errors: u64,
    /// The server's peak resident memory, in KiB.
    pub peak_rss_kib: u64,
    /// Connections of the probe that never got an answer.
    pub unserved: usize,
}

/// How long and how often.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub load: Duration,
    pub probe: Duration,
    pub repeats: usize,
}

impl Plan {
    /// The real thing: about fifteen minutes on two cores.
    pub const FULL: Plan = Plan {
        load: Duration::from_secs(5),
        probe: Duration::from_secs(2),
        repeats: 3,
    };
    /// Seconds, for CI: proves the tooling works, measures nothing.
    pub const SMOKE: Plan = Plan {
        load: Duration::from_secs(1),
        probe: Duration::from_millis(300),
        repeats: 1,
    };
}

/// Every point of the full benchmark.
pub fn points() -> Vec<Point> {
    let mut points = Vec::new();
    let point = |stage, scenario, connections| Point {
        contender: Contender::Stage(stage),
        scenario,
        connections,
    };
    for stage in Stage::ALL {
        for connections in [1, 16, 64, 256] {
            points.push(point(stage, Scenario::Hello, connections));
        }
        points.push(point(stage, Scenario::HelloClose, 16));
    }
    // The Rust Book's design: a pool of four, one connection per request.
    for connections in [64, 256] {
        points.push(point(Stage::Day4, Scenario::HelloClose, connections));
    }
    for stage in [Stage::Day3, Stage::Day4, Stage::Final] {
        points.push(point(stage, Scenario::Sleep, 16));
    }
    for connections in [16, 64, 256] {
        points.push(point(Stage::Final, Scenario::Todo, connections));
    }
    // Keep-alive on a fixed pool of four: how many clients starve.
    for connections in [16, 256] {
        points.push(Point {
            contender: Contender::Day4KeepAlive,
            scenario: Scenario::Hello,
            connections,
        });
    }
    points
}

/// The points of `bench --peers`: `final` against every [`Peer`], on
/// kept-open connections up to 2,048, and the slow handler (but not for
/// the floor, which does not sleep).
///
/// 1,024 and 2,048 connections are here rather than in [`points`]: the
/// day stages serve one connection at a time, or four, and would only
/// show the same starvation as at 256, more slowly.
///
/// `builds` are other builds of `final`, measured on the same points.
pub fn peer_points(builds: &[Contender]) -> Vec<Point> {
    let contenders = [Contender::Stage(Stage::Final)]
        .into_iter()
        .chain(builds.iter().copied())
        .chain(Peer::ALL.map(Contender::Peer));
    let mut points = Vec::new();
    for contender in contenders {
        for scenario in [Scenario::Hello, Scenario::Todo] {
            for connections in PEER_CONNECTIONS {
                points.push(Point {
                    contender,
                    scenario,
                    connections,
                });
            }
        }
        if contender.serves_routes() {
            points.push(Point {
                contender,
                scenario: Scenario::Sleep,
                connections: 16,
            });
        }
    }
    points
}

/// The connection counts of [`peer_points`].
pub const PEER_CONNECTIONS: [usize; 5] = [16, 64, 256, 1024, 2048];

/// A few points that touch every part of the tooling, for CI.
pub fn smoke_points() -> Vec<Point> {
    vec![
        Point {
            contender: Contender::Stage(Stage::Day1),
            scenario: Scenario::Hello,
            connections: 2,
        },
        Point {
            contender: Contender::Stage(Stage::Day4),
            scenario: Scenario::HelloClose,
            connections: 2,
        },
        Point {
            contender: Contender::Stage(Stage::Final),
            scenario: Scenario::Todo,
            connections: 2,
        },
        Point {
            contender: Contender::Day4KeepAlive,
            scenario: Scenario::Hello,
            connections: 2,
        },
    ]
}

/// Runs `point` once on a fresh server.
pub fn run(point: Point, plan: Plan) -> Result<Measure, String> {
    let binary = match point.contender {
        Contender::Stage(stage) => cargo::reference_binary(stage)?,
        Contender::Day4KeepAlive => keep_alive_pool()?,
        Contender::Peer(peer) => peer_binary(peer)?,
        Contender::Build(build) => build.binary.clone(),
    };
    let server = Server::measured(&binary, &[])?;
    let addr = server.addr();
    // The floor answers `/todos/1` without a to-do: it has no routes.
    if point.scenario == Scenario::Todo && point.contender.serves_routes() {
        create_todo(addr)?;
    }
    let mut measure = wrk(addr, point, plan.load)?;
    measure.unserved = probe(addr, point, plan.probe);
    let pid = server.pid().ok_or("the server has no process id")?;
    measure.peak_rss_kib = peak_rss_kib(pid)?;
    Ok(measure)
}

/// The binary of [`Contender::Day4KeepAlive`], built once, in the profile
/// of the benchmark itself (release, for a real run), like the stages.
///
/// It is day 4 with the exercise's solution patch applied. The benchmark
/// reads the patch as a file of this repository; it does not use the
/// workshop crate, which it has no business depending on.
fn keep_alive_pool() -> Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let patch = cargo::root()
                .join("tests/workshop/solutions")
                .join(format!("{KEEP_ALIVE_POOL}.patch"));
            // A crate name of its own: scratch workspaces share the target
            // folder, and the workshop builds this same patch as
            // `day4-keep-alive`; two crates of one name would overwrite
            // each other's binary there.
            let name = format!("bench-{KEEP_ALIVE_POOL}");
            let krate: ScratchCrate = cargo::patched_stage(Stage::Day4, &patch, &name)?;
            let dir = cargo::build_scratch("bench-contenders", &[krate])?;
            Ok(dir.join(cargo::binary_name(&name)))
        })
        .clone()
}

/// The binary of `peer`, built once with `cargo build` on the
/// `tests/peers` workspace, in the profile of the benchmark itself (as the
/// stages are), into `peers/` under this workspace's target folder.
///
/// A target folder of its own, because Cargo locks a target folder while
/// it builds, and the peers have nothing to share with the stages.
fn peer_binary(peer: Peer) -> Result<PathBuf, String> {
    peer_program(peer.package())
}

/// The binary of `package` in the `tests/peers` workspace, built with the
/// rest of the workspace (see [`peer_binary`]).
pub(crate) fn peer_program(package: &str) -> Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = BUILT
        .get_or_init(|| {
            let target = cargo::target_dir()?.join("peers");
            let manifest = cargo::root().join("tests/peers/Cargo.toml");
            let (manifest, target) = (manifest.to_string_lossy(), target.to_string_lossy());
            let mut args = vec![
                "build",
                "--quiet",
                "--manifest-path",
                &manifest,
                "--target-dir",
                &target,
            ];
            if cargo::profile() == "release" {
                args.push("--release");
            }
            cargo::cargo(&args, &cargo::root())?;
            Ok(cargo::target_dir()?.join("peers").join(cargo::profile()))
        })
        .clone()?;
    Ok(dir.join(cargo::binary_name(package)))
}

fn create_todo(addr: SocketAddr) -> Result<(), String> {
    let request = client::request_closing("POST", "/todos", Some(r#"{"title":"benchmark"}"#));
    match wire::Exchange::new(request).run(addr) {
        Reply::Response(response) if response.status == 201 => Ok(()),
        other => Err(format!("cannot create the to-do: {}", other.describe())),
    }
}

/// Runs `wrk` against `addr` and reads its report.
fn wrk(addr: SocketAddr, point: Point, load: Duration) -> Result<Measure, String> {
    let mut command = Command::new("wrk");
    command
        .arg("--latency")
        .arg(format!("--threads={}", point.connections.clamp(1, 2)))
        .arg(format!("--connections={}", point.connections))
        .arg(format!("--duration={}s", load.as_secs().max(1)))
        .arg("--timeout=5s");
    if point.scenario.closes() {
        command.args(["--header", "Connection: close"]);
    }
    command.arg(format!("http://{addr}{}", point.scenario.path()));
    run_wrk(&mut command, load)
}

/// Runs a `wrk` command that loads for `load`, and reads its report.
pub fn run_wrk(command: &mut Command, load: Duration) -> Result<Measure, String> {
    // wrk stops itself after `load`; a minute more than that is a hang.
    let output = suite::process::run(command, load + Duration::from_secs(60)).map_err(|err| {
        format!("{err} (is wrk installed? `apt-get install wrk` on Debian and Ubuntu)")
    })?;
    if !output.status.success() {
        return Err(format!(
            "wrk failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    parse_wrk(&String::from_utf8_lossy(&output.stdout))
}

/// Reads requests per second, the 50th and 99th latency percentiles, and
/// the errors out of `wrk --latency`'s report.
pub fn parse_wrk(report: &str) -> Result<Measure, String> {
    let mut measure = Measure::default();
    let mut found_rate = false;
    for line in report.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", rate] => {
                measure.requests_per_second =
                    rate.parse().map_err(|_| format!("bad rate {rate}"))?;
                found_rate = true;
            }
            ["50%", latency] => measure.p50_ms = milliseconds(latency)?,
            ["99%", latency] => measure.p99_ms = milliseconds(latency)?,
            ["Non-2xx", "or", "3xx", "responses:", count] => {
                measure.errors += count.parse::<u64>().unwrap_or(0);
            }
            ["Socket", "errors:", rest @ ..] => {
                measure.errors += rest
                    .iter()
                    .filter_map(|word| word.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    if !found_rate {
        return Err(format!("no Requests/sec in wrk's report:\n{report}"));
    }
    Ok(measure)
}

/// `228.00us`, `6.17ms` or `1.02s`, in milliseconds.
fn milliseconds(text: &str) -> Result<f64, String> {
    let (number, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return Err(format!("bad latency {text}"));
    };
    number
        .parse::<f64>()
        .map(|n| n * scale)
        .map_err(|_| format!("bad latency {text}"))
}

// ANCHOR: probe
/// Opens `point.connections` connections at once; each sends the request
/// again and again for `duration` (on one kept-open connection, or a new
/// one each time for the `Connection: close` scenario). Returns how many
/// connections never got an answer at all.
fn probe(addr: SocketAddr, point: Point, duration: Duration) -> usize {
    // The host is the address itself, as wrk sends it: the final server
    // answers only names on its allow-list (421 for others).
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {addr}\r\n{}\r\n",
        point.scenario.path(),
        if point.scenario.closes() {
            "Connection: close\r\n"
        } else {
            ""
        }
    );
    let start = Arc::new(Barrier::new(point.connections));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..point.connections)
        .map(|_| {
            let (request, start, stop) = (request.clone(), Arc::clone(&start), Arc::clone(&stop));
            thread::spawn(move || {
                start.wait();
                ask_until(addr, &request, Instant::now() + duration, &stop)
            })
        })
        .collect();
    let answers: Vec<usize> = clients
        .into_iter()
        .map(|client| {
            suite::process::join_within(client, duration + Duration::from_secs(30)).unwrap_or(0)
        })
        .collect();
    stop.store(true, Ordering::SeqCst);
    answers.iter().filter(|count| **count == 0).count()
}
// ANCHOR_END: probe

// ANCHOR: probe_client
/// One client of the probe: asks with `request` until `deadline` (or
/// `stop`), reconnecting whenever the connection is refused, closed or
/// broken, and returns how many answers it got.
fn ask_until(addr: SocketAddr, request: &str, deadline: Instant, stop: &AtomicBool) -> usize {
    let mut answers = 0;
    let mut stream: Option<TcpStream> = None;
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        if stream.is_none() {
            // A full backlog drops our SYN and the kernel
            // retries for minutes: bound the wait by the probe's.
            let left = deadline.saturating_duration_since(Instant::now());
            stream = TcpStream::connect_timeout(&addr, left.max(Duration::from_millis(1))).ok();
        }
        let Some(open) = stream.as_mut() else {
            // Refused: back off a little instead of spinning.
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        if open.write_all(request.as_bytes()).is_err() {
            stream = None;
            continue;
        }
        match wire::read_reply(open, deadline) {
            Reply::Response(response) => {
                answers += 1;
                // The day stages close after every answer.
                if response
                    .header("connection")
                    .is_some_and(|value| value.eq_ignore_ascii_case("close"))
                {
                    stream = None;
                }
            }
            _ => stream = None,
        }
    }
    answers
}
// ANCHOR_END: probe_client

/// Raises this process's limit on open files to `wanted`, or as far as
/// the system allows, and says what the limit is now. The servers and wrk,
/// started later, inherit it.
///
/// 2,048 connections need 2,048 descriptors in the server, as many in wrk,
/// and as many in the probe, this process; many systems start programs
/// with a limit of 1,024. It runs the util-linux tool `prlimit` on our own
/// process id rather than calling `setrlimit`, which would need `unsafe`
/// (or a crate for it), and this workspace forbids the one and does not
/// need the other for a single call.
pub fn raise_open_files(wanted: u64) -> String {
    let pid = std::process::id().to_string();
    let set = |limits: &str| {
        suite::process::run(
            Command::new("prlimit").args(["--pid", &pid, &format!("--nofile={limits}")]),
            Duration::from_secs(10),
        )
        .is_ok_and(|finished| finished.status.success())
    };
    // Raising the hard limit needs privilege; without it, the soft limit
    // can still go up to the hard one.
    if !set(&format!("{wanted}:{wanted}"))
        && let Some((_, hard)) = open_files()
    {
        // "unlimited" does not parse, and then `wanted` is allowed.
        let most = hard.parse().map_or(wanted, |hard: u64| hard.min(wanted));
        set(&format!("{most}:"));
    }
    match open_files() {
        Some((soft, hard)) => format!("open-file limit {soft} (hard {hard})"),
        None => "open-file limit unknown".to_string(),
    }
}

/// This process's soft and hard limits on open files, from
/// `/proc/self/limits`.
fn open_files() -> Option<(String, String)> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    let mut words = line["Max open files".len()..].split_whitespace();
    Some((words.next()?.to_string(), words.next()?.to_string()))
}

/// The peak resident memory of process `pid`, in KiB.
pub(crate) fn peak_rss_kib(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|err| format!("cannot read /proc/{pid}/status: {err}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmHWM in /proc/PID/status".to_string())
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}

/// One point's runs and their medians.
pub struct Row {
    pub point: Point,
    pub runs: Vec<Measure>,
}

impl Row {
    /// The median of one measure over the runs.
    pub fn median(&self, field: impl Fn(&Measure) -> f64) -> f64 {
        let mut values: Vec<f64> = self.runs.iter().map(field).collect();
        median(&mut values)
    }
}

/// The header of both CSV files.
pub const CSV_HEADER: &str = "stage,scenario,connections,run,requests_per_second,p50_ms,p99_ms,errors,peak_rss_kib,unserved\n";

/// Every run, one line each.
pub fn runs_csv(rows: &[Row]) -> String {
    let mut csv = String::from(CSV_HEADER);
    for row in rows {
        for (i, run) in row.runs.iter().enumerate() {
            let _ = writeln!(
                csv,
                "{},{}",
                prefix(row.point),
                fields(&(i + 1).to_string(), run)
            );
        }
    }
    csv
}

/// One line per point, each measure the median of its runs.
pub fn medians_csv(rows: &[Row]) -> String {
    let mut csv = String::from(CSV_HEADER);
    for row in rows {
        let median = Measure {
            requests_per_second: row.median(|m| m.requests_per_second),
            p50_ms: row.median(|m| m.p50_ms),
            p99_ms: row.median(|m| m.p99_ms),
            errors: row.median(|m| m.errors as f64) as u64,
            peak_rss_kib: row.median(|m| m.peak_rss_kib as f64) as u64,
            unserved: row.median(|m| m.unserved as f64) as usize,
        };
        let _ = writeln!(csv, "{},{}", prefix(row.point), fields("median", &median));
    }
    csv
}

fn prefix(point: Point) -> String {
    format!(
        "{},{},{}",
        point.contender,
        point.scenario.name(),
        point.connections
    )
}

impl std::fmt::Display for Measure {
    /// One line for the terminal while the benchmark runs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:>8.0} req/s  p50 {:>8.3} ms  p99 {:>8.3} ms  errors {:>5}  peak RSS {:>6} KiB  unserved {}",
            self.requests_per_second,
            self.p50_ms,
            self.p99_ms,
            self.errors,
            self.peak_rss_kib,
            self.unserved
        )
    }
}

fn fields(run: &str, measure: &Measure) -> String {
    format!(
        "{run},{:.0},{:.3},{:.3},{},{},{}",
        measure.requests_per_second,
        measure.p50_ms,
        measure.p99_ms,
        measure.errors,
        measure.peak_rss_kib,
        measure.unserved
    )
}

#[cfg(test)]
mod tests {

    #[test]
    fn progress_counts_and_estimates_the_rest() {
        let rows = [
            (0, 45, 0, "[0/45, under a minute left]"),
            (15, 45, 300, "[15/45, about 10 min left]"),
            (44, 45, 880, "[44/45, under a minute left]"),
            (45, 45, 900, "[45/45, done]"),
        ];
        for (done, total, seconds, expected) in rows {
            assert_eq!(
                progress(done, total, Duration::from_secs(seconds)),
                expected,
                "{done}/{total}"
            );
        }
    }

    use super::*;

    #[test]
    fn reads_a_wrk_report() {
        let report = "\
Running 5s test @ http://127.0.0.1:1/hello
  2 threads and 64 connections
  Latency Distribution
     50%  717.00us
     75%    1.20ms
     90%    2.00ms
     99%    6.17ms
  263138 requests in 5.00s, 30.61MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:  52627.60
";
        let measure = parse_wrk(report).expect("a full report");
        assert_eq!(measure.requests_per_second, 52627.60);
        assert!((measure.p50_ms - 0.717).abs() < 1e-9);
        assert!((measure.p99_ms - 6.17).abs() < 1e-9);
        assert_eq!(measure.errors, 12);
        assert!(parse_wrk("garbage").is_err());
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[test]
    fn every_peer_is_measured_and_the_floor_never_sleeps() {
        let points = peer_points(&[]);
        let count = |contender: Contender, scenario: Scenario| {
            points
                .iter()
                .filter(|point| point.contender == contender && point.scenario == scenario)
                .count()
        };
        let contenders = [Contender::Stage(Stage::Final)]
            .into_iter()
            .chain(Peer::ALL.map(Contender::Peer));
        for contender in contenders {
            assert_eq!(count(contender, Scenario::Hello), PEER_CONNECTIONS.len());
            assert_eq!(count(contender, Scenario::Todo), PEER_CONNECTIONS.len());
            let sleeps = usize::from(contender != Contender::Peer(Peer::Floor));
            assert_eq!(count(contender, Scenario::Sleep), sleeps, "{contender}");
        }
    }
}

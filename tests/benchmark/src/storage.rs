//! The storage benchmark: what keeping to-dos on disk costs.
//!
//! A durable `POST /todos` cannot be faster than the disk can append a
//! record and sync it, so this scenario first measures exactly that, in
//! the same folder and the same run, as the reference: a loop of small
//! appends, each followed by `sync_data` (what the log uses), right
//! before and right after each run, and, for one connection, SQLite's
//! rate (the `sqlite-loop` peer: WAL, `synchronous=FULL`). Then, with wrk:
//!
//! - durable POSTs at 1 and 16 connections, on an empty store and on one
//!   with 100,000 to-dos (a snapshot, the format every version reads);
//! - start-up time with those 100,000 to-dos in the snapshot, and with
//!   100,000 to-dos in the log alone (created through the API, 16
//!   connections at a time, which is also reported as a rate);
//! - the server's peak memory in each run.
//!
//! Any build of `final` can be measured, so that the version before the
//! log (commit `307bb9e`, which rewrote the whole file on every change)
//! can be measured once, on the same machine, and kept for the book's
//! chart: `bench --storage --contender rewrite=PATH`.
//!
//! Linux only, like the rest of the benchmark (wrk, `/proc`).

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use suite::server::Server;
use suite::wire::{self, Reply};

use crate::{median, peak_rss_kib, run_wrk};

/// How long and how big.
#[derive(Debug, Clone, Copy)]
pub struct StoragePlan {
    /// How long wrk sends POSTs for, per run.
    pub load: Duration,
    /// How long the raw append+sync loop runs.
    pub raw: Duration,
    pub repeats: usize,
    /// The size of the big store.
    pub big: usize,
    /// Whether to measure SQLite beside the raw loop: it is a peer, and
    /// the smoke run never builds the peers.
    pub sqlite: bool,
}

impl StoragePlan {
    /// The real thing: a few minutes.
    pub const FULL: StoragePlan = StoragePlan {
        load: Duration::from_secs(5),
        raw: Duration::from_secs(2),
        repeats: 3,
        big: 100_000,
        sqlite: true,
    };
    /// Seconds, for CI: every step once, on a small store.
    pub const SMOKE: StoragePlan = StoragePlan {
        load: Duration::from_secs(1),
        raw: Duration::from_millis(100),
        repeats: 1,
        big: 300,
        sqlite: false,
    };
}

/// The build of `final` being measured, and its name in the CSV.
pub struct Contender {
    pub label: String,
    pub binary: PathBuf,
}

/// One measured value.
#[derive(Debug, Clone)]
pub struct Sample {
    pub contender: String,
    /// `append+sync`, `post`, `post-p99-ms`, `peak-rss-kib`, `startup-s`,
    /// `fill`.
    pub measure: &'static str,
    /// `empty`, or the number of to-dos, with `-log` when they are in the
    /// log rather than the snapshot.
    pub store: String,
    pub connections: usize,
    pub run: usize,
    pub value: f64,
}

/// The CSV header of the storage results.
pub const CSV_HEADER: &str = "contender,measure,store,connections,run,value\n";

/// Runs the whole scenario for `contender` in `work` (a scratch folder on
/// the disk being measured), printing each value as it comes.
pub fn run(contender: &Contender, plan: StoragePlan, work: &Path) -> Result<Vec<Sample>, String> {
    let _ = fs::remove_dir_all(work);
    fs::create_dir_all(work).map_err(|err| format!("cannot create {}: {err}", work.display()))?;
    let script = work.join("post.lua");
    fs::write(&script, POST_SCRIPT).map_err(|err| format!("cannot write the wrk script: {err}"))?;
    let big = plan.big.to_string();
    let seed = work.join("seed");
    write_snapshot(&seed, plan.big)?;

    let mut samples = Vec::new();
    let mut record = |measure, store: &str, connections, run, value: f64| {
        println!(
            "{:<8} {measure:<13} {store:>11} {connections:>3} conns  run {run}: {value:.3}",
            contender.label
        );
        samples.push(Sample {
            contender: contender.label.clone(),
            measure,
            store: store.to_string(),
            connections,
            run,
            value,
        });
    };

    // Rounds over every point, as in the main benchmark, so that a slow
    // minute spoils one run of several points rather than every run of one.
    for run in 1..=plan.repeats {
        let mut disk_rates = Vec::new();
        for (store, from) in [("empty", None), (big.as_str(), Some(&seed))] {
            for connections in [1, 16] {
                let folder = work.join(format!("run-{store}-{connections}"));
                prepare(&folder, from)?;
                // The disk's own rate, right before and right after: on a
                // shared machine it changes from minute to minute (other
                // programs' writes make every sync wait for theirs), so a
                // ratio is only fair against the same minute.
                let before = raw_append_sync(&work.join("raw"), plan.raw)?;
                let (measure, rss) = post(contender, &folder, &script, connections, plan.load)?;
                let after = raw_append_sync(&work.join("raw"), plan.raw)?;
                let disk = (before + after) / 2.0;
                // A database's rate for one writer, in the same minute.
                if connections == 1 && plan.sqlite {
                    let sqlite = sqlite_loop(&work.join("sqlite"), plan.raw)?;
                    record("sqlite", store, connections, run, sqlite);
                    record(
                        "post-vs-sqlite",
                        store,
                        connections,
                        run,
                        measure.requests_per_second / sqlite,
                    );
                }
                disk_rates.push(disk);
                record("post", store, connections, run, measure.requests_per_second);
                record("append+sync", store, connections, run, disk);
                record(
                    "post-vs-disk",
                    store,
                    connections,
                    run,
                    measure.requests_per_second / disk,
                );
                record("post-p99-ms", store, connections, run, measure.p99_ms);
                record("errors", store, connections, run, measure.errors as f64);
                record("peak-rss-kib", store, connections, run, rss as f64);
            }
        }
        let disk = disk_rates.iter().sum::<f64>() / disk_rates.len() as f64;
        record("append+sync", "-", 1, run, disk);
        let folder = work.join("startup");
        prepare(&folder, Some(&seed))?;
        let seconds = startup(contender, &folder)?;
        record("startup-s", &big, 0, run, seconds);
    }

    // The big store in the log alone: made through the API, which the
    // old version could not do in any reasonable time (each create
    // rewrote the whole file), so only for a contender that asks.
    if contender.label != "rewrite" {
        let folder = work.join("in-log");
        prepare(&folder, None)?;
        let rate = fill(contender, &folder, plan.big)?;
        let store = format!("{big}-log");
        record("fill", &store, 16, 1, rate);
        for run in 1..=plan.repeats {
            let seconds = startup(contender, &folder)?;
            record("startup-s", &store, 0, run, seconds);
        }
    }
    Ok(samples)
}

/// wrk's script for a POST with a JSON body.
const POST_SCRIPT: &str = r#"wrk.method = "POST"
wrk.body = '{"title":"benchmark to-do"}'
wrk.headers["Content-Type"] = "application/json"
"#;

/// A snapshot of `count` to-dos in `folder/todos.json`, in the format
/// every version of `final` reads: the one it has always written.
pub(crate) fn write_snapshot(folder: &Path, count: usize) -> Result<(), String> {
    fs::create_dir_all(folder).map_err(|err| err.to_string())?;
    let mut json = format!("{{\n  \"next_id\": {},\n  \"todos\": {{\n", count + 1);
    for id in 1..=count {
        let comma = if id < count { "," } else { "" };
        let _ = writeln!(
            json,
            "    \"{id}\": {{\n      \"id\": {id},\n      \"title\": \"to-do number {id}\",\n      \"completed\": false,\n      \"order\": null\n    }}{comma}"
        );
    }
    json.push_str("  }\n}");
    fs::write(folder.join("todos.json"), json)
        .map_err(|err| format!("cannot write the seed: {err}"))
}

/// An empty `folder`, holding a copy of `seed`'s files if given.
pub(crate) fn prepare(folder: &Path, seed: Option<&PathBuf>) -> Result<(), String> {
    let _ = fs::remove_dir_all(folder);
    fs::create_dir_all(folder).map_err(|err| err.to_string())?;
    if let Some(seed) = seed {
        for entry in fs::read_dir(seed).map_err(|err| err.to_string())? {
            let path = entry.map_err(|err| err.to_string())?.path();
            if let Some(name) = path.file_name() {
                fs::copy(&path, folder.join(name)).map_err(|err| err.to_string())?;
            }
        }
    }
    Ok(())
}

fn start(contender: &Contender, folder: &Path) -> Result<Server, String> {
    let data = folder.join("todos.json");
    let data = data
        .to_str()
        .ok_or("the scratch folder's path is not UTF-8")?;
    Server::program_with(&contender.binary, &["--data", data])
}

// ANCHOR: raw
/// How many times a second this disk can append a record-sized write to a
/// file and sync it: the most any durable store can acknowledge with one
/// writer, measured here in the same folder as the store's files.
fn raw_append_sync(folder: &Path, duration: Duration) -> Result<f64, String> {
    prepare(folder, None)?;
    let path = folder.join("raw.log");
    let mut file = fs::File::create(&path).map_err(|err| err.to_string())?;
    let record = [b'x'; 120];
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < duration {
        file.write_all(&record).map_err(|err| err.to_string())?;
        file.sync_data().map_err(|err| err.to_string())?;
        count += 1;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}
// ANCHOR_END: raw

/// How many single-row transactions a second SQLite makes durable here
/// (WAL, `synchronous=FULL`, one connection): the `sqlite-loop` peer.
fn sqlite_loop(folder: &Path, duration: Duration) -> Result<f64, String> {
    prepare(folder, None)?;
    let program = crate::peer_program("sqlite-loop")?;
    let mut command = Command::new(&program);
    command.arg(folder).arg(duration.as_secs_f64().to_string());
    let output = suite::process::run(&mut command, duration + Duration::from_secs(60))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "sqlite-loop failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    text.trim()
        .parse()
        .map_err(|_| format!("sqlite-loop printed {text:?}, not a rate"))
}

/// One wrk run of durable POSTs; the measure and the server's peak memory.
fn post(
    contender: &Contender,
    folder: &Path,
    script: &Path,
    connections: usize,
    load: Duration,
) -> Result<(crate::Measure, u64), String> {
    let server = start(contender, folder)?;
    let mut command = Command::new("wrk");
    command
        .arg("--latency")
        .arg(format!("--threads={}", connections.clamp(1, 2)))
        .arg(format!("--connections={connections}"))
        .arg(format!("--duration={}s", load.as_secs().max(1)))
        .arg("--timeout=10s")
        .arg("--script")
        .arg(script)
        .arg(format!("http://{}/todos", server.addr()));
    let measure = run_wrk(&mut command, load)?;
    let pid = server.pid().ok_or("the server has no process id")?;
    Ok((measure, peak_rss_kib(pid)?))
}

/// Seconds from starting the server on `folder` to its `Listening` line,
/// which it prints once the store is open.
fn startup(contender: &Contender, folder: &Path) -> Result<f64, String> {
    let started = Instant::now();
    let server = start(contender, folder)?;
    let seconds = started.elapsed().as_secs_f64();
    drop(server);
    Ok(seconds)
}

/// Creates `count` to-dos through the API, 16 connections at a time, and
/// returns the rate. The server is then killed (`kill -9`, when `Server`
/// is dropped): every create was acknowledged, so every one is in the log.
fn fill(contender: &Contender, folder: &Path, count: usize) -> Result<f64, String> {
    let server = start(contender, folder)?;
    let addr = server.addr();
    let left = Arc::new(AtomicUsize::new(count));
    let started = Instant::now();
    let clients: Vec<_> = (0..16)
        .map(|_| {
            let left = Arc::clone(&left);
            thread::spawn(move || create_while_left(addr, &left))
        })
        .collect();
    for client in clients {
        suite::process::join_within(client, Duration::from_secs(600))??;
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    drop(server);
    Ok(rate)
}

/// Creates to-dos over a kept-open connection while `left` says so.
///
/// The server may close an idle kept-open connection to give its thread
/// to a newcomer (the connections chapter), before reading our next
/// request; then we connect again and send it again. Any other failure,
/// or a second close in a row, ends the fill with an error.
fn create_while_left(addr: SocketAddr, left: &AtomicUsize) -> Result<(), String> {
    let body = r#"{"title":"created through the API"}"#;
    // The host is the address itself: the final server answers only names
    // on its allow-list, and gives 421 to others.
    let request = format!(
        "POST /todos HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream: Option<TcpStream> = None;
    while left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let open = match &mut stream {
                Some(open) => open,
                None => stream.insert(TcpStream::connect(addr).map_err(|err| err.to_string())?),
            };
            let sent = open.write_all(request.as_bytes());
            let reply = match sent {
                Ok(()) => wire::read_reply(open, Instant::now() + Duration::from_secs(30)),
                Err(err) => Reply::Failed {
                    error: err.to_string(),
                    received: Vec::new(),
                },
            };
            match reply {
                Reply::Response(response) if response.status == 201 => {
                    if response
                        .header("connection")
                        .is_some_and(|value| value.eq_ignore_ascii_case("close"))
                    {
                        stream = None;
                    }
                    break;
                }
                Reply::Closed | Reply::Failed { .. } if attempts < 2 => stream = None,
                other => return Err(format!("a create failed: {}", other.describe())),
            }
        }
    }
    Ok(())
}

/// Every sample, one line each.
pub fn runs_csv(samples: &[Sample]) -> String {
    let mut csv = String::from(CSV_HEADER);
    for s in samples {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{:.3}",
            s.contender, s.measure, s.store, s.connections, s.run, s.value
        );
    }
    csv
}

/// The median of each point's runs, with `run` set to `median`.
pub fn medians_csv(samples: &[Sample]) -> String {
    let mut keys: Vec<(String, &str, String, usize)> = Vec::new();
    for s in samples {
        let key = (
            s.contender.clone(),
            s.measure,
            s.store.clone(),
            s.connections,
        );
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let mut csv = String::from(CSV_HEADER);
    for (contender, measure, store, connections) in keys {
        let mut values: Vec<f64> = samples
            .iter()
            .filter(|s| {
                s.contender == contender
                    && s.measure == measure
                    && s.store == store
                    && s.connections == connections
            })
            .map(|s| s.value)
            .collect();
        let _ = writeln!(
            csv,
            "{contender},{measure},{store},{connections},median,{:.3}",
            median(&mut values)
        );
    }
    csv
}

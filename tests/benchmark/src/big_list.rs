//! `bench --big-list`: does one client listing a long list hold up the
//! others?
//!
//! Each contender (`final`, and any `--contender NAME=PATH`) starts on a
//! store of [`BigListPlan::todos`] to-dos. `wrk` then loads `GET /hello` on
//! 64 connections twice: alone, and while one more client fetches
//! `GET /todos` over and over. What matters is the second p99 against the
//! first; the lister's own rate and the server's peak memory are reported
//! beside them. Rounds are interleaved across contenders, and the table
//! gives medians.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use suite::server::Server;

use crate::storage::{prepare, write_snapshot};
use crate::{Measure, median, peak_rss_kib, run_wrk};

/// How many to-dos, how long each load, how many rounds.
#[derive(Debug, Clone, Copy)]
pub struct BigListPlan {
    pub todos: usize,
    pub load: Duration,
    pub rounds: usize,
}

impl BigListPlan {
    pub const FULL: BigListPlan = BigListPlan {
        todos: 100_000,
        load: Duration::from_secs(10),
        rounds: 3,
    };
}

/// `/hello`'s connections, as in the issue that set the target.
const CONNECTIONS: usize = 64;

/// One contender's figures in one round.
#[derive(Debug, Clone)]
pub struct Sample {
    pub contender: String,
    pub round: usize,
    pub alone: Measure,
    pub with_list: Measure,
    /// Whole lists the lister received per second, and their size.
    pub lists_per_second: f64,
    pub list_bytes: usize,
    pub peak_rss_mib: f64,
}

/// Runs every round for `contenders` (label, binary), with scratch files
/// in `work`.
pub fn run(
    contenders: &[(String, PathBuf)],
    plan: BigListPlan,
    work: &Path,
) -> Result<Vec<Sample>, String> {
    let seed = work.join("seed");
    write_snapshot(&seed, plan.todos)?;
    let mut samples = Vec::new();
    for round in 1..=plan.rounds {
        for (label, binary) in contenders {
            let folder = work.join(format!("run-{label}"));
            prepare(&folder, Some(&seed))?;
            let sample = one(label, binary, &folder, plan, round)?;
            println!(
                "[round {round}/{}] {label:<10} /hello p99 {:.2} ms alone, {:.2} ms with the list; {:.1} lists/s; peak {:.1} MiB",
                plan.rounds,
                sample.alone.p99_ms,
                sample.with_list.p99_ms,
                sample.lists_per_second,
                sample.peak_rss_mib
            );
            samples.push(sample);
        }
    }
    let _ = fs::remove_dir_all(work);
    Ok(samples)
}

fn one(
    label: &str,
    binary: &Path,
    folder: &Path,
    plan: BigListPlan,
    round: usize,
) -> Result<Sample, String> {
    let data = folder.join("todos.json");
    let data = data.to_string_lossy();
    let server = Server::measured(binary, &["--data", &data])?;
    let addr = server.addr();
    let alone = hello(addr, plan.load)?;
    let stop = Arc::new(AtomicBool::new(false));
    let lister = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || list_until(addr, &stop))
    };
    let started = Instant::now();
    let with_list = hello(addr, plan.load);
    stop.store(true, Ordering::Relaxed);
    let (lists, list_bytes) = lister
        .join()
        .map_err(|_| "the lister panicked".to_string())??;
    let with_list = with_list?;
    let pid = server.pid().ok_or("the server has no process id")?;
    Ok(Sample {
        contender: label.to_string(),
        round,
        alone,
        with_list,
        lists_per_second: lists as f64 / started.elapsed().as_secs_f64(),
        list_bytes,
        peak_rss_mib: peak_rss_kib(pid)? as f64 / 1024.0,
    })
}

/// `wrk` on `/hello` for `load`.
fn hello(addr: SocketAddr, load: Duration) -> Result<Measure, String> {
    let mut command = Command::new("wrk");
    command
        .arg("--latency")
        .arg("--threads=2")
        .arg(format!("--connections={CONNECTIONS}"))
        .arg(format!("--duration={}s", load.as_secs().max(1)))
        .arg("--timeout=5s")
        .arg(format!("http://{addr}/hello"));
    run_wrk(&mut command, load)
}

/// Fetches the list until `stop`, one connection per list: HTTP/1.0, so
/// that every build answers with a body that ends at the close, whatever
/// its framing. Returns how many whole lists came, and the last one's size.
fn list_until(addr: SocketAddr, stop: &AtomicBool) -> Result<(usize, usize), String> {
    let mut lists = 0;
    let mut size = 0;
    let mut answer = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let mut stream = TcpStream::connect(addr).map_err(|err| format!("lister: {err}"))?;
        // A list that takes longer than this is a hang, not a figure.
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|err| format!("lister: {err}"))?;
        stream
            .write_all(b"GET /todos HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .map_err(|err| format!("lister: {err}"))?;
        answer.clear();
        stream
            .read_to_end(&mut answer)
            .map_err(|err| format!("lister: {err}"))?;
        if !answer.starts_with(b"HTTP/1.1 200") || !answer.ends_with(b"]") {
            return Err(format!(
                "lister: not a whole list ({} bytes, starting {:?})",
                answer.len(),
                String::from_utf8_lossy(&answer[..answer.len().min(40)])
            ));
        }
        lists += 1;
        size = answer.len();
    }
    Ok((lists, size))
}

/// Every sample, one per line.
pub fn runs_csv(samples: &[Sample]) -> String {
    let mut csv = String::from(
        "contender,round,hello_rps_alone,hello_p99_ms_alone,hello_rps_with_list,hello_p99_ms_with_list,lists_per_second,list_bytes,peak_rss_mib\n",
    );
    for s in samples {
        csv.push_str(&format!(
            "{},{},{:.0},{:.2},{:.0},{:.2},{:.2},{},{:.1}\n",
            s.contender,
            s.round,
            s.alone.requests_per_second,
            s.alone.p99_ms,
            s.with_list.requests_per_second,
            s.with_list.p99_ms,
            s.lists_per_second,
            s.list_bytes,
            s.peak_rss_mib
        ));
    }
    csv
}

/// The medians of each contender, as a Markdown table.
pub fn table(samples: &[Sample]) -> String {
    let mut text = String::from(
        "| contender | /hello p99 alone (ms) | /hello p99 with the list (ms) | ratio | /hello req/s alone, with the list | lists/s (MB/s) | peak RSS (MiB) |\n|---|---|---|---|---|---|---|\n",
    );
    let mut labels: Vec<&str> = Vec::new();
    for sample in samples {
        if !labels.contains(&sample.contender.as_str()) {
            labels.push(&sample.contender);
        }
    }
    for label in labels {
        let of = |field: fn(&Sample) -> f64| {
            let mut values: Vec<f64> = samples
                .iter()
                .filter(|s| s.contender == label)
                .map(field)
                .collect();
            median(&mut values)
        };
        let (alone, with_list) = (of(|s| s.alone.p99_ms), of(|s| s.with_list.p99_ms));
        let lists = of(|s| s.lists_per_second);
        let megabytes = lists * of(|s| s.list_bytes as f64) / 1e6;
        text.push_str(&format!(
            "| {label} | {alone:.2} | {with_list:.2} | {:.2} | {:.0}, {:.0} | {lists:.1} ({megabytes:.0}) | {:.1} |\n",
            with_list / alone,
            of(|s| s.alone.requests_per_second),
            of(|s| s.with_list.requests_per_second),
            of(|s| s.peak_rss_mib),
        ));
    }
    text
}

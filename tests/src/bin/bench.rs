//! `bench`: every stage under the same load, written to CSV and SVG.
//!
//! ```text
//! apt-get install wrk                                   # the load generator
//! cargo run -p tests --release --bin bench              # about fifteen minutes
//! cargo run -p tests --release --bin bench -- --plot    # redraw the charts only
//! cargo run -p tests --bin bench -- --smoke             # seconds: CI's check
//! cargo run -p tests --release --bin bench -- --storage # keeping to-dos on disk
//! cargo run -p tests --release --bin bench -- --peers   # final against the peers
//! cargo run -p tests --release --bin bench -- --big-list # a long list beside /hello
//! ```
//!
//! `--peers` builds the workspace `tests/peers` (axum, tiny_http and
//! may_minihttp serving final's routes, and the floor, one fixed answer to
//! every request) and measures `final` against it, up to 2,048
//! connections, in the same interleaved rounds; it writes `peers.csv`,
//! `peers-runs.csv`, `peers-table.md` (also printed: ratios to axum, and
//! `final`'s to each peer, the floor's among them) and the charts
//! `peers-*.svg`, and leaves the stages' results alone. It takes about
//! twenty minutes. `--smoke` never builds the peers. With
//! `--contender NAME=PATH`, it measures that build of `final` as NAME on
//! the same points: the benchmark chapter's "before" is the version before
//! the profiling work, measured that way.
//!
//! `--storage` measures durable POSTs, start-up and memory against the
//! disk's own append+sync rate (see `tests/benchmark/src/storage.rs`),
//! and writes `storage-log.csv` and `storage-runs-log.csv`. Add
//! `--contender NAME=PATH` to measure another build of `final` under
//! NAME instead; the book's chart shows `rewrite`, the version before the
//! log, measured once that way. `--smoke` runs a small storage scenario
//! too.
//!
//! `--big-list` starts `final` (and the `--contender`, if any) on 100,000
//! to-dos, and measures `/hello`'s p99 at 64 connections alone and while
//! one more client lists them all in a loop (see
//! `tests/benchmark/src/big_list.rs`); it writes `big-list-runs.csv` and
//! `big-list.md`. About four minutes per contender.
//!
//! The full run writes `tests/benchmark/results/runs.csv` (every run),
//! `tests/benchmark/results/medians.csv` (the median of each point) and the
//! charts in `book/src/bench/`. `--smoke` writes to `bench-smoke/` in
//! Cargo's target folder instead, so it never overwrites the measured
//! results.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use benchmark::big_list::{self, BigListPlan};
use benchmark::storage::{self, Contender, StoragePlan};
use benchmark::{self as bench, Plan, Row, plot};
use suite::cargo;
use suite::stage::Stage;

/// What the command line asks for.
struct Options {
    smoke: bool,
    plot_only: bool,
    storage: bool,
    peers: bool,
    big_list: bool,
    /// `NAME=PATH` from `--contender`: another build of `final`.
    contender: Option<(String, PathBuf)>,
}

const USAGE: &str =
    "usage: bench [--smoke] [--plot] [--peers|--storage|--big-list] [--contender NAME=PATH]";

fn options(args: Vec<String>) -> Result<Options, String> {
    let mut options = Options {
        smoke: false,
        plot_only: false,
        storage: false,
        peers: false,
        big_list: false,
        contender: None,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smoke" => options.smoke = true,
            "--plot" => options.plot_only = true,
            "--storage" => options.storage = true,
            "--peers" => options.peers = true,
            "--big-list" => options.big_list = true,
            "--contender" => {
                let value = args.next().ok_or("--contender needs NAME=PATH")?;
                let (name, path) = value
                    .split_once('=')
                    .ok_or_else(|| format!("--contender needs NAME=PATH, not {value:?}"))?;
                options.contender = Some((name.to_string(), PathBuf::from(path)));
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match options(std::env::args().skip(1).collect()) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let root = cargo::root();
    let (data, charts) = if options.smoke {
        let dir = match cargo::target_dir() {
            Ok(target) => target.join("bench-smoke"),
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::FAILURE;
            }
        };
        (dir.clone(), dir)
    } else {
        (
            root.join("tests/benchmark/results"),
            root.join("book/src/bench"),
        )
    };
    let result = if options.big_list {
        run_big_list(&options, &data)
    } else if options.storage && !options.plot_only {
        run_storage(&options, &data, &charts)
    } else {
        let set = if options.peers {
            Set::Peers
        } else {
            Set::Stages
        };
        let builds: Vec<bench::Contender> = match (&options.contender, set) {
            (Some((name, binary)), Set::Peers) => {
                vec![bench::Build::contender(name.clone(), binary.clone())]
            }
            _ => Vec::new(),
        };
        run(
            set,
            &builds,
            options.smoke,
            options.plot_only,
            &data,
            &charts,
        )
        .and_then(|()| {
            if options.smoke {
                run_storage(&options, &data, &charts)
            } else {
                Ok(())
            }
        })
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The storage scenario for one contender, then its chart.
fn run_storage(options: &Options, data: &Path, charts: &Path) -> Result<(), String> {
    let contender = match &options.contender {
        Some((label, binary)) => Contender {
            label: label.clone(),
            binary: binary.clone(),
        },
        None => Contender {
            label: "log".into(),
            binary: cargo::reference_binary(Stage::Final)?,
        },
    };
    let plan = if options.smoke {
        StoragePlan::SMOKE
    } else {
        StoragePlan::FULL
    };
    // Scratch files go in the target folder: on the repository's disk,
    // never committed.
    let work = cargo::target_dir()?.join(format!("bench-storage-{}", contender.label));
    let samples = storage::run(&contender, plan, &work)?;
    fs::create_dir_all(data).map_err(|err| format!("cannot create {}: {err}", data.display()))?;
    let label = &contender.label;
    write(
        &data.join(format!("storage-runs-{label}.csv")),
        &storage::runs_csv(&samples),
    )?;
    write(
        &data.join(format!("storage-{label}.csv")),
        &storage::medians_csv(&samples),
    )?;
    let _ = fs::remove_dir_all(&work);
    draw_storage(data, charts)
}

/// The long list beside `/hello`, for `final` and the contender.
fn run_big_list(options: &Options, data: &Path) -> Result<(), String> {
    let mut contenders = vec![("final".to_string(), cargo::reference_binary(Stage::Final)?)];
    contenders.extend(options.contender.clone());
    let work = cargo::target_dir()?.join("bench-big-list");
    let samples = big_list::run(&contenders, BigListPlan::FULL, &work)?;
    fs::create_dir_all(data).map_err(|err| format!("cannot create {}: {err}", data.display()))?;
    write(
        &data.join("big-list-runs.csv"),
        &big_list::runs_csv(&samples),
    )?;
    let table = big_list::table(&samples);
    write(&data.join("big-list.md"), &table)?;
    println!("{table}");
    Ok(())
}

/// The storage chart, from every `storage-NAME.csv` in `data`.
fn draw_storage(data: &Path, charts: &Path) -> Result<(), String> {
    let mut csv = String::from(storage::CSV_HEADER);
    for name in ["storage-log.csv", "storage-rewrite.csv"] {
        if let Ok(text) = fs::read_to_string(data.join(name)) {
            csv.extend(text.lines().skip(1).map(|line| format!("{line}\n")));
        }
    }
    let machine = fs::read_to_string(data.join("machine.txt")).unwrap_or_else(|_| machine());
    let medians = plot::read_storage(&csv)?;
    fs::create_dir_all(charts)
        .map_err(|err| format!("cannot create {}: {err}", charts.display()))?;
    write(
        &charts.join("storage.svg"),
        &plot::storage_chart(&medians, machine.trim()),
    )?;
    println!(
        "storage results in {}, chart in {}",
        data.display(),
        charts.display()
    );
    Ok(())
}

/// Which points to measure, and so which files to write.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Set {
    /// Every stage: `runs.csv`, `medians.csv`, and the stage charts.
    Stages,
    /// `final` against the peers: `peers-runs.csv`, `peers.csv`, and the
    /// charts `peers-*.svg`.
    Peers,
}

fn run(
    set: Set,
    builds: &[bench::Contender],
    smoke: bool,
    plot_only: bool,
    data: &Path,
    charts: &Path,
) -> Result<(), String> {
    fs::create_dir_all(data).map_err(|err| format!("cannot create {}: {err}", data.display()))?;
    fs::create_dir_all(charts)
        .map_err(|err| format!("cannot create {}: {err}", charts.display()))?;
    let (runs_name, medians_name, machine_name) = match set {
        Set::Stages => ("runs.csv", "medians.csv", "machine.txt"),
        Set::Peers => ("peers-runs.csv", "peers.csv", "peers-machine.txt"),
    };
    let medians_path = data.join(medians_name);
    let machine_path = data.join(machine_name);

    if !plot_only {
        let (points, plan) = match (smoke, set) {
            (true, _) => (bench::smoke_points(), Plan::SMOKE),
            (false, Set::Stages) => (bench::points(), Plan::FULL),
            (false, Set::Peers) => (bench::peer_points(builds), Plan::FULL),
        };
        let most = points.iter().map(|point| point.connections).max();
        // Three descriptors per connection, in the server, wrk and the
        // probe, each in its own process: 65,536 leaves room to spare.
        let limit = bench::raise_open_files(65_536);
        println!("{limit}, for up to {} connections", most.unwrap_or(0));
        let mut rows: Vec<Row> = points
            .into_iter()
            .map(|point| Row {
                point,
                runs: Vec::new(),
            })
            .collect();
        // Round after round over every point, rather than a point's runs
        // back to back: a shared machine has slow minutes, and they should
        // spoil one run of several points, not every run of one point.
        let total = plan.repeats * rows.len();
        let started = Instant::now();
        let mut done = 0;
        for repeat in 1..=plan.repeats {
            for row in &mut rows {
                let point = row.point;
                let measure = bench::run(point, plan)?;
                done += 1;
                println!(
                    "{} {:<6} {:<12} {:>4} conns  run {repeat}: {measure}",
                    bench::progress(done, total, started.elapsed()),
                    point.contender,
                    point.scenario.name(),
                    point.connections,
                );
                row.runs.push(measure);
            }
        }
        write(&data.join(runs_name), &bench::runs_csv(&rows))?;
        write(&medians_path, &bench::medians_csv(&rows))?;
        write(&machine_path, &format!("{}; {limit}\n", machine()))?;
    }

    let medians = fs::read_to_string(&medians_path)
        .map_err(|err| format!("cannot read {}: {err}", medians_path.display()))?;
    let machine = fs::read_to_string(&machine_path).unwrap_or_default();
    let medians = plot::read_medians(&medians)?;
    let drawn = match set {
        Set::Stages => plot::charts(&medians, machine.trim()),
        Set::Peers => plot::peer_charts(&medians, machine.trim()),
    };
    if set == Set::Peers {
        let table = plot::peer_table(&medians);
        write(&data.join("peers-table.md"), &table)?;
        print!("{table}");
    }
    for (name, svg) in drawn {
        write(&charts.join(name), &svg)?;
    }
    if plot_only && set == Set::Stages && data.join("storage-log.csv").exists() {
        draw_storage(data, charts)?;
    }
    println!(
        "results in {}, charts in {}",
        data.display(),
        charts.display()
    );
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|err| format!("cannot write {}: {err}", path.display()))
}

/// A line saying what the numbers were measured on.
fn machine() -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("Measured on {cores} cores ({model}), wrk on the same machine, release builds")
}

//! `bench`: every stage under the same load, written to CSV and SVG.
//!
//! ```text
//! apt-get install wrk                                   # the load generator
//! cargo run -p tests --release --bin bench              # about fifteen minutes
//! cargo run -p tests --release --bin bench -- --plot    # redraw the charts only
//! cargo run -p tests --bin bench -- --smoke             # seconds: CI's check
//! ```
//!
//! The full run writes `tests/benchmark/results/runs.csv` (every run),
//! `tests/benchmark/results/medians.csv` (the median of each point) and the
//! charts in `book/src/bench/`. `--smoke` writes to `bench-smoke/` in
//! Cargo's target folder instead, so it never overwrites the measured
//! results.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use benchmark::{self as bench, Plan, Row, plot};
use suite::cargo;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let smoke = args.iter().any(|arg| arg == "--smoke");
    let plot_only = args.iter().any(|arg| arg == "--plot");
    if let Some(other) = args
        .iter()
        .find(|arg| !["--smoke", "--plot"].contains(&arg.as_str()))
    {
        eprintln!("unknown argument {other:?}\nusage: bench [--smoke] [--plot]");
        return ExitCode::from(2);
    }
    let root = cargo::root();
    let (data, charts) = if smoke {
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
    match run(smoke, plot_only, &data, &charts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(smoke: bool, plot_only: bool, data: &Path, charts: &Path) -> Result<(), String> {
    fs::create_dir_all(data).map_err(|err| format!("cannot create {}: {err}", data.display()))?;
    fs::create_dir_all(charts)
        .map_err(|err| format!("cannot create {}: {err}", charts.display()))?;
    let medians_path = data.join("medians.csv");
    let machine_path = data.join("machine.txt");

    if !plot_only {
        let (points, plan) = if smoke {
            (bench::smoke_points(), Plan::SMOKE)
        } else {
            (bench::points(), Plan::FULL)
        };
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
        for repeat in 1..=plan.repeats {
            for row in &mut rows {
                let point = row.point;
                let measure = bench::run(point, plan)?;
                println!(
                    "{:<6} {:<12} {:>4} conns  run {repeat}: {measure}",
                    point.contender,
                    point.scenario.name(),
                    point.connections,
                );
                row.runs.push(measure);
            }
        }
        write(&data.join("runs.csv"), &bench::runs_csv(&rows))?;
        write(&medians_path, &bench::medians_csv(&rows))?;
        write(&machine_path, &machine())?;
    }

    let medians = fs::read_to_string(&medians_path)
        .map_err(|err| format!("cannot read {}: {err}", medians_path.display()))?;
    let machine = fs::read_to_string(&machine_path).unwrap_or_default();
    let medians = plot::read_medians(&medians)?;
    for (name, svg) in plot::charts(&medians, machine.trim()) {
        write(&charts.join(name), &svg)?;
    }
    println!(
        "results in {}, charts in {}",
        data.display(),
        charts.display()
    );
    Ok(())
}

fn write(path: &PathBuf, text: &str) -> Result<(), String> {
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

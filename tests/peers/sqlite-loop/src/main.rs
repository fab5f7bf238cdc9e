//! `sqlite-loop FOLDER SECONDS`: how many single-row transactions a second
//! SQLite makes durable on this disk, one connection, WAL mode with
//! `synchronous=FULL` (a sync at every commit). It prints the rate.
//!
//! It is the durable-write reference for `bench --storage`, beside the
//! raw append-and-sync loop: a database people trust with their data, in
//! the same folder and the same minute as the server being measured.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rusqlite::Connection;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [folder, seconds] = args.as_slice() else {
        eprintln!("usage: sqlite-loop FOLDER SECONDS");
        return ExitCode::from(2);
    };
    let Ok(seconds) = seconds.parse::<f64>() else {
        eprintln!("SECONDS must be a number, not {seconds:?}");
        return ExitCode::from(2);
    };
    match measure(&PathBuf::from(folder), Duration::from_secs_f64(seconds)) {
        Ok(rate) => {
            println!("{rate:.1}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("sqlite-loop: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Inserts a row per transaction for `duration`; returns the rate.
fn measure(folder: &std::path::Path, duration: Duration) -> rusqlite::Result<f64> {
    let path = folder.join("todos.db");
    let _ = std::fs::remove_file(&path);
    let connection = Connection::open(&path)?;
    // WAL: a commit appends to the write-ahead log; FULL: and syncs it.
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.execute(
        "CREATE TABLE todos (id INTEGER PRIMARY KEY, title TEXT NOT NULL, completed INTEGER NOT NULL, position INTEGER)",
        (),
    )?;
    let mut insert =
        connection.prepare("INSERT INTO todos (title, completed, position) VALUES (?1, 0, NULL)")?;
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < duration {
        insert.execute(["benchmark to-do"])?;
        count += 1;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

//! Running other programs with a bound on how long we wait for them.
//!
//! `Command::output` and `Child::wait` wait for ever. A suite that people
//! trust must not: a build that hangs, or a server that never exits, is a
//! failure to report, not a reason to sit there until CI's time runs out.
//! So every wait here has a deadline, and a program still running at the
//! deadline is killed and reported.
//!
//! Everything in this file is portable. Signals and process groups, which
//! only Unix has, live in [`crate::server`] behind `cfg(unix)`.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How often a bounded wait looks at the child again. Short enough that a
/// test does not notice, long enough to cost nothing.
const POLL: Duration = Duration::from_millis(10);

/// What a finished program printed, and how it ended.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Runs `command` to the end, collecting what it prints, for at most
/// `limit`; past that, kills it and says so.
pub fn run(command: &mut Command, limit: Duration) -> Result<Finished, String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("cannot start {}: {err}", program(command)))?;
    // Each pipe is drained by a thread of its own: a program that fills one
    // pipe while we wait on the other would otherwise block for ever.
    let drain = |pipe: Option<Box<dyn Read + std::marker::Send>>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let Some(status) = wait_with_limit(&mut child, limit) else {
        return Err(format!(
            "{} was still running after {} s, and was stopped",
            program(command),
            limit.as_secs()
        ));
    };
    // The program has exited, so its pipes are closed and both threads end.
    Ok(Finished {
        status,
        // A grandchild may still hold a pipe open; do not wait for it long.
        stdout: join_within(stdout, Duration::from_secs(10)).unwrap_or_default(),
        stderr: join_within(stderr, Duration::from_secs(10)).unwrap_or_default(),
    })
}

/// Waits up to `limit` for `child` to exit. Kills it if it has not, and
/// returns `None` then.
pub fn wait_with_limit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(POLL),
            // Still running at the deadline, or we cannot even ask.
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// The program a command runs, for messages.
fn program(command: &Command) -> String {
    command.get_program().to_string_lossy().into_owned()
}

/// Joins `handle`, waiting at most `limit`. A thread still running then is
/// reported (and left to finish on its own: Rust cannot stop a thread).
pub fn join_within<T>(handle: thread::JoinHandle<T>, limit: Duration) -> Result<T, String> {
    let deadline = Instant::now() + limit;
    while !handle.is_finished() {
        if Instant::now() >= deadline {
            return Err(format!(
                "a thread was still running after {} s",
                limit.as_secs()
            ));
        }
        thread::sleep(POLL);
    }
    handle.join().map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a thread panicked".to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_past_its_bound_is_an_error_not_a_hang() {
        let slow = thread::spawn(|| thread::sleep(Duration::from_secs(2)));
        let err = join_within(slow, Duration::from_millis(50)).expect_err("still running");
        assert!(err.contains("still running"), "{err}");
        let quick = thread::spawn(|| 7);
        assert_eq!(join_within(quick, Duration::from_secs(5)), Ok(7));
        let panics = thread::spawn(|| panic!("boom"));
        assert_eq!(
            join_within(panics, Duration::from_secs(5)),
            Err("boom".into())
        );
    }
}

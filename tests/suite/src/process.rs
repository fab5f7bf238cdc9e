//! Running other programs, and threads, with a bound on how long we wait
//! for them.
//!
//! `Command::output`, `Child::wait` and `JoinHandle::join` wait for ever. A suite that people
//! trust must not: a build that hangs, or a server that never exits, is a
//! failure to report, not a reason to sit there until CI's time runs out.
//! So every wait here has a deadline, and a program still running at the
//! deadline is killed and reported.
//!
//! Everything in this file is portable. Signals and process groups, which
//! only Unix has, live in [`crate::server`] behind `cfg(unix)`.

use std::any::Any;
use std::io::Read;
use std::panic::{self, AssertUnwindSafe};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
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
    handle.join().map_err(panic_message)
}

/// What a panic said, when it said it with a string (as `panic!` and
/// `expect` do).
fn panic_message(panic: Box<dyn Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a thread panicked".to_string())
}

/// The `at_once` of [`run_all_within`] that starts every job at once: no
/// bound but the number of jobs.
pub const ALL_AT_ONCE: usize = usize::MAX;

/// Runs `jobs`, each on a thread of its own, at most `at_once` at a time,
/// and returns what each returned, in the jobs' order. A job that
/// panicked is an `Err` with its panic message, and the others go on.
///
/// The whole run has `limit`. Past it, no job starts any more: a job
/// still running is an `Err` saying so (and is left to finish on its own,
/// as in [`join_within`]), and so is each job not started, and the run
/// returns as soon as `jobs` has no more (at once, for a list).
///
/// A job is taken from `jobs` only when it can start, so an iterator that
/// yields jobs as they become ready (a channel's receiver) starts each
/// one as soon as it comes. The time spent waiting for it counts towards
/// `limit`.
///
/// A thread per job rather than `at_once` long-lived workers taking jobs
/// from a queue: a thread's panic is then its job's, and nothing else's,
/// and a thread costs nothing next to a job that starts a server.
///
/// # Panics
///
/// If `at_once` is 0: no job could ever start.
pub fn run_all_within<T, F>(
    jobs: impl IntoIterator<Item = F>,
    at_once: usize,
    limit: Duration,
) -> Vec<Result<T, String>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    assert!(
        at_once > 0,
        "run_all_within: at_once is 0, so no job could start"
    );
    let deadline = Instant::now() + limit;
    let (finished, finishing) = mpsc::channel();
    // One slot per job taken, in order; `None` until it has finished.
    let mut results: Vec<Option<Result<T, String>>> = Vec::new();
    let mut running = 0;
    // Fused: once it has said it has no more jobs, it is not asked again.
    let mut jobs = jobs.into_iter().fuse();
    loop {
        // Past the deadline no job starts, even with a slot free.
        if running < at_once
            && Instant::now() < deadline
            && let Some(job) = jobs.next()
        {
            let (index, finished) = (results.len(), finished.clone());
            results.push(None);
            thread::spawn(move || {
                // Unwind safety does not matter here: after a panic, only
                // its message is kept, never anything the job touched.
                let result = panic::catch_unwind(AssertUnwindSafe(job)).map_err(panic_message);
                // Past the deadline nobody receives this any more, and
                // that is fine: the run has already reported it late.
                let _ = finished.send((index, result));
            });
            running += 1;
            continue;
        }
        if running == 0 {
            break; // every job has finished
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok((index, result)) = finishing.recv_timeout(left) else {
            break; // the deadline
        };
        results[index] = Some(result);
        running -= 1;
    }
    let mut results: Vec<Result<T, String>> = results
        .into_iter()
        .map(|result| {
            result.unwrap_or_else(|| Err(format!("still running when the run's {limit:?} were up")))
        })
        .collect();
    results.extend(jobs.map(|_| {
        Err(format!(
            "not started: the run's {limit:?} were up before it could"
        ))
    }));
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

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

    #[test]
    fn a_run_keeps_the_jobs_order_whatever_order_they_finish_in() {
        // The first job finishes last.
        let jobs = (0..5u64).map(|i| {
            move || {
                thread::sleep(Duration::from_millis(50 * (5 - i)));
                i
            }
        });
        let results = run_all_within(jobs, ALL_AT_ONCE, Duration::from_secs(10));
        assert_eq!(results, vec![Ok(0), Ok(1), Ok(2), Ok(3), Ok(4)]);
        let none: Vec<fn() -> u8> = Vec::new();
        assert_eq!(run_all_within(none, 1, Duration::from_secs(1)), vec![]);
    }

    #[test]
    fn a_run_starts_at_most_at_once_jobs_at_a_time() {
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let jobs = (0..12).map(|_| {
            let (now, most) = (Arc::clone(&now), Arc::clone(&most));
            move || {
                let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(running, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(100));
                now.fetch_sub(1, Ordering::SeqCst);
            }
        });
        let results = run_all_within(jobs, 3, Duration::from_secs(30));
        assert_eq!(results.len(), 12);
        assert!(results.iter().all(Result::is_ok));
        // At most three; and three, or the bound was never put to the test.
        assert_eq!(most.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_panicking_job_is_an_error_and_the_others_go_on() {
        let jobs: Vec<Box<dyn FnOnce() -> u8 + Send>> =
            vec![Box::new(|| 1), Box::new(|| panic!("boom")), Box::new(|| 3)];
        let results = run_all_within(jobs, 1, Duration::from_secs(10));
        assert_eq!(results, vec![Ok(1), Err("boom".to_string()), Ok(3)]);
    }

    #[test]
    fn a_run_past_its_bound_returns_with_errors_not_a_hang() {
        let started = Instant::now();
        let jobs: Vec<Box<dyn FnOnce() -> u8 + Send>> = vec![
            Box::new(|| 1),
            Box::new(|| {
                thread::sleep(Duration::from_secs(5));
                2
            }),
            Box::new(|| 3),
        ];
        let results = run_all_within(jobs, 1, Duration::from_millis(200));
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "it waited for the slow job"
        );
        assert_eq!(results[0], Ok(1));
        let still_running = results[1].as_ref().expect_err("the slow job is late");
        assert!(still_running.contains("still running"), "{still_running}");
        let not_started = results[2].as_ref().expect_err("no slot was free in time");
        assert!(not_started.contains("not started"), "{not_started}");
    }

    #[test]
    fn no_job_starts_past_the_bound_even_with_a_slot_free() {
        // The second job comes late, past the bound; the third would
        // have a free slot, and must not start.
        let limit = Duration::from_millis(100);
        let jobs = (0..3).map(|n| {
            if n == 1 {
                thread::sleep(limit * 2);
            }
            move || n
        });
        let results = run_all_within(jobs, ALL_AT_ONCE, limit);
        assert_eq!(results.len(), 3);
        assert_eq!(results[0], Ok(0));
        assert!(
            results[2]
                .as_ref()
                .is_err_and(|err| err.starts_with("not started")),
            "{results:?}"
        );
    }

    #[test]
    #[should_panic(expected = "at_once is 0")]
    fn a_run_with_no_job_at_once_is_a_mistake() {
        run_all_within([|| 1], 0, Duration::from_secs(1));
    }
}

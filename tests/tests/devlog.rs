//! The devlog table (`suite::devlog::BUGS`) against the devlog fixture and
//! our stages.
//!
//! The book says, bug by bug, which check would have caught the devlog.
//! These tests make it true:
//! - every check the table lists fails on `devlog --day N`, the way the
//!   table says (a crash, a hang, or a wrong answer), and passes on the
//!   stage that fixes the bug;
//! - the two bugs no request can provoke but a test can, an `accept` that
//!   fails and a `Drop` that runs only in a crash, are provoked here, on
//!   the fixture and on our stage.
//!
//! Like the gate, every check runs against a fresh server of its own, all
//! at the same time, each within a bound.

use std::time::Duration;

use suite::checks;
use suite::devlog::{self, BUGS, Fails, Pin};
use suite::process::{ALL_AT_ONCE, run_all_within};
use suite::report::{self, LEARNER_ADDR};
use suite::server::Server;
use suite::stage::Stage;

/// The longest any one check may take, server start included (they all
/// start at once, so this bounds the whole run): the slowest wait 12 s for
/// an answer that never comes.
const CHECK_LIMIT: Duration = Duration::from_secs(60);

/// How long a fixture that crashed may take to exit after its check.
const EXIT_WAIT: Duration = Duration::from_secs(2);

/// What `wire` says when no answer came in time.
const NO_ANSWER: &str = "no complete answer in time";

/// One row to prove: a check, the fixture's day, how the fixture fails it,
/// and the stage that passes it.
#[derive(Clone, Copy)]
struct Proof {
    check: &'static str,
    day: u8,
    fails: Fails,
    stage: Stage,
}

fn proofs() -> Vec<Proof> {
    let mut proofs: Vec<Proof> = Vec::new();
    for bug in BUGS {
        for &(check, fails) in bug.checks() {
            let proof = Proof {
                check,
                day: bug.day,
                fails,
                stage: bug.fixed_in,
            };
            // Two bugs may share a check (on different pages): run it once.
            if !proofs
                .iter()
                .any(|p| p.check == check && p.day == bug.day && p.stage == bug.fixed_in)
            {
                proofs.push(proof);
            }
        }
    }
    proofs
}

/// Runs `proof`'s check on a fresh fixture and says how it went, or what
/// is wrong with the table.
fn on_the_fixture(proof: Proof) -> Result<(), String> {
    let check = checks::find(proof.check).ok_or(format!("no check {}", proof.check))?;
    let mut server = Server::devlog(proof.day)?;
    let Err(failure) = check.run(&server) else {
        return Err(format!(
            "{} passes on devlog --day {}, so it proves nothing about the devlog",
            proof.check, proof.day
        ));
    };
    // A hang comes first: a fixture that waited for ever may still crash
    // once the check gives up and hangs up on it. So a hang needs no wait
    // for the exit (two seconds added to the slowest proof, the trickle).
    let hung = failure.received.contains(NO_ANSWER);
    // Kills the fixture if it is still running after the wait.
    let exited = if hung {
        None
    } else {
        server.wait_for_exit(EXIT_WAIT)
    };
    let seen = if hung {
        Fails::Hang
    } else if exited.is_some() {
        Fails::Crash
    } else {
        Fails::Wrong
    };
    if seen == proof.fails {
        Ok(())
    } else {
        Err(format!(
            "{} on devlog --day {}: the table says {:?}, but the fixture showed {seen:?}.\n  expected: {}\n  received: {}\n  fixture output:\n{}",
            proof.check,
            proof.day,
            proof.fails,
            failure.expected,
            failure.received,
            server.output()
        ))
    }
}

/// Runs `proof`'s check on a fresh server of the stage that fixes the bug.
fn on_our_stage(proof: Proof) -> Result<(), String> {
    let check = checks::find(proof.check).ok_or(format!("no check {}", proof.check))?;
    let outcomes = report::run_all(
        &[check],
        &|| Server::reference(proof.stage),
        true,
        |_, _| {},
    )?;
    match &outcomes[0].result {
        Ok(()) => Ok(()),
        Err(_) => Err(format!(
            "{} fails on {}, which should fix it:\n{}",
            proof.check,
            proof.stage,
            report::describe(&outcomes[0], LEARNER_ADDR, false)
        )),
    }
}

#[test]
fn every_listed_check_fails_on_the_devlog_and_passes_on_our_stage() {
    // Each proof has two sides, the fixture's and our stage's, and every
    // side of every proof runs at once.
    let sides: [fn(Proof) -> Result<(), String>; 2] = [on_the_fixture, on_our_stage];
    let runs = proofs()
        .into_iter()
        .flat_map(|proof| sides.map(|side| move || side(proof)));
    let problems: Vec<String> = run_all_within(runs, ALL_AT_ONCE, CHECK_LIMIT)
        .into_iter()
        .filter_map(|run| match run {
            Ok(Ok(())) => None,
            Ok(Err(problem)) | Err(problem) => Some(problem),
        })
        .collect();
    assert!(
        problems.is_empty(),
        "the devlog table does not hold:\n\n{}",
        problems.join("\n\n")
    );
}

/// Every check the table lists is a real check, once per day.
#[test]
fn the_table_lists_known_checks() {
    for id in devlog::check_ids() {
        assert!(checks::find(id).is_some(), "no check {id}");
    }
}

// ---------------------------------------------------------------------
// What no request can provoke

/// The devlog unwrapped every accepted stream, so one failed `accept`
/// stopped it. A client cannot make `accept` fail, but the server's own
/// limit on open files can: each accepted connection needs a new file
/// descriptor, and Linux reserves it before `accept` even waits for a
/// client. So the limit of the running server is lowered (with
/// util-linux's `prlimit`) until its next `accept` must fail, then raised
/// again, and a client connects.
///
/// By then the fixture must have exited with "Too many open files". Our
/// day 1 must have logged the failure, kept going, and answer the client.
#[cfg(target_os = "linux")]
#[test]
fn a_failed_accept_stops_only_the_devlog() {
    let mut devlog = Server::devlog(1).expect("the fixture starts");
    let reply = starve_of_descriptors(&devlog);
    let status = devlog.wait_for_exit(EXIT_WAIT);
    assert!(
        status.is_some_and(|status| !status.success()),
        "devlog --day 1 should stop when accept fails; it answered {reply:?}. Its output:\n{}",
        devlog.output()
    );
    assert!(
        devlog.output().contains("Too many open files"),
        "devlog --day 1 stopped, but not because accept failed:\n{}",
        devlog.output()
    );

    let ours = Server::reference(Stage::Day1).expect("day 1 starts");
    let reply = starve_of_descriptors(&ours);
    assert!(
        reply.starts_with("HTTP/1.1 200 OK"),
        "day 1 should answer once accept works again; it sent {reply:?}. Its output:\n{}",
        ours.output()
    );
    assert!(
        ours.output().contains("accept failed"),
        "day 1 answered, but accept never failed, so this proved nothing:\n{}",
        ours.output()
    );
}

/// Makes `server`'s `accept` fail, lets it recover, and returns what a
/// client that connects afterwards receives ("" if nobody answers).
///
/// The limit on open files goes down to the lowest free descriptor. A
/// server already waiting in `accept` holds a descriptor reserved before
/// the limit changed, so a first client is let in on it; the `accept`
/// after that fails at once. Once the server has reacted (logged the
/// failure, or exited), the limit goes back up and a second client tries.
#[cfg(target_os = "linux")]
fn starve_of_descriptors(server: &Server) -> String {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Instant;

    let pid = server.pid().expect("we started it").to_string();
    let prlimit = |args: &[&str]| {
        suite::process::run(
            std::process::Command::new("prlimit")
                .args(["--pid", &pid])
                .args(args),
            Duration::from_secs(10),
        )
        .expect("prlimit (util-linux) runs")
    };
    let before = prlimit(&["--nofile", "--raw", "--noheadings", "--output", "SOFT"]);
    let soft = String::from_utf8_lossy(&before.stdout).trim().to_string();
    let lowest_free = (0..)
        .find(|fd| !std::path::Path::new(&format!("/proc/{pid}/fd/{fd}")).exists())
        .expect("some descriptor is free");
    assert!(
        prlimit(&[&format!("--nofile={lowest_free}:")])
            .status
            .success()
    );

    let ask = || {
        let Ok(mut client) = TcpStream::connect(server.addr()) else {
            return String::new();
        };
        let _ = client.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        let _ = client.set_read_timeout(Some(Duration::from_secs(5)));
        let mut received = Vec::new();
        let _ = client.read_to_end(&mut received);
        String::from_utf8_lossy(&received).into_owned()
    };
    // The first client, on the reserved descriptor (or refused, if the
    // server had not reached `accept` yet): either way `accept` runs again.
    let _ = ask();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && !server.output().contains("Too many open files") {
        std::thread::sleep(Duration::from_millis(10));
    }
    // The fixture is gone by now, and then this fails, which is fine.
    let _ = prlimit(&[&format!("--nofile={soft}:")]);
    ask()
}

/// The book says that the devlog's `Drop` ran only in a crash. Its accept
/// loop never ends by itself; it ends when every worker has died of a
/// panicking job, because then nobody holds the queue's receiver, `send`
/// fails, and `execute` unwraps that failure. While that panic unwinds
/// `main`, the pool is dropped: `Drop` runs, joins a worker that panicked,
/// unwraps that, and panics during a panic, which aborts the process.
#[cfg(unix)]
#[test]
fn the_devlogs_drop_runs_only_while_it_crashes() {
    use std::os::unix::process::ExitStatusExt;
    use suite::wire::Exchange;

    const PANIC: &[u8] = b"GET /panic HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let mut devlog = Server::devlog(4).expect("the fixture starts");
    // Four panics kill the four workers; the request after them finds no
    // one to take it. A worker may still be dying when the next request is
    // queued, so keep asking, a bounded number of times.
    for _ in 0..20 {
        if devlog.exited().is_some() {
            break;
        }
        let _ = Exchange::new(PANIC)
            .waiting(Duration::from_millis(500))
            .run(devlog.addr());
    }
    let status = devlog.wait_for_exit(EXIT_WAIT);
    let output = devlog.output();
    assert_eq!(
        status.and_then(|status| status.signal()),
        Some(6),
        "the fixture should abort (SIGABRT) after its workers died; it ended with {status:?}:\n{output}"
    );
    assert!(
        output.contains("stopping worker 0"),
        "Drop should have run on the way down:\n{output}"
    );
}

/// A bug pinned by a lint is only pinned while nothing switches the lint
/// off: no stage may mention it (the only reason to would be an `allow`).
#[test]
fn pinning_lints_are_not_switched_off() {
    let root = suite::cargo::root();
    for bug in BUGS {
        let Pin::Lint(lint) = bug.pin else { continue };
        for stage in Stage::ALL {
            let mut sources = vec![root.join(stage.name()).join("Cargo.toml")];
            let src = root.join(stage.name()).join("src");
            for entry in std::fs::read_dir(&src).expect("every stage has src/") {
                sources.push(entry.expect("readable entry").path());
            }
            for path in sources {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                assert!(
                    !text.contains(lint),
                    "{} mentions {lint}, which pins {:?}",
                    path.display(),
                    bug.lead
                );
            }
        }
        let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("root manifest");
        assert!(
            !manifest.contains(lint),
            "Cargo.toml mentions {lint}, which pins {:?}",
            bug.lead
        );
    }
}

//! The checker's report tells the truth: what these tests pin.
//!
//! - A check of a whole-request deadline fails on a server that only times
//!   out each read, which passes the simpler "stops halfway" check.
//! - A server that crashes during a check is reported as crashed, with
//!   its exit status and its last lines, and the next check gets a fresh
//!   server, so one crash never fails a second check.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use suite::cargo;
use suite::checks;
use suite::process::join_within;
use suite::report::{self, LEARNER_ADDR};
use suite::server::Server;

/// A server that answers 408 when one read waits longer than 5 s, but
/// never limits the request as a whole: the mistake the deadline check
/// exists to catch. It runs on threads of this test process.
fn per_read_timeout_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("can listen");
    let addr = listener.local_addr().expect("bound");
    thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            thread::spawn(move || serve_with_per_read_timeout(stream));
        }
    });
    addr
}

fn serve_with_per_read_timeout(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut request = Vec::new();
    let mut chunk = [0u8; 1024];
    let answer: &[u8] = loop {
        if request.windows(4).any(|window| window == b"\r\n\r\n") {
            break b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
        }
        match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => request.extend_from_slice(&chunk[..n]),
            Err(_) => break b"HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nContent-Length: 19\r\nConnection: close\r\n\r\n{\"error\":\"timeout\"}",
        }
    };
    let _ = stream.write_all(answer);
}

/// The longest one check may take here: the trickle waits 12 s for an
/// answer that never comes; this is a hang.
const CHECK_LIMIT: Duration = Duration::from_secs(60);

#[test]
fn a_timeout_per_read_passes_the_stalled_check_but_not_the_trickle() {
    let addr = per_read_timeout_server();
    let start = move || Server::external(&addr.to_string());
    let stalled = checks::find("day2-partial-request-timeout").expect("a check");
    let trickle = checks::find("day2-deadline-whole-request").expect("a check");
    // Side by side: each waits for the server's timeout (5 s, and up to
    // 12 s), and the server gives each connection a thread of its own.
    let runs = [stalled, trickle].map(|check| {
        thread::spawn(move || {
            report::run_all(&[check], &start, false, |_, _| {})
                .expect("the server is up")
                .remove(0)
        })
    });
    let [stalled, trickle] =
        runs.map(|run| join_within(run, CHECK_LIMIT).unwrap_or_else(|err| panic!("{err}")));
    assert!(
        stalled.result.is_ok(),
        "a per-read timeout does catch a request that stops"
    );
    let Err(failure) = &trickle.result else {
        panic!("a per-read timeout must fail the trickle check");
    };
    assert!(
        failure.received.contains("still reading"),
        "{}",
        failure.received
    );
}

#[test]
fn a_crash_is_reported_as_a_crash_and_the_next_check_gets_a_fresh_server() {
    // The devlog's day 1 unwraps the request's lines as UTF-8, so a 0xFF
    // byte ends the process.
    let dir = cargo::build(&["devlog"]).expect("the devlog fixture builds");
    let binary = dir.join(cargo::binary_name("devlog"));
    let start = || Server::program_with(&binary, &["--day", "1"]);
    let bad_bytes = checks::find("day1-survives-bad-bytes").expect("a check");
    let empty = checks::find("day1-empty-connection").expect("a check");
    let outcomes = report::run_all(&[bad_bytes, empty], &start, true, |_, _| {}).expect("starts");

    let crash = outcomes[0].crash.as_ref().unwrap_or_else(|| {
        panic!(
            "the 0xFF line crashes it, and the report must say so:\n{}",
            report::describe(&outcomes[0], LEARNER_ADDR, false)
        )
    });
    let text = report::describe(&outcomes[0], LEARNER_ADDR, false);
    assert!(
        text.contains("crashed:  your server exited") && text.contains("panicked"),
        "{text}"
    );
    assert!(
        text.contains(r"sent:     GET /\xff") || text.contains(r#"sent:     "GET /\xff"#),
        "the report names the bytes that killed it, not the follow-up GET:\n{text}"
    );
    assert!(!crash.last_lines.is_empty());
    assert!(
        outcomes[1].result.is_ok() && outcomes[1].crash.is_none(),
        "the next check ran on a fresh server: {}",
        report::describe(&outcomes[1], LEARNER_ADDR, false)
    );
}

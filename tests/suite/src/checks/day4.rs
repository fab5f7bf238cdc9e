//! Day 4: several clients at once. These checks need several connections,
//! so they are functions rather than rows.

use std::net::SocketAddr;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use super::{Check, Expect, Failure, Payload, Probe, open};
use crate::stage::Stage::Day4;
use crate::wire::{self, Exchange, Reply};

pub static CHECKS: &[Check] = &[
    Check {
        id: "day4-concurrent-sleeps",
        from: Day4,
        until: None,
        title: "8 simultaneous GET /sleep?ms=500 finish in about two sleeps, not eight",
        hint: "Hand each connection to a worker thread (`pool.execute(move || handle_connection(stream))`) instead of serving it in the accept loop.",
        probe: Probe::Script(concurrent_sleeps),
    },
    Check {
        id: "day4-idle-client-does-not-block",
        from: Day4,
        until: None,
        title: "silent clients, even one per worker, do not hold up the next client for long",
        hint: "Serve each connection on a worker thread, so that one silent client does not hold up the rest, and give every request a deadline (`set_read_timeout`), so that four silent clients cannot hold all four workers for ever.",
        probe: Probe::Script(idle_client_does_not_block),
    },
    Check {
        id: "day4-panic-is-500",
        from: Day4,
        until: None,
        title: "a panicking handler answers 500, and the pool keeps all its workers",
        hint: "Wrap the handler in `std::panic::catch_unwind` and answer 500 when it panics; otherwise each panic kills a worker thread and the pool shrinks until nothing answers.",
        probe: Probe::Script(panic_is_500),
    },
];

/// How many silent clients [`idle_client_does_not_block`] leaves connected:
/// the size of day 4's pool, and of the devlog's. Fewer would leave a pool
/// without deadlines a free worker; more would make day 4, whose workers
/// all wait out the same five seconds, queue the greeting behind a second
/// round of them.
const IDLE_CLIENTS: usize = 4;

/// How many `/sleep` requests go out together, and how long each sleeps.
const SLEEPERS: usize = 8;
const SLEEP_MS: u64 = 500;
/// Four workers need two rounds of sleeps (1 s); one thread needs eight
/// (4 s). Anything up to three sleeps counts as concurrent.
const CONCURRENT_LIMIT: Duration = Duration::from_millis(3 * SLEEP_MS);

// ANCHOR: concurrent_sleeps
fn concurrent_sleeps(addr: SocketAddr) -> Result<(), Failure> {
    let request = format!("GET /sleep?ms={SLEEP_MS} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    // Every client waits at the barrier, so that all of them connect at
    // the same moment.
    let start_line = Arc::new(Barrier::new(SLEEPERS));
    let started = Instant::now();
    let clients: Vec<_> = (0..SLEEPERS)
        .map(|_| {
            let exchange = Exchange::new(request.clone());
            let start_line = Arc::clone(&start_line);
            thread::spawn(move || {
                start_line.wait();
                exchange.run(addr)
            })
        })
        .collect();
    let replies: Vec<Reply> = clients
        .into_iter()
        .map(|client| {
            crate::process::join_within(client, Duration::from_secs(30)).unwrap_or_else(|_| {
                Reply::Failed {
                    error: "the client thread panicked".into(),
                    received: Vec::new(),
                }
            })
        })
        .collect();
    let elapsed = started.elapsed();
    // ANCHOR_END: concurrent_sleeps

    // ANCHOR: concurrent_sleeps_verdict
    for reply in &replies {
        if !matches!(reply, Reply::Response(response) if response.status == 200) {
            return Err(Failure {
                expected: format!(
                    "200 for each of {SLEEPERS} simultaneous GET /sleep?ms={SLEEP_MS}"
                ),
                sent: Some(request.into_bytes()),
                received: reply.describe(),
            });
        }
    }
    if elapsed > CONCURRENT_LIMIT {
        return Err(Failure {
            expected: format!(
                "{SLEEPERS} simultaneous GET /sleep?ms={SLEEP_MS} all answered within {:.1} s",
                CONCURRENT_LIMIT.as_secs_f64()
            ),
            sent: Some(request.into_bytes()),
            received: format!(
                "the last answer came after {:.1} s: the requests were served one after another",
                elapsed.as_secs_f64()
            ),
        });
    }
    Ok(())
}
// ANCHOR_END: concurrent_sleeps_verdict

fn idle_client_does_not_block(addr: SocketAddr) -> Result<(), Failure> {
    const HELLO: &[u8] = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let hello_within = |wait: Duration, idle: usize| {
        let reply = Exchange::new(HELLO).waiting(wait).run(addr);
        match reply {
            Reply::Response(response) if response.status == 200 => Ok(()),
            other => Err(Failure {
                expected: format!(
                    "an answer to GET /hello within {} s, while {idle} other client(s) stay connected and silent",
                    wait.as_secs()
                ),
                sent: Some(HELLO.to_vec()),
                received: other.describe(),
            }),
        }
    };
    // One client connects and says nothing. The next must be answered
    // long before the first one's deadline: by another thread.
    let mut silent = vec![open(addr, b"")?];
    hello_within(Duration::from_secs(2), silent.len())?;
    // Now as many silent clients as day 4 has workers. Each may hold a
    // worker until its deadline, but no longer: a server that passes
    // `day2-partial-request-timeout` gives up within DEFAULT_WAIT.
    while silent.len() < IDLE_CLIENTS {
        silent.push(open(addr, b"")?);
    }
    let result = hello_within(wire::DEFAULT_WAIT + Duration::from_secs(2), silent.len());
    drop(silent);
    result
}

fn panic_is_500(addr: SocketAddr) -> Result<(), Failure> {
    const PANIC: &[u8] = b"GET /panic HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    const HELLO: &[u8] = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    // More panics than a pool of this size has workers: if each one cost a
    // worker, nothing would be left to answer the last requests.
    for _ in 0..16 {
        let reply = Exchange::new(PANIC).run(addr);
        Expect::Error(&[500])
            .verify(&reply, &Payload::Bytes(PANIC))
            .map_err(|expected| Failure {
                expected,
                sent: Some(PANIC.to_vec()),
                received: reply.describe(),
            })?;
    }
    let reply = Exchange::new(HELLO).run(addr);
    Expect::Json(200, &[("/message", "\"Hello, World!\"")])
        .verify(&reply, &Payload::Bytes(HELLO))
        .map_err(|expected| Failure {
            expected: format!("after 16 panics, GET /hello still answers: {expected}"),
            sent: Some(HELLO.to_vec()),
            received: reply.describe(),
        })
}

//! The stage gate: every stage is a real step.
//!
//! For each stage, two tests:
//! - `<stage>_passes_its_checks`: the stage passes every check that applies
//!   to it;
//! - `<stage>_is_a_step_past_<previous>`: the stage before fails every check
//!   this stage introduces. A check the older stage already passes proves
//!   nothing about the new one.
//!
//! Each check runs against a fresh server of its own, all at the same time:
//! a check that stalls a single-threaded stage on purpose (a half-sent
//! request) must not slow down the others.

use std::thread;

use tests::checks::{self, Check};
use tests::report::{self, Outcome};
use tests::server::Server;
use tests::stage::Stage;

/// Runs each check on its own fresh server of `stage`, all in parallel.
/// Returns each outcome with its report, as `check` would print it.
fn run_each_on_fresh_server(stage: Stage, checks: &[&'static Check]) -> Vec<(Outcome, String)> {
    thread::scope(|scope| {
        let runs: Vec<_> = checks
            .iter()
            .map(|&check| {
                scope.spawn(move || {
                    let server = Server::reference(stage)
                        .unwrap_or_else(|err| panic!("cannot start {stage}: {err}"));
                    let outcome = Outcome {
                        check,
                        result: check.run(server.addr()),
                    };
                    let report = report::describe(&outcome, server.addr());
                    (outcome, report)
                })
            })
            .collect();
        runs.into_iter()
            .map(|run| run.join().expect("a check thread panicked"))
            .collect()
    })
}

fn assert_passes_its_checks(stage: Stage) {
    let checks = checks::for_stage(stage);
    assert!(!checks.is_empty(), "{stage} has no checks");
    let failed: Vec<String> = run_each_on_fresh_server(stage, &checks)
        .into_iter()
        .filter(|(outcome, _)| outcome.result.is_err())
        .map(|(_, report)| report)
        .collect();
    assert!(
        failed.is_empty(),
        "{stage} fails {} of its own checks:\n{}",
        failed.len(),
        failed.concat()
    );
}

// ANCHOR: is_a_step
fn assert_is_a_step(stage: Stage) {
    let previous = stage
        .previous()
        .expect("the first stage has no previous stage");
    let introduced = checks::introduced_by(stage);
    let already_passing: Vec<&str> = run_each_on_fresh_server(previous, &introduced)
        .into_iter()
        .filter(|(outcome, _)| outcome.result.is_ok())
        .map(|(outcome, _)| outcome.check.id)
        .collect();
    assert!(
        already_passing.is_empty(),
        "{previous} already passes checks that {stage} introduces, so they prove no step: {already_passing:?}"
    );
}
// ANCHOR_END: is_a_step

#[test]
fn day1_passes_its_checks() {
    assert_passes_its_checks(Stage::Day1);
}

#[test]
fn day2_passes_its_checks() {
    assert_passes_its_checks(Stage::Day2);
}

#[test]
fn day2_is_a_step_past_day1() {
    assert_is_a_step(Stage::Day2);
}

#[test]
fn day3_passes_its_checks() {
    assert_passes_its_checks(Stage::Day3);
}

#[test]
fn day3_is_a_step_past_day2() {
    assert_is_a_step(Stage::Day3);
}

#[test]
fn day4_passes_its_checks() {
    assert_passes_its_checks(Stage::Day4);
}

#[test]
fn day4_is_a_step_past_day3() {
    assert_is_a_step(Stage::Day4);
}

#[test]
fn final_passes_its_checks() {
    assert_passes_its_checks(Stage::Final);
}

#[test]
fn final_is_a_step_past_day4() {
    assert_is_a_step(Stage::Final);
}

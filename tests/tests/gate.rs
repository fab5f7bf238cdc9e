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

use std::time::Duration;

use suite::checks::{self, Check};
use suite::process::{ALL_AT_ONCE, run_all_within};
use suite::report::{self, LEARNER_ADDR, Outcome};
use suite::server::Server;
use suite::stage::Stage;

/// The longest any one check may take, server start included (they all
/// start at once, so this bounds the whole run). The slowest checks wait
/// 10 s for an answer that never comes; this is a hang.
const CHECK_LIMIT: Duration = Duration::from_secs(60);

/// Runs each check on its own fresh server of `stage`, all in parallel.
/// Returns each outcome with its report, as `check` would print it.
fn run_each_on_fresh_server(stage: Stage, checks: &[&'static Check]) -> Vec<(Outcome, String)> {
    let runs = checks.iter().map(|&check| {
        move || {
            let mut outcomes =
                report::run_all(&[check], &|| Server::reference(stage), true, |_, _| {})
                    .unwrap_or_else(|err| panic!("cannot start {stage}: {err}"));
            let outcome = outcomes.remove(0);
            let report = report::describe(&outcome, LEARNER_ADDR, false);
            (outcome, report)
        }
    });
    run_all_within(runs, ALL_AT_ONCE, CHECK_LIMIT)
        .into_iter()
        .zip(checks)
        .map(|(run, check)| run.unwrap_or_else(|err| panic!("{} on {stage}: {err}", check.id)))
        .collect()
}

/// Every `try:` line must send exactly the bytes its check sent: a
/// reproducer that sends something else sends a learner the wrong way.
fn assert_reproducers_reproduce(outcomes: &[(Outcome, String)]) {
    for (outcome, _) in outcomes {
        let Err(failure) = &outcome.result else {
            continue;
        };
        let Some(sent) = &failure.sent else {
            continue;
        };
        let command = report::reproducer(LEARNER_ADDR, sent);
        assert_eq!(
            report::bytes_of_reproducer(&command).as_ref(),
            Ok(sent),
            "{}: the try: line `{command}` does not send what the check sent",
            outcome.check.id
        );
    }
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
    let outcomes = run_each_on_fresh_server(previous, &introduced);
    assert_reproducers_reproduce(&outcomes);
    let already_passing: Vec<&str> = outcomes
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

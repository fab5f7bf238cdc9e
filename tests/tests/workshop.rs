//! Proof that the workshop's checks can fail, and can pass.
//!
//! For every exercise:
//! - the stage it extends, as it is, fails the exercise's check: the check
//!   asks for something the stage does not do;
//! - the stage with the reference solution applied passes it, and still
//!   passes every check of its stage: the solution extends the stage
//!   without breaking it.
//!
//! And the starter crate that `check new` makes fails every day 1 check,
//! so that a learner starts from ✗, and those checks apply to every stage
//! after day 1 too (all but `day1-hello-world`).
//!
//! Solutions are patches in `tests/workshop/solutions/`; `build_solutions`
//! applies each to a copy of its stage and builds them all together.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use suite::cargo;
use suite::checks::{self, Check};
use suite::process::{join_within, run_all_within};
use suite::report::{self, LEARNER_ADDR, Outcome};
use suite::server::Server;
use suite::stage::Stage;
use workshop::counterexamples::COUNTEREXAMPLES;
use workshop::exercises::{self, Exercise};
use workshop::solutions::{self, STARTER_PROOF};

/// The folder of the built solutions and starter, built once per run.
fn built() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let all: Vec<&Exercise> = exercises::all().collect();
    match BUILT.get_or_init(|| solutions::build_solutions(&all)) {
        Ok(dir) => dir,
        Err(err) => panic!("{err}"),
    }
}

/// The binary called `name` among the built solutions.
fn solution_binary(name: &str) -> PathBuf {
    built().join(cargo::binary_name(name))
}

/// Runs `checks` one after another, each against a fresh server from
/// `start`, as `check --crate` does; returns the report of each one that
/// failed, and the id of each one that passed.
fn run(
    start: impl Fn() -> Result<Server, String>,
    checks: &[&'static Check],
) -> (Vec<String>, Vec<&'static str>) {
    let outcomes = report::run_all(checks, &start, true, |_, _| {})
        .unwrap_or_else(|err| panic!("cannot start the server: {err}"));
    let failed = outcomes
        .iter()
        .filter(|outcome| outcome.result.is_err())
        .map(|outcome| report::describe(outcome, LEARNER_ADDR, false))
        .collect();
    let passed = outcomes
        .iter()
        .filter(|outcome| outcome.result.is_ok())
        .map(|outcome: &Outcome| outcome.check.id)
        .collect();
    (failed, passed)
}

/// How many exercises are checked at the same time. Each starts two
/// servers and runs a whole stage's checks, some of which time their load
/// (`day4-concurrent-sleeps`, `day4-stats`): on two cores, all fifteen at once
/// would make them measure the machine instead of the server.
const AT_ONCE: usize = 8;

#[test]
fn every_exercise_fails_on_its_stage_and_passes_with_its_solution() {
    built();
    // A pool rather than batches: a day 1 exercise takes two seconds and a
    // day 4 one twenty, and the next exercise starts as soon as any is
    // done, not when the slowest of a batch is.
    let runs = exercises::all().map(|exercise| {
        move || {
            let run = thread::spawn(move || check_exercise(exercise));
            join_within(run, EXERCISE_LIMIT)
                .unwrap_or_else(|err| vec![format!("{}: {err}", exercise.id())])
        }
    });
    // Each exercise has its own bound; this one is for them all, and is
    // only reached if something outside them hangs.
    let mut problems: Vec<String> = run_all_within(runs, AT_ONCE, ALL_EXERCISES_LIMIT)
        .into_iter()
        .flat_map(|run| run.unwrap_or_else(|err| vec![err]))
        .collect();
    // Then the checks that time the server under load, one at a time,
    // with the machine to themselves: beside seven other exercises, a
    // 1-second bound measures the machine, not the solution.
    let timed = exercises::all().flat_map(|exercise| {
        let binary = solution_binary(exercise.id());
        wanted(exercise)
            .into_iter()
            .filter(|check| timed(check))
            .map(move |check| {
                let binary = binary.clone();
                move || {
                    let (failed, _) = run(|| Server::program(&binary), &[check]);
                    failed
                        .into_iter()
                        .map(|failure| format!("{}: the solution fails:\n{failure}", exercise.id()))
                        .collect::<Vec<_>>()
                }
            })
    });
    problems.extend(
        run_all_within(timed, 1, ALL_EXERCISES_LIMIT)
            .into_iter()
            .flat_map(|run| run.unwrap_or_else(|err| vec![err])),
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Checks whose verdict is a time bound under load: the proofs' timed
/// ones, and the full-queue exercise's 503 within a second.
fn timed(check: &Check) -> bool {
    checks::TIMED.contains(&check.id) || check.id == "day4-queue-full-503"
}

/// What a solution must pass: its stage's checks, and its exercise's
/// last (a full queue leaves the server busy for a while after it).
fn wanted(exercise: &'static Exercise) -> Vec<&'static Check> {
    let mut wanted = checks::for_stage(exercise.stage());
    wanted.push(&exercise.check);
    wanted
}

/// Checks that spend their time waiting for the server's deadline (5 s on
/// a passing server), while it and the machine sit idle.
const WAITING: &[&str] = &[
    "day2-deadline-whole-request",
    "day2-partial-request-timeout",
    "day2-silent-client",
    "day4-idle-client-does-not-block",
];

/// The longest one of them may take, server start included: a failing
/// server keeps the trickle waiting 12 s; this is a hang.
const CHECK_LIMIT: Duration = Duration::from_secs(60);

/// The longest one exercise may take: two servers and a stage's checks.
const EXERCISE_LIMIT: Duration = Duration::from_secs(180);

/// The longest the whole pool may take: all the exercises.
const ALL_EXERCISES_LIMIT: Duration = Duration::from_secs(600);

fn check_exercise(exercise: &'static Exercise) -> Vec<String> {
    let mut problems = Vec::new();
    let stage = exercise.stage();
    let check = &exercise.check;

    // 1. The stage as it is does not do the exercise, and the report's
    //    `try:` line sends exactly what the check sent.
    let outcomes = report::run_all(&[check], &|| Server::reference(stage), true, |_, _| {})
        .unwrap_or_else(|err| panic!("cannot start {stage}: {err}"));
    match &outcomes[0].result {
        Ok(()) => problems.push(format!(
            "{}: the reference {stage}, without the solution, already passes it",
            exercise.id()
        )),
        Err(failure) => {
            if let Some(sent) = &failure.sent {
                let command = report::reproducer(LEARNER_ADDR, sent);
                if report::bytes_of_reproducer(&command).as_ref() != Ok(sent) {
                    problems.push(format!("{}: `{command}` does not reproduce", exercise.id()));
                }
            }
        }
    }

    // 2. The solution does, and is still a whole stage.
    let binary = solution_binary(exercise.id());
    // The timed checks run later, alone (see the test above).
    let wanted: Vec<&'static Check> = wanted(exercise)
        .into_iter()
        .filter(|check| !timed(check))
        .collect();
    // The checks that wait out the server's deadline run beside the
    // others, each on a server of its own, instead of adding five idle
    // seconds each to the exercise.
    let (waiting, quick): (Vec<&'static Check>, Vec<&'static Check>) = wanted
        .into_iter()
        .partition(|check| WAITING.contains(&check.id));
    let beside: Vec<_> = waiting
        .into_iter()
        .map(|check| {
            let binary = binary.clone();
            thread::spawn(move || run(|| Server::program(&binary), &[check]).0)
        })
        .collect();
    let (mut failed, _) = run(|| Server::program(&binary), &quick);
    for waited in beside {
        failed.extend(join_within(waited, CHECK_LIMIT).unwrap_or_else(|err| vec![err]));
    }
    if !failed.is_empty() {
        problems.push(format!(
            "{}: the solution fails:\n{}",
            exercise.id(),
            failed.concat()
        ));
    }
    problems
}

#[test]
fn every_counterexample_fails_the_check_the_book_names() {
    for counterexample in COUNTEREXAMPLES {
        let check = checks::find(counterexample.check)
            .unwrap_or_else(|| panic!("no check {}", counterexample.check));
        let binary = solution_binary(counterexample.name);
        let (failed, _) = run(|| Server::program(&binary), &[check]);
        assert_eq!(
            failed.len(),
            1,
            "{} passes {}, which the book says catches it",
            counterexample.name,
            counterexample.check
        );
    }
}

#[test]
fn the_starter_fails_every_day1_check() {
    let binary = solution_binary(STARTER_PROOF);
    let day1 = checks::for_stage(Stage::Day1);
    let runs: Vec<(Vec<String>, Vec<&str>)> = day1
        .iter()
        .map(|check| run(|| Server::program(&binary), &[check]))
        .collect();
    let passed: Vec<&str> = runs.iter().flat_map(|(_, passed)| passed.clone()).collect();
    assert!(
        passed.is_empty(),
        "the starter already passes {passed:?}: a learner would start with ✓ for work not done"
    );

    // The first thing a learner sees: the workshop chapter shows it.
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!("starter_day1_answers", runs[0].0.concat()));
}

#[test]
fn every_exercise_has_a_solution_and_every_solution_an_exercise() {
    let mut problems = Vec::new();
    for exercise in exercises::all() {
        if !exercise.solution().is_file() {
            problems.push(format!("no {}", exercise.solution().display()));
        }
    }
    for entry in
        std::fs::read_dir(exercises::solutions_dir()).expect("tests/workshop/solutions exists")
    {
        let path = entry.expect("readable entry").path();
        let id = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or_default();
        if exercises::find(id).is_none() {
            problems.push(format!("{} belongs to no exercise", path.display()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_starter_with_the_day1_chapter_code_passes_day1() {
    let name = "starter-with-day1";
    let files = workshop::starter::after_day1(name).unwrap_or_else(|err| panic!("{err}"));
    let dir = cargo::build_scratch(
        "starter-with-day1",
        &[cargo::ScratchCrate {
            name: name.to_string(),
            files,
        }],
    )
    .unwrap_or_else(|err| panic!("the starter with the chapter's code does not build: {err}"));
    let binary = dir.join(cargo::binary_name(name));
    let (failed, _) = run(|| Server::program(&binary), &checks::for_stage(Stage::Day1));
    assert!(failed.is_empty(), "{}", failed.concat());
}

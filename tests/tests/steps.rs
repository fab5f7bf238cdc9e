//! Proof that the build-along steps do what the book says.
//!
//! The learner's crate is built as it stands after each step of day 2
//! (0: the starter after day 1, then one patch more per step), all in one
//! scratch workspace. Every day 2 check then runs against every one of
//! them, and after step k the checks that pass must be exactly:
//! - the ones the crate passed before the first step (day 1's), and
//! - the checks of steps 1 to k, as `suite::steps::STEPS` lists them.
//!
//! So a check can neither go green before the step that claims it nor
//! stay red after it. Two more claims are tied to the code:
//! - after the last step, the learner's `request.rs`, `json.rs` and
//!   `lib.rs` are day 2's, byte for byte (without the anchors the book
//!   uses and the unit tests, which the book does not show);
//! - each code block of a step in `book/src/day2.md` (its includes, put
//!   together the way mdBook does) is in the learner's files after that
//!   step, word for word: what the book shows is what the proof built.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use suite::cargo;
use suite::checks::{self, Check};
use suite::process::join_within;
use suite::report;
use suite::server::Server;
use suite::stage::Stage;
use suite::steps::{self, Step};
use workshop::starter::{anchor, is_anchor_marker};
use workshop::steps::{LEARNER, build_steps, crate_name, files_after};

const STAGE: Stage = Stage::Day2;

/// How many checks run at once. They mostly wait (for a 408, or for a
/// server that never answers), so more than the two cores; not so many
/// that a timed check measures the machine.
const AT_ONCE: usize = 16;

/// The longest the whole run may take: the slowest checks wait 12 s, and
/// about 300 of them run 16 at a time.
const RUN_LIMIT: Duration = Duration::from_secs(240);

/// Checks that wait for a deadline or for a server that never answers go
/// first, so that the quick ones fill the gaps.
const SLOW_FIRST: &[&str] = &[
    "day2-deadline-whole-request",
    "day2-partial-request-timeout",
    "day2-silent-client",
    "day2-body-too-large",
    "day2-body-1024",
];

#[test]
fn after_each_step_exactly_the_steps_checks_so_far_pass() {
    let bin = build_steps(STAGE).unwrap_or_else(|err| panic!("{err}"));
    let step_list = steps::of_stage(STAGE);
    let all = checks::for_stage(STAGE);

    // Every (step, check) pair, slow checks first.
    let mut jobs: Vec<(usize, &'static Check)> = Vec::new();
    for slow in [true, false] {
        for done in 0..=step_list.len() {
            for &check in &all {
                if SLOW_FIRST.contains(&check.id) == slow {
                    jobs.push((done, check));
                }
            }
        }
    }
    let jobs = Arc::new(Mutex::new(jobs.into_iter()));
    let passed = Arc::new(Mutex::new(BTreeSet::<(usize, &'static str)>::new()));
    let workers: Vec<_> = (0..AT_ONCE)
        .map(|_| {
            let (jobs, passed, bin) = (Arc::clone(&jobs), Arc::clone(&passed), bin.clone());
            thread::spawn(move || {
                loop {
                    let job = jobs.lock().expect("no worker panics holding it").next();
                    let Some((done, check)) = job else { break };
                    let binary = bin.join(cargo::binary_name(&crate_name(STAGE, done)));
                    let outcomes =
                        report::run_all(&[check], &|| Server::program(&binary), true, |_, _| {})
                            .unwrap_or_else(|err| panic!("step {done}: {err}"));
                    if outcomes[0].result.is_ok() {
                        passed
                            .lock()
                            .expect("no worker panics holding it")
                            .insert((done, check.id));
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        join_within(worker, RUN_LIMIT).unwrap_or_else(|err| panic!("{err}"));
    }
    let passed = passed.lock().expect("the workers are done");

    let mut problems = Vec::new();
    let before = steps::before_the_first_step(STAGE);
    for done in 0..=step_list.len() {
        let after = if done == 0 {
            "before step 1".to_string()
        } else {
            format!("after step {done}")
        };
        for check in &all {
            let owner = step_list
                .iter()
                .find(|step| step.checks.contains(&check.id));
            let expected = owner.is_none_or(|step| step.number <= done);
            let got = passed.contains(&(done, check.id));
            if got != expected {
                let claim = match owner {
                    Some(step) => format!("the book says step {} turns it green", step.number),
                    None => "it is in no step, so it must pass from the start".to_string(),
                };
                let verb = if got { "passes" } else { "fails" };
                problems.push(format!("{after}: {} {verb}, but {claim}", check.id));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n(checks in no step: {before:?})",
        problems.join("\n")
    );
}

/// Day 2's file `name` as the learner types it from the book: without the
/// module's `//!` introduction, the anchor markers, and the unit tests.
fn as_the_learner_has_it(text: &str) -> String {
    let code = match text.find("\n#[cfg(test)]\nmod tests") {
        Some(end) => &text[..end + 1],
        None => text,
    };
    let kept: Vec<&str> = code
        .lines()
        .skip_while(|line| line.starts_with("//!") || line.is_empty())
        .filter(|line| !is_anchor_marker(line))
        .collect();
    format!("{}\n", kept.join("\n").trim_end())
}

/// The learner's file at `path` after `done` steps.
fn learner_file(files: &[(PathBuf, Vec<u8>)], path: &str) -> Option<String> {
    files
        .iter()
        .find(|(p, _)| p.as_os_str() == path)
        .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
}

#[test]
fn after_the_last_step_the_library_is_day2s() {
    let last = steps::of_stage(STAGE).len();
    let files = files_after(STAGE, last).unwrap_or_else(|err| panic!("{err}"));
    for name in ["request.rs", "json.rs"] {
        let day2 = fs::read_to_string(cargo::root().join("day2/src").join(name))
            .expect("day2's sources are readable");
        let learner = learner_file(&files, &format!("src/{name}"))
            .unwrap_or_else(|| panic!("the learner has no src/{name}"));
        assert_eq!(learner, as_the_learner_has_it(&day2), "src/{name}");
    }
    let lib = fs::read(cargo::root().join("day2/src/lib.rs")).expect("day2 has a lib.rs");
    assert_eq!(
        learner_file(&files, "src/lib.rs").map(String::into_bytes),
        Some(lib),
        "src/lib.rs"
    );
}

/// The step sections of the chapter: each step with its text, from its
/// heading to the next `## ` heading.
fn step_sections(chapter: &str) -> Vec<(&'static Step, &str)> {
    steps::of_stage(STAGE)
        .into_iter()
        .filter_map(|step| {
            let heading = format!("\n## {}\n", step.heading());
            let start = chapter.find(&heading)? + heading.len();
            let end = chapter[start..]
                .find("\n## ")
                .map_or(chapter.len(), |i| start + i);
            Some((step, &chapter[start..end]))
        })
        .collect()
}

/// The code blocks of `section` that hold includes of `day2/src/…`, each
/// as (the file, the code mdBook shows).
fn shown_code(section: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in section.lines() {
        if line.trim_start().starts_with("```") {
            if let Some(block) = current.take() {
                blocks.push(block);
            } else if line.trim_start().starts_with("```rust") {
                current = Some((String::new(), String::new()));
            }
            continue;
        }
        let Some((file, code)) = &mut current else {
            continue;
        };
        let Some(argument) = line
            .trim()
            .strip_prefix("{{#include ../../")
            .and_then(|rest| rest.strip_suffix("}}"))
        else {
            continue;
        };
        let (path, name) = argument.split_once(':').unwrap_or((argument, ""));
        *file = path.to_string();
        let text = if name.is_empty() {
            fs::read_to_string(cargo::root().join(path))
                .unwrap_or_else(|err| panic!("{path}: {err}"))
        } else {
            anchor(path, name).unwrap_or_else(|err| panic!("{err}"))
        };
        code.push_str(&text);
    }
    blocks
}

#[test]
fn every_step_shows_code_the_learner_has_after_it() {
    let chapter = fs::read_to_string(cargo::root().join("book/src/day2.md"))
        .expect("the chapter is readable");
    let sections = step_sections(&chapter);
    assert_eq!(
        sections.len(),
        steps::of_stage(STAGE).len(),
        "every step has a section"
    );
    let mut problems = Vec::new();
    for (step, section) in sections {
        let files = files_after(STAGE, step.number).unwrap_or_else(|err| panic!("{err}"));
        let blocks = shown_code(section);
        if blocks.is_empty() {
            problems.push(format!("{} shows no code", step.heading()));
        }
        for (path, code) in blocks {
            let Some(in_crate) = path.strip_prefix("day2/") else {
                problems.push(format!("{}: includes {path}, not day 2", step.heading()));
                continue;
            };
            // The learner's crate has its own name where day 2 has `day2`.
            let code = code.replace("day2::", &format!("{LEARNER}::"));
            // Blank lines between two includes are the book's layout, not
            // the code's.
            let solid = |text: &str| -> String {
                text.lines()
                    .filter(|line| !line.trim().is_empty())
                    .map(|line| format!("{line}\n"))
                    .collect()
            };
            match learner_file(&files, in_crate) {
                Some(text) if solid(&text).contains(&solid(&code)) => {}
                Some(_) => problems.push(format!(
                    "{}: the learner's {in_crate} does not hold this, as the book shows it:\n{code}",
                    step.heading()
                )),
                None => problems.push(format!(
                    "{}: the learner has no {in_crate} yet",
                    step.heading()
                )),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

//! Proof that the build-along steps do what the book says.
//!
//! The learner's crate is built as it stands after each step (0: before
//! the first), all in one scratch workspace, as `workshop::build_along`
//! makes it from each stage's code and what its chapter's steps show:
//! day 1 from the starter, each later stage from the crate the stage
//! before it ended with. Every check of the stage then runs against every
//! one of them (the slow ones only at the steps that decide them, and
//! none on the bridge's steps before the final server's new parts take
//! over, which serve with day 4's code untouched: see [`runs_at`]), and
//! after step k the checks that pass must be exactly:
//! - the ones the crate passed before the first step (day 1's, on day 2;
//!   none on day 1's starter; on the final server, the days' and the few
//!   final checks no step names),
//! - and the checks of steps 1 to k, as `suite::steps::STEPS` lists them,
//!   less those a step turned red that no step up to k has turned green
//!   again.
//!
//! So a check can neither go green before the step that claims it nor
//! stay red after it. More claims are tied to the code:
//! - after the last step of a stage, the learner's crate is the stage's
//!   code (without the module introductions and the unit tests, which the
//!   book does not show);
//! - the compiler warns, step by step, about what the chapters say it
//!   will (an unused `deadline`, a `send_continue`…), until the step that
//!   puts it to work, and about nothing else unused or never read;
//! - each code block of a step in the chapter (its includes, as the
//!   book's preprocessor shows them) is in the learner's files after that
//!   step, word for word: what the book shows is what the proof built;
//!   and a block fenced `rust,ignore,given`, code the step says the
//!   learner has already, is in their files before it;
//! - the share of the final server's code its steps show only grows.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use suite::anchors;
use suite::cargo;
use suite::checks::{self, Check};
use suite::process::{join_within, run_all_within};
use suite::server::Server;
use suite::stage::Stage;
use suite::steps::{self, Step};
use workshop::build_along;
use workshop::steps::{LEARNER, build_steps, crate_name, files_after};

/// How many quick checks run at once, across every stage. They use the
/// CPU (a server starts, answers, and stops), so not many more than the
/// two cores; not so many that a timed check measures the machine. At 16,
/// a server of the day-4 kind sometimes went more than a second without
/// reading a piece sent to it, and `final-chunked`, sent in three pieces,
/// met its 5-second deadline as a 408 in about one run in four; at 6, in
/// none of eight, and the proof takes as long.
const AT_ONCE: usize = 6;

/// How many checks that wait run at once, across every stage. A check
/// from [`WAITING`] spends 1 to 12 s blocked on a socket while its server
/// sleeps towards a deadline, so many of them together cost the machine
/// next to nothing, and each keeps the margin it was written with (a
/// 5-second deadline against a wait of 10 or 12 s). There are a hundred
/// or so; a few dozen at once overlap the quick checks without starting
/// dozens of servers in the same instant.
const WAITING_AT_ONCE: usize = 48;

/// The longest each phase of the run may take (the checks that wait
/// together with the quick ones, then the timed ones alone), builds
/// included: on a warm build the first takes about half a minute, and
/// a fresh clone's scratch builds add about as much again; this is a
/// hang.
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// Checks that wait for a deadline or for a server that never answers:
/// they run only at the steps that decide them ([`steps_that_decide`]),
/// in a pool of their own ([`WAITING_AT_ONCE`]), so that their waiting
/// overlaps the quick checks instead of holding up a worker.
const WAITING: &[&str] = &[
    "day2-deadline-whole-request",
    "day2-partial-request-timeout",
    "day2-silent-client",
    "day2-body-too-large",
    "day2-body-1024",
    "day4-idle-client-does-not-block",
    // A second each for a `100 Continue` that the final server does not
    // send before its connections chapter's step 13.
    "final-expect-continue",
    "final-chunked-expect-continue",
    // Most of a second, each time, waiting for the server to read each
    // piece of the body before it sends the next.
    "final-chunked",
];

/// Checks that pass or fail by how quickly the server answers while it is
/// busy ([`checks::TIMED`]): they run last, when every build and every
/// other check of every stage is done, so that nothing else on the
/// machine is measured with them. They run [`TIMED_AT_ONCE`] at a time:
/// each spends its seconds with its server asleep (in `/sleep`, or
/// waiting on idle clients), so they hardly slow each other, and one
/// after another they were half a minute of the proof with the machine
/// idle. Each takes a second or a few, so they run only where their
/// outcome is claimed to change, and at both ends ([`steps_that_decide`]).
const RUN_LAST: &[&str] = checks::TIMED;

/// How many [`RUN_LAST`] checks run at once.
const TIMED_AT_ONCE: usize = 8;

/// Whether the proof runs check `id` on the crate after `done` steps of
/// `stage`: every quick check after every step, and the slow ones
/// ([`RUN_LAST`], [`WAITING`]) only at the steps that decide them.
fn runs_at(stage: Stage, id: &str, done: usize) -> bool {
    let slow = RUN_LAST.contains(&id) || WAITING.contains(&id);
    (!slow || steps_that_decide(stage, id).contains(&done)) && !serves_as_day_4(stage, done)
}

/// Whether the final server's crate after `done` steps serves with day
/// 4's code exactly as it did before the first step: the bridge's steps
/// before the new parts take over add code that nothing day 4 wrote
/// calls (proved by [`before_the_take_over_the_server_is_day_4s`]), so
/// their checks would only repeat step 0's, a few thousand servers'
/// worth.
fn serves_as_day_4(stage: Stage, done: usize) -> bool {
    stage == Stage::Final && done > 0 && done < steps::handover(stage)
}

/// [`serves_as_day_4`]'s claim: before the take-over, every file the
/// learner's crate had before the final server's first step is unchanged,
/// except `lib.rs`, which only gains `pub mod` lines.
#[test]
fn before_the_take_over_the_server_is_day_4s() {
    let start = files_after(Stage::Final, 0).unwrap_or_else(|err| panic!("{err}"));
    for done in
        (1..steps::handover(Stage::Final)).filter(|&done| serves_as_day_4(Stage::Final, done))
    {
        let now = files_after(Stage::Final, done).unwrap_or_else(|err| panic!("{err}"));
        for (path, bytes) in &start {
            let file = path.to_string_lossy().replace('\\', "/");
            let after = learner_file(&now, &file)
                .unwrap_or_else(|| panic!("after step {done}, {file} is gone"));
            let before = String::from_utf8_lossy(bytes);
            if file == "src/lib.rs" {
                let lost: Vec<&str> = before
                    .lines()
                    .filter(|line| !after.lines().any(|new| new == *line))
                    .collect();
                let gained: Vec<&str> = after
                    .lines()
                    .filter(|line| !before.lines().any(|old| old == *line))
                    .filter(|line| !line.starts_with("pub mod "))
                    .collect();
                assert!(
                    lost.is_empty() && gained.is_empty(),
                    "after step {done}, lib.rs lost {lost:?} and gained {gained:?}, not only new modules"
                );
            } else {
                assert!(after == before, "after step {done}, {file} changed");
            }
        }
    }
}

/// The steps at which the proof runs a slow check: before the first step,
/// after the last, and on both sides of every step that turns it green or
/// red. Between those, the claim is that nothing changes, and the steps
/// either side of each change pin it: a slow check on every one of the
/// final server's sixty steps would be hundreds of servers held for
/// seconds each, and starting a hundred and sixty of them at once kept
/// some from printing their address within 10 s while the machine was
/// busy.
fn steps_that_decide(stage: Stage, id: &str) -> BTreeSet<usize> {
    let step_list = steps::of_stage(stage);
    let mut done: BTreeSet<usize> = [0, step_list.len()].into();
    for step in step_list {
        if step.checks.contains(&id) || step.turns_red.contains(&id) {
            done.insert(step.position() - 1);
            done.insert(step.position());
        }
    }
    done
}

/// Held while the checks run, and while another test builds the steps:
/// a cargo build beside the [`RUN_LAST`] checks would slow them down.
static ONE_PROOF_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The arguments each step's server starts with. The final server runs as
/// many event loops as the machine has cores, and with enough of them a
/// handler that sleeps on one loop would not hold up a request that lands
/// on another: two loops make the step without worker threads fail its
/// checks on any machine.
fn server_args(stage: Stage) -> &'static [&'static str] {
    match stage {
        Stage::Final => &["--loops", "2"],
        _ => &[],
    }
}

#[test]
fn day1_after_each_step_exactly_the_steps_checks_so_far_pass() {
    after_each_step_exactly_the_steps_checks_so_far_pass(Stage::Day1);
}

#[test]
fn day2_after_each_step_exactly_the_steps_checks_so_far_pass() {
    after_each_step_exactly_the_steps_checks_so_far_pass(Stage::Day2);
}

#[test]
fn day3_after_each_step_exactly_the_steps_checks_so_far_pass() {
    after_each_step_exactly_the_steps_checks_so_far_pass(Stage::Day3);
}

#[test]
fn day4_after_each_step_exactly_the_steps_checks_so_far_pass() {
    after_each_step_exactly_the_steps_checks_so_far_pass(Stage::Day4);
}

/// The stages whose chapters are cut into steps, in order.
fn stages_with_steps() -> Vec<Stage> {
    Stage::ALL
        .into_iter()
        .filter(|stage| !steps::of_stage(*stage).is_empty())
        .collect()
}

#[test]
fn final_after_each_step_exactly_the_steps_checks_so_far_pass() {
    after_each_step_exactly_the_steps_checks_so_far_pass(Stage::Final);
}

/// The (step, check) pairs of one stage that passed.
type Passed = BTreeSet<(usize, &'static str)>;

/// One check to run against the server of one step.
struct Job {
    stage: Stage,
    done: usize,
    check: &'static Check,
    binary: PathBuf,
}

/// What one job came to: whether its check passed (or what it received
/// instead), or why its server did not start.
struct Ran {
    stage: Stage,
    done: usize,
    check: &'static str,
    passed: Result<Result<(), String>, String>,
}

impl Job {
    /// Runs the check against a fresh server of the step.
    fn run(self) -> Ran {
        // Only whether it passed counts here, so unlike `report::run_all`
        // this does not give a failed check's server half a second to
        // show a crash.
        let passed = Server::program_with(&self.binary, server_args(self.stage)).map(|server| {
            let start = Instant::now();
            self.check.run(&server).map_err(|failure| {
                format!(
                    "expected {}, received after {:.1} s: {}",
                    failure.expected,
                    start.elapsed().as_secs_f64(),
                    failure.received
                )
            })
        });
        Ran {
            stage: self.stage,
            done: self.done,
            check: self.check.id,
            passed,
        }
    }
}

/// What every (stage, step, check) run came to: the pairs that passed,
/// and what kept a stage from running at all.
#[derive(Default)]
struct Results {
    passed: BTreeMap<Stage, Passed>,
    /// What a failed check received, by stage, step and check: a proof
    /// that fails says why.
    failures: BTreeMap<(Stage, usize, &'static str), String>,
    errors: BTreeMap<Stage, Vec<String>>,
}

impl Results {
    fn record_error(&mut self, stage: Stage, err: String) {
        self.errors.entry(stage).or_default().push(err);
    }

    /// Records the runs of one pool. A job that panicked, or was still
    /// running at [`RUN_LIMIT`], makes every stage's result an error: its
    /// error does not say whose job it was.
    fn record(&mut self, runs: Vec<Result<Ran, String>>) {
        for run in runs {
            let ran = match run {
                Ok(ran) => ran,
                Err(err) => {
                    for stage in stages_with_steps() {
                        self.record_error(stage, format!("a check did not finish: {err}"));
                    }
                    continue;
                }
            };
            match ran.passed {
                Ok(Ok(())) => {
                    let passed = self.passed.entry(ran.stage).or_default();
                    passed.insert((ran.done, ran.check));
                }
                Ok(Err(failure)) => {
                    self.failures
                        .insert((ran.stage, ran.done, ran.check), failure);
                }
                Err(err) => self.record_error(ran.stage, format!("step {}: {err}", ran.done)),
            }
        }
    }
}

/// Every stage's results, run once for all of them by the first test that
/// asks: one stage's checks that wait (day 2's deadlines, 10 to 12 s each
/// on every step before the one that sets them) then overlap the other
/// stages' quick checks, instead of each stage waiting out its own.
fn results_of(stage: Stage) -> Result<&'static Results, String> {
    static RESULTS: OnceLock<Results> = OnceLock::new();
    let results = RESULTS.get_or_init(run_every_stage);
    match results.errors.get(&stage) {
        Some(errors) => Err(errors.join("\n")),
        None => Ok(results),
    }
}

/// Builds each stage's steps, in order, and runs every check of the stage
/// against every step's server; a stage's checks start as soon as its
/// steps are built, while the next stage builds. The [`RUN_LAST`] checks
/// run last, once everything else is done.
fn run_every_stage() -> Results {
    let _one = ONE_PROOF_AT_A_TIME
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let mut results = Results::default();
    // Two pools at the same time, each fed by a channel as the stages are
    // built, and each with its own bound on how many checks at once.
    let start_pool = |at_once| {
        let (to_pool, jobs) = mpsc::channel::<Job>();
        let runs = thread::spawn(move || {
            run_all_within(jobs.into_iter().map(|job| || job.run()), at_once, RUN_LIMIT)
        });
        (to_pool, runs)
    };
    let (to_waiting, waiting) = start_pool(WAITING_AT_ONCE);
    let (to_crowd, crowd) = start_pool(AT_ONCE);
    let mut last = Vec::new();
    for stage in stages_with_steps() {
        let bin = match build_steps(stage) {
            Ok(bin) => bin,
            Err(err) => {
                results.record_error(stage, err);
                continue;
            }
        };
        for done in 0..=steps::of_stage(stage).len() {
            let binary = bin.join(cargo::binary_name(&crate_name(stage, done)));
            for check in checks::for_stage(stage) {
                let job = Job {
                    stage,
                    done,
                    check,
                    binary: binary.clone(),
                };
                if !runs_at(stage, check.id, done) {
                    continue;
                }
                let pool = if RUN_LAST.contains(&check.id) {
                    last.push(job);
                    continue;
                } else if WAITING.contains(&check.id) {
                    &to_waiting
                } else {
                    &to_crowd
                };
                // Fails only if the pool's thread panicked, which joining
                // it below reports.
                let _ = pool.send(job);
            }
        }
    }
    // No more jobs: each pool finishes those it has.
    drop((to_waiting, to_crowd));
    for pool in [waiting, crowd] {
        // A pool returns by RUN_LIMIT after its start, now that all its
        // jobs are sent; this bound only catches a pool gone wrong.
        results.record(join_within(pool, RUN_LIMIT).unwrap_or_else(|err| vec![Err(err)]));
    }

    let last = last.into_iter().map(|job| || job.run());
    results.record(run_all_within(last, TIMED_AT_ONCE, RUN_LIMIT));
    results
}

fn after_each_step_exactly_the_steps_checks_so_far_pass(stage: Stage) {
    if steps::of_stage(stage).is_empty() {
        return;
    }
    let results = results_of(stage).unwrap_or_else(|err| panic!("{err}"));
    let passed = results.passed.get(&stage).cloned().unwrap_or_default();
    let step_list = steps::of_stage(stage);
    let all = checks::for_stage(stage);

    let mut problems = Vec::new();
    let before = steps::before_the_first_step(stage);
    for done in 0..=step_list.len() {
        let after = if done == 0 {
            "before step 1".to_string()
        } else {
            format!("after step {done}")
        };
        for check in &all {
            if !runs_at(stage, check.id, done) {
                continue;
            }
            let owner = step_list
                .iter()
                .find(|step| step.checks.contains(&check.id));
            let red = step_list
                .iter()
                .find(|step| step.turns_red.contains(&check.id));
            let green_by_now = owner.is_none_or(|step| step.position() <= done);
            let expected = match red {
                Some(red) => done < red.position() || green_by_now,
                None => green_by_now,
            };
            let got = passed.contains(&(done, check.id));
            if got != expected {
                let claim = match owner {
                    Some(step) => format!(
                        "the book says {}'s step {} turns it green",
                        step.chapter, step.number
                    ),
                    None => "it is in no step, so it must pass from the start".to_string(),
                };
                let verb = match results.failures.get(&(stage, done, check.id)) {
                    _ if got => "passes".to_string(),
                    Some(failure) => format!("fails ({failure})"),
                    None => "fails".to_string(),
                };
                problems.push(format!("{stage} {after}: {} {verb}, but {claim}", check.id));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n(checks in no step: {before:?})",
        problems.join("\n")
    );
}

/// A stage's file as the learner types it from the book: without the
/// module's `//!` introduction, the anchor markers, the stand-ins (see
/// `suite::anchors::StandIn`), the unit tests and the modules only tests
/// compile.
fn as_the_learner_has_it(text: &str) -> String {
    let text = anchors::without_stand_ins(text).unwrap_or_else(|err| panic!("{err}"));
    let code = match text.find("\n#[cfg(test)]\nmod tests {") {
        Some(end) => &text[..end + 1],
        None => &text,
    };
    let mut kept: Vec<&str> = Vec::new();
    let mut lines = code
        .lines()
        .filter(|line| !anchors::is_marker(line))
        .skip_while(|line| line.starts_with("//!") || line.is_empty());
    while let Some(line) = lines.next() {
        if line == "#[cfg(test)]" {
            lines.next();
        } else {
            kept.push(line);
        }
    }
    anchors::one_blank_at_most(kept.into_iter())
        .trim_end()
        .to_string()
}

/// The learner's file at `path` after `done` steps.
fn learner_file(files: &[(PathBuf, Vec<u8>)], path: &str) -> Option<String> {
    files
        .iter()
        .find(|(p, _)| p.as_os_str() == path)
        .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
}

/// The `.rs` files under `folder`, by path from the stage's folder
/// (`src/store/log.rs`).
fn rust_files(stage: Stage) -> Vec<String> {
    let root = cargo::root().join(stage.name());
    let mut names = Vec::new();
    let mut folders = vec![root.join("src")];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder).expect("the stage's folders are readable") {
            let path = entry.expect("a readable entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if let Ok(name) = path.strip_prefix(&root) {
                names.push(name.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    names.sort();
    names
}

#[test]
fn after_the_last_step_of_a_stage_the_crate_is_the_stages_code() {
    for stage in stages_with_steps() {
        let last = steps::of_stage(stage).len();
        let files = files_after(stage, last).unwrap_or_else(|err| panic!("{err}"));
        let own_name = build_along::own_name(stage);
        for name in rust_files(stage) {
            let theirs = fs::read_to_string(cargo::root().join(stage.name()).join(&name))
                .expect("the stage's sources are readable");
            let Some(mine) = learner_file(&files, &name) else {
                // Only a module that only tests compile may be missing.
                assert!(
                    as_the_learner_has_it(&theirs).is_empty()
                        || name.ends_with("/tests.rs")
                        || name.ends_with("faulty_disk.rs"),
                    "the learner has no {name} after {stage}"
                );
                continue;
            };
            let mine = mine.replace(&format!("{LEARNER}::"), &own_name);
            assert_eq!(
                as_the_learner_has_it(&mine),
                as_the_learner_has_it(&theirs),
                "{stage}'s {name}"
            );
        }
    }
}

/// Every line of the final server's code is shown by a step, or is on the
/// list the handover step prints (`final-groundwork.md`): a table with a
/// row per file, `` | `src/cli.rs` | 138 | what | why | ``. The counts
/// must be exact, so a line no step shows cannot slip in unlisted, and a
/// step that shows a listed line takes it off the list.
#[test]
fn the_final_servers_lines_are_shown_by_steps_or_on_the_handover_list() {
    let coverage = build_along::coverage(Stage::Final).unwrap_or_else(|err| panic!("{err}"));
    let shown: usize = coverage.iter().map(|(_, shown, _)| shown).sum();
    let given: usize = coverage.iter().map(|(_, _, given)| given).sum();
    println!(
        "the final server's steps show {shown} of {} lines",
        shown + given
    );
    let handover = steps::of_stage(Stage::Final)
        .into_iter()
        .find(|step| step.title == steps::HANDOVER)
        .expect("the final server has a handover step");
    let chapter =
        fs::read_to_string(cargo::root().join(format!("book/src/{}.md", handover.chapter)))
            .expect("the chapter is readable");
    let (_, section) = step_sections(Stage::Final, handover.chapter, &chapter)
        .into_iter()
        .find(|(step, _)| step.title == steps::HANDOVER)
        .expect("the handover has its section");
    let mut listed = table_rows(section);
    listed.sort();
    let mut expected: Vec<(String, usize)> = coverage
        .iter()
        .filter(|(_, _, given)| *given > 0)
        .map(|(file, _, given)| (file.clone(), *given))
        .collect();
    expected.sort();
    assert_eq!(
        listed, expected,
        "the handover's list against the lines no step shows, by file"
    );
}

/// The browser page's files, which the browser chapter hands over whole,
/// are on its list with their lines (not blank, not anchor markers), and
/// every file of `final/static` is.
#[test]
fn the_pages_files_are_on_the_browser_chapters_list() {
    let chapter = fs::read_to_string(cargo::root().join("book/src/final-browser.md"))
        .expect("the chapter is readable");
    let mut listed: Vec<(String, usize)> = table_rows(&chapter)
        .into_iter()
        .filter(|(file, _)| file.starts_with("static/"))
        .collect();
    listed.sort();
    let dir = cargo::root().join("final/static");
    let mut expected = Vec::new();
    for entry in fs::read_dir(&dir).expect("final/static is readable") {
        let path = entry.expect("an entry of final/static").path();
        let text = fs::read_to_string(&path).expect("a page file is text");
        let lines = text
            .lines()
            .filter(|line| !line.trim().is_empty() && !anchors::is_marker(line))
            .count();
        let name = path.file_name().expect("a name").to_string_lossy();
        expected.push((format!("static/{name}"), lines));
    }
    expected.sort();
    assert_eq!(
        listed, expected,
        "the browser chapter's list against final/static"
    );
}

/// The rows of the Markdown tables in `text` that start with a file in
/// backquotes and a count: `` | `src/cli.rs` | 138 | what | why | ``.
fn table_rows(text: &str) -> Vec<(String, usize)> {
    text.lines()
        .filter_map(|row| {
            let mut cells = row.split('|').skip(1).map(str::trim);
            let file = cells.next()?.strip_prefix('`')?.strip_suffix('`')?;
            let count = cells.next()?.parse().ok()?;
            Some((file.to_string(), count))
        })
        .collect()
}

/// The step sections of `chapter`: each step of `stage` with its text,
/// from its heading to the next `## ` heading.
fn step_sections<'a>(stage: Stage, name: &str, chapter: &'a str) -> Vec<(&'static Step, &'a str)> {
    steps::of_stage(stage)
        .into_iter()
        .filter(|step| step.chapter == name)
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

/// The code blocks of `section` that hold includes of code, each as (the
/// file, the code mdBook shows, given or not); what `book` (the page and
/// every later page) shows elsewhere is left out.
///
/// A block fenced as `rust,ignore,given` shows code the learner has
/// before the step; `given` says which these are.
fn shown_code(book: &str, section: &str) -> Vec<(String, String, bool)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String, bool)> = None;
    for line in section.lines() {
        if let Some(fence) = line.trim_start().strip_prefix("```") {
            if let Some(block) = current.take() {
                blocks.push(block);
            } else if fence.starts_with("rust") {
                let given = fence.split(',').any(|word| word.trim() == "given");
                current = Some((String::new(), String::new(), given));
            }
            continue;
        }
        let Some((file, code, _)) = &mut current else {
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
        let source = fs::read_to_string(cargo::root().join(path))
            .unwrap_or_else(|err| panic!("{path}: {err}"));
        // As the book's preprocessor shows it: without the anchors the
        // book shows elsewhere.
        let hidden = anchors::hidden_in_book(book, &format!("../../{path}"), name);
        let text = anchors::shown_hiding(&source, name, &hidden)
            .unwrap_or_else(|err| panic!("{path}: {err}"));
        code.push_str(&text);
    }
    blocks
}

#[test]
fn every_step_shows_code_the_learner_has_after_it() {
    let mut problems = Vec::new();
    for stage in stages_with_steps() {
        let mut sections = Vec::new();
        for name in steps::chapters_with_steps(stage) {
            let page = format!("book/src/{name}.md");
            let chapter =
                fs::read_to_string(cargo::root().join(&page)).expect("the chapter is readable");
            let found = step_sections(stage, name, &chapter)
                .into_iter()
                .map(|(step, section)| (step, section.to_string()))
                .collect::<Vec<_>>();
            // What the chapter says before its first step, for its
            // blocks of code the learner has already ("given").
            if let Some((first, _)) = found.first()
                && let Some(start) = chapter.find(&format!("\n## {}\n", first.heading()))
            {
                sections.push((page.clone(), *first, chapter[..start].to_string(), true));
            }
            sections.extend(
                found
                    .into_iter()
                    .map(|(step, section)| (page.clone(), step, section, false)),
            );
        }
        assert_eq!(
            sections.iter().filter(|(_, _, _, intro)| !intro).count(),
            steps::of_stage(stage).len(),
            "every step of {stage} has a section in its chapter"
        );
        let folder = format!("{}/", stage.name());
        for (page, step, section, intro) in sections {
            let name = page.trim_start_matches("book/src/");
            let book = anchors::book_from(&cargo::root().join("book/src"), name)
                .unwrap_or_else(|err| panic!("{err}"));
            let after = files_after(stage, step.position()).unwrap_or_else(|err| panic!("{err}"));
            let before =
                files_after(stage, step.position() - 1).unwrap_or_else(|err| panic!("{err}"));
            let mut blocks = shown_code(&book, &section);
            if intro {
                // Before the first step, only what the chapter says the
                // learner has is held to it.
                blocks.retain(|(_, _, given)| *given);
            } else if blocks.iter().all(|(_, _, given)| *given) && step.title != steps::HANDOVER {
                // (The handover hands its code over with a command.)
                problems.push(format!("{page}: {} shows no code", step.heading()));
            }
            for (path, code, given) in blocks {
                // What a step adds is there after it; what a block says the
                // learner has already ("given") is there before it.
                let (files, when) = if given {
                    (&before, "before")
                } else {
                    (&after, "after")
                };
                if code.trim().is_empty() {
                    problems.push(format!(
                        "{page}: {}: a block from {path} shows nothing",
                        step.heading()
                    ));
                    continue;
                }
                let Some(in_crate) = path.strip_prefix(&folder) else {
                    problems.push(format!(
                        "{page}: {}: includes {path}, not {stage}",
                        step.heading()
                    ));
                    continue;
                };
                // The learner's crate has its own name where a day has
                // `day2`, and the final server `todo_server`.
                let code = code.replace(&build_along::own_name(stage), &format!("{LEARNER}::"));
                // Blank lines between two includes are the book's layout,
                // not the code's; the final server's anchor markers are in
                // the learner's files, and mdBook leaves them out.
                let solid = |text: &str| -> String {
                    text.lines()
                        .filter(|line| !line.trim().is_empty() && !anchors::is_marker(line))
                        .map(|line| format!("{line}\n"))
                        .collect()
                };
                match learner_file(files, in_crate) {
                    Some(text) if solid(&text).contains(&solid(&code)) => {}
                    Some(_) => problems.push(format!(
                        "{page}: {}: {when} it, the learner's {in_crate} does not hold this, as the book shows it:\n{code}",
                        step.heading()
                    )),
                    None => problems.push(format!(
                        "{page}: {}: {when} it, the learner has no {in_crate}",
                        step.heading()
                    )),
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// What the chapters say the compiler warns about while the steps are
/// under way: a word the warning names, the step that brings it, and the
/// step that puts it to work, after which the warning is gone.
fn warnings_the_book_names(stage: Stage) -> Vec<(&'static str, usize, usize)> {
    // The final server's steps span chapters: its rows name a step by its
    // chapter and number, and this gives its place in the stage.
    let at = |chapter: &str, number: usize| {
        steps::of_stage(Stage::Final)
            .into_iter()
            .find(|step| step.chapter == chapter && step.number == number)
            .map_or(0, |step| step.position())
    };
    let connections = |number| at("final-connections", number);
    let state = |number| at("final-state", number);
    let durability = |number| at("final-durability", number);
    let bodies = |number| at("final-bodies", number);
    match stage {
        // day1.md, step 1: "warns that `HELLO_RESPONSE` is never used.
        // Step 2 uses it."
        Stage::Day1 => vec![("`HELLO_RESPONSE`", 1, 2)],
        // day2.md: "imports and functions that nothing uses yet (until
        // step 5 wires them up), a `deadline` nobody reads, a `version`
        // nobody checks, two `mut`s that never mutate"; steps 1, 3 and 4
        // say which arrive with them.
        Stage::Day2 => vec![
            ("unused import", 1, 3),
            ("`CHUNK_SIZE`", 1, 4),
            ("`read_head`", 3, 4),
            ("`find_head_end`", 3, 4),
            ("`read_some`", 3, 4),
            ("`deadline`", 3, 10),
            ("`version`", 4, 6),
            ("let mut headers", 4, 6),
            ("let mut body", 4, 7),
        ],
        // day3.md, "How to follow this chapter" and step 3: the import of
        // `std::time::Duration` in `router.rs` waits for step 5's `/sleep`.
        Stage::Day3 => vec![("`std::time::Duration`", 3, 5)],
        // day4.md, "How to follow this chapter": `Worker` and the two job
        // types are never used until step 2; `AssertUnwindSafe` is unused
        // in `main.rs` from step 3 until step 4.
        Stage::Day4 => vec![
            ("`Job`", 1, 2),
            ("`SharedReceiver`", 1, 2),
            ("`Worker`", 1, 2),
            // "and its `new` is never called"
            ("associated function `new`", 1, 2),
            ("`AssertUnwindSafe`", 3, 4),
        ],
        // final-groundwork.md, step 17: `check` does not look at its
        // request until the API's step 19; final-api.md, step 7:
        // `todos.rs` imports `SaveError` for step 8 and `Changes` for
        // step 9; final-connections.md, "How to follow this chapter", for
        // the rest.
        Stage::Final => vec![
            (
                "unused variable: `request`",
                at("final-groundwork", 17),
                at("final-api", 19),
            ),
            // final-groundwork.md, step 2: the values of the flags before
            // the loop that reads them; step 8: what checks a host and a
            // length, before the parser of step 9 and the framing of step
            // 10 call them.
            (
                "function `is_host`",
                at("final-groundwork", 8),
                at("final-groundwork", 9),
            ),
            (
                "function `length_framing`",
                at("final-groundwork", 8),
                at("final-groundwork", 10),
            ),
            // Steps 12 and 13: the reader's state, before `poll` reads it.
            (
                "unused imports: `Framing`",
                at("final-groundwork", 12),
                at("final-groundwork", 13),
            ),
            (
                "unused import: `Target`",
                at("final-groundwork", 13),
                at("final-groundwork", 14),
            ),
            (
                "fields `head`, `start`",
                at("final-groundwork", 12),
                at("final-groundwork", 14),
            ),
            (
                "variant `Length`",
                at("final-groundwork", 12),
                at("final-groundwork", 14),
            ),
            (
                "method `read_head`",
                at("final-groundwork", 13),
                at("final-groundwork", 14),
            ),
            // Step 15: `Write` is for step 16's `resolve`.
            (
                "unused import: `std::io::Write`",
                at("final-groundwork", 15),
                at("final-groundwork", 16),
            ),
            // Step 17: the router's imports and table, before step 18's
            // `route` and handlers use them.
            (
                "unused import: `std::time::Duration`",
                at("final-groundwork", 17),
                at("final-groundwork", 18),
            ),
            (
                "unused import: `serde::Serialize`",
                at("final-groundwork", 17),
                at("final-groundwork", 18),
            ),
            (
                "unused import: `crate::http::request::Request`",
                at("final-groundwork", 17),
                at("final-groundwork", 18),
            ),
            (
                "unused import: `crate::http::response::Response`",
                at("final-groundwork", 17),
                at("final-groundwork", 18),
            ),
            (
                "constant `MAX_SLEEP_MS`",
                at("final-groundwork", 17),
                at("final-groundwork", 18),
            ),
            (
                "enum `Resource`",
                at("final-groundwork", 17),
                at("final-groundwork", 18),
            ),
            (
                "associated items `of` and `allow`",
                at("final-groundwork", 17),
                at("final-groundwork", 18),
            ),
            (
                "function `parse_count`",
                at("final-groundwork", 2),
                at("final-groundwork", 3),
            ),
            (
                "function `parse_origin`",
                at("final-groundwork", 2),
                at("final-groundwork", 3),
            ),
            (
                "function `parse_host_name`",
                at("final-groundwork", 2),
                at("final-groundwork", 3),
            ),
            (
                "function `parse_port`",
                at("final-groundwork", 2),
                at("final-groundwork", 3),
            ),
            // final-api.md, steps 1 to 6: the store bottom up, each piece
            // unused until the step that calls it.
            ("struct `State`", at("final-api", 2), at("final-api", 5)),
            ("`empty`", at("final-api", 2), at("final-api", 5)),
            ("method `apply`", at("final-api", 5), at("final-api", 6)),
            ("struct `Record`", at("final-api", 2), at("final-api", 6)),
            ("enum `Change`", at("final-api", 2), at("final-api", 6)),
            ("unused import", at("final-api", 3), at("final-api", 4)),
            ("enum `Op`", at("final-api", 3), at("final-api", 6)),
            ("struct `Outcome`", at("final-api", 3), at("final-api", 6)),
            ("struct `Draft`", at("final-api", 3), at("final-api", 6)),
            ("`updated`", at("final-api", 3), at("final-api", 6)),
            ("unused import", at("final-api", 7), at("final-api", 9)),
            ("`SaveError`", at("final-api", 7), at("final-api", 8)),
            ("`Changes`", at("final-api", 7), at("final-api", 9)),
            // final-bodies.md, steps 2 to 4: the chunk decoder bottom
            // up, its pieces unused until step 5 calls them.
            ("unused import", bodies(2), bodies(4)),
            ("function `line`", bodies(2), bodies(5)),
            ("function `crlf_line`", bodies(2), bodies(5)),
            ("function `chunk_size`", bodies(2), bodies(5)),
            ("function `check_extensions`", bodies(2), bodies(5)),
            ("function `check_trailer`", bodies(2), bodies(5)),
            ("`DataEnd`", bodies(3), bodies(5)),
            ("`extension_bytes`", bodies(3), bodies(5)),
            ("`size_line`", bodies(4), bodies(5)),
            // final-connections.md, steps 1 and 2: steps 1 to 6 build the
            // connection bottom up, and nothing calls its pieces until
            // the step after each.
            ("unused import", connections(1), connections(5)),
            ("`enter`", connections(2), connections(3)),
            ("`Delivery`", connections(2), connections(3)),
            ("enum `Phase`", connections(1), connections(2)),
            ("`Lingering`", connections(2), connections(6)),
            ("`written`", connections(3), connections(6)),
            // Steps 7 to 13 build the event loop bottom up in the same way.
            ("fields `places` and `free`", connections(7), connections(8)),
            (
                "fields `generation` and `value`",
                connections(7),
                connections(8),
            ),
            ("unused import", connections(9), connections(13)),
            ("`WAKER`", connections(9), connections(13)),
            ("method `take`", connections(9), connections(13)),
            ("`EventLoop`", connections(10), connections(13)),
            ("struct `Client`", connections(10), connections(13)),
            ("`receive`", connections(12), connections(13)),
            ("`drive`", connections(11), connections(13)),
            ("`send_continue`", connections(5), connections(17)),
            ("let mut next_sweep", connections(12), connections(18)),
            ("`accept_until_shutdown`", connections(14), connections(15)),
            ("constant `LISTENER`", connections(14), connections(15)),
            ("`WAKER`", connections(14), connections(15)),
            ("`workers`", connections(13), connections(23)),
            // Steps 19 to 21: the pool bottom up, day 4's doing the work
            // until step 20 replaces it, and its new parts unused until
            // step 21 starts threads.
            ("struct `Load`", connections(19), connections(20)),
            ("function `work`", connections(19), connections(21)),
            (
                "fields `receiver`, `load`",
                connections(20),
                connections(21),
            ),
            (
                "fields `idle` and `queued`",
                connections(20),
                connections(21),
            ),
            (
                "associated function `new`",
                connections(20),
                connections(21),
            ),
            ("`hand_over`", connections(22), connections(23)),
            ("struct `Pending`", connections(22), connections(23)),
            ("`post`", connections(22), connections(23)),
            // final-connections.md, step 27: the logger thread's parts,
            // before step 28 starts it.
            (
                "fields `inner` and `thread`",
                connections(27),
                connections(28),
            ),
            (
                "fields `state` and `filled`",
                connections(27),
                connections(28),
            ),
            (
                "fields `pending`, `dropped`",
                connections(27),
                connections(28),
            ),
            ("method `lock`", connections(27), connections(28)),
            ("function `write_batches`", connections(27), connections(28)),
            ("function `write_out`", connections(27), connections(28)),
            // final-connections.md, "How to follow this chapter": the
            // connection's fields and variables for the access log, from
            // step 2 until step 30.
            ("`peer`", connections(2), connections(30)),
            ("unused variable: `line`", connections(3), connections(30)),
            ("unused variable: `server`", connections(3), connections(30)),
            // final-state.md, steps 1 to 5: the imports `disk.rs` needs
            // for step 2, and the snapshot's functions and the disk,
            // each until the step that calls it.
            ("unused import", state(1), state(2)),
            ("function `beside`", state(3), state(4)),
            ("function `load`", state(3), state(4)),
            ("function `folder`", state(3), state(5)),
            ("function `save`", state(3), state(5)),
            ("field `disk`", state(4), state(5)),
            // final-durability.md: the log's parts, bottom up, until step
            // 6 opens the log, step 10 writes to it, and steps 11 to 14
            // compact it; and the snapshot's `save`, with the disk that
            // only it reads, from the step that stops rewriting the
            // whole file until compaction calls it again.
            ("function `crc32`", durability(1), durability(6)),
            ("function `table`", durability(1), durability(6)),
            ("`POLYNOMIAL`", durability(1), durability(6)),
            ("`TABLE`", durability(1), durability(6)),
            ("`MAGIC`", durability(2), durability(6)),
            ("`HEADER`", durability(2), durability(6)),
            ("function `encode`", durability(2), durability(10)),
            ("enum `Frame`", durability(3), durability(6)),
            ("function `read`", durability(3), durability(6)),
            ("`whole_or_torn`", durability(3), durability(6)),
            ("unused import", durability(4), durability(5)),
            ("struct `Log`", durability(4), durability(6)),
            ("`len`", durability(4), durability(12)),
            ("function `start`", durability(5), durability(6)),
            ("`write_synced`", durability(5), durability(6)),
            ("function `replay`", durability(5), durability(6)),
            ("`snapshot_size`", durability(6), durability(12)),
            ("field `log`", durability(6), durability(10)),
            ("method `log`", durability(7), durability(10)),
            ("`GroupCommit`", durability(8), durability(10)),
            ("struct `Queue`", durability(8), durability(10)),
            ("`SaveBatch`", durability(8), durability(10)),
            ("method `lock`", durability(8), durability(9)),
            ("and `lock`", durability(9), durability(10)),
            ("struct `Leader`", durability(9), durability(10)),
            ("function `save`", durability(10), durability(14)),
            ("field `disk`", durability(10), durability(14)),
            ("`policy`", durability(11), durability(12)),
            ("field `running`", durability(12), durability(14)),
            ("method `is_due`", durability(12), durability(14)),
            ("`keep_from_now`", durability(13), durability(14)),
        ],
    }
}

#[test]
fn the_compiler_warns_about_what_the_book_says_until_the_step_that_uses_it() {
    let _one = ONE_PROOF_AT_A_TIME
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let mut problems = Vec::new();
    for stage in stages_with_steps() {
        build_steps(stage).unwrap_or_else(|err| panic!("{err}"));
        let named = warnings_the_book_names(stage);
        for done in 0..=steps::of_stage(stage).len() {
            let name = crate_name(stage, done);
            let warnings = cargo::scratch_warnings(&format!("{stage}-steps"), &name)
                .unwrap_or_else(|err| panic!("{err}"));
            let expected: Vec<&str> = named
                .iter()
                .filter(|(_, from, until)| (*from..*until).contains(&done))
                .map(|(word, _, _)| *word)
                .collect();
            for word in &expected {
                if !warnings.iter().any(|warning| warning.contains(word)) {
                    problems.push(format!("{name}: no warning about {word}"));
                }
            }
            // Gone once the step that uses it is done, unless the book
            // names the same word again for a later stretch of steps, or
            // names that warning now in other words (connections step 1's
            // "unused import" covers an unused `Response` of its own).
            // (Other warnings a newer compiler may add are not the book's
            // to list.)
            for (word, _, until) in &named {
                let named_again = expected.contains(word);
                let still = warnings.iter().any(|warning| {
                    warning.contains(word) && !expected.iter().any(|other| warning.contains(other))
                });
                if done >= *until && !named_again && still {
                    problems.push(format!("{name}: still a warning about {word}"));
                }
            }
            // But code a step has not used yet, and the book does not
            // mention, is a gap in the steps: the learner sees a warning
            // nobody explains.
            for warning in &warnings {
                let unused = warning.contains("unused") || warning.contains("never");
                if unused && !expected.iter().any(|word| warning.contains(word)) {
                    problems.push(format!(
                        "{name}: a warning the book does not name: {warning}"
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

//! `check`: runs checks against a server and says what is missing.
//!
//! ```text
//! check day2                             # the reference crate day2
//! check day2 --crate my-server           # your crate in workshop/my-server
//! check day2 --addr 127.0.0.1:5000       # a server you started
//! check day2 --cmd "cargo run -p x"      # started for you, with PORT=0
//! check day2-query --crate my-server     # one check
//! check day3-head --crate my-server      # one exercise
//! check day3-head --hint                 # the exercise's next hint
//! check solution day3-head               # its solution, once you passed it
//! check new my-server                    # a starter crate in workshop/
//! check new my-server --from day4        # day 4's code, to skip ahead
//! check new my-loop --before final-connections  # where that chapter starts
//! check next                             # what to do next
//! check --list                           # every stage, check and exercise
//! ```
//!
//! It exits with 0 when every check passed, 1 when one failed, and 2 when
//! it could not run them at all.

use std::fs;
use std::process::ExitCode;

use suite::cargo;
use suite::checks::{self, Check};
use suite::report;
use suite::server::Server;
use suite::stage::Stage;
use suite::steps::{self, Step};
use workshop::exercises::{self, Exercise};
use workshop::progress::Progress;
use workshop::starter;

const USAGE: &str = "\
usage: check <STAGE | CHECK-ID | EXERCISE-ID> [--crate NAME | --addr HOST:PORT | --cmd \"COMMAND\"]
       check <EXERCISE-ID> --hint [--crate NAME]
       check solution <EXERCISE-ID> [--crate NAME] [--anyway]
       check new <NAME> [--from STAGE | --before CHAPTER]
       check handover [--crate NAME]
       check next [--crate NAME]
       check --list [--crate NAME]

  STAGE        day1, day2, day3, day4 or final: every check that stage must pass
  CHECK-ID     one check, such as day2-query
  EXERCISE-ID  one exercise, such as day3-head (see --list)
  --crate      check your crate workshop/NAME (made by `check new NAME`);
               progress is remembered for it
  --addr       check a server that is already running at HOST:PORT
  --cmd        start this command with PORT=0 and check it; it must print
               `Listening on http://127.0.0.1:PORT` as its first line
  (none)       a stage or check runs against this repository's own crate
  --hint       show the exercise's next hint, one more each time
  solution     show the exercise's reference solution, as a patch against
               its stage; only once you passed it, unless --anyway
  new          create a starter crate in workshop/NAME; it becomes the
               current crate only if there is none yet
  --from       with new: start from a day's code instead (day1 to day4),
               as the book builds it, to skip ahead
  --before     with new: start where a chapter's first step starts
               (final-connections), to skip ahead
  handover     do the bridge's last step for you (\"The new parts take
               over\"): write the final server's main.rs and server.rs,
               and remove the day 4 files they replace
  --full       show long payloads byte for byte instead of summarised
  next         say what to do next: which chapter to read, and which of
               its steps
  --list       every stage, check and exercise, with ✓ for what your crate passed";

/// What the command line asked for.
#[derive(Default)]
struct Args {
    words: Vec<String>,
    addr: Option<String>,
    cmd: Option<String>,
    krate: Option<String>,
    /// For `new`: start from this stage's code rather than the starter.
    from: Option<String>,
    /// For `new`: start where this chapter's steps start.
    before: Option<String>,
    hint: bool,
    anyway: bool,
    list: bool,
    full: bool,
}

/// The server being checked.
enum Target {
    /// This repository's crate for the stage.
    Reference(Stage),
    /// A learner's crate, `workshop/NAME`; its progress is remembered.
    Crate(String),
    /// A server someone already started, at this address.
    Addr(String),
    /// A command that starts the server, with `PORT=0`.
    Cmd(String),
}

impl Target {
    /// What the command line names; for an exercise, the learner's crate.
    fn choose(args: &Args, stage: Stage, exercise: Option<&Exercise>) -> Result<Target, String> {
        Ok(match (&args.addr, &args.cmd, &args.krate) {
            (Some(addr), _, _) => Target::Addr(addr.clone()),
            (_, Some(cmd), _) => Target::Cmd(cmd.clone()),
            (_, _, Some(name)) => Target::Crate(name.clone()),
            _ => match exercise {
                None => Target::Reference(stage),
                Some(exercise) => match learner_crate(args, &Progress::load()) {
                    Some(name) => Target::Crate(name),
                    None => {
                        return Err(format!(
                            "an exercise is checked against your own server: add --crate NAME (or make one with `check new NAME`); the reference {stage} does not do {}, by design",
                            exercise.id()
                        ));
                    }
                },
            },
        })
    }

    /// Builds what needs building, once, before the checks run.
    fn prepare(&self) -> Result<(), String> {
        match self {
            Target::Crate(name) => {
                if !workshop::crates().contains(name) {
                    return Err(format!(
                        "there is no crate workshop/{name}; make it with `check new {name}`"
                    ));
                }
                // Only the learner's crate is built: seconds, not minutes.
                println!("Building {name}…");
                cargo::build(&[name]).map(drop)
            }
            Target::Reference(stage) => cargo::reference_binary(*stage).map(drop),
            Target::Addr(_) | Target::Cmd(_) => Ok(()),
        }
    }

    /// Starts (or, for `--addr`, finds) a server.
    fn start(&self) -> Result<Server, String> {
        match self {
            Target::Reference(stage) => Server::reference(*stage),
            Target::Crate(name) => {
                let dir = cargo::target_dir()?.join(cargo::profile());
                Server::program(&dir.join(cargo::binary_name(name)))
            }
            Target::Addr(addr) => Server::external(addr),
            Target::Cmd(cmd) => Server::command(cmd),
        }
    }

    /// Whether each check gets a server of its own. A binary starts in
    /// milliseconds, so it does; a command (`cargo run` compiles first) is
    /// started once, and a server someone else started cannot be restarted.
    fn fresh_for_each_check(&self) -> bool {
        matches!(self, Target::Reference(_) | Target::Crate(_))
    }

    /// Whose server this is, for the first line of the report.
    fn whose(&self) -> String {
        match self {
            Target::Reference(stage) => format!("the reference crate {stage}"),
            Target::Crate(name) => format!("your crate {name}"),
            Target::Addr(addr) => format!("your server at {addr}"),
            Target::Cmd(cmd) => format!("your server, started with `{cmd}`"),
        }
    }

    /// The learner's crate, whose progress this run counts for.
    fn crate_name(&self) -> Option<&str> {
        match self {
            Target::Crate(name) => Some(name),
            _ => None,
        }
    }
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn parse(raw: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args::default();
    let mut raw = raw.peekable();
    while let Some(arg) = raw.next() {
        match arg.as_str() {
            "--addr" => args.addr = Some(raw.next().ok_or("--addr needs HOST:PORT")?),
            "--cmd" => args.cmd = Some(raw.next().ok_or("--cmd needs a command")?),
            "--crate" => args.krate = Some(raw.next().ok_or("--crate needs a name")?),
            "--from" => args.from = Some(raw.next().ok_or("--from needs a stage")?),
            "--before" => args.before = Some(raw.next().ok_or("--before needs a chapter")?),
            "--hint" => args.hint = true,
            "--anyway" => args.anyway = true,
            "--list" => args.list = true,
            "--full" => args.full = true,
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            _ => args.words.push(arg),
        }
    }
    let targets = [&args.addr, &args.cmd, &args.krate]
        .iter()
        .filter(|target| target.is_some())
        .count();
    if targets > 1 {
        return Err("give one of --crate, --addr and --cmd".into());
    }
    Ok(args)
}

fn run(args: Args) -> Result<bool, String> {
    if args.list {
        return list(&args).map(|()| true);
    }
    let words: Vec<&str> = args.words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["new", name] => match &args.before {
            Some(chapter) => new_before(name, chapter).map(|()| true),
            None => new(name, args.from.as_deref()).map(|()| true),
        },
        ["handover"] => handover(&args).map(|()| true),
        ["next"] => next(&args).map(|()| true),
        ["solution", id] => solution(id, &args),
        [id] if args.hint => hint(id, &args).map(|()| true),
        [target] => check(target, &args),
        [] => Err("which stage, check or exercise?".into()),
        _ => Err(format!("unexpected arguments: {}", words.join(" "))),
    }
}

/// The learner's crate: `--crate`, else the current one, else the only one.
fn learner_crate(args: &Args, progress: &Progress) -> Option<String> {
    if let Some(name) = &args.krate {
        return Some(name.clone());
    }
    let crates = workshop::crates();
    match &progress.current {
        Some(name) if crates.contains(name) => Some(name.clone()),
        _ if crates.len() == 1 => crates.into_iter().next(),
        _ => None,
    }
}

// ---------------------------------------------------------------------
// check <target>

fn check(target: &str, args: &Args) -> Result<bool, String> {
    // A stage, a check, or an exercise; with the stage whose reference
    // crate runs when no server is named.
    let (stage, checks, exercise): (Stage, Vec<&'static Check>, Option<&'static Exercise>) =
        if let Some(stage) = Stage::from_name(target) {
            (stage, checks::for_stage(stage), None)
        } else if let Some(check) = checks::find(target) {
            (check.from, vec![check], None)
        } else if let Some(exercise) = exercises::find(target) {
            (exercise.stage(), vec![&exercise.check], Some(exercise))
        } else {
            return Err(format!(
                "{target} is not a stage (day1 … day4, final), a check or an exercise (see --list)"
            ));
        };

    let server = Target::choose(args, stage, exercise)?;
    server.prepare()?;
    // Where a `try:` line sends its bytes. The checker's own servers ran
    // on free ports and are gone by the time anyone reads the report, so
    // the lines assume the server the learner runs by hand, on port 5000.
    let (reproduce_at, assumption) = match &server {
        Target::Addr(addr) => (addr.parse().ok(), None),
        Target::Crate(name) => (None, Some(format!("`cargo run -p {name}`"))),
        Target::Reference(stage) => (None, Some(format!("`cargo run -p {stage}`"))),
        Target::Cmd(cmd) => (None, Some(format!("`{cmd}` with PORT=5000"))),
    };
    let reproduce_at = reproduce_at.unwrap_or(report::LEARNER_ADDR);
    println!("Checking {target} against {}\n", server.whose());
    if let Some(assumption) = &assumption {
        println!("(`try:` lines assume {assumption} is running on {reproduce_at}.)\n");
    }

    // On one shared server, the checks that leave it busy go last.
    let mut checks = checks;
    if !server.fresh_for_each_check() {
        checks.sort_by_key(|check| checks::LEAVE_THE_SERVER_BUSY.contains(&check.id));
    }
    let total = checks.len();
    let outcomes = report::run_all(
        &checks,
        &|| server.start(),
        server.fresh_for_each_check(),
        |index, check| report::progress(index, total, check),
    )?;
    let mut progress = Progress::load();
    let name = server.crate_name();
    for outcome in &outcomes {
        print!("{}", report::describe(outcome, reproduce_at, args.full));
        // An exercise's further hints, as far as this learner has asked.
        if let (Err(_), Some(exercise)) = (&outcome.result, exercise) {
            let seen = name.map_or(1, |name| progress.hints_seen(name, exercise.id()));
            for (level, hint) in exercise.hints().iter().enumerate().take(seen).skip(1) {
                println!("    hint {}:   {hint}", level + 1);
            }
            if seen < exercise.hints().len() {
                println!("    more:     check {} --hint", exercise.id());
            }
        }
    }
    println!("\n{}", report::summary(&outcomes));
    let all_passed = outcomes.iter().all(|outcome| outcome.result.is_ok());

    match (&server, name) {
        (_, Some(name)) => {
            for outcome in &outcomes {
                progress.record(name, outcome.check.id, outcome.result.is_ok());
            }
            if Stage::from_name(target).is_some() {
                progress.record(name, target, all_passed);
            }
            progress.current = Some(name.to_string());
            progress.save();
            if all_passed {
                println!("Progress saved. `check next` says what comes next.");
            }
        }
        (Target::Reference(_), _) if exercise.is_none() => {
            println!("(That was this repository's {stage}. To check yours: --crate NAME.)");
        }
        _ => {}
    }
    Ok(all_passed)
}

// ---------------------------------------------------------------------
// check new / next / --list / --hint / solution

fn new(name: &str, from: Option<&str>) -> Result<(), String> {
    let from = match from {
        None => None,
        Some(stage) => Some(
            Stage::ALL
                .into_iter()
                .find(|known| known.name() == stage)
                .ok_or_else(|| format!("--from: no stage {stage}; day1 to day4"))?,
        ),
    };
    let dir = match from {
        None => starter::create_starter(name)?,
        Some(stage) => starter::create_from(name, stage)?,
    };
    println!("Created {}.", dir.display());
    // A new crate becomes the current one only when there is none yet: an
    // instructor making a demo crate must not switch a learner's `next`,
    // `--list` and `--hint` to it behind their back.
    let mut progress = Progress::load();
    match progress.adopt_new_crate(name, &workshop::crates()) {
        Some(current) => println!(
            "{current} stays your current crate (the one `check next`, `--list` and `--hint` talk about); checking with `--crate {name}` makes {name} current."
        ),
        None => println!("{name} is now your current crate."),
    }
    // A crate made from a stage passes it and the ones before: `next`
    // must not send it back to day 1.
    if let Some(stage) = from {
        passes_stages_up_to(&mut progress, name, stage);
    }
    progress.save();
    if let Some(stage) = from {
        let next = Stage::ALL
            .into_iter()
            .skip_while(|known| *known != stage)
            .nth(1)
            .unwrap_or(Stage::Final);
        println!(
            "\nIt is {stage}'s code as the book builds it, so every {stage} check passes.\n\
             Read the next chapter ({}), then:\n\n    \
             cargo run -p tests --bin check -- {next} --crate {name}\n\n\
             Run your server yourself with `cargo run -p {name}`.",
            chapter(next)
        );
        return Ok(());
    }
    println!(
        "\nIt compiles and listens, and answers nothing yet, so every day 1 check fails.\n\
         Read the chapter \"Day 1\" ({}), then:\n\n    \
         cargo run -p tests --bin check -- day1 --crate {name}\n\n\
         Run your server yourself with `cargo run -p {name}`.",
        chapter(Stage::Day1)
    );
    Ok(())
}

/// `check new NAME --before CHAPTER`.
fn new_before(name: &str, chapter: &str) -> Result<(), String> {
    let dir = starter::create_before(name, chapter)?;
    println!("Created {}.", dir.display());
    let mut progress = Progress::load();
    progress.adopt_new_crate(name, &workshop::crates());
    // It passes the stages before, and the checks its chapter's stage
    // passes before that chapter's first step (the proof in
    // tests/tests/steps.rs says which).
    if let Some(first) = steps::STEPS.iter().find(|step| step.chapter == chapter) {
        let earlier = Stage::ALL
            .into_iter()
            .take_while(|s| *s != first.stage)
            .last();
        if let Some(earlier) = earlier {
            passes_stages_up_to(&mut progress, name, earlier);
        }
        let done = steps::of_stage(first.stage)
            .into_iter()
            .take_while(|step| step.position() < first.position())
            .flat_map(|step| step.checks.iter().copied());
        for id in steps::before_the_first_step(first.stage)
            .into_iter()
            .chain(done)
        {
            progress.record(name, id, true);
        }
    }
    progress.save();
    println!(
        "\nIt is the crate that the first step of the book's chapter {chapter} starts from.\n\
         Follow its steps; each ends with the command that checks it. Then:\n\n    \
         cargo run -p tests --bin check -- next --crate {name}"
    );
    Ok(())
}

/// `check handover`: the final server's code as it stands after its
/// handover step, written into the learner's crate (see
/// `starter::hand_over`).
fn handover(args: &Args) -> Result<(), String> {
    let progress = Progress::load();
    let name = learner_crate(args, &progress)
        .ok_or("which crate? give --crate NAME (a folder in workshop/)")?;
    let written = starter::hand_over(&name)?;
    println!("Wrote {} files into workshop/{name}:", written.len());
    for path in &written {
        println!("    {}", path.display());
    }
    println!(
        "\nYour Cargo.toml is as it was: it needs the crates the chapter had you\n\
         add. Then check it:\n\n    \
         cargo run -p tests --bin check -- final --crate {name}"
    );
    Ok(())
}

/// Remembers that `name` passes every stage up to `last`, as a crate
/// made from `last`'s code does.
fn passes_stages_up_to(progress: &mut Progress, name: &str, last: Stage) {
    for stage in Stage::ALL.into_iter().filter(|stage| *stage <= last) {
        progress.record(name, stage.name(), true);
    }
}

/// Where the book's chapter for `stage` is.
fn chapter(stage: Stage) -> String {
    let page = match stage {
        Stage::Final => "final-groundwork",
        stage => stage.name(),
    };
    format!("book/src/{page}.md, or {page}.html in `mdbook serve book`")
}

fn next(args: &Args) -> Result<(), String> {
    let progress = Progress::load();
    let Some(name) = learner_crate(args, &progress) else {
        println!(
            "Start by making your own server:\n\n    cargo run -p tests --bin check -- new my-server\n"
        );
        return Ok(());
    };
    let run = |what: &str| format!("cargo run -p tests --bin check -- {what} --crate {name}");
    for stage in Stage::ALL {
        // A crate that passed a later stage is past this one, even if an
        // old check of this stage (day 1's fixed greeting, day 2's echo)
        // fails on it now and was recorded so.
        let past = Stage::ALL
            .iter()
            .any(|later| *later >= stage && progress.has_passed(&name, later.name()));
        if !past {
            // A chapter cut into steps: point at the step, not the chapter.
            if let Some(step) = steps::next(stage, |id| progress.has_passed(&name, id)) {
                print_next_step(&name, step, &run(stage.name()));
                print_open_exercises(&name, &progress, stage);
                return Ok(());
            }
            let failed: Vec<&str> = checks::for_stage(stage)
                .into_iter()
                .filter(|check| !progress.has_passed(&name, check.id))
                .map(|check| check.id)
                .collect();
            println!("Next for {name}: {stage}.\n");
            for step in steps::unseen_before(stage) {
                println!(
                    "First, if you skipped it: {}'s \"{}\" has no check, because nothing a client sees on Linux shows whether it is there (book/src/{}.md, #{}).\n",
                    step.stage,
                    step.heading(),
                    step.chapter,
                    step.html_id()
                );
            }
            println!("Read:  {}", chapter(stage));
            println!("Check: {}", run(stage.name()));
            if let Some(first) = failed.first() {
                println!(
                    "\n{} of its {} checks not passed yet, starting with {first}.",
                    failed.len(),
                    checks::for_stage(stage).len()
                );
            }
            print_open_exercises(&name, &progress, stage);
            return Ok(());
        }
    }
    println!("{name} passes every stage, final included. Well done.");
    print_open_exercises(&name, &progress, Stage::Final);
    Ok(())
}

/// Where to go for `step`: its number, its title, its heading in the
/// chapter, the checks it turns green, and the command that checks them.
fn print_next_step(name: &str, step: &Step, check: &str) {
    let stage = step.stage;
    let total = steps::of_stage(stage)
        .into_iter()
        .filter(|other| other.chapter == step.chapter)
        .count();
    println!(
        "Next for {name}: {stage}, step {} of {total}: {}.\n",
        step.number, step.title
    );
    let page = step.chapter;
    println!(
        "Read:  \"{}\" in book/src/{page}.md ({page}.html#{} in `mdbook serve book`)",
        step.heading(),
        step.html_id()
    );
    println!("Check: {check}");
    if step.checks.is_empty() {
        // A step of another chapter is named with its chapter: a run of
        // steps no check sees may go on into the next chapter.
        let named = |other: &Step| {
            if other.chapter == step.chapter {
                format!("step {}", other.number)
            } else {
                format!("step {} of {}", other.number, other.chapter)
            }
        };
        let before_later = |later: &Step| {
            steps::of_stage(stage)
                .into_iter()
                .find(|other| other.position() + 1 == later.position())
        };
        match steps::seen_after(step) {
            Some(later) if later.position() > step.position() + 1 => println!(
                "\nNo check can see {} to {}: the chapters say what judges them. If you have done them and `cargo build -p {name}` succeeds, go on to {}, which turns these green: {}.",
                named(step),
                before_later(later).map_or_else(String::new, named),
                named(later),
                later.checks.join(", ")
            ),
            Some(later) => println!(
                "\nNo check can see this step: the chapter says what judges it. The step after it, {}, turns these green: {}.",
                named(later),
                later.checks.join(", ")
            ),
            None => println!("\nNo check can see this step: the chapter says what judges it."),
        }
        return;
    }
    println!("\nIt turns these green: {}.", step.checks.join(", "));
    if !step.turns_red.is_empty() {
        println!(
            "It turns these red, until a later step turns them green again: {}.",
            step.turns_red.join(", ")
        );
    }
}

/// The exercises of the stages passed so far that are still open.
fn print_open_exercises(name: &str, progress: &Progress, before: Stage) {
    let open: Vec<&str> = exercises::all()
        .filter(|exercise| exercise.stage() <= before)
        .filter(|exercise| progress.has_passed(name, exercise.stage().name()))
        .filter(|exercise| !progress.has_passed(name, exercise.id()))
        .map(Exercise::id)
        .collect();
    if !open.is_empty() {
        println!(
            "\nExercises open on the stages you passed (optional): {}",
            open.join(", ")
        );
    }
}

fn list(args: &Args) -> Result<(), String> {
    let progress = Progress::load();
    let name = learner_crate(args, &progress);
    let mark = |id: &str| match &name {
        Some(name) if progress.has_passed(name, id) => "✓",
        Some(_) => "✗",
        None => " ",
    };
    if let Some(name) = &name {
        println!("Progress of {name} (✓ passed, ✗ not yet)\n");
    }
    for stage in Stage::ALL {
        println!("{} {stage}", mark(stage.name()));
        for check in checks::for_stage(stage) {
            let new = if check.from == stage { "new" } else { "   " };
            println!(
                "    {} {new} {:<34} {}",
                mark(check.id),
                check.id,
                check.title
            );
        }
        for exercise in exercises::extending(stage) {
            println!(
                "    {} ex. {:<34} {}",
                mark(exercise.id()),
                exercise.id(),
                exercise.check.title
            );
        }
    }
    Ok(())
}

fn hint(id: &str, args: &Args) -> Result<(), String> {
    let exercise = exercises::find(id).ok_or_else(|| match checks::find(id) {
        Some(check) => format!("{id} is a check, with one hint: {}", check.hint),
        None => format!("there is no exercise {id} (see --list)"),
    })?;
    let mut progress = Progress::load();
    // Hints are remembered per crate; without one, under "-".
    let name = learner_crate(args, &progress).unwrap_or_else(|| "-".into());
    let hints = exercise.hints();
    let seen = (progress.hints_seen(&name, id) + 1).min(hints.len());
    progress.set_hints(&name, id, seen);
    progress.save();
    for (level, hint) in hints.iter().enumerate().take(seen) {
        println!("hint {} of {}: {hint}", level + 1, hints.len());
    }
    if seen == hints.len() {
        println!(
            "\nThat was the last hint. `check solution {id}` shows the solution once you pass."
        );
    }
    Ok(())
}

fn solution(id: &str, args: &Args) -> Result<bool, String> {
    let exercise = exercises::find(id).ok_or_else(|| format!("there is no exercise {id}"))?;
    let progress = Progress::load();
    let passed = match learner_crate(args, &progress) {
        Some(name) => progress.has_passed(&name, id),
        None => false,
    };
    if !passed && !args.anyway {
        println!(
            "You have not passed {id} yet, so the solution stays hidden. Try the hints\n\
             (`check {id} --hint`), or, if you really want to see it now:\n\n    \
             cargo run -p tests --bin check -- solution {id} --anyway"
        );
        return Ok(false);
    }
    let patch = fs::read_to_string(exercise.solution())
        .map_err(|err| format!("cannot read {}: {err}", exercise.solution().display()))?;
    println!(
        "The reference solution of {id}, as a change to this repository's {} crate:\n",
        exercise.stage()
    );
    print!("{patch}");
    Ok(true)
}

//! `check`: runs a stage's checks against a server and says what is missing.
//!
//! ```text
//! cargo run -p tests --bin check -- day2                      # the reference crate day2
//! cargo run -p tests --bin check -- day2 --addr 127.0.0.1:5000  # a server you started
//! cargo run -p tests --bin check -- day2 --cmd "cargo run -p my-server"
//! cargo run -p tests --bin check -- day2-query                # one check
//! cargo run -p tests --bin check -- --list                    # every check
//! ```
//!
//! It exits with 0 when every check passed, 1 when one failed, and 2 when
//! it could not run them at all.

use std::process::ExitCode;

use tests::checks::{self, Check};
use tests::report;
use tests::server::Server;
use tests::stage::Stage;

const USAGE: &str = "\
usage: check <STAGE | CHECK-ID> [--addr HOST:PORT | --cmd \"SHELL COMMAND\"]
       check --list

  STAGE       day1, day2, day3, day4 or final: every check that stage must pass
  CHECK-ID    one check, such as day2-query (see --list)
  --addr      check a server that is already running at HOST:PORT
  --cmd       start this command with PORT=0 and check it; it must print
              `Listening on http://127.0.0.1:PORT` as its first line
  (neither)   check this repository's own crate for that stage
  --list      list every check with the stage that introduces it";

/// What the command line asked for.
struct Args {
    target: String,
    addr: Option<String>,
    cmd: Option<String>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "--list") {
        list();
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let args = match parse(args) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn parse(args: Vec<String>) -> Result<Args, String> {
    let mut target = None;
    let mut addr = None;
    let mut cmd = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => addr = Some(args.next().ok_or("--addr needs HOST:PORT")?),
            "--cmd" => cmd = Some(args.next().ok_or("--cmd needs a command")?),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            _ if target.is_some() => return Err(format!("unexpected argument {arg}")),
            _ => target = Some(arg),
        }
    }
    if addr.is_some() && cmd.is_some() {
        return Err("give --addr or --cmd, not both".into());
    }
    let target = target.ok_or("which stage or check?")?;
    Ok(Args { target, addr, cmd })
}

/// Runs the checks; `Ok(true)` when all passed.
fn run(args: &Args) -> Result<bool, String> {
    let (stage, checks): (Stage, Vec<&'static Check>) = match Stage::from_name(&args.target) {
        Some(stage) => (stage, checks::for_stage(stage)),
        None => match checks::find(&args.target) {
            Some(check) => (check.from, vec![check]),
            None => {
                return Err(format!(
                    "{} is neither a stage (day1 … day4, final) nor a check id (see --list)",
                    args.target
                ));
            }
        },
    };

    let server = match (&args.addr, &args.cmd) {
        (Some(addr), _) => Server::external(addr)?,
        (_, Some(cmd)) => Server::command(cmd)?,
        (None, None) => Server::reference(stage)?,
    };
    let addr = server.addr();
    let whose = match (&args.addr, &args.cmd) {
        (None, None) => format!("the reference crate {stage}"),
        _ => "your server".to_string(),
    };
    println!("Checking {} against {whose} at {addr}\n", args.target);

    let outcomes = report::run_all(&checks, addr);
    for outcome in &outcomes {
        print!("{}", report::describe(outcome, addr));
    }
    println!("\n{}", report::summary(&outcomes));
    Ok(outcomes.iter().all(|outcome| outcome.result.is_ok()))
}

fn list() {
    for stage in Stage::ALL {
        println!("{stage}");
        for check in checks::for_stage(stage) {
            let new = if check.from == stage { "new" } else { "   " };
            println!("  {new} {:<34} {}", check.id, check.title);
        }
    }
}

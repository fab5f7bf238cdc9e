//! The command line: `--port`, `--threads`, `--data`, `--help`.
//!
//! Four flags do not need a parsing crate; `clap` would give colours and
//! completions, at the price of a dependency larger than this server.

use std::path::PathBuf;

// ANCHOR: default_threads
/// The default ceiling on threads. Each waiting connection holds one, so
/// this is also how many connections are served at once; beyond it they
/// queue, and idle connections give way.
pub const DEFAULT_THREADS: usize = 512;
// ANCHOR_END: default_threads

pub const USAGE: &str = "\
usage: final [--port PORT] [--threads N] [--data FILE]

  --port PORT    listen on 127.0.0.1:PORT (default: $PORT, or 5000;
                 0 picks a free port)
  --threads N    serve at most N connections at once (default: 512)
  --data FILE    keep the to-dos in FILE (default: in memory only)
  --help         show this text";

/// What to run.
#[derive(Debug, PartialEq, Eq)]
pub struct Config {
    pub port: u16,
    pub threads: usize,
    pub data: Option<PathBuf>,
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Run(Config),
    Help,
}

// ANCHOR: parse
/// Reads the arguments (without the program name), with `port_env` the
/// value of `PORT`, if set.
pub fn parse(
    args: impl IntoIterator<Item = String>,
    port_env: Option<String>,
) -> Result<Command, String> {
    let mut port = None;
    let mut threads = DEFAULT_THREADS;
    let mut data = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "--help" | "-h" => return Ok(Command::Help),
            "--port" => port = Some(parse_port(&value("--port")?)?),
            "--threads" => {
                let text = value("--threads")?;
                threads = match text.parse::<usize>() {
                    Ok(n) if n > 0 => n,
                    _ => return Err(format!("--threads must be a number above 0, not {text:?}")),
                };
            }
            "--data" => data = Some(PathBuf::from(value("--data")?)),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let port = match (port, port_env) {
        (Some(port), _) => port,
        (None, Some(text)) => parse_port(&text).map_err(|err| format!("PORT: {err}"))?,
        (None, None) => 5000,
    };
    Ok(Command::Run(Config {
        port,
        threads,
        data,
    }))
}
// ANCHOR_END: parse

fn parse_port(text: &str) -> Result<u16, String> {
    text.parse()
        .map_err(|_| format!("the port must be a number from 0 to 65535, not {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn command_line_table() {
        let run = |port, threads, data: Option<&str>| {
            Ok(Command::Run(Config {
                port,
                threads,
                data: data.map(PathBuf::from),
            }))
        };
        let rows = [
            ("", None, run(5000, DEFAULT_THREADS, None)),
            ("", Some("0"), run(0, DEFAULT_THREADS, None)),
            ("--port 8080", Some("0"), run(8080, DEFAULT_THREADS, None)),
            (
                "--threads 8 --data todos.json",
                None,
                run(5000, 8, Some("todos.json")),
            ),
            ("--help", None, Ok(Command::Help)),
            (
                "--threads 0",
                None,
                Err("--threads must be a number above 0, not \"0\"".into()),
            ),
            ("--port", None, Err("--port needs a value".into())),
            (
                "--verbose",
                None,
                Err("unknown argument \"--verbose\"".into()),
            ),
            (
                "",
                Some("http"),
                Err("PORT: the port must be a number from 0 to 65535, not \"http\"".into()),
            ),
        ];
        for (line, port_env, expected) in rows {
            assert_eq!(
                parse(args(line), port_env.map(String::from)),
                expected,
                "{line:?}"
            );
        }
    }
}

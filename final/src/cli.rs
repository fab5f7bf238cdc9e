//! The command line: `--port`, `--threads`, `--connections`, `--loops`,
//! `--data`, `--cors`, `--allow-host`, `--help`.
//!
//! Eight flags do not need a parsing crate; `clap` would give colours and
//! completions, at the price of a dependency larger than this server.

// ANCHOR: config_use
use std::path::PathBuf;
// ANCHOR_END: config_use

// ANCHOR: defaults
/// The default number of worker threads: how many requests that may wait
/// (changes to the to-dos, which wait for the disk, and `/sleep`) are
/// answered at once. As many more may queue; beyond that, 503.
///
/// Connections no longer need a thread each (the event loops serve them
/// all), so this is not a limit on clients. 512 is generous for a disk
/// that syncs in milliseconds, and with 256 KiB stacks (see
/// `thread_pool::WORKER_STACK`) reserves 128 MiB of address space, most
/// of it never touched.
pub const DEFAULT_THREADS: usize = 512;

/// The default number of connections served at once. Each costs a file
/// descriptor and a few kilobytes; past this many, a new client gets 503
/// at once, rather than a server slow for everyone. Most systems limit a
/// process to fewer open files than this (1,024 is a common default, see
/// `ulimit -n`); the server then waits for a connection to close before
/// it accepts the next.
pub const DEFAULT_CONNECTIONS: usize = 10_000;
// ANCHOR_END: defaults

// ANCHOR: usage
pub const USAGE: &str = "\
usage: final [--port PORT] [--threads N] [--connections N] [--loops N]
             [--data FILE] [--cors ORIGIN] [--allow-host NAME]...

  --port PORT        listen on 127.0.0.1:PORT (default: $PORT, or 5000;
                     0 picks a free port)
  --threads N        answer at most N requests that wait (writes, /sleep)
                     at once (default: 512)
  --connections N    serve at most N connections at once; answer 503 to
                     the next (default: 10000)
  --loops N          run N event loops (default: one per processor core)
  --data FILE        keep the to-dos in FILE (default: in memory only)
  --cors ORIGIN      let web pages at ORIGIN (such as http://localhost:8080,
                     or * for any page at all) use the API; by default only
                     pages served by this server can
  --allow-host NAME  also answer requests for host NAME (by default only
                     127.0.0.1 and localhost); may be given more than once
  --help             show this text";
// ANCHOR_END: usage

// ANCHOR: config
/// What to run.
#[derive(Debug, PartialEq, Eq)]
pub struct Config {
    pub port: u16,
    pub threads: usize,
    pub connections: usize,
    /// How many event loops; `None` for one per processor core. Tests set
    /// it, so that what they measure does not depend on the machine.
    pub loops: Option<usize>,
    pub data: Option<PathBuf>,
    /// The origin CORS lets in, or `*`; `None` for no CORS headers.
    pub cors: Option<String>,
    /// Host names to answer besides our address and `localhost`.
    pub allow_hosts: Vec<String>,
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Run(Config),
    Help,
}
// ANCHOR_END: config

// ANCHOR: parse_flags
/// Reads the arguments (without the program name), with `port_env` the
/// value of `PORT`, if set.
pub fn parse(
    args: impl IntoIterator<Item = String>,
    port_env: Option<String>,
) -> Result<Command, String> {
    let mut port = None;
    let mut threads = DEFAULT_THREADS;
    let mut connections = DEFAULT_CONNECTIONS;
    let mut loops = None;
    let mut data = None;
    let mut cors = None;
    let mut allow_hosts = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "--help" | "-h" => return Ok(Command::Help),
            "--port" => port = Some(parse_port(&value("--port")?)?),
            "--threads" => threads = parse_count("--threads", &value("--threads")?)?,
            "--connections" => {
                connections = parse_count("--connections", &value("--connections")?)?;
            }
            "--loops" => loops = Some(parse_count("--loops", &value("--loops")?)?),
            "--data" => data = Some(PathBuf::from(value("--data")?)),
            "--cors" => cors = Some(parse_origin(&value("--cors")?)?),
            "--allow-host" => allow_hosts.push(parse_host_name(&value("--allow-host")?)?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    // ANCHOR_END: parse_flags
    // ANCHOR: port_choice
    // The flag wins over `PORT`, and `PORT` over the default.
    let port = match (port, port_env) {
        (Some(port), _) => port,
        (None, Some(text)) => parse_port(&text).map_err(|err| format!("PORT: {err}"))?,
        (None, None) => 5000,
    };
    Ok(Command::Run(Config {
        port,
        threads,
        connections,
        loops,
        data,
        cors,
        allow_hosts,
    }))
}
// ANCHOR_END: port_choice

// ANCHOR: flag_values
/// A count for `flag`: a whole number above 0.
fn parse_count(flag: &str, text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{flag} must be a number above 0, not {text:?}")),
    }
}

/// `*`, or an origin as browsers send it: scheme, host, maybe a port, and
/// nothing else (no path, no trailing slash), or it would never match.
fn parse_origin(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"));
    match rest {
        _ if text == "*" => Ok(text.to_string()),
        Some(host) if !host.is_empty() && !host.contains('/') => Ok(text.to_string()),
        _ => Err(format!(
            "--cors takes * or an origin such as http://localhost:8080 (no path), not {text:?}"
        )),
    }
}

/// A host name or address without a port: the allow-list compares names
/// only.
fn parse_host_name(text: &str) -> Result<String, String> {
    let bracketed = text.starts_with('[') && text.ends_with(']');
    if text.is_empty() || text.contains('/') || (text.contains(':') && !bracketed) {
        return Err(format!(
            "--allow-host takes a host name without a port, such as todo.test, not {text:?}"
        ));
    }
    Ok(text.to_string())
}

fn parse_port(text: &str) -> Result<u16, String> {
    text.parse()
        .map_err(|_| format!("the port must be a number from 0 to 65535, not {text:?}"))
}
// ANCHOR_END: flag_values

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
                connections: DEFAULT_CONNECTIONS,
                loops: None,
                data: data.map(PathBuf::from),
                cors: None,
                allow_hosts: Vec::new(),
            }))
        };
        let opened = Ok(Command::Run(Config {
            port: 5000,
            threads: DEFAULT_THREADS,
            connections: DEFAULT_CONNECTIONS,
            loops: None,
            data: None,
            cors: Some("*".into()),
            allow_hosts: vec!["todo.test".into(), "[::1]".into()],
        }));
        let rows = [
            ("", None, run(5000, DEFAULT_THREADS, None)),
            ("", Some("0"), run(0, DEFAULT_THREADS, None)),
            ("--port 8080", Some("0"), run(8080, DEFAULT_THREADS, None)),
            (
                "--threads 8 --data todos.json",
                None,
                run(5000, 8, Some("todos.json")),
            ),
            (
                "--connections 3 --loops 2",
                None,
                Ok(Command::Run(Config {
                    port: 5000,
                    threads: DEFAULT_THREADS,
                    connections: 3,
                    loops: Some(2),
                    data: None,
                    cors: None,
                    allow_hosts: Vec::new(),
                })),
            ),
            ("--help", None, Ok(Command::Help)),
            (
                "--cors * --allow-host todo.test --allow-host [::1]",
                None,
                opened,
            ),
            (
                "--cors http://localhost:8080/",
                None,
                Err("--cors takes * or an origin such as http://localhost:8080 (no path), not \"http://localhost:8080/\"".into()),
            ),
            (
                "--allow-host todo.test:5000",
                None,
                Err("--allow-host takes a host name without a port, such as todo.test, not \"todo.test:5000\"".into()),
            ),
            (
                "--threads 0",
                None,
                Err("--threads must be a number above 0, not \"0\"".into()),
            ),
            (
                "--connections none",
                None,
                Err("--connections must be a number above 0, not \"none\"".into()),
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

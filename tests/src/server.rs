//! Starting the server under test and finding its address.
//!
//! Every stage follows one contract: it honours the `PORT` environment
//! variable, `PORT=0` picks a free port, and the first line on stdout is
//! `Listening on http://ADDR`. So the suite can start any stage, or a
//! learner's own server, the same way: run it with `PORT=0`, read the first
//! line, and connect to the address in it. Many servers can then run side by
//! side without fighting over a port.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::stage::Stage;

/// How much of a server's output we keep to show when it fails to start.
const KEPT_OUTPUT: usize = 16 * 1024;

/// A server the checks can talk to.
pub struct Server {
    addr: SocketAddr,
    /// The process we started, if we started one; killed on drop.
    child: Option<Child>,
    /// Whether `child` leads a process group of its own (true for `--cmd`,
    /// whose shell may start the real server as a grandchild).
    kill_group: bool,
    output: Arc<Output>,
}

/// What the server printed, and a way to wait for more of it.
#[derive(Default)]
struct Output {
    text: Mutex<String>,
    grew: Condvar,
}

impl Server {
    /// Starts the reference crate of `stage`, building it first if needed.
    pub fn reference(stage: Stage) -> Result<Server, String> {
        Server::reference_with(stage, &[])
    }

    /// Starts the reference crate of `stage` with command-line `args`.
    pub fn reference_with(stage: Stage, args: &[&str]) -> Result<Server, String> {
        let binary = reference_binary(stage)?;
        let mut command = Command::new(&binary);
        command.args(args);
        Server::spawn(&mut command, false, Duration::from_secs(10))
            .map_err(|err| format!("{}: {err}", binary.display()))
    }

    /// Starts the program at `binary` (a learner's crate, or a solution),
    /// which must already be built.
    pub fn program(binary: &Path) -> Result<Server, String> {
        Server::spawn(&mut Command::new(binary), false, Duration::from_secs(10))
            .map_err(|err| format!("{}: {err}", binary.display()))
    }

    /// Starts `shell_command` through `sh -c`, with `PORT=0`.
    ///
    /// The command may take a while to print its address (`cargo run`
    /// compiles first), so it gets two minutes.
    pub fn command(shell_command: &str) -> Result<Server, String> {
        let mut command = Command::new("sh");
        command.arg("-c").arg(shell_command);
        // A group of its own, so that dropping the server stops the shell
        // and everything it started.
        command.process_group(0);
        Server::spawn(&mut command, true, Duration::from_secs(120))
    }

    /// A server someone else started, at `addr` (such as `127.0.0.1:5000`).
    pub fn external(addr: &str) -> Result<Server, String> {
        let addr = addr
            .to_socket_addrs()
            .map_err(|err| format!("cannot resolve {addr}: {err}"))?
            .next()
            .ok_or_else(|| format!("{addr} resolves to no address"))?;
        TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            .map_err(|err| format!("nothing answers at {addr}: {err}"))?;
        Ok(Server {
            addr,
            child: None,
            kill_group: false,
            output: Arc::default(),
        })
    }

    /// The process id of the server, if we started it.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What the server printed so far (stdout and stderr, most recent last),
    /// when we started it.
    pub fn output(&self) -> String {
        self.output
            .text
            .lock()
            .map(|text| text.clone())
            .unwrap_or_default()
    }

    /// Waits until the server's output contains `needle`, for at most
    /// `timeout`. Returns whether it did.
    pub fn wait_for_output(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let Ok(mut text) = self.output.text.lock() else {
            return false;
        };
        while !text.contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            text = match self.output.grew.wait_timeout(text, left) {
                Ok((text, _)) => text,
                Err(_) => return false,
            };
        }
        true
    }

    /// Sends `signal` (`"TERM"`, `"INT"`, `"KILL"`, …) to the server
    /// process, with the system's `kill` command.
    pub fn signal(&self, signal: &str) -> Result<(), String> {
        let child = self
            .child
            .as_ref()
            .ok_or("this server was not started here")?;
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .map_err(|err| format!("cannot run kill: {err}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("kill -{signal} failed"))
        }
    }

    /// Waits up to `timeout` for the server to exit, and returns how it
    /// exited; `None` if it is still running.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let (done, exited) = mpsc::channel();
        let pid = child.id();
        // `Child::wait` has no timeout, so a thread waits and reports back.
        thread::spawn(move || {
            let _ = done.send(child.wait());
        });
        match exited.recv_timeout(timeout) {
            Ok(Ok(status)) => Some(status),
            _ => {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
                None
            }
        }
    }

    fn spawn(command: &mut Command, kill_group: bool, wait: Duration) -> Result<Server, String> {
        let mut child = command
            .env("PORT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|err| format!("cannot start the server: {err}"))?;

        let output = Arc::new(Output::default());
        let (first_line, listening) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            let output = Arc::clone(&output);
            thread::spawn(move || {
                // The first line carries the address; every line, the first
                // included, is kept for error messages. Reading on until the
                // server exits also keeps its stdout pipe from filling up and
                // blocking it.
                let mut lines = BufReader::new(stdout).lines();
                if let Some(Ok(line)) = lines.next() {
                    keep(&output, &line);
                    let _ = first_line.send(line);
                }
                for line in lines.map_while(Result::ok) {
                    keep(&output, &line);
                }
            });
        }
        if let Some(stderr) = child.stderr.take() {
            let output = Arc::clone(&output);
            thread::spawn(move || {
                // Line by line, so that a line is never kept in two halves;
                // lossily, since a learner's server may print anything.
                let mut stderr = BufReader::new(stderr);
                let mut line = Vec::new();
                while let Ok(1..) = stderr.read_until(b'\n', &mut line) {
                    keep(&output, String::from_utf8_lossy(&line).trim_end());
                    line.clear();
                }
            });
        }

        let mut server = Server {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            child: Some(child),
            kill_group,
            output,
        };
        let line = listening.recv_timeout(wait).map_err(|_| {
            format!(
                "the server printed no first line within {} s. Its output:\n{}",
                wait.as_secs(),
                server.output()
            )
        })?;
        server.addr = parse_listening_line(&line)?;
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let Some(child) = &mut self.child else {
            return;
        };
        if self.kill_group {
            // `kill -KILL -- -PID` signals the whole group that PID leads.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

fn keep(output: &Output, line: &str) {
    if let Ok(mut text) = output.text.lock() {
        text.push_str(line);
        text.push('\n');
        // Trim only when twice over the limit, so that a server logging
        // thousands of lines a second does not cost a big copy per line.
        if text.len() > 2 * KEPT_OUTPUT {
            let mut cut = text.len() - KEPT_OUTPUT;
            while !text.is_char_boundary(cut) {
                cut += 1;
            }
            text.drain(..cut);
        }
    }
    output.grew.notify_all();
}

/// Reads the address out of `Listening on http://127.0.0.1:PORT`.
pub fn parse_listening_line(line: &str) -> Result<SocketAddr, String> {
    let expected = "the first line on stdout must be `Listening on http://127.0.0.1:PORT`";
    let Some(addr) = line.strip_prefix("Listening on http://") else {
        return Err(format!("{expected}, not {line:?}"));
    };
    addr.trim_end_matches('/')
        .parse()
        .map_err(|_| format!("{expected}, not {line:?}"))
}

/// The path of the reference binary of `stage`, built on first use.
///
/// The suite runs the real binaries, the ones `cargo run -p dayN` runs. A
/// test cannot ask Cargo to build another package's binary for it, so the
/// first caller runs `cargo build` for every stage, once per process; when
/// nothing changed, that takes a fraction of a second.
pub fn reference_binary(stage: Stage) -> Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = BUILT.get_or_init(build_all_stages).clone()?;
    Ok(dir.join(stage.name()))
}

fn build_all_stages() -> Result<PathBuf, String> {
    let packages: Vec<&str> = Stage::ALL.iter().map(|stage| stage.name()).collect();
    cargo_build(&packages)
}

/// Runs `cargo build` for `packages` of this workspace, in the profile of
/// the program running now, and returns the folder the binaries went to.
pub fn cargo_build(packages: &[&str]) -> Result<PathBuf, String> {
    let dir = profile_dir()?;
    let mut args = vec!["build", "--quiet"];
    if dir.file_name().is_some_and(|name| name == "release") {
        args.push("--release");
    }
    for package in packages {
        args.extend(["-p", package]);
    }
    cargo(&args, None)?;
    Ok(dir)
}

/// Runs the Cargo that runs us (or `cargo`) with `args`, in `dir` if given;
/// on failure, says what Cargo said.
pub fn cargo(args: &[&str], dir: Option<&Path>) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(args);
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let output = command
        .output()
        .map_err(|err| format!("cannot run cargo: {err}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "cargo {} failed:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// `target/debug` (or `target/release`): where Cargo put the program that is
/// running now, and so where it puts the stage binaries too.
fn profile_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|err| format!("cannot find this program: {err}"))?;
    let mut dir = exe
        .parent()
        .ok_or("this program has no parent directory")?
        .to_path_buf();
    // Test binaries live one level down, in `target/debug/deps`.
    if dir.file_name().is_some_and(|name| name == "deps") {
        dir.pop();
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_line_table() {
        let rows = [
            ("Listening on http://127.0.0.1:5000", Some("127.0.0.1:5000")),
            (
                "Listening on http://127.0.0.1:41234/",
                Some("127.0.0.1:41234"),
            ),
            ("Listening on 127.0.0.1:5000", None),
            ("Server started", None),
            ("Listening on http://localhost:5000", None),
        ];
        for (line, expected) in rows {
            let got = parse_listening_line(line).ok().map(|addr| addr.to_string());
            assert_eq!(got.as_deref(), expected, "line: {line:?}");
        }
    }
}

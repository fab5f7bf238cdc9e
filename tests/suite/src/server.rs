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
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use crate::cargo;
use crate::process;
use crate::stage::Stage;

/// How much of a server's output we keep to show when it fails to start.
const KEPT_OUTPUT: usize = 16 * 1024;

/// A server the checks can talk to.
pub struct Server {
    addr: SocketAddr,
    /// The process we started, if we started one; killed on drop.
    child: Option<Child>,
    /// Whether `child` is a shell that may have started the real server as
    /// a child of its own (`--cmd`), so that stopping it must stop that too.
    kill_tree: bool,
    output: Arc<Output>,
    /// How it was started, when it was started here: what
    /// [`another_with`](Self::another_with) starts again.
    program: Option<Program>,
}

/// What started a server, to start another like it.
enum Program {
    /// A binary, with these arguments.
    Binary(PathBuf, Vec<String>),
    /// A command line for the system's shell (`--cmd`).
    Shell(String),
}

/// What the server printed, and a way to wait for more of it.
#[derive(Default)]
struct Output {
    text: Mutex<String>,
    grew: Condvar,
    /// How many of the pipes (stdout, stderr) are still being read. A
    /// process can exit before its reader threads have taken its last
    /// lines from the pipes; [`Server::wait_for_exit`] waits for them.
    reading: Mutex<usize>,
    all_read: Condvar,
}

impl Output {
    /// A reader thread is done: its pipe reached its end.
    fn pipe_ended(&self) {
        if let Ok(mut reading) = self.reading.lock() {
            *reading = reading.saturating_sub(1);
            self.all_read.notify_all();
        }
    }

    /// Waits, for at most `limit`, until every pipe has been read to its
    /// end. A process that left a child holding the pipes keeps them open
    /// past its own exit; the limit is for that.
    fn wait_until_read(&self, limit: Duration) {
        let Ok(reading) = self.reading.lock() else {
            return;
        };
        let _ = self
            .all_read
            .wait_timeout_while(reading, limit, |left| *left > 0);
    }
}

/// How long [`Server::wait_for_exit`] waits for the last output after the
/// process has exited: the pipes are usually drained within milliseconds.
const READ_REST: Duration = Duration::from_secs(2);

impl Server {
    /// Starts the reference crate of `stage`, building it first if needed.
    pub fn reference(stage: Stage) -> Result<Server, String> {
        Server::reference_with(stage, &[])
    }

    /// Starts the reference crate of `stage` with command-line `args`.
    pub fn reference_with(stage: Stage, args: &[&str]) -> Result<Server, String> {
        Server::program_with(&cargo::reference_binary(stage)?, args)
    }

    /// Starts the devlog fixture as it was on `day` (1 to 4), building it
    /// first if needed.
    pub fn devlog(day: u8) -> Result<Server, String> {
        let binary = cargo::devlog_binary()?;
        let mut command = Command::new(&binary);
        command.args(["--day", &day.to_string()]);
        Server::spawn(&mut command, false, Duration::from_secs(10))
            .map_err(|err| format!("{} --day {day}: {err}", binary.display()))
    }

    /// Starts the program at `binary` (a learner's crate, or a solution),
    /// which must already be built.
    pub fn program(binary: &Path) -> Result<Server, String> {
        Server::program_with(binary, &[])
    }

    /// Starts the program at `binary` with command-line `args`.
    pub fn program_with(binary: &Path, args: &[&str]) -> Result<Server, String> {
        let mut server = Server::spawn(
            Command::new(binary).args(args),
            false,
            Duration::from_secs(10),
        )
        .map_err(|err| format!("{}: {err}", binary.display()))?;
        let args = args.iter().map(|arg| arg.to_string()).collect();
        server.program = Some(Program::Binary(binary.to_path_buf(), args));
        Ok(server)
    }

    /// Starts a second server of the same program as this one, with
    /// `more` added to its arguments: for a check about the process
    /// itself, such as one that kills a server and starts it again on the
    /// same `--data` file. A shell command (`--cmd`) gets them at the end
    /// of its line, each in double quotes, which both `sh` and `cmd` read
    /// as one argument. A server someone else started (`--addr`) cannot be
    /// started again from here, and then this says so.
    pub fn another_with(&self, more: &[&str]) -> Result<Server, String> {
        match &self.program {
            Some(Program::Binary(binary, args)) => {
                let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
                all.extend_from_slice(more);
                Server::program_with(binary, &all)
            }
            Some(Program::Shell(line)) => {
                let quoted: Vec<String> = more.iter().map(|arg| format!("\"{arg}\"")).collect();
                Server::command(&format!("{line} {}", quoted.join(" ")))
            }
            None => Err(
                "this check starts the server itself, so it needs a crate, a binary or a \
                 command to run, not a server started elsewhere (--addr)"
                    .into(),
            ),
        }
    }

    /// [`program_with`](Self::program_with), for a benchmark: what the
    /// server writes to standard error goes nowhere instead of to us.
    ///
    /// A busy server's access log is tens of thousands of lines a second,
    /// and reading them line by line would cost this process a good part
    /// of a core, which on a small machine the server being measured
    /// would lose. The server still pays for writing its log; error
    /// messages are lost, which a benchmark can afford.
    pub fn measured(binary: &Path, args: &[&str]) -> Result<Server, String> {
        Server::spawn_with(
            Command::new(binary).args(args),
            false,
            Duration::from_secs(10),
            Stdio::null(),
        )
        .map_err(|err| format!("{}: {err}", binary.display()))
    }

    /// Starts `shell_command` through the system's shell (`sh -c` on Unix,
    /// `cmd /C` on Windows), with `PORT=0`.
    ///
    /// A shell, because the learner types one command line, quotes and all,
    /// and splitting it ourselves would get quoting wrong. The command may
    /// take a while to print its address (`cargo run` compiles first), so it
    /// gets two minutes.
    pub fn command(shell_command: &str) -> Result<Server, String> {
        let mut command = shell(shell_command);
        let mut server = Server::spawn(&mut command, true, Duration::from_secs(120))?;
        server.program = Some(Program::Shell(shell_command.to_string()));
        Ok(server)
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
            kill_tree: false,
            output: Arc::default(),
            program: None,
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
    /// process, with the system's `kill` command. Unix only: Windows has no
    /// signals to send, and the tests that need one are Unix-only too.
    #[cfg(unix)]
    pub fn signal(&self, signal: &str) -> Result<(), String> {
        let child = self
            .child
            .as_ref()
            .ok_or("this server was not started here")?;
        let finished = process::run(
            Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(child.id().to_string()),
            Duration::from_secs(10),
        )?;
        if finished.status.success() {
            Ok(())
        } else {
            Err(format!("kill -{signal} failed"))
        }
    }

    /// Waits up to `timeout` for the server to exit, and returns how it
    /// exited; `None` if it was still running (it is killed then).
    pub fn wait_for_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let status = process::wait_with_limit(&mut child, timeout);
        if status.is_some() {
            // So that `output` after this holds all the process printed.
            self.output.wait_until_read(READ_REST);
        }
        status
    }

    /// How the server exited, if it has: a server that crashed during a
    /// check must be reported as crashed, not as "connection refused".
    /// Once it has, this waits (briefly) until its pipes are read to the
    /// end, so that [`output`](Self::output) holds its last words: a
    /// crash report without the panic message, because the reader thread
    /// was a moment late, says nothing about why.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        let status = self.child.as_mut()?.try_wait().ok().flatten();
        if status.is_some() {
            self.output.wait_until_read(READ_REST);
        }
        status
    }

    /// [`exited`](Self::exited), waiting up to `limit` for it: a process
    /// that panicked closes its sockets a moment before the system lets
    /// anyone see that it exited.
    pub fn exited_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            let status = self.exited();
            if status.is_some() || self.child.is_none() || Instant::now() >= deadline {
                return status;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn spawn(command: &mut Command, kill_tree: bool, wait: Duration) -> Result<Server, String> {
        Server::spawn_with(command, kill_tree, wait, Stdio::piped())
    }

    /// Starts `command`, its standard error going to `stderr`: read and
    /// kept, or, for [`measured`](Self::measured), nowhere.
    fn spawn_with(
        command: &mut Command,
        kill_tree: bool,
        wait: Duration,
        stderr: Stdio,
    ) -> Result<Server, String> {
        let mut child = command
            .env("PORT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|err| format!("cannot start the server: {err}"))?;

        let output = Arc::new(Output::default());
        if let Ok(mut reading) = output.reading.lock() {
            *reading = usize::from(child.stdout.is_some()) + usize::from(child.stderr.is_some());
        }
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
                output.pipe_ended();
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
                output.pipe_ended();
            });
        }

        let mut server = Server {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            child: Some(child),
            kill_tree,
            output,
            program: None,
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
        if self.kill_tree {
            kill_tree(child.id());
        }
        let _ = child.kill();
        let _ = process::wait_with_limit(child, Duration::from_secs(10));
    }
}

/// The command that runs `line` in the system's shell. On Unix, the shell
/// leads a process group of its own, so that [`kill_tree`] can stop it
/// and everything it started in one go.
#[cfg(unix)]
fn shell(line: &str) -> Command {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new("sh");
    command.arg("-c").arg(line).process_group(0);
    command
}

#[cfg(windows)]
fn shell(line: &str) -> Command {
    let mut command = Command::new("cmd");
    command.arg("/C").arg(line);
    command
}

/// Stops the process `pid` and every process it started.
#[cfg(unix)]
fn kill_tree(pid: u32) {
    // `kill -KILL -- -PID` signals the whole group that PID leads.
    let _ = process::run(
        Command::new("kill").args(["-KILL", "--", &format!("-{pid}")]),
        Duration::from_secs(10),
    );
}

#[cfg(windows)]
fn kill_tree(pid: u32) {
    // `/T` stops the process and its children; `/F` does not ask nicely.
    let _ = process::run(
        Command::new("taskkill").args(["/T", "/F", "/PID", &pid.to_string()]),
        Duration::from_secs(10),
    );
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

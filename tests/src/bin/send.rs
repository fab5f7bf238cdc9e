//! `send`: sends exact bytes to a server and prints what comes back.
//!
//! ```text
//! cargo run -q -p tests --bin send -- 127.0.0.1:5000 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'
//! cargo run -q -p tests --bin send -- 127.0.0.1:5000 'POST /echo HTTP/1.1\r\nContent-Length: 1024\r\n\r\n' 'x' --times 1024
//! ```
//!
//! The `try:` lines of `check` use it to reproduce a failed check by hand.
//! curl cannot send a broken request, and `printf | nc` needs `nc`, which
//! many machines lack, and a POSIX shell, which Windows lacks; this needs
//! nothing but the repository. The bytes are written as `check` prints
//! them: `\r`, `\n`, `\t`, `\\` and `\xNN` escapes, and `--times N`
//! repeats the piece before it.
//!
//! It sends the bytes in one write, then prints every byte the server
//! sends back until it closes the connection, or for at most `--wait`
//! seconds (10 by default).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use suite::report;

const USAGE: &str = "usage: send HOST:PORT BYTES… [--times N] [--wait SECONDS]";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run(mut args: Vec<String>) -> Result<(), String> {
    let mut wait = Duration::from_secs(10);
    if let Some(at) = args.iter().position(|arg| arg == "--wait") {
        let seconds: u64 = args
            .get(at + 1)
            .and_then(|value| value.parse().ok())
            .ok_or("--wait needs a number of seconds")?;
        wait = Duration::from_secs(seconds);
        args.drain(at..at + 2);
    }
    let (addr, pieces) = args.split_first().ok_or("which server?")?;
    let addr: SocketAddr = addr
        .to_socket_addrs()
        .map_err(|err| format!("cannot resolve {addr}: {err}"))?
        .next()
        .ok_or_else(|| format!("{addr} resolves to no address"))?;
    let bytes = report::parse_send_arguments(pieces)?;

    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|err| format!("cannot connect to {addr}: {err}"))?;
    stream
        .write_all(&bytes)
        .map_err(|err| format!("sending failed: {err}"))?;
    eprintln!("sent {} bytes; the answer follows", bytes.len());

    let deadline = Instant::now() + wait;
    let mut out = std::io::stdout();
    let mut chunk = [0u8; 8192];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            eprintln!("\n(no more within {} s; stopped waiting)", wait.as_secs());
            return Ok(());
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(|err| err.to_string())?;
        match stream.read(&mut chunk) {
            Ok(0) => {
                eprintln!("\n(the server closed the connection)");
                return Ok(());
            }
            Ok(n) => {
                let _ = out.write_all(&chunk[..n]);
                let _ = out.flush();
            }
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(err) => {
                eprintln!("\n(reading failed: {err})");
                return Ok(());
            }
        }
    }
}

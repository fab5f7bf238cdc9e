//! Where the final server's connections steps come from: `final/src` itself.
//!
//! The days' steps are made by [`build_along`](crate::build_along) from
//! the days' code and their chapters. The final server's connections
//! chapter, written before that, is still cut this way until the final
//! server's chapters move onto the same mechanism: each step owns some anchors of `final/src` (the
//! pieces the chapter shows in that step), and the learner's crate before
//! step `k` is `final/` without the pieces of steps `k` and later. So the
//! crate after the last step *is* `final/`, and an edit to the final
//! server cannot leave the steps behind without a test saying so
//! (`UPDATE_STEPS=1` then writes the patches again; review them like any
//! other code).
//!
//! Before step 1 the crate has everything the API chapter built (the
//! store, the router, the handlers, the pool), but no `connection.rs`
//! (step 1 writes it), and no `event_loop.rs` or `slots.rs` (step 2), and until step 2
//! its accept loop hangs up on everyone: its `server.rs` is the final
//! server's with [`START_HEAD`] for the lines before `listen`, and
//! [`START_RUN`] for everything from `run` on.

use std::path::{Path, PathBuf};

use suite::anchors;
use suite::cargo;
use suite::stage::Stage;

use crate::steps::LEARNER;

/// A piece of `final/src/<file>` between `// ANCHOR: <anchor>` and its
/// `// ANCHOR_END`, which step `step` adds. Before that step the crate has
/// `before` in its place (a line of its own), or nothing.
struct Piece {
    step: usize,
    file: &'static str,
    anchor: &'static str,
    before: Option<&'static str>,
}

const fn piece(step: usize, file: &'static str, anchor: &'static str) -> Piece {
    Piece {
        step,
        file,
        anchor,
        before: None,
    }
}

const CONNECTION: &str = "connection.rs";
const EVENT_LOOP: &str = "event_loop.rs";
const TODOS: &str = "todos.rs";

/// The pieces of files that are there before the step that shows them:
/// `route_or_500`, in `router.rs`, and steps 3 to 7. Steps 1 and 2 add the
/// two files of their own (see [`WRITTEN`]) as these pieces leave them.
const PIECES: &[Piece] = &[
    piece(1, "router.rs", "route_or_500"),
    piece(2, CONNECTION, "turn_away"),
    Piece {
        step: 3,
        file: CONNECTION,
        anchor: "keep_alive",
        before: Some("let keep_alive = false; // Step 3 keeps connections open."),
    },
    piece(4, CONNECTION, "send_continue"),
    piece(5, CONNECTION, "deadline"),
    piece(5, EVENT_LOOP, "sweep"),
    piece(6, CONNECTION, "phase_handling"),
    piece(6, CONNECTION, "next_handle"),
    piece(6, CONNECTION, "advance_handling"),
    piece(6, CONNECTION, "handle_may_wait"),
    piece(6, EVENT_LOOP, "worker_uses"),
    piece(6, EVENT_LOOP, "message_answer"),
    piece(6, EVENT_LOOP, "answer"),
    piece(6, EVENT_LOOP, "pending"),
    piece(6, EVENT_LOOP, "pending_drop"),
    piece(6, EVENT_LOOP, "receive_answer"),
    piece(6, EVENT_LOOP, "drive_handle"),
    piece(6, EVENT_LOOP, "hand_over"),
    piece(7, CONNECTION, "pieces_uses"),
    piece(7, CONNECTION, "connection_pieces"),
    piece(7, CONNECTION, "new_pieces"),
    piece(7, CONNECTION, "advance_pieces"),
    piece(7, CONNECTION, "next_piece"),
    piece(7, CONNECTION, "answer_pieces"),
    piece(7, CONNECTION, "queue_pieces"),
    piece(7, TODOS, "pieces_uses"),
    piece(7, TODOS, "list_in_pieces"),
    piece(7, TODOS, "list_pieces"),
    piece(7, TODOS, "list_next_piece"),
];

/// The start of `server.rs` before step 2, up to `listen`: what the
/// accept loop that hangs up needs.
pub const START_HEAD: &str = "\
//! The accept loop: for now, it takes each connection and hangs up. The
//! chapter on connections makes it serve them (its step 2).

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::num::NonZeroUsize;
use std::thread;

use crate::router::App;
use crate::shutdown::Shutdown;

";

/// `server::run` before step 2.
pub const START_RUN: &str = "\
/// Takes connections until `shutdown` is requested, and hangs up on each:
/// the API is ready, and nothing reads a request yet.
pub fn run(listener: TcpListener, app: App, limits: Limits, shutdown: Shutdown) {
    let _ = (app, limits);
    for stream in listener.incoming() {
        if shutdown.requested() {
            break;
        }
        drop(stream);
    }
}
";

/// The files that steps 1 and 2 write from nothing, each with its step.
const WRITTEN: &[(&str, usize)] = &[("connection.rs", 1), ("event_loop.rs", 2), ("slots.rs", 2)];

/// The step that makes the accept loop serve.
const SERVING: usize = 2;

/// This folder: the steps' patches.
pub fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("steps/final")
}

/// The learner's crate after `done` steps, cut from `final/` (see the
/// module's introduction).
pub fn cut(done: usize) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    let mut files = cargo::stage_files(Stage::Final, LEARNER)?;
    for (file, step) in WRITTEN {
        if done >= *step {
            continue;
        }
        let path = Path::new("src").join(file);
        files.retain(|(p, _)| *p != path);
        let module = format!("pub mod {};\n", file.trim_end_matches(".rs"));
        edit(&mut files, "src/lib.rs", |text| {
            Ok(text.replace(&module, ""))
        })?;
    }
    if done < SERVING {
        edit(&mut files, "src/server.rs", hanging_up)?;
    }
    for piece in PIECES.iter().filter(|piece| piece.step > done) {
        let path = format!("src/{}", piece.file);
        if files.iter().any(|(p, _)| *p == Path::new(&path)) {
            edit(&mut files, &path, |text| without_anchor(text, piece))?;
        }
    }
    Ok(files)
}

/// Replaces the text of the file at `path` with what `change` makes of it.
fn edit(
    files: &mut [(PathBuf, Vec<u8>)],
    path: &str,
    change: impl FnOnce(&str) -> Result<String, String>,
) -> Result<(), String> {
    let (_, bytes) = files
        .iter_mut()
        .find(|(p, _)| *p == Path::new(path))
        .ok_or_else(|| format!("final has no {path}"))?;
    let text = String::from_utf8_lossy(bytes).into_owned();
    *bytes = change(&text)
        .map_err(|err| format!("{path}: {err}"))?
        .into_bytes();
    Ok(())
}

/// The final server's `server.rs` (`text`), with an accept loop that
/// hangs up on everyone: [`START_HEAD`], the final server's from `listen`
/// up to `run`, and [`START_RUN`].
fn hanging_up(text: &str) -> Result<String, String> {
    let found = anchors::anchors(text).map_err(|err| format!("final/src/server.rs: {err}"))?;
    let line_of = |name: &str| {
        found
            .iter()
            .find(|anchor| anchor.name == name)
            .map(|anchor| anchor.start)
            .ok_or_else(|| format!("final/src/server.rs has no anchor {name}"))
    };
    let (listen, run) = (line_of("listen")?, line_of("run")?);
    let between: String = text
        .lines()
        .skip(listen)
        .take(run - listen)
        .map(|line| format!("{line}\n"))
        .collect();
    Ok(format!("{START_HEAD}{between}{START_RUN}"))
}

/// `text` without the lines of `piece`'s anchor, markers included, and with
/// `piece.before` in their place.
fn without_anchor(text: &str, piece: &Piece) -> Result<String, String> {
    let lines: Vec<&str> = text.lines().collect();
    let found = anchors::anchors(text)?;
    let Some(anchor) = found.iter().find(|anchor| anchor.name == piece.anchor) else {
        return Err(format!("no anchor {}", piece.anchor));
    };
    let (start, end) = (anchor.start, anchor.end);
    let mut kept: Vec<String> = lines[..start].iter().map(|l| l.to_string()).collect();
    if let Some(line) = piece.before {
        let indent = &lines[start][..lines[start].len() - lines[start].trim_start().len()];
        kept.push(format!("{indent}{line}"));
    }
    let mut rest = &lines[end + 1..];
    // A piece between two blank lines leaves one, not two.
    if kept.last().is_some_and(|l| l.is_empty()) && rest.first().is_some_and(|l| l.is_empty()) {
        rest = &rest[1..];
    }
    kept.extend(rest.iter().map(|l| l.to_string()));
    Ok(format!("{}\n", kept.join("\n")))
}

/// The patch of step `number`: from the crate after the step before to the
/// crate after this one.
pub fn patch_text(number: usize) -> Result<String, String> {
    cargo::diff_files(&cut(number - 1)?, &cut(number)?)
}

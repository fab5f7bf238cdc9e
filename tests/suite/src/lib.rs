//! The client suite: the checks every stage of the server must pass, and
//! the pieces that run them against this repository's stages or anyone's
//! own server.
//!
//! The `tests/` folder has three rooms, each a crate, with dependencies
//! that only go one way:
//!
//! - `suite` (this crate): the checks and what runs them. It depends on
//!   nothing else here.
//! - `workshop`: the exercises, learners' progress, the starter crate and
//!   the reference solutions. It uses the suite.
//! - `benchmark`: wrk against every stage, a probe for unserved
//!   connections, and the charts. It uses the suite, never the workshop.
//!
//! The package `tests` ties them together: the `check` and `bench`
//! commands, and the integration tests in `tests/tests/`.
//!
//! Inside this crate, from the bottom up:
//!
//! - [`stage`]: the stages, in order.
//! - [`anchors`]: the marks in the stages' sources that the book includes
//!   code by, read the one way mdBook reads them.
//! - [`process`]: running programs and joining threads, always with a
//!   bound on the wait.
//! - [`cargo`]: building the stages and other crates, and finding where
//!   Cargo put them, wherever the target folder is.
//! - [`server`]: starting a server under test (a stage's binary, a shell
//!   command, or an address) and reading its `Listening on` line.
//! - [`wire`]: a raw HTTP client that sends exact bytes and reads exact
//!   bytes back.
//! - [`checks`]: every check, tagged with the stage that introduces it.
//! - [`steps`]: a chapter's build-along steps, each with the checks it
//!   turns green; `check next` and the book both read it.
//! - [`client`]: helpers for checks that hold a conversation (create a
//!   to-do, then fetch it), shared with the workshop's exercises.
//! - [`receive_queue`]: whether the server has read a piece yet, so that
//!   a request sent in pieces really reaches it in pieces.
//! - [`notation`]: bytes written down so that people can read them and
//!   the `send` command can turn them back into the same bytes.
//! - [`report`]: running checks and printing ✓/✗ with what went wrong, and
//!   a command that reproduces it.
//! - [`devlog`]: the devlog's bugs, each with the checks that fail on the
//!   devlog fixture (`tests/devlog`) and pass on the stage that fixes it.

pub mod anchors;
pub mod cargo;
pub mod checks;
pub mod client;
pub mod devlog;
pub mod notation;
pub mod process;
pub mod receive_queue;
pub mod report;
pub mod server;
pub mod stage;
pub mod steps;
pub mod wire;

//! The client suite: checks every stage of the server, and a learner's own.
//!
//! - [`stage`]: the stages, in order.
//! - [`server`]: starting a server under test (a stage's binary, any shell
//!   command, or an address) and reading its `Listening on` line.
//! - [`wire`]: a raw HTTP client that sends exact bytes and reads exact
//!   bytes back, and turns requests into `curl` commands.
//! - [`checks`]: every check, tagged with the stage that introduces it.
//! - [`exercises`]: the workshop's exercises, each extending one stage.
//! - [`report`]: running checks and printing ✓/✗ with what went wrong.
//! - [`workshop`]: learners' crates, their progress, and the solutions.
//! - [`bench`]: the benchmark (`src/bin/bench.rs`): wrk against every
//!   stage, our own probe for unserved connections, and the charts.
//!
//! `src/bin/check.rs` is the command learners run. The tests in `tests/`
//! use the same pieces: `gate.rs` proves each stage is a real step, and
//! `matrix.rs` records every stage's answers to one table of requests.

pub mod bench;
pub mod checks;
pub mod exercises;
pub mod report;
pub mod server;
pub mod stage;
pub mod wire;
pub mod workshop;

//! The workshop: exercises beyond the devlog, learners' own crates, their
//! progress, and the reference solutions.
//!
//! This crate builds on the `suite` crate (checks, servers, the raw
//! client) and nothing builds on it but the `check` command and the tests:
//! the suite never needs to know that a workshop exists, and neither does
//! the benchmark.
//!
//! - [`exercises`]: the exercises, each a check with layered hints,
//!   extending one stage.
//! - [`starter`]: the crate `check new NAME` makes in `workshop/NAME`.
//! - [`progress`]: what `check` remembers between runs
//!   (`workshop/.progress`).
//! - [`solutions`]: the reference solutions, patches in
//!   `tests/workshop/solutions/`, applied to a copy of their stage and
//!   built.
//! - [`counterexamples`]: designs the book turns down, as patches, each
//!   with the check that catches it; built with the solutions.
//! - [`build_along`]: the learner's crate after any build-along step,
//!   made from a stage's code and the includes of its chapter's steps.
//! - [`steps`]: the learner's code after each build-along step of every
//!   chapter that has them.
//!
//! A learner's crate lives in `workshop/<name>/`: a member of the
//! repository's workspace (so rust-analyzer and `cargo run -p <name>`
//! work), but not a default member (so `cargo test` at the root leaves it
//! alone), and ignored by git (so it stays out of the project's CI).

pub mod build_along;
pub mod counterexamples;
pub mod exercises;
pub mod progress;
pub mod solutions;
pub mod starter;
pub mod steps;

use std::fs;
use std::path::PathBuf;

/// `workshop/`, where learners' crates live.
pub fn workshop_dir() -> PathBuf {
    suite::cargo::root().join("workshop")
}

/// The learners' crates in `workshop/`, by name.
pub fn crates() -> Vec<String> {
    let Ok(entries) = fs::read_dir(workshop_dir()) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().join("Cargo.toml").is_file())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

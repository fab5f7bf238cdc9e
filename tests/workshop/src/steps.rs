//! The code of the build-along steps: what a learner's crate holds after
//! each step of a chapter (the table of steps is [`suite::steps`]), made
//! by [`build_along`] from each stage's own code and its chapter.
//!
//! The learner's crate is called [`LEARNER`] (`use
//! stepper::request::Request;`). To build every step side by side, each
//! gets a package name of its own, and a library named after it. With one
//! library name for all, Cargo's copies of the libraries in the target
//! folder share one file name (what Cargo calls an output filename
//! collision), and twice a step's binary was linked against another
//! step's library.

use std::path::PathBuf;

use suite::cargo::{self, ScratchCrate};
use suite::stage::Stage;
use suite::steps;

use crate::build_along;

/// The name of the learner's crate in the steps' patches.
pub const LEARNER: &str = "stepper";

/// The learner's files after the first `done` steps of `stage` (0: before
/// the first step).
pub fn files_after(stage: Stage, done: usize) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    build_along::files_after(stage, done)
}

/// The package name of the learner's crate after `done` steps of `stage`,
/// as [`build_steps`] builds it: `day2-step-3`.
pub fn crate_name(stage: Stage, done: usize) -> String {
    format!("{stage}-step-{done}")
}

/// Builds the learner's crate after each step of `stage`, from 0 (before
/// the first) to the last, in one scratch workspace, so that Cargo builds
/// them side by side; returns the folder the binaries are in.
pub fn build_steps(stage: Stage) -> Result<PathBuf, String> {
    let mut crates = Vec::new();
    for done in 0..=steps::of_stage(stage).len() {
        let name = crate_name(stage, done);
        // The library's default name: the package's, in Rust's spelling.
        let library = name.replace('-', "_");
        let mut files = files_after(stage, done)?;
        for (path, bytes) in &mut files {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let text = if path.as_os_str() == "Cargo.toml" {
                // The package, and the final server's binary, which it
                // names itself.
                text.replace(
                    &format!("name = \"{LEARNER}\""),
                    &format!("name = \"{name}\""),
                )
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                text.replace(&format!("{LEARNER}::"), &format!("{library}::"))
            } else {
                continue;
            };
            *bytes = text.into_bytes();
        }
        crates.push(ScratchCrate { name, files });
    }
    cargo::build_scratch(&format!("{stage}-steps"), &crates)
}

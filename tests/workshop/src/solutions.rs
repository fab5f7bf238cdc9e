//! The reference solutions: one patch per exercise, in
//! `tests/workshop/solutions/<id>.patch`, against its stage's crate.
//!
//! A patch, rather than a full copy of the crate, because it shows a
//! learner exactly what the exercise adds, and because it cannot drift
//! from the stage: when the stage changes and the patch no longer applies,
//! `tests/tests/workshop.rs` fails and says so.

use std::path::PathBuf;

use suite::cargo::{self, ScratchCrate};

use crate::counterexamples::COUNTEREXAMPLES;
use crate::exercises::Exercise;
use crate::starter;

/// The name the starter crate gets next to the solutions.
pub const STARTER_PROOF: &str = "starter";

/// Builds the solutions of `exercises`, each as a crate named after the
/// exercise, a starter crate called [`STARTER_PROOF`], and every
/// counterexample, named after itself; returns the folder the binaries
/// are in.
///
/// They share one scratch workspace and one target folder, so `serde` is
/// built once and an unchanged solution is not rebuilt.
pub fn build_solutions(exercises: &[&Exercise]) -> Result<PathBuf, String> {
    let mut crates = vec![ScratchCrate {
        name: STARTER_PROOF.to_string(),
        files: starter::starter_files(STARTER_PROOF),
    }];
    for exercise in exercises {
        crates.push(cargo::patched_stage(
            exercise.stage(),
            &exercise.solution(),
            exercise.id(),
        )?);
    }
    for counterexample in COUNTEREXAMPLES {
        crates.push(cargo::patched_stage(
            counterexample.stage,
            &counterexample.patch(),
            counterexample.name,
        )?);
    }
    cargo::build_scratch("exercise-solutions", &crates)
}

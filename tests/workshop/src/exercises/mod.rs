//! The workshop's exercises: small extensions beyond the devlog, each with
//! a check, layered hints and a reference solution.
//!
//! An exercise extends one stage: its check fails on that stage as it is,
//! and passes once the stage has the feature. `tests/tests/workshop.rs`
//! proves both, for every exercise, by applying the solution patch in
//! `tests/workshop/solutions/<id>.patch` to a copy of the stage.
//!
//! Exercises are not part of any stage, so the stage gate never runs them:
//! the stages stay exactly what their chapters describe.

mod day1;
mod day2;
mod day3;
mod day4;
mod r#final;

use std::path::PathBuf;

use suite::checks::Check;
use suite::stage::Stage;

// ANCHOR: exercise
/// One exercise.
pub struct Exercise {
    /// What the exercise asks, as a check. Its `id` is the exercise's stable
    /// id, `from` the stage it extends, and `hint` the first hint.
    pub check: Check,
    /// Further hints, each more direct than the last, revealed one at a time
    /// by `check <id> --hint`.
    pub more_hints: &'static [&'static str],
}
// ANCHOR_END: exercise

impl Exercise {
    pub fn id(&self) -> &'static str {
        self.check.id
    }

    /// The stage this exercise extends.
    pub fn stage(&self) -> Stage {
        self.check.from
    }

    /// Every hint, first to last.
    pub fn hints(&self) -> Vec<&'static str> {
        std::iter::once(self.check.hint)
            .chain(self.more_hints.iter().copied())
            .collect()
    }

    /// The reference solution: a patch against the stage's crate.
    pub fn solution(&self) -> PathBuf {
        solutions_dir().join(format!("{}.patch", self.id()))
    }
}

/// Every exercise, in the order of the book.
pub fn all() -> impl Iterator<Item = &'static Exercise> {
    day1::EXERCISES
        .iter()
        .chain(day2::EXERCISES)
        .chain(day3::EXERCISES)
        .chain(day4::EXERCISES)
        .chain(r#final::EXERCISES)
}

/// The exercise called `id`.
pub fn find(id: &str) -> Option<&'static Exercise> {
    all().find(|exercise| exercise.id() == id)
}

/// The exercises that extend `stage`.
pub fn extending(stage: Stage) -> Vec<&'static Exercise> {
    all().filter(|exercise| exercise.stage() == stage).collect()
}

/// `tests/workshop/solutions`, where the solution patches live.
pub fn solutions_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("solutions")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_never_clash_with_checks() {
        let mut seen = HashSet::new();
        for exercise in all() {
            assert!(seen.insert(exercise.id()), "{} twice", exercise.id());
            assert!(
                suite::checks::find(exercise.id()).is_none(),
                "{} is also a check",
                exercise.id()
            );
            assert!(
                exercise.id().starts_with(exercise.stage().name()),
                "{} should start with its stage's name",
                exercise.id()
            );
        }
    }

    #[test]
    fn three_or_more_per_stage_each_with_two_or_more_hints() {
        for stage in Stage::ALL {
            assert!(extending(stage).len() >= 3, "{stage} has too few exercises");
        }
        for exercise in all() {
            assert!(exercise.hints().len() >= 2, "{}", exercise.id());
        }
    }
}

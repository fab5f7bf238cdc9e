//! Designs the book turns down, each with the check that catches it.
//!
//! When the book says "do it this other way, and check X fails", that is a
//! claim, and a claim needs a test. Each counterexample is the real stage
//! with the rejected design put in, as a patch in
//! `tests/workshop/counterexamples/<name>.patch`; `tests/tests/workshop.rs`
//! builds it with the reference solutions (so dependencies are built
//! once) and runs the check, which must fail.

use std::path::PathBuf;

use suite::stage::Stage;

/// A rejected design, and the check that must catch it.
pub struct Counterexample {
    /// The patch's name, and the built crate's.
    pub name: &'static str,
    pub stage: Stage,
    /// The check the book says it fails.
    pub check: &'static str,
}

pub static COUNTEREXAMPLES: &[Counterexample] = &[Counterexample {
    // final-connections.md, "Handlers that wait": answer every request on
    // the event loop, and a sleeping handler holds up the loop's other
    // connections.
    name: "handlers-on-the-event-loop",
    stage: Stage::Final,
    check: "final-sleepers-do-not-block",
}];

impl Counterexample {
    /// The patch that turns the stage into this design.
    pub fn patch(&self) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("counterexamples")
            .join(format!("{}.patch", self.name))
    }
}

//! The stages of the story, in order.

use std::fmt;

/// One stage: a crate in this workspace, and a chapter of the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    Day1,
    Day2,
    Day3,
    Day4,
    /// The complete to-do server.
    Final,
}

impl Stage {
    /// Every stage, oldest first.
    pub const ALL: [Stage; 5] = [
        Stage::Day1,
        Stage::Day2,
        Stage::Day3,
        Stage::Day4,
        Stage::Final,
    ];

    /// The crate name, which is also how the stage is named on the command
    /// line and in snapshot file names.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Day1 => "day1",
            Stage::Day2 => "day2",
            Stage::Day3 => "day3",
            Stage::Day4 => "day4",
            Stage::Final => "final",
        }
    }

    /// The stage just before this one, if any.
    pub fn previous(self) -> Option<Stage> {
        let index = Stage::ALL.iter().position(|stage| *stage == self)?;
        index.checked_sub(1).map(|i| Stage::ALL[i])
    }

    /// The stage called `name`, such as `"day3"`.
    pub fn from_name(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|stage| stage.name() == name)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

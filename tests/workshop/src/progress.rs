//! What `check` remembers between runs: a small text file,
//! `workshop/.progress`, keyed by crate and by the stable ids of stages,
//! checks and exercises. Renumbering or reordering them never loses
//! anyone's progress.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

use crate::workshop_dir;

/// What `check` remembers between runs.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// The crate `check next` and `check --list` talk about when no
    /// `--crate` is given: the last one created or checked.
    pub current: Option<String>,
    /// `(crate, id)`: stages, checks and exercises that crate has passed.
    pub passed: BTreeSet<(String, String)>,
    /// `(crate, exercise id, hints seen)`: how many hints were revealed.
    pub hints: Vec<(String, String, usize)>,
}

impl Progress {
    fn path() -> PathBuf {
        workshop_dir().join(".progress")
    }

    /// The saved progress, or none yet.
    pub fn load() -> Progress {
        fs::read_to_string(Progress::path())
            .map(|text| Progress::parse(&text))
            .unwrap_or_default()
    }

    /// Writes the progress back. A failure costs only the memory of it, so
    /// it is reported and otherwise ignored.
    pub fn save(&self) {
        let path = Progress::path();
        let written =
            fs::create_dir_all(workshop_dir()).and_then(|()| fs::write(&path, self.to_text()));
        if let Err(err) = written {
            eprintln!("note: could not save progress to {}: {err}", path.display());
        }
    }

    /// One fact per line: `current NAME`, `passed NAME ID`,
    /// `hints NAME ID COUNT`. Unknown lines are skipped, so an old or
    /// hand-edited file never stops the checker.
    pub fn parse(text: &str) -> Progress {
        let mut progress = Progress::default();
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["current", name] => progress.current = Some(name.to_string()),
                ["passed", name, id] => {
                    progress.passed.insert((name.to_string(), id.to_string()));
                }
                ["hints", name, id, count] => {
                    if let Ok(count) = count.parse() {
                        progress.set_hints(name, id, count);
                    }
                }
                _ => {}
            }
        }
        progress
    }

    pub fn to_text(&self) -> String {
        let mut text = String::from(
            "# What `check` remembers of your progress. Safe to delete; git ignores it.\n",
        );
        if let Some(name) = &self.current {
            let _ = writeln!(text, "current {name}");
        }
        for (name, id) in &self.passed {
            let _ = writeln!(text, "passed {name} {id}");
        }
        for (name, id, count) in &self.hints {
            let _ = writeln!(text, "hints {name} {id} {count}");
        }
        text
    }

    /// After `check new NAME`: `name` becomes the current crate only if no
    /// other crate among `crates` is current. Returns the one that stays
    /// current otherwise.
    pub fn adopt_new_crate(&mut self, name: &str, crates: &[String]) -> Option<String> {
        match &self.current {
            Some(current) if current != name && crates.contains(current) => Some(current.clone()),
            _ => {
                self.current = Some(name.to_string());
                None
            }
        }
    }

    pub fn has_passed(&self, name: &str, id: &str) -> bool {
        self.passed.contains(&(name.to_string(), id.to_string()))
    }

    /// Remembers whether `name` passed `id` (a pass can be lost again: a
    /// later change may break an earlier check).
    pub fn record(&mut self, name: &str, id: &str, passed: bool) {
        let key = (name.to_string(), id.to_string());
        if passed {
            self.passed.insert(key);
        } else {
            self.passed.remove(&key);
        }
    }

    /// How many hints `name` has seen for `id`: at least the first one,
    /// which every failure shows.
    pub fn hints_seen(&self, name: &str, id: &str) -> usize {
        self.hints
            .iter()
            .find(|(n, i, _)| n == name && i == id)
            .map_or(1, |(_, _, count)| *count)
    }

    pub fn set_hints(&mut self, name: &str, id: &str, count: usize) {
        self.hints.retain(|(n, i, _)| !(n == name && i == id));
        self.hints.push((name.to_string(), id.to_string(), count));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_crate_does_not_take_over_from_the_current_one() {
        let crates = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let mut progress = Progress::default();
        assert_eq!(progress.adopt_new_crate("ada", &crates(&["ada"])), None);
        assert_eq!(progress.current.as_deref(), Some("ada"));
        let kept = progress.adopt_new_crate("carol", &crates(&["ada", "carol"]));
        assert_eq!(kept.as_deref(), Some("ada"));
        assert_eq!(
            progress.current.as_deref(),
            Some("ada"),
            "check next still talks about ada"
        );
        // A current crate that was deleted does not hold on.
        assert_eq!(
            progress.adopt_new_crate("dan", &crates(&["carol", "dan"])),
            None
        );
        assert_eq!(progress.current.as_deref(), Some("dan"));
    }

    #[test]
    fn progress_survives_a_round_trip_and_ignores_junk() {
        let mut progress = Progress {
            current: Some("ada".into()),
            ..Progress::default()
        };
        progress.record("ada", "day1", true);
        progress.record("ada", "day2-query", true);
        progress.set_hints("ada", "day3-head", 2);
        let text = format!("{}some line from the future\n", progress.to_text());
        assert_eq!(Progress::parse(&text), progress);
        assert!(progress.has_passed("ada", "day1"));
        assert_eq!(progress.hints_seen("ada", "day3-head"), 2);
        assert_eq!(progress.hints_seen("ada", "day1-not-found"), 1);
    }
}

//! The learner's crate after any build-along step, made from the stages'
//! own sources and the book, as Crafting Interpreters makes each chapter's
//! version of its interpreters.
//!
//! Nothing here is written by hand for one step. A stage's chapter shows
//! its code in steps (`## Step 3: Read the body`), each step's code blocks
//! include anchors of the stage (`{{#include ../../day2/src/request.rs:read_body}}`),
//! and so the chapter already says which step shows which lines. The
//! learner's crate after step k is the crate they had before the stage
//! (the stage before it, as they typed it), changed to the stage's code
//! in every place whose new lines a step up to k shows:
//!
//! 1. Each file of the stage is compared line by line with the learner's
//!    file before the stage (a longest common subsequence), which leaves
//!    runs of lines taken out and lines put in: *hunks*.
//! 2. Each line put in belongs to the step whose include shows it (the
//!    innermost anchor a step includes). A blank line belongs with the
//!    next line that has a step.
//! 3. A hunk is done by the first step that shows one of its lines: from
//!    then on, its old lines are gone and its new lines appear as the
//!    steps that show them come.
//!
//! A new line that no step shows is an error, so every line the learner
//! needs is in the book. The stage's module introduction (the `//!` lines
//! at the top of a file) and its unit tests are the two things the book
//! leaves out on purpose, and so does the learner's crate, unless a step
//! includes the whole file.

use std::fs;
use std::path::PathBuf;

use suite::anchors::{self, Anchor};
use suite::cargo;
use suite::stage::Stage;
use suite::steps;

use crate::starter;
use crate::steps::LEARNER;

/// A piece of a stage's source that a step shows: a whole file (no
/// anchor), or one anchor of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub step: usize,
    /// The file inside the stage's crate: `src/request.rs`.
    pub file: String,
    pub anchor: Option<String>,
}

/// The chapter of `stage`, as text.
fn chapter(stage: Stage) -> Result<String, String> {
    let path = cargo::root()
        .join("book/src")
        .join(format!("{}.md", steps::chapter_with_steps(stage)));
    fs::read_to_string(&path).map_err(|err| format!("{}: {err}", path.display()))
}

/// What each step of `stage` shows of the stage's code, in the order of
/// the chapter: every include of `../../<stage>/` between the step's
/// heading and the next `## ` heading.
pub fn shown_by_steps(stage: Stage) -> Result<Vec<Shown>, String> {
    let text = chapter(stage)?;
    let prefix = format!("{{{{#include ../../{}/", stage.name());
    let mut shown = Vec::new();
    for step in steps::of_stage(stage) {
        let heading = format!("\n## {}\n", step.heading());
        let start = text
            .find(&heading)
            .ok_or_else(|| format!("the chapter has no heading {heading:?}"))?
            + heading.len();
        let end = text[start..]
            .find("\n## ")
            .map_or(text.len(), |at| start + at);
        for line in text[start..end].lines() {
            let Some(argument) = line
                .trim()
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix("}}"))
            else {
                continue;
            };
            let (file, anchor) = match argument.split_once(':') {
                Some((file, anchor)) => (file, Some(anchor.to_string())),
                None => (argument, None),
            };
            shown.push(Shown {
                step: step.number,
                file: file.to_string(),
                anchor,
            });
        }
    }
    Ok(shown)
}

/// The learner's files before the first step of `stage`.
fn before(stage: Stage) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    let previous = Stage::ALL
        .iter()
        .take_while(|earlier| **earlier != stage)
        .last();
    match previous {
        None => Ok(starter::starter_files(LEARNER)),
        Some(&previous) if previous != Stage::Final => {
            files_after(previous, steps::of_stage(previous).len())
        }
        Some(_) => Err(format!("{stage} has no build-along steps made this way")),
    }
}

/// The stage's source files, by path inside its crate (`src/lib.rs`).
fn stage_sources(stage: Stage) -> Result<Vec<(String, String)>, String> {
    let dir = cargo::root().join(stage.name()).join("src");
    let mut files = Vec::new();
    let entries = fs::read_dir(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|err| err.to_string())?.path();
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .ok_or_else(|| format!("{}: not a plain name", path.display()))?;
        let text = fs::read_to_string(&path).map_err(|err| format!("{}: {err}", path.display()))?;
        files.push((format!("src/{name}"), text));
    }
    files.sort();
    Ok(files)
}

/// A line of a stage's file, with the step that shows it, if any.
#[derive(Debug, Clone)]
struct Line {
    text: String,
    step: Option<usize>,
}

/// The lines of a stage's `file` that the learner types, each with the
/// step that shows it: without the anchor markers, and without the module
/// introduction and the unit tests unless a step shows them.
fn lines_with_steps(file: &str, text: &str, shown: &[Shown]) -> Result<Vec<Line>, String> {
    let all = anchors::anchors(text).map_err(|err| format!("{file}: {err}"))?;
    let count = text.lines().count();
    let mut ranges = Vec::new();
    for piece in shown.iter().filter(|piece| piece.file == file) {
        let (from, to) = match &piece.anchor {
            None => (0, count),
            Some(name) => {
                let Anchor { start, end, .. } = all
                    .iter()
                    .find(|anchor| &anchor.name == name)
                    .ok_or_else(|| format!("{file} has no anchor {name}"))?;
                (start + 1, *end)
            }
        };
        ranges.push((from, to, piece.step));
    }
    // The innermost shown anchor wins: the widest go first, and the
    // anchors inside them overwrite their lines.
    ranges.sort_by_key(|(from, to, _)| std::cmp::Reverse(to - from));
    let mut step_of: Vec<Option<usize>> = vec![None; count];
    for (from, to, step) in ranges {
        for line in &mut step_of[from..to] {
            *line = Some(step);
        }
    }
    let introduction = text
        .lines()
        .take_while(|line| line.starts_with("//!") || line.trim().is_empty())
        .count();
    let tests = text
        .lines()
        .position(|line| line == "#[cfg(test)]")
        .unwrap_or(count);
    let mut lines: Vec<Line> = text
        .lines()
        .zip(step_of)
        .enumerate()
        .filter(|(number, (line, step))| {
            let left_out = *number < introduction || *number >= tests;
            !anchors::is_marker(line) && (step.is_some() || !left_out)
        })
        .map(|(_, (line, step))| Line {
            text: line.to_string(),
            step,
        })
        .collect();
    // A blank line goes with the next line that has a step (or, at the
    // end, the last one).
    let mut next = None;
    for line in lines.iter_mut().rev() {
        if line.step.is_some() {
            next = line.step;
        } else if line.text.trim().is_empty() {
            line.step = next;
        }
    }
    let mut last = None;
    for line in &mut lines {
        if line.step.is_some() {
            last = line.step;
        } else if line.text.trim().is_empty() {
            line.step = last;
        }
    }
    // The learner's own copy is only a blank line shorter at the end.
    while lines.last().is_some_and(|line| line.text.trim().is_empty()) {
        lines.pop();
    }
    Ok(lines)
}

/// One piece of the comparison of the old file with the new.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Edit {
    Keep(usize, usize),
    Remove(usize),
    Add(usize),
}

/// The edits that turn `old` into `new` with as many lines kept as
/// possible (a longest common subsequence: the files are a few hundred
/// lines, so the table is small).
fn edits(old: &[&str], new_lines: &[Line]) -> Vec<Edit> {
    let new: Vec<&str> = new_lines.iter().map(|line| line.text.as_str()).collect();
    let (n, m) = (old.len(), new.len());
    // longest[i][j]: the longest common subsequence of old[i..], new[j..].
    let mut longest = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            longest[i][j] = if old[i] == new[j] {
                longest[i + 1][j + 1] + 1
            } else {
                longest[i + 1][j].max(longest[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        if i < n && j < m && old[i] == new[j] {
            out.push(Edit::Keep(i, j));
            i += 1;
            j += 1;
        } else if j < m && (i == n || longest[i][j + 1] >= longest[i + 1][j]) {
            out.push(Edit::Add(j));
            j += 1;
        } else {
            out.push(Edit::Remove(i));
            i += 1;
        }
    }
    loosen(out, new_lines)
}

/// Whether a line says nothing on its own (blank, a brace, an empty
/// comment), so that matching it across two different pieces of code
/// would stitch them together.
fn is_trivial(line: &str) -> bool {
    !line.chars().any(char::is_alphanumeric)
}

/// `edits` with every run of kept lines that are all trivial, and that
/// has changes on both sides, taken out and put back in instead. The
/// longest common subsequence happily keeps a `}` or a `///` that two
/// unrelated functions share, which would cut a rewrite in two.
///
/// Only a line some step shows is let go this way: the step then puts it
/// back. (A trivial line no step shows must be the stage's and the
/// learner's both, and kept.)
fn loosen(edits: Vec<Edit>, new: &[Line]) -> Vec<Edit> {
    let kept_trivial = |edit: &Edit| matches!(edit, Edit::Keep(_, j) if is_trivial(&new[*j].text) && new[*j].step.is_some());
    let mut out = Vec::with_capacity(edits.len());
    let mut at = 0;
    while at < edits.len() {
        if !kept_trivial(&edits[at]) {
            out.push(edits[at].clone());
            at += 1;
            continue;
        }
        let end = (at..edits.len())
            .find(|&k| !kept_trivial(&edits[k]))
            .unwrap_or(edits.len());
        let changed = |edit: Option<&Edit>| edit.is_some_and(|e| !matches!(e, Edit::Keep(..)));
        if changed(at.checked_sub(1).and_then(|k| edits.get(k))) && changed(edits.get(end)) {
            let run = &edits[at..end];
            out.extend(run.iter().filter_map(|e| match e {
                Edit::Keep(i, _) => Some(Edit::Remove(*i)),
                _ => None,
            }));
            out.extend(run.iter().filter_map(|e| match e {
                Edit::Keep(_, j) => Some(Edit::Add(*j)),
                _ => None,
            }));
        } else {
            out.extend(edits[at..end].iter().cloned());
        }
        at = end;
    }
    out
}

/// The learner's `file` after `done` steps: `old` (before the stage)
/// changed into `new` as far as the steps up to `done` go. The learner's
/// own introduction at the top of `old` (its `//!` lines) stays theirs,
/// unless a step shows the stage's whole file, introduction and all: the
/// learner replaces the file then, and the stage's introduction replaces
/// theirs.
fn file_after(file: &str, old: &str, new: &[Line], done: usize) -> Result<String, String> {
    let introduction = old
        .lines()
        .take_while(|line| line.starts_with("//!") || line.trim().is_empty())
        .count();
    let replaced = new
        .first()
        .filter(|line| line.text.starts_with("//!"))
        .and_then(|line| line.step)
        .is_some_and(|step| step <= done);
    let mut out: String = old
        .lines()
        .take(if replaced { 0 } else { introduction })
        .map(|line| format!("{line}\n"))
        .collect();
    let old: Vec<&str> = old.lines().skip(introduction).collect();
    // Unit tests a step showed on an earlier day are the learner's too:
    // they stay at the end of the file, unless a step of this stage shows
    // the stage's own.
    let tests_shown = new.iter().any(|line| line.text == "#[cfg(test)]");
    let own_tests = old
        .iter()
        .position(|line| *line == "#[cfg(test)]")
        .filter(|_| !tests_shown)
        .unwrap_or(old.len());
    let (mut old, kept_tests) = old.split_at(own_tests);
    if !kept_tests.is_empty() {
        while let Some((last, rest)) = old.split_last()
            && last.trim().is_empty()
        {
            old = rest;
        }
    }
    let new_text: Vec<&str> = new.iter().map(|line| line.text.as_str()).collect();
    let mut hunk = Hunk::default();
    // The step of the last shared line that is not blank: a blank line
    // goes with the code after it, so it says nothing about the code
    // around a hunk.
    let mut before = None;
    for edit in edits(old, new) {
        match edit {
            Edit::Keep(_, j) if new_text[j].trim().is_empty() => {
                hunk.write(file, done, &mut out)?;
                hunk = Hunk {
                    before,
                    ..Hunk::default()
                };
                out.push_str(new_text[j]);
                out.push('\n');
            }
            Edit::Keep(_, j) => {
                hunk.after = new[j].step;
                hunk.write(file, done, &mut out)?;
                before = new[j].step;
                hunk = Hunk {
                    before,
                    ..Hunk::default()
                };
                out.push_str(new_text[j]);
                out.push('\n');
            }
            Edit::Remove(i) => hunk.taken_out.push(old[i]),
            Edit::Add(j) => hunk.put_in.push(&new[j]),
        }
    }
    hunk.after = None;
    hunk.write(file, done, &mut out)?;
    if !kept_tests.is_empty() {
        out.push('\n');
        for line in kept_tests {
            out.push_str(line);
            out.push('\n');
        }
    }
    // A piece a later step adds, between two blank lines, leaves one.
    Ok(anchors::one_blank_at_most(out.lines()))
}

/// A run of old lines taken out and new lines put in, between two lines
/// the old file and the new share.
#[derive(Default)]
struct Hunk<'a> {
    taken_out: Vec<&'a str>,
    put_in: Vec<&'a Line>,
    /// The step that shows the shared line before the hunk, and after it.
    before: Option<usize>,
    after: Option<usize>,
}

impl Hunk<'_> {
    /// Writes the hunk to `out` as it stands after `done` steps. Its new
    /// lines come with the steps that show them. Its old lines go with the
    /// first step that shows a line of it, or of the code around it: code
    /// that a step rewrites is usually shown whole, and old code next to
    /// code a later step adds is gone with the step that rewrote the
    /// code before it.
    fn write(&self, file: &str, done: usize, out: &mut String) -> Result<(), String> {
        if self.taken_out.is_empty() && self.put_in.is_empty() {
            return Ok(());
        }
        if let Some(line) = self.put_in.iter().find(|line| line.step.is_none()) {
            return Err(format!(
                "{file}: {:?} is new in this stage, and no step shows it",
                line.text
            ));
        }
        let steps = self.put_in.iter().map(|line| line.step);
        let first = steps.chain([self.before, self.after]).flatten().min();
        let Some(first) = first else {
            return Err(format!(
                "{file}: no step shows what replaces {:?}",
                self.taken_out.join("\n")
            ));
        };
        if done < first {
            for line in &self.taken_out {
                out.push_str(line);
                out.push('\n');
            }
        }
        for line in &self.put_in {
            if line.step.is_some_and(|step| step <= done) {
                out.push_str(&line.text);
                out.push('\n');
            }
        }
        Ok(())
    }
}

/// The learner's files after the first `done` steps of `stage` (0: before
/// the first step), by path inside the crate.
pub fn files_after(stage: Stage, done: usize) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    let mut files = before(stage)?;
    let shown = shown_by_steps(stage)?;
    // The stage calls itself by its name (`use day2::request::Request;`);
    // the learner's crate has its own.
    let own_name = format!("{}::", stage.name());
    let learner = format!("{LEARNER}::");
    for (file, text) in stage_sources(stage)? {
        let text = text.replace(&own_name, &learner);
        let new = lines_with_steps(&file, &text, &shown)?;
        let path = PathBuf::from(&file);
        let old = files
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
            .unwrap_or_default();
        let text = file_after(&file, &old, &new, done)?;
        files.retain(|(p, _)| *p != path);
        if !text.is_empty() {
            files.push((path, text.into_bytes()));
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(rows: &[(&str, Option<usize>)]) -> Vec<Line> {
        rows.iter()
            .map(|(text, step)| Line {
                text: text.to_string(),
                step: *step,
            })
            .collect()
    }

    #[test]
    fn a_hunk_is_done_by_the_first_step_that_shows_a_line_of_it() {
        let old = "fn main() {\n    old();\n}\n";
        let new = lines(&[
            ("fn main() {", None),
            ("    first();", Some(1)),
            ("    second();", Some(2)),
            ("}", None),
            ("fn later() {}", Some(3)),
        ]);
        let rows = [
            (0, "fn main() {\n    old();\n}\n"),
            (1, "fn main() {\n    first();\n}\n"),
            (2, "fn main() {\n    first();\n    second();\n}\n"),
            (
                3,
                "fn main() {\n    first();\n    second();\n}\nfn later() {}\n",
            ),
        ];
        for (done, expected) in rows {
            assert_eq!(
                file_after("main.rs", old, &new, done).as_deref(),
                Ok(expected),
                "after step {done}"
            );
        }
    }

    #[test]
    fn old_code_next_to_what_a_later_step_adds_goes_with_the_step_before() {
        // Step 1 rewrites `a`; the old `B` has no successor, and step 2
        // adds `c` where it was. The `///` both share must not tie `B` to
        // step 2.
        let old = "fn a() { old(); }\n/// B.\n///\n/// More.\nconst B: u8 = 1;\n";
        let new = lines(&[
            ("fn a() { new(); }", Some(1)),
            ("/// C.", Some(2)),
            ("///", Some(2)),
            ("fn c() {}", Some(2)),
        ]);
        assert_eq!(
            file_after("main.rs", old, &new, 1).as_deref(),
            Ok("fn a() { new(); }\n")
        );
    }

    #[test]
    fn a_whole_file_shown_brings_its_introduction_instead_of_the_learners() {
        let old = "//! Mine.\n\npub mod a;\n";
        let new = lines(&[
            ("//! The stage's.", Some(2)),
            ("", Some(2)),
            ("pub mod a;", Some(2)),
            ("pub mod b;", Some(2)),
        ]);
        assert_eq!(
            file_after("lib.rs", old, &new, 1).as_deref(),
            Ok("//! Mine.\n\npub mod a;\n")
        );
        assert_eq!(
            file_after("lib.rs", old, &new, 2).as_deref(),
            Ok("//! The stage's.\n\npub mod a;\npub mod b;\n")
        );
    }

    #[test]
    fn unit_tests_an_earlier_stage_showed_stay_the_learners() {
        let old = "fn a() {}\n\n#[cfg(test)]\nmod tests {}\n";
        let new = lines(&[("fn a() {}", None), ("fn b() {}", Some(1))]);
        assert_eq!(
            file_after("lib.rs", old, &new, 1).as_deref(),
            Ok("fn a() {}\nfn b() {}\n\n#[cfg(test)]\nmod tests {}\n")
        );
    }

    #[test]
    fn a_new_line_no_step_shows_is_an_error() {
        let new = lines(&[("fn main() {}", None)]);
        let err = file_after("main.rs", "", &new, 1).expect_err("nobody shows it");
        assert!(err.contains("no step shows it"), "{err}");
    }

    #[test]
    fn edits_keep_the_longest_common_lines() {
        let old = ["a", "b", "c"];
        let new = lines(&[("a", None), ("x", Some(1)), ("c", None)]);
        assert_eq!(
            edits(&old, &new),
            [
                Edit::Keep(0, 0),
                Edit::Add(1),
                Edit::Remove(1),
                Edit::Keep(2, 2)
            ]
        );
    }
}

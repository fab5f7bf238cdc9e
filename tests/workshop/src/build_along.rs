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
//!    next line that has a step; the first and last lines of a block
//!    (`impl EventLoop {`, `}`) that no step shows belong with the first
//!    step that shows a line inside it.
//! 3. A hunk is done by the first step that shows one of its lines: from
//!    then on, its old lines are gone and its new lines appear as the
//!    steps that show them come.
//!
//! A new line that no step shows is an error, so every line the learner
//! needs is in the book. The stage's module introduction (the `//!` lines
//! at the top of a file) and its unit tests are the two things the book
//! leaves out on purpose, and so does the learner's crate, unless a step
//! includes the whole file.
//!
//! Code that a later step replaces stays in the stage's source as a
//! stand-in comment above the anchor that replaces it
//! ([`anchors::StandIn`]): its lines are the learner's from the step that
//! shows them until the step that shows the anchor.
//!
//! The final server grows from the learner's day 4 the same way, with
//! one difference: day 4's code stays whole until the step where the new
//! parts take over ([`steps::HANDOVER`]), and goes then, since day 4's
//! `main.rs` serves with it until that step. A line of `final/src` that
//! no step shows is not an error but *given*, and arrives at that step
//! too ([`coverage`] counts these lines; there are none).

use std::fs;
use std::path::PathBuf;

use suite::anchors::{self, Anchor};
use suite::cargo;
use suite::stage::Stage;
use suite::steps::{self, Step};

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

/// What each step of `stage` shows of the stage's code, in the order of
/// the chapters: every include of `../../<stage>/` between the step's
/// heading and the next `## ` heading, except in a block fenced as
/// `rust,ignore,given`, which shows code the learner already has.
pub fn shown_by_steps(stage: Stage) -> Result<Vec<Shown>, String> {
    let prefix = format!("{{{{#include ../../{}/", stage.name());
    let mut shown = Vec::new();
    for chapter in steps::chapters_with_steps(stage) {
        let path = cargo::root().join("book/src").join(format!("{chapter}.md"));
        let text = fs::read_to_string(&path).map_err(|err| format!("{}: {err}", path.display()))?;
        for step in steps::of_stage(stage)
            .into_iter()
            .filter(|step| step.chapter == chapter)
        {
            shown.extend(shown_by_step(step, &text, &prefix)?);
        }
    }
    Ok(shown)
}

/// What `step` shows of its stage's code, in `text`, its chapter.
fn shown_by_step(step: &Step, text: &str, prefix: &str) -> Result<Vec<Shown>, String> {
    let heading = format!("\n## {}\n", step.heading());
    let start = text
        .find(&heading)
        .ok_or_else(|| format!("{}.md has no heading {heading:?}", step.chapter))?
        + heading.len();
    let end = text[start..]
        .find("\n## ")
        .map_or(text.len(), |at| start + at);
    let mut shown = Vec::new();
    let mut given = false;
    for line in text[start..end].lines() {
        // A block fenced as `rust,ignore,given` shows code the learner
        // already has, for reference: it adds nothing.
        if let Some(fence) = line.trim().strip_prefix("```") {
            given = fence.split(',').any(|word| word.trim() == "given");
            continue;
        }
        if given {
            continue;
        }
        let Some(argument) = line
            .trim()
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix("}}"))
        else {
            continue;
        };
        let (file, anchor) = match argument.split_once(':') {
            Some((file, anchor)) => (file, Some(anchor.to_string())),
            None => (argument, None),
        };
        shown.push(Shown {
            step: step.position(),
            file: file.to_string(),
            anchor,
        });
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
            let mut files = files_after(previous, steps::of_stage(previous).len())?;
            if stage == Stage::Final {
                given_to_the_final_server(&mut files)?;
            }
            Ok(files)
        }
        Some(_) => Err(format!("{stage} has no build-along steps made this way")),
    }
}

/// What the final server's chapters give the learner rather than show
/// as code: the crates the API chapter has them add with `cargo add`
/// (the learner's manifest gets `final/Cargo.toml`'s dependencies), and
/// the page's files in `static/`, which the browser chapter hands over
/// whole.
fn given_to_the_final_server(files: &mut Vec<(PathBuf, Vec<u8>)>) -> Result<(), String> {
    let dir = cargo::root().join("final");
    let manifest = fs::read_to_string(dir.join("Cargo.toml"))
        .map_err(|err| format!("final/Cargo.toml: {err}"))?;
    let dependencies: String = manifest
        .split_once("[dependencies]\n")
        .map(|(_, rest)| rest)
        .unwrap_or_default()
        .lines()
        .take_while(|line| !line.starts_with('['))
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| format!("{line}\n"))
        .collect();
    let (_, learner) = files
        .iter_mut()
        .find(|(path, _)| path.as_os_str() == "Cargo.toml")
        .ok_or("the learner's crate has no Cargo.toml")?;
    let mut text = String::from_utf8_lossy(learner).into_owned();
    text.push_str(&dependencies);
    *learner = text.into_bytes();
    let static_dir = dir.join("static");
    let entries =
        fs::read_dir(&static_dir).map_err(|err| format!("{}: {err}", static_dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|err| err.to_string())?.path();
        let bytes = fs::read(&path).map_err(|err| format!("{}: {err}", path.display()))?;
        let name = path.file_name().ok_or("a file in static/ has no name")?;
        files.push((PathBuf::from("static").join(name), bytes));
    }
    Ok(())
}

/// The stage's source files, by path inside its crate (`src/lib.rs`,
/// `src/store/log.rs`), without the files of modules only tests compile
/// (`#[cfg(test)]` on the line above their `mod`): those are unit tests,
/// which the book leaves out.
fn stage_sources(stage: Stage) -> Result<Vec<(String, String)>, String> {
    let root = cargo::root().join(stage.name());
    let mut files = Vec::new();
    let mut folders = vec![root.join("src")];
    while let Some(dir) = folders.pop() {
        let entries = fs::read_dir(&dir).map_err(|err| format!("{}: {err}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|err| err.to_string())?.path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let name = path
                .strip_prefix(&root)
                .ok()
                .and_then(|name| name.to_str())
                .ok_or_else(|| format!("{}: not a plain name", path.display()))?;
            let text =
                fs::read_to_string(&path).map_err(|err| format!("{}: {err}", path.display()))?;
            let text = anchors::with_borrowed_code(&text, |from| {
                fs::read_to_string(cargo::root().join(from)).map_err(|err| format!("{from}: {err}"))
            })
            .map_err(|err| format!("{}: {err}", path.display()))?;
            files.push((name.replace('\\', "/"), text));
        }
    }
    let tests_only: Vec<String> = files
        .iter()
        .flat_map(|(file, text)| {
            let lines: Vec<&str> = text.lines().collect();
            test_modules(file, &lines)
                .into_iter()
                .filter_map(|at| module_file(file, lines[at + 1]))
                .collect::<Vec<_>>()
        })
        .collect();
    files.retain(|(file, _)| !tests_only.contains(file));
    files.sort();
    Ok(files)
}

/// The file of the module that `line` of `file` declares (`pub mod log;`
/// in `src/store.rs` is `src/store/log.rs`), if the line declares one.
fn module_file(file: &str, line: &str) -> Option<String> {
    let line = line.trim();
    let name = line
        .strip_prefix("pub mod ")
        .or_else(|| line.strip_prefix("mod "))?
        .strip_suffix(';')?;
    let folder = match file {
        "src/lib.rs" | "src/main.rs" => "src",
        other => other.strip_suffix(".rs")?,
    };
    Some(format!("{folder}/{name}.rs"))
}

/// Where `lines` (of `file`) declare a module that only tests compile: the
/// line of each `#[cfg(test)]` followed by a `mod name;`.
fn test_modules(file: &str, lines: &[&str]) -> Vec<usize> {
    (0..lines.len().saturating_sub(1))
        .filter(|&at| {
            lines[at].trim() == "#[cfg(test)]" && module_file(file, lines[at + 1]).is_some()
        })
        .collect()
}

/// The step "until" which a stand-in lasts when [`coverage`] counts lines
/// and no step replaces it: day 4's code, which the handover takes away.
const NEVER: usize = usize::MAX;

/// What becomes of a line of a stage that no step shows.
enum Unshown<'a> {
    /// It is an error: every line a day adds is in the book.
    Error,
    /// It has no step, and is counted as given ([`coverage`]); a stand-in
    /// for an anchor no step shows is no error, as for `Given`.
    Counted,
    /// The learner is given it at step `at` (the final server's
    /// [`steps::HANDOVER`], while its code is not all in steps), except a
    /// `mod` line, which comes with the first step that shows a line of
    /// its module's file (each file's first step, `at` for a file with
    /// given lines).
    Given {
        first_steps: &'a [(String, Option<usize>)],
        at: usize,
    },
}

impl Unshown<'_> {
    /// The step at which the learner has `line` of `file`, which no step
    /// shows.
    fn step(&self, file: &str, line: &str) -> Option<usize> {
        let Unshown::Given { first_steps, at } = self else {
            return None;
        };
        match module_file(file, line) {
            Some(module) => first_steps
                .iter()
                .find(|(other, _)| *other == module)
                .map_or(Some(*at), |(_, first)| *first),
            None => Some(*at),
        }
    }

    /// The step at which the learner has code no step shows, if ever.
    fn at_start(&self) -> Option<usize> {
        match self {
            Unshown::Error | Unshown::Counted => None,
            Unshown::Given { at, .. } => Some(*at),
        }
    }
}

/// A line of a stage's file, with the step that shows it, if any.
#[derive(Debug, Clone)]
struct Line {
    text: String,
    step: Option<usize>,
    /// For a stand-in's line: the step that replaces it (see
    /// [`anchors::StandIn`]). The line is in the crate from `step` until
    /// just before this one.
    until: Option<usize>,
    /// Whether it is an earlier stage's code, borrowed by a stand-in: the
    /// learner typed it then.
    borrowed: bool,
}

impl Line {
    fn there_after(&self, done: usize) -> bool {
        self.step.is_some_and(|step| step <= done) && self.until.is_none_or(|until| done < until)
    }
}

/// The lines of a stage's `file` that the learner types, each with the
/// step that shows it: without the anchor markers, and without the module
/// introduction and the unit tests unless a step shows them. A line no
/// step shows has no step, unless `unshown` gives it one.
fn lines_with_steps(
    file: &str,
    text: &str,
    shown: &[Shown],
    unshown: &Unshown,
) -> Result<Vec<Line>, String> {
    let all = anchors::anchors(text).map_err(|err| format!("{file}: {err}"))?;
    let stand_ins = anchors::stand_ins(text).map_err(|err| format!("{file}: {err}"))?;
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
    // (An anchor may hold the introduction, for a chapter to show it.)
    let introduction = text
        .lines()
        .take_while(|line| {
            line.starts_with("//!") || line.trim().is_empty() || anchors::is_marker(line)
        })
        .count();
    // The unit tests: the module at the end of the file that
    // `#[cfg(test)]` opens, and any module of test helpers declared
    // with it above (`#[cfg(test)] mod faulty_disk;`).
    let raw: Vec<&str> = text.lines().collect();
    let tests = (0..count)
        .find(|&k| {
            raw[k] == "#[cfg(test)]"
                && raw
                    .get(k + 1)
                    .is_some_and(|next| next.trim() == "mod tests {")
        })
        .unwrap_or(count);
    let test_helpers: Vec<usize> = test_modules(file, &raw[..tests])
        .into_iter()
        .flat_map(|at| [at, at + 1])
        .collect();
    // (Not in the unit tests, which the learner's crate leaves out.)
    braces_go_with_their_block(&raw[..tests], &mut step_of[..tests], unshown.at_start());
    // A stand-in's lines last until the step that shows its anchor.
    let mut until_of: Vec<Option<usize>> = vec![None; count];
    let mut borrowed = vec![false; count];
    let mut edges = Vec::new();
    for stand_in in &stand_ins {
        // An anchor no step shows is given, where the stage gives code:
        // its stand-in (day 4's code, kept until then) lasts until the
        // handover.
        let replaced = shown
            .iter()
            .find(|piece| piece.file == file && piece.anchor.as_ref() == Some(&stand_in.name))
            .map(|piece| piece.step)
            .or_else(|| match unshown {
                Unshown::Counted => Some(NEVER),
                _ => unshown.at_start(),
            })
            .ok_or_else(|| {
                format!(
                    "{file}: a stand-in for {}, which no step shows",
                    stand_in.name
                )
            })?;
        for line in &mut until_of[stand_in.start..=stand_in.end] {
            *line = Some(replaced);
        }
        for line in &mut borrowed[stand_in.start..=stand_in.end] {
            *line |= stand_in.borrowed;
        }
        edges.extend([stand_in.start, stand_in.end]);
    }
    let mut lines: Vec<Line> = text
        .lines()
        .zip(step_of.into_iter().zip(until_of.into_iter().zip(borrowed)))
        .enumerate()
        .filter(|(number, (line, (step, _)))| {
            let left_out = *number < introduction || *number >= tests;
            !anchors::is_marker(line)
                && !edges.contains(number)
                && !test_helpers.contains(number)
                && (step.is_some() || !left_out)
        })
        .map(|(_, (line, (step, (until, borrowed))))| Line {
            text: line.to_string(),
            step: step.or_else(|| {
                (!line.trim().is_empty())
                    .then(|| unshown.step(file, line))
                    .flatten()
            }),
            until,
            borrowed,
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

/// Gives a block's opening and closing lines that no step shows (`impl
/// EventLoop {` and its `}`, around methods that several steps show) to
/// the first step that shows a line inside the block, and a closing line
/// alone to the step of the line that opened it: a chapter says "open an
/// `impl` block" in its prose rather than show a line with nothing in it.
fn braces_go_with_their_block(lines: &[&str], step_of: &mut [Option<usize>], given: Option<usize>) {
    let indent = |line: &str| line.len() - line.trim_start().len();
    let closer = |open: usize| {
        (open + 1..lines.len()).find(|&k| {
            indent(lines[k]) == indent(lines[open]) && lines[k].trim_start().starts_with('}')
        })
    };
    for open in 0..lines.len() {
        if !lines[open].trim_end().ends_with('{') || anchors::is_marker(lines[open]) {
            continue;
        }
        let Some(close) = closer(open) else {
            continue;
        };
        // What no step shows inside is given, where the stage gives it;
        // a stand-in's comment lines are neither (its code has the step
        // of the anchor it holds, or is given).
        let inside = (open + 1..close)
            .filter_map(|k| {
                let code = !lines[k].trim().is_empty()
                    && !anchors::is_marker(lines[k])
                    && !anchors::is_stand_in_edge(lines[k]);
                step_of[k].or(given.filter(|_| code))
            })
            .min();
        let first = step_of[open].or(inside);
        if step_of[open].is_none() {
            step_of[open] = inside;
        }
        if step_of[close].is_none() {
            step_of[close] = first;
        }
    }
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
///
/// With a handover at `given_at` (the final server), a line a step shows
/// is new code the learner types at that step, and never stands for a
/// line of the learner's day 4: kept as one, it would be there before its
/// step, or cut day 4's code in two where a look-alike sits in another
/// function. Only a line handed over can, and only from the handover on
/// (`done`): before it, day 4's code stays whole, and the lines the steps
/// before the handover show go after it, as new items. A `mod` line is no
/// code to type (it comes with its module's file), and day 4's `pub mod
/// request;` is the same line: it always matches.
fn edits(old: &[&str], new_lines: &[Line], given_at: Option<usize>, done: usize) -> Vec<Edit> {
    let new: Vec<&str> = new_lines
        .iter()
        .map(|line| {
            let matches = match given_at {
                None => true,
                Some(at) => {
                    module_file("src/lib.rs", &line.text).is_some()
                        || (done >= at && line.step == Some(at))
                }
            };
            // No line of day 4's is NUL: this one matches none.
            if matches { line.text.as_str() } else { "\0" }
        })
        .collect();
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
///
/// The learner's unit tests from earlier days stay at the end of the file
/// if `keep_old_tests`: not in the final server, whose `Response` is not
/// day 3's, so that day 3's tests of it would not compile (the API
/// chapter tells a learner who brings their own day 4 to delete them).
///
/// `given_at` is the step that hands over the lines no step shows (the
/// final server's), if any: see [`Hunk::write`].
fn file_after(
    file: &str,
    old: &str,
    new: &[Line],
    done: usize,
    keep_old_tests: bool,
    given_at: Option<usize>,
) -> Result<String, String> {
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
    let (mut old, mut kept_tests) = old.split_at(own_tests);
    if !keep_old_tests {
        kept_tests = &[];
    }
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
    for edit in edits(old, new, given_at, done) {
        match edit {
            Edit::Keep(_, j) if new_text[j].trim().is_empty() => {
                hunk.write(file, done, given_at, &mut out)?;
                hunk = Hunk {
                    before,
                    ..Hunk::default()
                };
                out.push_str(new_text[j]);
                out.push('\n');
            }
            Edit::Keep(_, j) => {
                hunk.after = new[j].step;
                hunk.write(file, done, given_at, &mut out)?;
                before = new[j].step;
                hunk = Hunk {
                    before,
                    ..Hunk::default()
                };
                // A stand-in the learner already had goes with the step
                // that replaces it.
                if new[j].until.is_none_or(|until| done < until) {
                    out.push_str(new_text[j]);
                    out.push('\n');
                }
            }
            Edit::Remove(i) => hunk.taken_out.push(old[i]),
            Edit::Add(j) => hunk.put_in.push(&new[j]),
        }
    }
    hunk.after = None;
    hunk.write(file, done, given_at, &mut out)?;
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
    ///
    /// Except before `given_at`, the step where the final server's new
    /// parts take over from day 4's: day 4's lines stay until then,
    /// beside the new lines that steps before it show (day 4's `pub mod
    /// request;` stays in `lib.rs` while the bridge's steps add `pub mod
    /// http;` next to it, since day 4's `main.rs` serves with it).
    fn write(
        &self,
        file: &str,
        done: usize,
        given_at: Option<usize>,
        out: &mut String,
    ) -> Result<(), String> {
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
        let first = match given_at {
            Some(at) => Some(first.map_or(at, |first| first.max(at))),
            None => first,
        };
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
            if line.there_after(done) {
                out.push_str(&line.text);
                out.push('\n');
            }
        }
        Ok(())
    }
}

/// The learner's files after the first `done` steps of `stage` (0: before
/// the first step), by path inside the crate.
///
/// The final server's code is not all in steps yet: a line of
/// `final/src` that no step shows is *given*, there from the step that
/// hands over the rest (see [`coverage`]), except a `mod` line, which
/// comes with the first step that shows a line of its module's file. For
/// the days, such a line is an error.
pub fn files_after(stage: Stage, done: usize) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    let mut files = before(stage)?;
    for (file, new) in stage_lines(stage)? {
        let path = PathBuf::from(&file);
        let old = files
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
            .unwrap_or_default();
        let given_at = (stage == Stage::Final).then(|| steps::handover(stage));
        let text = file_after(&file, &old, &new, done, stage != Stage::Final, given_at)?;
        files.retain(|(p, _)| *p != path);
        if !text.is_empty() {
            files.push((path, text.into_bytes()));
        }
    }
    // A file of the learner's that no module declares any more is gone
    // (day 4's `json.rs`, once serde writes the JSON).
    let declared: Vec<String> = files
        .iter()
        .flat_map(|(path, bytes)| {
            let file = path.to_string_lossy().replace('\\', "/");
            String::from_utf8_lossy(bytes)
                .lines()
                .filter_map(|line| module_file(&file, line))
                .collect::<Vec<_>>()
        })
        .collect();
    files.retain(|(path, _)| {
        let file = path.to_string_lossy().replace('\\', "/");
        let root = file == "src/lib.rs" || file == "src/main.rs";
        root || !file.ends_with(".rs") || declared.contains(&file)
    });
    files.sort();
    Ok(files)
}

/// How `stage`'s code names its own crate (`use day2::request::Request;`,
/// `use todo_server::…` in the final server), which the learner's crate
/// names by its own name instead.
pub fn own_name(stage: Stage) -> String {
    match stage {
        Stage::Final => "todo_server::".to_string(),
        day => format!("{}::", day.name()),
    }
}

/// Every line of each of `stage`'s files as the learner types it, with
/// the step that shows it (see [`files_after`] for the lines no step
/// shows).
fn stage_lines(stage: Stage) -> Result<Vec<(String, Vec<Line>)>, String> {
    let shown = shown_by_steps(stage)?;
    let learner = format!("{LEARNER}::");
    let sources: Vec<(String, String)> = stage_sources(stage)?
        .into_iter()
        .map(|(file, text)| (file, text.replace(&own_name(stage), &learner)))
        .collect();
    let lines_of = |unshown: &Unshown| -> Result<Vec<(String, Vec<Line>)>, String> {
        sources
            .iter()
            .map(|(file, text)| Ok((file.clone(), lines_with_steps(file, text, &shown, unshown)?)))
            .collect()
    };
    if stage != Stage::Final {
        return lines_of(&Unshown::Error);
    }
    // The first step that has a line of each file, for its `mod` line;
    // the handover counts, for a file with a line no step shows (other
    // than the `mod` lines of its own modules, which follow their files
    // in turn).
    let at = steps::handover(stage);
    let counted = lines_of(&Unshown::Counted)?;
    let mut first_steps: Vec<(String, Option<usize>)> = counted
        .iter()
        .map(|(file, lines)| {
            let given = lines.iter().any(|line| {
                line.step.is_none()
                    && !line.text.trim().is_empty()
                    && module_file(file, &line.text).is_none()
            });
            let first = lines
                .iter()
                .filter_map(|line| line.step)
                .chain(given.then_some(at))
                .min();
            (file.clone(), first)
        })
        .collect();
    // A file of nothing but `mod` lines (`http.rs`) comes with the first
    // of its modules, and so on up.
    for _ in 0..counted.len() {
        let mut changed = false;
        for (index, (file, lines)) in counted.iter().enumerate() {
            let modules_first = lines
                .iter()
                .filter_map(|line| module_file(file, &line.text))
                .filter_map(|module| {
                    first_steps
                        .iter()
                        .find(|(other, _)| *other == module)
                        .and_then(|(_, first)| *first)
                })
                .min();
            let first = &mut first_steps[index].1;
            let earlier = match (*first, modules_first) {
                (Some(now), Some(module)) => module < now,
                (None, Some(_)) => true,
                _ => false,
            };
            if earlier {
                *first = modules_first;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    lines_of(&Unshown::Given {
        first_steps: &first_steps,
        at,
    })
}

/// How much of `stage`'s code its steps show: the lines (not blank, not
/// markers, outside module introductions and unit tests) that a step
/// shows, and those the learner is given instead, by file.
///
/// A `mod` line comes with the first step of its module's file (see
/// [`files_after`]) and is not in a code block: it counts as shown when a
/// step shows a line of that file and a chapter names the line in its
/// prose (`` `pub mod date;` ``), and as given otherwise.
///
/// A line no step shows that the handover keeps from the learner's day 4
/// (day 4's `pub mod request;`, most of the table of reason phrases) is
/// not counted at all: the learner typed it on an earlier day.
pub fn coverage(stage: Stage) -> Result<Vec<(String, usize, usize)>, String> {
    let shown = shown_by_steps(stage)?;
    let mut chapters = String::new();
    for chapter in steps::chapters_with_steps(stage) {
        let path = cargo::root().join("book/src").join(format!("{chapter}.md"));
        chapters +=
            &fs::read_to_string(&path).map_err(|err| format!("{}: {err}", path.display()))?;
    }
    let sources = stage_sources(stage)?;
    let mut all = Vec::new();
    for (file, text) in &sources {
        all.push((
            file.clone(),
            lines_with_steps(file, text, &shown, &Unshown::Counted)?,
        ));
    }
    let fates = at_the_handover(stage, &all)?;
    // (A file of nothing but `mod` lines, `http.rs`, has steps when one
    // of its modules has.)
    fn has_steps(all: &[(String, Vec<Line>)], module: &str) -> bool {
        all.iter().any(|(file, lines)| {
            file == module
                && lines.iter().any(|line| {
                    line.step.is_some()
                        || module_file(file, &line.text).is_some_and(|inner| has_steps(all, &inner))
                })
        })
    }
    let mut out = Vec::new();
    for ((file, lines), fates) in all.iter().zip(&fates) {
        // A stand-in for an anchor no step shows holds day 4's code, which
        // the learner has, until the handover takes it away; a borrowing
        // stand-in holds day 4's code until a step replaces it. Neither is
        // code of the final server's to show, and nor is what the handover
        // keeps of day 4.
        let solid = lines.iter().zip(fates).filter(|(line, fate)| {
            !line.text.trim().is_empty()
                && line.until != Some(NEVER)
                && !line.borrowed
                && !fate.kept
        });
        let (by_steps, given): (Vec<_>, Vec<_>) = solid.partition(|(line, fate)| {
            (line.step.is_some() && !fate.unshown)
                || module_file(file, &line.text).is_some_and(|module| {
                    has_steps(&all, &module)
                        && chapters.contains(&format!("`{}`", line.text.trim()))
                })
        });
        out.push((file.clone(), by_steps.len(), given.len()));
    }
    Ok(out)
}

/// How each line of `all` (a stage's files, their lines as [`coverage`]
/// counts them) fares at the final server's handover: whether it arrives
/// there unshown, and whether the learner's file before the stage has it
/// already, as [`file_after`] compares them. (Neither, for a day.)
///
/// A line arrives unshown when no step shows it, and also when
/// [`braces_go_with_their_block`] gives a block's opening or closing line
/// to a later step that shows a line inside, while the block holds given
/// code: `pub fn poll(…) {`, whose chunked arm the bodies chapter shows,
/// comes with the rest of `poll`.
fn at_the_handover(
    stage: Stage,
    all: &[(String, Vec<Line>)],
) -> Result<Vec<Vec<Handover>>, String> {
    if stage != Stage::Final {
        return Ok(all
            .iter()
            .map(|(_, lines)| vec![Handover::default(); lines.len()])
            .collect());
    }
    let at = steps::handover(stage);
    let old_files = before(stage)?;
    let mut out = Vec::new();
    // The lines as the learner's crate gets them, beside those counted.
    for ((file, real), (_, counted)) in stage_lines(stage)?.iter().zip(all) {
        let mut fates: Vec<Handover> = real
            .iter()
            .zip(counted)
            .map(|(real, counted)| Handover {
                unshown: counted.step.is_none()
                    || (real.step == Some(at) && counted.step.is_some_and(|step| step > at)),
                kept: false,
            })
            .collect();
        let old = old_files
            .iter()
            .find(|(path, _)| path.to_string_lossy().replace('\\', "/") == *file)
            .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
            .unwrap_or_default();
        let old: Vec<&str> = old
            .lines()
            .skip_while(|line| line.starts_with("//!") || line.trim().is_empty())
            .take_while(|line| *line != "#[cfg(test)]")
            .collect();
        for edit in edits(&old, real, Some(at), at) {
            if let Edit::Keep(_, j) = edit {
                fates[j].kept = fates[j].unshown;
            }
        }
        out.push(fates);
    }
    Ok(out)
}

/// What becomes of a line at the handover (see [`at_the_handover`]).
#[derive(Debug, Clone, Copy, Default)]
struct Handover {
    /// It arrives there, and no step shows it.
    unshown: bool,
    /// The learner's day 4 has it already, and keeps it.
    kept: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(rows: &[(&str, Option<usize>)]) -> Vec<Line> {
        rows.iter()
            .map(|(text, step)| Line {
                text: text.to_string(),
                step: *step,
                until: None,
                borrowed: false,
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
                file_after("main.rs", old, &new, done, true, None).as_deref(),
                Ok(expected),
                "after step {done}"
            );
        }
    }

    #[test]
    fn before_the_handover_day_4_stays_whole_and_new_code_goes_after_it() {
        // Step 2 hands over `shared`, which day 4 has too; step 1 shows
        // `early`, and step 3 `late`.
        let old = "fn day4() {}\nfn shared() {}\n";
        let new = lines(&[
            ("fn early() {}", Some(1)),
            ("fn shared() {}", Some(2)),
            ("fn late() {}", Some(3)),
        ]);
        let rows = [
            (0, "fn day4() {}\nfn shared() {}\n"),
            (1, "fn day4() {}\nfn shared() {}\nfn early() {}\n"),
            (2, "fn early() {}\nfn shared() {}\n"),
            (3, "fn early() {}\nfn shared() {}\nfn late() {}\n"),
        ];
        for (done, expected) in rows {
            assert_eq!(
                file_after("lib.rs", old, &new, done, false, Some(2)).as_deref(),
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
            file_after("main.rs", old, &new, 1, true, None).as_deref(),
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
            file_after("lib.rs", old, &new, 1, true, None).as_deref(),
            Ok("//! Mine.\n\npub mod a;\n")
        );
        assert_eq!(
            file_after("lib.rs", old, &new, 2, true, None).as_deref(),
            Ok("//! The stage's.\n\npub mod a;\npub mod b;\n")
        );
    }

    #[test]
    fn unit_tests_an_earlier_stage_showed_stay_the_learners() {
        let old = "fn a() {}\n\n#[cfg(test)]\nmod tests {}\n";
        let new = lines(&[("fn a() {}", None), ("fn b() {}", Some(1))]);
        assert_eq!(
            file_after("lib.rs", old, &new, 1, true, None).as_deref(),
            Ok("fn a() {}\nfn b() {}\n\n#[cfg(test)]\nmod tests {}\n")
        );
    }

    /// Asserts that a new file of `new` lines reads, after each step in
    /// `rows`, as the row says.
    fn each_step_makes(new: &[Line], rows: &[(usize, &str)]) {
        for &(done, expected) in rows {
            assert_eq!(
                file_after("a.rs", "", new, done, true, None).as_deref(),
                Ok(expected),
                "after step {done}"
            );
        }
    }

    #[test]
    fn a_stand_in_lasts_from_its_step_until_the_step_that_replaces_it() {
        let mut new = lines(&[
            ("fn a() {", Some(1)),
            ("    let x = 0;", Some(1)),
            ("    let x = 1;", Some(3)),
            ("}", Some(1)),
        ]);
        new[1].until = Some(3);
        let rows = [
            (0, ""),
            (1, "fn a() {\n    let x = 0;\n}\n"),
            (2, "fn a() {\n    let x = 0;\n}\n"),
            (3, "fn a() {\n    let x = 1;\n}\n"),
        ];
        each_step_makes(&new, &rows);
    }

    #[test]
    fn a_stand_in_inside_a_stand_in_changes_at_its_own_step() {
        let text = "/* STAND-IN: run\nfn run() {\n    /* STAND-IN: stop\n    loop {}\n    */\n    // ANCHOR: stop\n    while !stopped() {}\n    // ANCHOR_END: stop\n}\n*/\n// ANCHOR: run\nfn run() { serve(); }\n// ANCHOR_END: run\n";
        let shown = [("stop", 1), ("run", 2)].map(|(anchor, step)| Shown {
            step,
            file: "a.rs".into(),
            anchor: Some(anchor.into()),
        });
        let given = Unshown::Given {
            first_steps: &[],
            at: 0,
        };
        let new = lines_with_steps("a.rs", text, &shown, &given).expect("lines");
        let rows = [
            (0, "fn run() {\n    loop {}\n}\n"),
            (1, "fn run() {\n    while !stopped() {}\n}\n"),
            (2, "fn run() { serve(); }\n"),
        ];
        each_step_makes(&new, &rows);
    }

    #[test]
    fn a_blocks_unshown_braces_go_with_the_first_step_inside_it() {
        let text = [
            "impl A {",
            "    fn a() {}",
            "    fn b() {}",
            "}",
            "fn c() {",
            "}",
        ];
        let rows: [(Option<usize>, [Option<usize>; 6]); 2] = [
            // Nothing given: the braces take the first step inside; a
            // block with nothing shown inside stays unshown.
            (None, [None, Some(3), Some(2), None, None, None]),
            // Given at 0: a block with a line no step shows inside is
            // given.
            (Some(0), [None, Some(3), None, None, None, None]),
        ];
        let expected: [[Option<usize>; 6]; 2] = [
            [Some(2), Some(3), Some(2), Some(2), None, None],
            // (An empty block stays unshown here; being given, it is
            // given later, like any other line no step shows.)
            [Some(0), Some(3), None, Some(0), None, None],
        ];
        for ((given, mut step_of), expected) in rows.into_iter().zip(expected) {
            braces_go_with_their_block(&text, &mut step_of, given);
            assert_eq!(step_of, expected, "given {given:?}");
        }
    }

    #[test]
    fn a_stand_ins_comment_lines_do_not_give_its_block_away() {
        // `impl A` holds only a stand-in whose code a step 3 anchor shows:
        // the braces go with step 3, not with what is given at 0.
        let text = [
            "impl A {",
            "    /* STAND-IN: b",
            "    // ANCHOR: early",
            "    fn b() {}",
            "    // ANCHOR_END: early",
            "    */",
            "}",
        ];
        let mut step_of = [None, None, None, Some(3), None, None, None];
        braces_go_with_their_block(&text, &mut step_of, Some(0));
        assert_eq!(step_of, [Some(3), None, None, Some(3), None, None, Some(3)]);
    }

    #[test]
    fn module_lines_name_their_files() {
        let rows = [
            (
                "src/lib.rs",
                "pub mod connection;",
                Some("src/connection.rs"),
            ),
            ("src/main.rs", "mod cli;", Some("src/cli.rs")),
            ("src/store.rs", "    mod log;", Some("src/store/log.rs")),
            ("src/store.rs", "mod tests {", None),
            ("src/lib.rs", "use crate::modern;", None),
        ];
        for (file, line, expected) in rows {
            assert_eq!(module_file(file, line).as_deref(), expected, "{line}");
        }
        let lines = [
            "mod a;",
            "#[cfg(test)]",
            "mod helpers;",
            "#[cfg(test)]",
            "mod tests {",
        ];
        assert_eq!(test_modules("src/lib.rs", &lines), [1]);
    }

    #[test]
    fn a_new_line_no_step_shows_is_an_error() {
        let new = lines(&[("fn main() {}", None)]);
        let err = file_after("main.rs", "", &new, 1, true, None).expect_err("nobody shows it");
        assert!(err.contains("no step shows it"), "{err}");
    }

    #[test]
    fn edits_keep_the_longest_common_lines() {
        let old = ["a", "b", "c"];
        let new = lines(&[("a", None), ("x", Some(1)), ("c", None)]);
        assert_eq!(
            edits(&old, &new, None, 0),
            [
                Edit::Keep(0, 0),
                Edit::Add(1),
                Edit::Remove(1),
                Edit::Keep(2, 2)
            ]
        );
    }
}

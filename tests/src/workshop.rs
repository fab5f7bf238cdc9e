//! The workshop: learners' crates, their progress, and the reference
//! solutions.
//!
//! - A learner's crate lives in `workshop/<name>/`, a member of this
//!   workspace (so rust-analyzer and `cargo run -p <name>` work), but not a
//!   default member (so `cargo test` at the root leaves it alone), and
//!   ignored by git (so it stays out of the project's CI and snapshots).
//! - Progress is a small text file, `workshop/.progress`, keyed by crate
//!   and by the stable ids of stages, checks and exercises. Renumbering or
//!   reordering them never loses anyone's progress.
//! - A solution is a patch against a stage's crate. [`build_solutions`]
//!   applies each to a copy of its stage and builds them all in one go.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::exercises::Exercise;
use crate::stage::Stage;

/// The root of this repository.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives inside the workspace")
        .to_path_buf()
}

/// `workshop/`, where learners' crates live.
pub fn workshop_dir() -> PathBuf {
    root().join("workshop")
}

// ---------------------------------------------------------------------
// The starter crate

/// The starter's files, with `NAME` standing for the crate's name. They
/// live in `tests/starter/`, where `tests/tests/workshop.rs` builds them.
const STARTER_MANIFEST: &str = include_str!("../starter/Cargo.toml.in");
const STARTER_MAIN: &str = include_str!("../starter/main.rs");

/// Creates `workshop/<name>/`, a crate that compiles, honours `PORT`, and
/// fails day 1's checks. Returns its folder.
pub fn create_starter(name: &str) -> Result<PathBuf, String> {
    validate_name(name)?;
    let dir = workshop_dir().join(name);
    if dir.exists() {
        return Err(format!("{} already exists", dir.display()));
    }
    write_starter(&dir, name)?;
    Ok(dir)
}

/// Writes the starter's files into `dir`, for a crate called `name`.
pub fn write_starter(dir: &Path, name: &str) -> Result<(), String> {
    let write = |path: PathBuf, text: &str| {
        fs::create_dir_all(path.parent().expect("files have a folder"))
            .and_then(|()| fs::write(&path, text.replace("NAME", name)))
            .map_err(|err| format!("cannot write {}: {err}", path.display()))
    };
    write(dir.join("Cargo.toml"), STARTER_MANIFEST)?;
    write(dir.join("src/main.rs"), STARTER_MAIN)
}

/// A crate name Cargo accepts, that is not one of this repository's.
fn validate_name(name: &str) -> Result<(), String> {
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        return Err(format!(
            "{name:?} cannot be a crate name: use lower-case letters, digits, - and _, starting with a letter"
        ));
    }
    let taken = Stage::ALL.iter().any(|stage| stage.name() == name)
        || ["tests", "todo_server", "test", "core", "std"].contains(&name);
    if taken {
        return Err(format!(
            "{name} is taken by this repository or by Rust; pick another name"
        ));
    }
    Ok(())
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

// ---------------------------------------------------------------------
// Progress

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

// ---------------------------------------------------------------------
// Solutions

/// Where solution crates are assembled and built: a workspace of their
/// own under `target/`, so that building them never touches the real one.
fn solutions_workspace() -> PathBuf {
    root().join("target").join("exercise-solutions")
}

/// The name the starter crate gets next to the solutions.
pub const STARTER_PROOF: &str = "starter";

/// Builds the solutions of `exercises`, each as a crate named after the
/// exercise, and a starter crate called [`STARTER_PROOF`], in the release
/// profile or not; returns the folder the binaries are in.
///
/// Each solution is its stage's crate with the patch applied. They share
/// one workspace and one `target` folder, so `serde` is built once and an
/// unchanged solution is not rebuilt.
pub fn build_solutions(exercises: &[&Exercise], release: bool) -> Result<PathBuf, String> {
    let workspace = solutions_workspace();
    let starter = workspace.join(STARTER_PROOF);
    let starter_files = [
        (
            PathBuf::from("Cargo.toml"),
            STARTER_MANIFEST.replace("NAME", STARTER_PROOF).into_bytes(),
        ),
        (
            PathBuf::from("src/main.rs"),
            STARTER_MAIN.replace("NAME", STARTER_PROOF).into_bytes(),
        ),
    ];
    sync_folder(&starter_files, &starter)?;
    let mut members = vec![format!("{STARTER_PROOF:?}")];
    for exercise in exercises {
        let files = patched_stage(exercise)?;
        sync_folder(&files, &workspace.join(exercise.id()))?;
        members.push(format!("{:?}", exercise.id()));
    }
    let manifest = format!(
        "# Made by tests/src/workshop.rs: every exercise's solution, built together.\n\
         [workspace]\nresolver = \"3\"\nmembers = [{}]\n\n{}",
        members.join(", "),
        workspace_tables()?
    );
    write_if_changed(&workspace.join("Cargo.toml"), manifest.as_bytes())?;
    // The project's lock file, so that the solutions build with exactly the
    // dependency versions the stages use.
    let lock = fs::read(root().join("Cargo.lock")).map_err(|err| err.to_string())?;
    if !workspace.join("Cargo.lock").exists() {
        write_if_changed(&workspace.join("Cargo.lock"), &lock)?;
    }

    let (args, profile): (&[&str], _) = if release {
        (&["build", "--quiet", "--release"], "release")
    } else {
        (&["build", "--quiet"], "debug")
    };
    crate::server::cargo(args, Some(&workspace))
        .map_err(|err| format!("building the solutions failed: {err}"))?;
    Ok(workspace.join("target").join(profile))
}

/// The `[workspace.*]` tables of the root manifest, which the stages
/// inherit their edition and lints from.
fn workspace_tables() -> Result<String, String> {
    let manifest = fs::read_to_string(root().join("Cargo.toml")).map_err(|err| err.to_string())?;
    let start = manifest
        .find("[workspace.")
        .ok_or("the root Cargo.toml has no [workspace.package]")?;
    Ok(manifest[start..].to_string())
}

/// The files of `exercise`'s stage with its solution applied, by path
/// relative to the crate, and the manifest renamed after the exercise.
fn patched_stage(exercise: &Exercise) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    let stage = exercise.stage();
    let scratch =
        std::env::temp_dir().join(format!("exercise-{}-{}", exercise.id(), std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    copy_folder(&root().join(stage.name()).join("src"), &scratch.join("src"))?;
    let manifest = fs::read_to_string(root().join(stage.name()).join("Cargo.toml"))
        .map_err(|err| err.to_string())?;
    fs::write(
        scratch.join("Cargo.toml"),
        solution_manifest(&manifest, stage, exercise.id()),
    )
    .map_err(|err| err.to_string())?;

    // `git apply` outside any repository is a plain patch tool.
    let output = Command::new("git")
        .current_dir(&scratch)
        .env("GIT_CEILING_DIRECTORIES", std::env::temp_dir())
        .arg("apply")
        .arg(exercise.solution())
        .output()
        .map_err(|err| format!("cannot run git apply: {err}"))?;
    if !output.status.success() {
        let _ = fs::remove_dir_all(&scratch);
        return Err(format!(
            "{} no longer applies to {stage}:\n{}",
            exercise.solution().display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let files = read_folder(&scratch, &scratch);
    let _ = fs::remove_dir_all(&scratch);
    files
}

/// The stage's manifest, renamed after the exercise so that every
/// solution gets a binary of its own, with the library keeping the stage's
/// name so that `use day3::…` still works.
pub fn solution_manifest(manifest: &str, stage: Stage, id: &str) -> String {
    let package_name = format!("name = \"{}\"", stage.name());
    let mut text = manifest.replacen(&package_name, &format!("name = \"{id}\""), 1);
    match stage {
        Stage::Day1 => {}
        Stage::Final => {
            // `final` names its binary itself.
            text = text.replace(
                "[[bin]]\nname = \"final\"",
                &format!("[[bin]]\nname = \"{id}\""),
            );
        }
        _ => {
            let _ = write!(text, "\n[lib]\nname = \"{}\"\n", stage.name());
        }
    }
    text
}

fn copy_folder(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|err| err.to_string())?;
    for entry in fs::read_dir(from).map_err(|err| err.to_string())? {
        let path = entry.map_err(|err| err.to_string())?.path();
        let target = to.join(path.file_name().expect("entries have names"));
        if path.is_dir() {
            copy_folder(&path, &target)?;
        } else {
            fs::copy(&path, &target).map_err(|err| err.to_string())?;
        }
    }
    Ok(())
}

fn read_folder(base: &Path, dir: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(|err| err.to_string())? {
        let path = entry.map_err(|err| err.to_string())?.path();
        if path.is_dir() {
            files.extend(read_folder(base, &path)?);
        } else {
            let bytes = fs::read(&path).map_err(|err| err.to_string())?;
            let relative = path.strip_prefix(base).expect("inside base").to_path_buf();
            files.push((relative, bytes));
        }
    }
    Ok(files)
}

/// Makes `dir` hold exactly `files`, writing only what changed, so that
/// Cargo does not rebuild a solution that is the same as last time.
fn sync_folder(files: &[(PathBuf, Vec<u8>)], dir: &Path) -> Result<(), String> {
    let wanted: BTreeSet<PathBuf> = files.iter().map(|(path, _)| path.clone()).collect();
    if dir.exists() {
        for (path, _) in read_folder(dir, dir)? {
            if !wanted.contains(&path) {
                fs::remove_file(dir.join(&path)).map_err(|err| err.to_string())?;
            }
        }
    }
    for (path, bytes) in files {
        write_if_changed(&dir.join(path), bytes)?;
    }
    Ok(())
}

fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    fs::create_dir_all(path.parent().expect("files have a folder"))
        .and_then(|()| fs::write(path, bytes))
        .map_err(|err| format!("cannot write {}: {err}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn crate_names_table() {
        let rows = [
            ("ada", true),
            ("my-server", true),
            ("server_2", true),
            ("Ada", false),
            ("2fast", false),
            ("day3", false),
            ("final", false),
            ("tests", false),
            ("a b", false),
            ("", false),
        ];
        for (name, ok) in rows {
            assert_eq!(validate_name(name).is_ok(), ok, "{name:?}");
        }
    }

    #[test]
    fn solution_manifests_rename_the_package_but_keep_the_library() {
        let day3 = fs::read_to_string(root().join("day3/Cargo.toml")).expect("day3 exists");
        let text = solution_manifest(&day3, Stage::Day3, "day3-head");
        assert!(text.contains("name = \"day3-head\""));
        assert!(text.contains("[lib]\nname = \"day3\""));
        let fin = fs::read_to_string(root().join("final/Cargo.toml")).expect("final exists");
        let text = solution_manifest(&fin, Stage::Final, "final-put");
        assert!(text.contains("[[bin]]\nname = \"final-put\""));
    }
}

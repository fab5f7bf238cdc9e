//! The starter crate: what `check new NAME` writes into `workshop/NAME`.

use std::fs;
use std::path::{Path, PathBuf};

use suite::anchors;
use suite::cargo;
use suite::stage::Stage;

use crate::workshop_dir;

/// The starter's files, with `NAME` standing for the crate's name. They
/// live in `tests/workshop/starter/`, where `tests/tests/workshop.rs`
/// builds them.
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

/// Creates `workshop/<name>/` as a learner's crate stands after the last
/// step of `stage`'s chapter, for a learner who skipped ahead (or whose
/// crate went astray): `check new NAME --from day4` before the final
/// server. Days only: the final server's chapters start from day 4.
pub fn create_from(name: &str, stage: Stage) -> Result<PathBuf, String> {
    validate_name(name)?;
    let dir = workshop_dir().join(name);
    if dir.exists() {
        return Err(format!("{} already exists", dir.display()));
    }
    write_files(&dir, after(stage, name)?)?;
    Ok(dir)
}

/// Writes the starter's files into `dir`, for a crate called `name`.
pub fn write_starter(dir: &Path, name: &str) -> Result<(), String> {
    write_files(dir, starter_files(name))
}

/// Writes `files` (paths inside the crate) into `dir`.
fn write_files(dir: &Path, files: Vec<(PathBuf, Vec<u8>)>) -> Result<(), String> {
    for (path, bytes) in files {
        let path = dir.join(path);
        fs::create_dir_all(path.parent().expect("files have a folder"))
            .and_then(|()| fs::write(&path, bytes))
            .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    }
    Ok(())
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
        || [
            "tests",
            "suite",
            "workshop",
            "benchmark",
            "devlog",
            "todo_server",
            "test",
            "core",
            "std",
        ]
        .contains(&name);
    if taken {
        return Err(format!(
            "{name} is taken by this repository or by Rust; pick another name"
        ));
    }
    Ok(())
}

/// The starter's files for a crate called `name`, by path inside the crate.
pub fn starter_files(name: &str) -> Vec<(PathBuf, Vec<u8>)> {
    vec![
        (
            PathBuf::from("Cargo.toml"),
            STARTER_MANIFEST.replace("NAME", name).into_bytes(),
        ),
        (
            PathBuf::from("src/main.rs"),
            STARTER_MAIN.replace("NAME", name).into_bytes(),
        ),
    ]
}

/// The starter's files after the day 1 chapter, for a crate called
/// `name`: its last step, as [`build_along`](crate::build_along) makes
/// it.
///
/// `tests/tests/workshop.rs` proves this passes day 1.
pub fn after_day1(name: &str) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    after(Stage::Day1, name)
}

/// A learner's crate called `name` after the last step of `stage`'s
/// chapter, as [`build_along`](crate::build_along) makes it: the day's
/// code, as the book shows it (`tests/tests/steps.rs` proves that it
/// passes the day's checks, and that it is the day's code).
pub fn after(stage: Stage, name: &str) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    if stage == Stage::Final {
        return Err("the final server's chapters start from day 4: use --from day4".into());
    }
    let last = suite::steps::of_stage(stage).len();
    Ok(named(crate::build_along::files_after(stage, last)?, name))
}

/// Creates `workshop/<name>/` as a learner's crate stands before the
/// first step of `chapter` (`final-connections`), for a learner who
/// starts there: `check new NAME --before final-connections`.
pub fn create_before(name: &str, chapter: &str) -> Result<PathBuf, String> {
    validate_name(name)?;
    let first = suite::steps::STEPS
        .iter()
        .find(|step| step.chapter == chapter)
        .ok_or_else(|| format!("--before: no chapter {chapter} in steps"))?;
    let dir = workshop_dir().join(name);
    if dir.exists() {
        return Err(format!("{} already exists", dir.display()));
    }
    let done = first.position() - 1;
    let files = crate::build_along::files_after(first.stage, done)?;
    write_files(&dir, named(files, name))?;
    Ok(dir)
}

/// Brings `workshop/<name>/` to where the learner's crate stands after
/// the final server's step where its new parts take over from day 4's
/// ([`suite::steps::HANDOVER`]): `check handover --crate NAME`, for a
/// learner who would rather not type that step. Returns the files it
/// wrote.
pub fn hand_over(name: &str) -> Result<Vec<PathBuf>, String> {
    hand_over_into(&workshop_dir().join(name), name)
}

/// [`hand_over`], into the crate in `dir`. Its `src/` and `static/`
/// become the reference's after the handover: what the steps before it
/// had the learner type is the same there, and a file of day 4's that no
/// module declares any more (`request.rs`, `json.rs`) goes. The manifest stays the
/// learner's, with the crates the chapter had them add.
fn hand_over_into(dir: &Path, name: &str) -> Result<Vec<PathBuf>, String> {
    if !dir.join("Cargo.toml").is_file() {
        return Err(format!("{} is not a crate", dir.display()));
    }
    let done = suite::steps::handover(Stage::Final);
    let files: Vec<(PathBuf, Vec<u8>)> =
        named(crate::build_along::files_after(Stage::Final, done)?, name)
            .into_iter()
            .filter(|(path, _)| path.as_os_str() != "Cargo.toml")
            .collect();
    let src = dir.join("src");
    let entries = fs::read_dir(&src).map_err(|err| format!("{}: {err}", src.display()))?;
    for entry in entries {
        let path = entry.map_err(|err| err.to_string())?.path();
        let inside = path.strip_prefix(dir).unwrap_or(&path).to_path_buf();
        let rust = path.extension().is_some_and(|ext| ext == "rs");
        if rust && !files.iter().any(|(file, _)| *file == inside) {
            fs::remove_file(&path).map_err(|err| format!("{}: {err}", path.display()))?;
        }
    }
    let written = files.iter().map(|(path, _)| path.clone()).collect();
    write_files(dir, files)?;
    Ok(written)
}

/// `files` of the learner's crate, under the crate's name `name`.
fn named(files: Vec<(PathBuf, Vec<u8>)>, name: &str) -> Vec<(PathBuf, Vec<u8>)> {
    // Cargo knows the crate as `my-server`; Rust code names its library
    // `my_server`.
    let in_code = name.replace('-', "_");
    files
        .into_iter()
        .map(|(path, bytes)| {
            let text = String::from_utf8_lossy(&bytes);
            let named = if path.extension().is_some_and(|ext| ext == "rs") {
                text.replace(crate::steps::LEARNER, &in_code)
            } else {
                text.replace(crate::steps::LEARNER, name)
            };
            (path, named.into_bytes())
        })
        .collect()
}

/// The code of anchor `name` in `file` (relative to the repository's
/// root), as the book includes it.
pub fn anchor(file: &str, name: &str) -> Result<String, String> {
    let text =
        fs::read_to_string(cargo::root().join(file)).map_err(|err| format!("{file}: {err}"))?;
    anchors::shown(&text, name).map_err(|err| format!("{file}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crate_from_a_day_is_that_days_last_step_under_its_own_name() {
        let files = after(Stage::Day4, "ada-2").unwrap_or_else(|err| panic!("{err}"));
        let manifest = files
            .iter()
            .find(|(path, _)| *path == Path::new("Cargo.toml"))
            .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
            .expect("a manifest");
        assert!(manifest.contains("name = \"ada-2\""), "{manifest}");
        let main = files
            .iter()
            .find(|(path, _)| *path == Path::new("src/main.rs"))
            .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
            .expect("a main.rs");
        assert!(main.contains("use ada_2::"), "{main}");
        let paths: Vec<_> = files.iter().map(|(path, _)| path.clone()).collect();
        for path in ["src/main.rs", "src/lib.rs", "src/thread_pool.rs"] {
            assert!(paths.contains(&PathBuf::from(path)), "{path} in {paths:?}");
        }
        assert!(after(Stage::Final, "ada").is_err());
    }

    #[test]
    fn the_handover_makes_the_crate_the_next_chapter_starts_from() {
        let dir = std::env::temp_dir().join(format!("handover-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let before = suite::steps::handover(Stage::Final) - 1;
        let at = |done| {
            named(
                crate::build_along::files_after(Stage::Final, done)
                    .unwrap_or_else(|err| panic!("{err}")),
                "ada",
            )
        };
        write_files(&dir, at(before)).unwrap_or_else(|err| panic!("{err}"));
        // Day 4's JSON writer, which nothing declares after the handover.
        assert!(dir.join("src/json.rs").is_file());
        hand_over_into(&dir, "ada").unwrap_or_else(|err| panic!("{err}"));
        for (path, bytes) in at(before + 1) {
            let written = fs::read(dir.join(&path)).unwrap_or_else(|err| panic!("{path:?}: {err}"));
            if path != Path::new("Cargo.toml") {
                assert!(written == bytes, "{path:?} differs after the handover");
            }
        }
        assert!(!dir.join("src/json.rs").exists());
        let _ = fs::remove_dir_all(&dir);
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
}

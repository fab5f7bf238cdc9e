//! The starter crate: what `check new NAME` writes into `workshop/NAME`.

use std::fs;
use std::path::{Path, PathBuf};

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

/// Writes the starter's files into `dir`, for a crate called `name`.
pub fn write_starter(dir: &Path, name: &str) -> Result<(), String> {
    for (path, bytes) in starter_files(name) {
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
/// `name`: what the chapter tells a learner to do is replace the starter's
/// `use` lines, and its `handle_connection`, with the chapter's code.
///
/// `tests/tests/workshop.rs` proves this passes day 1, and the build-along
/// steps of day 2 start from it.
pub fn after_day1(name: &str) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    let starter = STARTER_MAIN.replace("NAME", name);
    let find = |what: &str| {
        starter
            .find(what)
            .ok_or_else(|| format!("the starter has no {what:?}"))
    };
    let uses_start = find("use std::")?;
    let uses_end = find("\n\nfn main")?;
    let handler = find("/// Day 1 starts here")?;
    let day1 = "day1/src/main.rs";
    let main_rs = format!(
        "{}{}{}{}\n{}",
        &starter[..uses_start],
        anchor(day1, "uses")?.trim_end(),
        &starter[uses_end..handler],
        anchor(day1, "handle_connection")?,
        anchor(day1, "response")?,
    );
    let mut files = starter_files(name);
    files.retain(|(path, _)| !path.ends_with("main.rs"));
    files.push(("src/main.rs".into(), main_rs.into_bytes()));
    Ok(files)
}

/// The text between `// ANCHOR: name` and `// ANCHOR_END: name` in `file`
/// (relative to the repository's root), as the book includes it: without
/// the marker lines of anchors inside it.
pub fn anchor(file: &str, name: &str) -> Result<String, String> {
    let text =
        fs::read_to_string(cargo::root().join(file)).map_err(|err| format!("{file}: {err}"))?;
    let start = format!("// ANCHOR: {name}\n");
    let from = text
        .find(&start)
        .ok_or_else(|| format!("{file} has no anchor {name}"))?
        + start.len();
    let to = text[from..]
        .find(&format!("// ANCHOR_END: {name}\n"))
        .ok_or_else(|| format!("{file} has no end for {name}"))?
        + from;
    // From the start of the marker's line, so that its indent is left out.
    let to = text[..to].rfind('\n').map_or(from, |i| i + 1).max(from);
    Ok(text[from..to]
        .lines()
        .filter(|line| !is_anchor_marker(line))
        .map(|line| format!("{line}\n"))
        .collect())
}

/// Whether `line` is an `// ANCHOR: …` or `// ANCHOR_END: …` marker, which
/// mdBook leaves out of what it includes.
pub fn is_anchor_marker(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("// ANCHOR: ") || line.starts_with("// ANCHOR_END: ")
}

#[cfg(test)]
mod tests {
    use super::*;

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

//! Building the programs the suite runs, and finding where Cargo put them.
//!
//! The suite runs real binaries: the stages (`cargo run -p day2` runs the
//! same file), a learner's crate, a stage with a patch applied. A test
//! cannot ask Cargo to build another package's binary for it, so we run
//! `cargo build` ourselves.
//!
//! Where the binaries land is Cargo's choice, not ours: `target/` by
//! default, but `CARGO_TARGET_DIR`, `build.target-dir` in a Cargo config
//! file, or `--target-dir` can put it anywhere, and many people share one
//! target folder between projects. Guessing `<repo>/target` breaks for
//! them, so we ask Cargo (`cargo metadata` reports `target_directory`).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::process;
use crate::stage::Stage;

/// How long one `cargo` call may take. A cold build of every stage takes
/// about a minute on two cores; ten is a hang, not a slow machine.
const CARGO_LIMIT: Duration = Duration::from_secs(600);

/// The root of this repository.
pub fn root() -> PathBuf {
    // This crate lives in `tests/suite`.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("tests/suite lives two folders below the root")
        .to_path_buf()
}

/// The workspace's target folder, wherever Cargo keeps it; asked once.
pub fn target_dir() -> Result<PathBuf, String> {
    static TARGET: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    TARGET
        .get_or_init(|| {
            let finished = process::run(
                cargo_command()
                    .args(["metadata", "--format-version", "1", "--no-deps"])
                    .current_dir(root()),
                CARGO_LIMIT,
            )?;
            if !finished.status.success() {
                return Err(format!(
                    "cargo metadata failed:\n{}",
                    String::from_utf8_lossy(&finished.stderr)
                ));
            }
            let metadata: serde_json::Value = serde_json::from_slice(&finished.stdout)
                .map_err(|err| format!("cargo metadata printed no JSON: {err}"))?;
            metadata["target_directory"]
                .as_str()
                .map(PathBuf::from)
                .ok_or_else(|| "cargo metadata names no target_directory".to_string())
        })
        .clone()
}

/// `"release"` when this program was built with `--release`, else
/// `"debug"`: the stages are built the same way, so that a benchmark never
/// measures a debug build by accident.
pub fn profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// The file name of the binary `name` on this system (`name.exe` on
/// Windows).
pub fn binary_name(name: &str) -> String {
    format!("{name}{}", std::env::consts::EXE_SUFFIX)
}

/// Runs `cargo build` for `packages` of this workspace, in [`profile`], and
/// returns the folder the binaries went to.
pub fn build(packages: &[&str]) -> Result<PathBuf, String> {
    let mut args = vec!["build", "--quiet"];
    if profile() == "release" {
        args.push("--release");
    }
    for package in packages {
        args.extend(["-p", package]);
    }
    cargo(&args, &root())?;
    Ok(target_dir()?.join(profile()))
}

/// The path of the reference binary of `stage`, built on first use.
///
/// The first caller builds every stage at once, once per process; when
/// nothing changed, that takes a fraction of a second.
pub fn reference_binary(stage: Stage) -> Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = BUILT
        .get_or_init(|| {
            let packages: Vec<&str> = Stage::ALL.iter().map(|stage| stage.name()).collect();
            build(&packages)
        })
        .clone()?;
    Ok(dir.join(binary_name(stage.name())))
}

/// The path of the devlog fixture (`tests/devlog`), built on first use:
/// the devlog's approach with its bugs left in, which the suite proves its
/// checks against (see [`crate::devlog`]).
pub fn devlog_binary() -> Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = BUILT.get_or_init(|| build(&["devlog"])).clone()?;
    Ok(dir.join(binary_name("devlog")))
}

/// Runs the Cargo that runs us (or `cargo`) with `args` in `dir`; on
/// failure, says what Cargo said.
pub fn cargo(args: &[&str], dir: &Path) -> Result<(), String> {
    let finished = process::run(cargo_command().args(args).current_dir(dir), CARGO_LIMIT)?;
    if finished.status.success() {
        Ok(())
    } else {
        Err(format!(
            "cargo {} failed:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&finished.stderr)
        ))
    }
}

fn cargo_command() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

// ---------------------------------------------------------------------
// Scratch workspaces: crates that are not part of this workspace

/// A crate to build in a scratch workspace: its name, and its files by
/// path relative to the crate's folder.
pub struct ScratchCrate {
    pub name: String,
    pub files: Vec<(PathBuf, Vec<u8>)>,
}

/// Builds `crates` together in a workspace of their own called `name`, in
/// [`profile`], and returns the folder their binaries are in.
///
/// The workspace lives in the target folder, so it is never committed and
/// never part of this workspace. It builds into this workspace's own
/// target folder, like every scratch workspace: the final server's
/// dependencies (serde and its derive macro, mio, socket2, ctrlc) are then
/// built once, for the stages, the build-along steps and the exercises'
/// solutions alike, rather than once in each (about 7 s of a fresh
/// clone's run, each time). So every scratch crate needs a name no other
/// crate built there has (`day2-step-3`, `final-put`,
/// `bench-day4-keep-alive`): its binary sits beside the stages' and the
/// other scratch workspaces'. An unchanged crate is not rebuilt (files are only written
/// when they change). The target folder is passed explicitly: an
/// inherited `CARGO_TARGET_DIR` could otherwise point somewhere else.
pub fn build_scratch(name: &str, crates: &[ScratchCrate]) -> Result<PathBuf, String> {
    let workspace = target_dir()?.join(name);
    fs::create_dir_all(&workspace).map_err(|err| err.to_string())?;
    // Held until this function returns: writing and building are one step.
    let _lock = lock_scratch(&workspace.join(".lock"), SCRATCH_LOCK_WAIT)?;
    let mut members = Vec::new();
    for krate in crates {
        sync_folder(&krate.files, &workspace.join(&krate.name))?;
        members.push(format!("{:?}", krate.name));
    }
    // Not incremental: each of these crates is built once and then run,
    // never edited, so the compiler's incremental records (a quarter to a
    // third of each crate's build time, and gigabytes in all) would never
    // be read. And no debug information for the crates themselves (a
    // quarter of what is left), which only a debugger or a backtrace's
    // line numbers would use, in 16 pieces of code generation rather than
    // 256 (a tenth less again, for crates of a few thousand lines). All
    // three leave the dependencies as the stages build them (Cargo never
    // builds those incrementally, and the override names only these
    // crates), so they are still shared.
    let no_debug: String = crates
        .iter()
        .map(|krate| {
            format!(
                "[profile.dev.package.{:?}]\ndebug = 0\ncodegen-units = 16\n",
                krate.name
            )
        })
        .collect();
    let manifest = format!(
        "# Made by tests/suite/src/cargo.rs; rebuilt on every run.\n\
         [workspace]\nresolver = \"3\"\nmembers = [{}]\n\n\
         [profile.dev]\nincremental = false\n\n{no_debug}\n{}",
        members.join(", "),
        workspace_tables()?
    );
    write_if_changed(&workspace.join("Cargo.toml"), manifest.as_bytes())?;
    // The project's lock file, so that these crates build with exactly the
    // dependency versions the stages use.
    if !workspace.join("Cargo.lock").exists() {
        let lock = fs::read(root().join("Cargo.lock")).map_err(|err| err.to_string())?;
        write_if_changed(&workspace.join("Cargo.lock"), &lock)?;
    }
    let target = target_dir()?;
    let target_arg = target
        .to_str()
        .ok_or("the target folder's path is not UTF-8")?;
    let mut args = vec!["build", "--quiet", "--target-dir", target_arg];
    if profile() == "release" {
        args.push("--release");
    }
    cargo(&args, &workspace).map_err(|err| format!("building {name} failed: {err}"))?;
    Ok(target.join(profile()))
}

/// The compiler's warnings for `package` in the scratch workspace `name`,
/// which [`build_scratch`] has built: each as the compiler shows it, with
/// its place in the code and the lines it points at. Cargo keeps the
/// warnings of a crate it does not rebuild and shows them again, so this
/// costs no compiling. They are read from Cargo's JSON messages, which
/// are made for programs, rather than from the text meant for people.
pub fn scratch_warnings(name: &str, package: &str) -> Result<Vec<String>, String> {
    let workspace = target_dir()?.join(name);
    let _lock = lock_scratch(&workspace.join(".lock"), SCRATCH_LOCK_WAIT)?;
    let target = target_dir()?;
    let target = target
        .to_str()
        .ok_or("the target folder's path is not UTF-8")?;
    let mut command = cargo_command();
    command.current_dir(&workspace).args([
        "build",
        "--message-format=json",
        "--target-dir",
        target,
        "-p",
        package,
    ]);
    if profile() == "release" {
        command.arg("--release");
    }
    let finished = process::run(&mut command, CARGO_LIMIT)?;
    if !finished.status.success() {
        let stderr = String::from_utf8_lossy(&finished.stderr);
        return Err(format!("building {package} failed:\n{stderr}"));
    }
    let stdout = String::from_utf8_lossy(&finished.stdout);
    Ok(stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-message")
        .filter(|message| message["message"]["level"] == "warning")
        .filter_map(|message| message["message"]["rendered"].as_str().map(str::to_string))
        // The count at the end (`3 warnings emitted`) is a warning too.
        .filter(|rendered| {
            !rendered.contains(" warning emitted") && !rendered.contains(" warnings emitted")
        })
        .collect())
}

/// How long to wait for another process's build of the same scratch
/// workspace: as long as one build may take.
const SCRATCH_LOCK_WAIT: Duration = Duration::from_secs(10 * 60);

/// Takes the lock file at `path`, waiting up to `wait`.
///
/// Two processes that build the same scratch workspace at once (two
/// `cargo test` runs sharing a target folder, or `check` beside one) would
/// otherwise each write their files and member list between the other's
/// writing and building, and one of them could run a binary built from
/// the other's list. The lock is the file's (`File::try_lock`), so it
/// goes away with the process that held it, even after a crash; polling
/// with a deadline rather than `lock()` keeps a stuck holder from hanging
/// us for ever.
fn lock_scratch(path: &Path, wait: Duration) -> Result<fs::File, String> {
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|err| format!("cannot open {}: {err}", path.display()))?;
    let deadline = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(fs::TryLockError::WouldBlock) => {
                return Err(format!(
                    "another process has held {} for {wait:?}",
                    path.display()
                ));
            }
            Err(fs::TryLockError::Error(err)) => {
                return Err(format!("cannot lock {}: {err}", path.display()));
            }
        }
    }
}

/// The files of `stage`'s crate with `patch` applied, as a crate called
/// `name` (the library keeps the stage's name, so `use day3::…` works).
pub fn patched_stage(stage: Stage, patch: &Path, name: &str) -> Result<ScratchCrate, String> {
    let files = stage_files(stage, name)?;
    let files = patched_files(&files, &[patch.to_path_buf()])
        .map_err(|err| format!("{err} (against {stage})"))?;
    Ok(ScratchCrate {
        name: name.to_string(),
        files,
    })
}

/// The files of `stage`'s crate (paths relative to its folder), as a
/// crate called `name` (see [`renamed_manifest`]).
pub fn stage_files(stage: Stage, name: &str) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    let dir = root().join(stage.name());
    let mut files = read_folder(&dir, &dir.join("src"))?;
    // The final server also embeds its page with `include_str!`.
    if dir.join("static").is_dir() {
        files.extend(read_folder(&dir, &dir.join("static"))?);
    }
    let manifest = fs::read_to_string(dir.join("Cargo.toml")).map_err(|err| err.to_string())?;
    files.push((
        PathBuf::from("Cargo.toml"),
        renamed_manifest(&manifest, stage, name).into_bytes(),
    ));
    Ok(files)
}

/// `files` (paths relative to a crate's folder) with `patches` applied one
/// after another, as `git apply` does them.
pub fn patched_files(
    files: &[(PathBuf, Vec<u8>)],
    patches: &[PathBuf],
) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    in_scratch("patched", |scratch| apply_in(scratch, files, patches))
}

/// A patch that turns `old` into `new` (paths relative to a crate's
/// folder), as `git diff` writes it and `git apply` reads it, without the
/// `index` lines, which would change with every edit elsewhere in a file's
/// history and say nothing to a reader.
pub fn diff_files(
    old: &[(PathBuf, Vec<u8>)],
    new: &[(PathBuf, Vec<u8>)],
) -> Result<String, String> {
    in_scratch("diff", |scratch| diff_in(scratch, old, new))
}

/// Runs `work` in a new, empty temporary folder, and removes the folder
/// afterwards, whatever `work` returned. Each call gets a folder of its
/// own (the process id and a counter), so tests running at once never
/// share one.
fn in_scratch<T>(prefix: &str, work: impl FnOnce(&Path) -> T) -> T {
    static SCRATCH: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let number = SCRATCH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let scratch = std::env::temp_dir().join(format!("{prefix}-{}-{number}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    let result = work(&scratch);
    let _ = fs::remove_dir_all(&scratch);
    result
}

fn diff_in(
    scratch: &Path,
    old: &[(PathBuf, Vec<u8>)],
    new: &[(PathBuf, Vec<u8>)],
) -> Result<String, String> {
    // Folders called `a` and `b`, compared without git's own prefixes,
    // give the usual `a/src/x.rs` and `b/src/x.rs`.
    for (side, files) in [("a", old), ("b", new)] {
        fs::create_dir_all(scratch.join(side)).map_err(|err| err.to_string())?;
        for (path, bytes) in files {
            write_if_changed(&scratch.join(side).join(path), bytes)?;
        }
    }
    let finished = process::run(
        Command::new("git")
            .current_dir(scratch)
            .env("GIT_CEILING_DIRECTORIES", std::env::temp_dir())
            .args([
                "diff",
                "--no-index",
                "--no-prefix",
                "--no-color",
                "--no-ext-diff",
            ])
            .args(["a", "b"]),
        Duration::from_secs(60),
    )
    .map_err(|err| format!("cannot run git diff: {err}"))?;
    // 0: the same; 1: different; anything else: git failed.
    if !matches!(finished.status.code(), Some(0 | 1)) {
        return Err(format!(
            "git diff failed:\n{}",
            String::from_utf8_lossy(&finished.stderr)
        ));
    }
    let text = String::from_utf8(finished.stdout).map_err(|err| err.to_string())?;
    Ok(text
        .lines()
        .filter(|line| !line.starts_with("index "))
        .map(|line| match line.strip_prefix("diff --git ") {
            // A new file is named after its `b` side twice; say `a/` first,
            // as git does in a repository.
            Some(names) => {
                let path = names.split_once(' ').map_or(names, |(first, _)| first);
                let path = path.get(2..).unwrap_or(path);
                format!("diff --git a/{path} b/{path}\n")
            }
            None => format!("{line}\n"),
        })
        .collect())
}

fn apply_in(
    scratch: &Path,
    files: &[(PathBuf, Vec<u8>)],
    patches: &[PathBuf],
) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    for (path, bytes) in files {
        write_if_changed(&scratch.join(path), bytes)?;
    }
    for patch in patches {
        // `git apply` outside any repository is a plain patch tool, on
        // every system git runs on.
        let finished = process::run(
            Command::new("git")
                .current_dir(scratch)
                .env("GIT_CEILING_DIRECTORIES", std::env::temp_dir())
                .arg("apply")
                .arg(patch),
            Duration::from_secs(60),
        )
        .map_err(|err| format!("cannot run git apply: {err}"))?;
        if !finished.status.success() {
            return Err(format!(
                "{} no longer applies:\n{}",
                patch.display(),
                String::from_utf8_lossy(&finished.stderr)
            ));
        }
    }
    read_folder(scratch, scratch)
}

/// The stage's manifest, renamed to `name` so that every patched crate
/// gets a binary of its own, with the library keeping the stage's name.
pub fn renamed_manifest(manifest: &str, stage: Stage, name: &str) -> String {
    let package_name = format!("name = \"{}\"", stage.name());
    let mut text = manifest.replacen(&package_name, &format!("name = \"{name}\""), 1);
    match stage {
        Stage::Day1 => {}
        Stage::Final => {
            // `final` names its binary itself.
            text = text.replace(
                "[[bin]]\nname = \"final\"",
                &format!("[[bin]]\nname = \"{name}\""),
            );
        }
        _ => text.push_str(&format!("\n[lib]\nname = \"{}\"\n", stage.name())),
    }
    text
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
/// Cargo does not rebuild a crate that is the same as last time.
fn sync_folder(files: &[(PathBuf, Vec<u8>)], dir: &Path) -> Result<(), String> {
    let wanted: BTreeSet<&PathBuf> = files.iter().map(|(path, _)| path).collect();
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
    fn a_scratch_lock_keeps_a_second_holder_out_until_it_is_dropped() {
        let dir = std::env::temp_dir().join(format!("scratch-lock-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("can create a temporary folder");
        let path = dir.join(".lock");
        let first = lock_scratch(&path, Duration::ZERO).expect("a free lock is taken at once");
        let second = lock_scratch(&path, Duration::from_millis(200));
        assert!(second.is_err(), "a held lock must keep others out");
        drop(first);
        lock_scratch(&path, Duration::ZERO).expect("a dropped lock is free again");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn renamed_manifests_rename_the_package_but_keep_the_library() {
        let day3 = fs::read_to_string(root().join("day3/Cargo.toml")).expect("day3 exists");
        let text = renamed_manifest(&day3, Stage::Day3, "day3-head");
        assert!(text.contains("name = \"day3-head\""));
        assert!(text.contains("[lib]\nname = \"day3\""));
        let fin = fs::read_to_string(root().join("final/Cargo.toml")).expect("final exists");
        let text = renamed_manifest(&fin, Stage::Final, "final-put");
        assert!(text.contains("[[bin]]\nname = \"final-put\""));
    }

    #[test]
    fn the_target_folder_is_where_cargo_says() {
        let dir = target_dir().expect("cargo metadata works");
        let dir = dir.canonicalize().unwrap_or(dir);
        // This test binary itself was built there.
        let me = std::env::current_exe().expect("a test binary has a path");
        let me = me.canonicalize().unwrap_or(me);
        assert!(
            me.starts_with(&dir),
            "{} is not inside {}",
            me.display(),
            dir.display()
        );
    }
}

//! The platform tables (the README's "Platforms", the book's "Where it
//! runs") against CI. A ✓ there says that CI runs that row on that
//! platform; this test fails when a ✓ names a platform and a row that no
//! step of `.ci/run` runs. Anything weaker ("type-checked") is prose, and
//! not checked here: clippy's own step fails if it stops compiling.
//!
//! It matches lines of the CI scripts, not what they do when run: a
//! script that says it runs the checks and does not is for review to
//! catch. What it catches is the cheap lie, a ✓ added to a table.

use std::fs;
use std::path::Path;

/// The CI steps that run code, the platform each runs it on, the rows it
/// covers (by how their first cell starts), and a line of the CI scripts
/// that shows the step is there.
const RUNS: &[(&str, &[&str], &str)] = &[
    (
        "Linux",
        &[
            "`day1`",
            "`final`",
            "`check`",
            "`cargo test`",
            "the browser test",
        ],
        "timeout 20m cargo test",
    ),
    ("Linux", &["`bench`"], "--bin bench -- --smoke"),
    // Under Wine, on Linux: the stages' .exe files, with every check.
    (
        "Windows",
        &["`day1`", "`final`"],
        r#""$check" "$stage" --cmd "$wine"#,
    ),
];

const TABLES: &[&str] = &["README.md", "book/src/what-you-need.md"];

/// `.ci/run`, and each script it calls with `bash .ci/NAME`, comments
/// left out: a step that is only mentioned runs nothing.
fn ci_lines(root: &Path) -> Vec<String> {
    let read = |name: &str| fs::read_to_string(root.join(".ci").join(name)).expect("CI script");
    let run = read("run");
    let called = run
        .lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(|line| line.split("bash .ci/").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(read);
    [run.clone()]
        .into_iter()
        .chain(called)
        .flat_map(|text| text.lines().map(str::to_string).collect::<Vec<_>>())
        .filter(|line| !line.trim_start().starts_with('#'))
        .collect()
}

/// Every `(row, platform, cell)` of the tables headed
/// `| what | Linux | macOS | Windows |` in `text`.
fn cells(text: &str) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    let mut header: Option<Vec<String>> = None;
    for line in text.lines() {
        let row: Vec<String> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().to_string())
            .collect();
        if !line.starts_with('|') {
            header = None;
        } else if row.first().is_some_and(|c| c == "what") && row.iter().any(|c| c == "Windows") {
            header = Some(row);
        } else if let Some(header) = &header
            && !row[0].starts_with("---")
        {
            for (platform, cell) in header.iter().zip(&row).skip(1) {
                found.push((row[0].clone(), platform.clone(), cell.clone()));
            }
        }
    }
    found
}

#[test]
fn every_tick_in_the_platform_tables_is_a_step_ci_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let ci = ci_lines(&root);
    let runs = |platform: &str, row: &str| {
        RUNS.iter().any(|(on, rows, step)| {
            *on == platform
                && rows.iter().any(|start| row.starts_with(start))
                && ci.iter().any(|line| line.contains(step))
        })
    };
    let mut wrong = Vec::new();
    for table in TABLES {
        let text = fs::read_to_string(root.join(table)).expect("the table's file");
        let cells = cells(&text);
        assert!(cells.len() >= 12, "{table}: the platform table is gone");
        for (row, platform, cell) in cells {
            if cell.contains('✓') && !runs(&platform, &row) {
                wrong.push(format!("{table}: {row} on {platform} says {cell:?}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "a ✓ that no CI step runs (mark it type-checked, or add the step to .ci/run and to RUNS):\n{}",
        wrong.join("\n")
    );
}

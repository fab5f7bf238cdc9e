//! The book must not drift from the code.
//!
//! `mdbook build` succeeds even when an `{{#include}}` names a missing file
//! (it logs an error) or a missing anchor (it includes nothing). So this
//! test reads every page of `book/src` and checks what mdbook does not:
//! - every include names a file that exists and, if it names an anchor, an
//!   anchor that the file opens and closes;
//! - every link to another page points at a page that exists, and a link
//!   to a heading (`page.md#heading`) at a heading that page has, by
//!   mdBook's rule for heading ids;
//! - every anchor in the stages' code is included by some page, or
//!   `ANCHORS_NOT_INCLUDED` says why not;
//! - the book's and the README's lists of `final`'s crates are the crates
//!   in its `Cargo.toml`;
//! - every page in SUMMARY.md exists;
//! - no Rust code is pasted: a `rust` code block holds only includes;
//! - no HTTP response is typed by hand: a block showing a status line is an
//!   include (of a snapshot the suite checks);
//! - every check id the book names (such as `day2-body-1024`) exists;
//! - every exercise is stated in the book, under its id in bold
//!   (**day3-head**), and every such bold id is an exercise;
//! - the "What the devlog did" sections tell exactly the bugs of the devlog
//!   table (`suite::devlog::BUGS`), each under its bold lead, naming exactly
//!   the checks (or the test, or the lint) the table lists for it;
//! - every build-along step (`suite::steps::STEPS`) has its heading in its
//!   chapter, in order, names exactly the checks the table gives it, and
//!   ends with the `check` command that runs them on the learner's crate.

use std::fs;
use std::path::{Path, PathBuf};

use suite::anchors;
use suite::cargo;
use suite::checks;
use suite::devlog::{BUGS, Pin};
use suite::stage::Stage;
use suite::steps;
use workshop::exercises;

fn book_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src")
}

/// Every Markdown page, with its text.
fn pages() -> Vec<(PathBuf, String)> {
    let mut pages: Vec<(PathBuf, String)> = fs::read_dir(book_src())
        .expect("book/src exists")
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .map(|path| {
            let text = fs::read_to_string(&path).expect("pages are UTF-8 text");
            (path, text)
        })
        .collect();
    pages.sort();
    pages
}

/// The `{{#include …}}` and `{{#rustdoc_include …}}` directives on a page.
fn includes(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{#") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else { break };
        let directive = &after[..end];
        if let Some(argument) = directive
            .strip_prefix("include ")
            .or_else(|| directive.strip_prefix("rustdoc_include "))
        {
            found.push(argument.trim().to_string());
        }
        rest = &after[end..];
    }
    found
}

#[test]
fn includes_name_existing_files_and_anchors() {
    let mut problems = Vec::new();
    for (page, text) in pages() {
        for argument in includes(&text) {
            let mut parts = argument.splitn(2, ':');
            let file = parts.next().unwrap_or_default();
            let selector = parts.next();
            let path = page.parent().expect("pages live in a folder").join(file);
            let Ok(source) = fs::read_to_string(&path) else {
                problems.push(format!("{}: no file {file}", page.display()));
                continue;
            };
            // `file:anchor` names an anchor; `file:3:` or `file:3:9` names lines.
            let Some(anchor) = selector.filter(|s| !s.starts_with(|c: char| c.is_ascii_digit()))
            else {
                continue;
            };
            match anchors::anchors(&source) {
                Ok(found) if found.iter().any(|a| a.name == anchor) => {}
                Ok(_) => {
                    problems.push(format!("{}: {file} has no anchor {anchor}", page.display()))
                }
                Err(err) => problems.push(format!("{}: {file}: {err}", page.display())),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "broken includes:\n{}",
        problems.join("\n")
    );
}

#[test]
fn links_between_pages_resolve() {
    let mut problems = Vec::new();
    for (page, text) in pages() {
        for (i, _) in text.match_indices("](") {
            let target = &text[i + 2..];
            let Some(end) = target.find(')') else {
                continue;
            };
            let target = &target[..end];
            if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let file = target.split('#').next().unwrap_or_default();
            let path = page.parent().expect("pages live in a folder").join(file);
            if !path.exists() {
                problems.push(format!("{}: link to missing {target}", page.display()));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

#[test]
fn code_and_responses_are_included_not_pasted() {
    let mut problems = Vec::new();
    for (page, text) in pages() {
        let mut block: Option<(String, Vec<&str>)> = None;
        for line in text.lines() {
            let trimmed = line.trim_start();
            if let Some(info) = trimmed.strip_prefix("```") {
                match block.take() {
                    None => block = Some((info.to_string(), Vec::new())),
                    Some((info, lines)) => {
                        let all_includes = lines
                            .iter()
                            .filter(|l| !l.trim().is_empty())
                            .all(|l| l.trim().starts_with("{{#"));
                        let is_rust = info.split(',').next() == Some("rust");
                        let shows_response = lines.iter().any(|l| shows_status_line(l));
                        if (is_rust || shows_response) && !all_includes {
                            problems.push(format!(
                                "{}: a ```{info} block is typed in, not included: {:?}",
                                page.display(),
                                lines.first().unwrap_or(&"")
                            ));
                        }
                    }
                }
            } else if let Some((_, lines)) = &mut block {
                lines.push(line);
            }
        }
    }
    assert!(
        problems.is_empty(),
        "pasted code or responses:\n{}",
        problems.join("\n")
    );
}

/// Whether `line` holds a status line such as `HTTP/1.1 200 OK`.
fn shows_status_line(line: &str) -> bool {
    line.match_indices("HTTP/1.").any(|(i, _)| {
        let rest = &line.as_bytes()[i + 7..];
        rest.len() >= 5 && rest[1] == b' ' && rest[2..5].iter().all(u8::is_ascii_digit)
    })
}

#[test]
fn summary_lists_existing_pages() {
    let summary = fs::read_to_string(book_src().join("SUMMARY.md")).expect("SUMMARY.md exists");
    for (i, _) in summary.match_indices("](") {
        let target = &summary[i + 2..];
        let target = &target[..target.find(')').expect("links close")];
        assert!(
            book_src().join(target).exists(),
            "SUMMARY.md lists missing {target}"
        );
    }
}

#[test]
fn check_ids_named_in_the_book_exist() {
    let mut problems = Vec::new();
    for (page, text) in pages() {
        for word in text.split('`') {
            let looks_like_id = word.len() > 5
                && word.starts_with("day")
                && word.as_bytes()[3].is_ascii_digit()
                && word.as_bytes()[4] == b'-'
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if looks_like_id && checks::find(word).is_none() {
                problems.push(format!("{}: no check called {word}", page.display()));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "unknown check ids:\n{}",
        problems.join("\n")
    );
}

#[test]
fn exercises_are_stated_in_the_book_and_exist() {
    let mut stated = Vec::new();
    let mut problems = Vec::new();
    for (page, text) in pages() {
        for (i, _) in text.match_indices("**") {
            let rest = &text[i + 2..];
            let Some(end) = rest.find("**") else { break };
            let word = &rest[..end];
            let looks_like_id = (word.starts_with("day") || word.starts_with("final-"))
                && word.contains('-')
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !looks_like_id {
                continue;
            }
            if exercises::find(word).is_some() {
                stated.push(word.to_string());
            } else {
                problems.push(format!("{}: no exercise called {word}", page.display()));
            }
        }
    }
    for exercise in exercises::all() {
        if !stated.iter().any(|id| id == exercise.id()) {
            problems.push(format!(
                "exercise {} is not stated in the book (as **{}**)",
                exercise.id(),
                exercise.id()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The "What the devlog did" section of a page: from its heading to the
/// next heading of the same level.
fn devlog_section(text: &str) -> Option<&str> {
    let start = text.find("\n## What the devlog did\n")? + 1;
    let body = &text[start + 3..];
    let end = body.find("\n## ").map_or(text.len(), |i| start + 3 + i);
    Some(&text[start..end])
}

/// The bugs a devlog section tells: each paragraph that opens with bold
/// words, as those words and everything up to the next such paragraph.
fn bug_paragraphs(section: &str) -> Vec<(&str, &str)> {
    let starts: Vec<usize> = section.match_indices("\n**").map(|(i, _)| i + 1).collect();
    starts
        .iter()
        .enumerate()
        .filter_map(|(n, &start)| {
            let lead_end = section[start + 2..].find("**")? + start + 2;
            let end = starts.get(n + 1).copied().unwrap_or(section.len());
            Some((&section[start + 2..lead_end], &section[start..end]))
        })
        .collect()
}

/// The check ids named in `text`, in backticks.
fn named_checks(text: &str) -> Vec<&str> {
    text.split('`')
        .filter(|word| checks::find(word).is_some())
        .collect()
}

#[test]
fn devlog_sections_match_the_devlog_table() {
    let mut problems = Vec::new();
    let mut told = Vec::new();
    for (page, text) in pages() {
        let Some(section) = devlog_section(&text) else {
            continue;
        };
        let name = page
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default();
        let paragraphs = bug_paragraphs(section);
        let before_first = paragraphs.first().map_or(section, |(_, paragraph)| {
            &section[..section.find(paragraph).unwrap_or(0)]
        });
        for id in named_checks(before_first) {
            problems.push(format!(
                "{name}: `{id}` is named in the devlog section outside any bug's paragraph"
            ));
        }
        for (lead, paragraph) in paragraphs {
            let Some(bug) = BUGS.iter().find(|bug| bug.page == name && bug.lead == lead) else {
                problems.push(format!(
                    "{name}: the bug **{lead}** is not in the devlog table (tests/suite/src/devlog.rs)"
                ));
                continue;
            };
            told.push((bug.page, bug.lead));
            let listed: Vec<&str> = bug.checks().iter().map(|(id, _)| *id).collect();
            let named = named_checks(paragraph);
            for id in &named {
                if !listed.contains(id) {
                    problems.push(format!(
                        "{name}: **{lead}** names `{id}`, which the devlog table does not list for it"
                    ));
                }
            }
            for id in &listed {
                if !named.contains(id) {
                    problems.push(format!(
                        "{name}: **{lead}** does not name `{id}`, which the devlog table lists for it"
                    ));
                }
            }
            let pinned_by = match bug.pin {
                Pin::Checks(_) => None,
                Pin::Test { name, .. } => Some(name),
                Pin::Lint(lint) => Some(lint),
            };
            if let Some(pin) = pinned_by
                && !paragraph.contains(&format!("`{pin}`"))
            {
                problems.push(format!(
                    "{name}: **{lead}** does not name `{pin}`, which pins it"
                ));
            }
        }
    }
    for bug in BUGS {
        if !told.contains(&(bug.page, bug.lead)) {
            problems.push(format!(
                "the devlog table's bug {:?} is not told in {}'s \"What the devlog did\", as a paragraph opening with **{}**",
                bug.lead, bug.page, bug.lead
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The diffs the book shows between one day and the next
/// (`book/src/diffs/dayN.diff`) must match the crates as they are now.
///
/// They are made with `git diff --no-index` over each pair of `src`
/// folders, with the `ANCHOR` comment lines taken out first: those exist
/// for the book, not for the reader of a diff. After changing a stage, run
/// `UPDATE_DIFFS=1 cargo test -p tests book::` and commit the result.
#[test]
fn stage_diffs_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let stages = ["day1", "day2", "day3", "day4"];
    let update = std::env::var_os("UPDATE_DIFFS").is_some();
    let mut stale = Vec::new();
    for pair in stages.windows(2) {
        let diff = stage_diff(&root, pair[0], pair[1]);
        let path = book_src().join("diffs").join(format!("{}.diff", pair[1]));
        if fs::read_to_string(&path).ok().as_deref() == Some(diff.as_str()) {
            continue;
        }
        if update {
            fs::create_dir_all(path.parent().expect("diffs has a parent"))
                .expect("can create diffs/");
            fs::write(&path, diff).expect("can write the diff");
        } else {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stage diffs are out of date: {stale:?}\nrun `UPDATE_DIFFS=1 cargo test -p tests book::`"
    );
}

fn stage_diff(root: &Path, old: &str, new: &str) -> String {
    let work = std::env::temp_dir().join(format!("stage-diff-{}-{new}", std::process::id()));
    let _ = fs::remove_dir_all(&work);
    for stage in [old, new] {
        copy_without_anchors(&root.join(stage).join("src"), &work.join(stage).join("src"));
    }
    let output = std::process::Command::new("git")
        .current_dir(&work)
        .args([
            "-c",
            "core.quotepath=off",
            "diff",
            "--no-index",
            "--no-color",
            "--no-prefix",
        ])
        .arg(format!("{old}/src"))
        .arg(format!("{new}/src"))
        .output()
        .expect("git is installed");
    let _ = fs::remove_dir_all(&work);
    // `git diff --no-index` exits with 1 when the trees differ, as they do.
    assert!(
        output.status.code() == Some(1),
        "git diff failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("the stages are UTF-8")
}

fn copy_without_anchors(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("can create a temporary folder");
    let mut entries: Vec<PathBuf> = fs::read_dir(from)
        .expect("the stage has a src folder")
        .map(|entry| entry.expect("readable entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let target = to.join(path.file_name().expect("entries have names"));
        if path.is_dir() {
            copy_without_anchors(&path, &target);
            continue;
        }
        let text = fs::read_to_string(&path).expect("sources are UTF-8");
        let kept: String = text
            .lines()
            .filter(|line| !anchors::is_marker(line))
            .map(|line| format!("{line}\n"))
            .collect();
        fs::write(target, kept).expect("can write a temporary file");
    }
}

/// The page of a step's chapter.
fn chapter_of(step: &steps::Step) -> PathBuf {
    book_src().join(format!("{}.md", step.chapter))
}

#[test]
fn every_step_has_its_heading_names_its_checks_and_ends_with_the_check_command() {
    let mut problems = Vec::new();
    for stage in Stage::ALL {
        let step_list = steps::of_stage(stage);
        if step_list.is_empty() {
            continue;
        }
        let mut last_start = 0;
        let mut last_chapter = "";
        for step in step_list {
            let page = chapter_of(step);
            let text = fs::read_to_string(&page).expect("the chapter exists");
            if step.chapter != last_chapter {
                last_start = 0;
                last_chapter = step.chapter;
            }
            let heading = format!("\n## {}\n", step.heading());
            let Some(at) = text.find(&heading) else {
                problems.push(format!(
                    "{}: no heading `## {}`",
                    page.display(),
                    step.heading()
                ));
                continue;
            };
            if at < last_start {
                problems.push(format!(
                    "{}: `{}` is out of order",
                    page.display(),
                    step.heading()
                ));
            }
            last_start = at;
            let start = at + heading.len();
            let end = text[start..]
                .find("\n## ")
                .map_or(text.len(), |i| start + i);
            let section = &text[start..end];

            let mut named = named_checks(section);
            named.sort_unstable();
            named.dedup();
            let mut listed: Vec<&str> = step.checks.to_vec();
            listed.extend(step.turns_red);
            listed.sort_unstable();
            if named != listed {
                problems.push(format!(
                    "{}: names {named:?}, but the table gives it {listed:?}",
                    step.heading()
                ));
            }
            // The section ends with a shell block holding the command.
            let command = format!("cargo run -p tests --bin check -- {stage} --crate ");
            let last_block = section.trim_end().strip_suffix("```").and_then(|rest| {
                let open = rest.rfind("```sh\n")?;
                Some(&rest[open..])
            });
            if !last_block.is_some_and(|block| block.contains(&command)) {
                problems.push(format!(
                    "{}: does not end with a ```sh block running `{command}NAME`",
                    step.heading()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// How many lines an include shows, for a code include; `None` for what
/// is not code (snapshots, recorded logs, stage diffs), which may be long.
/// The anchors that the page, or a later one, shows elsewhere are left
/// out, as the book's preprocessor leaves them out
/// (`suite::anchors::expand_page`).
fn code_lines_shown(page: &Path, argument: &str) -> Option<usize> {
    let (file, anchor) = argument.split_once(':').unwrap_or((argument, ""));
    if !file.ends_with(".rs") && !file.ends_with(".js") {
        return None;
    }
    let source = fs::read_to_string(page.parent()?.join(file)).ok()?;
    if anchor.starts_with(|c: char| c.is_ascii_digit()) {
        return Some(anchors::without_markers(&source).lines().count());
    }
    let name = page.file_name()?.to_str()?;
    let book = anchors::book_from(&book_src(), name).ok()?;
    let hidden = anchors::hidden_in_book(&book, file, anchor);
    let shown = anchors::shown_hiding(&source, anchor, &hidden).ok()?;
    Some(shown.lines().count())
}

/// The most lines of code one include may show. Past it, a reader loses
/// the thread: split the code into anchors and walk through them.
const LONGEST_INCLUDE: usize = 40;

#[test]
fn no_code_include_is_longer_than_the_limit() {
    let mut problems = Vec::new();
    for (page, text) in pages() {
        for argument in includes(&text) {
            if let Some(lines) = code_lines_shown(&page, &argument)
                && lines > LONGEST_INCLUDE
            {
                problems.push(format!(
                    "{}: {argument} shows {lines} lines",
                    page.file_name().unwrap_or_default().to_string_lossy()
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "includes of more than {LONGEST_INCLUDE} lines; split them, with prose between the parts:\n{}",
        problems.join("\n")
    );
}

#[test]
fn no_code_is_included_twice() {
    let mut seen: Vec<(String, String)> = Vec::new();
    let mut problems = Vec::new();
    for (page, text) in pages() {
        let name = page
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        for argument in includes(&text) {
            if code_lines_shown(&page, &argument).is_none() {
                continue;
            }
            match seen.iter().find(|(_, earlier)| *earlier == argument) {
                Some((first, _)) => problems.push(format!(
                    "{argument} is included by {first} and again by {name}; link back instead"
                )),
                None => seen.push((name.clone(), argument)),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The glossary's entries: the anchor of each (`glossary.md#anchor`) and
/// the forms of the word the pages use.
const GLOSSARY: &[(&str, &[&str])] = &[
    ("backlog", &["backlog"]),
    ("body", &["body"]),
    ("chunked", &["chunked"]),
    ("cors", &["cors"]),
    ("dns-rebinding", &["dns rebinding"]),
    ("entity-tag", &["entity tag"]),
    ("event-loop", &["event loop", "event loops"]),
    ("group-commit", &["group commit"]),
    ("head", &["head"]),
    ("header", &["header", "headers"]),
    ("idempotent", &["idempotent"]),
    ("keep-alive", &["keep-alive"]),
    ("lingering-close", &["lingering close"]),
    ("origin", &["origin", "origins"]),
    ("pipelining", &["pipelining", "pipelined"]),
    ("poisoning", &["poisoning", "poisoned"]),
    ("preflight", &["preflight", "preflights"]),
    ("request-line", &["request line"]),
    ("request-target", &["request target"]),
    ("same-origin-policy", &["same-origin policy"]),
    ("slowloris", &["slowloris"]),
    ("smuggling", &["smuggling", "smuggled"]),
    ("status-line", &["status line"]),
    ("sync", &["sync"]),
    ("token", &["token", "tokens"]),
    ("torn-write", &["torn write", "torn"]),
];

/// The pages in the order a reader meets them (SUMMARY.md's), the
/// glossary itself left out.
fn reading_order() -> Vec<String> {
    let summary = fs::read_to_string(book_src().join("SUMMARY.md")).expect("SUMMARY.md exists");
    summary
        .lines()
        .filter_map(|line| line.split_once("](")?.1.split_once(')'))
        .map(|(page, _)| page.to_string())
        .filter(|page| page != "glossary.md")
        .collect()
}

/// `text` with everything that is not prose blanked out, byte for byte
/// (so positions still match): code blocks, inline code, headings,
/// includes, HTML tags and link targets. Link texts stay: they are prose.
fn prose_only(text: &str) -> Vec<u8> {
    let mut masked = text.as_bytes().to_vec();
    let mut blank = |from: usize, to: usize| masked[from..to].fill(b' ');
    let mut in_fence = false;
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let end = start + line.len();
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_fence = !in_fence;
            blank(start, end);
        } else if in_fence || trimmed.starts_with('#') {
            blank(start, end);
        } else {
            let bytes = line.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                // An image: its alt text is for screen readers, not prose
                // with links, so all of `![…](…)` goes.
                if bytes[i..].starts_with(b"![") {
                    let end = line[i..].find("](").and_then(|open| {
                        line[i + open..].find(')').map(|close| i + open + close + 1)
                    });
                    if let Some(end) = end {
                        blank(start + i, start + end);
                        i = end;
                        continue;
                    }
                }
                let closing = match (bytes[i], bytes.get(i + 1)) {
                    (b'`', _) => Some(b'`'),
                    (b'<', _) => Some(b'>'),
                    (b'{', Some(b'{')) => Some(b'}'),
                    (b']', Some(b'(')) => Some(b')'),
                    _ => None,
                };
                let skip_to = closing.and_then(|close| {
                    let from = if bytes[i] == b']' { i + 1 } else { i };
                    let rest = &bytes[from + 1..];
                    rest.iter()
                        .position(|b| *b == close)
                        .map(|at| from + 1 + at + 1)
                });
                match skip_to {
                    Some(to) => {
                        let from = if bytes[i] == b']' { i + 1 } else { i };
                        blank(start + from, start + to);
                        i = to;
                    }
                    None => i += 1,
                }
            }
        }
        start = end;
    }
    masked.make_ascii_lowercase();
    masked
}

/// Where `word` first stands as a whole word in `masked`.
fn first_word(masked: &[u8], word: &str) -> Option<usize> {
    let word = word.as_bytes();
    let part_of_word = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
    (0..masked.len().saturating_sub(word.len() - 1)).find(|&at| {
        masked[at..].starts_with(word)
            && (at == 0 || !part_of_word(masked[at - 1]))
            && masked
                .get(at + word.len())
                .is_none_or(|b| !part_of_word(*b))
    })
}

#[test]
fn glossary_words_are_defined_and_linked_where_first_used() {
    let glossary = fs::read_to_string(book_src().join("glossary.md")).expect("glossary.md exists");
    let defined: Vec<String> = glossary
        .lines()
        .filter_map(|line| line.strip_prefix("## "))
        .map(|title| title.trim().to_lowercase().replace(' ', "-"))
        .collect();
    let listed: Vec<String> = GLOSSARY
        .iter()
        .map(|(anchor, _)| anchor.to_string())
        .collect();
    assert_eq!(
        defined, listed,
        "glossary.md's entries and the GLOSSARY table differ"
    );

    let mut problems = Vec::new();
    for (_, text) in pages() {
        for (at, _) in text.match_indices("glossary.md#") {
            let anchor: String = text[at + 12..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if !listed.contains(&anchor) {
                problems.push(format!("a link to glossary.md#{anchor}, which is no entry"));
            }
        }
    }
    for (anchor, words) in GLOSSARY {
        let first_use = reading_order().into_iter().find_map(|page| {
            let text = fs::read_to_string(book_src().join(&page)).ok()?;
            let masked = prose_only(&text);
            let at = words
                .iter()
                .filter_map(|word| first_word(&masked, word))
                .min()?;
            Some((page, text, at))
        });
        let Some((page, text, at)) = first_use else {
            problems.push(format!("glossary.md#{anchor}: no page uses the word"));
            continue;
        };
        // The first use must be the text of a link to the entry.
        let rest = &text[at..];
        let linked = rest
            .find(']')
            .filter(|close| !rest[..*close].contains('['))
            .is_some_and(|close| rest[close..].starts_with(&format!("](glossary.md#{anchor})")));
        if !linked {
            let line = text[..at].lines().count();
            problems.push(format!(
                "{page}, line {line}: the first use of a glossary word should link to glossary.md#{anchor}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The id mdBook gives a heading: its text without markup, lower-cased,
/// each space a `-`, and every other character that is not a letter, a
/// digit, `_` or `-` left out (mdBook's `normalize_id`).
fn heading_id(heading: &str) -> String {
    // Markup is not part of the text: `code`, **bold**, and [links](…),
    // whose text stays and whose target goes.
    let mut text = String::new();
    let mut rest = heading;
    while let Some(open) = rest.find('[') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find("](").zip(after.find(')')) {
            Some((middle, close)) if middle < close => {
                text.push_str(&after[..middle]);
                rest = &after[close + 1..];
            }
            _ => {
                text.push('[');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    text.chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_ascii_lowercase())
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// The ids of a page's headings, as mdBook makes them: a second heading
/// with the same id gets `-1`, a third `-2`. Lines inside code blocks are
/// not headings, whatever they start with.
fn heading_ids(text: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        let title = line.trim_start_matches('#');
        if in_code || title.len() == line.len() || !title.starts_with(' ') {
            continue;
        }
        let id = heading_id(title.trim());
        let twins = ids
            .iter()
            .filter(|seen| **seen == id || seen.starts_with(&format!("{id}-")))
            .count();
        ids.push(if twins == 0 {
            id
        } else {
            format!("{id}-{twins}")
        });
    }
    ids
}

#[test]
fn heading_ids_follow_mdbooks_rule() {
    let page = "# Day 1\n## Step 6: Handlers that wait go to `worker` threads\n\
                ```sh\n# not a heading\n```\n## [Fetch](https://x.example) and CORS\n## Day 1\n";
    assert_eq!(
        heading_ids(page),
        [
            "day-1",
            "step-6-handlers-that-wait-go-to-worker-threads",
            "fetch-and-cors",
            "day-1-1",
        ]
    );
}

#[test]
fn links_to_a_heading_name_one_that_exists() {
    let pages = pages();
    let ids = |name: &str| {
        pages
            .iter()
            .find(|(path, _)| path.file_name().is_some_and(|file| file == name))
            .map(|(_, text)| heading_ids(text))
    };
    let mut problems = Vec::new();
    for (page, text) in &pages {
        let here = page.file_name().unwrap_or_default().to_string_lossy();
        for (i, _) in text.match_indices("](") {
            let target = &text[i + 2..];
            let Some(end) = target.find(')') else {
                continue;
            };
            let target = &target[..end];
            let Some((file, fragment)) = target.split_once('#') else {
                continue;
            };
            if target.contains("://") {
                continue;
            }
            let file = if file.is_empty() { &*here } else { file };
            match ids(file) {
                Some(ids) if ids.iter().any(|id| id == fragment) => {}
                Some(_) => problems.push(format!("{here}: {target}: no such heading in {file}")),
                // A link to a missing page is links_between_pages_resolve's
                // to report.
                None => {}
            }
        }
    }
    assert!(
        problems.is_empty(),
        "links to headings that do not exist:\n{}",
        problems.join("\n")
    );
}

/// Anchors that no page includes, and why each stays.
const ANCHORS_NOT_INCLUDED: &[(&str, &str, &str)] = &[(
    "final/src/lib.rs",
    "serde_writes_json",
    "empty: it only marks where day 4's `pub mod json;` (its stand-in) stays until the handover",
)];

/// Every `ANCHOR: name` in the code the book is made of: (file, name),
/// the file as a page names it (`../../final/src/cli.rs`).
fn source_anchors() -> Vec<(String, String)> {
    let root = book_src().join("../..");
    let mut files = Vec::new();
    for folder in [
        "day1/src",
        "day2/src",
        "day3/src",
        "day4/src",
        "final/src",
        "final/static",
    ] {
        let mut todo = vec![root.join(folder)];
        while let Some(dir) = todo.pop() {
            for entry in fs::read_dir(&dir).expect("the stages' folders exist") {
                let path = entry.expect("readable directory entry").path();
                if path.is_dir() {
                    todo.push(path);
                } else {
                    files.push(path);
                }
            }
        }
    }
    let mut found = Vec::new();
    for path in files {
        let Ok(source) = fs::read_to_string(&path) else {
            continue;
        };
        let name = path
            .strip_prefix(&root)
            .expect("found under the root")
            .to_string_lossy()
            .replace('\\', "/");
        for anchor in anchors::anchors(&source).unwrap_or_default() {
            found.push((format!("../../{name}"), anchor.name));
        }
    }
    found.sort();
    found
}

#[test]
fn every_anchor_is_included_or_says_why_not() {
    let included: Vec<String> = pages()
        .iter()
        .flat_map(|(_, text)| includes(text))
        .collect();
    let mut problems = Vec::new();
    let anchors = source_anchors();
    for (file, anchor) in &anchors {
        // A day repeats the days before it, and the book shows that as a
        // diff: an anchor it kept from an earlier day was shown there.
        let shown = (1..=4)
            .map(|day| match file.split_once("/day") {
                Some((head, tail)) if tail.starts_with(|c: char| c.is_ascii_digit()) => {
                    format!("{head}/day{day}{}", &tail[1..])
                }
                _ => file.clone(),
            })
            .take_while(|earlier| earlier <= file)
            .any(|earlier| included.contains(&format!("{earlier}:{anchor}")));
        let excused = ANCHORS_NOT_INCLUDED
            .iter()
            .any(|(f, a, _)| file.ends_with(f) && a == anchor);
        match (shown, excused) {
            (false, false) => problems.push(format!(
                "{file}: anchor {anchor} is included by no page (include it, remove it, or say why in ANCHORS_NOT_INCLUDED)"
            )),
            (true, true) => problems.push(format!(
                "{file}: anchor {anchor} is included, so ANCHORS_NOT_INCLUDED need not excuse it"
            )),
            _ => {}
        }
    }
    for (file, anchor, _) in ANCHORS_NOT_INCLUDED {
        if !anchors
            .iter()
            .any(|(f, a)| f.ends_with(file) && a == anchor)
        {
            problems.push(format!(
                "ANCHORS_NOT_INCLUDED names {file}:{anchor}, which does not exist"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The crates a manifest's `[dependencies]` table names.
fn dependencies(manifest: &str) -> Vec<String> {
    let text =
        fs::read_to_string(book_src().join("../..").join(manifest)).expect("the manifest exists");
    let mut names: Vec<String> = text
        .lines()
        .skip_while(|line| line.trim() != "[dependencies]")
        .skip(1)
        .take_while(|line| !line.starts_with('['))
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            line.split_once('=')
                .map(|(name, _)| name.trim().to_string())
        })
        .filter(|name| !name.is_empty())
        .collect();
    names.sort();
    names
}

/// The crates named in backticks in the first column of the Markdown
/// table that follows `heading` in `text`, keeping only the rows whose
/// other columns say `keep` (a row's "used by", say).
fn crates_in_table(text: &str, heading: &str, keep: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .lines()
        .skip_while(|line| line.trim() != heading)
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .skip(2)
        .filter_map(|row| {
            let mut cells = row.split('|').skip(1);
            let first = cells.next()?;
            let rest: Vec<&str> = cells.collect();
            rest.iter().any(|cell| cell.contains(keep)).then_some(first)
        })
        // What follows in brackets is not a crate: "`mio` (features `net`)".
        .map(|cell| cell.split('(').next().unwrap_or_default())
        .flat_map(|cell| cell.split('`').skip(1).step_by(2).map(str::to_string))
        .collect();
    names.sort();
    names
}

#[test]
fn the_books_and_readmes_lists_of_finals_crates_are_its_manifests() {
    let manifest = dependencies("final/Cargo.toml");
    let chapter =
        fs::read_to_string(book_src().join("final-groundwork.md")).expect("the chapter exists");
    assert_eq!(
        crates_in_table(&chapter, "## The crates it uses", ""),
        manifest,
        "final-groundwork.md's table of crates against final/Cargo.toml"
    );
    // The `cargo add` lines a learner runs add the same crates.
    let mut added: Vec<String> = chapter
        .lines()
        .filter_map(|line| line.strip_prefix("cargo add "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .collect();
    added.sort();
    let mut expected = manifest.clone();
    expected.sort();
    assert_eq!(
        added, expected,
        "final-groundwork.md's `cargo add` lines against final/Cargo.toml"
    );
    let readme = fs::read_to_string(book_src().join("../../README.md")).expect("the README exists");
    assert_eq!(
        crates_in_table(&readme, "## Dependencies, and why", "`final`"),
        manifest,
        "the README's rows for `final` against final/Cargo.toml"
    );
}

/// The most of a day's source file that anchor markers may take. Past it
/// the file reads as the book's scaffolding rather than as a program.
const MOST_MARKER_LINES_PERCENT: usize = 10;

#[test]
fn marker_lines_are_at_most_a_tenth_of_any_days_file() {
    let mut problems = Vec::new();
    let mut largest = (0.0, String::new());
    for stage in ["day1", "day2", "day3", "day4"] {
        let folder = book_src().join("../..").join(stage).join("src");
        for entry in fs::read_dir(&folder).expect("the stage has a src folder") {
            let path = entry.expect("a readable entry").path();
            let text = fs::read_to_string(&path).expect("sources are UTF-8");
            let lines = text.lines().count();
            let markers = text.lines().filter(|line| anchors::is_marker(line)).count();
            let share = 100.0 * markers as f64 / lines.max(1) as f64;
            let name = format!(
                "{stage}/src/{}",
                path.file_name().unwrap_or_default().to_string_lossy()
            );
            if share > largest.0 {
                largest = (share, name.clone());
            }
            if markers * 100 > lines * MOST_MARKER_LINES_PERCENT {
                problems.push(format!(
                    "{name}: {markers} marker lines of {lines} ({share:.1}%)"
                ));
            }
        }
    }
    println!(
        "the largest share of marker lines: {:.1}% in {}",
        largest.0, largest.1
    );
    assert!(
        problems.is_empty(),
        "more than {MOST_MARKER_LINES_PERCENT}% marker lines; nest an anchor inside another instead of cutting a function in pieces:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_line_a_day_adds_is_shown_by_one_of_its_steps() {
    // The learner's crate is made from what the steps show, and making it
    // fails on a line that no step shows (`workshop::build_along`).
    let days = [Stage::Day1, Stage::Day2, Stage::Day3, Stage::Day4];
    for stage in days
        .into_iter()
        .filter(|day| !steps::of_stage(*day).is_empty())
    {
        let last = steps::of_stage(stage).len();
        let files = workshop::build_along::files_after(stage, last)
            .unwrap_or_else(|err| panic!("{stage}: {err}"));
        assert!(!files.is_empty(), "{stage}");
    }
}

/// The function that holds line `line` of `source`: the nearest `fn`
/// above it that is indented less.
fn enclosing_function(source: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = source.lines().collect();
    let indent = |text: &str| text.len() - text.trim_start().len();
    let own = indent(lines.get(line)?);
    lines[..line].iter().rev().find_map(|text| {
        let (_, rest) = text.split_once("fn ")?;
        (indent(text) < own && !text.trim_start().starts_with("//")).then(|| {
            rest.split(['(', '<'])
                .next()
                .unwrap_or_default()
                .to_string()
        })
    })
}

#[test]
fn every_step_says_where_its_code_goes() {
    // Before its first code block from a file, a step names the file
    // (`request.rs`, `http/request.rs`); before a piece that goes inside a function, the
    // paragraph just above names the function.
    let mut problems = Vec::new();
    // The connections chapter was written before this rule, and says
    // where its code goes in prose of its own.
    let steps = steps::STEPS
        .iter()
        .filter(|step| step.chapter != "final-connections");
    for step in steps {
        let page = chapter_of(step);
        let text = fs::read_to_string(&page).expect("the chapter exists");
        {
            let heading = format!("\n## {}\n", step.heading());
            let Some(at) = text.find(&heading) else {
                continue;
            };
            let start = at + heading.len();
            let end = text[start..]
                .find("\n## ")
                .map_or(text.len(), |i| start + i);
            let section = &text[start..end];
            for (offset, _) in section.match_indices("{{#include ../../") {
                let line_end = section[offset..]
                    .find('\n')
                    .map_or(section.len(), |i| offset + i);
                let argument = &section[offset + "{{#include ".len()..line_end - 2];
                let (path, anchor) = argument.split_once(':').unwrap_or((argument, ""));
                if !path.ends_with(".rs") {
                    continue;
                }
                let before = &section[..offset];
                // The file as its crate names it (`store/state.rs`), or by
                // its plain name (`state.rs`) where no day has a file of
                // that name: `http/request.rs` is not day 4's `request.rs`.
                let file = path.split_once("/src/").map_or(path, |(_, in_src)| in_src);
                let plain = file.rsplit('/').next().unwrap_or_default();
                let plain_is_clear = plain != file
                    && !Stage::ALL.iter().any(|day| {
                        *day != Stage::Final
                            && cargo::root()
                                .join(day.name())
                                .join("src")
                                .join(plain)
                                .exists()
                    });
                let named = |name: &str| {
                    before.contains(&format!("`{name}`"))
                        || before.contains(&format!("`src/{name}`"))
                };
                if !(named(file) || (plain_is_clear && named(plain))) {
                    problems.push(format!(
                        "{}: {argument}: the step does not name `{file}` before it",
                        step.heading()
                    ));
                }
                let source = fs::read_to_string(page.parent().expect("a folder").join(path))
                    .expect("the included file exists");
                let Some(found) = anchors::anchors(&source)
                    .ok()
                    .and_then(|all| all.into_iter().find(|a| a.name == anchor))
                else {
                    continue;
                };
                if let Some(function) = enclosing_function(&source, found.start) {
                    let prose = before.trim_end();
                    let prose = prose.strip_suffix("```rust,ignore").unwrap_or(prose);
                    let paragraph = prose.trim_end().rsplit("\n\n").next().unwrap_or_default();
                    let named = paragraph.contains(&format!("`{function}`"))
                        || paragraph.contains(&format!("::{function}`"));
                    if !named {
                        problems.push(format!(
                            "{}: {argument} goes inside `{function}`, and the paragraph above does not say so",
                            step.heading()
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

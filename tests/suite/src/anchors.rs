//! The one reader of the anchors the book includes code by.
//!
//! A stage's source marks the pieces the book shows with mdBook's anchor
//! comments, each on a line of its own:
//!
//! ```text
//! // ANCHOR: read_body
//! fn read_body(…) { … }
//! // ANCHOR_END: read_body
//! ```
//!
//! `{{#include ../../day2/src/request.rs:read_body}}` then shows the lines
//! between the two markers, and mdBook leaves out every marker line inside
//! them. The book test, the build-along steps and the starter all read
//! anchors through this module, so that they cannot disagree about what a
//! marker is or what an include shows.

/// One anchor: its name and the lines of its two markers (0-based), so
/// its code is the lines strictly between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub name: String,
    pub start: usize,
    pub end: usize,
}

/// What a marker line says.
#[derive(Debug, PartialEq, Eq)]
pub enum Marker<'a> {
    Start(&'a str),
    End(&'a str),
}

/// The marker on `line`, if it is one: `// ANCHOR: name` or
/// `// ANCHOR_END: name`, indented or not.
pub fn marker(line: &str) -> Option<Marker<'_>> {
    let line = line.trim();
    if let Some(name) = line.strip_prefix("// ANCHOR: ") {
        Some(Marker::Start(name.trim()))
    } else {
        line.strip_prefix("// ANCHOR_END: ")
            .map(|name| Marker::End(name.trim()))
    }
}

/// Whether `line` is a marker, which mdBook leaves out of what it shows.
pub fn is_marker(line: &str) -> bool {
    marker(line).is_some()
}

/// Every anchor in `text`, in the order they open. An anchor that opens
/// twice, closes without opening, or never closes is an error: mdBook
/// would quietly show the wrong lines.
pub fn anchors(text: &str) -> Result<Vec<Anchor>, String> {
    let mut open: Vec<(String, usize)> = Vec::new();
    let mut done: Vec<Anchor> = Vec::new();
    for (number, line) in text.lines().enumerate() {
        match marker(line) {
            Some(Marker::Start(name)) => {
                if open.iter().any(|(n, _)| n == name) || done.iter().any(|a| a.name == name) {
                    return Err(format!("line {}: anchor {name} opens twice", number + 1));
                }
                open.push((name.to_string(), number));
            }
            Some(Marker::End(name)) => {
                let Some(at) = open.iter().position(|(n, _)| n == name) else {
                    return Err(format!(
                        "line {}: anchor {name} ends without starting",
                        number + 1
                    ));
                };
                let (name, start) = open.remove(at);
                done.push(Anchor {
                    name,
                    start,
                    end: number,
                });
            }
            None => {}
        }
    }
    if let Some((name, start)) = open.first() {
        return Err(format!("line {}: anchor {name} never ends", start + 1));
    }
    done.sort_by_key(|anchor| anchor.start);
    Ok(done)
}

/// A stand-in: code a crate holds until a later step shows the anchor
/// right below it, kept in the finished source as a block comment, as
/// Crafting Interpreters keeps the code a later chapter replaces:
///
/// ```text
/// /* STAND-IN: keep_alive
/// let keep_alive = false;
/// */
/// // ANCHOR: keep_alive
/// let keep_alive = request.keep_alive() && !shutdown;
/// // ANCHOR_END: keep_alive
/// ```
///
/// The build-along crate has the stand-in's code (uncommented) before
/// the step that shows `keep_alive`, and the anchor's code from then on.
/// A page shows the stand-in's code where it hides the anchor (a step
/// before the one that shows it), and nothing of it anywhere else.
///
/// A stand-in can also borrow its code from an earlier stage, on one
/// line: `/* STAND-IN: pool FROM day4/src/thread_pool.rs:thread_pool,impl_pool */`
/// stands for day 4's anchors `thread_pool` and `impl_pool`, which the
/// learner typed on day 4, without a copy of them in the later stage's
/// source. [`with_borrowed_code`] writes the code in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandIn {
    /// The anchor it stands in for.
    pub name: String,
    /// The lines of its `/* STAND-IN: name` and `*/` (0-based); the same
    /// line for a borrowing stand-in not yet written in.
    pub start: usize,
    pub end: usize,
    /// Whether its code is an earlier stage's, borrowed.
    pub borrowed: bool,
}

/// The stand-in that opens on `line`, if one does.
fn stand_in_start(line: &str) -> Option<&str> {
    let rest = line.trim().strip_prefix("/* STAND-IN: ")?;
    rest.split_whitespace().next()
}

/// Whether `line` is a whole stand-in: one that borrows its code, not yet
/// written in.
fn closes_itself(line: &str) -> bool {
    stand_in_start(line).is_some() && line.trim().ends_with("*/")
}

/// `text` with each borrowing stand-in's code written in, read from the
/// stage that `read` finds by its path from the repository's root:
/// the stand-in then has its code as any other has.
pub fn with_borrowed_code(
    text: &str,
    read: impl Fn(&str) -> Result<String, String>,
) -> Result<String, String> {
    let mut out = String::new();
    for line in text.lines() {
        if !closes_itself(line) {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let opening = line.trim_end().trim_end_matches("*/").trim_end();
        let (_, from) = opening
            .split_once(" FROM ")
            .ok_or_else(|| format!("{line:?}: a stand-in on one line says FROM where"))?;
        let (path, names) = from
            .split_once(':')
            .ok_or_else(|| format!("{line:?}: FROM path:anchor,anchor"))?;
        let source = read(path)?;
        let pieces: Vec<String> = names
            .split(',')
            .map(|name| shown(&source, name.trim()).map_err(|err| format!("{path}: {err}")))
            .collect::<Result<_, _>>()?;
        let indent = &line[..line.len() - line.trim_start().len()];
        out.push_str(&format!("{opening}\n{}{indent}*/\n", pieces.join("\n")));
    }
    Ok(out)
}

/// Whether `line` opens or closes a stand-in (`/* STAND-IN: name`, `*/`):
/// a comment line, which neither the book nor the learner's crate has.
pub fn is_stand_in_edge(line: &str) -> bool {
    stand_in_start(line).is_some() || line.trim() == "*/"
}

/// Every stand-in in `text`, in the order they open. One that never
/// closes, or is not followed at once by the anchor it names, is an error.
///
/// A stand-in may hold another (Rust's block comments nest): code that a
/// later step changes inside code that a still later step replaces. The
/// inner one's code lasts until its own anchor is shown, inside the outer
/// one's code, which lasts until the outer anchor is shown.
pub fn stand_ins(text: &str) -> Result<Vec<StandIn>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for at in 0..lines.len() {
        let Some(name) = stand_in_start(lines[at]) else {
            continue;
        };
        let mut depth = 0;
        let end = (at..lines.len())
            .find(|&k| {
                if closes_itself(lines[k]) {
                    // Opens and closes on its own line.
                } else if stand_in_start(lines[k]).is_some() {
                    depth += 1;
                } else if lines[k].trim() == "*/" {
                    depth -= 1;
                }
                depth == 0
            })
            .ok_or_else(|| format!("line {}: stand-in {name} never ends", at + 1))?;
        if lines.get(end + 1).and_then(|line| marker(line)) != Some(Marker::Start(name)) {
            return Err(format!(
                "line {}: stand-in {name} is not followed by `// ANCHOR: {name}`",
                end + 1
            ));
        }
        found.push(StandIn {
            name: name.to_string(),
            start: at,
            end,
            borrowed: lines[at].contains(" FROM "),
        });
    }
    Ok(found)
}

/// The code of anchor `name` in `text`, as mdBook shows it: the lines
/// between its markers, without the marker lines of anchors inside it.
pub fn shown(text: &str, name: &str) -> Result<String, String> {
    let anchor = anchors(text)?
        .into_iter()
        .find(|anchor| anchor.name == name)
        .ok_or_else(|| format!("no anchor {name}"))?;
    Ok(text
        .lines()
        .skip(anchor.start + 1)
        .take(anchor.end - anchor.start - 1)
        .filter(|line| !is_marker(line))
        .map(|line| format!("{line}\n"))
        .collect())
}

/// The code of anchor `name` in `text` as the book shows it: as
/// [`shown`] does, and without the lines of the anchors in `hidden` that
/// lie inside it. A step shows a function, and a later step shows the
/// lines it adds in the middle: the first step must not show them yet.
/// `name` empty means the whole file.
pub fn shown_hiding(text: &str, name: &str, hidden: &[&str]) -> Result<String, String> {
    let found = anchors(text)?;
    let (from, to) = if name.is_empty() {
        (0, text.lines().count())
    } else {
        let anchor = found
            .iter()
            .find(|anchor| anchor.name == name)
            .ok_or_else(|| format!("no anchor {name}"))?;
        (anchor.start + 1, anchor.end)
    };
    let inside: Vec<&Anchor> = found
        .iter()
        .filter(|anchor| hidden.contains(&anchor.name.as_str()))
        .filter(|anchor| anchor.start >= from && anchor.end < to)
        .collect();
    // A stand-in's code shows where its anchor is hidden; its comment
    // lines never do.
    let stand_ins = stand_ins(text)?;
    let left_out = |number: usize| {
        // (An include of code inside a stand-in shows it all.)
        let around = |start: usize, end: usize| start >= from && end < to;
        stand_ins
            .iter()
            .filter(|s| around(s.start, s.end))
            .any(|stand_in| {
                let shown = inside.iter().any(|a| a.name == stand_in.name);
                let edge = number == stand_in.start || number == stand_in.end;
                (stand_in.start..=stand_in.end).contains(&number) && (edge || !shown)
            })
    };
    let kept = text
        .lines()
        .enumerate()
        .skip(from)
        .take(to - from)
        .filter(|(number, line)| {
            !is_marker(line)
                && !left_out(*number)
                && !inside.iter().any(|a| (a.start..=a.end).contains(number))
        })
        .map(|(_, line)| line)
        // A hidden piece at the top leaves no blank line behind it.
        .skip_while(|line| line.trim().is_empty());
    Ok(one_blank_at_most(kept))
}

/// `lines` joined as rustfmt would leave them where a piece is hidden: no
/// two blank lines in a row, and none just before a closing brace (a
/// hidden piece at the end of a block leaves its blank line behind).
pub fn one_blank_at_most<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for line in lines {
        let blank = line.trim().is_empty();
        let closing = line.trim_start().starts_with('}');
        if closing && kept.last().is_some_and(|last| last.trim().is_empty()) {
            kept.pop();
        }
        if !(blank && kept.last().is_some_and(|last| last.trim().is_empty())) {
            kept.push(line);
        }
    }
    kept.iter().map(|line| format!("{line}\n")).collect()
}

/// The includes of code on a page (`{{#include ../../day1/src/main.rs:write}}`
/// on a line of its own), each as (the path as written, the anchor or
/// `""` for the whole file).
pub fn code_includes(page: &str) -> Vec<(&str, &str)> {
    page.lines()
        .filter_map(|line| {
            let argument = line
                .trim()
                .strip_prefix("{{#include ")?
                .strip_suffix("}}")?
                .trim();
            let (path, name) = argument.split_once(':').unwrap_or((argument, ""));
            let code = path.ends_with(".rs") || path.ends_with(".js");
            let lines = name.starts_with(|c: char| c.is_ascii_digit());
            (code && !lines).then_some((path, name))
        })
        .collect()
}

/// The anchors of `path` that `book` (the text of the including page and
/// of every page after it, joined) includes inside `name`'s: each shown
/// in a step of its own, so hidden where `name` is shown. A struct shown
/// in one chapter leaves out the field a later chapter adds to it, and
/// shows the fields an earlier chapter added.
pub fn hidden_in_book<'a>(book: &'a str, path: &str, name: &str) -> Vec<&'a str> {
    code_includes(book)
        .into_iter()
        .filter(|(other, inner)| *other == path && *inner != name && !inner.is_empty())
        .map(|(_, inner)| inner)
        .collect()
}

/// `page` with every include of code that holds anchors shown elsewhere
/// in `book` (this page's text and every later page's, joined) written
/// out, without those anchors' lines (see [`shown_hiding`]); `read` gives
/// a file's text by the path the page names it by. Every other include
/// is left for mdBook.
///
/// This is what the book's preprocessor (`book/include`) does to each
/// page before mdBook sees it, and what the tests read pages through.
pub fn expand_page(
    page: &str,
    book: &str,
    read: impl Fn(&str) -> Result<String, String>,
) -> Result<String, String> {
    let mut out = String::new();
    for line in page.lines() {
        let include = code_includes(line).into_iter().next();
        let Some((path, name)) = include else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let hidden = hidden_in_book(book, path, name);
        let text = read(path)?;
        // What mdBook would show: stand-ins' comments included.
        let whole = if name.is_empty() {
            without_markers(&text)
        } else {
            shown(&text, name).map_err(|err| format!("{path}: {err}"))?
        };
        let code = shown_hiding(&text, name, &hidden).map_err(|err| format!("{path}: {err}"))?;
        if code == whole {
            out.push_str(line);
            out.push('\n');
        } else {
            out.push_str(&code);
        }
    }
    Ok(out)
}

/// What the book's preprocessor hides by when it expands the page `name`
/// (`final-state.md`) of the book whose `src` folder is `src`: that page's
/// text and every later page's, in the order of `SUMMARY.md`, joined (see
/// [`hidden_in_book`]).
pub fn book_from(src: &std::path::Path, name: &str) -> Result<String, String> {
    let summary = std::fs::read_to_string(src.join("SUMMARY.md"))
        .map_err(|err| format!("{}: {err}", src.join("SUMMARY.md").display()))?;
    let order: Vec<&str> = summary
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(link, _)| link))
        .filter(|link| link.ends_with(".md"))
        .collect();
    let from = order
        .iter()
        .position(|page| *page == name)
        .unwrap_or(order.len());
    let mut texts =
        vec![std::fs::read_to_string(src.join(name)).map_err(|err| format!("{name}: {err}"))?];
    for page in order.iter().skip(from + 1) {
        texts
            .push(std::fs::read_to_string(src.join(page)).map_err(|err| format!("{page}: {err}"))?);
    }
    Ok(texts.join("\n"))
}

/// `text` without its stand-ins, comment lines and code alike: the code
/// as it stands once every step is done.
pub fn without_stand_ins(text: &str) -> Result<String, String> {
    let stand_ins = stand_ins(text)?;
    Ok(text
        .lines()
        .enumerate()
        .filter(|(at, _)| !stand_ins.iter().any(|s| (s.start..=s.end).contains(at)))
        .map(|(_, line)| format!("{line}\n"))
        .collect())
}

/// `text` without its marker lines.
pub fn without_markers(text: &str) -> String {
    text.lines()
        .filter(|line| !is_marker(line))
        .map(|line| format!("{line}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "\
// ANCHOR: outer
fn a() {
    // ANCHOR: inner
    let x = 1;
    // ANCHOR_END: inner
}
// ANCHOR_END: outer
fn b() {}
";

    #[test]
    fn markers_table() {
        let rows = [
            ("// ANCHOR: read_body", Some(Marker::Start("read_body"))),
            (
                "    // ANCHOR_END: read_body",
                Some(Marker::End("read_body")),
            ),
            ("// ANCHOR:", None),
            ("let anchor = \"// ANCHOR: x\";", None),
            ("/// ANCHOR: doc", None),
        ];
        for (line, expected) in rows {
            assert_eq!(marker(line), expected, "{line:?}");
        }
    }

    #[test]
    fn anchors_nest_and_are_shown_as_mdbook_shows_them() {
        let found = anchors(SOURCE).expect("well formed");
        let names: Vec<(&str, usize, usize)> = found
            .iter()
            .map(|a| (a.name.as_str(), a.start, a.end))
            .collect();
        assert_eq!(names, [("outer", 0, 6), ("inner", 2, 4)]);
        assert_eq!(
            shown(SOURCE, "outer").as_deref(),
            Ok("fn a() {\n    let x = 1;\n}\n")
        );
        assert_eq!(shown(SOURCE, "inner").as_deref(), Ok("    let x = 1;\n"));
        assert!(shown(SOURCE, "missing").is_err());
    }

    #[test]
    fn an_anchor_a_page_shows_elsewhere_is_hidden_inside_another() {
        assert_eq!(
            shown_hiding(SOURCE, "outer", &["inner"]).as_deref(),
            Ok("fn a() {\n}\n")
        );
        let spaced = "fn a() {\n    one();\n\n    // ANCHOR: later\n    two();\n    // ANCHOR_END: later\n\n    three();\n}\n";
        assert_eq!(
            shown_hiding(spaced, "", &["later"]).as_deref(),
            Ok("fn a() {\n    one();\n\n    three();\n}\n"),
            "one blank line where the hidden piece stood, not two"
        );
        let at_the_end =
            "impl A {\n    fn a() {}\n\n    // ANCHOR: b\n    fn b() {}\n    // ANCHOR_END: b\n}\n";
        assert_eq!(
            shown_hiding(at_the_end, "", &["b"]).as_deref(),
            Ok("impl A {\n    fn a() {}\n}\n"),
            "no blank line left before the closing brace"
        );
        let page =
            "```rust\n{{#include a.rs:outer}}\n```\n\n```rust\n{{#include a.rs:inner}}\n```\n";
        let expanded = expand_page(page, page, |_| Ok(SOURCE.to_string())).expect("expands");
        assert_eq!(
            expanded,
            "```rust\nfn a() {\n}\n```\n\n```rust\n{{#include a.rs:inner}}\n```\n"
        );
    }

    #[test]
    fn a_stand_in_shows_where_its_anchor_is_hidden_and_nowhere_else() {
        let text = "fn a() {\n    /* STAND-IN: later\n    let x = 0;\n    */\n    // ANCHOR: later\n    let x = 1;\n    // ANCHOR_END: later\n    use_it(x);\n}\n";
        assert_eq!(
            stand_ins(text),
            Ok(vec![StandIn {
                name: "later".into(),
                start: 1,
                end: 3,
                borrowed: false,
            }])
        );
        assert_eq!(
            shown_hiding(text, "", &["later"]).as_deref(),
            Ok("fn a() {\n    let x = 0;\n    use_it(x);\n}\n"),
            "before the step that shows `later`"
        );
        assert_eq!(
            shown_hiding(text, "", &[]).as_deref(),
            Ok("fn a() {\n    let x = 1;\n    use_it(x);\n}\n"),
            "the finished function"
        );
        assert_eq!(
            without_stand_ins(text).as_deref(),
            Ok(
                "fn a() {\n    // ANCHOR: later\n    let x = 1;\n    // ANCHOR_END: later\n    use_it(x);\n}\n"
            )
        );
        for broken in [
            "/* STAND-IN: a\nx\n",
            "/* STAND-IN: a\nx\n*/\nfn b() {}\n",
            "/* STAND-IN: a\nx\n*/\n// ANCHOR: b\n// ANCHOR_END: b\n",
        ] {
            assert!(stand_ins(broken).is_err(), "{broken:?}");
        }
    }

    #[test]
    fn a_stand_in_on_one_line_borrows_an_earlier_stages_code() {
        let day4 = "// ANCHOR: a\nfn a() {}\n// ANCHOR_END: a\n// ANCHOR: b\nfn b() {}\n// ANCHOR_END: b\n";
        let text = "    /* STAND-IN: ab FROM day4/src/x.rs:a,b */\n    // ANCHOR: ab\n    fn ab() {}\n    // ANCHOR_END: ab\n";
        let read = |path: &str| match path {
            "day4/src/x.rs" => Ok(day4.to_string()),
            other => Err(format!("no {other}")),
        };
        let found = stand_ins(text).expect("one stand-in");
        assert_eq!(
            (found[0].start, found[0].end, found[0].borrowed),
            (0, 0, true)
        );
        assert_eq!(
            without_stand_ins(text).as_deref(),
            Ok("    // ANCHOR: ab\n    fn ab() {}\n    // ANCHOR_END: ab\n")
        );
        let written = with_borrowed_code(text, read).expect("day 4 has both anchors");
        assert_eq!(
            written,
            "    /* STAND-IN: ab FROM day4/src/x.rs:a,b\nfn a() {}\n\nfn b() {}\n    */\n    // ANCHOR: ab\n    fn ab() {}\n    // ANCHOR_END: ab\n"
        );
        let found = stand_ins(&written).expect("the same stand-in, written in");
        assert_eq!(
            (found[0].start, found[0].end, found[0].borrowed),
            (0, 4, true)
        );
        assert!(with_borrowed_code("/* STAND-IN: ab FROM day4/src/x.rs:c */\n", read).is_err());
    }

    #[test]
    fn a_stand_in_inside_a_stand_in_lasts_until_its_own_anchor_is_shown() {
        let text = "/* STAND-IN: run\nfn run() {\n    /* STAND-IN: stop\n    loop {}\n    */\n    // ANCHOR: stop\n    while !stopped() {}\n    // ANCHOR_END: stop\n}\n*/\n// ANCHOR: run\nfn run() { serve(); }\n// ANCHOR_END: run\n";
        let found = stand_ins(text).expect("two stand-ins");
        let names: Vec<(&str, usize, usize)> = found
            .iter()
            .map(|s| (s.name.as_str(), s.start, s.end))
            .collect();
        assert_eq!(names, [("run", 0, 9), ("stop", 2, 4)]);
        let rows = [
            (&["run", "stop"][..], "fn run() {\n    loop {}\n}\n"),
            (&["run"][..], "fn run() {\n    while !stopped() {}\n}\n"),
            (&[][..], "fn run() { serve(); }\n"),
        ];
        for (hidden, expected) in rows {
            assert_eq!(
                shown_hiding(text, "", hidden).as_deref(),
                Ok(expected),
                "hiding {hidden:?}"
            );
        }
        assert_eq!(
            without_stand_ins(text).as_deref(),
            Ok("// ANCHOR: run\nfn run() { serve(); }\n// ANCHOR_END: run\n")
        );
    }

    #[test]
    fn broken_anchors_are_errors() {
        for text in [
            "// ANCHOR: a\n",
            "// ANCHOR_END: a\n",
            "// ANCHOR: a\n// ANCHOR_END: a\n// ANCHOR: a\n// ANCHOR_END: a\n",
        ] {
            assert!(anchors(text).is_err(), "{text:?}");
        }
    }
}

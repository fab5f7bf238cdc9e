//! The book's one mdBook preprocessor.
//!
//! mdBook's `{{#include file:anchor}}` shows every line between an
//! anchor's markers. A build-along step that shows a function, when a
//! later step adds lines in its middle, must not show those lines yet.
//! With mdBook alone, the function has to be cut into consecutive
//! anchors around each later piece, two marker lines a cut; with this
//! preprocessor, the later piece is one anchor nested in the function's,
//! and the function's include leaves it out because its own page, or a
//! later one, shows it elsewhere (`suite::anchors::expand_page`). The tests read the pages
//! through the same function, so the book and its proofs agree.
//!
//! mdBook runs it before its own `links` preprocessor (see `book.toml`):
//! `mdbook supports html` asks whether it works for a renderer (it does
//! for all), and `mdbook` with no argument passes `[context, book]` as
//! JSON on standard input and reads the book back on standard output.

use std::io::{self, Read};
use std::path::Path;
use std::process::ExitCode;

use serde_json::Value;

fn main() -> ExitCode {
    if std::env::args().nth(1).as_deref() == Some("supports") {
        return ExitCode::SUCCESS;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("book-include: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut input = String::new();
    io::stdin()
        .read_to_string(&mut input)
        .map_err(|err| format!("cannot read the book: {err}"))?;
    let [context, mut book]: [Value; 2] = serde_json::from_str(&input)
        .map_err(|err| format!("not mdBook's [context, book]: {err}"))?;
    let root = context["root"].as_str().ok_or("the context has no root")?;
    let source = Path::new(root).join(context["config"]["book"]["src"].as_str().unwrap_or("src"));
    let mut pages = Vec::new();
    every_page(&book, &mut pages);
    expand_chapters(&mut book, &source, &pages, &mut 0)?;
    serde_json::to_writer(io::stdout(), &book)
        .map_err(|err| format!("cannot write the book: {err}"))
}

/// Expands every chapter found anywhere in `value`: an object with a
/// `Chapter` holding `content` and `source_path`. Walking the whole value
/// rather than mdBook's field names keeps it working across mdBook's
/// versions. `pages` holds every chapter's content in the order of the
/// walk, which is the book's, and `next` counts the chapters walked: an
/// include hides what its own page, or a later one, shows elsewhere.
fn expand_chapters(
    value: &mut Value,
    source: &Path,
    pages: &[String],
    next: &mut usize,
) -> Result<(), String> {
    if let Some(chapter) = value.get_mut("Chapter")
        && let Some(content) = chapter["content"].as_str()
    {
        let from_here = pages.get(*next..).unwrap_or_default().join("\n");
        *next += 1;
        if let Some(page) = chapter["source_path"]
            .as_str()
            .map(|path| source.join(path))
        {
            let folder = page.parent().unwrap_or(source).to_path_buf();
            let read = |path: &str| {
                std::fs::read_to_string(folder.join(path))
                    .map_err(|err| format!("{}: {path}: {err}", page.display()))
            };
            let expanded = suite::anchors::expand_page(content, &from_here, read)?;
            chapter["content"] = Value::String(expanded);
        }
    }
    match value {
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|item| expand_chapters(item, source, pages, next)),
        Value::Object(fields) => fields
            .values_mut()
            .try_for_each(|item| expand_chapters(item, source, pages, next)),
        _ => Ok(()),
    }
}

/// The content of every chapter found anywhere in `value`, in the order
/// [`expand_chapters`] walks them.
fn every_page(value: &Value, pages: &mut Vec<String>) {
    if let Some(content) = value
        .get("Chapter")
        .and_then(|chapter| chapter["content"].as_str())
    {
        pages.push(content.to_string());
    }
    match value {
        Value::Array(items) => items.iter().for_each(|item| every_page(item, pages)),
        Value::Object(fields) => fields.values().for_each(|item| every_page(item, pages)),
        _ => {}
    }
}

//! The to-do page, in a real browser.
//!
//! Headless Chromium, driven through ChromeDriver, uses the page the way a
//! person would: it types titles into the form and presses Enter, ticks a
//! box, clicks Delete, and reloads. Then the page and the API must agree.
//!
//! A machine without Chromium skips this test and says so. CI (where `CI`
//! is set) must not skip it: there, a missing browser fails the test.
//!
//! `UPDATE_SCREENSHOT=1 cargo test -p tests browser::` also writes
//! the screenshot and the access log that the book shows.

mod webdriver;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use suite::client;
use suite::server::Server;
use suite::stage::Stage;
use suite::wire::Reply;
use webdriver::{Browser, ENTER, Programs};

/// How long the page may take to show the result of one action.
const PAGE_WAIT: Duration = Duration::from_secs(10);

/// The titles the test types, in order.
const TITLES: [&str; 3] = ["Buy milk", "Write the HTTP chapter", "Walk the dog"];

/// The first to-do's title after it is edited on the page.
const EDITED: &str = "Buy oat milk";

/// JavaScript that is `true` when the list shows `n` to-dos, drawn anew
/// (no longer busy).
fn shows(n: usize) -> String {
    format!(
        "const list = document.querySelector('#todo-list'); return list.querySelectorAll('li').length === {n} && !list.hasAttribute('aria-busy');"
    )
}

/// The CSS selector of `part` (`.toggle`, `.delete`) in the row of the
/// to-do titled `title`.
fn in_row(title: &str, part: &str) -> String {
    let index = TITLES
        .iter()
        .position(|candidate| *candidate == title)
        .expect("one of the test's titles");
    format!("#todo-list li:nth-child({}) {part}", index + 1)
}

#[test]
fn the_page_adds_completes_deletes_and_survives_a_reload() {
    let programs = match Programs::find() {
        Ok(programs) => programs,
        Err(missing) if std::env::var_os("CI").is_none() => {
            eprintln!("SKIPPED the browser test: {missing}");
            return;
        }
        Err(missing) => panic!("CI must run the browser test, but: {missing}"),
    };
    let server =
        Server::reference(Stage::Final).unwrap_or_else(|err| panic!("final starts: {err}"));
    let page = format!("http://{}/", server.addr());
    let browser =
        Browser::start(&programs).unwrap_or_else(|err| panic!("the browser starts: {err}"));
    let step = |what: &str, result: Result<(), String>| {
        if let Err(err) = result {
            panic!("{what}: {err}\n\nserver log:\n{}", server.output());
        }
    };

    step("open the page", browser.open(&page));
    step(
        "the empty list is drawn",
        browser.wait_until(
            "return document.querySelector('#count').textContent === '0 items left';",
            PAGE_WAIT,
        ),
    );

    // 1. Three to-dos, typed into the form, each sent with Enter.
    for (done, title) in TITLES.iter().enumerate() {
        let typed = browser
            .find("#new-title")
            .and_then(|field| browser.type_into(&field, &format!("{title}{ENTER}")));
        step(&format!("type {title:?}"), typed);
        step(
            &format!("{title:?} appears"),
            browser.wait_until(&shows(done + 1), PAGE_WAIT),
        );
    }

    // An empty title: the API's 400 must show up on the page.
    let empty = browser
        .find("#new-title")
        .and_then(|field| browser.type_into(&field, &ENTER.to_string()));
    step("submit an empty title", empty);
    step(
        "the API's error is shown",
        browser.wait_until(
            // Shown, and the list drawn again after it: a row found while
            // the page still redraws would be gone by the time it is
            // clicked (a stale element, seen once in CI).
            "const p = document.querySelector('#problem'); return !p.hidden && p.textContent.startsWith('400') && !document.querySelector('#todo-list').hasAttribute('aria-busy');",
            PAGE_WAIT,
        ),
    );

    // 2. Complete the second, delete the third.
    step(
        "tick the second to-do",
        browser.click_on(&in_row(TITLES[1], ".toggle")),
    );
    step(
        "it is shown completed",
        browser.wait_until(
            "return document.querySelectorAll('#todo-list li.completed').length === 1;",
            PAGE_WAIT,
        ),
    );
    step(
        "delete the third to-do",
        browser.click_on(&in_row(TITLES[2], ".delete")),
    );
    step("it is gone", browser.wait_until(&shows(2), PAGE_WAIT));

    // Edit the first title: Edit, type a new title over the old one (which
    // the page selects), Enter.
    let edited = browser
        .click_on(&in_row(TITLES[0], ".edit"))
        .and_then(|()| browser.find(&in_row(TITLES[0], ".title-field")))
        .and_then(|field| browser.type_into(&field, &format!("{EDITED}{ENTER}")));
    step("edit the first title", edited);
    step(
        "the new title is shown",
        browser.wait_until(
            &format!(
                "const t = document.querySelector('{}'); return t !== null && t.textContent === '{EDITED}';",
                in_row(TITLES[0], ".title")
            ),
            PAGE_WAIT,
        ),
    );

    // 3. Reload: everything on the page now comes from the server again.
    let log_before_reload = server.output().len();
    step("reload", browser.reload());
    step(
        "the list is drawn again",
        browser.wait_until(&shows(2), PAGE_WAIT),
    );

    // 4. Two to-dos, the second completed, and one item left.
    let shown = browser
        .run(
            "return [...document.querySelectorAll('#todo-list li')].map(li =>
                 [li.querySelector('.title').textContent, li.classList.contains('completed')]);",
        )
        .unwrap_or_else(|err| panic!("read the list: {err}"));
    assert_eq!(
        shown,
        serde_json::json!([[EDITED, false], [TITLES[1], true]]),
        "what the page shows after the reload"
    );
    let count = browser
        .run("return document.querySelector('#count').textContent;")
        .unwrap_or_else(|err| panic!("read the count: {err}"));
    assert_eq!(count, "1 item left");

    // The log so far is the browser's alone; the test's own requests follow.
    // The server writes its access log in batches, a few times a second, so
    // wait for the reload's lines rather than read what happens to be there.
    let reload_lines = [
        "\"GET / HTTP/1.1\" 304",
        "\"GET /app.css HTTP/1.1\" 304",
        "\"GET /app.js HTTP/1.1\" 304",
        "\"GET /todos HTTP/1.1\" 200",
    ];
    let log = logged(&server, log_before_reload, &reload_lines);

    // 5. The API agrees.
    let todos = todos_on_the_server(server.addr());
    let stored: Vec<(&str, bool)> = todos
        .as_array()
        .map(|todos| {
            todos
                .iter()
                .filter_map(|todo| Some((todo["title"].as_str()?, todo["completed"].as_bool()?)))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        stored,
        [(EDITED, false), (TITLES[1], true)],
        "GET /todos: {todos}"
    );

    // On the reload, the browser asked whether its copies were still good,
    // and they were: each file came back as a 304 without a body.
    let reload_log = &log[log_before_reload..];
    for line in &reload_lines[..3] {
        assert!(
            reload_log.contains(line),
            "the reload should have logged {line}:\n{reload_log}"
        );
    }

    // Last, Clear completed takes the completed one away, on the page and
    // on the server.
    step(
        "clear the completed ones",
        browser.click_on("#clear-completed"),
    );
    step("one is left", browser.wait_until(&shows(1), PAGE_WAIT));
    let left = todos_on_the_server(server.addr());
    assert_eq!(
        left.as_array().map(Vec::len),
        Some(1),
        "GET /todos after Clear completed: {left}"
    );

    let screenshot = browser
        .screenshot()
        .unwrap_or_else(|err| panic!("take a screenshot: {err}"));
    assert!(
        screenshot.starts_with(b"\x89PNG"),
        "the screenshot is a PNG"
    );
    if std::env::var_os("UPDATE_SCREENSHOT").is_some() {
        record(&screenshot, &access_log(&log));
    }
}

/// The server's output once everything after byte `from` holds each of
/// `lines`, or as it is after [`PAGE_WAIT`] if some never come.
fn logged(server: &Server, from: usize, lines: &[&str]) -> String {
    let deadline = std::time::Instant::now() + PAGE_WAIT;
    loop {
        let output = server.output();
        let complete = lines
            .iter()
            .all(|line| output.get(from..).is_some_and(|new| new.contains(line)));
        if complete || std::time::Instant::now() >= deadline {
            return output;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `GET /todos`, as JSON; panics unless that is what comes back.
fn todos_on_the_server(addr: SocketAddr) -> Value {
    match client::call(addr, "GET", "/todos", None).1 {
        Reply::Response(response) => response
            .json()
            .unwrap_or_else(|err| panic!("GET /todos: {err}")),
        other => panic!("GET /todos: {}", other.describe()),
    }
}

/// The server's access-log lines, without the client's port and the
/// timings, which change from run to run.
fn access_log(output: &str) -> String {
    output
        .lines()
        .filter(|line| line.contains("\" "))
        .filter_map(|line| {
            let (_, rest) = line.split_once(' ')?;
            let (request_and_status, _) = rest.rsplit_once(' ')?;
            Some(format!("{request_and_status}\n"))
        })
        .collect()
}

/// Writes what the book shows: the screenshot and the access log.
fn record(screenshot: &[u8], log: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../book/src/browser");
    std::fs::create_dir_all(&dir).expect("can create book/src/browser");
    std::fs::write(dir.join("todo-page.png"), screenshot).expect("can write the screenshot");
    std::fs::write(dir.join("access-log.txt"), log).expect("can write the access log");
}

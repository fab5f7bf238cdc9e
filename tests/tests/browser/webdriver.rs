//! Just enough of the W3C WebDriver protocol to drive Chromium.
//!
//! ChromeDriver is a small HTTP server that controls a browser: every
//! command is a JSON request, such as `POST /session/ID/url` with
//! `{"url": …}` to open a page. So the tests need no browser-automation
//! crate; the HTTP client the suite already uses is enough. (playwright,
//! from npm, would be the other way: more features, and Node.js on every
//! machine that runs the tests.)
//!
//! Every call has a time limit, and so has every wait for the page.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long one WebDriver command may take. Starting the browser is the
/// slowest, a second or two on a quiet machine.
const COMMAND_LIMIT: Duration = Duration::from_secs(60);

/// How long ChromeDriver may take to say which port it listens on.
const START_LIMIT: Duration = Duration::from_secs(20);

/// The key WebDriver sends for Enter (a code point in Unicode's private
/// use area, by the spec's convention).
pub const ENTER: char = '\u{E007}';

/// The name under which the spec returns an element's id.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where Chromium and ChromeDriver are, if they are.
pub struct Programs {
    pub browser: PathBuf,
    pub driver: PathBuf,
}

impl Programs {
    /// Looks for them on `PATH` (Debian's `chromium` and `chromedriver`
    /// packages put them in `/usr/bin`). `CHROME` overrides the browser.
    pub fn find() -> Result<Programs, String> {
        let browser = match std::env::var_os("CHROME") {
            Some(path) => Some(PathBuf::from(path)),
            None => ["chromium", "chromium-browser", "google-chrome"]
                .into_iter()
                .find_map(on_path),
        };
        let browser = browser.ok_or("no chromium on PATH (Debian: apt install chromium)")?;
        let driver = on_path("chromedriver")
            .ok_or("no chromedriver on PATH (Debian: apt install chromium-driver)")?;
        Ok(Programs { browser, driver })
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// A browser session: ChromeDriver, and the headless Chromium it started.
/// Dropping it closes the browser and stops the driver.
pub struct Browser {
    driver: Child,
    base: String,
    http: reqwest::blocking::Client,
}

impl Browser {
    /// Starts ChromeDriver on a free port, and a headless browser through it.
    pub fn start(programs: &Programs) -> Result<Browser, String> {
        let mut driver = Command::new(&programs.driver)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", programs.driver.display()))?;
        let port = match driver.stdout.take() {
            Some(stdout) => read_port(stdout),
            None => Err("no pipe to chromedriver's output".into()),
        };
        let port = match port {
            Ok(port) => port,
            Err(err) => {
                let _ = driver.kill();
                let _ = driver.wait();
                return Err(err);
            }
        };
        let http = reqwest::blocking::Client::builder()
            .timeout(COMMAND_LIMIT)
            .build()
            .map_err(|err| format!("cannot make an HTTP client: {err}"))?;
        let mut browser = Browser {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            http,
        };
        let session = browser.post(
            "/session",
            json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": programs.browser,
                    // No sandbox: CI runs as root in a container, where
                    // Chromium's sandbox cannot start. The page is our own.
                    "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                             "--window-size=800,640", "--hide-scrollbars"],
                },
            }}}),
        )?;
        let id = session["sessionId"]
            .as_str()
            .ok_or(format!("no session id in {session}"))?;
        browser.base = format!("{}/session/{id}", browser.base);
        Ok(browser)
    }

    /// Opens `url`, and returns once the page has loaded.
    pub fn open(&self, url: &str) -> Result<(), String> {
        self.post("/url", json!({ "url": url })).map(drop)
    }

    /// Reloads the page, as the browser's reload button does.
    pub fn reload(&self) -> Result<(), String> {
        self.post("/refresh", json!({})).map(drop)
    }

    /// The first element matching the CSS `selector`.
    pub fn find(&self, selector: &str) -> Result<String, String> {
        let found = self.post(
            "/element",
            json!({"using": "css selector", "value": selector}),
        )?;
        found[ELEMENT_KEY]
            .as_str()
            .map(str::to_string)
            .ok_or(format!("nothing matches {selector}: {found}"))
    }

    /// Types `text` into `element`, as a user would, key by key.
    pub fn type_into(&self, element: &str, text: &str) -> Result<(), String> {
        self.post(&format!("/element/{element}/value"), json!({"text": text}))
            .map(drop)
    }

    /// Clicks the first element matching the CSS `selector`.
    pub fn click_on(&self, selector: &str) -> Result<(), String> {
        let element = self.find(selector)?;
        self.post(&format!("/element/{element}/click"), json!({}))
            .map(drop)
    }

    /// Runs `script` (the body of a function) in the page; its result.
    pub fn run(&self, script: &str) -> Result<Value, String> {
        self.post("/execute/sync", json!({"script": script, "args": []}))
    }

    /// Runs `script` until it returns `true`, for at most `limit`.
    pub fn wait_until(&self, script: &str, limit: Duration) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        loop {
            if self.run(script)? == Value::Bool(true) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!("still false after {limit:?}: {script}"));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// A PNG of the window.
    pub fn screenshot(&self) -> Result<Vec<u8>, String> {
        let response = self
            .http
            .get(format!("{}/screenshot", self.base))
            .send()
            .map_err(|err| format!("screenshot: {err}"))?;
        let value = answer(response)?;
        let text = value.as_str().ok_or("the screenshot is not a string")?;
        base64_decode(text)
    }

    fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .map_err(|err| format!("POST {path}: {err}"))?;
        answer(response).map_err(|err| format!("POST {path}: {err}"))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Closing the session closes the browser; then stop the driver.
        let _ = self.http.delete(&self.base).send();
        let _ = self.driver.kill();
        let _ = suite::process::wait_with_limit(&mut self.driver, Duration::from_secs(5));
    }
}

/// The `value` of a WebDriver answer, or its error message.
fn answer(response: reqwest::blocking::Response) -> Result<Value, String> {
    let status = response.status();
    let text = response
        .text()
        .map_err(|err| format!("cannot read the answer: {err}"))?;
    let body: Value = serde_json::from_str(&text)
        .map_err(|err| format!("the answer is not JSON ({err}): {text}"))?;
    if status.is_success() {
        Ok(body["value"].clone())
    } else {
        Err(format!("{status}: {}", body["value"]["message"]))
    }
}

/// Reads ChromeDriver's output until it says which port it chose.
fn read_port(stdout: std::process::ChildStdout) -> Result<u16, String> {
    let (found, port) = mpsc::channel();
    // The reader thread ends when ChromeDriver closes its output, that is
    // when it exits, which Drop makes sure of.
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // "ChromeDriver was started successfully on port 41519."
            let port = line
                .split("successfully on port ")
                .nth(1)
                .and_then(|rest| rest.trim_end_matches('.').parse::<u16>().ok());
            if let Some(port) = port {
                let _ = found.send(port);
            }
        }
    });
    port.recv_timeout(START_LIMIT)
        .map_err(|_| format!("chromedriver did not say its port within {START_LIMIT:?}"))
}

/// Standard base64 (RFC 4648), as WebDriver sends screenshots. A dozen
/// lines instead of a crate for one call.
fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Ok(c - b'A'),
        b'a'..=b'z' => Ok(c - b'a' + 26),
        b'0'..=b'9' => Ok(c - b'0' + 52),
        b'+' => Ok(62),
        b'/' => Ok(63),
        _ => Err(format!("{:?} is not base64", c as char)),
    };
    let digits: Vec<u8> = text
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut bytes = Vec::with_capacity(digits.len() * 3 / 4);
    for group in digits.chunks(4) {
        let mut bits: u32 = 0;
        for (i, &c) in group.iter().enumerate() {
            bits |= u32::from(value(c)?) << (18 - 6 * i);
        }
        let [_, a, b, c] = bits.to_be_bytes();
        bytes.extend_from_slice(&[a, b, c][..group.len().saturating_sub(1)]);
    }
    Ok(bytes)
}

#[test]
fn base64_table() {
    let rows: [(&str, &[u8]); 5] = [
        ("", b""),
        ("Zg==", b"f"),
        ("Zm8=", b"fo"),
        ("Zm9v", b"foo"),
        ("iVBORw0KGgo=", b"\x89PNG\r\n\x1a\n"),
    ];
    for (text, bytes) in rows {
        assert_eq!(base64_decode(text).as_deref(), Ok(bytes), "{text}");
    }
}

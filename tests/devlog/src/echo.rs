//! Day 2: answer with what the parser understood.
//!
//! Not the devlog's: its day 2 only printed the method. Our day-2 stage
//! answers with this echo and the day-2 checks read it, so the fixture
//! answers the same way. The strings are escaped properly, so that a check
//! fails because of the devlog's parser, never because of the echo.

use std::collections::HashMap;
use std::net::TcpStream;

use crate::day1::write_answer;
use crate::request::Request;

/// Reads one request and sends it back as JSON, the day-1 way.
///
/// # Panics
///
/// Whenever [`Request::new`] or [`write_answer`] does, on purpose.
pub fn handle_connection(mut stream: TcpStream) {
    let request =
        Request::new(&stream).expect("the devlog's Request::new panics instead of returning Err");
    println!("method: {:?}", request.method);
    write_answer(&mut stream, "HTTP/1.1 200 OK", &echo(&request));
}

/// The same JSON as our day-2 stage: method, path, query, headers and body,
/// with map keys sorted so that the answer is the same on every run.
fn echo(request: &Request) -> String {
    format!(
        r#"{{"method":{},"path":{},"query":{},"headers":{},"body":{}}}"#,
        string(&request.method),
        string(&request.path),
        sorted_object(&request.query),
        sorted_object(&request.headers),
        string(&request.body),
    )
}

fn sorted_object(map: &HashMap<String, String>) -> String {
    let mut pairs: Vec<_> = map.iter().collect();
    pairs.sort();
    let fields: Vec<String> = pairs
        .into_iter()
        .map(|(key, value)| format!("{}:{}", string(key), string(value)))
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// `text` as a JSON string literal: quotes, backslashes and control
/// characters escaped (RFC 8259, section 7).
fn string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

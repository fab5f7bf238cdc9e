//! Property-based and differential tests of the final server's parser.
//!
//! The examples in the unit tests show what the authors thought of. These
//! generate the inputs instead, thousands per run, and check properties
//! that must hold for all of them:
//! - **split-invariance**: a stream of requests fed to the real read path
//!   ([`RequestReader`], what `connection.rs` drives) in arbitrary pieces
//!   gives exactly what it gives in one piece: the same requests, then the
//!   same error or the same "need more". The classic bug is a `\r` at the
//!   end of one read and its `\n` at the start of the next. Valid streams
//!   must also come out as the requests that were generated;
//! - **a bare LF is refused**: a valid request with any one line of its
//!   head or of its chunks ending in `\n` alone is refused, in any pieces;
//! - **no panics**: arbitrary bytes, and valid requests with a byte
//!   flipped, inserted or deleted, a header repeated or a length changed,
//!   give requests or a `RequestError`, never a panic;
//! - **agreement with httparse**: on valid and near-valid heads, final's
//!   head parser and httparse accept and refuse the same ones, and read
//!   the same method, target, version and headers from them, except where
//!   final is stricter on purpose, as [`DIFFERENCES`] lists;
//! - **chunked round trip**: any body, cut into chunks of any sizes, with
//!   extensions and trailers, decodes to itself.
//!
//! `cargo test` runs proptest's default number of cases per property
//! (256, a few seconds in all). For a long run, set `PROPTEST_CASES`,
//! which proptest reads itself, and use a release build:
//!
//! ```sh
//! PROPTEST_CASES=2000000 cargo test --release -p tests parser_properties::
//! ```
//!
//! The model for the split test is h11's `tr()` helper (python-hyper/h11),
//! which feeds every reader its input whole, byte by byte, and with
//! trailing data.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::Config;
use todo_server::chunked::{self, ChunkedDecoder};
use todo_server::http::request::{self, MAX_HEAD_SIZE, Request, RequestError, Version};
use todo_server::reader::{Progress, RequestReader};

// ---------------------------------------------------------------------
// What the reader makes of a stream

/// A request, reduced to what can be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    version: Version,
    headers: BTreeMap<String, String>,
    host: Option<String>,
    body: Vec<u8>,
}

/// Everything the reader said about a stream: the requests, in order, then
/// how it stopped: an error, or waiting for more.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    requests: Vec<Seen>,
    error: Option<RequestError>,
    /// Whether the last poll asked for more bytes with the body started.
    in_body: bool,
}

// ANCHOR: read
/// Feeds `stream` to a fresh reader, cut at `cuts`, polling after every
/// piece, as `Connection::read_request` does after every read.
fn read(stream: &[u8], cuts: &[usize]) -> Outcome {
    let mut reader = RequestReader::new();
    let mut outcome = Outcome {
        requests: Vec::new(),
        error: None,
        in_body: false,
    };
    let mut from = 0;
    for cut in piece_ends(stream.len(), cuts) {
        reader.feed(&stream[from..cut]);
        from = cut;
        loop {
            match reader.poll() {
                Ok(Progress::Done(request)) => outcome.requests.push(Seen::from(request)),
                Ok(Progress::NeedHead) => {
                    outcome.in_body = false;
                    break;
                }
                Ok(Progress::NeedBody { .. }) => {
                    outcome.in_body = true;
                    break;
                }
                Err(err) => {
                    // The connection answers and closes: nothing after an
                    // error is read.
                    outcome.error = Some(err);
                    outcome.in_body = false;
                    return outcome;
                }
            }
        }
    }
    outcome
}
// ANCHOR_END: read

/// Where the pieces of a stream of `len` bytes end, for cuts at `cuts`
/// (positions in any order; out-of-range ones are ignored).
fn piece_ends(len: usize, cuts: &[usize]) -> Vec<usize> {
    let mut ends: Vec<usize> = cuts.iter().copied().filter(|&cut| cut < len).collect();
    ends.sort_unstable();
    ends.dedup();
    ends.push(len);
    ends
}

impl From<Request> for Seen {
    fn from(request: Request) -> Seen {
        Seen {
            method: request.method,
            path: request.path,
            query: request.query.into_iter().collect(),
            version: request.version,
            headers: request.headers.into_iter().collect(),
            host: request.host,
            body: request.body,
        }
    }
}

// ---------------------------------------------------------------------
// Valid requests

/// How a generated request's body is sent.
#[derive(Debug, Clone)]
enum Body {
    None,
    Length(Vec<u8>),
    /// The body, the chunk sizes to cut it into, extensions to put on
    /// the size lines in turn (none if empty), and trailer lines.
    Chunked(Vec<u8>, Vec<usize>, Vec<String>, Vec<String>),
}

/// A request the generator built, and what the reader must make of it.
#[derive(Debug, Clone)]
struct Message {
    bytes: Vec<u8>,
    expected: Seen,
    /// Whether a line of its head or of its chunks ends in a bare `\n`.
    bare_lf: bool,
}

/// The line ends a request is written with: `\r\n`, except for line
/// number `bare` (counting from 0, head lines first, then chunk lines),
/// which ends in a bare `\n`.
struct LineEnds {
    bare: Option<usize>,
    written: std::cell::Cell<usize>,
}

impl LineEnds {
    fn new(bare: Option<usize>) -> LineEnds {
        LineEnds {
            bare,
            written: std::cell::Cell::new(0),
        }
    }

    /// The end of the next line.
    fn next(&self) -> &'static str {
        let line = self.written.get();
        self.written.set(line + 1);
        if Some(line) == self.bare {
            "\n"
        } else {
            "\r\n"
        }
    }

    /// Whether the bare line end was written.
    fn bare_written(&self) -> bool {
        self.bare.is_some_and(|bare| bare < self.written.get())
    }
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}"
}

/// One chunk extension, as RFC 9112 (section 7.1.1) writes it: `;name` or
/// `;name=value`, the value a token or a quoted string (with escapes),
/// and spaces or tabs around the `;` and the `=`.
fn extension() -> impl Strategy<Value = String> {
    let bws = || "[ \t]{0,2}";
    let quoted = r#""([\t !#-\[\]-~]|\\[\t -~]){0,8}""#;
    let value = prop_oneof![token(), quoted];
    (
        bws(),
        bws(),
        token(),
        proptest::option::of((bws(), bws(), value)),
    )
        .prop_map(|(before, after, name, value)| match value {
            Some((left, right, value)) => format!("{before};{after}{name}{left}={right}{value}"),
            None => format!("{before};{after}{name}"),
        })
}

/// A valid request, with every line ending in `\r\n`.
fn message() -> impl Strategy<Value = Message> {
    message_with(Just(None))
}

/// One request: method, target in one of its forms, version, headers
/// (Host where HTTP/1.1 needs it), and a body framed either way; valid,
/// but for the line that `bare` may make end in a bare `\n`.
fn message_with(bare: impl Strategy<Value = Option<usize>>) -> impl Strategy<Value = Message> {
    let method = prop_oneof![
        Just("GET".to_string()),
        Just("POST".to_string()),
        Just("PATCH".to_string()),
        Just("DELETE".to_string()),
        Just("OPTIONS".to_string()),
        token(),
    ];
    let path = "(/[A-Za-z0-9._~-]{0,8}){1,3}";
    let query = proptest::option::of("[a-z]{1,5}=[A-Za-z0-9]{0,5}(&[a-z]{1,5}=[a-z0-9]{0,5}){0,2}");
    let absolute = any::<bool>();
    let http11 = any::<bool>();
    let headers = proptest::collection::vec((token(), "[ -~]{0,30}"), 0..5);
    let filler = prop_oneof![
        8 => Just(0usize),
        1 => 0usize..200,
        // Heads that end right at the 8 KiB limit, on either side of it.
        1 => (MAX_HEAD_SIZE - 200)..(MAX_HEAD_SIZE + 10),
    ];
    let body = prop_oneof![
        Just(Body::None),
        proptest::collection::vec(any::<u8>(), 0..600).prop_map(Body::Length),
        (
            proptest::collection::vec(any::<u8>(), 0..600),
            proptest::collection::vec(1usize..300, 0..6),
            proptest::collection::vec(extension(), 0..3),
            proptest::collection::vec("X-[A-Za-z]{1,6}: [ -~]{0,10}", 0..3),
        )
            .prop_map(|(body, sizes, ext, trailers)| Body::Chunked(body, sizes, ext, trailers)),
    ];
    (
        method, path, query, absolute, http11, headers, filler, body, bare,
    )
        .prop_map(
            |(method, path, query, absolute, http11, extra, filler, body, bare)| {
                let eol = LineEnds::new(bare);
                build(
                    method, path, query, absolute, http11, extra, filler, body, &eol,
                )
            },
        )
}

/// Writes the request out, and works out what the reader must see.
#[allow(clippy::too_many_arguments)]
fn build(
    method: String,
    path: String,
    query: Option<String>,
    absolute: bool,
    http11: bool,
    extra: Vec<(String, String)>,
    filler: usize,
    body: Body,
    eol: &LineEnds,
) -> Message {
    let origin = match &query {
        Some(query) => format!("{path}?{query}"),
        None => path.clone(),
    };
    let target = if absolute {
        format!("http://localhost:5000{origin}")
    } else {
        origin.clone()
    };
    let version = if http11 { "HTTP/1.1" } else { "HTTP/1.0" };
    let mut head = format!("{method} {target} {version}{}", eol.next());
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    let mut add = |head: &mut String, name: &str, value: &str| {
        head.push_str(&format!("{name}: {value}{}", eol.next()));
        let value = value.trim_matches([' ', '\t']).to_string();
        headers
            .entry(name.to_ascii_lowercase())
            .and_modify(|existing| {
                existing.push_str(", ");
                existing.push_str(&value);
            })
            .or_insert(value);
    };
    if http11 {
        add(&mut head, "Host", "127.0.0.1:5000");
    }
    for (name, value) in &extra {
        let lower = name.to_ascii_lowercase();
        if ["host", "content-length", "transfer-encoding", "expect"].contains(&lower.as_str()) {
            continue;
        }
        add(&mut head, name, value);
    }
    if filler > 0 {
        add(&mut head, "X-Filler", &"f".repeat(filler));
    }
    // The headers that frame the body, then the empty line, then the
    // body: in that order, so that `eol` numbers the lines as they go.
    let chunked = match &body {
        Body::None => None,
        Body::Length(bytes) => {
            add(&mut head, "Content-Length", &bytes.len().to_string());
            None
        }
        // HTTP/1.0 has no chunked; it gets a length instead.
        Body::Chunked(bytes, ..) if !http11 => {
            add(&mut head, "Content-Length", &bytes.len().to_string());
            None
        }
        Body::Chunked(..) => {
            add(&mut head, "Transfer-Encoding", "chunked");
            Some(())
        }
    };
    head.push_str(eol.next());
    let mut bytes = head.into_bytes();
    let body_bytes = match (&body, chunked) {
        (Body::None, _) => Vec::new(),
        (Body::Length(body), _) | (Body::Chunked(body, ..), None) => {
            bytes.extend_from_slice(body);
            body.clone()
        }
        (Body::Chunked(body, sizes, ext, trailers), Some(())) => {
            bytes.extend(encode(body, sizes, ext, trailers, eol));
            body.clone()
        }
    };
    let (path, query) = request::path_and_query(&origin);
    let host = if absolute {
        Some("localhost:5000".to_string())
    } else {
        headers.get("host").cloned()
    };
    Message {
        bytes,
        expected: Seen {
            method,
            path,
            query: query.into_iter().collect(),
            version: if http11 {
                Version::Http11
            } else {
                Version::Http10
            },
            headers,
            host,
            body: body_bytes,
        },
        bare_lf: eol.bare_written(),
    }
}

/// Chunked encoding with the given sizes, extensions (one per size line,
/// in turn), trailers and line ends; written here rather than with
/// `chunked::encode`, so that the test does not check the decoder against
/// its own twin. Extensions stop before they would pass the decoder's
/// limit for a whole body, [`chunked::MAX_EXTENSION_BYTES`].
fn encode(
    body: &[u8],
    sizes: &[usize],
    extensions: &[String],
    trailers: &[String],
    eol: &LineEnds,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = body;
    let mut sizes = sizes.iter().copied().cycle();
    let mut extensions = extensions.iter().cycle();
    let mut extension_bytes = 0;
    while !rest.is_empty() {
        let size = sizes.next().unwrap_or(rest.len()).clamp(1, rest.len());
        let extension = extensions
            .next()
            .filter(|ext| extension_bytes + ext.len() <= chunked::MAX_EXTENSION_BYTES)
            .map_or("", String::as_str);
        extension_bytes += extension.len();
        out.extend_from_slice(format!("{size:X}{extension}{}", eol.next()).as_bytes());
        out.extend_from_slice(&rest[..size]);
        out.extend_from_slice(eol.next().as_bytes());
        rest = &rest[size..];
    }
    out.extend_from_slice(format!("0{}", eol.next()).as_bytes());
    for trailer in trailers {
        out.extend_from_slice(format!("{trailer}{}", eol.next()).as_bytes());
    }
    out.extend_from_slice(eol.next().as_bytes());
    out
}

/// One to three valid requests, back to back, as a pipelining client
/// sends them, maybe with empty lines between them (RFC 9112, section 2.2
/// says to skip those).
fn stream() -> impl Strategy<Value = (Vec<u8>, Vec<Seen>)> {
    proptest::collection::vec((message(), any::<bool>()), 1..4).prop_map(|messages| {
        let mut bytes = Vec::new();
        let mut expected = Vec::new();
        for (message, blank_line_first) in messages {
            if blank_line_first {
                bytes.extend_from_slice(b"\r\n");
            }
            bytes.extend_from_slice(&message.bytes);
            expected.push(message.expected);
        }
        (bytes, expected)
    })
}

/// Where to cut: a few positions anywhere, or many.
fn cuts() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        proptest::collection::vec(0usize..20_000, 0..4),
        proptest::collection::vec(0usize..2_000, 0..64),
    ]
}

// ---------------------------------------------------------------------
// Mutations

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    /// Repeat the line that starts at or after this position.
    DuplicateLine(usize),
    /// Replace the run of hex digits at or after this position with this
    /// number, written in hex or decimal: a length or a chunk size
    /// changed.
    Number(usize, u64, bool),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0usize..20_000;
    prop_oneof![
        (at.clone(), 1u8..=255).prop_map(|(at, bits)| Mutation::Flip(at, bits)),
        (
            at.clone(),
            prop_oneof![
                Just(b'\r'),
                Just(b'\n'),
                Just(b' '),
                Just(b':'),
                Just(b';'),
                Just(b'0'),
                any::<u8>()
            ]
        )
            .prop_map(|(at, byte)| Mutation::Insert(at, byte)),
        at.clone().prop_map(Mutation::Delete),
        at.clone().prop_map(Mutation::DuplicateLine),
        (at, any::<u64>(), any::<bool>()).prop_map(|(at, n, hex)| Mutation::Number(at, n, hex)),
    ]
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    let at = |i: usize| i % bytes.len();
    match *mutation {
        Mutation::Flip(i, bits) => {
            let i = at(i);
            bytes[i] ^= bits;
        }
        Mutation::Insert(i, byte) => {
            let i = at(i);
            bytes.insert(i, byte);
        }
        Mutation::Delete(i) => {
            let i = at(i);
            bytes.remove(i);
        }
        Mutation::DuplicateLine(i) => {
            let start = at(i);
            let start = bytes[..start]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            let end = bytes[start..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |p| start + p + 1);
            let line = bytes[start..end].to_vec();
            bytes.splice(start..start, line);
        }
        Mutation::Number(i, n, hex) => {
            let i = at(i);
            let Some(start) = bytes[i..].iter().position(u8::is_ascii_hexdigit) else {
                return;
            };
            let start = i + start;
            let len = bytes[start..]
                .iter()
                .take_while(|b| b.is_ascii_hexdigit())
                .count();
            let text = if hex { format!("{n:x}") } else { n.to_string() };
            bytes.splice(start..start + len, text.into_bytes());
        }
    }
}

// ---------------------------------------------------------------------
// The differences from httparse

/// Where final's head parser and httparse deliberately disagree. Each row:
/// an id, what final does, what httparse does, and why.
///
/// httparse is a tokenizer: it splits a head into its parts and checks
/// their characters, and leaves what the parts mean to its caller. final's
/// `Head::parse` is that caller too, so it refuses some heads that are
/// well-formed tokens but not requests this server should serve.
// ANCHOR: differences
const DIFFERENCES: &[(&str, &str, &str, &str)] = &[
    (
        "host",
        "400 for HTTP/1.1 without Host, for Host twice, or for a Host that is not a host",
        "accepts",
        "RFC 9112, section 3.2 makes this a MUST for servers; httparse does not interpret headers",
    ),
    (
        "target-form",
        "400 unless the target is /path, http(s)://host/path (no user@) or * with OPTIONS",
        "accepts any visible characters",
        "a target of another form (authority-form is for CONNECT, to proxies) is not one this server can route",
    ),
    (
        "utf-8",
        "400 for bytes 0x80 to 0xFF that are not UTF-8, in the target or in values, and for UTF-8 control characters (U+0080 to U+009F) in values",
        "accepts any byte 0x80 to 0xFF (obs-text) in values and targets",
        "the head is handled as text; obs-text is obsolete (RFC 9110, section 5.5), and no client of this API sends it",
    ),
    (
        "incremental",
        "waits for the empty line, then parses the head (and refuses it then)",
        "checks each line as it arrives, so it refuses some heads before they are complete",
        "a head is at most 8 KiB and must arrive within 5 s, so waiting for it costs little, and one parse of a whole head is simpler to read",
    ),
    (
        "bare-lf",
        "400 for a line ending in a bare \\n, at the \\n, before the head is complete",
        "accepts a bare \\n as a line end, and skips leading empty lines that end in one",
        "RFC 9112, section 2.2: a recipient MAY read a bare LF as a line end. A proxy that does not, in front of a server that does, disagrees with it about where a header (and so the request) ends",
    ),
    (
        "version",
        "505 for HTTP/x.y other than 1.0 and 1.1",
        "refuses (Error::Version)",
        "not a difference in accepting, only in the status the server gives",
    ),
];
// ANCHOR_END: differences

/// What a parser made of a head.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Parsed {
    /// Method, target, minor version, headers (names lower-cased, values
    /// trimmed, repeats joined with ", "), and where the body starts.
    Head(String, String, u8, BTreeMap<String, String>, usize),
    Partial,
    Refused,
}

/// final's head parser, as the reader uses it: skip empty lines, find the
/// end of the head, parse it.
fn parse_final(input: &[u8]) -> (Parsed, Option<RequestError>) {
    let skip = request::leading_empty_lines(input);
    match request::head_end(&input[skip..]) {
        Ok(None) => (Parsed::Partial, None),
        Err(err) => (Parsed::Refused, Some(err)),
        Ok(Some((end, body_start))) => match request::Head::parse(&input[skip..skip + end]) {
            Ok(head) => (
                Parsed::Head(
                    head.method,
                    head.target,
                    match head.version {
                        Version::Http10 => 0,
                        Version::Http11 => 1,
                    },
                    head.headers.into_iter().collect(),
                    skip + body_start,
                ),
                None,
            ),
            Err(err) => (Parsed::Refused, Some(err)),
        },
    }
}

fn parse_httparse(input: &[u8]) -> Parsed {
    let mut slots = vec![httparse::EMPTY_HEADER; MAX_HEAD_SIZE];
    let mut parsed = httparse::Request::new(&mut slots);
    match parsed.parse(input) {
        Ok(httparse::Status::Complete(body_start)) => {
            let mut headers: BTreeMap<String, String> = BTreeMap::new();
            for header in parsed.headers.iter() {
                // Optional whitespace around a value is not part of it
                // (RFC 9110, section 5.5).
                let value = String::from_utf8_lossy(header.value)
                    .trim_matches([' ', '\t'])
                    .to_string();
                headers
                    .entry(header.name.to_ascii_lowercase())
                    .and_modify(|existing| {
                        existing.push_str(", ");
                        existing.push_str(&value);
                    })
                    .or_insert(value);
            }
            Parsed::Head(
                parsed.method.unwrap_or_default().to_string(),
                parsed.path.unwrap_or_default().to_string(),
                parsed.version.unwrap_or_default(),
                headers,
                body_start,
            )
        }
        Ok(httparse::Status::Partial) => Parsed::Partial,
        Err(_) => Parsed::Refused,
    }
}

/// Which row of [`DIFFERENCES`] explains `final` refusing what httparse
/// accepted as `theirs`, if any.
fn explained(input: &[u8], err: &RequestError, theirs: &Parsed) -> Option<&'static str> {
    let Parsed::Head(method, target, version, headers, _) = theirs else {
        return None;
    };
    let message = err.message();
    if message.contains("bare LF") && has_bare_lf(input) {
        return Some("bare-lf");
    }
    let host_lines = input
        .split(|&b| b == b'\n')
        .skip(1)
        .filter(|line| line.len() >= 5 && line[..5].eq_ignore_ascii_case(b"host:"))
        .count();
    let host_ok = headers.get("host").is_some_and(|host| {
        host.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+;=%:[]".contains(&b))
    });
    if message.contains("Host") && (host_lines != 1 && *version == 1 || host_lines > 1 || !host_ok)
    {
        return Some("host");
    }
    let non_ascii = input.iter().any(|&b| b >= 0x80);
    if non_ascii
        && (message.contains("UTF-8")
            || message.contains("control character")
            || message.contains("percent-encoded"))
    {
        return Some("utf-8");
    }
    if request::target_form(method, target).is_err()
        && (message.contains("target") || message.contains("URL") || message.contains('*'))
    {
        return Some("target-form");
    }
    None
}

/// Whether some `\n` in `input` has no `\r` before it.
fn has_bare_lf(input: &[u8]) -> bool {
    input
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\n' && (i == 0 || input[i - 1] != b'\r'))
}

/// Checks that final and httparse agree on `input`, or differ as a row of
/// [`DIFFERENCES`] says.
fn agree(input: &[u8]) -> Result<(), TestCaseError> {
    let (ours, err) = parse_final(input);
    let theirs = parse_httparse(input);
    if ours == theirs {
        return Ok(());
    }
    match (&ours, &theirs, &err) {
        (Parsed::Refused, Parsed::Head(..), Some(err)) => {
            let row = explained(input, err, &theirs);
            prop_assert!(
                row.is_some_and(|id| DIFFERENCES.iter().any(|(row, ..)| *row == id)),
                "final refuses ({err:?}) what httparse accepts, and no row explains it:\n{}\nhttparse: {theirs:?}",
                input.escape_ascii()
            );
            Ok(())
        }
        (Parsed::Refused, Parsed::Partial, Some(err)) => {
            // final refuses a bare LF where it stands; httparse, for which
            // it ends a line, waits for the rest of the head.
            prop_assert!(
                err.message().contains("bare LF") && has_bare_lf(input),
                "final refuses ({err:?}) what httparse waits on, and no row explains it:\n{}",
                input.escape_ascii()
            );
            Ok(())
        }
        (Parsed::Partial, Parsed::Refused, None) => {
            // httparse refused a prefix; final must refuse once the head
            // is complete.
            let completed = [input, b"\r\n\r\n"].concat();
            let (ours, err) = parse_final(&completed);
            prop_assert_eq!(
                &ours,
                &Parsed::Refused,
                "httparse refuses\n{}\nbut final accepts it completed: {:?}",
                input.escape_ascii(),
                err
            );
            Ok(())
        }
        _ => Err(TestCaseError::fail(format!(
            "final and httparse disagree on\n{}\nfinal:    {ours:?} {err:?}\nhttparse: {theirs:?}",
            input.escape_ascii()
        ))),
    }
}

/// A head built from parts that are mostly right and sometimes not.
fn near_valid_head() -> impl Strategy<Value = Vec<u8>> {
    let method = prop_oneof![
        6 => Just(b"GET".to_vec()),
        2 => Just(b"OPTIONS".to_vec()),
        2 => token().prop_map(String::into_bytes),
        1 => proptest::collection::vec(prop_oneof![Just(b'G'), Just(b'('), Just(0x7f), Just(0xc3), Just(b'@'), any::<u8>()], 1..4),
    ];
    let sep = prop_oneof![12 => Just(b" ".to_vec()), 1 => Just(b"  ".to_vec()), 1 => Just(b"\t".to_vec()), 1 => Just(Vec::new())];
    let target = prop_oneof![
        6 => "/[A-Za-z0-9/?=&%._~!$'()*+,;:@-]{0,20}".prop_map(String::into_bytes),
        2 => Just(b"http://127.0.0.1:5000/todos".to_vec()),
        1 => Just(b"http://user@127.0.0.1/".to_vec()),
        1 => Just(b"*".to_vec()),
        1 => Just(b"example.com:443".to_vec()),
        1 => proptest::collection::vec(
            prop_oneof![Just(b'/'), Just(b'"'), Just(b'{'), Just(b'\\'), Just(0x7f), Just(0x80), Just(0xc3), Just(0xa9), Just(b'\r'), Just(0), any::<u8>()],
            1..6,
        ),
    ];
    let version = prop_oneof![
        8 => Just("HTTP/1.1"),
        3 => Just("HTTP/1.0"),
        1 => Just("HTTP/2.0"),
        1 => Just("HTTP/1.2"),
        1 => Just("http/1.1"),
        1 => Just("HTTP/1"),
        1 => Just("HTTP/1.10"),
    ];
    let eol = prop_oneof![10 => Just(b"\r\n".to_vec()), 3 => Just(b"\n".to_vec()), 1 => Just(b"\r".to_vec()), 1 => Just(b"\r\r\n".to_vec())];
    let name = prop_oneof![
        6 => token().prop_map(String::into_bytes),
        3 => Just(b"Host".to_vec()),
        1 => Just(b"X Y".to_vec()),
        1 => Just(Vec::new()),
        1 => Just(b" X".to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 1..4),
    ];
    let colon = prop_oneof![6 => Just(b": ".to_vec()), 3 => Just(b":".to_vec()), 1 => Just(b" :".to_vec()), 1 => Just(b":\t".to_vec())];
    let value = proptest::collection::vec(
        prop_oneof![
            20 => b' '..=b'~',
            2 => Just(b'\t'),
            1 => Just(0x7f),
            1 => Just(0),
            1 => Just(b'\r'),
            1 => 0x80u8..=0xff,
            1 => Just(b','),
        ],
        0..16,
    );
    let header = (name, colon, value, eol.clone());
    let headers = proptest::collection::vec(header, 0..6);
    let host = prop_oneof![4 => Just(0usize), 1 => Just(1), 1 => Just(2)];
    let leading = prop_oneof![8 => Just(Vec::new()), 1 => Just(b"\r\n".to_vec()), 1 => Just(b"\n\r\n".to_vec())];
    (
        leading,
        method,
        sep.clone(),
        target,
        sep,
        version,
        eol.clone(),
        host,
        headers,
        eol,
    )
        .prop_map(
            |(leading, method, sep1, target, sep2, version, eol, hosts, headers, last)| {
                let mut out = leading;
                out.extend(method);
                out.extend(sep1);
                out.extend(target);
                out.extend(sep2);
                out.extend_from_slice(version.as_bytes());
                out.extend(&eol);
                for _ in 0..hosts {
                    out.extend_from_slice(b"Host: 127.0.0.1:5000");
                    out.extend(&eol);
                }
                for (name, colon, value, end) in headers {
                    out.extend(name);
                    out.extend(colon);
                    out.extend(value);
                    out.extend(end);
                }
                out.extend(last);
                out
            },
        )
}

// ---------------------------------------------------------------------
// The properties

proptest! {
    #![proptest_config(Config::default())]

    // ANCHOR: split_property
    /// Valid streams come out as the requests that went in, however they
    /// are cut.
    #[test]
    fn valid_streams_read_the_same_in_any_pieces((stream, expected) in stream(), cuts in cuts()) {
        let whole = read(&stream, &[]);
        let pieces = read(&stream, &cuts);
        prop_assert_eq!(&whole, &pieces, "cut at {:?}:\n{}", cuts, stream.escape_ascii());
        // A head over the limit is refused: then the requests before it
        // are all that come out.
        match &whole.error {
            None => prop_assert_eq!(&whole.requests, &expected),
            Some(RequestError::HeadTooLarge) => {
                prop_assert_eq!(&whole.requests[..], &expected[..whole.requests.len()])
            }
            Some(err) => prop_assert!(false, "{err:?} for a valid stream:\n{}", stream.escape_ascii()),
        }
    }
    // ANCHOR_END: split_property

    /// A request with one line that ends in a bare `\n`, in its head or
    /// among its chunks, is refused, whole and in pieces alike, and
    /// nothing of it comes out as a request. (When the number is past its
    /// last line, the request is valid and must come out whole.)
    #[test]
    fn a_bare_lf_ending_any_line_is_refused(
        message in message_with((0usize..24).prop_map(Some)),
        cuts in cuts(),
    ) {
        let whole = read(&message.bytes, &[]);
        prop_assert_eq!(&whole, &read(&message.bytes, &cuts), "cut at {:?}:\n{}", cuts, message.bytes.escape_ascii());
        match (&whole.error, message.bare_lf) {
            (None, false) => prop_assert_eq!(&whole.requests, &vec![message.expected]),
            (Some(RequestError::HeadTooLarge), _) => prop_assert!(whole.requests.is_empty()),
            (Some(RequestError::Malformed(why)), true) if why.contains("CRLF") => {
                prop_assert!(whole.requests.is_empty())
            }
            (error, bare) => prop_assert!(
                false,
                "{error:?} (a bare LF: {bare}) for\n{}",
                message.bytes.escape_ascii()
            ),
        }
    }

    /// Broken requests never panic, and are read the same in any pieces.
    #[test]
    fn mutated_streams_read_the_same_in_any_pieces(
        (stream, _) in stream(),
        mutations in proptest::collection::vec(mutation(), 1..5),
        cuts in cuts(),
    ) {
        let mut stream = stream;
        for mutation in &mutations {
            apply(&mut stream, mutation);
        }
        prop_assert_eq!(read(&stream, &[]), read(&stream, &cuts), "{}", stream.escape_ascii());
    }

    /// Arbitrary bytes, alone or after the start of a request, never panic,
    /// and are read the same in any pieces.
    #[test]
    fn arbitrary_bytes_read_the_same_in_any_pieces(
        prefix in prop_oneof![
            Just(&b""[..]),
            Just(&b"GET / HTTP/1.1\r\n"[..]),
            Just(&b"POST /todos HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"[..]),
        ],
        bytes in proptest::collection::vec(any::<u8>(), 0..1024),
        cuts in cuts(),
    ) {
        let stream = [prefix, &bytes].concat();
        prop_assert_eq!(read(&stream, &[]), read(&stream, &cuts), "{}", stream.escape_ascii());
        // The pieces as the head parser and the decoder see them alone.
        let _ = request::Head::parse(&stream);
        let _ = ChunkedDecoder::new().decode(&bytes);
    }

    /// final's head parser agrees with httparse, but for the listed
    /// differences.
    #[test]
    fn heads_parse_as_httparse_parses_them(head in near_valid_head()) {
        agree(&head)?;
    }

    /// Any body, in chunks of any sizes, decodes to itself, fed in any
    /// pieces.
    #[test]
    fn chunked_bodies_round_trip(
        body in proptest::collection::vec(any::<u8>(), 0..3000),
        sizes in proptest::collection::vec(1usize..1500, 0..8),
        ext in proptest::collection::vec(extension(), 0..3),
        trailers in proptest::collection::vec("X-[A-Za-z]{1,6}: [ -~]{0,10}", 0..3),
        cuts in cuts(),
        after in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let eol = LineEnds::new(None);
        let encoded = [encode(&body, &sizes, &ext, &trailers, &eol), after.clone()].concat();
        // The server's own encoder (used by nothing but tests) agrees.
        prop_assert_eq!(
            decode_in_pieces(&chunked::encode(&body, &sizes), &[]),
            Ok((body.clone(), 0))
        );
        prop_assert_eq!(decode_in_pieces(&encoded, &cuts), Ok((body, after.len())));
    }
}

/// Decodes `input` fed in pieces; returns the body and how many bytes were
/// left unused after it.
fn decode_in_pieces(input: &[u8], cuts: &[usize]) -> Result<(Vec<u8>, usize), RequestError> {
    let mut cuts: Vec<usize> = cuts.iter().copied().filter(|&c| c < input.len()).collect();
    cuts.sort_unstable();
    cuts.push(input.len());
    let mut decoder = ChunkedDecoder::new();
    let mut used = 0;
    for cut in cuts {
        if decoder.is_done() {
            break;
        }
        used += decoder.decode(&input[used..cut])?;
    }
    if !decoder.is_done() {
        return Err(RequestError::Incomplete);
    }
    Ok((decoder.into_body(), input.len() - used))
}

// ---------------------------------------------------------------------
// Regressions: inputs the properties found, kept as named tests.

/// A head whose lines end exactly at the 8 KiB limit is accepted whole,
/// and must be accepted when the `\r` of its empty line arrives in one
/// read and the `\n` in the next. The server refused it with a 431 in that
/// case: it checked the buffer's length against the limit before looking
/// for the end of the head, and 8 KiB plus that `\r` is over the limit.
#[test]
fn a_head_of_exactly_the_limit_reads_the_same_in_pieces() {
    let start = "GET / HTTP/1.1\r\nHost: localhost\r\nX-Filler: ";
    let filler = "f".repeat(MAX_HEAD_SIZE - start.len() - 2);
    let stream = format!("{start}{filler}\r\n\r\n").into_bytes();
    let whole = read(&stream, &[]);
    assert_eq!(whole.error, None);
    assert_eq!(whole.requests.len(), 1);
    assert_eq!(read(&stream, &[MAX_HEAD_SIZE + 1]), whole);
}

/// `\r\r\n` inside a head: httparse refuses it at once, final waited for
/// more bytes (it looked only for `\n`), and refused the head only once
/// it was complete. Now a CR not followed by LF is refused where it
/// stands.
#[test]
fn a_bare_cr_in_a_head_is_refused_at_once() {
    let input = b"GET / HTTP/1.1\r\n\r\r\n";
    assert_eq!(parse_httparse(input), Parsed::Refused);
    assert_eq!(
        parse_final(input),
        (
            Parsed::Refused,
            Some(RequestError::Malformed(
                "a CR in the head must be followed by LF"
            ))
        )
    );
}

// ---------------------------------------------------------------------
// Chunk-size lines, against httparse's `parse_chunk_size`

/// Chunk-size lines on which final's decoder and httparse's
/// `parse_chunk_size` agree, or differ on purpose. Each row: the line,
/// whether final accepts it, whether httparse does, and why.
///
/// httparse skips extensions without reading them ("we gain nothing by
/// rejecting an otherwise valid chunk size", its source says), which is
/// right for a client library. A server behind a proxy gains this: the
/// two agree on where the line ends.
const CHUNK_LINES: &[(&[u8], bool, bool, &str)] = &[
    (b"4\r\n", true, true, "the plain case"),
    (
        b"4;a=b;c=\"d e\"\r\n",
        true,
        true,
        "extensions by the grammar",
    ),
    (
        b"4\n",
        false,
        false,
        "a bare LF ends no chunk line, for either",
    ),
    (
        b"4 \r\n",
        false,
        true,
        "the grammar has room for spaces before a `;` only",
    ),
    (b"4;\r\n", false, true, "an extension needs a name"),
    (b"4;a=\"b\r\n", false, true, "a quoted value must be closed"),
    (b"4;a=b/c\r\n", false, true, "a value is a token or quoted"),
    // To httparse the \n is one more byte of an extension it skips; to a
    // decoder that takes a bare \n as a line end, the chunk's data starts
    // right after it: "b\r\n" would be data. final refuses the line.
    (
        b"4;a\nb\r\n",
        false,
        true,
        "a bare LF inside a line is where two readers part",
    ),
];

#[test]
fn chunk_size_lines_are_read_as_httparse_reads_them_but_for_the_listed_rows() {
    for &(line, ours, theirs, why) in CHUNK_LINES {
        let final_accepts = ChunkedDecoder::new()
            .decode(line)
            .is_ok_and(|used| used == line.len());
        let httparse_accepts = matches!(
            httparse::parse_chunk_size(line),
            Ok(httparse::Status::Complete((used, 4))) if used == line.len()
        );
        assert_eq!(
            (final_accepts, httparse_accepts),
            (ours, theirs),
            "{} ({why})",
            line.escape_ascii()
        );
    }
}

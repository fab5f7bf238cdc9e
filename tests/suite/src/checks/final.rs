//! The final server: the to-do API, HTTP/1.1 as the RFCs require, safety
//! on localhost, keep-alive, and serving everyone.
//!
//! Most API checks need a few requests in a row (create a to-do, then read
//! it back), so they are functions built from [`call`]. Each starts by
//! creating what it needs, so it also works against a server that already
//! holds to-dos.

use std::fs;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Check, Expect, Failure, Payload, Probe, open};
use crate::client::{
    self, call, create_todo, expecting, failed_reply, failure, head_matches_get, id_of,
    request_closing,
};
use crate::server::Server;
use crate::stage::Stage::Final;
use crate::wire::{self, Exchange, RawResponse, Reply};

pub static CHECKS: &[Check] = &[
    Check {
        id: "final-list",
        from: Final,
        until: None,
        title: "GET /todos answers a JSON array",
        hint: "Serialize the list of to-dos with serde_json: `[]` when there are none.",
        probe: Probe::Script(list),
    },
    Check {
        id: "final-create",
        from: Final,
        until: None,
        title: "POST /todos answers 201 with the new to-do, its absolute url, and a Location header",
        hint: "Answer 201 Created with {id, title, completed, order, url}; url is http://HOST/todos/ID built from the Host header, and Location repeats it.",
        probe: Probe::Script(create),
    },
    Check {
        id: "final-get",
        from: Final,
        until: None,
        title: "GET on a to-do's url answers that to-do",
        hint: "Parse the id from /todos/{id} and look it up; 404 when it does not exist.",
        probe: Probe::Script(get),
    },
    Check {
        id: "final-patch",
        from: Final,
        until: None,
        title: "PATCH changes only the fields it names and answers the whole to-do",
        hint: "Read each field as optional: replace the ones present, keep the others.",
        probe: Probe::Script(patch),
    },
    Check {
        id: "final-delete",
        from: Final,
        until: None,
        title: "DELETE /todos/{id} answers 204, and the to-do is gone",
        hint: "Answer 204 No Content (no body, no Content-Length) and remove it; a later GET is 404.",
        probe: Probe::Script(delete),
    },
    Check {
        id: "final-delete-all",
        from: Final,
        until: None,
        title: "DELETE /todos answers 204 and empties the list",
        hint: "Remove every to-do, but keep counting ids up: an id is never reused.",
        probe: Probe::Script(delete_all),
    },
    Check {
        id: "final-bad-json",
        from: Final,
        until: None,
        title: "a body that is not JSON answers 400",
        hint: "When serde_json cannot parse the body, answer 400 and say so.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"title\":"),
            expect: Expect::Error(&[400]),
        },
    },
    Check {
        id: "final-wrong-type",
        from: Final,
        until: None,
        title: "a field of the wrong type answers 400 naming the field",
        hint: "Check each field's type and name it in the message: \"completed must be true or false\".",
        probe: Probe::Request {
            payload: Payload::Bytes(b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 34\r\n\r\n{\"title\":\"milk\",\"completed\":\"yes\"}"),
            expect: Expect::ErrorMentioning(400, "completed"),
        },
    },
    Check {
        id: "final-missing-title",
        from: Final,
        until: None,
        title: "a to-do without a title answers 400",
        hint: "`title` is required: answer 400 when it is missing.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r\n{\"completed\":true}"),
            expect: Expect::ErrorMentioning(400, "title"),
        },
    },
    Check {
        id: "final-empty-title",
        from: Final,
        until: None,
        title: "an empty title answers 400",
        hint: "A title of \"\" (or only spaces) is as good as none.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"title\":\"  \"}"),
            expect: Expect::ErrorMentioning(400, "title"),
        },
    },
    Check {
        id: "final-unsupported-media-type",
        from: Final,
        until: None,
        title: "a body that is not labelled JSON answers 415 and says how to fix it",
        hint: "Answer 415 when Content-Type is present and not application/json, and tell curl users to add -H 'Content-Type: application/json'.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\ntitle=milk"),
            expect: Expect::ErrorMentioning(415, "Content-Type: application/json"),
        },
    },
    Check {
        id: "final-no-content-type",
        from: Final,
        until: None,
        title: "a JSON body without any Content-Type is accepted",
        hint: "Only refuse a Content-Type that is not JSON; a missing one is fine.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 16\r\n\r\n{\"title\":\"milk\"}"),
            expect: Expect::Json(201, &[("/title", "\"milk\"")]),
        },
    },
    Check {
        id: "final-method-not-allowed",
        from: Final,
        until: None,
        title: "PATCH /todos answers 405 with an Allow header",
        hint: "PATCH is a method the server has (for /todos/{id}), but /todos does not take it: answer 405 and list the methods /todos does accept in `Allow`.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"PATCH /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"),
            expect: Expect::ErrorWithHeader(405, "Allow", "GET, POST, DELETE, OPTIONS"),
        },
    },
    Check {
        id: "final-not-implemented",
        from: Final,
        until: None,
        title: "a method no path takes (BREW, TRACE, a lower-case get) answers 501, on any path",
        hint: "RFC 9110, section 15.6.2: 501 Not Implemented is for a method the server supports for no resource at all; 405 is for one it has, but not on this path. Check the method against the list of methods you implement before looking at the path.",
        probe: Probe::Script(not_implemented),
    },
    Check {
        id: "final-smuggling",
        from: Final,
        until: None,
        title: "Transfer-Encoding together with Content-Length answers 400",
        hint: "Two ways to find the end of the body means a proxy and you may disagree: refuse the request (RFC 9112, section 6.3).",
        probe: Probe::Request {
            // A good to-do in chunks: a server that believes the chunks
            // creates it, and only a refusal of the pair passes.
            payload: Payload::Bytes(b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"title\":\"milk\"}\r\n0\r\n\r\n"),
            expect: Expect::Error(&[400]),
        },
    },
    // ANCHOR: framing_rows
    // Line ends and chunk lines that a front proxy could read differently:
    // each row is a way to smuggle a request, so each is refused.
    Check {
        id: "final-bare-lf-in-head",
        from: Final,
        until: None,
        title: "a head with a line that ends in a bare \\n answers 400 and closes",
        hint: "RFC 9112, section 2.2 lets a server accept a bare `\\n` (a MAY, and days 2 to 4 do), but a proxy that does not reads `X: y\\nContent-Length: 5` as one header's value, and then the two of you disagree about where the request ends. Refuse any `\\n` that is not right after a `\\r`.",
        probe: Probe::Script(bare_lf_in_head),
    },
    Check {
        id: "final-chunk-lines-crlf",
        from: Final,
        until: None,
        title: "a chunked body whose size, data or last-chunk line ends in a bare \\n answers 400",
        hint: "RFC 9112, section 7.1: every line of a chunked body ends with CRLF; section 2.2's allowance for a bare `\\n` covers the head, not chunks. Accepting one here is the \"funky chunks\" way to smuggle a request.",
        probe: Probe::Script(chunk_lines_crlf),
    },
    Check {
        id: "final-chunk-extensions",
        from: Final,
        until: None,
        title: "chunk extensions follow RFC 9112's grammar (;name or ;name=token or quoted string), and are limited in total; anything else answers 400",
        hint: "Do not skip everything after `;`: check `*( BWS \";\" BWS name [ BWS \"=\" BWS value ] )` (RFC 9112, section 7.1.1), where a name is a token and a value a token or a quoted string, and cap the bytes of extensions a body may carry.",
        probe: Probe::Script(chunk_extensions),
    },
    Check {
        id: "final-strict-fields",
        from: Final,
        until: None,
        title: "a space before a colon, a folded line, a doubled space in the request line, a lone \\r and a Transfer-Encoding that is not quite chunked answer 400",
        hint: "Each is a head that two parsers can read two ways (RFC 9112, sections 2.2, 3, 5.1, 5.2 and 6.1). Refuse rather than guess: only spaces and tabs are whitespace around a value, and HTTP/1.0 has no Transfer-Encoding.",
        probe: Probe::Script(strict_fields),
    },
    // ANCHOR_END: framing_rows
    // ANCHOR: rfc_rows
    // HTTP/1.1 as RFC 9110 and 9112 require: one check per MUST that
    // the devlog's days leave out.
    Check {
        id: "final-date",
        from: Final,
        until: None,
        title: "every answer carries a Date header: the current time as an IMF-fixdate",
        hint: "RFC 9110, section 6.6.1: a server with a clock must send `Date` in 2xx, 3xx and 4xx answers, formatted like `Sun, 06 Nov 1994 08:49:37 GMT`. The standard library gives seconds since 1970; the calendar is a few lines of arithmetic.",
        probe: Probe::Script(date),
    },
    Check {
        id: "final-host-required",
        from: Final,
        until: None,
        title: "an HTTP/1.1 request without Host answers 400",
        hint: "RFC 9112, section 3.2: a server must answer 400 to an HTTP/1.1 request that does not say which host it is for. (HTTP/1.0 may leave `Host` out.)",
        probe: Probe::Request {
            payload: Payload::Bytes(b"GET /todos HTTP/1.1\r\n\r\n"),
            expect: Expect::Error(&[400]),
        },
    },
    Check {
        id: "final-host-twice",
        from: Final,
        until: None,
        title: "a request with two Host headers answers 400, even when they agree",
        hint: "RFC 9112, section 3.2: more than one `Host` is a 400. Count the Host lines while parsing; joining them with \", \" hides the second.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"GET /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.1\r\n\r\n"),
            expect: Expect::Error(&[400]),
        },
    },
    Check {
        id: "final-absolute-form",
        from: Final,
        until: None,
        title: "GET http://HOST:PORT/todos HTTP/1.1 is routed like GET /todos",
        hint: "RFC 9112, section 3.2.2: a server must accept a whole URL as the target. Take the path from after the host, and use the host in the URL instead of the Host header.",
        probe: Probe::Script(absolute_form),
    },
    Check {
        id: "final-chunked",
        from: Final,
        until: None,
        title: "POST /todos with a chunked body (extensions, trailers, pieces) creates the to-do",
        hint: "RFC 9112, section 7.1: each chunk is its size in hex, CRLF, the data, CRLF; a chunk of size 0 ends the body, and trailer lines follow until an empty one. An extension after `;` on a size line may be ignored, once its syntax is checked (see final-chunk-extensions).",
        probe: Probe::Request {
            payload: Payload::Pieces(&[
                b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                b"6;note=first\r\n{\"titl\r",
                b"\nc\r\ne\":\"chunks\"}\r\n0\r\nX-Trailer: ignored\r\n\r\n",
            ]),
            expect: Expect::Json(201, &[("/title", "\"chunks\"")]),
        },
    },
    Check {
        id: "final-head",
        from: Final,
        until: None,
        title: "HEAD answers like GET without the body, and Allow lists HEAD",
        hint: "RFC 9110, section 9.1: a general-purpose server must support GET and HEAD. Route HEAD as GET, send only the head of the answer (Content-Length as GET's), and add HEAD to every Allow that has GET.",
        probe: Probe::Script(head),
    },
    // ANCHOR_END: rfc_rows
    Check {
        id: "final-unknown-transfer-coding",
        from: Final,
        until: None,
        title: "Transfer-Encoding: gzip, chunked answers 501, while chunked alone is decoded",
        hint: "RFC 9112, section 6.1: a transfer coding the server does not understand gets 501 Not Implemented. Decode `chunked` alone, and refuse any other coding before it.",
        probe: Probe::Script(unknown_transfer_coding),
    },
    Check {
        id: "final-chunked-not-last",
        from: Final,
        until: None,
        title: "Transfer-Encoding: chunked, gzip answers 400",
        hint: "RFC 9112, section 6.3: if chunked is not the last coding, nothing says where the body ends. Answer 400 and close.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n"),
            expect: Expect::Error(&[400]),
        },
    },
    Check {
        id: "final-chunk-size-overflow",
        from: Final,
        until: None,
        title: "a chunk size too large for any integer answers 413 (or 400), not a wrapped-around size",
        hint: "Parse the hex size digit by digit and stop as soon as it passes your body limit: 24 `f`s overflow a u64, and a wrapped value is a smuggling bug.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffffffff\r\nx\r\n0\r\n\r\n"),
            expect: Expect::Error(&[413, 400]),
        },
    },
    Check {
        id: "final-chunked-too-large",
        from: Final,
        until: None,
        title: "chunks that add up to more than 1 MiB answer 413, however small each one is",
        hint: "Apply the body limit to the decoded total, chunk by chunk, before reading each chunk's data: otherwise a chunked body can grow without bound.",
        probe: Probe::Script(chunked_too_large),
    },
    Check {
        id: "final-chunked-expect-continue",
        from: Final,
        until: None,
        title: "Expect: 100-continue with a chunked body gets 100 Continue, then the answer",
        hint: "The go-ahead does not depend on how the body is framed: send `HTTP/1.1 100 Continue` once the head is read, whether a length or chunks follow.",
        probe: Probe::Script(chunked_expect_continue),
    },
    Check {
        id: "final-uri-too-long",
        from: Final,
        until: None,
        title: "a 20 KB request target answers 414 URI Too Long",
        hint: "When the request line alone passes the head limit, 414 (RFC 9110, section 15.5.15) names the real problem; keep 431 for too many or too large headers.",
        probe: Probe::Script(uri_too_long),
    },
    Check {
        id: "final-options-star",
        from: Final,
        until: None,
        title: "OPTIONS * answers 204 with an Allow header",
        hint: "`*` is a request target of its own, for OPTIONS only (RFC 9112, section 3.2.4): a question about the whole server. Answer 204 and list every method in Allow.",
        probe: Probe::Script(options_star),
    },
    Check {
        id: "final-cache-control",
        from: Final,
        until: None,
        title: "GET /todos says how it may be cached: Cache-Control: no-store (or no-cache)",
        hint: "Without Cache-Control a cache may keep the list and pick its own freshness time (RFC 9111, section 4.2.2), so a browser can show a stale list after a change. Send `Cache-Control: no-store`.",
        probe: Probe::Script(cache_control),
    },
    // ANCHOR: safety_rows
    // Safe by default on localhost: any web page the user opens can send
    // requests to 127.0.0.1.
    Check {
        id: "final-foreign-host",
        from: Final,
        until: None,
        title: "a Host that is not ours answers 421, naming the flag that allows it",
        hint: "A DNS-rebinding page reaches 127.0.0.1 under its own name, and that name is in Host. Serve only the listening address and localhost (and names given with --allow-host); answer others 421 Misdirected Request.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"GET /todos HTTP/1.1\r\nHost: rebind.example:5000\r\n\r\n"),
            expect: Expect::ErrorMentioning(421, "--allow-host"),
        },
    },
    Check {
        id: "final-cross-origin-read",
        from: Final,
        until: None,
        title: "GET /todos from a page at another origin answers 403, with no CORS header",
        hint: "Browsers send `Origin` with every cross-origin request. Unless --cors allows that origin, answer 403, and send no `Access-Control-Allow-Origin`, so the page cannot read the list.",
        probe: Probe::Script(cross_origin_read),
    },
    Check {
        id: "final-cross-origin-write",
        from: Final,
        until: None,
        title: "POST /todos from a page at another origin, with no Content-Type, answers 403 and creates nothing",
        hint: "A page needs no CORS to send a POST whose body has no type (`fetch` with a Blob, mode no-cors), and this API reads such a body as JSON. Refuse requests whose `Origin` is not ours.",
        probe: Probe::Script(cross_origin_write),
    },
    Check {
        id: "final-cross-origin-preflight",
        from: Final,
        until: None,
        title: "a CORS preflight from another origin gets 403, and no Access-Control-Allow-* headers",
        hint: "Without --cors, say nothing that would let a browser go ahead with a cross-origin PATCH or DELETE.",
        probe: Probe::Script(cross_origin_preflight),
    },
    // ANCHOR_END: safety_rows
    Check {
        id: "final-keep-alive",
        from: Final,
        until: None,
        title: "answers several requests on one connection, and closes when asked",
        hint: "After answering an HTTP/1.1 request, read the next one from the same connection, unless the client said `Connection: close` or spoke HTTP/1.0 without `Connection: keep-alive`.",
        probe: Probe::Script(keep_alive),
    },
    Check {
        id: "final-pipelining",
        from: Final,
        until: None,
        title: "answers two requests sent back to back, in order",
        hint: "One read may hold the end of one request and the start of the next: keep the leftover bytes for the next request.",
        probe: Probe::Script(pipelining),
    },
    Check {
        id: "final-head-without-body",
        from: Final,
        until: None,
        title: "an answer to HEAD has no body, so the next answer on the connection is not garbled",
        hint: "Whatever you answer to HEAD (even a 405), send the status line and headers only: the client reads no body after a HEAD answer (RFC 9110, section 9.3.2).",
        probe: Probe::Script(head_without_body),
    },
    Check {
        id: "final-long-list-in-chunks",
        from: Final,
        until: None,
        title: "a list of 1,000 to-dos comes in chunks, whole and in order, on a connection that stays open",
        hint: "A long list made in one go holds up every other connection on its event loop while it is written. Make it a page at a time, as the socket takes it, and send each page as a chunk (Transfer-Encoding: chunked, RFC 9112, section 7.1), ending with the empty chunk `0`.",
        probe: Probe::Script(long_list_in_chunks),
    },
    Check {
        id: "final-expect-continue",
        from: Final,
        until: None,
        title: "answers `Expect: 100-continue` with 100 Continue before the body is sent",
        hint: "curl sends large bodies with `Expect: 100-continue` and waits a second for `HTTP/1.1 100 Continue` before sending them. Send it as soon as the headers are read.",
        probe: Probe::Script(expect_continue),
    },
    Check {
        id: "final-idle-clients-do-not-starve",
        from: Final,
        until: None,
        title: "16 silent connections do not stop a new client from being answered within 2 s",
        hint: "A connection waiting for its next request must not hold what a new client needs. With a thread per connection, have more threads than waiting clients, or close idle connections when others queue; with an event loop, a waiting connection holds only its slot.",
        probe: Probe::Script(idle_clients_do_not_starve),
    },
    Check {
        id: "final-sleepers-do-not-block",
        from: Final,
        until: None,
        title: "while 16 requests sleep for 4 s, a GET /hello on another connection is answered within 1.5 s",
        hint: "A handler that waits (for the disk, or in /sleep) must not run on a thread that serves other connections too: hand it to a worker thread, and answer when the worker is done.",
        probe: Probe::Script(sleepers_do_not_block),
    },
    Check {
        id: "final-concurrent-creates",
        from: Final,
        until: None,
        title: "8 clients creating 50 to-dos each get 400 different ids",
        hint: "Take the next id and insert the to-do under one lock, so that two requests can never get the same id.",
        probe: Probe::Script(concurrent_creates),
    },
    // Data that survives (final-durability.md).
    Check {
        id: "final-data-survives-kill",
        from: Final,
        until: None,
        title: "with --data FILE, the to-dos and the id counter survive a kill and a restart",
        hint: "Open the file `--data` names when the server starts, and have every change on the disk (written and synced) before you answer it: a killed server gets no chance to save on its way out.",
        probe: Probe::Process(data_survives_kill),
    },
    // The page for browsers (final-browser.md).
    Check {
        id: "final-page",
        from: Final,
        until: None,
        title: "GET / serves the to-do page as HTML, /app.js as JavaScript, and /../app.js not at all",
        hint: "Keep the page's three files in the binary with `include_str!`, each with its path and its Content-Type (with `charset=utf-8`), and answer any other path 404: a server that maps paths onto a folder must fend off `..`.",
        probe: Probe::Script(page),
    },
    Check {
        id: "final-page-not-modified",
        from: Final,
        until: None,
        title: "the page's files carry an ETag, and If-None-Match with it gets 304 and no body",
        hint: "Send `ETag: \"<a hash of the file>\"` and `Cache-Control: no-cache`. When `If-None-Match` lists that tag (or `W/` and the tag, or `*`), answer 304 Not Modified with no body.",
        probe: Probe::Script(page_not_modified),
    },
];

/// `GET path` on a connection of its own, answered 200 with a body whose
/// `Content-Type` starts with `content_type`; the answer.
fn asset(addr: SocketAddr, path: &str, content_type: &str) -> Result<RawResponse, Failure> {
    let sent = request_closing("GET", path, None);
    let reply = Exchange::new(sent.clone()).run(addr);
    match &reply {
        Reply::Response(response)
            if response.status == 200
                && !response.body.is_empty()
                && response
                    .header("content-type")
                    .is_some_and(|value| value.starts_with(content_type)) =>
        {
            Ok(response.clone())
        }
        _ => Err(failed_reply(
            format!("200, a body, and Content-Type: {content_type}; charset=utf-8"),
            &sent,
            &reply,
        )),
    }
}

fn page(addr: SocketAddr) -> Result<(), Failure> {
    let html = asset(addr, "/", "text/html")?;
    if !String::from_utf8_lossy(&html.body).contains("<html") {
        return Err(failure(
            "the to-do page: an HTML document",
            &request_closing("GET", "/", None),
            String::from_utf8_lossy(&html.raw).into_owned(),
        ));
    }
    asset(addr, "/app.js", "text/javascript")?;
    let sent = request_closing("GET", "/../app.js", None);
    let reply = Exchange::new(sent.clone()).run(addr);
    expecting(Expect::Error(&[404]), &sent, &reply)
}

fn page_not_modified(addr: SocketAddr) -> Result<(), Failure> {
    let first = asset(addr, "/app.css", "text/css")?;
    let sent = request_closing("GET", "/app.css", None);
    let Some(tag) = first.header("etag").filter(|tag| tag.ends_with('"')) else {
        return Err(failure(
            "an ETag header, a quoted tag",
            &sent,
            String::from_utf8_lossy(&first.raw).into_owned(),
        ));
    };
    let asking = |tags: &str| {
        format!("GET /app.css HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-None-Match: {tags}\r\nConnection: close\r\n\r\n")
            .into_bytes()
    };
    for (tags, status) in [
        (tag.to_string(), 304),
        (format!("W/{tag}"), 304),
        (format!("\"stale\", {tag}"), 304),
        ("\"stale\"".to_string(), 200),
    ] {
        let sent = asking(&tags);
        let reply = Exchange::new(sent.clone()).run(addr);
        let body_ok = |response: &RawResponse| status == 200 || response.body.is_empty();
        match &reply {
            Reply::Response(response) if response.status == status && body_ok(response) => {}
            _ => {
                let expected = match status {
                    304 => format!("304 Not Modified, with no body, for If-None-Match: {tags}"),
                    _ => format!("200 and the file, for a tag that is not its own ({tags})"),
                };
                return Err(failed_reply(expected, &sent, &reply));
            }
        }
    }
    Ok(())
}

fn list(addr: SocketAddr) -> Result<(), Failure> {
    let (sent, reply) = call(addr, "GET", "/todos", None);
    expecting(Expect::Json(200, &[]), &sent, &reply)?;
    match &reply {
        Reply::Response(response) if response.json().is_ok_and(|json| json.is_array()) => Ok(()),
        _ => Err(failed_reply("200 with a JSON array".into(), &sent, &reply)),
    }
}

fn create(addr: SocketAddr) -> Result<(), Failure> {
    let body = r#"{"title":"buy milk","order":3}"#;
    let (sent, reply) = call(addr, "POST", "/todos", Some(body));
    expecting(
        Expect::Json(
            201,
            &[
                ("/title", "\"buy milk\""),
                ("/completed", "false"),
                ("/order", "3"),
            ],
        ),
        &sent,
        &reply,
    )?;
    let Reply::Response(response) = &reply else {
        unreachable!("verified above");
    };
    let json = response.json().unwrap_or_default();
    let id = json.get("id").and_then(Value::as_u64);
    let url = json.get("url").and_then(Value::as_str);
    let expected_url = id.map(|id| format!("http://127.0.0.1/todos/{id}"));
    if id.is_none() || url != expected_url.as_deref() {
        return Err(failed_reply(
            "a numeric \"id\" and \"url\": \"http://127.0.0.1/todos/ID\" (from the Host header)"
                .into(),
            &sent,
            &reply,
        ));
    }
    if response.header("location") != url {
        return Err(failed_reply(
            "a Location header equal to the url".into(),
            &sent,
            &reply,
        ));
    }
    Ok(())
}

fn get(addr: SocketAddr) -> Result<(), Failure> {
    let todo = create_todo(addr, r#"{"title":"walk the dog"}"#)?;
    let (sent, reply) = call(addr, "GET", &format!("/todos/{}", id_of(&todo)), None);
    expecting(
        Expect::Json(200, &[("/title", "\"walk the dog\"")]),
        &sent,
        &reply,
    )?;
    match &reply {
        Reply::Response(response) if response.json().ok().as_ref() == Some(&todo) => Ok(()),
        _ => Err(failed_reply(
            "the same to-do that POST returned".into(),
            &sent,
            &reply,
        )),
    }
}

fn patch(addr: SocketAddr) -> Result<(), Failure> {
    let todo = create_todo(addr, r#"{"title":"water plants","order":1}"#)?;
    let path = format!("/todos/{}", id_of(&todo));
    let (sent, reply) = call(addr, "PATCH", &path, Some(r#"{"completed":true}"#));
    expecting(
        Expect::Json(
            200,
            &[
                ("/title", "\"water plants\""),
                ("/completed", "true"),
                ("/order", "1"),
            ],
        ),
        &sent,
        &reply,
    )?;
    let (sent, reply) = call(addr, "GET", &path, None);
    expecting(Expect::Json(200, &[("/completed", "true")]), &sent, &reply)
}

fn delete(addr: SocketAddr) -> Result<(), Failure> {
    let todo = create_todo(addr, r#"{"title":"call mum"}"#)?;
    let path = format!("/todos/{}", id_of(&todo));
    let (sent, reply) = call(addr, "DELETE", &path, None);
    no_content(&sent, &reply)?;
    let (sent, reply) = call(addr, "GET", &path, None);
    expecting(Expect::Error(&[404]), &sent, &reply)
}

fn delete_all(addr: SocketAddr) -> Result<(), Failure> {
    let first = create_todo(addr, r#"{"title":"one"}"#)?;
    let (sent, reply) = call(addr, "DELETE", "/todos", None);
    no_content(&sent, &reply)?;
    let (sent, reply) = call(addr, "GET", "/todos", None);
    expecting(Expect::Json(200, &[]), &sent, &reply)?;
    if !matches!(&reply, Reply::Response(r) if r.json().ok() == Some(Value::Array(Vec::new()))) {
        return Err(failed_reply(
            "an empty list after DELETE /todos".into(),
            &sent,
            &reply,
        ));
    }
    let second = create_todo(addr, r#"{"title":"two"}"#)?;
    if id_of(&second) <= id_of(&first) {
        return Err(Failure {
            expected: "ids keep counting up after DELETE /todos".into(),
            sent: None,
            received: format!("id {} before, id {} after", id_of(&first), id_of(&second)),
        });
    }
    Ok(())
}

/// 204 with no body.
fn no_content(sent: &[u8], reply: &Reply) -> Result<(), Failure> {
    match reply {
        Reply::Response(response) if response.status == 204 && response.body.is_empty() => Ok(()),
        _ => Err(failed_reply(
            "HTTP/1.1 204 No Content, with no body".into(),
            sent,
            reply,
        )),
    }
}

/// The `Date` header of `response`, checked: an IMF-fixdate within a
/// minute of our own clock.
fn check_date(response: &RawResponse) -> Result<(), String> {
    let Some(date) = response.header("date") else {
        return Err("a `Date` header".into());
    };
    let Some(secs) = parse_imf_fixdate(date) else {
        return Err(format!(
            "a `Date` like `Sun, 06 Nov 1994 08:49:37 GMT`, not {date:?}"
        ));
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    if secs.abs_diff(now) > 60 {
        return Err(format!(
            "a `Date` within a minute of now, not {date:?} ({} s away)",
            secs.abs_diff(now)
        ));
    }
    Ok(())
}

// ANCHOR: parse_imf_fixdate
/// `Sun, 06 Nov 1994 08:49:37 GMT` as seconds since 1970, if it is
/// exactly in that format, weekday included.
///
/// The suite checks the server's calendar with its own, written the other
/// way round (from a date to a day count), so that one mistake cannot hide
/// another.
pub fn parse_imf_fixdate(text: &str) -> Option<u64> {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let b = text.as_bytes();
    let shape = b"Ddd, 00 Mmm 0000 00:00:00 GMT";
    if b.len() != shape.len()
        || !b.iter().zip(shape).all(|(got, want)| match want {
            b'0' => got.is_ascii_digit(),
            b'D' | b'd' | b'M' | b'm' => got.is_ascii_alphabetic(),
            _ => got == want,
        })
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<u64>().ok();
    let (day, year) = (number(5..7)?, number(12..16)?);
    let month = MONTHS.iter().position(|m| *m == &text[8..11])? as u64 + 1;
    let (hour, minute, second) = (number(17..19)?, number(20..22)?, number(23..25)?);
    if year < 1970 || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // ANCHOR_END: parse_imf_fixdate
    // ANCHOR: count_days
    // Days from 1 January 1970 to the first of the month, by counting.
    const LENGTHS: [u64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let leap = |y: u64| y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400));
    let length = |m: usize| LENGTHS[m] + u64::from(m == 1 && leap(year));
    let month = month as usize;
    if day > length(month - 1) {
        return None;
    }
    let years: u64 = (1970..year).map(|y| if leap(y) { 366 } else { 365 }).sum();
    let days = years + (0..month - 1).map(length).sum::<u64>() + day - 1;
    if DAYS[(days % 7) as usize] != &text[..3] {
        return None;
    }
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}
// ANCHOR_END: count_days

fn date(addr: SocketAddr) -> Result<(), Failure> {
    for path in ["/todos", "/no/such/page"] {
        let (sent, reply) = call(addr, "GET", path, None);
        let checked = match &reply {
            Reply::Response(response) => check_date(response),
            _ => Err("an answer".into()),
        };
        checked.map_err(|expected| failed_reply(expected, &sent, &reply))?;
    }
    Ok(())
}

fn absolute_form(addr: SocketAddr) -> Result<(), Failure> {
    let sent = format!("GET http://{addr}/todos HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let reply = Exchange::new(sent.clone()).run(addr);
    expecting(Expect::Json(200, &[]), sent.as_bytes(), &reply)?;
    match &reply {
        Reply::Response(response) if response.json().is_ok_and(|json| json.is_array()) => Ok(()),
        _ => Err(failed_reply(
            "200 with the JSON array of to-dos".into(),
            sent.as_bytes(),
            &reply,
        )),
    }
}

fn head(addr: SocketAddr) -> Result<(), Failure> {
    head_matches_get(addr, "/todos")?;
    let todo = create_todo(addr, r#"{"title":"heads up"}"#)?;
    head_matches_get(addr, &format!("/todos/{}", id_of(&todo)))?;
    // A method a path does not take gets 405, and the Allow in it lists
    // HEAD wherever it lists GET.
    const PATCH: &[u8] = b"PATCH /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n";
    let reply = Exchange::new(PATCH).run(addr);
    expecting(
        Expect::ErrorWithHeader(405, "Allow", "GET, HEAD"),
        PATCH,
        &reply,
    )
}

/// Sends each row's bytes on a connection of its own, and compares the
/// answer with the row's: the first row that differs fails the check, and
/// the report shows its bytes.
fn table(addr: SocketAddr, rows: Vec<(&[u8], Expect)>) -> Result<(), Failure> {
    for (sent, expect) in rows {
        let reply = Exchange::new(sent).run(addr);
        expecting(expect, sent, &reply)?;
    }
    Ok(())
}

fn not_implemented(addr: SocketAddr) -> Result<(), Failure> {
    table(
        addr,
        vec![
            // A method nobody has heard of (RFC 2324 notwithstanding).
            (
                b"BREW /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
                Expect::Error(&[501]),
            ),
            // A standard method that no path here takes: 405 would say
            // "try another method", when no path would do. (Not PUT, the
            // example in the book: an exercise adds it.)
            (
                b"TRACE /todos HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                Expect::Error(&[501]),
            ),
            // Methods are case-sensitive (RFC 9110, section 9.1).
            (
                b"get /todos HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                Expect::Error(&[501]),
            ),
            // The path does not matter: the method is known nowhere.
            (
                b"BREW /no/such/page HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                Expect::Error(&[501]),
            ),
        ],
    )
}

fn bare_lf_in_head(addr: SocketAddr) -> Result<(), Failure> {
    const SMUGGLED: &[u8] = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX: y\nContent-Length: 42\r\n\r\nGET /hello?name=smuggled HTTP/1.1\r\nX: \r\n\r\n";
    let rows: Vec<(&[u8], Expect)> = vec![
        // CRLF everywhere but one line: a proxy that ends lines only at
        // CRLF sees one header `X: y\nContent-Length: 42` and a second
        // request after the head; a server that also ends them at a bare
        // \n sees a body of 42 bytes instead. Either way, someone is
        // wrong about where the next request starts.
        (SMUGGLED, Expect::ErrorMentioning(400, "bare LF")),
        // The same trick, hiding a Transfer-Encoding.
        (
            b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nX: y\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
            Expect::ErrorMentioning(400, "bare LF"),
        ),
        // A head with bare \n line ends only, as typed into `nc`.
        (
            b"GET /hello HTTP/1.1\nHost: 127.0.0.1\n\n",
            Expect::ErrorMentioning(400, "bare LF"),
        ),
        // Only the empty line at the end is bare.
        (
            b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\n",
            Expect::ErrorMentioning(400, "bare LF"),
        ),
    ];
    table(addr, rows)?;
    // And nothing after the 400: a second answer would mean the bytes
    // after the head were read as a request of their own.
    let stream = open(addr, SMUGGLED)?;
    let received = wire::read_to_close(stream, Instant::now() + Duration::from_secs(5));
    let answers = received
        .windows(b"HTTP/1.1 ".len())
        .filter(|window| *window == b"HTTP/1.1 ")
        .count();
    if answers != 1 {
        return Err(Failure {
            expected: "one answer, a 400, and then the connection closed".into(),
            sent: Some(SMUGGLED.to_vec()),
            received: String::from_utf8_lossy(&received).into_owned(),
        });
    }
    Ok(())
}

/// The head of a chunked `POST /todos`; the rows add the body.
macro_rules! chunked_post {
    ($body:literal) => {
        concat!(
            "POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
            $body
        )
        .as_bytes()
    };
}

fn chunk_lines_crlf(addr: SocketAddr) -> Result<(), Failure> {
    let created = || Expect::Json(201, &[("/title", "\"milk\"")]);
    let bare_lf = || Expect::ErrorMentioning(400, "CRLF");
    table(
        addr,
        vec![
            // The same body with CRLF everywhere is fine.
            (
                chunked_post!("10\r\n{\"title\":\"milk\"}\r\n0\r\n\r\n"),
                created(),
            ),
            // After the size.
            (
                chunked_post!("10\n{\"title\":\"milk\"}\r\n0\r\n\r\n"),
                bare_lf(),
            ),
            // After the data.
            (
                chunked_post!("10\r\n{\"title\":\"milk\"}\n0\r\n\r\n"),
                bare_lf(),
            ),
            // After the last chunk.
            (
                chunked_post!("10\r\n{\"title\":\"milk\"}\r\n0\n\r\n"),
                bare_lf(),
            ),
            // The empty line that ends the trailers.
            (
                chunked_post!("10\r\n{\"title\":\"milk\"}\r\n0\r\n\n"),
                bare_lf(),
            ),
            // A trailer line.
            (
                chunked_post!("10\r\n{\"title\":\"milk\"}\r\n0\r\nX: y\n\r\n"),
                bare_lf(),
            ),
        ],
    )
}

fn chunk_extensions(addr: SocketAddr) -> Result<(), Failure> {
    let created = || Expect::Json(201, &[("/title", "\"milk\"")]);
    let refused = || Expect::ErrorMentioning(400, "chunk extension");
    table(
        addr,
        vec![
            // What the grammar allows: a name, a token value, a quoted
            // value with a `;` and an escaped quote in it, spaces and
            // tabs around `;` and `=`.
            (
                chunked_post!(
                    "10;a;b=c;d=\"e; \\\"f\\\"\" ;\tg = h\r\n{\"title\":\"milk\"}\r\n0;last\r\n\r\n"
                ),
                created(),
            ),
            // An empty name.
            (
                chunked_post!("10;\r\n{\"title\":\"milk\"}\r\n0\r\n\r\n"),
                refused(),
            ),
            // A quoted value that is never closed.
            (
                chunked_post!("10;a=\"b\r\n{\"title\":\"milk\"}\r\n0\r\n\r\n"),
                refused(),
            ),
            // A value that is neither a token nor quoted.
            (
                chunked_post!("10;a=b/c\r\n{\"title\":\"milk\"}\r\n0\r\n\r\n"),
                refused(),
            ),
            // `=` with no value.
            (
                chunked_post!("10;a=\r\n{\"title\":\"milk\"}\r\n0\r\n\r\n"),
                refused(),
            ),
            // Spaces at the end of the line, which the grammar has no
            // place for.
            (
                chunked_post!("10 \r\n{\"title\":\"milk\"}\r\n0\r\n\r\n"),
                refused(),
            ),
        ],
    )?;
    // Short lines that add up: sixteen one-byte chunks, each with 300
    // bytes of extension, are 4.8 KB of extensions for 16 bytes of body.
    let mut sent = chunked_post!("").to_vec();
    for byte in br#"{"title":"milk"}"# {
        sent.extend_from_slice(format!("1;x={}\r\n", "y".repeat(300)).as_bytes());
        sent.push(*byte);
        sent.extend_from_slice(b"\r\n");
    }
    sent.extend_from_slice(b"0\r\n\r\n");
    let reply = Exchange::new(sent.clone()).run(addr);
    expecting(Expect::ErrorMentioning(400, "extensions"), &sent, &reply)
}

fn strict_fields(addr: SocketAddr) -> Result<(), Failure> {
    let refused = || Expect::Error(&[400]);
    table(
        addr,
        vec![
            // Whitespace between a name and its colon (RFC 9112, section
            // 5.1: a server MUST answer 400). Some parsers strip it and
            // read `Transfer-Encoding`; others see an unknown header.
            (
                b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
                refused(),
            ),
            // A folded line (obs-fold, section 5.2): the value goes on
            // after a line end, for those who still read it that way.
            (
                b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                refused(),
            ),
            // Two spaces in the request line (section 3).
            (
                b"GET  /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                refused(),
            ),
            // A lone \r inside a value (section 2.2).
            (
                b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX: y\rContent-Length: 5\r\n\r\n",
                refused(),
            ),
            // `chunked` followed by a no-break space, which is not
            // whitespace to HTTP: a proxy sees an unknown coding. The body
            // is a good to-do in chunks, so that a server that decodes it
            // anyway answers 201, not a 400 for an empty body.
            (
                "POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\u{a0}\r\n\r\n10\r\n{\"title\":\"milk\"}\r\n0\r\n\r\n".as_bytes(),
                refused(),
            ),
            // HTTP/1.0 had no Transfer-Encoding (section 6.1).
            (
                b"POST /todos HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"title\":\"milk\"}\r\n0\r\n\r\n",
                refused(),
            ),
        ],
    )
}

fn unknown_transfer_coding(addr: SocketAddr) -> Result<(), Failure> {
    const GZIP: &[u8] = b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n";
    let reply = Exchange::new(GZIP).run(addr);
    expecting(Expect::Error(&[501]), GZIP, &reply)?;
    const CHUNKED: &[u8] = b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"title\":\"milk\"}\r\n0\r\n\r\n";
    let reply = Exchange::new(CHUNKED).run(addr);
    expecting(
        Expect::Json(201, &[("/title", "\"milk\"")]),
        CHUNKED,
        &reply,
    )
}

fn chunked_too_large(addr: SocketAddr) -> Result<(), Failure> {
    // Two chunks of 512 KiB and one byte more: each fits, together they
    // pass 1 MiB. The second size line is sent, not its data: the server
    // can refuse as soon as it reads the size.
    let half = 512 * 1024;
    let mut sent =
        b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    sent.extend_from_slice(format!("{half:x}\r\n").as_bytes());
    sent.extend(std::iter::repeat_n(b' ', half));
    sent.extend_from_slice(format!("\r\n{:x}\r\n", half + 1).as_bytes());
    let reply = Exchange::new(sent.clone()).run(addr);
    expecting(Expect::Error(&[413]), &sent, &reply)
}

fn chunked_expect_continue(addr: SocketAddr) -> Result<(), Failure> {
    const HEAD: &[u8] = b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n";
    const BODY: &[u8] = b"10\r\n{\"title\":\"milk\"}\r\n0\r\n\r\n";
    continue_then_body(addr, HEAD, BODY, "the chunks")
}

fn uri_too_long(addr: SocketAddr) -> Result<(), Failure> {
    let sent = format!(
        "GET /todos?{} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "a".repeat(20_000)
    );
    let reply = Exchange::new(sent.clone()).run(addr);
    expecting(Expect::Error(&[414]), sent.as_bytes(), &reply)
}

fn options_star(addr: SocketAddr) -> Result<(), Failure> {
    const SENT: &[u8] = b"OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let reply = Exchange::new(SENT).run(addr);
    match &reply {
        Reply::Response(response)
            if response.status == 204
                && response.header("allow").is_some_and(|allow| {
                    let listed: Vec<&str> = allow.split(',').map(str::trim).collect();
                    ["GET", "HEAD", "OPTIONS"]
                        .iter()
                        .all(|method| listed.contains(method))
                }) =>
        {
            Ok(())
        }
        _ => Err(failed_reply(
            "204 with an Allow header listing at least GET, HEAD and OPTIONS".into(),
            SENT,
            &reply,
        )),
    }
}

fn cache_control(addr: SocketAddr) -> Result<(), Failure> {
    let (sent, reply) = call(addr, "GET", "/todos", None);
    expecting(Expect::Json(200, &[]), &sent, &reply)?;
    let directives = match &reply {
        Reply::Response(response) => response.header("cache-control").unwrap_or_default(),
        _ => "",
    };
    let says = |word: &str| {
        directives
            .split(',')
            .any(|directive| directive.trim().eq_ignore_ascii_case(word))
    };
    if says("no-store") || says("no-cache") {
        return Ok(());
    }
    Err(failed_reply(
        "`Cache-Control: no-store` (or no-cache) on the list".into(),
        &sent,
        &reply,
    ))
}

/// `sent` must get a 403 with a JSON error and no `Access-Control-Allow-*`
/// header at all.
fn refused_cross_origin(addr: SocketAddr, sent: &[u8]) -> Result<(), Failure> {
    let reply = Exchange::new(sent.to_vec()).run(addr);
    expecting(Expect::Error(&[403]), sent, &reply)?;
    match &reply {
        Reply::Response(response)
            if response.headers.iter().all(|(name, _)| {
                !name
                    .to_ascii_lowercase()
                    .starts_with("access-control-allow-")
            }) =>
        {
            Ok(())
        }
        _ => Err(failed_reply(
            "403 with no Access-Control-Allow-* header".into(),
            sent,
            &reply,
        )),
    }
}

fn cross_origin_read(addr: SocketAddr) -> Result<(), Failure> {
    refused_cross_origin(
        addr,
        b"GET /todos HTTP/1.1\r\nHost: 127.0.0.1:5000\r\nOrigin: http://evil.example\r\n\r\n",
    )
}

fn cross_origin_write(addr: SocketAddr) -> Result<(), Failure> {
    const SENT: &[u8] = b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1:5000\r\nOrigin: http://evil.example\r\nContent-Length: 26\r\n\r\n{\"title\":\"planted by evil\"}";
    refused_cross_origin(addr, SENT)?;
    let (sent, reply) = call(addr, "GET", "/todos", None);
    let planted = matches!(&reply, Reply::Response(r)
        if String::from_utf8_lossy(&r.body).contains("planted by evil"));
    if planted {
        return Err(failed_reply(
            "no to-do created by the refused request".into(),
            &sent,
            &reply,
        ));
    }
    Ok(())
}

fn cross_origin_preflight(addr: SocketAddr) -> Result<(), Failure> {
    refused_cross_origin(
        addr,
        b"OPTIONS /todos/1 HTTP/1.1\r\nHost: 127.0.0.1:5000\r\nOrigin: http://evil.example\r\nAccess-Control-Request-Method: DELETE\r\n\r\n",
    )
}

pub fn keep_alive(addr: SocketAddr) -> Result<(), Failure> {
    const HELLO: &[u8] = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let mut stream = open(addr, HELLO)?;
    for round in 1..=3 {
        if round > 1 && stream.write_all(HELLO).is_err() {
            return Err(Failure {
                expected: format!("request {round} on the same connection to be accepted"),
                sent: Some(HELLO.to_vec()),
                received: "the server had closed the connection".into(),
            });
        }
        let reply = wire::read_reply(&mut stream, Instant::now() + Duration::from_secs(5));
        let kept = matches!(&reply, Reply::Response(r) if r.status == 200
            && !r.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close")));
        if !kept {
            return Err(failed_reply(
                format!("answer {round} of 3 on one connection, without `Connection: close`"),
                HELLO,
                &reply,
            ));
        }
    }
    connection_close(addr)
}

fn pipelining(addr: SocketAddr) -> Result<(), Failure> {
    const TWO: &[u8] = b"GET /hello?name=one HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /hello?name=two HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let mut stream = open(addr, TWO)?;
    for name in ["one", "two"] {
        let reply = wire::read_reply(&mut stream, Instant::now() + Duration::from_secs(5));
        let expected = format!("\"Hello, {name}!\"");
        let ok = matches!(&reply, Reply::Response(r)
            if r.json().ok().and_then(|j| j.get("message").cloned()).map(|m| m.to_string()) == Some(expected.clone()));
        if !ok {
            return Err(failed_reply(
                format!("the answer for name={name}, in order"),
                TWO,
                &reply,
            ));
        }
    }
    Ok(())
}

/// `Connection: close`, and HTTP/1.0 without `keep-alive`, end the
/// connection after one answer.
fn connection_close(addr: SocketAddr) -> Result<(), Failure> {
    let requests: [&[u8]; 2] = [
        b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        b"GET /hello HTTP/1.0\r\n\r\n",
    ];
    for sent in requests {
        let mut stream = open(addr, sent)?;
        let deadline = Instant::now() + Duration::from_secs(5);
        let reply = wire::read_reply(&mut stream, deadline);
        let says_close = matches!(&reply, Reply::Response(r) if r.status == 200
            && r.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close")));
        if !says_close {
            return Err(failed_reply(
                "200 with `Connection: close`".into(),
                sent,
                &reply,
            ));
        }
        // Then the server hangs up: the next read finds the end.
        if !matches!(wire::read_reply(&mut stream, deadline), Reply::Closed) {
            return Err(Failure {
                expected: "the server closes the connection after answering".into(),
                sent: Some(sent.to_vec()),
                received: "the connection stayed open".into(),
            });
        }
    }
    Ok(())
}

fn head_without_body(addr: SocketAddr) -> Result<(), Failure> {
    const TWO: &[u8] = b"HEAD /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /hello?name=next HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    let stream = open(addr, TWO)?;
    let received = wire::read_to_close(stream, Instant::now() + Duration::from_secs(5));
    let text = String::from_utf8_lossy(&received).into_owned();
    // Right after the first answer's empty line comes the second answer.
    match text.split_once("\r\n\r\n") {
        Some((_, rest)) if rest.starts_with("HTTP/1.1 200 OK\r\n") => Ok(()),
        _ => Err(Failure {
            expected: "an answer to HEAD with no body, then the answer to the GET after it".into(),
            sent: Some(TWO.to_vec()),
            received: text,
        }),
    }
}

/// How many to-dos [`long_list_in_chunks`] makes: more than a page of any
/// sensible size, and few enough to make in a fraction of a second.
const LONG_LIST: usize = 1_000;

fn long_list_in_chunks(addr: SocketAddr) -> Result<(), Failure> {
    // The to-dos, a hundred requests at a time on one connection.
    let post = client::request("POST", "/todos", Some(r#"{"title":"one of many"}"#));
    let batch = post.repeat(100);
    let mut stream = open(addr, &[])?;
    // A server that stops reading must fail the check, not hang it.
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    for _ in 0..LONG_LIST / 100 {
        if let Err(err) = stream.write_all(&batch) {
            return Err(failure(
                "the server takes 100 pipelined POSTs",
                &batch,
                err.to_string(),
            ));
        }
        for _ in 0..100 {
            let reply = wire::read_reply(&mut stream, Instant::now() + Duration::from_secs(5));
            expecting(Expect::Json(201, &[]), &post, &reply)?;
        }
    }
    let get = client::request("GET", "/todos", None);
    let reply = ask(&mut stream, &get, Duration::from_secs(10));
    let Reply::Response(response) = &reply else {
        return Err(failed_reply("200 with the list".into(), &get, &reply));
    };
    let chunked = response.header("transfer-encoding") == Some("chunked");
    let ids: Option<Vec<u64>> = response.json().ok().and_then(|list| {
        let list = list.as_array()?;
        list.iter().map(|todo| todo.get("id")?.as_u64()).collect()
    });
    let whole = ids
        .as_ref()
        .is_some_and(|ids| ids.len() >= LONG_LIST && ids.windows(2).all(|pair| pair[0] < pair[1]));
    if response.status != 200 || !chunked || !whole {
        return Err(failed_reply(
            format!(
                "200, Transfer-Encoding: chunked, and a JSON list of at least {LONG_LIST} to-dos in the order of their ids"
            ),
            &get,
            &reply,
        ));
    }
    // The empty chunk ended the list: the next answer comes on the same
    // connection.
    let hello = client::request("GET", "/hello", None);
    let reply = ask(&mut stream, &hello, Duration::from_secs(5));
    match &reply {
        Reply::Response(response) if response.status == 200 => Ok(()),
        _ => Err(failed_reply(
            "200 to a GET /hello on the same connection, after the list".into(),
            &hello,
            &reply,
        )),
    }
}

/// Sends `request` on `stream` and reads the answer, for at most `within`.
fn ask(stream: &mut TcpStream, request: &[u8], within: Duration) -> Reply {
    if let Err(err) = stream.write_all(request) {
        return Reply::Failed {
            error: format!("cannot send: {err}"),
            received: Vec::new(),
        };
    }
    wire::read_reply(stream, Instant::now() + within)
}

fn expect_continue(addr: SocketAddr) -> Result<(), Failure> {
    const HEAD: &[u8] = b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 16\r\nExpect: 100-continue\r\n\r\n";
    const BODY: &[u8] = b"{\"title\":\"milk\"}";
    continue_then_body(addr, HEAD, BODY, "the body")
}

/// Sends `head` (which asks `Expect: 100-continue`), waits for the
/// `100 Continue`, then sends `body` (`what` names it in the report), which
/// creates the to-do `milk`.
fn continue_then_body(
    addr: SocketAddr,
    head: &[u8],
    body: &[u8],
    what: &str,
) -> Result<(), Failure> {
    let mut stream = open(addr, head)?;
    // curl gives up waiting after one second; so do we.
    let interim = wire::read_reply(&mut stream, Instant::now() + Duration::from_secs(1));
    if !matches!(&interim, Reply::Response(r) if r.status_line == "HTTP/1.1 100 Continue") {
        return Err(failed_reply(
            format!("`HTTP/1.1 100 Continue` within a second, before the client sends {what}"),
            head,
            &interim,
        ));
    }
    let _ = stream.write_all(body);
    let reply = wire::read_reply(&mut stream, Instant::now() + Duration::from_secs(5));
    expecting(
        Expect::Json(201, &[("/title", "\"milk\"")]),
        &[head, body].concat(),
        &reply,
    )
}

fn idle_clients_do_not_starve(addr: SocketAddr) -> Result<(), Failure> {
    // Sixteen clients connect and say nothing: four times day 4's pool.
    let silent: Vec<TcpStream> = (0..16)
        .filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok())
        .collect();
    let answered = hello_within(
        addr,
        Duration::from_secs(2),
        "16 other connections sit idle",
    );
    drop(silent);
    answered
}

/// Asks for `/hello` and wants a 200 within `wait`, while `meanwhile` (the
/// check's other connections, which the caller keeps open until this
/// returns).
fn hello_within(addr: SocketAddr, wait: Duration, meanwhile: &str) -> Result<(), Failure> {
    const HELLO: &[u8] = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let reply = Exchange::new(HELLO).waiting(wait).run(addr);
    match &reply {
        Reply::Response(response) if response.status == 200 => Ok(()),
        _ => Err(failed_reply(
            format!(
                "an answer within {} s while {meanwhile}",
                wait.as_secs_f64()
            ),
            HELLO,
            &reply,
        )),
    }
}

// ANCHOR: sleepers_do_not_block
/// How many sleeping requests [`sleepers_do_not_block`] sends: more than
/// most machines have cores, so that a server running handlers on its
/// event loops has a sleeper on every loop.
const SLEEPERS: usize = 16;

fn sleepers_do_not_block(addr: SocketAddr) -> Result<(), Failure> {
    const SLEEP: &[u8] = b"GET /sleep?ms=4000 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let sleepers: Vec<TcpStream> = (0..SLEEPERS)
        .filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok())
        .filter_map(|mut stream| stream.write_all(SLEEP).is_ok().then_some(stream))
        .collect();
    // The server reads every sleeper's request before the greeting is
    // sent, so that the greeting really is asked while they sleep (where
    // the suite cannot tell, a pause stands in). One bound for all of
    // them: a server that sleeps on its event loops reads one sleeper per
    // loop and leaves the rest unread, and waiting for each in turn would
    // last until their sleeps were over, and the greeting was quick again.
    let deadline = Instant::now() + Duration::from_secs(1);
    let read = sleepers
        .iter()
        .filter(|stream| crate::receive_queue::wait_until_read_before(stream, deadline))
        .count();
    if read < sleepers.len() {
        thread::sleep(Duration::from_millis(200));
    }
    // Well under a sleep, counted from at most 1.2 s into it: a server
    // that sleeps where it answers /hello cannot make it, however its
    // sleepers and the greeting line up, and a busy test machine has room
    // to spare.
    let meanwhile = format!("{SLEEPERS} requests sleep");
    let answered = hello_within(addr, Duration::from_millis(1500), &meanwhile);
    drop(sleepers);
    answered
}
// ANCHOR_END: sleepers_do_not_block

fn concurrent_creates(addr: SocketAddr) -> Result<(), Failure> {
    const CLIENTS: usize = 8;
    const EACH: usize = 50;
    let ids = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let start = Arc::new(Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (ids, errors, start) = (Arc::clone(&ids), Arc::clone(&errors), Arc::clone(&start));
            thread::spawn(move || {
                start.wait();
                for n in 0..EACH {
                    let body = format!(r#"{{"title":"client {client}, to-do {n}"}}"#);
                    match create_todo(addr, &body) {
                        Ok(todo) => ids.lock().expect("no panics here").push(id_of(&todo)),
                        Err(err) => errors.lock().expect("no panics here").push(err),
                    }
                }
            })
        })
        .collect();
    for client in clients {
        let _ = crate::process::join_within(client, Duration::from_secs(30));
    }
    if let Some(err) = errors.lock().expect("no panics here").pop() {
        return Err(err);
    }
    let mut ids = ids.lock().expect("no panics here").clone();
    ids.sort_unstable();
    ids.dedup();
    if ids.len() != CLIENTS * EACH {
        return Err(Failure {
            expected: format!("{} different ids", CLIENTS * EACH),
            sent: None,
            received: format!("{} different ids", ids.len()),
        });
    }
    Ok(())
}

/// A server on a fresh `--data` file creates two to-dos and deletes the
/// second. Killed (`SIGKILL`, or `TerminateProcess` on Windows: no chance
/// to save anything on the way out) and started again on the same file,
/// it still has the first, and gives the next to-do an id above the
/// deleted one's.
fn data_survives_kill(server: &Server) -> Result<(), Failure> {
    let folder = DataFolder::new()?;
    let start = || {
        server
            .another_with(&["--data", &folder.file])
            .map_err(|err| Failure {
                expected: format!("a server started with --data {}", folder.file),
                sent: None,
                received: err,
            })
    };
    let first = start()?;
    let kept = create_todo(first.addr(), r#"{"title":"outlive a kill"}"#)?;
    let gone = create_todo(first.addr(), r#"{"title":"stay deleted"}"#)?;
    let (sent, reply) = call(
        first.addr(),
        "DELETE",
        &format!("/todos/{}", id_of(&gone)),
        None,
    );
    no_content(&sent, &reply)?;
    drop(first);

    let second = start()?;
    let (sent, reply) = call(second.addr(), "GET", "/todos", None);
    // The `url`s name the port, which is another one now.
    let titles = match &reply {
        Reply::Response(response) if response.status == 200 => response
            .json()
            .ok()
            .and_then(|list| list.as_array().cloned())
            .map(|list| {
                list.iter()
                    .map(|todo| todo["title"].clone())
                    .collect::<Vec<_>>()
            }),
        _ => None,
    };
    if titles != Some(vec![kept["title"].clone()]) {
        return Err(failed_reply(
            "after the kill and a restart on the same --data file, the to-do created before it (and not the deleted one)".into(),
            &sent,
            &reply,
        ));
    }
    let next = create_todo(second.addr(), r#"{"title":"after the restart"}"#)?;
    if id_of(&next) <= id_of(&gone) {
        return Err(Failure {
            expected: "ids go on counting after a restart, past the deleted to-do's".into(),
            sent: None,
            received: format!(
                "id {} for the deleted to-do, id {} after the restart",
                id_of(&gone),
                id_of(&next)
            ),
        });
    }
    Ok(())
}

/// A new, empty folder of its own for one check's data file, removed
/// when dropped (after the servers that used it: drop them first, as
/// Windows does not remove a file a running process holds open).
struct DataFolder {
    path: PathBuf,
    /// `todos.json` inside it, as an argument.
    file: String,
}

impl DataFolder {
    fn new() -> Result<DataFolder, Failure> {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let number = COUNT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("check-data-{}-{number}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        let made = fs::create_dir_all(&path).map_err(|err| Failure {
            expected: format!("a folder for the data file at {}", path.display()),
            sent: None,
            received: err.to_string(),
        });
        made?;
        let file = path.join("todos.json").to_string_lossy().into_owned();
        Ok(DataFolder { path, file })
    }
}

impl Drop for DataFolder {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

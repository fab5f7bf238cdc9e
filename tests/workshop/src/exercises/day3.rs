//! Exercises on day 3: more of what RFC 9110 asks of a router, and one
//! more route whose answer holds user input.

use std::net::SocketAddr;

use super::Exercise;
use suite::checks::{Check, Expect, Failure, Payload, Probe};
use suite::client::{ask, failure, head_matches_get};
use suite::stage::Stage::Day3;

pub static EXERCISES: &[Exercise] = &[
    Exercise {
        check: Check {
            id: "day3-head",
            from: Day3,
            until: None,
            title: "HEAD /hello answers like GET /hello, without the body",
            hint: "RFC 9110, section 9.3.2: a HEAD answer has the status and headers of the GET answer, Content-Length included, and no body at all.",
            probe: Probe::Script(head),
        },
        more_hints: &[
            "Route HEAD like GET, so the handler and Response::json run as usual; then leave the body out when you write the response.",
            "In handle_connection: if the method is HEAD, write `Response::resolve` of a copy whose body is empty but whose headers are unchanged (resolve must not recompute Content-Length). Change the 405's `Allow` to `GET, HEAD`.",
        ],
    },
    Exercise {
        check: Check {
            id: "day3-options",
            from: Day3,
            until: None,
            title: "OPTIONS on a known path answers 204 with an Allow header",
            hint: "OPTIONS asks which methods a path accepts (RFC 9110, section 9.3.7). The answer is the Allow header; it needs no body.",
            probe: Probe::Script(options),
        },
        more_hints: &[
            "Add an arm `(\"OPTIONS\", \"/hello\" | \"/sleep\")` to `route`, before the one that answers 405.",
            "A 204 has no body, and RFC 9110 (section 8.6) forbids Content-Length on it: build this Response by hand rather than with Response::json, and add 204 \"No Content\" to reason_phrase.",
        ],
    },
    Exercise {
        check: Check {
            id: "day3-echo",
            from: Day3,
            until: None,
            title: "POST /echo answers {\"echo\": BODY} with the body as a JSON string",
            hint: "The body is user input: it goes through json::string, like the name in /hello.",
            probe: Probe::Request {
                // Quotes, a backslash, a newline and an é: everything that
                // breaks JSON glued together by hand.
                payload: Payload::Bytes(
                    b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 17\r\n\r\nsay \"hi\" \\ \xc3\xa9\nbye",
                ),
                expect: Expect::Json(200, &[("/echo", r#""say \"hi\" \\ é\nbye""#)]),
            },
        },
        more_hints: &[
            "Add `(\"POST\", \"/echo\") => echo(request)` to `route`, and a 405 for other methods on /echo.",
            "`json::object([(\"echo\", json::string(&request.body))])` is the whole body of the answer.",
        ],
    },
];

fn head(addr: SocketAddr) -> Result<(), Failure> {
    head_matches_get(addr, "/hello?name=Ferris")?;
    // The 405 for other methods now offers HEAD too.
    ask(
        addr,
        b"DELETE /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        Expect::ErrorWithHeader(405, "allow", "GET, HEAD"),
    )
    .map(drop)
}

fn options(addr: SocketAddr) -> Result<(), Failure> {
    const SENT: &[u8] = b"OPTIONS /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    let response = ask(addr, SENT, Expect::AnyResponse)?;
    let allows_get = response
        .header("allow")
        .is_some_and(|allow| allow.split(',').any(|method| method.trim() == "GET"));
    if response.status_line == "HTTP/1.1 204 No Content"
        && allows_get
        && response.header("content-length").is_none()
        && response.body.is_empty()
    {
        return Ok(());
    }
    Err(failure(
        "`HTTP/1.1 204 No Content` with an Allow header that lists GET, and no Content-Length or body",
        SENT,
        String::from_utf8_lossy(&response.raw).into_owned(),
    ))
}

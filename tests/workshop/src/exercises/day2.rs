//! Exercises on day 2: three rules of RFC 9112 the parser does not follow
//! yet. Day 2 echoes what it parsed, so each check reads the echo.

use std::net::SocketAddr;

use super::Exercise;
use suite::checks::{Check, Expect, Failure, Payload, Probe};
use suite::client::ask;
use suite::stage::Stage::Day2;

pub static EXERCISES: &[Exercise] = &[
    Exercise {
        check: Check {
            id: "day2-percent-decoding",
            from: Day2,
            until: None,
            title: "decodes %XX and + in query keys and values",
            hint: "Split the query on `&` and `=` first, then decode each key and value. Decoding first would turn `%26` into a new `&`.",
            probe: Probe::Request {
                payload: Payload::Bytes(
                    b"GET /search?name=J%C3%BCrgen+M&a%26b=c%3Dd&rate=100%25 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                ),
                expect: Expect::Json(
                    200,
                    &[
                        ("/query/name", "\"Jürgen M\""),
                        ("/query/a&b", "\"c=d\""),
                        ("/query/rate", "\"100%\""),
                    ],
                ),
            },
        },
        more_hints: &[
            "Work on bytes, not characters: `%C3%BC` is two bytes that together spell `ü`. Collect the decoded bytes in a `Vec<u8>` and turn it into a `String` at the end.",
            "`+` becomes b' '; `%` followed by two hex digits becomes one byte, `u8::from_str_radix(hex, 16)`; anything else is copied. `String::from_utf8_lossy` turns bytes that are not UTF-8 into `�` instead of failing.",
        ],
    },
    Exercise {
        check: Check {
            id: "day2-host-required",
            from: Day2,
            until: None,
            title: "answers 400 to an HTTP/1.1 request with no Host header, or two",
            hint: "RFC 9112, section 3.2: a server must answer 400 to an HTTP/1.1 request without exactly one Host header. HTTP/1.0 requests may leave it out.",
            probe: Probe::Script(host_required),
        },
        more_hints: &[
            "The version is the third part of the request line. `parse_head` already knows it; return it too, or check the headers right there.",
            "Repeated headers are joined with \", \" by the parser, and a host name never holds a comma: `headers.get(\"host\")` is `None` for no Host and contains ',' for two.",
        ],
    },
    Exercise {
        check: Check {
            id: "day2-absolute-form",
            from: Day2,
            until: None,
            title: "accepts a full URL as the request target, as in GET http://host/path HTTP/1.1",
            hint: "RFC 9112, section 3.2.2: a server must accept the absolute form. Strip `http://` and the host, and what is left is the usual `/path?query`.",
            probe: Probe::Request {
                payload: Payload::Bytes(
                    b"GET http://127.0.0.1:5000/hello?name=A HTTP/1.1\r\nHost: 127.0.0.1:5000\r\n\r\n",
                ),
                expect: Expect::Json(200, &[("/path", "\"/hello\""), ("/query/name", "\"A\"")]),
            },
        },
        more_hints: &[
            "`target.strip_prefix(\"http://\")` gives `127.0.0.1:5000/hello?name=A`; the path starts at the first `/` after that.",
            "With no `/` after the host (`http://127.0.0.1:5000`), the path is `/`. Do this before the check that the target starts with `/`.",
        ],
    },
];

fn host_required(addr: SocketAddr) -> Result<(), Failure> {
    ask(addr, b"GET / HTTP/1.1\r\n\r\n", Expect::Error(&[400]))?;
    ask(
        addr,
        b"GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n",
        Expect::Error(&[400]),
    )?;
    // HTTP/1.0 had no Host header, so its requests stay welcome without one.
    ask(
        addr,
        b"GET / HTTP/1.0\r\n\r\n",
        Expect::Json(200, &[("/method", "\"GET\"")]),
    )?;
    ask(
        addr,
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        Expect::Json(200, &[("/method", "\"GET\"")]),
    )
    .map(drop)
}

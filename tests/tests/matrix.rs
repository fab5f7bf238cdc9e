//! The stage matrix: one table of requests, sent to every stage.
//!
//! Each answer is recorded as an insta snapshot named `<case>@<stage>`, in
//! `tests/snapshots/`. Side by side, they show how the server grows: day 1
//! greets everything, day 2 echoes what it parsed, day 3 routes. The book
//! shows these files, so what it prints is what the stages really answer.
//!
//! The raw client records the exact bytes. For requests an ordinary client
//! can send, a real one (reqwest) sends them too and must get the same
//! status: proof that the answers are HTTP that real clients understand.

use std::time::Duration;

use suite::server::Server;
use suite::stage::Stage;
use suite::wire::{Exchange, Reply, transcript};

/// One row: a name for the snapshot, the raw request, and whether a real
/// HTTP client can send it too (it cannot send malformed requests).
struct Case {
    name: &'static str,
    request: &'static str,
    real_client: bool,
}

const CASES: &[Case] = &[
    Case {
        name: "root",
        request: "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: 42\r\nConnection: close\r\n\r\n",
        real_client: true,
    },
    Case {
        name: "hello",
        request: "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        real_client: true,
    },
    Case {
        name: "hello_with_name",
        request: "GET /hello?name=Ferris HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        real_client: true,
    },
    Case {
        name: "hello_name_needs_escaping",
        request: "GET /hello?name=%22Bobby%22%5C HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        real_client: true,
    },
    Case {
        name: "hello_name_unicode",
        request: "GET /hello?name=J%C3%BCrgen+%F0%9F%A6%80 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        real_client: true,
    },
    Case {
        name: "hello_question_mark_in_value",
        request: "GET /hello?name=who?&x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        real_client: true,
    },
    Case {
        name: "post_json",
        request: "POST /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 17\r\nConnection: close\r\n\r\n{\"name\":\"Ferris\"}",
        real_client: false,
    },
    Case {
        name: "unknown_path",
        request: "GET /no/such/page HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        real_client: true,
    },
    Case {
        name: "sleep",
        request: "GET /sleep?ms=10 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        real_client: true,
    },
    Case {
        name: "sleep_bad_ms",
        request: "GET /sleep?ms=soon HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        real_client: true,
    },
    Case {
        name: "panic",
        request: "GET /panic HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        real_client: true,
    },
    Case {
        name: "body_too_large",
        request: "POST /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2000000\r\nConnection: close\r\n\r\n",
        real_client: false,
    },
    Case {
        name: "not_http",
        request: "GET /\r\n\r\n",
        real_client: false,
    },
];

/// Sends `case` the way a real client would and returns the status.
fn status_from_real_client(server: &Server, case: &Case) -> Result<u16, String> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|err| err.to_string())?;
    let (request_line, _) = case.request.split_once("\r\n").unwrap_or_default();
    let target = request_line.split(' ').nth(1).unwrap_or("/");
    let response = client
        .get(format!("http://{}{target}", server.addr()))
        .header("X-Request-ID", "42")
        .send()
        .map_err(|err| format!("{err:?}"))?;
    let status = response.status().as_u16();
    // Everything but the final server's page (`GET /`) is JSON, and must
    // parse as what it says it is.
    let json = response
        .headers()
        .get("content-type")
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    let body = response.bytes().map_err(|err| err.to_string())?;
    if json {
        serde_json::from_slice::<serde_json::Value>(&body)
            .map_err(|err| format!("reqwest got a body that is not JSON: {err}"))?;
    }
    Ok(status)
}

fn record(stage: Stage) {
    let server =
        Server::reference(stage).unwrap_or_else(|err| panic!("cannot start {stage}: {err}"));
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for case in CASES {
            let reply = Exchange::new(case.request).run(server.addr());
            let Reply::Response(response) = reply else {
                panic!(
                    "{stage} gave no answer to {}: {}",
                    case.name,
                    reply.describe()
                );
            };
            if case.real_client {
                let status = status_from_real_client(&server, case)
                    .unwrap_or_else(|err| panic!("reqwest, {} on {stage}: {err}", case.name));
                assert_eq!(
                    status, response.status,
                    "{} on {stage}: reqwest and the raw client got different statuses",
                    case.name
                );
            }
            insta::assert_snapshot!(
                format!("{}@{stage}", case.name),
                transcript(case.request, &response)
            );
        }
    });
}

#[test]
fn day1() {
    record(Stage::Day1);
}

#[test]
fn day2() {
    record(Stage::Day2);
}

#[test]
fn day3() {
    record(Stage::Day3);
}

#[test]
fn day4() {
    record(Stage::Day4);
}

#[test]
fn r#final() {
    record(Stage::Final);
}

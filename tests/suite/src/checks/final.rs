//! The final server: the to-do API, CORS, keep-alive, and serving everyone.
//!
//! Most API checks need a few requests in a row (create a to-do, then read
//! it back), so they are functions built from [`call`](crate::client::call). Each starts by
//! creating what it needs, so it also works against a server that already
//! holds to-dos.

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Check, Expect, Failure, Payload, Probe, open};
use crate::client::{call, create_todo, expecting, failed_reply, id_of};
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
        title: "PUT /todos answers 405 with an Allow header",
        hint: "List the methods /todos does accept in `Allow`.",
        probe: Probe::Request {
            payload: Payload::Bytes(b"PUT /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"),
            expect: Expect::ErrorWithHeader(405, "Allow", "GET, POST, DELETE, OPTIONS"),
        },
    },
    Check {
        id: "final-cors",
        from: Final,
        until: None,
        title: "every answer, errors included, allows any origin",
        hint: "Add `Access-Control-Allow-Origin: *` to every response, in one place (`resolve`).",
        probe: Probe::Request {
            payload: Payload::Bytes(b"GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            expect: Expect::ErrorWithHeader(404, "Access-Control-Allow-Origin", "*"),
        },
    },
    Check {
        id: "final-preflight",
        from: Final,
        until: None,
        title: "OPTIONS answers 204 with the CORS methods and headers",
        hint: "Answer OPTIONS on any path with 204, `Access-Control-Allow-Methods: GET, POST, PATCH, DELETE, OPTIONS` and `Access-Control-Allow-Headers: Content-Type`.",
        probe: Probe::Script(preflight),
    },
    Check {
        id: "final-smuggling",
        from: Final,
        until: None,
        title: "Transfer-Encoding together with Content-Length answers 400",
        hint: "Two ways to find the end of the body means a proxy and you may disagree: refuse the request (RFC 9112, section 6.3).",
        probe: Probe::Request {
            payload: Payload::Bytes(b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            expect: Expect::Error(&[400]),
        },
    },
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
        hint: "Each waiting connection holds a thread. Have more threads than waiting clients, or close idle connections when others queue.",
        probe: Probe::Script(idle_clients_do_not_starve),
    },
    Check {
        id: "final-concurrent-creates",
        from: Final,
        until: None,
        title: "8 clients creating 50 to-dos each get 400 different ids",
        hint: "Take the next id and insert the to-do under one lock, so that two requests can never get the same id.",
        probe: Probe::Script(concurrent_creates),
    },
];

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

fn preflight(addr: SocketAddr) -> Result<(), Failure> {
    const SENT: &[u8] = b"OPTIONS /todos/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://example.com\r\nAccess-Control-Request-Method: PATCH\r\n\r\n";
    let reply = Exchange::new(SENT).run(addr);
    let ok = |response: &RawResponse| {
        response.status == 204
            && response.header("access-control-allow-origin") == Some("*")
            && response
                .header("access-control-allow-methods")
                .is_some_and(|methods| {
                    // Methods are case-sensitive, so these exact names; a
                    // server that supports more (PUT, say) may list them.
                    let listed: Vec<&str> = methods.split(',').map(str::trim).collect();
                    ["GET", "POST", "PATCH", "DELETE", "OPTIONS"]
                        .iter()
                        .all(|method| listed.contains(method))
                })
            && response
                .header("access-control-allow-headers")
                .is_some_and(|value| value.eq_ignore_ascii_case("content-type"))
    };
    match &reply {
        Reply::Response(response) if ok(response) => Ok(()),
        _ => Err(failed_reply(
            "204 with Access-Control-Allow-Origin: *, Access-Control-Allow-Methods: GET, POST, PATCH, DELETE, OPTIONS and Access-Control-Allow-Headers: Content-Type".into(),
            SENT,
            &reply,
        )),
    }
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

fn expect_continue(addr: SocketAddr) -> Result<(), Failure> {
    const HEAD: &[u8] = b"POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 16\r\nExpect: 100-continue\r\n\r\n";
    const BODY: &[u8] = b"{\"title\":\"milk\"}";
    let mut stream = open(addr, HEAD)?;
    // curl gives up waiting after one second; so do we.
    let interim = wire::read_reply(&mut stream, Instant::now() + Duration::from_secs(1));
    if !matches!(&interim, Reply::Response(r) if r.status_line == "HTTP/1.1 100 Continue") {
        return Err(failed_reply(
            "`HTTP/1.1 100 Continue` within a second, before the body is sent".into(),
            HEAD,
            &interim,
        ));
    }
    let _ = stream.write_all(BODY);
    let reply = wire::read_reply(&mut stream, Instant::now() + Duration::from_secs(5));
    expecting(
        Expect::Json(201, &[("/title", "\"milk\"")]),
        &[HEAD, BODY].concat(),
        &reply,
    )
}

fn idle_clients_do_not_starve(addr: SocketAddr) -> Result<(), Failure> {
    const HELLO: &[u8] = b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    // Sixteen clients connect and say nothing: four times day 4's pool.
    let silent: Vec<TcpStream> = (0..16)
        .filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok())
        .collect();
    let wait = Duration::from_secs(2);
    let reply = Exchange::new(HELLO).waiting(wait).run(addr);
    drop(silent);
    match &reply {
        Reply::Response(response) if response.status == 200 => Ok(()),
        _ => Err(failed_reply(
            format!(
                "an answer within {} s while 16 other connections sit idle",
                wait.as_secs()
            ),
            HELLO,
            &reply,
        )),
    }
}

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

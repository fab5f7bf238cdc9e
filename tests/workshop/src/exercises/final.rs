//! Exercises on the final server: more of the to-do API.

use std::net::SocketAddr;

use serde_json::Value;

use super::Exercise;
use suite::checks::{Check, Expect, Failure, Probe};
use suite::client::{call, create_todo, expecting, failed_reply, id_of};
use suite::stage::Stage::Final;
use suite::wire::{Exchange, Reply};

pub static EXERCISES: &[Exercise] = &[
    Exercise {
        check: Check {
            id: "final-put",
            from: Final,
            until: None,
            title: "PUT /todos/{id} replaces a to-do whole: fields left out go back to their defaults",
            hint: "PUT is not PATCH: a PUT body is the whole new to-do (RFC 9110, section 9.3.4). `title` is required, `completed` defaults to false and `order` to null.",
            probe: Probe::Script(put),
        },
        more_hints: &[
            "Parse the body exactly as POST /todos does, then replace the stored fields instead of creating a new to-do. 404 when the id does not exist.",
            "Add PUT to the methods the server implements (`IMPLEMENTED` in app.rs: until then a PUT is a 501 wherever it is sent), and to what /todos/{id} allows (`Resource::allow`): the 405's Allow header and the CORS preflight's Access-Control-Allow-Methods both come from it, and browsers refuse to send a PUT the preflight did not allow.",
            "Every change to the store is an `Op` (final/src/store/draft.rs), worked out by `Draft::apply` into a log record. A PUT is a new op whose record puts the whole to-do; `Store::update` shows how a method hands its op to `write`.",
        ],
    },
    Exercise {
        check: Check {
            id: "final-filter-completed",
            from: Final,
            until: None,
            title: "GET /todos?completed=true lists only finished to-dos, =false the others, anything else is 400",
            hint: "The query is already parsed: look up `completed` and filter the list before serializing it.",
            probe: Probe::Script(filter_completed),
        },
        more_hints: &[
            "Match on `request.query.get(\"completed\").map(String::as_str)`: `None` lists everything, `Some(\"true\")` and `Some(\"false\")` filter, anything else is a 400 that names the parameter.",
            "`todos.into_iter().filter(|todo| todo.completed == wanted)` keeps the order.",
        ],
    },
    Exercise {
        check: Check {
            id: "final-etag",
            from: Final,
            until: None,
            title: "GET /todos/{id} sends an ETag; If-None-Match with it gets 304 Not Modified, until the to-do changes",
            hint: "An ETag names one version of an answer (RFC 9110, section 8.8.3). Hash the body of a 200 answer to a GET /todos/{id} and send it in quotes: `ETag: \"…\"`.",
            probe: Probe::Script(etag),
        },
        more_hints: &[
            "When the request's If-None-Match lists the tag the answer would carry, answer 304 Not Modified with the ETag and no body (RFC 9110, section 13.1.2). A change to the to-do changes the body, so the old tag no longer matches.",
            "`std::hash::DefaultHasher` hashes the body bytes; `format!(\"\\\"{:016x}\\\"\", hasher.finish())` makes the tag. `reason_phrase` already knows 304, and `assets.rs` shows the same exchange for the page's files; do it in one small function the GET arm calls.",
        ],
    },
];

fn put(addr: SocketAddr) -> Result<(), Failure> {
    let todo = create_todo(addr, r#"{"title":"draft","order":7}"#)?;
    let path = format!("/todos/{}", id_of(&todo));

    let (sent, reply) = call(
        addr,
        "PUT",
        &path,
        Some(r#"{"title":"final","completed":true}"#),
    );
    expecting(
        Expect::Json(
            200,
            &[
                ("/title", "\"final\""),
                ("/completed", "true"),
                ("/order", "null"),
            ],
        ),
        &sent,
        &reply,
    )?;
    // The change is kept.
    let (sent, reply) = call(addr, "GET", &path, None);
    expecting(
        Expect::Json(200, &[("/title", "\"final\""), ("/order", "null")]),
        &sent,
        &reply,
    )?;

    let (sent, reply) = call(addr, "PUT", &path, Some(r#"{"completed":false}"#));
    expecting(Expect::Error(&[400]), &sent, &reply)?;
    let (sent, reply) = call(addr, "PUT", "/todos/987654321", Some(r#"{"title":"x"}"#));
    expecting(Expect::Error(&[404]), &sent, &reply)
}

fn filter_completed(addr: SocketAddr) -> Result<(), Failure> {
    let open = id_of(&create_todo(addr, r#"{"title":"open"}"#)?);
    let done = id_of(&create_todo(addr, r#"{"title":"done","completed":true}"#)?);

    for (wanted, present, absent) in [(true, done, open), (false, open, done)] {
        let path = format!("/todos?completed={wanted}");
        let (sent, reply) = call(addr, "GET", &path, None);
        expecting(Expect::Json(200, &[]), &sent, &reply)?;
        let ids = match &reply {
            Reply::Response(response) => response.json().ok(),
            _ => None,
        };
        let ids: Option<Vec<(u64, bool)>> = ids.as_ref().and_then(Value::as_array).map(|todos| {
            todos
                .iter()
                .map(|todo| {
                    let completed = todo.get("completed").and_then(Value::as_bool);
                    (id_of(todo), completed == Some(wanted))
                })
                .collect()
        });
        let right = ids.is_some_and(|ids| {
            ids.iter().all(|(_, matches)| *matches)
                && ids.iter().any(|(id, _)| *id == present)
                && ids.iter().all(|(id, _)| *id != absent)
        });
        if !right {
            return Err(failed_reply(
                format!("200 with only the to-dos whose completed is {wanted}"),
                &sent,
                &reply,
            ));
        }
    }
    let (sent, reply) = call(addr, "GET", "/todos?completed=maybe", None);
    expecting(Expect::Error(&[400]), &sent, &reply)
}

fn etag(addr: SocketAddr) -> Result<(), Failure> {
    let todo = create_todo(addr, r#"{"title":"tag me"}"#)?;
    let path = format!("/todos/{}", id_of(&todo));
    let (sent, reply) = call(addr, "GET", &path, None);
    let tag = match &reply {
        Reply::Response(response) if response.status == 200 => {
            response.header("etag").map(str::to_string)
        }
        _ => None,
    };
    let Some(tag) = tag.filter(|tag| tag.starts_with('"') && tag.ends_with('"')) else {
        return Err(failed_reply(
            "200 with an `ETag: \"…\"` header".into(),
            &sent,
            &reply,
        ));
    };
    let conditional =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-None-Match: {tag}\r\n\r\n");
    let reply = Exchange::new(conditional.clone()).run(addr);
    if !matches!(&reply, Reply::Response(r) if r.status == 304 && r.body.is_empty()) {
        return Err(failed_reply(
            format!("304 Not Modified, with no body, for If-None-Match: {tag}"),
            conditional.as_bytes(),
            &reply,
        ));
    }
    // After a change, the old tag no longer matches.
    call(addr, "PATCH", &path, Some(r#"{"completed":true}"#));
    let reply = Exchange::new(conditional.clone()).run(addr);
    expecting(
        Expect::Json(200, &[("/completed", "true")]),
        conditional.as_bytes(),
        &reply,
    )
}

//! The to-do page: three files built into the binary, served with the
//! caching headers a browser understands.
//!
//! The files are embedded with `include_str!`, so `cargo run -p final` is
//! still the only step, and there is no file system path anywhere in this
//! module. That matters: a server that maps URLs onto a folder must refuse
//! `/../../etc/passwd` and its percent-encoded cousins (path traversal), and
//! getting that right is subtle. Here a path either is one of the three
//! names below or gets a 404; there is nothing to traverse.

// ANCHOR: uses
// ANCHOR: lazy_lock
use std::sync::LazyLock;
// ANCHOR_END: lazy_lock

use crate::http::request::Request;
use crate::http::response::Response;
// ANCHOR_END: uses

// ANCHOR: assets
/// One embedded file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: include_str!("../static/index.html"),
    },
    Asset {
        path: "/app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../static/app.css"),
    },
    Asset {
        path: "/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../static/app.js"),
    },
];

/// Whether `path` is one of the embedded files.
pub fn is_asset(path: &str) -> bool {
    ASSETS.iter().any(|asset| asset.path == path)
}
// ANCHOR_END: assets

// ANCHOR: tags
/// Each asset's entity tag, computed once, on first use.
static TAGS: LazyLock<Vec<String>> =
    LazyLock::new(|| ASSETS.iter().map(|asset| entity_tag(asset.body)).collect());
// ANCHOR_END: tags

/* STAND-IN: serve
// ANCHOR: serve_whole
/// The answer to `GET` (or `HEAD`) of an embedded file; 404 when `path`
/// is not one (the router only asks for paths [`is_asset`] knows).
pub fn serve(path: &str, _request: &Request) -> Response {
    let Some(asset) = ASSETS.iter().find(|asset| asset.path == path) else {
        return Response::error(404, &format!("no file {path}"));
    };
    let mut response = Response::empty(200).with_header("Content-Type", asset.content_type);
    response.body = asset.body.as_bytes().to_vec();
    response
}
// ANCHOR_END: serve_whole
*/
// ANCHOR: serve
/// The answer to `GET` (or `HEAD`) of an embedded file; 404 when `path`
/// is not one (the router only asks for paths [`is_asset`] knows).
///
/// Every answer carries a strong `ETag` and `Cache-Control: no-cache`,
/// which does not mean "do not cache": it means "keep it, but ask me before
/// using it". The browser asks with `If-None-Match: <the tag it has>`, and
/// when the file has not changed, a bodyless 304 saves sending it again.
/// `max-age` would save even the question, but then a rebuilt server would
/// serve yesterday's page until the age ran out.
pub fn serve(path: &str, request: &Request) -> Response {
    let Some(index) = ASSETS.iter().position(|asset| asset.path == path) else {
        return Response::error(404, &format!("no file {path}"));
    };
    let (asset, tag) = (&ASSETS[index], &TAGS[index]);
    let status = if request
        .header("if-none-match")
        .is_some_and(|tags| matches_any(tags, tag))
    {
        304
    } else {
        200
    };
    let mut response = Response::empty(status)
        .with_header("ETag", tag.clone())
        .with_header("Cache-Control", "no-cache");
    if status == 200 {
        response = response.with_header("Content-Type", asset.content_type);
        response.body = asset.body.as_bytes().to_vec();
    }
    response
}
// ANCHOR_END: serve

// ANCHOR: matches_any
/// Whether the `If-None-Match` list `tags` names `tag`, or is `*`.
///
/// RFC 9110 (section 13.1.2) compares weakly here: `W/"x"` matches `"x"`,
/// because a 304 only says "what you have is still good", which a weak tag
/// may promise.
fn matches_any(tags: &str, tag: &str) -> bool {
    tags.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == tag
    })
}
// ANCHOR_END: matches_any

// ANCHOR: entity_tag
/// A strong entity tag for `body`: a 64-bit FNV-1a hash of its bytes, in
/// quotes, as RFC 9110 (section 8.8.3) writes tags.
///
/// Any function that changes when the bytes change will do; FNV-1a is five
/// lines and needs no crate. It is not a cryptographic hash, and it does
/// not need to be: nobody gains by forging the tag of a page they can read.
fn entity_tag(body: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in body.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{hash:016x}\"")
}
// ANCHOR_END: entity_tag

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_table() {
        let tag = "\"abc\"";
        let rows = [
            ("\"abc\"", true),
            ("W/\"abc\"", true),
            ("\"x\", \"abc\"", true),
            ("*", true),
            ("\"abcd\"", false),
            ("abc", false),
            ("", false),
        ];
        for (header, matches) in rows {
            assert_eq!(matches_any(header, tag), matches, "If-None-Match: {header}");
        }
    }

    #[test]
    fn tags_differ_when_bodies_differ_and_are_quoted() {
        let (a, b) = (entity_tag("<p>a</p>"), entity_tag("<p>b</p>"));
        assert_ne!(a, b);
        assert!(
            a.starts_with('"') && a.ends_with('"') && a.len() == 18,
            "{a}"
        );
        // FNV-1a's published value for the empty input.
        assert_eq!(entity_tag(""), "\"cbf29ce484222325\"");
    }

    #[test]
    fn only_the_embedded_paths_are_assets() {
        for path in ["/", "/app.css", "/app.js"] {
            assert!(is_asset(path), "{path}");
        }
        for path in [
            "/index.html",
            "/../app.js",
            "/app.js/",
            "/static/app.js",
            "//",
        ] {
            assert!(!is_asset(path), "{path}");
        }
    }
}

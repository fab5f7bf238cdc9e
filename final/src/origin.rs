//! Who may talk to the server: the `Host` allow-list, the `Origin` check,
//! and CORS.
//!
//! A server on `127.0.0.1` is not reachable from other machines, but it
//! is reachable from every web page the user opens: the browser runs the
//! page's JavaScript on the user's machine. Two browser rules, and their
//! gaps, decide what such a page can do:
//! - **The same-origin policy.** A page may send requests anywhere, but
//!   may read only answers from its own origin (scheme, host and port),
//!   unless the answer says otherwise with CORS headers. Sending is enough
//!   to do harm, though: a form, or `fetch` with `mode: "no-cors"`, can
//!   `POST` a body with no `Content-Type` at all, and this API reads such a
//!   body as JSON. So a request that says it comes from another origin
//!   (the browser adds `Origin`, and a page cannot remove it) is refused
//!   with 403, unless that origin was allowed with `--cors`.
//! - **DNS rebinding.** A page at `http://rebind.example:5000` can make its
//!   own name resolve to `127.0.0.1` a moment after it loads. Its requests
//!   then reach us, and to the browser they are same-origin, so the page
//!   can read the answers. What gives it away is the name it uses: the
//!   `Host` header says `rebind.example`. So only names on an allow-list
//!   are served; anything else gets 421 Misdirected Request. Local servers
//!   such as webpack-dev-server (`allowedHosts`) and Jupyter do the same.
//!
//! The defaults are the safe ones: no CORS headers, and an allow-list of
//! the listening address and `localhost`. `--cors ORIGIN` and
//! `--allow-host NAME` open them up.

// ANCHOR: policy_use
use std::net::SocketAddr;
// ANCHOR_END: policy_use

// ANCHOR: origin_use
use crate::http::request::Request;
use crate::http::response::Response;
// ANCHOR_END: origin_use

// ANCHOR: policy
/// The methods this API has, for CORS preflights and `Allow`.
pub const CORS_METHODS: &str = "GET, HEAD, POST, PATCH, DELETE, OPTIONS";

/// Which hosts and origins the server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Host names (without ports) the server answers to, in lower case.
    hosts: Vec<String>,
    /// The origin that CORS lets read our answers, or `*` for any; `None`
    /// sends no CORS headers at all.
    cors: Option<String>,
}
// ANCHOR_END: policy

impl Policy {
    // ANCHOR: policy_new
    /// The listening address's IP and `localhost`, plus `extra_hosts`;
    /// CORS for `cors`, if given.
    pub fn new(addr: SocketAddr, extra_hosts: &[String], cors: Option<String>) -> Policy {
        let ip = match addr {
            SocketAddr::V4(v4) => v4.ip().to_string(),
            SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
        };
        let mut hosts = vec![ip, "localhost".to_string()];
        hosts.extend(extra_hosts.iter().map(|host| host.to_ascii_lowercase()));
        Policy { hosts, cors }
    }
    // ANCHOR_END: policy_new

    // ANCHOR: check
    /// `Err` with the answer for a request we must not serve: 421 for a
    /// host name that is not ours, 403 for a page from another origin.
    pub fn check(&self, request: &Request) -> Result<(), Response> {
        // ANCHOR: host_guard
        // HTTP/1.0 may leave out `Host`; browsers never do.
        if let Some(host) = &request.host
            && !self.allows_host(host)
        {
            return Err(Response::error(
                421,
                &format!(
                    "this server does not answer to the name {host:?}; if it should, start it with --allow-host {}",
                    host_name(host)
                ),
            ));
        }
        // ANCHOR_END: host_guard
        // ANCHOR: origin_guard
        if let Some(origin) = request.header("origin")
            && !self.allows_origin(origin, request.host.as_deref())
        {
            return Err(Response::error(
                403,
                &format!(
                    "requests from pages at {origin} are refused; to let that page use this API, start the server with --cors {origin}"
                ),
            ));
        }
        // ANCHOR_END: origin_guard
        Ok(())
    }
    // ANCHOR_END: check

    // ANCHOR: allows_host
    /// Whether `host` (a `Host` value, maybe with a port) names us.
    ///
    /// Only the name counts, not the port: a rebinding page cannot change
    /// the name it uses, while the port differs whenever a port is
    /// forwarded (`ssh -L 8080:127.0.0.1:5000`, `docker -p`).
    pub fn allows_host(&self, host: &str) -> bool {
        let name = host_name(host).to_ascii_lowercase();
        self.hosts.contains(&name)
    }
    // ANCHOR_END: allows_host

    // ANCHOR: allows_origin
    /// Whether a page at `origin` may use the API: its own origin, as
    /// named by `host`, always; any other only if `--cors` allowed it.
    fn allows_origin(&self, origin: &str, host: Option<&str>) -> bool {
        let same_origin = host.is_some_and(|host| {
            origin
                .strip_prefix("http://")
                .is_some_and(|rest| rest.eq_ignore_ascii_case(host))
        });
        same_origin
            || self
                .cors
                .as_deref()
                .is_some_and(|allowed| allowed == "*" || allowed == origin)
    }
    // ANCHOR_END: allows_origin

    // ANCHOR: placeholders
    /* STAND-IN: decorate
    /// Leaves `response` as it is: no CORS headers yet.
    pub fn decorate(&self, response: Response) -> Response {
        response
    }

    /// The answer to `OPTIONS` on a path whose methods are `allow`.
    pub fn options(&self, allow: &'static str) -> Response {
        Response::empty(204).with_header("Allow", allow)
    }
    */
    // ANCHOR: decorate
    /// Adds the CORS header to `response` when `--cors` asked for it.
    pub fn decorate(&self, response: Response) -> Response {
        match &self.cors {
            Some(origin) => response.with_header("Access-Control-Allow-Origin", origin.clone()),
            None => response,
        }
    }

    /// The answer to `OPTIONS` on a path whose methods are `allow`: a 204
    /// with `Allow`, and, when `--cors` is on, the CORS preflight's
    /// answer too. A browser asks "may I?" this way before a cross-origin
    /// `PATCH` or `DELETE`, or a `POST` with a JSON body.
    pub fn options(&self, allow: &'static str) -> Response {
        let response = Response::empty(204).with_header("Allow", allow);
        match &self.cors {
            Some(_) => response
                .with_header("Access-Control-Allow-Methods", allow)
                .with_header("Access-Control-Allow-Headers", "Content-Type"),
            None => response,
        }
    }
    // ANCHOR_END: decorate
    // ANCHOR_END: placeholders
}

// ANCHOR: host_name
/// `example.com` from `example.com:5000`, `[::1]` from `[::1]:5000`.
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        };
    }
    host.split(':').next().unwrap_or(host)
}
// ANCHOR_END: host_name

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    use crate::http::request::Version;

    fn request(host: Option<&str>, origin: Option<&str>) -> Request {
        let mut headers = HashMap::new();
        if let Some(origin) = origin {
            headers.insert("origin".to_string(), origin.to_string());
        }
        Request {
            method: "POST".into(),
            path: "/todos".into(),
            query: HashMap::new(),
            version: Version::Http11,
            headers,
            host: host.map(String::from),
            body: Vec::new(),
        }
    }

    #[test]
    fn who_is_served() {
        let addr: SocketAddr = "127.0.0.1:5000".parse().expect("an address");
        let default = Policy::new(addr, &[], None);
        let opened = Policy::new(addr, &["todo.test".into()], Some("*".into()));
        let one_origin = Policy::new(addr, &[], Some("http://app.example".into()));
        let rows = [
            // Our own names, with any port, or none.
            (&default, Some("127.0.0.1:5000"), None, None),
            (&default, Some("127.0.0.1"), None, None),
            (&default, Some("LOCALHOST:8080"), None, None),
            // HTTP/1.0 without Host: a local client such as nc.
            (&default, None, None, None),
            // DNS rebinding: another name, even one resolving to us.
            (&default, Some("rebind.example:5000"), None, Some(421)),
            (&default, Some(""), None, Some(421)),
            (&opened, Some("todo.test"), None, None),
            // A page from our own origin; a page from elsewhere.
            (
                &default,
                Some("127.0.0.1:5000"),
                Some("http://127.0.0.1:5000"),
                None,
            ),
            (
                &default,
                Some("127.0.0.1:5000"),
                Some("http://evil.example"),
                Some(403),
            ),
            (&default, Some("127.0.0.1:5000"), Some("null"), Some(403)),
            (
                &opened,
                Some("127.0.0.1:5000"),
                Some("http://evil.example"),
                None,
            ),
            (
                &one_origin,
                Some("127.0.0.1:5000"),
                Some("http://app.example"),
                None,
            ),
            (
                &one_origin,
                Some("127.0.0.1:5000"),
                Some("http://evil.example"),
                Some(403),
            ),
        ];
        for (policy, host, origin, refused) in rows {
            let got = policy.check(&request(host, origin)).err().map(|r| r.status);
            assert_eq!(got, refused, "{host:?} {origin:?} {policy:?}");
        }
    }

    #[test]
    fn host_names_without_ports() {
        let rows = [
            ("example.com:5000", "example.com"),
            ("example.com", "example.com"),
            ("[::1]:5000", "[::1]"),
            ("[::1]", "[::1]"),
        ];
        for (host, name) in rows {
            assert_eq!(host_name(host), name);
        }
    }
}

//! Day 3: a [`response::Response`] type and the first real routes.
//!
//! - [`request`]: reading and parsing a request (from day 2), now with
//!   percent-decoded query values.
//! - [`response`]: `Response::json` builds an answer, `Response::resolve`
//!   turns it into the bytes that go on the wire.
//! - [`router`]: `GET /hello`, `GET /sleep`, and the 404 and 405 answers.
//! - [`json`]: escaping strings by hand (from day 2).
//!
//! The answer and the choice of answer live apart: `router` decides *what*
//! to say, `response` knows *how* it is written on the wire, and neither
//! touches a socket.
//!
//! `main.rs` still serves one connection at a time.

pub mod json;
pub mod request;
pub mod response;
// ANCHOR: router_mod
pub mod router;
// ANCHOR_END: router_mod

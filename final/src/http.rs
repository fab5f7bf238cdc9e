//! The two messages of HTTP, apart from any socket: a request as parsed
//! from bytes, and a response as written to bytes.
//!
//! Day 4 has a `request.rs` and a `response.rs` of its own, which read
//! from the socket and build strings. These are new designs under the old
//! names, so they live one level down: a learner's crate can hold both
//! while it grows from day 4's into this one, and the old ones go when the
//! new ones take over.

pub mod request;
pub mod response;

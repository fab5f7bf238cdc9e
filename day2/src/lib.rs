//! Day 2: reading a whole HTTP request into a [`request::Request`].
//!
//! - [`request`]: the read loop and the parser, and the errors they report.
//! - [`json`]: escaping strings by hand, so that answers are valid JSON
//!   even before `serde` arrives.
//!
//! `main.rs` owns the listener and answers each request with a JSON echo of
//! what was parsed, so you can see the parser at work with `curl`.

pub mod json;
pub mod request;

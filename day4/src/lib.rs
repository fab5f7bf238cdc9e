//! Day 4: a [`thread_pool::ThreadPool`] serves several connections at once.
//!
//! - [`thread_pool`]: `ThreadPool`, its `Worker`s and the bounded job queue.
//! - [`request`]: reading and parsing a request (from days 2 and 3).
//! - [`response`]: `Response::json` and `Response::resolve` (from day 3).
//! - [`router`]: the routes from day 3, plus `GET /panic`.
//! - [`json`]: escaping strings by hand (from day 2).

pub mod json;
pub mod request;
pub mod response;
pub mod router;
pub mod thread_pool;

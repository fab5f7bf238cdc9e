// ANCHOR: map
//! The complete to-do server: the devlog's four days, grown up.
//!
//! How a request travels, and where each step lives:
//! - [`server`]: the accept loop. Hands each connection to an event
//!   loop, or answers 503 when the server is full; stops on shutdown.
//! - [`event_loop`]: one thread per core, waiting on all its connections
//!   at once (with mio), and driving each one when it has news.
//! - [`slots`]: an event loop's connections by number, with keys that
//!   go stale when their connection leaves.
//! - [`connection`]: one connection's life as a state machine:
//!   keep-alive, pipelining, deadlines, closing without losing the last
//!   answer, and the access log.
//! - [`thread_pool`]: day 4's `ThreadPool`, now elastic, for the requests
//!   that may wait (writes wait for the disk), which an event loop must
//!   not answer itself.
//! - [`access_log`]: one line per answer, written in batches by a thread
//!   of its own.
//! - [`reader`]: bytes in, requests out, however the bytes are cut up;
//!   "need more bytes" is an answer, not an error.
//! - [`http`]: the messages: [`http::request`] parses a request's head and
//!   refuses ambiguous lengths; [`http::response`] writes an answer, with
//!   serde for the JSON.
//! - [`chunked`]: decoding a body sent in chunks.
//! - [`app`]: what every handler gets, and which handler answers which
//!   method and path.
//! - [`assets`]: the to-do page for browsers, built into the binary.
//! - [`origin`]: who may be served: the `Host` allow-list, the `Origin`
//!   check, and CORS.
//! - [`todos`]: the to-do API, and checking the JSON it receives.
//! - [`store`]: the to-dos, in memory or on disk (a snapshot and a log
//!   with group commit) in a way that survives `kill -9`.
//! - [`date`]: the `Date` header, and the calendar arithmetic behind it.
//! - [`shutdown`]: Ctrl-C and SIGTERM stop the server gracefully.
//! - [`cli`]: the command line.
// ANCHOR_END: map

/* STAND-IN: serde_writes_json
pub mod json;
*/
// ANCHOR: serde_writes_json
// ANCHOR_END: serde_writes_json
pub mod access_log;
pub mod app;
pub mod assets;
pub mod chunked;
pub mod cli;
pub mod connection;
pub mod date;
pub mod event_loop;
pub mod http;
pub mod origin;
pub mod reader;
pub mod server;
pub mod shutdown;
pub mod slots;
pub mod store;
pub mod thread_pool;
pub mod todos;

//! Every integration test but the steps proof (`steps.rs`), one file per
//! subject, in one binary: see `tests/Cargo.toml` for why one.
//!
//! Run one file's tests by its name: `cargo test -p tests gate::`.

mod book;
mod browser;
mod checker;
mod conversation;
mod devlog;
mod final_server;
mod gate;
mod matrix;
mod page;
mod parser_properties;
mod platforms;
mod workshop;

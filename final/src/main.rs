//! `cargo run -p final`: parse the command line, open the store, bind,
//! announce, and serve until Ctrl-C.

// ANCHOR: main_uses
use std::io::{self, Write as _};
use std::process::ExitCode;
// ANCHOR: arc_use
use std::sync::Arc;
// ANCHOR_END: arc_use

use todo_server::app::App;
use todo_server::cli::{self, Command, USAGE};
use todo_server::origin::Policy;
use todo_server::server;
// ANCHOR: shutdown_use
use todo_server::shutdown::{self, Shutdown};
// ANCHOR_END: shutdown_use
// ANCHOR: store_use
use todo_server::store::Store;
// ANCHOR_END: store_use
// ANCHOR_END: main_uses

// ANCHOR: main_config
fn main() -> ExitCode {
    let config = match cli::parse(std::env::args().skip(1), std::env::var("PORT").ok()) {
        Ok(Command::Run(config)) => config,
        // Not `println!`, which panics when nobody reads the text to the
        // end (`final --help | head -3`): see the banner below.
        Ok(Command::Help) => {
            let _ = writeln!(io::stdout(), "{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            let _ = writeln!(io::stderr(), "error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // ANCHOR_END: main_config

    /* STAND-IN: open_store
    // ANCHOR: store_in_memory
    let store = Store::in_memory();
    // ANCHOR_END: store_in_memory
    */
    // ANCHOR: open_store
    let store = match &config.data {
        Some(path) => match Store::open(path) {
            Ok(store) => store,
            Err(message) => {
                let _ = writeln!(io::stderr(), "error: {message}");
                return ExitCode::FAILURE;
            }
        },
        None => Store::in_memory(),
    };
    // ANCHOR_END: open_store

    // ANCHOR: main_listen
    let listener = match server::listen(([127, 0, 0, 1], config.port).into()) {
        Ok(listener) => listener,
        Err(err) => {
            let _ = writeln!(
                io::stderr(),
                "error: cannot listen on 127.0.0.1:{}: {err}",
                config.port
            );
            return ExitCode::FAILURE;
        }
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(err) => {
            let _ = writeln!(
                io::stderr(),
                "error: cannot read the listening address: {err}"
            );
            return ExitCode::FAILURE;
        }
    };
    // ANCHOR_END: main_listen

    // ANCHOR: main_serve
    // Not `println!`, which panics once nobody reads standard output: with
    // `final | head -1`, `head` leaves after the first line, and the server
    // must go on serving.
    let mut out = io::stdout();
    let _ = writeln!(out, "Listening on http://{addr}");
    /* STAND-IN: banner_store
    let _ = writeln!(
        out,
        "To-dos are kept in memory only, and are gone when the server stops."
    );
    */
    // ANCHOR: banner_store
    let _ = match store.file() {
        Some(path) => writeln!(
            out,
            "To-dos are kept in {} ({} loaded).",
            path.display(),
            store.count()
        ),
        None => writeln!(
            out,
            "To-dos are kept in memory only, and are gone when the server stops. Use --data FILE to keep them."
        ),
    };
    // ANCHOR_END: banner_store

    // ANCHOR: signals
    let shutdown = Shutdown::new();
    if let Err(err) = shutdown::on_signals(shutdown.clone()) {
        let _ = writeln!(
            io::stderr(),
            "warning: Ctrl-C will stop the server abruptly: {err}"
        );
    }
    // ANCHOR_END: signals
    let policy = Policy::new(addr, &config.allow_hosts, config.cors.clone());
    let app = App {
        // ANCHOR: app_store
        store: Arc::new(store),
        // ANCHOR_END: app_store
        addr,
        policy,
    };
    let limits = server::Limits {
        threads: config.threads,
        connections: config.connections,
        loops: config.loops.unwrap_or_else(server::one_loop_per_core),
    };
    /* STAND-IN: run_until_stopped
    server::run(listener, app, limits);
    */
    // ANCHOR: run_until_stopped
    server::run(listener, app, limits, shutdown);
    // ANCHOR_END: run_until_stopped
    // Not `println!` either: the server has stopped whoever reads this.
    let _ = writeln!(io::stdout(), "Stopped.");
    ExitCode::SUCCESS
}
// ANCHOR_END: main_serve

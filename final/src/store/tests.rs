//! The store's promises, and the fault tests that try to break them.
//!
//! Each test works in a folder of its own under the system's temporary
//! folder, and every wait is bounded: a test that goes wrong fails with a
//! message, it never hangs.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::faulty_disk::{Faults, Kind};
use super::frame::{self, Frame, MAGIC};
use super::*;

/// How long any one wait in these tests may take before it fails.
const LIMIT: Duration = Duration::from_secs(10);

/// A fresh, empty folder for one test; returns the snapshot's path in it.
fn data_file(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("todo-store-{}-{test}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("can create a temporary folder");
    dir.join("todos.json")
}

fn log_path(path: &Path) -> PathBuf {
    snapshot::beside(path, ".log")
}

/// Joins `handle`, failing the test if the thread takes longer than
/// [`LIMIT`] or panicked.
pub(crate) fn join<T>(handle: JoinHandle<T>) -> T {
    let deadline = Instant::now() + LIMIT;
    while !handle.is_finished() {
        assert!(
            Instant::now() < deadline,
            "a thread did not finish in {LIMIT:?}"
        );
        thread::sleep(Duration::from_millis(1));
    }
    handle.join().expect("the thread did not panic")
}

fn add(store: &Store, title: &str) -> Todo {
    store
        .create(title.into(), false, None)
        .unwrap_or_else(|err| panic!("creating {title:?}: {err}"))
}

/// What a store holds, to compare two of them: the to-dos, and the id
/// the next one would get (which must never go back).
fn contents(store: &Store) -> (Vec<Todo>, u64) {
    (store.list(), store.lock().next_id)
}

fn open(path: &Path) -> Store {
    Store::open(path).unwrap_or_else(|err| panic!("opens: {err}"))
}

fn open_faulty(path: &Path, faults: &Faults) -> Store {
    Store::open_with(path, faults.disk(), Compaction::NEVER)
        .unwrap_or_else(|err| panic!("opens: {err}"))
}

/// Where each record of the log at `path` starts and ends.
fn records(path: &Path) -> Vec<(usize, usize)> {
    let bytes = fs::read(log_path(path)).expect("the log exists");
    let mut at = MAGIC.len();
    let mut found = Vec::new();
    while let Frame::Record { end, .. } = frame::read(&bytes, at) {
        found.push((at, end));
        at = end;
    }
    assert_eq!(at, bytes.len(), "the log ends with a whole record");
    found
}

/// Copies the snapshot and log of `from` into a fresh folder for `test`.
fn copy_files(from: &Path, test: &str) -> PathBuf {
    let to = data_file(test);
    for (source, target) in [
        (from.to_path_buf(), to.clone()),
        (log_path(from), log_path(&to)),
    ] {
        if source.exists() {
            fs::copy(&source, &target).expect("can copy");
        }
    }
    to
}

#[test]
fn ids_are_never_reused() {
    let store = Store::in_memory();
    let first = add(&store, "a");
    store.clear().expect("in memory");
    let second = add(&store, "b");
    assert!(second.id > first.id);

    // Nor after a restart, when the log's last word was a clear.
    let path = data_file("ids");
    let store = open(&path);
    add(&store, "a");
    add(&store, "b");
    store.clear().expect("saved");
    drop(store);
    assert_eq!(add(&open(&path), "c").id, 3);
}

#[test]
fn changes_survive_a_reopen() {
    let path = data_file("reopen");
    let store = open(&path);
    add(&store, "milk");
    add(&store, "eggs");
    let changes = Changes {
        completed: Some(true),
        ..Changes::default()
    };
    store.update(2, changes).expect("saved");
    store.delete(1).expect("saved");
    let before = contents(&store);
    drop(store);

    let reopened = open(&path);
    assert_eq!(contents(&reopened), before);
    assert_eq!(reopened.list()[0].title, "eggs");
    assert!(reopened.list()[0].completed);
    assert_eq!(
        add(&reopened, "bread").id,
        3,
        "the id counter was saved too"
    );
}

#[test]
fn a_corrupt_snapshot_is_refused_and_left_alone() {
    let path = data_file("corrupt");
    fs::write(&path, b"{ not json").expect("can write");
    let err = Store::open(&path).err().expect("refused");
    assert!(err.contains("not a valid to-do file"), "{err}");
    assert_eq!(fs::read(&path).expect("still there"), b"{ not json");
    assert!(!log_path(&path).exists(), "no log was started beside it");
}

#[test]
fn a_data_file_from_before_the_log_opens_with_every_todo() {
    // Exactly what the store wrote before the log (commit 307bb9e).
    let path = data_file("migrate");
    let old = r#"{
  "next_id": 4,
  "todos": {
    "1": { "id": 1, "title": "milk", "completed": false, "order": 2 },
    "3": { "id": 3, "title": "eggs", "completed": true, "order": null }
  }
}"#;
    fs::write(&path, old).expect("can write");
    let store = open(&path);
    let titles: Vec<String> = store.list().into_iter().map(|todo| todo.title).collect();
    assert_eq!(titles, ["milk", "eggs"]);
    assert_eq!(
        fs::read_to_string(&path).expect("kept"),
        old,
        "not rewritten"
    );
    assert_eq!(add(&store, "bread").id, 4, "the old counter goes on");
    store.compact().expect("compacts");
    drop(store);
    assert_eq!(open(&path).list().len(), 3);
}

#[test]
fn a_torn_last_record_at_every_byte_gives_the_state_before_it() {
    let path = data_file("torn");
    let store = open(&path);
    add(&store, "milk");
    add(&store, "eggs");
    let before = contents(&store);
    store
        .update(
            1,
            Changes {
                title: Some("oat milk".into()),
                ..Changes::default()
            },
        )
        .expect("saved");
    drop(store);
    let whole = fs::read(log_path(&path)).expect("the log exists");
    let &(last, end) = records(&path).last().expect("three records");
    assert_eq!(end, whole.len());

    for cut in last..end {
        let torn = copy_files(&path, "torn-copy");
        fs::write(log_path(&torn), &whole[..cut]).expect("can write");
        let store = open(&torn);
        assert_eq!(contents(&store), before, "cut at byte {cut}");
        assert_eq!(
            fs::metadata(log_path(&torn)).expect("exists").len(),
            last as u64,
            "the torn record is cut off (cut at byte {cut})"
        );
        // The next record goes where the torn one was, and is kept.
        add(&store, "bread");
        drop(store);
        assert_eq!(open(&torn).list().len(), 3, "cut at byte {cut}");
    }
}

#[test]
fn a_flipped_byte_in_a_middle_record_is_refused_and_the_file_is_unchanged() {
    let path = data_file("flip");
    let store = open(&path);
    for title in ["milk", "eggs", "bread"] {
        add(&store, title);
    }
    drop(store);
    let whole = fs::read(log_path(&path)).expect("the log exists");
    let (start, end) = records(&path)[1];

    for byte in start..end {
        let damaged_path = copy_files(&path, "flip-copy");
        let mut damaged = whole.clone();
        damaged[byte] ^= 0x01;
        fs::write(log_path(&damaged_path), &damaged).expect("can write");
        let err = Store::open(&damaged_path)
            .err()
            .unwrap_or_else(|| panic!("a flipped byte {byte} must be refused"));
        assert!(
            err.contains(&format!("byte {start}")),
            "names the record: {err}"
        );
        assert!(err.contains("corruption"), "{err}");
        assert_eq!(
            fs::read(log_path(&damaged_path)).expect("still there"),
            damaged,
            "the log is unchanged (flipped byte {byte})"
        );
        // Only the log, and the empty lock file, which is taken before
        // anything is read.
        let mut files: Vec<String> = fs::read_dir(damaged_path.parent().expect("a folder"))
            .expect("readable")
            .filter_map(|entry| Some(entry.ok()?.file_name().to_string_lossy().into_owned()))
            .collect();
        files.sort();
        assert_eq!(
            files,
            ["todos.json.lock", "todos.json.log"],
            "nothing else was created (flipped byte {byte})"
        );
    }
}

#[test]
fn a_log_that_is_not_ours_is_refused_and_left_alone() {
    let path = data_file("foreign");
    fs::write(log_path(&path), b"some other program's file").expect("can write");
    let err = Store::open(&path).err().expect("refused");
    assert!(err.contains("not a to-do log"), "{err}");
    assert_eq!(
        fs::read(log_path(&path)).expect("still there"),
        b"some other program's file"
    );
}

/// A store with some history: creates, an update, a delete.
fn with_history(path: &Path, faults: &Faults) -> Store {
    let store = open_faulty(path, faults);
    make_history(&store);
    store
}

/// The history of [`with_history`], on any store.
fn make_history(store: &Store) {
    for title in ["milk", "eggs", "bread", "tea"] {
        add(store, title);
    }
    store.delete(2).expect("saved");
    let done = Changes {
        completed: Some(true),
        ..Changes::default()
    };
    store.update(3, done).expect("saved");
}

#[test]
fn a_crash_at_every_step_of_compaction_opens_to_the_acknowledged_state() {
    // Twice over: a first compaction from a log alone, then a second one
    // over a snapshot and a log, with more changes in between. Each crash
    // is played twice: as `kill -9` (the files stay as they are), and as
    // a power cut (only what was synced stays).
    let mut steps_seen = Vec::new();
    for (round, power_cut) in [(1, false), (2, false), (1, true), (2, true)] {
        for crash_at in 0.. {
            let path = data_file("compaction-crash");
            let faults = Faults::default();
            let store = with_history(&path, &faults);
            if round == 2 {
                store.compact().expect("the first compaction works");
                add(&store, "jam");
                store.delete(1).expect("saved");
            }
            let acknowledged = contents(&store);
            let before = faults.steps().len();
            faults.fail_in(crash_at, Kind::Crash);
            let result = store.compact();
            let fired = faults.fired();
            drop(store);
            if power_cut {
                faults.cut_power().expect("the files can be put back");
            }

            let reopened = open(&path);
            assert_eq!(
                contents(&reopened),
                acknowledged,
                "round {round}, {} at step {crash_at}: {:?}",
                if power_cut { "power cut" } else { "crash" },
                faults.steps().get(before + crash_at)
            );
            // And the reopened store goes on: a change, a compaction, a
            // change, all kept.
            let next = add(&reopened, "after");
            assert_eq!(next.id, acknowledged.1, "no id is reused");
            reopened.compact().expect("compacts");
            add(&reopened, "later");
            drop(reopened);
            assert_eq!(open(&path).list().len(), acknowledged.0.len() + 2);

            if !fired {
                result.expect("a compaction without faults works");
                steps_seen.push(faults.steps()[before..].to_vec());
                break;
            }
            assert!(result.is_err(), "a crashed compaction reports it");
        }
    }
    // The compaction has the steps the book describes.
    let steps = steps_seen[0].join(", ");
    assert_eq!(
        steps,
        "create todos.json.tmp, append todos.json.tmp, sync todos.json.tmp, \
         rename todos.json.tmp to todos.json, sync the folder, \
         create todos.json.log.tmp, append todos.json.log.tmp, sync todos.json.log.tmp, \
         rename todos.json.log.tmp to todos.json.log, sync the folder"
    );
}

#[test]
fn writes_during_a_compaction_are_kept_in_the_fresh_log() {
    let path = data_file("compaction-writes");
    let faults = Faults::default();
    let store = Arc::new(with_history(&path, &faults));
    // Hold the compaction just before its snapshot takes the real name.
    let (held, go) = faults.hold("rename todos.json.tmp");
    let compaction = {
        let store = Arc::clone(&store);
        thread::spawn(move || store.compact())
    };
    held.recv_timeout(LIMIT)
        .expect("the compaction reaches the rename");
    // Meanwhile, changes go on, and readers see them.
    add(&store, "during 1");
    store.delete(1).expect("saved");
    add(&store, "during 2");
    assert_eq!(store.list().len(), 4);
    go.send(()).expect("the compaction waits");
    join(compaction).expect("the compaction works");

    let acknowledged = contents(&store);
    drop(store);
    assert_eq!(
        records(&path).len(),
        3,
        "the fresh log holds the three changes"
    );
    assert_eq!(contents(&open(&path)), acknowledged);
}

#[test]
fn compaction_starts_on_its_own_when_the_log_outgrows_the_snapshot() {
    let path = data_file("compaction-auto");
    let policy = Compaction {
        min_log_bytes: 2_000,
        ratio: 2,
    };
    let store = Store::open_with(&path, Box::new(disk::RealDisk), policy).expect("opens");
    for n in 0..200 {
        add(&store, &format!("item {n}"));
        if n % 2 == 0 {
            store.delete(n + 1).expect("saved");
        }
    }
    let acknowledged = contents(&store);
    drop(store);
    let log = fs::metadata(log_path(&path)).expect("a log").len();
    let snapshot = fs::metadata(&path).expect("a snapshot was written").len();
    assert!(
        log < 2_000 || log < 2 * snapshot,
        "the log ({log} bytes) was compacted (snapshot {snapshot} bytes)"
    );
    assert_eq!(contents(&open(&path)), acknowledged);
}

#[test]
fn a_failed_write_or_sync_acknowledges_nothing_and_loses_nothing() {
    let path = data_file("write-fault");
    let faults = Faults::default();
    let store = open_faulty(&path, &faults);
    add(&store, "milk");
    add(&store, "eggs");
    let acknowledged = contents(&store);

    // The append fails (half of it reaches the file), then the sync.
    for (step, what) in [(0, "append"), (1, "sync")] {
        faults.fail_in(step, Kind::Once);
        let failed = store.create("lost".into(), false, None);
        assert!(failed.is_err(), "a failed {what} is an error");
        assert!(faults.fired());
        assert_eq!(
            contents(&store),
            acknowledged,
            "nothing applied after a failed {what}"
        );
    }
    // The log was cut back each time, so the store goes on.
    let kept = add(&store, "bread");
    assert_eq!(kept.id, 3, "the failed creates acknowledged no id");
    let acknowledged = contents(&store);
    drop(store);
    assert_eq!(
        contents(&open(&path)),
        acknowledged,
        "nothing lost, nothing extra"
    );
}

#[test]
fn a_crash_or_a_power_cut_at_every_step_of_a_write_keeps_what_was_acknowledged() {
    // From a store whose log is one record old (the first write of its
    // life) and from one with history; a create, a change and a delete.
    type Write = fn(&Store) -> Result<(), SaveError>;
    let writes: [(&str, Write); 3] = [
        ("create", |store| {
            store.create("new".into(), false, None).map(drop)
        }),
        ("update", |store| {
            let changes = Changes {
                title: Some("renamed".into()),
                ..Changes::default()
            };
            store.update(1, changes).map(drop)
        }),
        ("delete", |store| store.delete(1).map(drop)),
    ];
    let young = |store: &Store| drop(add(store, "milk"));
    for power_cut in [false, true] {
        for (what, write) in writes {
            for (age, history) in [("young", young as fn(&Store)), ("old", make_history)] {
                // What the store holds without the write, and with it.
                let model = Store::in_memory();
                history(&model);
                let without = model.list();
                write(&model).expect("a store in memory writes");
                let with = model.list();
                for crash_at in 0.. {
                    let path = data_file("write-crash");
                    let faults = Faults::default();
                    let store = open_faulty(&path, &faults);
                    history(&store);
                    let before = faults.steps().len();
                    faults.fail_in(crash_at, Kind::Crash);
                    let result = write(&store);
                    let fired = faults.fired();
                    drop(store);
                    if power_cut {
                        faults.cut_power().expect("the files can be put back");
                    }
                    let reopened = open(&path).list();
                    // An answered write is kept. A write that failed in
                    // its sync may be there or not: the bytes reached
                    // the file, and whether they reached the disk is
                    // what the failed sync cannot say. Nothing else may
                    // change.
                    let kept = match &result {
                        Ok(()) => reopened == with,
                        Err(_) => reopened == without || reopened == with,
                    };
                    let kind = if power_cut { "power cut" } else { "crash" };
                    assert!(
                        kept,
                        "{what} on a {age} store, {kind} at {:?}, answered {:?}: reopened to {reopened:?}",
                        faults.steps().get(before + crash_at),
                        result.as_ref().map_err(ToString::to_string),
                    );
                    if !fired {
                        result.expect("a write without faults works");
                        break;
                    }
                }
            }
        }
    }
}

#[test]
fn a_failed_undo_stops_writes_and_a_restart_recovers() {
    let path = data_file("undo-fault");
    let faults = Faults::default();
    let store = open_faulty(&path, &faults);
    add(&store, "milk");
    let acknowledged = contents(&store);
    // The append tears, and the disk is gone for good: the undo fails too.
    faults.fail_in(0, Kind::Crash);
    assert!(store.create("torn".into(), false, None).is_err());
    assert_eq!(contents(&store), acknowledged);
    // Even once the disk works again, the log refuses: its end is unknown.
    faults.fail_in(usize::MAX / 2, Kind::Once);
    let refused = store.create("later".into(), false, None);
    let err = refused.expect_err("refused").to_string();
    assert!(err.contains("restart the server"), "{err}");
    drop(store);
    // The restart drops the torn half-record and has every acknowledged one.
    assert_eq!(contents(&open(&path)), acknowledged);
}

#[test]
fn a_change_is_neither_answered_nor_seen_before_its_sync() {
    let path = data_file("before-sync");
    let faults = Faults::default();
    let store = Arc::new(open_faulty(&path, &faults));
    add(&store, "milk");
    let (held, go) = faults.hold("sync todos.json.log");
    let writer = {
        let store = Arc::clone(&store);
        thread::spawn(move || store.create("eggs".into(), false, None))
    };
    held.recv_timeout(LIMIT)
        .expect("the write reaches its sync");
    // The sync is held: the writer has no answer, and readers do not wait
    // for the disk, nor see the change.
    thread::sleep(Duration::from_millis(50));
    assert!(!writer.is_finished(), "answered before its sync");
    assert_eq!(store.list().len(), 1, "visible before its sync");
    go.send(()).expect("the sync waits");
    assert_eq!(join(writer).expect("saved").id, 2);
    assert_eq!(store.list().len(), 2);
}

#[test]
fn writers_that_arrive_together_share_syncs() {
    let path = data_file("group");
    let faults = Faults::default();
    let store = Arc::new(open_faulty(&path, &faults));
    // A slow disk, so that writers pile up behind each sync.
    faults.slow_syncs(Duration::from_millis(5));
    let syncs_before = faults.count("sync todos.json.log");
    let (writers, per_writer) = (8, 20);
    let handles: Vec<_> = (0..writers)
        .map(|writer| {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                (0..per_writer)
                    .map(|n| add(&store, &format!("{writer}-{n}")).id)
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let mut ids: Vec<u64> = handles.into_iter().flat_map(join).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        (1..=writers * per_writer).collect::<Vec<u64>>(),
        "every id once"
    );
    let syncs = faults.count("sync todos.json.log") - syncs_before;
    assert!(
        syncs <= (writers * per_writer / 2) as usize,
        "{syncs} syncs for {} writes: the writers did not share them",
        writers * per_writer
    );
    let acknowledged = contents(&store);
    drop(store);
    assert_eq!(contents(&open(&path)), acknowledged);
}

/// One request over a real socket; the status code of the answer.
fn status_of(addr: SocketAddr, request: &str) -> u16 {
    let mut stream = TcpStream::connect_timeout(&addr, LIMIT).expect("the server accepts");
    stream
        .set_read_timeout(Some(LIMIT))
        .expect("can set a timeout");
    stream.write_all(request.as_bytes()).expect("can send");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .expect("an answer before the timeout");
    answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"))
}

#[test]
fn a_failed_sync_answers_500_over_http_and_the_todo_is_not_there() {
    use crate::app::App;
    use crate::shutdown::Shutdown;

    let path = data_file("http-500");
    let faults = Faults::default();
    let store = open_faulty(&path, &faults);
    let listener = TcpListener::bind("127.0.0.1:0").expect("can listen");
    let addr = listener.local_addr().expect("an address");
    let shutdown = Shutdown::new();
    let server = {
        let shutdown = shutdown.clone();
        let policy = crate::origin::Policy::new(addr, &[], None);
        let app = App {
            store: std::sync::Arc::new(store),
            addr,
            policy,
        };
        thread::spawn(move || {
            let limits = crate::server::Limits {
                threads: 4,
                connections: 16,
                loops: 2,
            };
            crate::server::run(listener, app, limits, shutdown)
        })
    };
    let post = |title: &str| {
        let body = format!(r#"{{"title":"{title}"}}"#);
        format!(
            "POST /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let list = "GET /todos HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

    assert_eq!(status_of(addr, &post("milk")), 201);
    faults.fail_in(1, Kind::Once); // the append works, its sync fails
    assert_eq!(status_of(addr, &post("lost")), 500);
    assert_eq!(status_of(addr, &post("eggs")), 201);
    assert_eq!(status_of(addr, list), 200);

    shutdown.request();
    join(server);
    let store = open(&path);
    let titles: Vec<String> = store.list().into_iter().map(|todo| todo.title).collect();
    assert_eq!(titles, ["milk", "eggs"], "the 500 left nothing behind");
}

#[test]
fn a_log_from_a_crash_mid_batch_replays_to_whole_batches_only() {
    // Many writers, then the process "dies" at a random-looking append:
    // whatever is on disk must open, and hold every acknowledged to-do.
    let path = data_file("crash-mid-batch");
    let faults = Faults::default();
    let store = Arc::new(open_faulty(&path, &faults));
    let (acked, acknowledged) = mpsc::channel();
    faults.fail_in(40, Kind::Crash);
    let handles: Vec<_> = (0..4)
        .map(|writer| {
            let (store, acked) = (Arc::clone(&store), acked.clone());
            thread::spawn(move || {
                for n in 0..30 {
                    if let Ok(todo) = store.create(format!("{writer}-{n}"), false, None) {
                        let _ = acked.send(todo);
                    }
                }
            })
        })
        .collect();
    drop(acked);
    handles.into_iter().for_each(join);
    drop(store);
    let reopened = open(&path);
    let stored = reopened.list();
    let acknowledged: Vec<Todo> = acknowledged.iter().collect();
    assert!(!acknowledged.is_empty());
    for todo in &acknowledged {
        assert!(stored.contains(todo), "acknowledged but lost: {todo:?}");
    }
    let highest = acknowledged.iter().map(|todo| todo.id).max().unwrap_or(0);
    assert!(add(&reopened, "next").id > highest, "no id is reused");
}

#[test]
fn a_second_store_on_the_same_file_is_refused_even_after_a_compaction() {
    let path = data_file("locked");
    let first = open(&path);
    add(&first, "kept");
    // Compaction renames a new snapshot and a new log over the old ones:
    // a lock on either would now be on a file without a name.
    first.compact().expect("compacts");
    add(&first, "after the compaction");
    let refused = Store::open(&path).err().unwrap_or_default();
    assert!(
        refused.contains("in use") && refused.contains(&path.display().to_string()),
        "the second store says the file is taken: {refused:?}"
    );
    // The first store was not disturbed, and its lock goes with it.
    add(&first, "still writing");
    let titles =
        |store: &Store| -> Vec<String> { store.list().into_iter().map(|t| t.title).collect() };
    let before = titles(&first);
    drop(first);
    let second = open(&path);
    assert_eq!(titles(&second), before);
    assert_eq!(before.len(), 3);
}

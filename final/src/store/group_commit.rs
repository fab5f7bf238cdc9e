//! Group commit: writers that arrive while the disk is busy share the
//! next sync.
//!
//! A sync takes a fixed time, whatever it carries, so syncing once per
//! change caps the server at one change per sync, however many clients
//! wait. Here a writer puts its request in a queue. If nobody is saving,
//! it becomes the *leader*: it takes everything queued (its own request
//! and any that came with it), saves them with one append and one sync,
//! hands every writer its answer, and wakes them. Writers that arrive
//! meanwhile queue up behind, and the first of them to wake up leads the
//! next batch, for all of them. With one client a batch is one request;
//! with sixteen, a batch holds up to sixteen, for the price of one sync.
//! LevelDB's `DBImpl::Write` works the same way.
//!
//! The alternative is a dedicated writer thread that owns the log and
//! receives requests over a channel. It batches just as well, but every
//! write then costs two hand-offs between threads even when there is no
//! one to batch with, and the thread must be started and stopped with the
//! store. Here the leader is whichever request thread came first.
//!
//! This module only does the queueing; what "save a batch" means is the
//! closure the store passes in.

// ANCHOR: uses
use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use super::SaveError;
use super::draft::{Op, Outcome};
// ANCHOR_END: uses

// ANCHOR: queue
/// The queue of writers, and who leads.
#[derive(Default)]
pub struct GroupCommit {
    queue: Mutex<Queue>,
    /// Notified whenever a batch is done.
    batch_done: Condvar,
}

#[derive(Default)]
struct Queue {
    /// Requests not yet taken by a leader, in the order they came, each
    /// with its ticket.
    waiting: Vec<(u64, Op)>,
    next_ticket: u64,
    /// Answers not yet collected by their writers, by ticket.
    answers: HashMap<u64, Result<Outcome, SaveError>>,
    /// Whether a leader is saving a batch right now.
    leading: bool,
}

/// Saves a batch: answers for the requests, in their order.
pub type SaveBatch<'a> = dyn FnMut(Vec<Op>) -> Vec<Result<Outcome, SaveError>> + 'a;
// ANCHOR_END: queue

impl GroupCommit {
    // ANCHOR: write
    /// Queues `op`, and returns its answer once a batch that holds it has
    /// been saved with `save`, by this thread or another.
    pub fn write(&self, op: Op, save: &mut SaveBatch<'_>) -> Result<Outcome, SaveError> {
        let mut queue = self.lock();
        let ticket = queue.next_ticket;
        queue.next_ticket += 1;
        queue.waiting.push((ticket, op));
        loop {
            if let Some(answer) = queue.answers.remove(&ticket) {
                return answer;
            }
            if queue.leading {
                // Someone is saving; our request waits for the next batch
                // (or is in this one). Either way, a batch will finish.
                queue = self
                    .batch_done
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            // Nobody is saving: lead. Take every waiting request, and let
            // go of the queue while saving, so that others can join the
            // next batch meanwhile.
            queue.leading = true;
            let (tickets, ops): (Vec<u64>, Vec<Op>) = queue.waiting.drain(..).unzip();
            drop(queue);
            let mut leader = Leader {
                group: self,
                tickets,
                answers: None,
            };
            leader.answers = Some(save(ops));
            drop(leader); // hands out the answers and wakes everyone
            queue = self.lock();
        }
    }
    // ANCHOR_END: write

    // ANCHOR: lock
    /// The queue, even if a thread panicked while holding it: only this
    /// module holds it, for a few pushes and pops that leave it whole.
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
    // ANCHOR_END: lock
}

// ANCHOR: leader
/// The leader's duty to hand out answers, done on drop, so that it is
/// also done if saving panics: the batch's writers then get an error
/// instead of waiting for ever, and the next writer can lead.
struct Leader<'a> {
    group: &'a GroupCommit,
    tickets: Vec<u64>,
    answers: Option<Vec<Result<Outcome, SaveError>>>,
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        let mut answers = self.answers.take().unwrap_or_default().into_iter();
        let mut queue = self.group.lock();
        for ticket in self.tickets.drain(..) {
            let answer = answers.next().unwrap_or_else(|| {
                Err(SaveError::new(
                    "the thread saving this change stopped before it finished",
                ))
            });
            queue.answers.insert(ticket, answer);
        }
        queue.leading = false;
        self.group.batch_done.notify_all();
    }
}
// ANCHOR_END: leader

#[cfg(test)]
mod tests {
    use std::sync::{Arc, mpsc};
    use std::thread;
    use std::time::Duration;

    use super::*;

    fn op(n: u64) -> Op {
        Op::Delete { id: n }
    }

    /// An answer that carries the id the op asked about.
    fn answer(op: &Op) -> Result<Outcome, SaveError> {
        match op {
            Op::Delete { id } => Ok(Outcome {
                todo: None,
                found: *id % 2 == 0,
            }),
            _ => Err(SaveError::new("unexpected op")),
        }
    }

    #[test]
    fn a_panicking_leader_fails_its_batch_and_the_next_writer_leads() {
        let group = GroupCommit::default();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            group.write(op(1), &mut |_| panic!("saving panics"))
        }));
        assert!(caught.is_err());
        let answer = group.write(op(2), &mut |ops| ops.iter().map(answer).collect());
        assert!(answer.is_ok_and(|outcome| outcome.found));
    }

    #[test]
    fn writers_that_arrive_during_a_save_share_the_next_one() {
        let group = Arc::new(GroupCommit::default());
        let (entered, saving) = mpsc::channel();
        let (release, go) = mpsc::channel::<()>();
        let batches = Arc::new(Mutex::new(Vec::new()));

        // The first writer leads, and its save waits until we say go.
        let first = {
            let (group, batches) = (Arc::clone(&group), Arc::clone(&batches));
            thread::spawn(move || {
                group.write(op(0), &mut |ops| {
                    let _ = entered.send(());
                    let _ = go.recv_timeout(Duration::from_secs(10));
                    batches.lock().expect("no panic").push(ops.len());
                    ops.iter().map(answer).collect()
                })
            })
        };
        saving
            .recv_timeout(Duration::from_secs(10))
            .expect("the first writer leads at once");
        // Three more writers arrive while the first save runs.
        let (done, answers) = mpsc::channel();
        for n in 1..=3 {
            let (group, batches, done) = (Arc::clone(&group), Arc::clone(&batches), done.clone());
            thread::spawn(move || {
                let answer = group.write(op(n), &mut |ops| {
                    batches.lock().expect("no panic").push(ops.len());
                    ops.iter().map(answer).collect()
                });
                let _ = done.send((n, answer.map(|outcome| outcome.found)));
            });
        }
        // They are queued, not answered, while the save is held up.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while group.lock().waiting.len() < 3 {
            assert!(
                std::time::Instant::now() < deadline,
                "the writers never queued"
            );
            thread::yield_now();
        }
        assert!(answers.try_recv().is_err(), "nobody is answered early");
        release.send(()).expect("the leader waits");
        for _ in 0..3 {
            let (n, found) = answers
                .recv_timeout(Duration::from_secs(10))
                .expect("every writer is answered");
            assert_eq!(found.expect("saved"), n % 2 == 0, "writer {n}'s own answer");
        }
        let _ = crate::store::tests::join(first);
        assert_eq!(
            *batches.lock().expect("no panic"),
            [1, 3],
            "one save for three"
        );
    }
}

//! Group commits for the sessions of one send operation: each session hands over the outcomes
//! it has and the messages it wants made ready; whichever requests are waiting when the store
//! is free are done together in one unsynced commit (outcomes recorded, next messages read and
//! marked `Sending`), and rendering follows outside the store's lock. With several sessions
//! this turns many small commits into a few larger ones, which write far fewer pages per
//! message. The log is synced after the answers have gone out, once [`SYNC_EVERY`] has passed
//! since the last sync, so no session waits for the disk.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use mailroom_smtp::Dsn;
use std::time::Instant;

use mailroom_store::{Durability, Entry, SendState, Store};
use tokio::sync::oneshot;

use super::prepare::{self, Loaded, Prepared};
use super::{Outcome, SYNC_EVERY};
use crate::error::{Error, ErrorKind, chain};

/// A message ready to send, or one that failed while loading.
pub(super) type Readied = Result<Prepared, Box<Entry>>;

/// The answer to a request, to be collected.
pub(super) struct Answer(oneshot::Receiver<Result<Vec<Readied>, Error>>);

impl Answer {
    /// Waits for the answer.
    pub(super) async fn wait(self) -> Result<Vec<Readied>, Error> {
        self.0.await.unwrap_or_else(|_| Err(stopped()))
    }

    /// The answer if it has come, without waiting.
    pub(super) fn ready(&mut self) -> Option<Result<Vec<Readied>, Error>> {
        match self.0.try_recv() {
            Ok(answer) => Some(answer),
            Err(oneshot::error::TryRecvError::Empty) => None,
            Err(oneshot::error::TryRecvError::Closed) => Some(Err(stopped())),
        }
    }
}

fn stopped() -> Error {
    Error::new(ErrorKind::Store, "the recording task stopped")
}

/// One session's request.
struct Request {
    outcomes: Vec<Outcome>,
    next: Vec<Entry>,
    allow_8bit: bool,
    dsn: Option<Dsn>,
    reply: oneshot::Sender<Result<Vec<Readied>, Error>>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Request>,
    /// Whether a blocking task is taking requests from the queue.
    draining: bool,
}

/// Records outcomes and readies messages for every session of a send operation.
pub(super) struct Recorder {
    store: Arc<Store>,
    owner: String,
    queue: Mutex<Queue>,
    /// When the log was last synced.
    synced: Mutex<Instant>,
    /// Why a sync that nobody waited for failed: the next request fails with it.
    failed: Mutex<Option<String>>,
    /// Whether such a sync is under way.
    syncing: AtomicBool,
}

impl Recorder {
    pub(super) fn new(store: Arc<Store>, owner: String) -> Recorder {
        Recorder {
            store,
            owner,
            queue: Mutex::new(Queue::default()),
            synced: Mutex::new(Instant::now()),
            failed: Mutex::new(None),
            syncing: AtomicBool::new(false),
        }
    }

    /// Hands over `outcomes` to record and `next` to read and mark `Sending`, in one commit
    /// that reaches the log at once and is synced within [`SYNC_EVERY`]; the answer is `next`
    /// made ready, in order. `allow_8bit` and `dsn` are the session's, for the envelopes and
    /// rendering.
    pub(super) fn submit(
        self: &Arc<Self>,
        outcomes: Vec<Outcome>,
        next: Vec<Entry>,
        allow_8bit: bool,
        dsn: Option<Dsn>,
    ) -> Answer {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            outcomes,
            next,
            allow_8bit,
            dsn,
            reply,
        };
        let start = {
            let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            queue.waiting.push(request);
            !std::mem::replace(&mut queue.draining, true)
        };
        if start {
            let me = self.clone();
            tokio::task::spawn_blocking(move || me.drain());
        }
        Answer(answer)
    }

    /// Makes every commit so far durable (at the end of a send operation).
    pub(super) async fn settle(self: &Arc<Self>) -> Result<(), Error> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.sync())
            .await
            .map_err(|_| stopped())?
    }

    fn sync(&self) -> Result<(), Error> {
        let mut synced = self.synced.lock().unwrap_or_else(|p| p.into_inner());
        self.store.sync()?;
        *synced = Instant::now();
        Ok(())
    }

    /// Takes requests until none is waiting.
    fn drain(self: &Arc<Self>) {
        let _reset = Reset(&self.queue);
        loop {
            let group = {
                let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
                if queue.waiting.is_empty() {
                    queue.draining = false;
                    return;
                }
                std::mem::take(&mut queue.waiting)
            };
            self.commit(group);
        }
    }

    /// One commit for a group of requests, then the rendering, then the answers.
    fn commit(self: &Arc<Self>, mut group: Vec<Request>) {
        if let Some(why) = self.failed.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let error = Error::new(ErrorKind::Store, "syncing the message store failed")
                .with_source(Shared(why));
            return self.refuse(group, error);
        }
        let nexts: Vec<Vec<Entry>> = group
            .iter_mut()
            .map(|r| std::mem::take(&mut r.next))
            .collect();
        match self.record_and_load(&group, &nexts) {
            Ok(loaded) => {
                for ((request, next), mine) in group.into_iter().zip(nexts).zip(loaded) {
                    let ready = next
                        .into_iter()
                        .zip(mine)
                        .map(|(entry, one)| {
                            prepare::ready(
                                &self.store,
                                entry,
                                one,
                                request.allow_8bit,
                                request.dsn.clone(),
                            )
                        })
                        .collect();
                    let _ = request.reply.send(Ok(ready));
                }
                self.sync_if_due();
            }
            Err(e) => self.refuse(group, e),
        }
    }

    /// In one unsynced commit: records the group's outcomes, reads the messages in `nexts` and
    /// marks those that could be read `Sending`. Returns what was read, request by request.
    fn record_and_load(
        &self,
        group: &[Request],
        nexts: &[Vec<Entry>],
    ) -> Result<Vec<Vec<Result<Loaded, Error>>>, Error> {
        if group.iter().all(|r| r.outcomes.is_empty()) && nexts.iter().all(Vec::is_empty) {
            return Ok(nexts.iter().map(|_| Vec::new()).collect());
        }
        let loaded = self.store.batch_with(Durability::Relaxed, |b| {
            for (entry, move_to) in group.iter().flat_map(|r| &r.outcomes) {
                finish_unless_deleted(b, entry, &self.owner, *move_to)?;
            }
            let mut sending = Vec::new();
            let mut loaded = Vec::with_capacity(nexts.len());
            for next in nexts {
                let mut mine = Vec::with_capacity(next.len());
                for entry in next {
                    let one = prepare::load(b, entry)?;
                    if one.is_ok() {
                        sending.push(entry.id);
                    }
                    mine.push(one);
                }
                loaded.push(mine);
            }
            b.set_send_states(&sending, &self.owner, SendState::Sending)?;
            Ok(loaded)
        })?;
        Ok(loaded)
    }

    /// Syncs the log once [`SYNC_EVERY`] has passed since the last sync, on a thread of its own
    /// so that the next group's commit goes on meanwhile.
    fn sync_if_due(self: &Arc<Self>) {
        let due = self
            .synced
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .elapsed()
            >= SYNC_EVERY;
        if !due || self.syncing.swap(true, Ordering::SeqCst) {
            return;
        }
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = me.sync() {
                // Nobody waits for this sync: the next request hears of the failure.
                *me.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(chain(&e));
            }
            me.syncing.store(false, Ordering::SeqCst);
        });
    }

    /// Fails every request of a group with `error` (the first gets it, the others a copy).
    fn refuse(&self, group: Vec<Request>, error: Error) {
        let text = chain(&error);
        let mut first = Some(error);
        for request in group {
            let error = first.take().unwrap_or_else(|| {
                Error::new(ErrorKind::Store, "message store").with_source(Shared(text.clone()))
            });
            let _ = request.reply.send(Err(error));
        }
    }
}

/// Records a message's outcome, unless the message was deleted while it was being sent:
/// nothing is left to record it on, and the other outcomes of the commit must not be lost.
pub(super) fn finish_unless_deleted(
    b: &mut mailroom_store::Batch<'_>,
    entry: &Entry,
    owner: &str,
    move_to: Option<mailroom_store::EntryId>,
) -> mailroom_store::Result<()> {
    match b.finish(entry, owner, move_to) {
        Err(mailroom_store::StoreError::NotFound(id)) => {
            tracing::warn!(%id, "a message was deleted while it was being sent");
            Ok(())
        }
        other => other,
    }
}

/// If draining panics, the requests still waiting fail (their senders see the recording
/// task stop) and the next request starts a new drain.
struct Reset<'a>(&'a Mutex<Queue>);

impl Drop for Reset<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut queue = self.0.lock().unwrap_or_else(|p| p.into_inner());
            queue.draining = false;
            queue.waiting.clear();
        }
    }
}

/// A failure passed on as text (to the other requests of a failed commit, or after a sync
/// nobody waited for).
#[derive(Debug)]
struct Shared(String);

impl std::fmt::Display for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Shared {}

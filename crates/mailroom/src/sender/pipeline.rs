//! One leased batch, pipelined: while messages are on the wire, a blocking thread records the
//! outcomes so far and gets the next few messages ready (loaded and marked `Sending`) in one
//! commit, so the disk work of a message overlaps the network work of others.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use mailroom_smtp::{ClientConfig, Dsn, Session};
use mailroom_store::{Durability, Entry, EntryId, SendState, Store};
use tracing::{info, warn};

use super::prepare::{self, Prepared};
use tokio::task::JoinHandle;

use super::{Outcome, Run, SYNC_EVERY, Sender, outcome};
use crate::error::Error;
use crate::report::MessageReport;

/// A message ready to send, or one that failed while loading.
type Readied = Result<Prepared, Box<Entry>>;

/// How many messages are made ready (and marked `Sending`) in one commit. A sender that dies
/// leaves at most about twice this many messages `Uncertain`.
pub(super) const AHEAD: usize = 8;

fn joined<T>(r: Result<Result<T, Error>, tokio::task::JoinError>) -> Result<T, Error> {
    r.map_err(|e| Error::input("recording failed").with_source(e))?
}

/// What the blocking thread needs to record outcomes and ready the next message.
struct Job {
    store: Arc<Store>,
    owner: String,
    allow_8bit: bool,
    dsn: Option<Dsn>,
}

impl Job {
    /// In one commit: records `outcomes`, and marks the `next` messages (once loaded) as
    /// `Sending`.
    fn run(
        &self,
        outcomes: Vec<Outcome>,
        next: Vec<Entry>,
        durability: Durability,
    ) -> Result<Vec<Readied>, Error> {
        let ready: Vec<Readied> = next
            .into_iter()
            .map(|entry| prepare::prepare(&self.store, entry, self.allow_8bit, self.dsn.clone()))
            .collect();
        if outcomes.is_empty() && ready.is_empty() {
            if durability == Durability::Full {
                self.store.sync()?;
            }
            return Ok(ready);
        }
        self.store.batch_with(durability, |b| {
            for (entry, move_to) in &outcomes {
                b.finish(entry, &self.owner, *move_to)?;
            }
            for prepared in ready.iter().flatten() {
                b.set_send_state(prepared.entry.id, &self.owner, SendState::Sending)?;
            }
            Ok(())
        })?;
        Ok(ready)
    }
}

impl Sender {
    /// Sends the messages of one leased batch and records their outcomes.
    pub(super) async fn chunk(
        &self,
        config: &ClientConfig,
        run: &mut Run,
        claimed: Vec<Entry>,
    ) -> Result<(), Error> {
        let mut queue: VecDeque<Entry> = claimed.into();
        let Some(first) = queue.pop_front() else {
            return Ok(());
        };
        self.ensure_session(config, run).await;
        if let Some(error) = &run.unreachable {
            // Nothing can be sent: each message keeps waiting, with the reason recorded.
            let outcomes: Vec<Outcome> = std::iter::once(first)
                .chain(queue)
                .map(|entry| (self.unreachable(entry, error), None))
                .collect();
            for (entry, _) in &outcomes {
                self.report(run, entry, None);
            }
            self.store.batch_with(Durability::Full, |b| {
                for (entry, move_to) in &outcomes {
                    b.finish(entry, &self.owner, *move_to)?;
                }
                Ok(())
            })?;
            run.last_sync = Instant::now();
            return Ok(());
        }
        let allow_8bit = run
            .session
            .as_ref()
            .is_some_and(|s| s.capabilities().eight_bit_mime());
        let job = Arc::new(Job {
            store: self.store.clone(),
            owner: self.owner.clone(),
            allow_8bit,
            dsn: self.settings.dsn.to_dsn()?,
        });
        queue.push_front(first);
        let mut ready: VecDeque<Readied> = VecDeque::new();
        let mut outcomes: Vec<Outcome> = Vec::new();
        let mut running: Option<JoinHandle<Result<Vec<Readied>, Error>>> = None;
        let mut renewed = Instant::now();
        loop {
            if running.is_none() && ready.len() <= AHEAD / 2 && !queue.is_empty() {
                let next: Vec<Entry> = queue.drain(..AHEAD.min(queue.len())).collect();
                let durability = self.durability(run);
                let handle = job.clone();
                let recorded = std::mem::take(&mut outcomes);
                running = Some(tokio::task::spawn_blocking(move || {
                    handle.run(recorded, next, durability)
                }));
            }
            if ready.is_empty() || running.as_ref().is_some_and(JoinHandle::is_finished) {
                match running.take() {
                    Some(handle) => ready.extend(joined(handle.await)?),
                    None if ready.is_empty() => break,
                    None => {}
                }
            }
            let Some(current) = ready.pop_front() else {
                continue;
            };
            if self.stop.is_stopped() {
                // Stop before the next transaction: what was made ready goes back as it was.
                ready.push_front(current);
                if let Some(handle) = running.take() {
                    ready.extend(joined(handle.await)?);
                }
                for readied in ready.drain(..) {
                    outcomes.push(match readied {
                        Ok(prepared) => {
                            let mut entry = prepared.entry;
                            entry.send_state = prepared.previous;
                            (entry, None)
                        }
                        Err(failed) => (*failed, None),
                    });
                }
                outcomes.extend(queue.drain(..).map(|entry| (entry, None)));
                break;
            }
            if renewed.elapsed() > self.lease / 3 {
                let readied = ready.iter().map(|r| match r {
                    Ok(p) => p.entry.id,
                    Err(e) => e.id,
                });
                let ids: Vec<EntryId> = queue.iter().map(|e| e.id).chain(readied).collect();
                self.renew(&ids)?;
                renewed = Instant::now();
            }
            let done = match current {
                Err(failed) => (*failed, None),
                Ok(prepared) => self.transact(config, run, prepared).await,
            };
            self.report(run, &done.0, done.1);
            outcomes.push(done);
        }
        // Every outcome recorded, and synced: the batch is settled.
        let handle = job.clone();
        let done =
            tokio::task::spawn_blocking(move || handle.run(outcomes, Vec::new(), Durability::Full));
        joined(done.await)?;
        run.last_sync = Instant::now();
        Ok(())
    }

    /// Synced every [`SYNC_EVERY`], unsynced in between.
    fn durability(&self, run: &mut Run) -> Durability {
        if run.last_sync.elapsed() >= SYNC_EVERY {
            run.last_sync = Instant::now();
            Durability::Full
        } else {
            Durability::Relaxed
        }
    }

    /// Opens the session if it is not open (and no earlier attempt failed in this run).
    async fn ensure_session(&self, config: &ClientConfig, run: &mut Run) {
        if run.unreachable.is_some() || run.session.as_ref().is_some_and(Session::is_open) {
            return;
        }
        let observer: Arc<dyn mailroom_smtp::Observer> = self.progress.clone();
        match Session::connect(config, Some(observer)).await {
            Ok(s) => {
                run.session = Some(s);
                run.in_session = 0;
            }
            Err(e) => {
                warn!(error = %e, "cannot open an SMTP session");
                run.unreachable = Some(e);
            }
        }
    }

    /// The transaction of one ready message, and its outcome.
    async fn transact(&self, config: &ClientConfig, run: &mut Run, prepared: Prepared) -> Outcome {
        let Prepared {
            mut entry,
            previous,
            envelope,
            slots,
            body,
        } = prepared;
        let index = run.reports.len();
        self.progress.update(|p| {
            p.index = index;
            p.message = Some(entry.id);
            p.bytes_sent = 0;
            p.bytes_total = entry.size;
        });
        let limit = self.settings.messages_per_connection;
        if limit > 0 && run.in_session >= limit {
            // The server's limit of messages per connection: a fresh session for the next.
            if let Some(session) = run.session.take() {
                let _ = session.quit().await;
            }
        }
        self.ensure_session(config, run).await;
        let session = match (&run.unreachable, run.session.as_mut()) {
            (None, Some(session)) => session,
            (error, _) => {
                entry.send_state = previous;
                let error = error.as_ref().expect("no session without an error");
                return (self.unreachable(entry, error), None);
            }
        };
        info!(id = %entry.id, recipients = envelope.recipients.len(), bytes = entry.size, "sending");
        let result = session.send(&envelope, body, Some(entry.size)).await;
        run.in_session += 1;
        if let Err(e) = &result {
            warn!(id = %entry.id, error = %e, "transaction failed");
        }
        let now = (self.clock)();
        let mut error = outcome::apply(&mut entry, &slots, result, now);
        let state = outcome::next_state(&mut entry, &self.retry, now);
        if error.is_none() {
            error = outcome::recipients_error(&entry);
        }
        entry.send_state = Some(state);
        entry.error = error;
        let move_to = (state == SendState::Sent).then_some(EntryId::SENT);
        (entry, move_to)
    }

    /// No session could be opened: the message keeps waiting for the next connection (a
    /// deferred one gets its next retry time).
    fn unreachable(&self, mut entry: Entry, error: &mailroom_smtp::Error) -> Entry {
        entry.error = Some(outcome::session_error(error));
        if entry.send_state == Some(SendState::Resend) {
            entry.scheduled = self.retry.next_attempt(entry.date, (self.clock)());
        }
        entry
    }

    /// Counts a message's outcome in the progress.
    fn report(&self, run: &mut Run, entry: &Entry, _move_to: Option<EntryId>) {
        let report = MessageReport::from_entry(entry);
        self.progress.update(|p| {
            if report.delivered() {
                p.sent += 1;
            } else if report.state == SendState::Failed {
                p.failed += 1;
            } else {
                p.not_sent += 1;
            }
            p.error = report.error.as_ref().map(|e| e.message.clone());
        });
        run.reports.push(report);
    }
}

//! One leased batch, pipelined: while messages are on the wire, the recorder records the
//! outcomes so far and gets the next few messages ready (loaded and marked `Sending`) in one
//! commit, shared with the other sessions' requests, so the disk work of a message overlaps
//! the network work of others.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use mailroom_smtp::{ClientConfig, Session};
use mailroom_store::{Durability, Entry, EntryId, SendState};
use tracing::{info, warn};

use super::prepare::Prepared;
use super::recorder::{Answer, Readied};

use super::{Outcome, Run, Sender, outcome};
use crate::error::Error;
use crate::report::MessageReport;

/// How many messages are made ready (and marked `Sending`) in one request. A sender that dies
/// leaves at most about twice this many messages per session `Uncertain`.
pub(super) const AHEAD: usize = 8;

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
            return Ok(());
        }
        let allow_8bit = run
            .session
            .as_ref()
            .is_some_and(|s| s.capabilities().eight_bit_mime());
        let dsn = self.settings.dsn.to_dsn()?;
        let recorder = run.recorder.clone();
        queue.push_front(first);
        let mut ready: VecDeque<Readied> = VecDeque::new();
        let mut outcomes: Vec<Outcome> = Vec::new();
        let mut running: Option<Answer> = None;
        let mut renewed = Instant::now();
        loop {
            if running.is_none() && ready.len() <= AHEAD / 2 && !queue.is_empty() {
                let next: Vec<Entry> = queue.drain(..AHEAD.min(queue.len())).collect();
                let recorded = std::mem::take(&mut outcomes);
                running = Some(recorder.submit(recorded, next, allow_8bit, dsn.clone()));
            }
            if ready.is_empty() {
                match running.take() {
                    Some(answer) => ready.extend(answer.wait().await?),
                    None => break,
                }
            } else if let Some(answer) = running.as_mut()
                && let Some(done) = answer.ready()
            {
                running = None;
                ready.extend(done?);
            }
            let Some(current) = ready.pop_front() else {
                continue;
            };
            if self.stop.is_stopped() {
                // Stop before the next transaction: what was made ready goes back as it was.
                ready.push_front(current);
                if let Some(answer) = running.take() {
                    ready.extend(answer.wait().await?);
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
        // Every outcome recorded (synced by the next claim, by the recorder within its interval,
        // or when the operation ends).
        recorder
            .submit(outcomes, Vec::new(), allow_8bit, dsn)
            .wait()
            .await?;
        Ok(())
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

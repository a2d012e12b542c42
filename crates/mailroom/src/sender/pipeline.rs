//! One leased batch, pipelined: while messages are on the wire, the recorder records the
//! outcomes so far and gets the next few messages ready (loaded and marked `Sending`) in one
//! commit, shared with the other sessions' requests, so the disk work of a message overlaps
//! the network work of others.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use mailroom_smtp::{ClientConfig, Delivery, Outgoing, Session};
use mailroom_store::{Durability, Entry, EntryId, SendState};
use tracing::{debug, info, warn};

use crate::body::Body;

use super::prepare::Prepared;
use super::recorder::{Answer, Readied, Recorder};

use super::{Outcome, Run, Sender, outcome};
use crate::error::Error;
use crate::report::MessageReport;

/// How many messages are made ready (and marked `Sending`) in one request. A sender that dies
/// leaves at most about twice this many messages per session `Uncertain`.
pub(super) const AHEAD: usize = 8;

/// A message on the wire: returned with its outcome.
struct Tag {
    entry: Entry,
    previous: Option<SendState>,
    slots: Vec<usize>,
}

/// What the closures of one `send_batch` share with the loop around it.
struct Feed {
    /// Leased messages not yet handed to the recorder.
    queue: VecDeque<Entry>,
    /// Messages made ready (marked `Sending`), in order.
    ready: VecDeque<Readied>,
    /// Outcomes not yet handed to the recorder.
    outcomes: Vec<Outcome>,
    /// The recorder's answer still to come, if a request is out.
    running: Option<Answer>,
    renewed: Instant,
    /// Messages handed out and not yet answered.
    in_flight: usize,
    /// Messages sent back for a fresh session once (their transaction never reached content).
    retried: HashSet<EntryId>,
    /// The session broke: hand out nothing more on it.
    broken: bool,
    /// A failure of the store (renewing leases), ending the chunk.
    failed: Option<Error>,
}

impl Sender {
    /// Sends the messages of one leased batch and records their outcomes.
    pub(super) async fn chunk(
        &self,
        config: &ClientConfig,
        run: &mut Run,
        claimed: Vec<Entry>,
    ) -> Result<(), Error> {
        if claimed.is_empty() {
            return Ok(());
        }
        self.ensure_session(config, run).await;
        if let Some(error) = &run.unreachable {
            let outcomes = self.left_waiting(claimed, error, &mut run.reports);
            self.store.batch_with(Durability::Full, |b| {
                for (entry, move_to) in &outcomes {
                    super::recorder::finish_unless_deleted(b, entry, &self.owner, *move_to)?;
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
        let feed = Mutex::new(Feed {
            queue: claimed.into(),
            ready: VecDeque::new(),
            outcomes: Vec::new(),
            running: None,
            renewed: Instant::now(),
            in_flight: 0,
            retried: HashSet::new(),
            broken: false,
            failed: None,
        });
        let lock = || feed.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            // Messages to send, waiting for the recorder only when none is ready.
            let waiting = {
                let mut f = lock();
                self.top_up(&mut f, &recorder, allow_8bit, &dsn)?;
                if f.ready.is_empty() {
                    f.running.take()
                } else {
                    None
                }
            };
            if let Some(answer) = waiting {
                let readied = answer.wait().await?;
                lock().ready.extend(readied);
            }
            {
                let mut f = lock();
                // Messages that could not be loaded fail without the network.
                while let Some(Err(_)) = f.ready.front() {
                    let Some(Err(failed)) = f.ready.pop_front() else {
                        unreachable!()
                    };
                    self.report(&mut run.reports, &failed);
                    f.outcomes.push((*failed, None));
                }
                if f.ready.is_empty() {
                    if f.queue.is_empty() && f.running.is_none() {
                        break;
                    }
                    continue;
                }
            }
            if self.stop.is_stopped() {
                // Stop before the next transaction: what was made ready goes back as it was.
                let (left, failed) = take_back(&feed).await?;
                let outcomes = left.into_iter().chain(failed).map(|entry| (entry, None));
                lock().outcomes.extend(outcomes);
                break;
            }
            let limit = self.settings.messages_per_connection;
            if limit > 0 && run.in_session >= limit {
                // The server's limit of messages per connection: a fresh session for the next.
                if let Some(session) = run.session.take() {
                    let _ = session.quit().await;
                }
            }
            self.ensure_session(config, run).await;
            let Run {
                session,
                unreachable,
                reports,
                in_session,
                ..
            } = &mut *run;
            let Some(session) = session.as_mut().filter(|_| unreachable.is_none()) else {
                let error = unreachable.as_ref().expect("no session without an error");
                let (left, failed) = take_back(&feed).await?;
                let mut outcomes = self.left_waiting(left, error, reports);
                for entry in failed {
                    self.report(reports, &entry);
                    outcomes.push((entry, None));
                }
                lock().outcomes.extend(outcomes);
                break;
            };
            lock().broken = false;
            let reports = Mutex::new(reports);
            session
                .send_batch(
                    || {
                        let mut f = lock();
                        let limit_reached = limit > 0 && *in_session >= limit;
                        if f.broken || limit_reached || self.stop.is_stopped() {
                            return None;
                        }
                        if let Err(e) = self.top_up(&mut f, &recorder, allow_8bit, &dsn) {
                            f.failed = Some(e);
                            return None;
                        }
                        let Some(Ok(_)) = f.ready.front() else {
                            // Nothing ready without waiting (or a failed one to record first).
                            return None;
                        };
                        let Some(Ok(prepared)) = f.ready.pop_front() else { unreachable!() };
                        let ahead = f.in_flight;
                        f.in_flight += 1;
                        *in_session += 1;
                        Some(self.hand_out(prepared, ahead))
                    },
                    |tag: Tag, result| {
                        let mut f = lock();
                        f.in_flight -= 1;
                        if let Err(e) = &result
                            && !matches!(
                                e.kind(),
                                mailroom_smtp::ErrorKind::Rejected | mailroom_smtp::ErrorKind::Input
                            )
                        {
                            // The session broke: nothing more goes out on it.
                            f.broken = true;
                            if never_reached_content(e) && f.retried.insert(tag.entry.id) {
                                // Sent again on a fresh session (it was never transmitted).
                                debug!(id = %tag.entry.id, error = %e, "transaction cut short before its content; again on a fresh session");
                                let mut entry = tag.entry;
                                entry.send_state = tag.previous;
                                f.queue.push_front(entry);
                                return;
                            }
                        }
                        let done = self.settle(tag, result);
                        let mut reports = reports.lock().unwrap_or_else(|p| p.into_inner());
                        self.report(&mut reports, &done.0);
                        f.outcomes.push(done);
                    },
                )
                .await;
            if let Some(e) = lock().failed.take() {
                return Err(e);
            }
        }
        // Every outcome recorded (synced by the next claim, by the recorder within its interval,
        // or when the operation ends).
        let outcomes = std::mem::take(&mut lock().outcomes);
        recorder
            .submit(outcomes, Vec::new(), allow_8bit, dsn)
            .wait()
            .await?;
        Ok(())
    }

    /// Collects the recorder's answer if it has come, renews leases when due, and asks for
    /// more messages (handing over the outcomes so far) when few are ready.
    fn top_up(
        &self,
        f: &mut Feed,
        recorder: &Arc<Recorder>,
        allow_8bit: bool,
        dsn: &Option<mailroom_smtp::Dsn>,
    ) -> Result<(), Error> {
        if let Some(answer) = f.running.as_mut()
            && let Some(readied) = answer.ready()
        {
            f.running = None;
            f.ready.extend(readied?);
        }
        if f.renewed.elapsed() > self.lease / 3 {
            let readied = f.ready.iter().map(|r| match r {
                Ok(p) => p.entry.id,
                Err(e) => e.id,
            });
            let ids: Vec<EntryId> = f.queue.iter().map(|e| e.id).chain(readied).collect();
            self.renew(&ids)?;
            f.renewed = Instant::now();
        }
        if f.running.is_none() && f.ready.len() <= AHEAD / 2 && !f.queue.is_empty() {
            let next: Vec<Entry> = f.queue.drain(..AHEAD.min(f.queue.len())).collect();
            let recorded = std::mem::take(&mut f.outcomes);
            f.running = Some(recorder.submit(recorded, next, allow_8bit, dsn.clone()));
        }
        Ok(())
    }

    /// Starts the transaction of a ready message: progress, log line, and what the engine needs.
    /// `ahead` is how many of this session's messages are still on the wire before this one.
    fn hand_out(&self, prepared: Prepared, ahead: usize) -> Outgoing<Tag, Body> {
        let Prepared {
            entry,
            previous,
            envelope,
            slots,
            body,
        } = prepared;
        self.progress.update(|p| {
            // Counted over the whole operation, so that several sessions' indexes do not
            // interleave: the messages done, and this session's own still on the wire.
            let at = (p.sent + p.not_sent + p.failed + ahead).min(p.total.saturating_sub(1));
            p.index = p.index.max(at);
            p.message = Some(entry.id);
            p.bytes_sent = 0;
            p.bytes_total = entry.size;
        });
        info!(id = %entry.id, recipients = envelope.recipients.len(), bytes = entry.size, "sending");
        let size = entry.size;
        let tag = Tag {
            entry,
            previous,
            slots,
        };
        Outgoing::new(tag, envelope, body, Some(size))
    }

    /// A finished transaction's outcome: the recipients' records, the message's next state.
    fn settle(&self, tag: Tag, result: Result<Delivery, mailroom_smtp::Error>) -> Outcome {
        let Tag {
            mut entry, slots, ..
        } = tag;
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

    /// Opens the session if it is not open (and no earlier attempt failed in this run).
    pub(super) async fn ensure_session(&self, config: &ClientConfig, run: &mut Run) {
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

    /// No session could be opened: every message of `entries` keeps waiting, with the reason
    /// recorded and reported.
    fn left_waiting(
        &self,
        entries: Vec<Entry>,
        error: &mailroom_smtp::Error,
        reports: &mut Vec<MessageReport>,
    ) -> Vec<Outcome> {
        entries
            .into_iter()
            .map(|entry| {
                let entry = self.unreachable(entry, error);
                self.report(reports, &entry);
                (entry, None)
            })
            .collect()
    }

    /// No session could be opened: the message keeps waiting for the next connection (a
    /// deferred one gets its next retry time).
    fn unreachable(&self, mut entry: Entry, error: &mailroom_smtp::Error) -> Entry {
        let mut now = outcome::session_error(error);
        if entry.send_state == Some(SendState::Uncertain)
            && let Some(earlier) = &entry.error
        {
            // Still uncertain: what made it so stays in view.
            now.text = format!("{}; and still: {}", now.text, earlier.text);
        }
        entry.error = Some(now);
        if entry.send_state == Some(SendState::Resend) {
            entry.scheduled = self.retry.next_attempt(entry.date, (self.clock)());
        }
        entry
    }

    /// Counts a message's outcome in the progress.
    fn report(&self, reports: &mut Vec<MessageReport>, entry: &Entry) {
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
        reports.push(report);
    }
}

/// Takes back every message of the feed not handed out yet, once the recorder's answer (if one
/// is due) is in: those made ready or still queued, as they were before (first), and those that
/// could not be loaded, failed (second).
async fn take_back(feed: &Mutex<Feed>) -> Result<(Vec<Entry>, Vec<Entry>), Error> {
    let lock = || feed.lock().unwrap_or_else(|p| p.into_inner());
    let running = lock().running.take();
    if let Some(answer) = running {
        let readied = answer.wait().await?;
        lock().ready.extend(readied);
    }
    let mut f = lock();
    let (mut left, mut failed) = (Vec::new(), Vec::new());
    for readied in f.ready.drain(..) {
        match readied {
            Ok(prepared) => {
                let mut entry = prepared.entry;
                entry.send_state = prepared.previous;
                left.push(entry);
            }
            Err(entry) => failed.push(*entry),
        }
    }
    left.extend(f.queue.drain(..));
    Ok((left, failed))
}

/// Whether a failed transaction ended before any of its content was sent (so the message
/// cannot have been delivered): the session broke during the envelope.
fn never_reached_content(e: &mailroom_smtp::Error) -> bool {
    use mailroom_smtp::Phase as P;
    matches!(
        e.phase(),
        Some(
            P::Connect
                | P::Greeting
                | P::Ehlo
                | P::Helo
                | P::StartTls
                | P::TlsHandshake
                | P::Auth
                | P::Rset
                | P::MailFrom
                | P::RcptTo
                | P::Data
        )
    )
}

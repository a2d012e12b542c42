//! The outbox sender: select due messages, lease them, deliver them over reused sessions, and
//! record each recipient's outcome and the message's new state.
//!
//! Durability without a disk sync per message: a batch of messages is leased in one synced
//! commit; each message is marked `Sending` and later given its outcome in commits that reach
//! the log at once but are synced only every [`SYNC_EVERY`] (and when the operation ends). If
//! the process dies, the log still has every record, so a message found in `Sending` is
//! `Uncertain` and the others are simply released. If the machine restarts, unsynced records
//! may be lost, so every message a sender of the earlier boot held is `Uncertain`. Either way
//! nothing is sent twice on its own.
//!
//! Throughput: the sessions of one operation share a recorder that folds their outcomes and
//! preparations into one commit at a time, and each session hands the engine its next message
//! while the previous one's final reply is still due, so with PIPELINING one write carries a
//! message's end and the next message's envelope.

mod outcome;
mod pipeline;
mod prepare;
mod recorder;
mod recovery;

pub(crate) use recovery::recover;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use mailroom_smtp::{ClientConfig, Session};
use mailroom_store::{Claim, Durability, Entry, EntryId, Filter, SendState, Store};
use tokio::sync::watch;
use tracing::debug;

use crate::error::{Error, ErrorKind};
use crate::outbox::{MTM_ID, RESENDABLE};
use crate::progress::{ProgressPublisher, ProgressState, SmtpProgress};
use crate::report::MessageReport;
use crate::retry::RetryPolicy;
use crate::settings::SmtpSettings;

/// Which queued messages a send operation takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Waiting messages, and scheduled or deferred ones whose time has come.
    Due,
    /// Every queued message now, deferred and on-request ones included (a queue flush);
    /// not those Uncertain or Suspended.
    Queued,
    /// These messages, whatever their state (except sent), Uncertain ones included.
    Ids(Vec<EntryId>),
}

/// The source of the current time; replaceable so that retry schedules test without sleeping.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// How many messages are leased at a time.
const BATCH: usize = 256;
/// Longest time an outcome waits in the log unsynced while a send operation runs.
const SYNC_EVERY: Duration = Duration::from_millis(250);

/// A time after every schedule (messages are scheduled at most 100 years ahead): for claims
/// that take deferred messages early.
pub(crate) fn far_future() -> SystemTime {
    SystemTime::now() + Duration::from_secs(200 * 365 * 24 * 3600)
}

/// Asks a running send operation to stop after the message it is sending: the messages it
/// has not started are left as they were. Cheap to clone; any clone stops the operation.
#[derive(Clone, Debug, Default)]
pub struct StopHandle(Arc<AtomicBool>);

impl StopHandle {
    /// Asks for the stop.
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Delivers messages from the Outbox of one service.
pub struct Sender {
    store: Arc<Store>,
    settings: SmtpSettings,
    config: Option<ClientConfig>,
    service: Option<EntryId>,
    retry: RetryPolicy,
    lease: Duration,
    owner: String,
    clock: Clock,
    progress: Arc<ProgressPublisher>,
    stop: StopHandle,
}

/// The state of one send operation.
struct Run {
    session: Option<Session>,
    unreachable: Option<mailroom_smtp::Error>,
    reports: Vec<MessageReport>,
    /// Messages sent over the current session (for `messages_per_connection`).
    in_session: u32,
    /// Shared by every session of the operation.
    recorder: Arc<recorder::Recorder>,
}

/// The batches of one send operation not taken yet, and how many of its sessions could still
/// send them.
struct Batches<'a> {
    left: std::sync::Mutex<std::collections::VecDeque<&'a [EntryId]>>,
    healthy: std::sync::atomic::AtomicUsize,
    /// Sessions still working: the progress says `Closing` only when the last one closes.
    working: std::sync::atomic::AtomicUsize,
}

impl Batches<'_> {
    fn is_empty(&self) -> bool {
        self.left
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }
}

/// Waits for every future, polling them together on this task; outputs in order.
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs
        .into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}

/// A message with its outcome, to be recorded, and the folder to move it to.
type Outcome = (Entry, Option<EntryId>);

impl Sender {
    /// A sender for messages of `service` (or of no service) using `settings`.
    pub fn new(store: Arc<Store>, settings: SmtpSettings, service: Option<EntryId>) -> Sender {
        let retry = settings.retry_policy();
        Sender {
            store,
            settings,
            config: None,
            service,
            retry,
            lease: Duration::from_secs(15 * 60),
            owner: crate::host::owner_name("smtp"),
            clock: Arc::new(SystemTime::now),
            progress: Arc::new(ProgressPublisher::new(service)),
            stop: StopHandle::default(),
        }
    }

    /// Uses this engine configuration, already built from the settings (so that a password
    /// command that was run to check the settings is not run again).
    pub fn with_client_config(mut self, config: ClientConfig) -> Sender {
        self.config = Some(config);
        self
    }

    /// Uses `retry` for transient failures.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Sender {
        self.retry = retry;
        self
    }

    /// Uses `clock` for the time.
    pub fn with_clock(mut self, clock: Clock) -> Sender {
        self.clock = clock;
        self
    }

    /// Calls `listener` with every progress update, in order (the [`progress`](Self::progress)
    /// stream keeps only the latest). Keep it quick: it runs on the sending task.
    pub fn on_progress(&self, listener: impl Fn(&SmtpProgress) + Send + Sync + 'static) {
        self.progress.listen(Box::new(listener));
    }

    /// A stream of progress updates for the operations of this sender: the latest state each
    /// time it is read, for drawing progress.
    pub fn progress(&self) -> watch::Receiver<SmtpProgress> {
        self.progress.subscribe()
    }

    /// A handle that stops this sender's operations after the message on the wire; a stopped
    /// sender sends nothing more.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// The settings this sender uses.
    pub fn settings(&self) -> &SmtpSettings {
        &self.settings
    }

    /// Sends the selected messages and reports on each one attempted.
    ///
    /// Errors are for the operation as a whole (unusable settings, a failing store); what
    /// happened to each message, including refusals and unreachable servers, is in its report.
    pub async fn send(&self, selection: Selection) -> Result<Vec<MessageReport>, Error> {
        let result = self.send_selected(selection).await;
        if result.is_err() {
            // An operation that fails as a whole ends too, for whoever waits for `Done`.
            self.progress.update(|p| p.state = ProgressState::Done);
        }
        result
    }

    async fn send_selected(&self, selection: Selection) -> Result<Vec<MessageReport>, Error> {
        recovery::recover(&self.store, &self.owner, (self.clock)())?;
        let (states, ids) = self.candidates(&selection)?;
        self.progress.update(|p| {
            *p = SmtpProgress {
                total: ids.len(),
                service: self.service,
                ..SmtpProgress::default()
            }
        });
        if ids.is_empty() {
            self.progress.update(|p| p.state = ProgressState::Done);
            return Ok(Vec::new());
        }
        let config = match &self.config {
            Some(config) => config.clone(),
            None => self.settings.client_config()?,
        };
        let due_before = match selection {
            Selection::Due => (self.clock)(),
            _ => far_future(),
        };
        // Up to `connections_per_server` sessions, each taking the next batch in turn.
        let sessions = (self.settings.connections_per_server as usize).clamp(1, 16);
        self.progress.set_sessions(sessions);
        let batch = BATCH.min(ids.len().div_ceil(sessions)).max(1);
        let batches = Batches {
            left: std::sync::Mutex::new(ids.chunks(batch).collect()),
            healthy: std::sync::atomic::AtomicUsize::new(sessions),
            working: std::sync::atomic::AtomicUsize::new(sessions),
        };
        let recorder = Arc::new(recorder::Recorder::new(
            self.store.clone(),
            self.owner.clone(),
        ));
        let workers = (0..sessions)
            .map(|_| self.worker(&config, &states, due_before, &batches, recorder.clone()));
        let results = join_all(workers.collect()).await;
        // Whatever happened, what was recorded becomes durable before this returns.
        let settled = recorder.settle().await;
        let mut reports = Vec::with_capacity(ids.len());
        for result in results {
            reports.extend(result?);
        }
        settled?;
        self.progress.update(|p| p.state = ProgressState::Done);
        Ok(reports)
    }

    /// One session's share of a send operation: batches taken in turn until none is left.
    async fn worker(
        &self,
        config: &ClientConfig,
        states: &[SendState],
        due_before: SystemTime,
        batches: &Batches<'_>,
        recorder: Arc<recorder::Recorder>,
    ) -> Result<Vec<MessageReport>, Error> {
        let mut run = Run {
            session: None,
            unreachable: None,
            reports: Vec::new(),
            in_session: 0,
            recorder,
        };
        let mut gave_up = false;
        loop {
            if self.stop.is_stopped() || batches.is_empty() {
                break;
            }
            // A session that cannot be opened (a server's limit on connections, say) leaves
            // the batches to the sessions that are open; the last one standing records why
            // the rest could not be sent.
            self.ensure_session(config, &mut run).await;
            if run.unreachable.is_some() && !gave_up {
                gave_up = true;
                if batches.healthy.fetch_sub(1, Ordering::SeqCst) > 1 {
                    break;
                }
            }
            let next = batches
                .left
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .pop_front();
            let Some(chunk) = next else { break };
            // The claim's synced commit runs off this task, so the other sessions keep sending.
            let (store, service, owner, lease) = (
                self.store.clone(),
                self.service,
                self.owner.clone(),
                self.lease,
            );
            let (states, ids, now) = (states.to_vec(), chunk.to_vec(), (self.clock)());
            let claimed = tokio::task::spawn_blocking(move || {
                store.claim(&Claim {
                    folder: EntryId::OUTBOX,
                    service,
                    states: &states,
                    now,
                    due_before: Some(due_before),
                    owner: &owner,
                    lease,
                    limit: ids.len(),
                    ids: Some(&ids),
                })
            })
            .await
            .map_err(|e| {
                Error::new(ErrorKind::Store, "claiming messages failed").with_source(e)
            })??;
            self.chunk(config, &mut run, claimed).await?;
        }
        let last = batches.working.fetch_sub(1, Ordering::SeqCst) == 1;
        if let Some(session) = run.session.take() {
            if last {
                self.progress.update(|p| p.state = ProgressState::Closing);
            }
            if let Err(e) = session.quit().await {
                debug!(error = %e, "QUIT failed");
            }
        }
        Ok(run.reports)
    }

    /// How many messages are due now, and when the next one not yet due becomes due.
    pub fn due(&self) -> Result<(usize, Option<SystemTime>), Error> {
        let now = (self.clock)();
        // Messages a stopped sender left behind count (or not) as what they are now.
        recovery::recover(&self.store, &self.owner, now)?;
        let (waiting, timed) = self.due_parts()?;
        let due = timed
            .iter()
            .filter(|(_, t)| t.is_none_or(|t| t <= now))
            .count();
        let next = timed
            .iter()
            .filter_map(|(_, t)| *t)
            .filter(|t| *t > now)
            .min();
        Ok((waiting.len() + due, next))
    }

    /// Waiting messages (ids), and scheduled or deferred ones with their times.
    #[allow(clippy::type_complexity)]
    fn due_parts(&self) -> Result<(Vec<EntryId>, Vec<(EntryId, Option<SystemTime>)>), Error> {
        let waiting = self
            .store
            .child_ids(EntryId::OUTBOX, &self.filter(&[SendState::Waiting]))?;
        let timed = self
            .store
            .children(
                EntryId::OUTBOX,
                &self.filter(&[SendState::Scheduled, SendState::Resend]),
            )?
            .into_iter()
            .map(|e| (e.id, e.scheduled))
            .collect();
        Ok((waiting, timed))
    }

    fn filter(&self, states: &[SendState]) -> Filter {
        let filter = Filter::all().mtm(MTM_ID).send_states(states);
        match self.service {
            Some(service) => filter.service(service),
            None => filter,
        }
    }

    /// Ids of the selected messages, oldest first, and the states a claim may take them in.
    fn candidates(&self, selection: &Selection) -> Result<(Vec<SendState>, Vec<EntryId>), Error> {
        use SendState::*;
        let now = (self.clock)();
        match selection {
            Selection::Due => {
                let (mut ids, timed) = self.due_parts()?;
                ids.extend(
                    timed
                        .iter()
                        .filter(|(_, t)| t.is_none_or(|t| t <= now))
                        .map(|(id, _)| *id),
                );
                Ok((vec![Waiting, Scheduled, Resend], ids))
            }
            Selection::Queued => {
                let states = vec![Waiting, Scheduled, Resend, UponRequest];
                let ids = self
                    .store
                    .child_ids(EntryId::OUTBOX, &self.filter(&states))?;
                Ok((states, ids))
            }
            Selection::Ids(wanted) => {
                for id in wanted {
                    let entry = self.store.entry(*id)?;
                    if entry.parent != EntryId::OUTBOX || entry.mtm != MTM_ID {
                        return Err(Error::input(format!("message {id} is not in the Outbox")));
                    }
                }
                Ok((RESENDABLE.to_vec(), wanted.clone()))
            }
        }
    }

    /// Extends the leases of messages this sender still holds.
    fn renew(&self, ids: &[EntryId]) -> Result<(), Error> {
        let now = (self.clock)();
        self.store.batch_with(Durability::Relaxed, |b| {
            for id in ids {
                b.renew(*id, &self.owner, now, self.lease)?;
            }
            Ok(())
        })?;
        Ok(())
    }
}

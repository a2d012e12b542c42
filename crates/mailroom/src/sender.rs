//! The outbox sender: select due messages, lease them, deliver them over one reused session,
//! and record each recipient's outcome and the message's new state in one transaction each.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mailroom_smtp::{ClientConfig, DataOutcome, Envelope, RecipientStatus, Reply, Session};
use mailroom_store::{Claim, Entry, EntryError, EntryId, Filter, RecipientState, SendState, Store};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::body::Content;
use crate::error::{Error, chain};
use crate::outbox::{MTM_ID, STREAM_ENVELOPE, StoredEnvelope};
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
const BATCH: usize = 64;

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
}

impl Sender {
    /// A sender for messages of `service` (or of no service) using `settings`.
    pub fn new(store: Arc<Store>, settings: SmtpSettings, service: Option<EntryId>) -> Sender {
        let owner = crate::host::owner_name("smtp");
        let retry = settings.retry_policy();
        Sender {
            store,
            settings,
            config: None,
            service,
            retry,
            lease: Duration::from_secs(15 * 60),
            owner,
            clock: Arc::new(SystemTime::now),
            progress: Arc::new(ProgressPublisher::new(service)),
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

    /// Sends the selected messages and reports on each one attempted.
    ///
    /// Errors are for the operation as a whole (unusable settings, a failing store); what
    /// happened to each message, including refusals and unreachable servers, is in its report.
    pub async fn send(&self, selection: Selection) -> Result<Vec<MessageReport>, Error> {
        self.release_dead_leases()?;
        self.recover_interrupted()?;
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
        let mut session: Option<Session> = None;
        let mut unreachable: Option<mailroom_smtp::Error> = None;
        let mut reports = Vec::with_capacity(ids.len());
        let far_future = (self.clock)() + Duration::from_secs(100 * 365 * 24 * 3600);
        for chunk in ids.chunks(BATCH) {
            let claim = Claim {
                folder: EntryId::OUTBOX,
                service: self.service,
                states: &states,
                now: far_future,
                owner: &self.owner,
                lease: self.lease,
                limit: chunk.len(),
                ids: Some(chunk),
            };
            let mut queue: VecDeque<Entry> = self.store.claim(&claim)?.into();
            while let Some(entry) = queue.pop_front() {
                let index = reports.len();
                self.progress.update(|p| {
                    p.index = index;
                    p.message = Some(entry.id);
                    p.bytes_sent = 0;
                    p.bytes_total = entry.size;
                });
                if unreachable.is_none() && !session.as_ref().is_some_and(Session::is_open) {
                    let observer: Arc<dyn mailroom_smtp::Observer> = self.progress.clone();
                    match Session::connect(&config, Some(observer)).await {
                        Ok(s) => session = Some(s),
                        Err(e) => {
                            warn!(error = %e, "cannot open an SMTP session");
                            unreachable = Some(e);
                        }
                    }
                }
                let report = match (&unreachable, session.as_mut()) {
                    (Some(e), _) => self.record_unreachable(entry, e)?,
                    (None, Some(s)) => self.deliver(s, entry).await?,
                    (None, None) => unreachable!("a session is open when no error was recorded"),
                };
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
        if let Some(session) = session {
            self.progress.update(|p| p.state = ProgressState::Closing);
            if let Err(e) = session.quit().await {
                debug!(error = %e, "QUIT failed");
            }
        }
        self.progress.update(|p| p.state = ProgressState::Done);
        Ok(reports)
    }

    /// How many messages are due now, and when the next one not yet due becomes due.
    pub fn due(&self) -> Result<(usize, Option<SystemTime>), Error> {
        let now = (self.clock)();
        let (_, ids) = self.candidates(&Selection::Due)?;
        let mut filter = Filter::all()
            .mtm(MTM_ID)
            .send_states(&[SendState::Scheduled, SendState::Resend]);
        if let Some(service) = self.service {
            filter = filter.service(service);
        }
        let next = self
            .store
            .children(EntryId::OUTBOX, &filter)?
            .iter()
            .filter_map(|e| e.scheduled)
            .filter(|t| *t > now)
            .min();
        Ok((ids.len(), next))
    }

    /// The settings this sender uses.
    pub fn settings(&self) -> &SmtpSettings {
        &self.settings
    }

    /// Ids of the selected messages, oldest first, and the states a claim may take them in.
    fn candidates(&self, selection: &Selection) -> Result<(Vec<SendState>, Vec<EntryId>), Error> {
        use SendState::*;
        let now = (self.clock)();
        let states: Vec<SendState> = match selection {
            Selection::Due => vec![Waiting, Scheduled, Resend],
            Selection::Queued => vec![Waiting, Scheduled, Resend, UponRequest],
            Selection::Ids(_) => {
                vec![
                    Waiting,
                    Scheduled,
                    Resend,
                    UponRequest,
                    Uncertain,
                    Suspended,
                    Failed,
                ]
            }
        };
        let mut filter = Filter::all().mtm(MTM_ID).send_states(&states);
        if let Some(service) = self.service {
            filter = filter.service(service);
        }
        let entries = self.store.children(EntryId::OUTBOX, &filter)?;
        let ids = match selection {
            Selection::Due => entries
                .iter()
                .filter(|e| e.send_state == Some(Waiting) || e.scheduled.is_none_or(|t| t <= now))
                .map(|e| e.id)
                .collect(),
            Selection::Queued => entries.iter().map(|e| e.id).collect(),
            Selection::Ids(wanted) => {
                for id in wanted {
                    if !entries.iter().any(|e| e.id == *id) {
                        let entry = self.store.entry(*id)?;
                        if entry.parent != EntryId::OUTBOX || entry.mtm != MTM_ID {
                            return Err(Error::input(format!("message {id} is not in the Outbox")));
                        }
                    }
                }
                wanted.clone()
            }
        };
        Ok((states, ids))
    }

    /// Releases leases whose holder was a process of this host that has died.
    fn release_dead_leases(&self) -> Result<(), Error> {
        let filter = Filter::all().mtm(MTM_ID);
        for entry in self.store.children(EntryId::OUTBOX, &filter)? {
            if let Some(lease) = &entry.lease
                && crate::host::owner_is_dead(&lease.owner)
            {
                warn!(id = %entry.id, owner = %lease.owner, "releasing the lease of a dead sender");
                self.store.release(entry.id, &lease.owner)?;
            }
        }
        Ok(())
    }

    /// Messages left in `Sending` by a sender that died: the final dot may have gone out, so
    /// their outcome is unknown. They become `Uncertain` and are only resent when asked.
    fn recover_interrupted(&self) -> Result<(), Error> {
        let now = (self.clock)();
        let filter = Filter::all().mtm(MTM_ID).send_states(&[SendState::Sending]);
        for entry in self.store.children(EntryId::OUTBOX, &filter)? {
            if entry.lease.as_ref().is_some_and(|l| l.expires > now) {
                continue;
            }
            let claim = Claim {
                folder: EntryId::OUTBOX,
                service: entry.service,
                states: &[SendState::Sending],
                now,
                owner: &self.owner,
                lease: self.lease,
                limit: 1,
                ids: Some(&[entry.id]),
            };
            for mut entry in self.store.claim(&claim)? {
                warn!(id = %entry.id, "a sender stopped while sending this message; outcome unknown");
                for r in entry.recipients.iter_mut() {
                    if matches!(r.state, RecipientState::Pending | RecipientState::Deferred) {
                        r.state = RecipientState::Unknown;
                    }
                }
                entry.send_state = Some(SendState::Uncertain);
                entry.error = Some(EntryError {
                    kind: "outcome_unknown".into(),
                    code: None,
                    text: "the sender stopped while sending this message; it may have been \
                           delivered, so it is not resent unless asked"
                        .into(),
                });
                self.store.finish(&entry, &self.owner, None)?;
            }
        }
        Ok(())
    }

    /// Records that no session could be opened: the message keeps waiting for the next
    /// connection (a deferred one gets its next retry time).
    fn record_unreachable(
        &self,
        mut entry: Entry,
        error: &mailroom_smtp::Error,
    ) -> Result<MessageReport, Error> {
        entry.error = Some(entry_error(error));
        if entry.send_state == Some(SendState::Resend) {
            entry.scheduled = self.retry.next_attempt(entry.date, (self.clock)());
        }
        self.store.finish(&entry, &self.owner, None)?;
        Ok(MessageReport::from_entry(&entry))
    }

    /// One transaction for one message, and its outcome recorded.
    async fn deliver(
        &self,
        session: &mut Session,
        mut entry: Entry,
    ) -> Result<MessageReport, Error> {
        let id = entry.id;
        let prepared = match self.prepare(session, &entry) {
            Ok(p) => p,
            Err(e) => {
                entry.send_state = Some(SendState::Failed);
                entry.error = Some(EntryError {
                    kind: "input".into(),
                    code: None,
                    text: chain(&e),
                });
                self.store.finish(&entry, &self.owner, None)?;
                return Ok(MessageReport::from_entry(&entry));
            }
        };
        let (envelope, content, slots, allow_8bit) = prepared;

        // Durably mark the attempt first: if this process dies from here on, the message is
        // found in `Sending` and becomes `Uncertain`, never silently sent twice.
        let previous_state = entry.send_state;
        entry.send_state = Some(SendState::Sending);
        self.store.update(&entry)?;

        let body = content.spawn(self.store.clone(), id, allow_8bit);
        info!(id = %id, recipients = envelope.recipients.len(), bytes = entry.size, "sending");
        let result = session.send(&envelope, body, Some(entry.size)).await;
        let now = (self.clock)();
        let mut error = None;
        match result {
            Ok(delivery) => {
                let mut accepted_now = Vec::new();
                for (slot, outcome) in slots.iter().zip(delivery.recipients.iter()) {
                    let r = &mut entry.recipients[*slot];
                    r.state = match outcome.status {
                        RecipientStatus::Accepted => {
                            accepted_now.push(*slot);
                            RecipientState::Accepted
                        }
                        RecipientStatus::Rejected => RecipientState::Rejected,
                        _ => RecipientState::Deferred,
                    };
                    set_reply(r, &outcome.reply, now);
                }
                match delivery.data {
                    DataOutcome::Accepted(_) | DataOutcome::NotAttempted => {}
                    DataOutcome::Rejected(reply) => {
                        for slot in &accepted_now {
                            let r = &mut entry.recipients[*slot];
                            r.state = if reply.is_permanent() {
                                RecipientState::Rejected
                            } else {
                                RecipientState::Deferred
                            };
                            set_reply(r, &reply, now);
                        }
                        error = Some(EntryError {
                            kind: "rejected".into(),
                            code: Some(reply.code),
                            text: format!("the server refused the message: {}", reply_text(&reply)),
                        });
                    }
                    DataOutcome::Unknown(e) => {
                        for slot in &accepted_now {
                            entry.recipients[*slot].state = RecipientState::Unknown;
                        }
                        error = Some(EntryError {
                            kind: "outcome_unknown".into(),
                            code: None,
                            text: format!(
                                "the link was lost after the message was sent, so it may have \
                                 been delivered; it is not resent unless asked ({})",
                                chain(&e)
                            ),
                        });
                    }
                }
            }
            Err(e) => {
                warn!(id = %id, error = %e, "transaction failed");
                let permanent = !e.is_transient();
                if permanent {
                    for slot in &slots {
                        entry.recipients[*slot].state = RecipientState::Rejected;
                        if let Some(reply) = e.reply() {
                            set_reply(&mut entry.recipients[*slot], reply, now);
                        }
                    }
                }
                error = Some(entry_error(&e));
            }
        }
        let state = self.next_state(&mut entry, previous_state, now);
        if error.is_none() {
            error = recipients_error(&entry);
        }
        entry.send_state = Some(state);
        entry.error = error;
        let move_to = (state == SendState::Sent).then_some(EntryId::SENT);
        self.store.finish(&entry, &self.owner, move_to)?;
        Ok(MessageReport::from_entry(&entry))
    }

    /// Loads what the transaction needs: the envelope, the content, which recipient records
    /// take part, and whether 8-bit data may be sent.
    #[allow(clippy::type_complexity)]
    fn prepare(
        &self,
        session: &Session,
        entry: &Entry,
    ) -> Result<(Envelope, Content, Vec<usize>, bool), Error> {
        let store_err = |e: std::io::Error| Error::input("cannot load the message").with_source(e);
        let mut json = Vec::new();
        self.store
            .open_stream(entry.id, STREAM_ENVELOPE)?
            .read_to_end(&mut json)
            .map_err(store_err)?;
        let stored: StoredEnvelope = serde_json::from_slice(&json)
            .map_err(|e| Error::input("the stored envelope is unreadable").with_source(e))?;
        let content = Content::load(&self.store, entry.id).map_err(store_err)?;
        let caps = session.capabilities();
        let allow_8bit = caps.eight_bit_mime();
        let slots: Vec<usize> = entry
            .recipients
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                matches!(
                    r.state,
                    RecipientState::Pending | RecipientState::Deferred | RecipientState::Unknown
                )
            })
            .map(|(i, _)| i)
            .collect();
        let recipients: Vec<String> = slots
            .iter()
            .map(|&i| entry.recipients[i].address.clone())
            .collect();
        let smtputf8 =
            stored.smtputf8 || !stored.from.is_ascii() || recipients.iter().any(|r| !r.is_ascii());
        let mut envelope = Envelope::new(stored.from, recipients);
        envelope.dsn = self.settings.dsn.to_dsn()?;
        envelope.smtputf8 = smtputf8;
        envelope.body_8bit = content.eight_bit(allow_8bit);
        Ok((envelope, content, slots, allow_8bit))
    }

    /// The message's state from its recipients' states after an attempt.
    fn next_state(
        &self,
        entry: &mut Entry,
        previous: Option<SendState>,
        now: SystemTime,
    ) -> SendState {
        let any = |s: RecipientState| entry.recipients.iter().any(|r| r.state == s);
        if any(RecipientState::Unknown) {
            return SendState::Uncertain;
        }
        if any(RecipientState::Pending) || any(RecipientState::Deferred) {
            return match self.retry.next_attempt(entry.date, now) {
                Some(next) => {
                    entry.scheduled = Some(next);
                    SendState::Resend
                }
                None => {
                    debug!(id = %entry.id, ?previous, "retry lifetime over");
                    SendState::Failed
                }
            };
        }
        entry.scheduled = None;
        if any(RecipientState::Accepted) {
            SendState::Sent
        } else {
            SendState::Failed
        }
    }
}

fn set_reply(record: &mut mailroom_store::RecipientRecord, reply: &Reply, now: SystemTime) {
    record.code = Some(reply.code);
    record.enhanced = reply.enhanced.as_ref().map(|e| e.to_string());
    record.text = Some(reply_text(reply));
    record.time = Some(now);
}

fn reply_text(reply: &Reply) -> String {
    reply.lines.join(" ")
}

/// The error recorded on an entry for a failed session or transaction.
fn entry_error(e: &mailroom_smtp::Error) -> EntryError {
    use mailroom_smtp::ErrorKind as K;
    let kind = match e.kind() {
        K::Input => "input",
        K::Connect => "connect",
        K::Tls => "tls",
        K::Timeout => "timeout",
        K::Protocol => "protocol",
        K::Auth => "auth",
        K::Rejected => "rejected",
        K::Closed => "closed",
        _ => "smtp",
    };
    EntryError {
        kind: kind.into(),
        code: e.reply().map(|r| r.code),
        text: chain(e),
    }
}

/// An error describing refused recipients, when some were refused and nothing else failed.
fn recipients_error(entry: &Entry) -> Option<EntryError> {
    let refused: Vec<String> = entry
        .recipients
        .iter()
        .filter(|r| matches!(r.state, RecipientState::Rejected | RecipientState::Deferred))
        .map(|r| format!("{} ({})", r.address, r.text.as_deref().unwrap_or("refused")))
        .collect();
    if refused.is_empty() {
        return None;
    }
    Some(EntryError {
        kind: "recipients".into(),
        code: None,
        text: format!("not accepted: {}", refused.join("; ")),
    })
}

//! Live state of a send operation, delivered as a stream of updates.

use mailroom_smtp::{Event, Observer, SessionState};
use mailroom_store::EntryId;
use serde::Serialize;
use tokio::sync::watch;

/// What a send operation is doing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgressState {
    /// Opening the connection.
    #[default]
    Connecting,
    /// Waiting for the server's greeting.
    WaitingForGreeting,
    /// Negotiating TLS.
    Tls,
    /// Authenticating.
    Authenticating,
    /// Sending a message.
    Sending,
    /// Resetting between messages.
    Resetting,
    /// Closing the connection.
    Closing,
    /// Finished.
    Done,
}

/// Live state of one send operation (the classic SMTP progress).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SmtpProgress {
    /// What the operation is doing.
    pub state: ProgressState,
    /// Index (0-based) of the message being sent, among `total`.
    pub index: usize,
    /// The message being sent.
    pub message: Option<EntryId>,
    /// Bytes of the current message sent.
    pub bytes_sent: u64,
    /// Bytes of the current message to send.
    pub bytes_total: u64,
    /// Messages delivered to every recipient.
    pub sent: usize,
    /// Messages left queued (to be retried or sent later).
    pub not_sent: usize,
    /// Messages failed for good.
    pub failed: usize,
    /// Messages in this operation.
    pub total: usize,
    /// The last error, if any.
    pub error: Option<String>,
    /// The service the messages belong to.
    pub service: Option<EntryId>,
}

/// Publishes progress updates to any number of watchers.
pub(crate) struct ProgressPublisher {
    tx: watch::Sender<SmtpProgress>,
    listeners: std::sync::RwLock<Vec<Listener>>,
    /// Whether the operation runs several sessions: then one session's opening or closing is
    /// not the operation's state once it is sending (the sender says when it closes).
    several: std::sync::atomic::AtomicBool,
}

/// A function called with every progress update, in order.
pub(crate) type Listener = Box<dyn Fn(&SmtpProgress) + Send + Sync>;

impl ProgressPublisher {
    pub fn new(service: Option<EntryId>) -> Self {
        let initial = SmtpProgress {
            service,
            ..SmtpProgress::default()
        };
        let (tx, _) = watch::channel(initial);
        ProgressPublisher {
            tx,
            listeners: std::sync::RwLock::new(Vec::new()),
            several: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Says how many sessions the operation starting now runs.
    pub fn set_sessions(&self, sessions: usize) {
        self.several
            .store(sessions > 1, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn subscribe(&self) -> watch::Receiver<SmtpProgress> {
        self.tx.subscribe()
    }

    pub fn listen(&self, listener: Listener) {
        self.listeners
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(listener);
    }

    /// Changes the progress and publishes the result.
    pub fn update(&self, change: impl FnOnce(&mut SmtpProgress)) {
        self.tx.send_modify(change);
        let listeners = self.listeners.read().unwrap_or_else(|e| e.into_inner());
        if !listeners.is_empty() {
            let now = self.tx.borrow().clone();
            for listener in listeners.iter() {
                listener(&now);
            }
        }
    }
}

impl Observer for ProgressPublisher {
    fn event(&self, event: &Event) {
        match event {
            Event::State(s) => {
                let state = match s {
                    SessionState::Connecting => ProgressState::Connecting,
                    SessionState::Greeting => ProgressState::WaitingForGreeting,
                    SessionState::Tls => ProgressState::Tls,
                    SessionState::Authenticating => ProgressState::Authenticating,
                    SessionState::Sending | SessionState::Ready => ProgressState::Sending,
                    SessionState::Resetting => ProgressState::Resetting,
                    SessionState::Closing => ProgressState::Closing,
                    _ => return,
                };
                if self.several.load(std::sync::atomic::Ordering::Relaxed) {
                    // Another session's opening or closing while messages go out.
                    let sending = self.tx.borrow().state == ProgressState::Sending;
                    if state == ProgressState::Closing
                        || (sending && state != ProgressState::Sending)
                    {
                        return;
                    }
                }
                self.update(|p| p.state = state);
            }
            Event::BytesSent { sent, total } => self.update(|p| {
                p.bytes_sent = *sent;
                if let Some(total) = total {
                    p.bytes_total = *total;
                }
            }),
            _ => {}
        }
    }
}

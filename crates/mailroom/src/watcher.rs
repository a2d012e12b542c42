//! Sending on the next connection and on schedule: a loop that notices due messages, checks
//! that the server can be reached (backing off while it cannot), and sends.

use std::future::Future;
use std::time::{Duration, SystemTime};

use mailroom_store::SendState;
use tokio::net::TcpStream;
use tracing::{debug, info};

use crate::error::Error;
use crate::report::MessageReport;
use crate::sender::{Selection, Sender};

/// How often the watcher looks and how it backs off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchTiming {
    /// Time between looks for due messages while nothing is due.
    pub idle: Duration,
    /// First wait after the server could not be reached; it doubles up to `max_backoff`.
    pub min_backoff: Duration,
    /// Longest wait between reachability checks.
    pub max_backoff: Duration,
    /// Limit for one reachability check.
    pub probe_timeout: Duration,
}

impl Default for WatchTiming {
    /// Looks every second; checks an unreachable server after 1, 2, then every 4 seconds, so
    /// sending starts within about 5 seconds of the server coming up.
    fn default() -> Self {
        WatchTiming {
            idle: Duration::from_secs(1),
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(4),
            probe_timeout: Duration::from_secs(3),
        }
    }
}

/// Runs a [`Sender`] whenever messages are due and the server can be reached.
pub struct Watcher {
    sender: Sender,
    timing: WatchTiming,
}

impl Watcher {
    /// A watcher driving `sender`.
    pub fn new(sender: Sender) -> Watcher {
        Watcher {
            sender,
            timing: WatchTiming::default(),
        }
    }

    /// Uses other timing.
    pub fn with_timing(mut self, timing: WatchTiming) -> Watcher {
        self.timing = timing;
        self
    }

    /// The sender it drives (for its progress stream).
    pub fn sender(&self) -> &Sender {
        &self.sender
    }

    /// Watches until `stop` completes, calling `on_reports` after each send. A send in progress
    /// when `stop` completes is finished first, so no message is left half-recorded.
    pub async fn run<F>(
        &self,
        stop: impl Future<Output = ()>,
        mut on_reports: F,
    ) -> Result<(), Error>
    where
        F: FnMut(&[MessageReport]),
    {
        tokio::pin!(stop);
        let mut backoff = self.timing.min_backoff;
        loop {
            // A stop asked for during a send lets the message on the wire finish.
            let step = self.step(&mut backoff);
            tokio::pin!(step);
            let mut stopping = false;
            let result = loop {
                tokio::select! {
                    result = &mut step => break result,
                    _ = &mut stop, if !stopping => {
                        stopping = true;
                        self.sender.stop_handle().stop();
                    }
                }
            };
            if stopping {
                if let Step::Sent(reports, _) = result? {
                    on_reports(&reports);
                }
                return Ok(());
            }
            let wait = match result? {
                Step::Sent(reports, wait) => {
                    on_reports(&reports);
                    wait
                }
                Step::Idle(next) => next,
            };
            tokio::select! {
                _ = &mut stop => return Ok(()),
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn step(&self, backoff: &mut Duration) -> Result<Step, Error> {
        let (due, next) = self.sender.due()?;
        if due == 0 {
            let until_next = next
                .and_then(|t| t.duration_since(SystemTime::now()).ok())
                .unwrap_or(self.timing.idle);
            return Ok(Step::Idle(until_next.min(self.timing.idle)));
        }
        if !self.reachable().await {
            let wait = *backoff;
            *backoff = (*backoff * 2).min(self.timing.max_backoff);
            debug!(
                due,
                wait_ms = wait.as_millis() as u64,
                "server unreachable; waiting"
            );
            return Ok(Step::Idle(wait));
        }
        info!(due, "server reachable; sending");
        let reports = self.sender.send(Selection::Due).await?;
        // Messages still waiting mean the session could not be opened after all.
        let wait = if reports.iter().any(|r| r.state == SendState::Waiting) {
            let wait = *backoff;
            *backoff = (*backoff * 2).min(self.timing.max_backoff);
            wait
        } else {
            *backoff = self.timing.min_backoff;
            Duration::ZERO
        };
        Ok(Step::Sent(reports, wait))
    }

    async fn reachable(&self) -> bool {
        let Some(url) = &self.sender.settings().server else {
            return false;
        };
        let port = url
            .port
            .unwrap_or(self.sender.settings().effective_tls().default_port());
        let connect = TcpStream::connect((url.host.as_str(), port));
        matches!(
            tokio::time::timeout(self.timing.probe_timeout, connect).await,
            Ok(Ok(_))
        )
    }
}

enum Step {
    Sent(Vec<MessageReport>, Duration),
    Idle(Duration),
}

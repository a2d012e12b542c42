//! Progress bars on stderr while sending: bytes of the current message, and messages done of
//! the total. Drawn only when stderr is a terminal and neither --json nor -q was given.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailroom::{ProgressState, Sender, SmtpProgress};

use crate::commands::Globals;

/// How often the line is redrawn at most (state changes are drawn at once).
const REDRAW: Duration = Duration::from_millis(100);

/// A drawn bar; [`finish`] ends its line.
pub struct Bar {
    drawn: Arc<Mutex<Drawn>>,
}

struct Drawn {
    last: Option<Instant>,
    state: Option<ProgressState>,
}

/// Draws `sender`'s progress when stderr is a terminal.
pub fn attach(sender: &Sender, g: &Globals) -> Option<Bar> {
    if g.json || g.quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let drawn = Arc::new(Mutex::new(Drawn {
        last: None,
        state: None,
    }));
    let shared = drawn.clone();
    sender.on_progress(move |p| {
        let Ok(mut d) = shared.lock() else { return };
        let now = Instant::now();
        let changed = d.state != Some(p.state);
        if !changed && d.last.is_some_and(|t| now - t < REDRAW) {
            return;
        }
        d.last = Some(now);
        d.state = Some(p.state);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{}", line(p));
        let _ = err.flush();
    });
    Some(Bar { drawn })
}

/// Ends the bar's line so that the report starts on a fresh one.
pub fn finish(bar: Option<Bar>) {
    if let Some(bar) = bar
        && bar.drawn.lock().is_ok_and(|d| d.last.is_some())
    {
        eprintln!();
    }
}

/// The progress line: `state [bytes bar] sent/total MB  messages [bar] done/total`.
pub fn line(p: &SmtpProgress) -> String {
    let bytes = bar(p.bytes_sent, p.bytes_total, 24);
    let done = (p.sent + p.not_sent + p.failed) as u64;
    let messages = bar(done, p.total as u64, 10);
    format!(
        "{:<12} [{bytes}] {:>7.1}/{:.1} MB  messages [{messages}] {done}/{}",
        state_name(p.state),
        p.bytes_sent as f64 / 1e6,
        p.bytes_total as f64 / 1e6,
        p.total
    )
}

fn bar(done: u64, total: u64, width: usize) -> String {
    let filled = if total == 0 {
        0
    } else {
        ((done.min(total) as f64 / total as f64) * width as f64) as usize
    };
    format!("{}{}", "#".repeat(filled), "-".repeat(width - filled))
}

fn state_name(state: ProgressState) -> &'static str {
    match state {
        ProgressState::Connecting => "connecting",
        ProgressState::WaitingForGreeting => "greeting",
        ProgressState::Tls => "tls",
        ProgressState::Authenticating => "auth",
        ProgressState::Sending => "sending",
        ProgressState::Resetting => "resetting",
        ProgressState::Closing => "closing",
        ProgressState::Done => "done",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_line_shows_both_bars() {
        let p = SmtpProgress {
            state: ProgressState::Sending,
            bytes_sent: 25_000_000,
            bytes_total: 50_000_000,
            total: 2,
            sent: 1,
            ..SmtpProgress::default()
        };
        let text = line(&p);
        assert!(text.contains("[############------------]"), "{text}");
        assert!(text.contains("25.0/50.0 MB"), "{text}");
        assert!(text.contains("[#####-----] 1/2"), "{text}");
    }
}

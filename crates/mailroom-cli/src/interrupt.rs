//! Ctrl-C (SIGINT) and SIGTERM while sending: the first one stops after the message on the
//! wire, so nothing is left half-sent; a second one quits at once.

use mailroom::Sender;
use tokio::signal::unix::{SignalKind, signal};
use tokio::task::JoinHandle;

/// Watches for the signals while it lives.
pub struct Guard(Option<JoinHandle<()>>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

/// Stops `sender` on the first SIGINT or SIGTERM; exits with 130 on the second.
pub fn guard(sender: &Sender) -> Guard {
    let stop = sender.stop_handle();
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return Guard(None);
    };
    Guard(Some(tokio::spawn(async move {
        let mut asked = false;
        loop {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            if asked {
                eprintln!("mailroom: quitting now; a message being sent may end up uncertain");
                std::process::exit(130);
            }
            asked = true;
            stop.stop();
            eprintln!(
                "mailroom: stopping after the message being sent (press Ctrl-C again to quit now)"
            );
        }
    })))
}

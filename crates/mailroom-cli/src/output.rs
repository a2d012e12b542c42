//! What the commands print: a summary line per message, or JSON.

use std::io::Write;

use mailroom::store::{RecipientState, SendState};
use mailroom::{MessageReport, SmtpSettings};
use serde_json::json;

use crate::exit::CliError;

/// The first error writing to standard output, kept for the end of the program.
static FAILED: std::sync::Mutex<Option<std::io::Error>> = std::sync::Mutex::new(None);

/// Standard output for everything the program prints. A write that fails is remembered and
/// reported once by [`finish`] instead of panicking or being lost in silence.
pub struct Stdout(std::io::StdoutLock<'static>);

/// Standard output, locked for the writer's lifetime.
pub fn stdout() -> Stdout {
    Stdout(std::io::stdout().lock())
}

impl Stdout {
    fn note<T>(&self, result: std::io::Result<T>, or: T) -> std::io::Result<T> {
        result.or_else(|e| {
            FAILED
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_or_insert(e);
            Ok(or)
        })
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let result = self.0.write(buf);
        self.note(result, buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let result = self.0.flush();
        self.note(result, ())
    }
}

/// Flushes standard output and returns the first error writing to it, if any.
pub fn finish() -> Option<std::io::Error> {
    let _ = stdout().flush();
    FAILED.lock().unwrap_or_else(|p| p.into_inner()).take()
}

/// Prints reports: JSON (one object, or an array when `many`), or one line each on stdout.
pub fn print_reports(reports: &[MessageReport], json: bool, many: bool, settings: &SmtpSettings) {
    let mut out = crate::output::stdout();
    if json {
        let value = if many {
            serde_json::to_value(reports)
        } else {
            serde_json::to_value(&reports[0])
        };
        let _ = writeln!(out, "{}", value.expect("reports serialize"));
        return;
    }
    for r in reports {
        let _ = writeln!(out, "{}", summary(r, settings));
    }
}

/// Prints an error that ended the command: JSON on stdout with `--json`, and always a line on
/// stderr.
pub fn print_error(error: &CliError, json: bool) {
    if json {
        let value = json!({
            "id": null,
            "state": null,
            "recipients": [],
            "error": { "kind": error.kind, "message": error.to_string() },
        });
        outln!("{value}");
    }
    eprintln!("mailroom: {error}");
}

/// One line about one message.
pub fn summary(r: &MessageReport, settings: &SmtpSettings) -> String {
    let count = |s: RecipientState| r.recipients.iter().filter(|x| x.state == s).count();
    let total = r.recipients.len();
    let accepted = count(RecipientState::Accepted);
    let server = settings
        .server
        .as_ref()
        .map(|s| s.to_string())
        .unwrap_or_default();
    let why = r.error.as_ref().map(|e| e.message.as_str()).unwrap_or("");
    match r.state {
        SendState::Sent if accepted == total => {
            format!(
                "message {}: sent to {total} recipient{} via {server}",
                r.id,
                plural(total)
            )
        }
        SendState::Sent => format!(
            "message {}: sent to {accepted} of {total} recipients; {why}",
            r.id
        ),
        SendState::Failed => format!("message {}: failed: {why}", r.id),
        SendState::Uncertain => format!("message {}: outcome unknown: {why}", r.id),
        SendState::UponRequest if r.error.is_none() => {
            format!(
                "message {}: stored in the Outbox; it is sent on request (mailroom flush)",
                r.id
            )
        }
        SendState::UponRequest => format!(
            "message {}: not sent, still in the Outbox until the next flush: {why}",
            r.id
        ),
        SendState::Waiting if r.error.is_none() => format!(
            "message {}: queued in the Outbox, waiting for the next connection (mailroom flush)",
            r.id
        ),
        SendState::Waiting => format!(
            "message {}: queued in the Outbox, waiting for the next connection: {why}",
            r.id
        ),
        state => {
            let done = if accepted > 0 {
                format!(" ({accepted} of {total} accepted)")
            } else {
                String::new()
            };
            format!(
                "message {}: left queued ({}){done}{}{why}",
                r.id,
                state_name(state),
                if why.is_empty() { "" } else { ": " }
            )
        }
    }
}

fn state_name(state: SendState) -> String {
    serde_json::to_value(state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

//! What a transaction's result does to a message entry: recipient records, the message's next
//! state, and the error shown for it. Pure functions of the entry and the result.

use std::time::SystemTime;

use mailroom_smtp::{DataOutcome, Delivery, RecipientStatus, Reply};
use mailroom_store::{Entry, EntryError, RecipientRecord, RecipientState, SendState};

use crate::error::chain;
use crate::retry::RetryPolicy;

/// Records the result of one transaction for the recipients in `slots` (indexes into the
/// entry's records, in the order they were given to the engine).
pub(super) fn apply(
    entry: &mut Entry,
    slots: &[usize],
    result: Result<Delivery, mailroom_smtp::Error>,
    now: SystemTime,
) -> Option<EntryError> {
    let delivery = match result {
        Ok(delivery) => delivery,
        Err(e) => {
            // A refusal (a 5xx reply), unusable input, or a message this server can never
            // take (an extension it lacks, a size over its limit) fails the recipients for
            // good; a broken or lost connection is worth another try.
            let permanent = e.reply().is_some_and(Reply::is_permanent)
                || matches!(
                    e.kind(),
                    mailroom_smtp::ErrorKind::Input | mailroom_smtp::ErrorKind::Unsupported
                )
                || matches!(e, mailroom_smtp::Error::TooLarge { .. });
            if permanent {
                for &slot in slots {
                    let r = &mut entry.recipients[slot];
                    r.state = RecipientState::Rejected;
                    if let Some(reply) = e.reply() {
                        set_reply(r, reply, now);
                    }
                }
            }
            return Some(session_error(&e));
        }
    };
    let mut accepted_now = Vec::new();
    for (&slot, outcome) in slots.iter().zip(&delivery.recipients) {
        let r = &mut entry.recipients[slot];
        r.state = match outcome.status {
            RecipientStatus::Accepted => {
                accepted_now.push(slot);
                RecipientState::Accepted
            }
            RecipientStatus::Rejected => RecipientState::Rejected,
            _ => RecipientState::Deferred,
        };
        set_reply(r, &outcome.reply, now);
    }
    match delivery.data {
        DataOutcome::Accepted(_) | DataOutcome::NotAttempted => None,
        DataOutcome::Rejected(reply) => {
            let state = if reply.is_permanent() {
                RecipientState::Rejected
            } else {
                RecipientState::Deferred
            };
            for &slot in &accepted_now {
                entry.recipients[slot].state = state;
                set_reply(&mut entry.recipients[slot], &reply, now);
            }
            Some(EntryError {
                kind: "rejected".into(),
                code: Some(reply.code),
                text: format!("the server refused the message: {}", reply_text(&reply)),
            })
        }
        DataOutcome::Unknown(e) => {
            for &slot in &accepted_now {
                entry.recipients[slot].state = RecipientState::Unknown;
            }
            Some(EntryError {
                kind: "outcome_unknown".into(),
                code: None,
                text: format!(
                    "the link was lost after the message was sent, so it may have been \
                     delivered; it is not resent unless asked ({})",
                    chain(&e)
                ),
            })
        }
    }
}

/// The message's state from its recipients' states after an attempt, with the next retry
/// time for a deferred one.
pub(super) fn next_state(entry: &mut Entry, retry: &RetryPolicy, now: SystemTime) -> SendState {
    let any = |s: RecipientState| entry.recipients.iter().any(|r| r.state == s);
    if any(RecipientState::Unknown) {
        entry.scheduled = None;
        return SendState::Uncertain;
    }
    if any(RecipientState::Pending) || any(RecipientState::Deferred) {
        return match retry.next_attempt(entry.date, now) {
            Some(next) => {
                entry.scheduled = Some(next);
                SendState::Resend
            }
            None => {
                entry.scheduled = None;
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

/// Marks every recipient not yet accepted or refused as of unknown outcome.
pub(super) fn make_uncertain(entry: &mut Entry, why: &str) {
    for r in entry.recipients.iter_mut() {
        if matches!(r.state, RecipientState::Pending | RecipientState::Deferred) {
            r.state = RecipientState::Unknown;
        }
    }
    entry.send_state = Some(SendState::Uncertain);
    entry.scheduled = None;
    entry.error = Some(EntryError {
        kind: "outcome_unknown".into(),
        code: None,
        text: format!("{why}; it may have been delivered, so it is not resent unless asked"),
    });
}

fn set_reply(record: &mut RecipientRecord, reply: &Reply, now: SystemTime) {
    record.code = Some(reply.code);
    record.enhanced = reply.enhanced.as_ref().map(|e| e.to_string());
    record.text = Some(reply_text(reply));
    record.time = Some(now);
}

fn reply_text(reply: &Reply) -> String {
    reply.lines.join(" ")
}

/// The error recorded on an entry for a failed session or transaction.
pub(super) fn session_error(e: &mailroom_smtp::Error) -> EntryError {
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
        K::Unsupported => "unsupported",
        _ => "smtp",
    };
    EntryError {
        kind: kind.into(),
        code: e.reply().map(|r| r.code),
        text: chain(e),
    }
}

/// An error describing refused recipients, when some were refused and nothing else failed.
pub(super) fn recipients_error(entry: &Entry) -> Option<EntryError> {
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

//! Everything one transaction needs, loaded from the store before it starts: the envelope,
//! which recipient records take part, and the message bytes.

use std::sync::Arc;

use mailroom_smtp::{Dsn, Envelope};
use mailroom_store::{Batch, Entry, EntryError, RecipientState, SendState, Store};

use crate::body::{Body, Content};
use crate::error::{Error, chain};
use crate::outbox::{STREAM_ENVELOPE, STREAM_MESSAGE, StoredEnvelope};

/// One message ready for its transaction.
pub(super) struct Prepared {
    /// The entry, marked `Sending`.
    pub entry: Entry,
    /// Its state before it was marked, restored if the transaction never starts.
    pub previous: Option<SendState>,
    /// Sender and the recipients still to reach.
    pub envelope: Envelope,
    /// Indexes of those recipients in the entry's records, in envelope order.
    pub slots: Vec<usize>,
    /// The bytes to transmit.
    pub body: Body,
}

/// A message that cannot be sent at all (its content is unreadable): it fails for good.
fn failed(mut entry: Entry, why: &Error) -> Box<Entry> {
    entry.send_state = Some(SendState::Failed);
    entry.error = Some(EntryError {
        kind: "input".into(),
        code: None,
        text: chain(why),
    });
    Box::new(entry)
}

/// What the store holds for one message's transaction, read inside the recording commit.
pub(super) struct Loaded {
    stored: StoredEnvelope,
    content: Content,
}

/// Reads and checks what the transaction of `entry` needs, inside a store batch. A store
/// failure fails the batch; a message whose content is unreadable comes back as the inner
/// error (it fails for good, with the reason recorded).
pub(super) fn load(b: &Batch<'_>, entry: &Entry) -> mailroom_store::Result<Result<Loaded, Error>> {
    let names = [STREAM_ENVELOPE, STREAM_MESSAGE];
    let mut found = b.read_small_streams(entry.id, &names)?.into_iter();
    let (envelope, message) = (found.next().flatten(), found.next().flatten());
    Ok(parse(entry, envelope, message))
}

fn parse(
    entry: &Entry,
    envelope: Option<Vec<u8>>,
    message: Option<Vec<u8>>,
) -> Result<Loaded, Error> {
    let envelope =
        envelope.ok_or_else(|| Error::input(format!("message {} has no envelope", entry.id)))?;
    let stored: StoredEnvelope = serde_json::from_slice(&envelope)
        .map_err(|e| Error::input("the stored envelope is unreadable").with_source(e))?;
    let content = match message {
        Some(json) => {
            Content::Composed(Box::new(serde_json::from_slice(&json).map_err(|e| {
                Error::input("the stored message is unreadable").with_source(e)
            })?))
        }
        // No model: the message is stored ready-made.
        None => Content::Raw,
    };
    Ok(Loaded { stored, content })
}

/// The message ready for its transaction, or failed if it could not be loaded. `allow_8bit`
/// says whether the server takes 8-bit data; `dsn` is added to the envelope unless the message
/// has its own. Rendering happens here, outside the store's lock.
pub(super) fn ready(
    store: &Arc<Store>,
    entry: Entry,
    loaded: Result<Loaded, Error>,
    allow_8bit: bool,
    dsn: Option<Dsn>,
) -> Result<Prepared, Box<Entry>> {
    let Loaded { stored, content } = match loaded {
        Ok(loaded) => loaded,
        Err(e) => return Err(failed(entry, &e)),
    };
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
    // The headers' need only: the engine asks for SMTPUTF8 itself when an envelope address has
    // a non-ASCII local part, and writes internationalised domains as A-labels.
    let smtputf8 = stored.smtputf8;
    let mut envelope = Envelope::new(stored.from, recipients);
    envelope.dsn = match &stored.dsn {
        Some(own) => own.to_dsn().ok().flatten(),
        None => dsn,
    };
    envelope.smtputf8 = smtputf8;
    envelope.body_8bit = content.eight_bit(allow_8bit);
    let body = content.reader(store.clone(), entry.id, allow_8bit, entry.size);
    Ok(Prepared {
        previous: entry.send_state,
        entry,
        envelope,
        slots,
        body,
    })
}

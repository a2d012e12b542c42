//! Reading stored messages back: the exact bytes a message transmits and its envelope sender,
//! for tools that show or export what is queued, drafted or sent.

use std::io::{Read, Write};
use std::sync::Arc;

use mailroom_store::{EntryId, Store};

use crate::body::Content;
use crate::error::{Error, ErrorKind};
use crate::outbox::{STREAM_ENVELOPE, StoredEnvelope};

/// Writes the bytes message `id` transmits (7-bit form, CRLF line endings, no Bcc header):
/// a composed message rendered from its model and attachment streams, or a ready one as stored.
pub fn write_message_bytes(
    store: &Arc<Store>,
    id: EntryId,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let content = Content::load(store, id).map_err(|e| {
        Error::new(
            ErrorKind::Store,
            format!("message {id} has no readable content"),
        )
        .with_source(e)
    })?;
    content.write_to(store, id, false, out).map_err(|e| {
        Error::new(ErrorKind::Store, format!("cannot write message {id}")).with_source(e)
    })
}

/// The MAIL FROM address stored with queued or sent message `id`, if it has one.
pub fn envelope_sender(store: &Store, id: EntryId) -> Result<Option<String>, Error> {
    if !store.stream_names(id)?.iter().any(|n| n == STREAM_ENVELOPE) {
        return Ok(None);
    }
    let mut json = Vec::new();
    store
        .open_stream(id, STREAM_ENVELOPE)?
        .read_to_end(&mut json)
        .map_err(|e| Error::new(ErrorKind::Store, "cannot read the envelope").with_source(e))?;
    let envelope: StoredEnvelope = serde_json::from_slice(&json).map_err(|e| {
        Error::new(ErrorKind::Store, "the stored envelope is unreadable").with_source(e)
    })?;
    Ok(Some(envelope.from))
}

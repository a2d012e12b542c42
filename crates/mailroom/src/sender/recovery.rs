//! Messages left behind by senders that stopped: leases released, and messages whose outcome
//! can no longer be known made `Uncertain`, never resent on their own.

use std::time::SystemTime;

use mailroom_store::{Claim, Durability, Entry, EntryId, Filter, SendState, Store};
use tracing::warn;

use super::outcome::make_uncertain;
use crate::error::Error;
use crate::host::{Holder, holder};
use crate::outbox::MTM_ID;

/// What to do with a message whose lease is held by `owner`.
#[derive(Debug, PartialEq, Eq)]
enum Fate {
    /// The holder may still be working: leave it.
    Leave,
    /// The holder stopped before it could have sent it: free it for the next sender.
    Release,
    /// The holder may have sent it: its outcome is unknown.
    Uncertain(&'static str),
}

fn fate(entry: &Entry, now: SystemTime) -> Fate {
    let Some(lease) = &entry.lease else {
        return Fate::Leave;
    };
    let sending = entry.send_state == Some(SendState::Sending);
    match holder(&lease.owner) {
        Holder::Alive => Fate::Leave,
        // Its records reached the log before it died: `Sending` says whether it started.
        Holder::Died if sending => Fate::Uncertain("the sender stopped while sending it"),
        Holder::Died => Fate::Release,
        // Records not yet synced may have been lost with the restart: any message it held
        // might have gone out.
        Holder::Rebooted => Fate::Uncertain("the machine restarted while a sender held it"),
        Holder::Unknown if lease.expires > now => Fate::Leave,
        Holder::Unknown if sending => Fate::Uncertain("its sender stopped while sending it"),
        Holder::Unknown => Fate::Release,
    }
}

/// Settles every Outbox message of the SMTP module whose lease holder has stopped; returns the
/// ones made `Uncertain`.
pub(crate) fn recover(store: &Store, owner: &str, now: SystemTime) -> Result<Vec<Entry>, Error> {
    let mut uncertain = Vec::new();
    let filter = Filter::all().mtm(MTM_ID).leased();
    for entry in store.children(EntryId::OUTBOX, &filter)? {
        let why = match fate(&entry, now) {
            Fate::Leave => continue,
            Fate::Release => None,
            Fate::Uncertain(why) => Some(why),
        };
        let Some(lease) = &entry.lease else { continue };
        warn!(id = %entry.id, holder = %lease.owner, uncertain = why.is_some(), "recovering a message from a stopped sender");
        store.release(entry.id, &lease.owner)?;
        let Some(why) = why else { continue };
        let claim = Claim {
            folder: EntryId::OUTBOX,
            service: entry.service,
            states: &[entry.send_state.unwrap_or(SendState::Waiting)],
            now,
            due_before: Some(super::far_future()),
            owner,
            lease: std::time::Duration::from_secs(60),
            limit: 1,
            ids: Some(&[entry.id]),
        };
        for mut claimed in store.claim(&claim)? {
            make_uncertain(&mut claimed, why);
            store.batch_with(Durability::Full, |b| b.finish(&claimed, owner, None))?;
            uncertain.push(claimed);
        }
    }
    Ok(uncertain)
}

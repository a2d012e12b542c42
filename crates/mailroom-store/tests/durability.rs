//! Relaxed commits: visible to other handles at once, made durable by a later full commit or
//! an explicit sync. (Survival of a killed process is shown by the sender's SIGKILL test.)

use mailroom_store::{Durability, EntryId, Filter, NewEntry, SendState, Store};

#[test]
fn relaxed_commit_is_visible_to_another_handle_and_sync_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let writer = Store::open(dir.path()).unwrap();
    let reader = Store::open(dir.path()).unwrap();
    let id = writer
        .batch_with(Durability::Relaxed, |b| {
            let mut m = NewEntry::message(EntryId::OUTBOX, "smtp", None);
            m.send_state = Some(SendState::Waiting);
            b.create(&m, &mut [])
        })
        .unwrap();
    let seen = reader.children(EntryId::OUTBOX, &Filter::all()).unwrap();
    assert_eq!(seen.iter().map(|e| e.id).collect::<Vec<_>>(), vec![id]);
    writer.sync().unwrap();
    drop(writer);
    drop(reader);
    let again = Store::open(dir.path()).unwrap();
    assert_eq!(
        again.entry(id).unwrap().send_state,
        Some(SendState::Waiting)
    );
}

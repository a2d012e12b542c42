//! Cheap listings: ids only, and only leased children.

use std::time::{Duration, SystemTime};

use mailroom_store::{Claim, EntryId, Filter, NewEntry, SendState, Store};

#[test]
fn child_ids_follow_the_filter_and_leased_lists_only_claimed_entries() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut ids = Vec::new();
    for state in [SendState::Waiting, SendState::Failed, SendState::Waiting] {
        let mut m = NewEntry::message(EntryId::OUTBOX, "smtp", None);
        m.send_state = Some(state);
        ids.push(store.create(&m, &mut []).unwrap());
    }
    let waiting = Filter::all().send_states(&[SendState::Waiting]);
    assert_eq!(
        store.child_ids(EntryId::OUTBOX, &waiting).unwrap(),
        vec![ids[0], ids[2]]
    );
    assert!(
        store
            .child_ids(EntryId::OUTBOX, &Filter::all().leased())
            .unwrap()
            .is_empty()
    );
    let claim = Claim {
        folder: EntryId::OUTBOX,
        service: None,
        states: &[SendState::Waiting],
        now: SystemTime::now(),
        due_before: None,
        owner: "me",
        lease: Duration::from_secs(60),
        limit: 1,
        ids: None,
    };
    let claimed = store.claim(&claim).unwrap();
    let leased = store
        .children(EntryId::OUTBOX, &Filter::all().leased())
        .unwrap();
    assert_eq!(
        leased.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![claimed[0].id]
    );
    assert!(
        store
            .child_ids(EntryId::INBOX, &Filter::all())
            .unwrap()
            .is_empty()
    );
    assert!(store.child_ids(EntryId(99_999), &Filter::all()).is_err());
}

#[test]
fn copying_the_local_service_into_one_of_its_standard_folders_is_a_cycle() {
    use mailroom_store::{InvalidOperation, StoreError};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let result = store.copy(EntryId::LOCAL_SERVICE, EntryId::INBOX);
    assert!(
        matches!(
            result,
            Err(StoreError::Invalid(InvalidOperation::Cycle { .. }))
        ),
        "{result:?}"
    );
}

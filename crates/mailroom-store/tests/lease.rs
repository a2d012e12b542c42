//! Leases within one process: claim, expiry, renew, release, finish.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mailroom_store::{
    Claim, EntryId, Filter, NewEntry, RecipientKind, RecipientRecord, RecipientState, SendState,
    Store, StoreError,
};

const DUE: &[SendState] = &[SendState::Waiting, SendState::Scheduled, SendState::Resend];

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn claim<'a>(owner: &'a str, now: SystemTime, limit: usize) -> Claim<'a> {
    Claim {
        folder: EntryId::OUTBOX,
        service: None,
        states: DUE,
        now,
        owner,
        lease: Duration::from_secs(60),
        limit,
        ids: None,
        due_before: None,
    }
}

fn setup(n: u64) -> (tempfile::TempDir, Store, Vec<EntryId>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let ids = (0..n)
        .map(|i| {
            let mut m = NewEntry::message(EntryId::OUTBOX, "smtp", None);
            m.date = at(1000 + i);
            m.send_state = Some(SendState::Waiting);
            m.recipients = vec![RecipientRecord::new("a@example.com", RecipientKind::To)];
            store.create(&m, &mut []).unwrap()
        })
        .collect();
    (dir, store, ids)
}

#[test]
fn a_live_lease_is_never_taken_and_an_expired_one_is() {
    let (_dir, store, ids) = setup(3);
    let a = store.claim(&claim("a", at(2000), 2)).unwrap();
    assert_eq!(a.iter().map(|e| e.id).collect::<Vec<_>>(), ids[..2]);
    assert_eq!(a[0].lease.as_ref().unwrap().owner, "a");
    assert_eq!(a[0].lease.as_ref().unwrap().expires, at(2060));

    let b = store.claim(&claim("b", at(2059), 10)).unwrap();
    assert_eq!(b.iter().map(|e| e.id).collect::<Vec<_>>(), [ids[2]]);
    assert!(
        store.claim(&claim("a", at(2059), 10)).unwrap().is_empty(),
        "same owner too"
    );

    let late = store.claim(&claim("c", at(2060), 10)).unwrap();
    assert_eq!(
        late.iter().map(|e| e.id).collect::<Vec<_>>(),
        ids[..2],
        "expired at 2060"
    );
}

#[test]
fn claim_honours_state_schedule_service_and_ids() {
    let (_dir, store, ids) = setup(4);
    let svc = store
        .create(&NewEntry::service("smtp", "s"), &mut [])
        .unwrap();
    let mut e = store.entry(ids[0]).unwrap();
    e.send_state = Some(SendState::Scheduled);
    e.scheduled = Some(at(5000));
    store.update(&e).unwrap();
    let mut e = store.entry(ids[1]).unwrap();
    e.send_state = Some(SendState::Suspended);
    store.update(&e).unwrap();
    let mut e = store.entry(ids[2]).unwrap();
    e.service = Some(svc);
    store.update(&e).unwrap();

    let mut c = claim("x", at(4999), 10);
    c.service = Some(svc);
    assert_eq!(
        store
            .claim(&c)
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect::<Vec<_>>(),
        [ids[2]]
    );
    let only = [ids[0], ids[3]];
    let mut c = claim("y", at(4999), 10);
    c.ids = Some(&only);
    let got: Vec<_> = store.claim(&c).unwrap().iter().map(|e| e.id).collect();
    assert_eq!(got, [ids[3]], "ids[0] is scheduled later");
    let got: Vec<_> = store
        .claim(&claim("z", at(5000), 10))
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(got, [ids[0]], "due at its scheduled time; suspended never");
}

#[test]
fn renew_extends_only_the_holders_lease() {
    let (_dir, store, ids) = setup(1);
    let now = SystemTime::now();
    store.claim(&claim("a", now, 1)).unwrap();
    assert!(store.renew(ids[0], "a", Duration::from_secs(3600)).unwrap());
    assert!(!store.renew(ids[0], "b", Duration::from_secs(3600)).unwrap());
    let lease = store.entry(ids[0]).unwrap().lease.unwrap();
    assert!(lease.expires > now + Duration::from_secs(3000));
    assert!(
        store
            .claim(&claim("b", now + Duration::from_secs(120), 1))
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store.renew(EntryId(77_777), "a", Duration::from_secs(1)),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn release_frees_the_message_for_others_but_ignores_strangers() {
    let (_dir, store, ids) = setup(1);
    store.claim(&claim("a", at(2000), 1)).unwrap();
    store.release(ids[0], "b").unwrap();
    assert!(store.entry(ids[0]).unwrap().lease.is_some());
    store.release(ids[0], "a").unwrap();
    assert!(store.entry(ids[0]).unwrap().lease.is_none());
    assert_eq!(store.claim(&claim("b", at(2000), 1)).unwrap().len(), 1);
}

#[test]
fn finish_records_outcome_moves_and_clears_lease_in_one_step() {
    let (_dir, store, ids) = setup(1);
    let mut e = store.claim(&claim("a", at(2000), 1)).unwrap().remove(0);
    e.send_state = Some(SendState::Sent);
    e.recipients[0].state = RecipientState::Accepted;
    e.recipients[0].code = Some(250);
    store.finish(&e, "a", Some(EntryId::SENT)).unwrap();
    let done = store.entry(ids[0]).unwrap();
    assert_eq!(done.parent, EntryId::SENT);
    assert_eq!(done.send_state, Some(SendState::Sent));
    assert_eq!(done.recipients[0].state, RecipientState::Accepted);
    assert!(done.lease.is_none());
    assert!(
        store
            .children(EntryId::OUTBOX, &Filter::all())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn finish_by_a_sender_whose_lease_was_taken_writes_nothing() {
    let (_dir, store, ids) = setup(1);
    let mut stale = store.claim(&claim("a", at(2000), 1)).unwrap().remove(0);
    let taken = store.claim(&claim("b", at(3000), 1)).unwrap();
    assert_eq!(taken.len(), 1, "a's lease expired at 2060");
    stale.send_state = Some(SendState::Sent);
    let err = store.finish(&stale, "a", Some(EntryId::SENT)).unwrap_err();
    assert!(
        matches!(err, StoreError::LeaseLost { id, .. } if id == ids[0]),
        "{err:?}"
    );
    let e = store.entry(ids[0]).unwrap();
    assert_eq!(
        (e.parent, e.send_state),
        (EntryId::OUTBOX, Some(SendState::Waiting))
    );
    assert_eq!(e.lease.unwrap().owner, "b");
}

#[test]
fn claim_from_two_threads_never_hands_out_one_message_twice() {
    let (_dir, store, ids) = setup(200);
    let store = std::sync::Arc::new(store);
    let workers: Vec<_> = ["t1", "t2"]
        .into_iter()
        .map(|owner| {
            let store = store.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    let batch = store.claim(&claim(owner, at(2000), 7)).unwrap();
                    if batch.is_empty() {
                        return got;
                    }
                    got.extend(batch.iter().map(|e| e.id));
                }
            })
        })
        .collect();
    let mut all: Vec<EntryId> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    all.sort();
    assert_eq!(all, ids);
}

#[test]
fn renew_at_follows_the_senders_clock() {
    let (_dir, store, ids) = setup(1);
    store.claim(&claim("a", at(2000), 1)).unwrap();
    assert!(
        store
            .renew_at(ids[0], "a", at(2050), Duration::from_secs(60))
            .unwrap()
    );
    assert_eq!(
        store.entry(ids[0]).unwrap().lease.unwrap().expires,
        at(2110)
    );
    assert!(
        store.claim(&claim("b", at(2100), 1)).unwrap().is_empty(),
        "renewed lease is live"
    );
    assert_eq!(store.claim(&claim("b", at(2110), 1)).unwrap().len(), 1);
}

#[test]
fn marking_several_messages_writes_only_those_the_marker_holds() {
    let (_dir, store, ids) = setup(4);
    let mine = store.claim(&claim("me", at(100), 2)).unwrap();
    let theirs = store.claim(&claim("them", at(100), 2)).unwrap();
    assert_eq!((mine.len(), theirs.len()), (2, 2));
    let marked = store
        .batch(|b| b.set_send_states(&ids, "me", SendState::Sending))
        .unwrap();
    assert_eq!(marked, 2);
    for e in &mine {
        assert_eq!(
            store.entry(e.id).unwrap().send_state,
            Some(SendState::Sending)
        );
    }
    for e in &theirs {
        assert_ne!(
            store.entry(e.id).unwrap().send_state,
            Some(SendState::Sending)
        );
    }
}

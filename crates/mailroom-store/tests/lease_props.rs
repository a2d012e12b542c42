//! Property test of leases: random claims, releases and finishes by three owners at advancing
//! times agree with a simple model, so a live lease is never handed to anyone else and an
//! expired one always can be.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mailroom_store::{Claim, EntryId, NewEntry, SendState, Store, StoreError};
use proptest::prelude::*;

const OWNERS: [&str; 3] = ["a", "b", "c"];
const MESSAGES: usize = 6;

#[derive(Debug, Clone)]
enum Op {
    /// Let time pass (milliseconds).
    Wait(u64),
    /// `owner` claims up to `limit` with a lease of `lease` milliseconds.
    Claim {
        owner: usize,
        limit: usize,
        lease: u64,
    },
    Release {
        msg: usize,
        owner: usize,
    },
    Finish {
        msg: usize,
        owner: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        // Coarse steps, so that a lease often ends exactly at a claim's time.
        (0..20u64).prop_map(|t| Op::Wait(t * 10)),
        (0..3usize, 1..4usize, 1..15u64).prop_map(|(owner, limit, lease)| Op::Claim {
            owner,
            limit,
            lease: lease * 10
        }),
        (0..MESSAGES, 0..3usize).prop_map(|(msg, owner)| Op::Release { msg, owner }),
        (0..MESSAGES, 0..3usize).prop_map(|(msg, owner)| Op::Finish { msg, owner }),
    ]
}

/// The model: per message, its holder and lease expiry (ms), and whether it was sent.
#[derive(Default, Clone)]
struct Msg {
    holder: Option<(usize, u64)>,
    sent: bool,
}

fn run(ops: &[Op]) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let base = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let at = |ms: u64| base + Duration::from_millis(ms);
    let ids: Vec<EntryId> = (0..MESSAGES)
        .map(|i| {
            let mut m = NewEntry::message(EntryId::OUTBOX, "smtp", None);
            m.date = UNIX_EPOCH + Duration::from_secs(i as u64);
            m.send_state = Some(SendState::Waiting);
            store.create(&m, &mut []).unwrap()
        })
        .collect();
    let mut model = vec![Msg::default(); MESSAGES];
    let mut now = 0u64;
    for op in ops {
        match *op {
            Op::Wait(ms) => now += ms,
            Op::Claim {
                owner,
                limit,
                lease,
            } => {
                let got = store
                    .claim(&Claim {
                        folder: EntryId::OUTBOX,
                        service: None,
                        states: &[SendState::Waiting],
                        now: at(now),
                        owner: OWNERS[owner],
                        lease: Duration::from_millis(lease),
                        limit,
                        ids: None,
                        due_before: None,
                    })
                    .unwrap();
                let expected: Vec<usize> = (0..MESSAGES)
                    .filter(|&i| !model[i].sent)
                    .filter(|&i| model[i].holder.is_none_or(|(_, until)| until <= now))
                    .take(limit)
                    .collect();
                let got_idx: Vec<usize> = got
                    .iter()
                    .map(|e| ids.iter().position(|i| *i == e.id).unwrap())
                    .collect();
                assert_eq!(got_idx, expected, "claim by {owner} at {now}");
                for i in expected {
                    model[i].holder = Some((owner, now + lease));
                }
            }
            Op::Release { msg, owner } => {
                store.release(ids[msg], OWNERS[owner]).unwrap();
                if model[msg].holder.is_some_and(|(h, _)| h == owner) {
                    model[msg].holder = None;
                }
            }
            Op::Finish { msg, owner } => {
                let mut e = store.entry(ids[msg]).unwrap();
                e.send_state = Some(SendState::Sent);
                let result = store.finish(&e, OWNERS[owner], Some(EntryId::SENT));
                if model[msg].holder.is_some_and(|(h, _)| h == owner) {
                    result.unwrap();
                    model[msg] = Msg {
                        holder: None,
                        sent: true,
                    };
                } else {
                    assert!(
                        matches!(result, Err(StoreError::LeaseLost { .. })),
                        "{result:?}"
                    );
                }
            }
        }
        // The store's leases and folders match the model exactly.
        let stored: BTreeMap<usize, Option<(String, SystemTime)>> = (0..MESSAGES)
            .map(|i| {
                let e = store.entry(ids[i]).unwrap();
                assert_eq!(e.parent == EntryId::SENT, model[i].sent);
                (i, e.lease.map(|l| (l.owner, l.expires)))
            })
            .collect();
        for (i, lease) in stored {
            let expected = model[i]
                .holder
                .map(|(h, until)| (OWNERS[h].to_owned(), at(until)));
            assert_eq!(lease, expected, "lease of message {i} after {op:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(64), ..ProptestConfig::default() })]

    #[test]
    fn leases_follow_the_model(ops in proptest::collection::vec(op(), 1..40)) {
        run(&ops);
    }
}

/// How many cases a property test runs: `PROPTEST_CASES` when set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

//! Crash safety: a child process enqueues messages and is killed with SIGKILL at a random point,
//! again and again; every message it acknowledged must be present and intact afterwards, and no
//! message may be half-written.
//!
//! SIGKILL tests process death only; power loss is covered by the commit mode (WAL with
//! `synchronous=FULL`, checked in the store's unit tests), not by this test.

#[path = "../src/bin/mailroom-store-harness/payload.rs"]
#[allow(dead_code)]
mod payload;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use mailroom_store::{EntryId, EntryKind, Filter, RecipientKind, SendState, Store};
use rand::Rng;

const HARNESS: &str = env!("CARGO_BIN_EXE_mailroom-store-harness");
const PER_CHILD: u64 = 1000;

/// Runs one child that enqueues `PER_CHILD` messages from `start`, kills it after `kill_after`,
/// and returns the (seq, id) pairs it acknowledged, and whether it finished before the kill.
fn run_child(dir: &std::path::Path, start: u64, kill_after: Duration) -> (Vec<(u64, i64)>, bool) {
    let mut child = Command::new(HARNESS)
        .args([
            "enqueue",
            dir.to_str().unwrap(),
            &start.to_string(),
            &PER_CHILD.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map(|l| {
                let l = l.unwrap();
                let mut w = l.split(' ').skip(1);
                (
                    w.next().unwrap().parse().unwrap(),
                    w.next().unwrap().parse().unwrap(),
                )
            })
            .collect::<Vec<(u64, i64)>>()
    });
    let deadline = std::time::Instant::now() + kill_after;
    let mut finished = child.try_wait().unwrap().is_some();
    while !finished && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1).min(deadline - std::time::Instant::now()));
        finished = child.try_wait().unwrap().is_some();
    }
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    let acks = reader.join().unwrap();
    if finished {
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert!(status.success(), "child failed on its own: {err}");
    }
    (acks, finished)
}

/// Checks one stored message against what the child wrote for `seq`.
fn check_message(store: &Store, id: EntryId, seq: u64) {
    let e = store.entry(id).unwrap();
    assert_eq!(e.parent, EntryId::OUTBOX);
    assert_eq!(e.kind, EntryKind::Message);
    assert_eq!(e.description, payload::subject(seq));
    assert_eq!(e.send_state, Some(SendState::Waiting));
    assert_eq!(
        e.email.message_id.as_deref(),
        Some(format!("<{seq}@crash.test>").as_str())
    );
    assert_eq!(e.recipients.len(), 2, "message {seq}");
    assert_eq!(e.recipients[0].address, format!("rcpt{seq}@example.com"));
    assert_eq!(e.recipients[1].kind, RecipientKind::Bcc);
    let len = payload::body_len(seq);
    assert_eq!(e.size, len);
    let mut body = Vec::new();
    store
        .open_stream(id, "mime")
        .unwrap()
        .read_to_end(&mut body)
        .unwrap();
    assert_eq!(body.len() as u64, len, "message {seq} body length");
    let bad = body
        .iter()
        .enumerate()
        .position(|(i, b)| *b != payload::body_byte(seq, i as u64));
    assert_eq!(bad, None, "message {seq} body differs");
}

#[test]
fn sigkill_during_enqueue_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("store");
    // A first full run measures how long 1,000 enqueues take on this machine.
    let started = std::time::Instant::now();
    let (first, finished) = run_child(&store_dir, 0, Duration::from_secs(120));
    assert!(finished && first.len() == PER_CHILD as usize);
    let full = started.elapsed().max(Duration::from_millis(50));

    let mut rng = rand::rng();
    let mut acked: HashMap<u64, i64> = first.into_iter().collect();
    let mut kills = 0;
    let mut last_checked = 0;
    for round in 1..=20u64 {
        let after = full.mul_f64(rng.random_range(0.0..1.0));
        let (acks, finished) = run_child(&store_dir, round * PER_CHILD, after);
        kills += u32::from(!finished);
        acked.extend(acks);

        let store = Store::open(&store_dir).unwrap();
        store.check().unwrap();
        let present = store
            .children(EntryId::OUTBOX, &Filter::all().kind(EntryKind::Message))
            .unwrap();
        let by_id: HashMap<i64, &str> = present
            .iter()
            .map(|e| (e.id.0, e.description.as_str()))
            .collect();
        for (&seq, &id) in &acked {
            assert_eq!(
                by_id.get(&id).copied(),
                Some(payload::subject(seq).as_str()),
                "seq {seq}"
            );
        }
        // Every message present, acknowledged or not, is whole: nothing half-written. Earlier
        // rounds' messages were checked already; check those of this round.
        for e in present.iter().filter(|e| e.id.0 > last_checked) {
            let seq: u64 = e.description.rsplit(' ').next().unwrap().parse().unwrap();
            check_message(&store, e.id, seq);
        }
        last_checked = present.iter().map(|e| e.id.0).max().unwrap_or(last_checked);
        assert!(present.len() >= acked.len());
        assert!(
            present.len() <= acked.len() + round as usize,
            "at most one unacked per kill"
        );
    }
    assert!(
        kills >= 10,
        "only {kills} of 20 children were killed mid-run"
    );
}

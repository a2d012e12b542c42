//! Two processes claim from one Outbox at once: no message is ever leased to both while a lease
//! is live, and every message is finished exactly once. Also: one process notices the other's
//! changes.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use mailroom_store::{EntryId, EntryKind, Event, Filter, NewEntry, SendState, Store};

const HARNESS: &str = env!("CARGO_BIN_EXE_mailroom-store-harness");

fn fill_outbox(dir: &Path, n: usize) -> Store {
    let store = Store::open(dir).unwrap();
    store
        .batch(|b| {
            for i in 0..n {
                let mut m = NewEntry::message(EntryId::OUTBOX, "smtp", None);
                m.description = format!("m{i}");
                m.send_state = Some(SendState::Waiting);
                b.create(&m, &mut [])?;
            }
            Ok(())
        })
        .unwrap();
    store
}

fn spawn_claimer(dir: &Path, owner: &str, lease_ms: u64, batch: usize, work_us: u64) -> Child {
    Command::new(HARNESS)
        .args(["claim", dir.to_str().unwrap(), owner])
        .args([lease_ms.to_string(), batch.to_string(), work_us.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// What one claimer reported.
#[derive(Default)]
struct Report {
    /// (id, claimed at, lease expiry) in microseconds.
    claims: Vec<(i64, u128, u128)>,
    finished_ok: Vec<i64>,
    finished_lost: Vec<i64>,
}

/// Starts both claimers together and collects their reports.
fn race(dir: &Path, lease_ms: u64, batch: usize, work_us: u64) -> [Report; 2] {
    let mut kids = [
        spawn_claimer(dir, "proc-a", lease_ms, batch, work_us),
        spawn_claimer(dir, "proc-b", lease_ms, batch, work_us),
    ];
    for k in &mut kids {
        writeln!(k.stdin.as_mut().unwrap(), "go").unwrap();
    }
    kids.map(|mut k| {
        let mut report = Report::default();
        for line in BufReader::new(k.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            let w: Vec<&str> = line.split(' ').collect();
            match w[0] {
                "claim" => report.claims.push((
                    w[1].parse().unwrap(),
                    w[2].parse().unwrap(),
                    w[3].parse().unwrap(),
                )),
                "finish" if w[2] == "ok" => report.finished_ok.push(w[1].parse().unwrap()),
                "finish" => report.finished_lost.push(w[1].parse().unwrap()),
                other => panic!("unexpected line {other}"),
            }
        }
        assert!(k.wait().unwrap().success());
        report
    })
}

#[test]
fn two_processes_never_claim_the_same_message_with_live_leases() {
    let dir = tempfile::tempdir().unwrap();
    let store = fill_outbox(dir.path(), 1000);
    let [a, b] = race(dir.path(), 60_000, 5, 200);
    assert!(
        !a.claims.is_empty() && !b.claims.is_empty(),
        "both processes took part"
    );

    let mut owner: HashMap<i64, &str> = HashMap::new();
    for (who, r) in [("a", &a), ("b", &b)] {
        for (id, ..) in &r.claims {
            assert_eq!(owner.insert(*id, who), None, "message {id} claimed twice");
        }
        assert!(r.finished_lost.is_empty());
    }
    assert_eq!(owner.len(), 1000);
    assert_eq!(a.finished_ok.len() + b.finished_ok.len(), 1000);
    let sent = store
        .children(EntryId::SENT, &Filter::all().kind(EntryKind::Message))
        .unwrap();
    assert_eq!(sent.len(), 1000);
    assert!(
        sent.iter()
            .all(|e| e.lease.is_none() && e.send_state == Some(SendState::Sent))
    );
    assert!(
        store
            .children(EntryId::OUTBOX, &Filter::all())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn expired_leases_are_retaken_but_never_overlap_and_stale_finishes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = fill_outbox(dir.path(), 200);
    // Leases of 20 ms with 15 ms of work per message and batches of 4: most leases expire
    // before their holder gets to them, so the two processes keep taking over each other's.
    let [a, b] = race(dir.path(), 20, 4, 15_000);

    let mut claims: HashMap<i64, Vec<(u128, u128)>> = HashMap::new();
    for r in [&a, &b] {
        for &(id, at, until) in &r.claims {
            claims.entry(id).or_default().push((at, until));
        }
    }
    let retaken = claims.values().filter(|c| c.len() > 1).count();
    assert!(retaken > 0, "the test did not exercise expiry");
    for (id, mut spans) in claims {
        spans.sort();
        for pair in spans.windows(2) {
            assert!(
                pair[1].0 >= pair[0].1,
                "message {id}: lease taken while live {pair:?}"
            );
        }
    }
    let mut ok: Vec<i64> = a
        .finished_ok
        .iter()
        .chain(&b.finished_ok)
        .copied()
        .collect();
    ok.sort();
    ok.dedup();
    assert_eq!(
        ok.len(),
        a.finished_ok.len() + b.finished_ok.len(),
        "finished twice"
    );
    assert_eq!(ok.len(), 200, "every message finished exactly once");
    assert!(a.finished_lost.len() + b.finished_lost.len() > 0);
    assert_eq!(
        store.children(EntryId::SENT, &Filter::all()).unwrap().len(),
        200
    );
}

#[test]
fn another_process_sees_changes_through_data_version_and_the_change_log() {
    let dir = tempfile::tempdir().unwrap();
    let watcher = Store::open(dir.path()).unwrap();
    let start = watcher.last_change().unwrap();
    assert!(!watcher.has_external_changes().unwrap());

    let out = Command::new(HARNESS)
        .args(["enqueue", dir.path().to_str().unwrap(), "0", "3"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let ids: Vec<EntryId> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| EntryId(l.rsplit(' ').next().unwrap().parse().unwrap()))
        .collect();

    assert!(watcher.has_external_changes().unwrap());
    assert!(
        !watcher.has_external_changes().unwrap(),
        "reset after reading"
    );
    let log = watcher.changes_since(start, 100).unwrap();
    assert!(!log.missed);
    let events: Vec<Event> = log.changes.iter().map(|c| c.event).collect();
    let expected: Vec<Event> = ids
        .iter()
        .map(|&id| Event::Created {
            id,
            parent: EntryId::OUTBOX,
        })
        .collect();
    assert_eq!(events, expected);
    assert_eq!(
        watcher.last_change().unwrap(),
        log.changes.last().unwrap().seq
    );

    // The watcher's own commits do not count as external.
    watcher.delete(ids[0]).unwrap();
    assert!(!watcher.has_external_changes().unwrap());
}

#[test]
fn leases_of_a_killed_sender_block_its_messages_only_until_they_expire() {
    use std::time::{Duration, SystemTime};

    use mailroom_store::Claim;

    let dir = tempfile::tempdir().unwrap();
    let store = fill_outbox(dir.path(), 10);
    let mut dead = spawn_claimer(dir.path(), "doomed", 2000, 10, 60_000_000);
    writeln!(dead.stdin.as_mut().unwrap(), "go").unwrap();
    let mut lines = BufReader::new(dead.stdout.take().unwrap()).lines();
    let claimed: Vec<String> = (0..10).map(|_| lines.next().unwrap().unwrap()).collect();
    assert!(claimed.iter().all(|l| l.starts_with("claim ")));
    dead.kill().unwrap();
    dead.wait().unwrap();

    let claim = |now| Claim {
        folder: EntryId::OUTBOX,
        service: None,
        states: &[SendState::Waiting],
        now,
        owner: "survivor",
        lease: Duration::from_secs(60),
        limit: 100,
        ids: None,
        due_before: None,
    };
    assert!(
        store.claim(&claim(SystemTime::now())).unwrap().is_empty(),
        "leases still live"
    );
    std::thread::sleep(Duration::from_millis(2100));
    let retaken = store.claim(&claim(SystemTime::now())).unwrap();
    assert_eq!(retaken.len(), 10);
    assert!(
        retaken
            .iter()
            .all(|e| e.lease.as_ref().unwrap().owner == "survivor")
    );
}

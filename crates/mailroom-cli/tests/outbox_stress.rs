//! Several sender processes on one outbox, and senders killed mid-flush: every message arrives
//! exactly once, except those left Uncertain, which arrive at most once; none is lost.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mailroom::mime::{Mailbox, Message};
use mailroom::store::{EntryId, Filter, SendState, Store};
use mailroom::{Outbox, SendOption};
use mailroom_testkit::{CaptureOptions, CaptureServer};

const MESSAGES: usize = 1000;

fn enqueue(dir: &Path, count: usize) -> Vec<String> {
    let store = Arc::new(Store::open(dir).unwrap());
    let outbox = Outbox::new(store, None);
    (0..count)
        .map(|i| {
            let id = format!("<stress-{i}@example.com>");
            let message = Message {
                from: Some(Mailbox::parse("alice@example.com").unwrap()),
                to: vec![Mailbox::parse("bob@example.net").unwrap()],
                subject: Some(format!("message {i}")),
                message_id: Some(id.clone()),
                text: Some("x".repeat(2000)),
                ..Message::default()
            };
            outbox
                .queue_message(&message, None, SendOption::OnRequest)
                .unwrap();
            id
        })
        .collect()
}

fn flush(dir: &Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .arg("--store")
        .arg(dir)
        .args([
            "flush",
            "--server",
            &format!("smtp://127.0.0.1:{port}"),
            "--tls",
            "none",
            "-q",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// How many times each Message-ID reached the server.
fn received(server: &CaptureServer) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for m in server.messages() {
        let data = String::from_utf8_lossy(&m.data()).to_string();
        let id = data
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: "))
            .expect("a Message-ID")
            .trim()
            .to_string();
        *counts.entry(id).or_default() += 1;
    }
    counts
}

fn states(dir: &Path) -> HashMap<String, (EntryId, SendState)> {
    let store = Store::open(dir).unwrap();
    let mut out = HashMap::new();
    for folder in [EntryId::OUTBOX, EntryId::SENT] {
        for e in store.children(folder, &Filter::all()).unwrap() {
            out.insert(
                e.email.message_id.clone().unwrap(),
                (e.parent, e.send_state.unwrap()),
            );
        }
    }
    out
}

#[test]
fn two_sender_processes_flush_one_outbox_and_every_message_arrives_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let ids = enqueue(dir.path(), MESSAGES);
    let server = CaptureServer::start(&CaptureOptions::default(), None);
    let a = flush(dir.path(), server.port());
    let b = flush(dir.path(), server.port());
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let counts = received(&server);
    assert_eq!(counts.len(), MESSAGES);
    for id in &ids {
        assert_eq!(
            counts.get(id),
            Some(&1),
            "{id} arrived {:?} times",
            counts.get(id)
        );
    }
    let states = states(dir.path());
    assert!(
        states
            .values()
            .all(|(folder, s)| *folder == EntryId::SENT && *s == SendState::Sent)
    );
}

#[test]
fn sender_killed_at_random_points_loses_nothing_and_duplicates_only_uncertain_ones() {
    let dir = tempfile::tempdir().unwrap();
    let ids = enqueue(dir.path(), MESSAGES);
    let server = CaptureServer::start(&CaptureOptions::default(), None);
    let mut kills = 0;
    let started = Instant::now();
    for round in 0..6u64 {
        let mut child = flush(dir.path(), server.port());
        // Spread the kills over the flush: about 0.1 to 0.9 s in.
        let pause = 100 + (round * 7919 + started.elapsed().subsec_nanos() as u64) % 800;
        std::thread::sleep(Duration::from_millis(pause));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        }
        child.wait().unwrap();
    }
    assert!(kills > 0, "no sender was killed mid-flush");
    // Flush until nothing sendable is left: a loaded machine can make an attempt fail
    // transiently (the message is then deferred, and a flush takes deferred ones too).
    for _ in 0..5 {
        let out = flush(dir.path(), server.port()).wait_with_output().unwrap();
        let left = states(dir.path())
            .values()
            .filter(|(_, s)| !matches!(s, SendState::Sent | SendState::Uncertain))
            .count();
        if left == 0 {
            break;
        }
        eprintln!(
            "{left} left after a flush: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let counts = received(&server);
    let states = states(dir.path());
    assert_eq!(states.len(), MESSAGES, "messages were lost from the store");
    let mut uncertain = 0;
    for id in &ids {
        let (folder, state) = states[id];
        let n = counts.get(id).copied().unwrap_or(0);
        match state {
            SendState::Sent => {
                assert_eq!(folder, EntryId::SENT);
                assert_eq!(n, 1, "{id} was sent {n} times");
            }
            SendState::Uncertain => {
                uncertain += 1;
                assert!(n <= 1, "{id} (uncertain) arrived {n} times");
            }
            other => panic!("{id} was left {other:?} after the final flush"),
        }
    }
    eprintln!(
        "{kills} kills, {uncertain} uncertain, {} delivered",
        counts.len()
    );
    // A sender holds a few messages marked `Sending` without a synced outcome at a time: the
    // ones made ready ahead (8 per commit) and those whose outcome waits for the next commit.
    assert!(
        uncertain <= 24 * kills,
        "{uncertain} uncertain after {kills} kills"
    );
}

#[test]
fn messages_of_a_killed_flush_are_settled_by_the_next_flush_with_nothing_else_queued() {
    // A flush killed while its messages are marked as being sent; nothing else is queued.
    // The next plain `flush` (through an account) must settle them and say so, not answer
    // "nothing to send" and leave them looking busy for good; the ones the dead sender had not
    // marked go out.
    let dir = tempfile::tempdir().unwrap();
    let ids = enqueue(dir.path(), 12);
    let slow = CaptureServer::start(
        &CaptureOptions {
            delay_data: Some(Duration::from_secs(30)),
            ..CaptureOptions::default()
        },
        None,
    );
    let mut child = flush(dir.path(), slow.port());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !states(dir.path())
        .values()
        .any(|(_, s)| *s == SendState::Sending)
    {
        assert!(Instant::now() < deadline, "the flush never started sending");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let fast = CaptureServer::start(&CaptureOptions::default(), None);
    let mailroom = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mailroom"))
            .arg("--store")
            .arg(dir.path())
            .args(args)
            .env_remove("MAILROOM_STORE")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let server = format!("smtp://127.0.0.1:{}", fast.port());
    let added = mailroom(&["account", "add", "a1", "--server", &server, "--tls", "none"]);
    assert!(added.status.success(), "{added:?}");
    let out = mailroom(&["flush"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("nothing to send"), "{stdout}");
    assert!(stdout.contains("outcome unknown"), "{stdout}");
    // The one on the wire when the sender died is uncertain (exit 75); none is still busy,
    // and every other one went out.
    assert_eq!(out.status.code(), Some(75), "{out:?}");
    let states = states(dir.path());
    let uncertain = ids
        .iter()
        .filter(|id| states[*id].1 == SendState::Uncertain)
        .count();
    let sent = ids
        .iter()
        .filter(|id| states[*id] == (EntryId::SENT, SendState::Sent))
        .count();
    assert!(uncertain >= 1, "{states:?}");
    assert_eq!(uncertain + sent, 12, "{states:?}");
    assert!(sent >= 1, "{states:?}");
    assert_eq!(fast.wait_for(sent, Duration::from_secs(10)).len(), sent);
}

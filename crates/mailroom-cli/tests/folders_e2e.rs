//! The folders end to end: outbox, show, cancel, resend, delete, sent, flush of queued and
//! named messages, and watch with its signals.

mod common;

use std::time::Duration;

use common::*;

use mailroom_testkit::{CaptureOptions, CaptureServer};

const WAIT: Duration = Duration::from_secs(20);

fn plain_server() -> CaptureServer {
    CaptureServer::start(&CaptureOptions::default(), None)
}

#[test]
fn outbox_show_cancel_flush_resend_sent_delete() {
    let server = plain_server();
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "work", server.port(), "alice@example.com");
    let out = run(mailroom(store.path())
        .args([
            "send",
            "--to",
            "bob@example.net",
            "--bcc",
            "c@example.org",
            "--subject",
            "Later",
        ])
        .args(["--body", "queued body", "--when", "on-request", "--json"]));
    ok(&out);
    let id = json(&out)["id"].as_i64().unwrap();
    let outbox = json(&run(mailroom(store.path()).args(["outbox", "--json"])));
    assert_eq!(outbox[0]["id"], id);
    assert_eq!(outbox[0]["state"], "upon_request");
    assert_eq!(outbox[0]["account"], "work");
    assert_eq!(outbox[0]["recipients"][1]["address"], "c@example.org");
    let shown = json(&run(mailroom(store.path()).args([
        "show",
        &id.to_string(),
        "--json",
    ])));
    assert_eq!(shown["headers"]["subject"], "Later");
    assert_eq!(shown["headers"]["bcc"][0], "c@example.org");
    assert_eq!(shown["body"], "queued body");
    assert_eq!(shown["folder"], "outbox");
    let raw = run(mailroom(store.path()).args(["show", &id.to_string(), "--raw"]));
    ok(&raw);
    assert!(!text(&raw.stdout).contains("c@example.org"));

    ok(&run(
        mailroom(store.path()).args(["cancel", &id.to_string()])
    ));
    let out = run(mailroom(store.path()).args(["flush"]));
    ok(&out);
    assert_eq!(
        text(&out.stdout).trim(),
        "nothing to send",
        "a suspended message is not flushed"
    );
    let out = run(mailroom(store.path()).args(["resend", &id.to_string(), "--json"]));
    ok(&out);
    assert_eq!(json(&out)["state"], "sent");
    let got = server.wait_for(1, WAIT);
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].data(),
        raw.stdout,
        "show --raw printed the bytes that were sent"
    );
    let sent = json(&run(mailroom(store.path()).args(["sent", "--json"])));
    assert_eq!(sent[0]["id"], id);
    assert_eq!(sent[0]["recipients"][0]["code"], 250);
    let shown = run(mailroom(store.path()).args(["show", &id.to_string()]));
    assert!(
        text(&shown.stdout).starts_with(&format!("Message {id} (sent)\n")),
        "{}",
        text(&shown.stdout)
    );
    ok(&run(
        mailroom(store.path()).args(["delete", &id.to_string()])
    ));
    let sent = json(&run(mailroom(store.path()).args(["sent", "--json"])));
    assert_eq!(sent, serde_json::json!([]));
    let out = run(mailroom(store.path()).args(["show", &id.to_string()]));
    assert_eq!(code(&out), 65);
}

#[test]
fn flush_sends_deferred_now_and_suspended_only_when_named() {
    let server = plain_server();
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "work", server.port(), "alice@example.com");
    let mut ids = Vec::new();
    for when in [
        ["--at", "+3600"],
        ["--when", "on-request"],
        ["--when", "on-request"],
    ] {
        let out = run(mailroom(store.path())
            .args(["send", "--to", "bob@example.net", "--body", "x", "--json"])
            .args(when));
        ok(&out);
        ids.push(json(&out)["id"].as_i64().unwrap());
    }
    let outbox = json(&run(mailroom(store.path()).args(["outbox", "--json"])));
    assert_eq!(outbox[0]["state"], "scheduled");
    ok(&run(
        mailroom(store.path()).args(["cancel", &ids[2].to_string()])
    ));
    let out = run(mailroom(store.path()).args(["flush", "--json"]));
    ok(&out);
    let reports = json(&out);
    let flushed: Vec<_> = reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    let mut flushed = flushed;
    flushed.sort();
    assert_eq!(flushed, ids[..2]);
    server.wait_for(2, WAIT);
    let out = run(mailroom(store.path()).args(["flush", &ids[2].to_string(), "--json"]));
    ok(&out);
    assert_eq!(json(&out)[0]["state"], "sent");
    assert_eq!(server.wait_for(3, WAIT).len(), 3);
}

#[test]
fn watch_sends_when_due_and_stops_cleanly_on_sigterm() {
    let server = plain_server();
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "work", server.port(), "alice@example.com");
    let out = run(mailroom(store.path()).args([
        "send",
        "--to",
        "bob@example.net",
        "--body",
        "scheduled",
        "--at",
        "+2s",
    ]));
    ok(&out);
    let child = mailroom(store.path())
        .args(["watch", "--json"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let got = server.wait_for(1, WAIT);
    assert_eq!(got.len(), 1);
    std::thread::sleep(Duration::from_millis(500));
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    ok(&out);
    let first = text(&out.stdout).lines().next().unwrap_or("").to_string();
    let report: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(report["state"], "sent");
}

#[test]
fn watch_finishes_the_message_in_flight_on_sigint() {
    let options = CaptureOptions {
        delay_data: Some(Duration::from_secs(3)),
        ..CaptureOptions::default()
    };
    let server = CaptureServer::start(&options, None);
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "work", server.port(), "alice@example.com");
    let out = run(mailroom(store.path()).args([
        "send",
        "--to",
        "bob@example.net",
        "--body",
        "in flight",
        "--at",
        "+1s",
    ]));
    ok(&out);
    let child = mailroom(store.path())
        .args(["watch", "--json"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the watcher has marked the message as being sent, then interrupt it.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let outbox = json(&run(mailroom(store.path()).args(["outbox", "--json"])));
        if outbox[0]["state"] == "sending" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never sending: {outbox}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    ok(&out);
    let report: serde_json::Value =
        serde_json::from_str(text(&out.stdout).lines().next().expect("a report")).unwrap();
    assert_eq!(report["state"], "sent", "{}", text(&out.stderr));
    assert_eq!(server.messages().len(), 1);
    let sent = json(&run(mailroom(store.path()).args(["sent", "--json"])));
    assert_eq!(sent[0]["recipients"][0]["state"], "accepted");
}

#[test]
fn flush_sends_each_message_through_its_own_account() {
    let one = CaptureServer::start(&CaptureOptions::default(), None);
    let two = CaptureServer::start(&CaptureOptions::default(), None);
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "one", one.port(), "one@example.com");
    add_account(store.path(), "two", two.port(), "two@example.com");
    for account in ["one", "two", "one"] {
        let out = run(mailroom(store.path())
            .args(["send", "--account", account, "--to", "bob@example.net"])
            .args(["--body", account, "--when", "on-request"]));
        ok(&out);
    }
    let out = run(mailroom(store.path()).args(["flush", "--json"]));
    ok(&out);
    assert_eq!(json(&out).as_array().unwrap().len(), 3);
    let got_one = one.wait_for(2, WAIT);
    let got_two = two.wait_for(1, WAIT);
    assert!(got_one.iter().all(|m| m.mail_from == "one@example.com"));
    assert_eq!(got_one.len(), 2);
    assert_eq!(got_two.len(), 1);
    assert_eq!(got_two[0].mail_from, "two@example.com");
}

#[test]
fn watch_sends_each_account_through_its_own_server() {
    let one = CaptureServer::start(&CaptureOptions::default(), None);
    let two = CaptureServer::start(&CaptureOptions::default(), None);
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "one", one.port(), "one@example.com");
    add_account(store.path(), "two", two.port(), "two@example.com");
    for account in ["one", "two"] {
        let out = run(mailroom(store.path())
            .args(["send", "--account", account, "--to", "bob@example.net"])
            .args(["--body", account, "--at", "+1s"]));
        ok(&out);
    }
    let child = mailroom(store.path())
        .args(["watch", "--json"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(one.wait_for(1, WAIT)[0].mail_from, "one@example.com");
    assert_eq!(two.wait_for(1, WAIT)[0].mail_from, "two@example.com");
    std::thread::sleep(Duration::from_millis(300));
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    ok(&out);
    assert_eq!(
        text(&out.stdout).lines().count(),
        2,
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn output_to_a_closed_pipe_or_a_full_disk_is_an_exit_code_not_a_panic() {
    let store = tempfile::tempdir().unwrap();
    for i in 0..3 {
        ok(&run(mailroom(store.path())
            .args([
                "send",
                "--when",
                "on-request",
                "--server",
                "smtp://127.0.0.1:9",
                "--tls",
                "none",
                "--from",
                "a@example.com",
                "--to",
                "b@example.com",
                "--body",
                "x",
                "--subject",
            ])
            .arg(format!("s{i}"))));
    }
    // The reader goes away at once: the command ends as it would have, without a panic.
    let mut child = mailroom(store.path())
        .args(["outbox", "--json"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(code(&out), 0, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // A full disk loses the output the caller asked for: said, and exit 74.
    let full = std::fs::File::create("/dev/full").unwrap();
    let out = mailroom(store.path())
        .args(["outbox", "--json"])
        .stdin(std::process::Stdio::null())
        .stdout(full)
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(code(&out), 74, "{stderr}");
    assert!(stderr.contains("could not be written"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

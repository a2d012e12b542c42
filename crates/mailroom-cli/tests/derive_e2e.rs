//! Replies, forwards and find end to end, and the manual page, completions and help.

mod common;

use std::time::Duration;

use common::*;
use mail_parser::MessageParser;
use mailroom_testkit::{CaptureOptions, CaptureServer};

const WAIT: Duration = Duration::from_secs(20);

fn plain_server() -> CaptureServer {
    CaptureServer::start(&CaptureOptions::default(), None)
}

#[test]
fn reply_forward_and_find() {
    let server = plain_server();
    let store = tempfile::tempdir().unwrap();
    add_account(
        store.path(),
        "work",
        server.port(),
        "Alice <alice@example.com>",
    );
    let out = run(mailroom(store.path())
        .args([
            "send",
            "--to",
            "Bob <bob@example.net>",
            "--cc",
            "carol@example.org",
        ])
        .args([
            "--subject",
            "Budget",
            "--body",
            "The zebra numbers are in.",
            "--json",
        ]));
    ok(&out);
    let id = json(&out)["id"].as_i64().unwrap().to_string();
    let original_id = server.wait_for(1, WAIT)[0].data();
    let original = MessageParser::default().parse(&original_id).unwrap();
    let mid = original.message_id().unwrap().to_string();

    let out = run(mailroom(store.path()).args([
        "reply", &id, "--all", "--body", "Thanks", "--send", "--json",
    ]));
    ok(&out);
    let out = run(mailroom(store.path()).args([
        "forward",
        &id,
        "--as-attachment",
        "--to",
        "dave@example.org",
        "--send",
        "--json",
    ]));
    ok(&out);
    let got = server.wait_for(3, WAIT);
    let reply = MessageParser::default()
        .parse(&got[1].data())
        .unwrap()
        .into_owned();
    assert_eq!(reply.subject(), Some("Re: Budget"));
    assert_eq!(reply.in_reply_to().as_text(), Some(mid.as_str()));
    let mut rcpts = got[1].rcpt_tos.clone();
    rcpts.sort();
    assert_eq!(rcpts, ["bob@example.net", "carol@example.org"]);
    assert!(reply.body_text(0).unwrap().starts_with("Thanks"));
    let fwd = MessageParser::default()
        .parse(&got[2].data())
        .unwrap()
        .into_owned();
    assert_eq!(got[2].rcpt_tos, ["dave@example.org"]);
    assert_eq!(fwd.subject(), Some("Fwd: Budget"));
    let attached = fwd.attachment(0).expect("the original attached");
    assert!(attached.is_message());

    let out = run(mailroom(store.path()).args(["find", "zebra", "--in", "body", "--json"]));
    ok(&out);
    let found = json(&out);
    let ids: Vec<_> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap().to_string())
        .collect();
    assert!(ids.contains(&id), "{found}");
    assert_eq!(found[0]["matches"][0]["field"], "body");
    let out = run(mailroom(store.path()).args(["find", "zebra", "--in", "subject"]));
    assert_eq!(code(&out), 1, "nothing found");
}

#[test]
fn man_page_completions_and_help_cover_every_command() {
    let store = tempfile::tempdir().unwrap();
    let out = run(mailroom(store.path()).arg("man"));
    ok(&out);
    let man = text(&out.stdout);
    assert!(man.contains(".TH mailroom"));
    for command in [
        "send", "flush", "account", "outbox", "sendmail", "reply", "watch",
    ] {
        assert!(
            man.contains(&format!("mailroom\\-{command}")),
            "no {command} in the man page"
        );
    }
    assert!(man.contains("dry\\-run"));
    for shell in ["bash", "zsh", "fish"] {
        let out = run(mailroom(store.path()).args(["completions", shell]));
        ok(&out);
        assert!(text(&out.stdout).contains("dsn-notify"), "{shell}");
    }
    let out = run(mailroom(store.path()).args(["send", "--help"]));
    ok(&out);
    for option in [
        "--attach",
        "--html-file",
        "--header",
        "--receipt",
        "--priority",
        "--dsn-notify",
        "--dsn-ret",
        "--at",
        "--dry-run",
        "--account",
    ] {
        assert!(
            text(&out.stdout).contains(option),
            "{option} missing from send --help"
        );
    }
}

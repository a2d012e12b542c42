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
    // Empty text is a usage error, not "nothing found".
    for empty in ["", "  "] {
        let out = run(mailroom(store.path()).args(["find", empty]));
        assert_eq!(code(&out), 64, "{}", text(&out.stderr));
    }
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

/// An original as `send --raw` stores it: multipart/alternative, with its Bcc fields kept.
const RAW_ORIGINAL: &[u8] = b"From: Otto <o@example.com>\r\n\
To: me@example.com, x@example.com\r\n\
Bcc: Hidden <hidden@example.org>\r\n\
Resent-Bcc: resent-hidden@example.org\r\n\
Subject: Fwd: Plans\r\n\
Message-ID: <raw.1@example.com>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=b\r\n\
\r\n\
--b\r\n\
Content-Type: text/plain\r\n\
\r\n\
hello\r\n\
--b\r\n\
Content-Type: text/html\r\n\
\r\n\
<p>hello</p>\r\n\
--b--\r\n";

/// A store whose default account is `Me <me@example.com>` on `server`, holding RAW_ORIGINAL
/// queued on request; `no_account` stores it through a server URL instead of the account.
fn raw_original(server: &CaptureServer, no_account: bool) -> (tempfile::TempDir, String) {
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "me", server.port(), "Me <me@example.com>");
    let file = store.path().join("original.eml");
    std::fs::write(&file, RAW_ORIGINAL).unwrap();
    let url = format!("smtp://127.0.0.1:{}", server.port());
    let mut cmd = mailroom(store.path());
    cmd.arg("send").arg("--raw").arg(&file);
    if no_account {
        cmd.args(["--server", &url, "--tls", "none"]);
    }
    cmd.args(["--to", "me@example.com", "--to", "x@example.com"])
        .args([
            "--bcc",
            "hidden@example.org",
            "--when",
            "on-request",
            "--json",
        ]);
    let out = run(&mut cmd);
    ok(&out);
    let id = json(&out)["id"].as_i64().unwrap().to_string();
    (store, id)
}

/// The bytes `show --raw` gives for message `id`.
fn raw_bytes(store: &std::path::Path, id: &str) -> Vec<u8> {
    let out = run(mailroom(store).args(["show", id, "--raw"]));
    ok(&out);
    out.stdout
}

fn draft_id(out: &std::process::Output) -> String {
    ok(out);
    json(out)["id"].as_i64().unwrap().to_string()
}

#[test]
fn forward_as_attachment_drops_the_originals_bcc() {
    let server = plain_server();
    let (store, id) = raw_original(&server, false);
    let out = run(mailroom(store.path()).args([
        "forward",
        &id,
        "--to",
        "dave@example.org",
        "--as-attachment",
        "--send",
        "--json",
    ]));
    ok(&out);
    let got = server.wait_for(1, WAIT);
    let data = got[0].data();
    assert!(
        !text(&data).contains("hidden"),
        "the forward reveals a Bcc:\n{}",
        text(&data)
    );
    let fwd = MessageParser::default().parse(&data).unwrap();
    let inner = fwd
        .attachment(0)
        .unwrap()
        .message()
        .expect("message/rfc822");
    assert_eq!(inner.subject(), Some("Fwd: Plans"));
    assert_eq!(inner.message_id(), Some("raw.1@example.com"));
    assert!(inner.bcc().is_none());

    // Quoting paths keep it out too: inline forward, reply and reply to all.
    for args in [
        vec!["forward", &id, "--to", "dave@example.org", "--json"],
        vec!["reply", &id, "--json"],
        vec!["reply", &id, "--all", "--json"],
    ] {
        let draft = draft_id(&run(mailroom(store.path()).args(&args)));
        let bytes = raw_bytes(store.path(), &draft);
        assert!(!text(&bytes).contains("hidden"), "{args:?}");
    }
}

#[test]
fn reply_and_forward_put_the_body_into_the_html_part() {
    let server = plain_server();
    let (store, id) = raw_original(&server, false);
    for (args, body) in [
        (vec!["reply", &id], "Danke!"),
        (
            vec!["forward", &id, "--to", "dave@example.org"],
            "MY NOTE\n& <more>",
        ),
    ] {
        let out = run(mailroom(store.path())
            .args(&args)
            .args(["--body", body, "--json"]));
        let draft = draft_id(&out);
        let shown = run(mailroom(store.path()).args(["show", &draft, "--json"]));
        ok(&shown);
        let shown = json(&shown);
        assert!(shown["body"].as_str().unwrap().starts_with(body), "{shown}");
        let html = shown["html"].as_str().unwrap();
        let want = format!("<p>{}</p>\n<div>", body.replace('\n', "<br>\n"))
            .replace("& <more>", "&amp; &lt;more&gt;");
        assert!(html.starts_with(&want), "{args:?}: {html}");
        assert!(html.contains("<p>hello</p>"), "{html}");
        let wire = raw_bytes(store.path(), &draft);
        let parsed = MessageParser::default().parse(&wire).unwrap();
        let sent = parsed.body_html(0).unwrap().replace("\r\n", "\n");
        assert!(sent.starts_with(&want), "{sent}");
    }
}

#[test]
fn reply_all_to_a_raw_original_leaves_out_the_replying_account() {
    let server = plain_server();
    let (store, id) = raw_original(&server, true);
    let out = run(mailroom(store.path()).args(["reply", &id, "--all", "--json"]));
    let draft = draft_id(&out);
    assert_eq!(
        json(&out)["to"],
        serde_json::json!(["o@example.com", "x@example.com"])
    );
    let shown = run(mailroom(store.path()).args(["show", &draft, "--json"]));
    ok(&shown);
    let headers = &json(&shown)["headers"];
    assert_eq!(headers["from"], "Me <me@example.com>");
    assert_eq!(
        headers["to"],
        serde_json::json!(["Otto <o@example.com>", "x@example.com"])
    );
}

#[test]
fn reply_to_a_forward_keeps_its_fwd_prefix() {
    let server = plain_server();
    let (store, id) = raw_original(&server, false);
    let out = run(mailroom(store.path()).args(["reply", &id, "--json"]));
    let draft = draft_id(&out);
    assert_eq!(json(&out)["subject"], "Re: Fwd: Plans");
    let out = run(mailroom(store.path()).args(["reply", &draft, "--json"]));
    ok(&out);
    assert_eq!(json(&out)["subject"], "Re: Fwd: Plans");
}

#[test]
fn reply_and_forward_summaries_list_every_recipient() {
    let server = plain_server();
    let (store, id) = raw_original(&server, false);
    let out = run(mailroom(store.path()).args(["reply", &id, "--all"]));
    ok(&out);
    let line = text(&out.stdout);
    let (_, summary) = line.trim_end().split_once(": ").unwrap();
    assert_eq!(
        summary,
        "draft \"Re: Fwd: Plans\" to o@example.com, x@example.com saved in Drafts"
    );
    let out = run(mailroom(store.path()).args([
        "forward",
        &id,
        "--to",
        "a@example.net",
        "--to",
        "b@example.net",
        "--json",
    ]));
    ok(&out);
    let summary = json(&out);
    assert_eq!(
        summary["to"],
        serde_json::json!(["a@example.net", "b@example.net"])
    );
    assert_eq!(summary["cc"], serde_json::json!([]));
}

#[test]
fn reply_to_a_missing_message_or_an_account_says_so() {
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "me", 9, "me@example.com");
    let accounts = json(&run(
        mailroom(store.path()).args(["account", "list", "--json"])
    ));
    let account_id = accounts[0]["id"]
        .as_i64()
        .expect("an account id")
        .to_string();
    let out = run(mailroom(store.path()).args(["reply", &account_id, "--body", "x"]));
    assert_eq!(code(&out), 65);
    assert!(
        text(&out.stderr).contains("is not a message"),
        "{}",
        text(&out.stderr)
    );
    let out = run(mailroom(store.path()).args(["forward", "99999", "--to", "a@example.org"]));
    assert_eq!(code(&out), 65);
    assert!(
        text(&out.stderr).contains("not found"),
        "{}",
        text(&out.stderr)
    );
}

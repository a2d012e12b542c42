//! The daily commands end to end: accounts, the send extensions, the folders, sendmail mode,
//! replies, forwards, find, watch, msmtp import and the manual, run as the built binary
//! against real aiosmtpd servers on 127.0.0.1.

mod common;

use std::time::Duration;

use common::*;
use mail_parser::{MessageParser, MimeHeaders};
use mailroom_testkit::{CaptureOptions, CaptureServer, TestCerts, TlsMode};

const WAIT: Duration = Duration::from_secs(20);

fn plain_server() -> CaptureServer {
    CaptureServer::start(&CaptureOptions::default(), None)
}

#[test]
fn account_send_delivers_attachment_html_headers_priority_and_receipt() {
    let server = plain_server();
    let store = tempfile::tempdir().unwrap();
    add_account(
        store.path(),
        "work",
        server.port(),
        "Alice <alice@example.com>",
    );
    let files = tempfile::tempdir().unwrap();
    let attachment: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(files.path().join("data.bin"), &attachment).unwrap();
    std::fs::write(files.path().join("body.html"), "<p>Hello <b>Bob</b></p>").unwrap();
    let out = run(mailroom(store.path())
        .args(["send", "--account", "work", "--to", "bob@example.net"])
        .args(["--subject", "Report", "--body", "See attached."])
        .arg("--attach")
        .arg(files.path().join("data.bin"))
        .arg("--html-file")
        .arg(files.path().join("body.html"))
        .args([
            "--header",
            "X-Ticket: 42",
            "--priority",
            "high",
            "--receipt",
            "--json",
        ]));
    ok(&out);
    let report = json(&out);
    assert_eq!(report["state"], "sent");
    let got = server.wait_for(1, WAIT);
    assert_eq!(got[0].mail_from, "alice@example.com");
    assert_eq!(got[0].rcpt_tos, ["bob@example.net"]);
    let data = got[0].data();
    let msg = MessageParser::default().parse(&data).unwrap();
    assert_eq!(msg.subject(), Some("Report"));
    assert_eq!(msg.header_raw("X-Ticket").map(str::trim), Some("42"));
    assert_eq!(msg.header_raw("Importance").map(str::trim), Some("high"));
    assert_eq!(
        msg.header_raw("Disposition-Notification-To").map(str::trim),
        Some("Alice <alice@example.com>")
    );
    assert_eq!(msg.body_html(0).unwrap().trim(), "<p>Hello <b>Bob</b></p>");
    let att = msg.attachment(0).expect("an attachment");
    assert_eq!(att.attachment_name(), Some("data.bin"));
    assert_eq!(att.contents(), attachment.as_slice());
}

#[test]
fn account_stored_password_warns_and_is_never_printed() {
    let certs = TestCerts::generate();
    let options = CaptureOptions {
        tls: TlsMode::StartTls,
        require_starttls: true,
        auth: Some(("alice".into(), "s3cret pass".into())),
        ..CaptureOptions::default()
    };
    let server = CaptureServer::start(&options, Some(&certs));
    let store = tempfile::tempdir().unwrap();
    let out = run_with_input(
        mailroom(store.path())
            .args(["account", "add", "main", "--server"])
            .arg(format!("smtp://127.0.0.1:{}", server.port()))
            .arg("--ca-file")
            .arg(certs.ca_path())
            .args([
                "--user",
                "alice",
                "--password-stdin",
                "--from",
                "alice@example.com",
            ]),
        b"s3cret pass\n",
    );
    ok(&out);
    assert!(
        text(&out.stderr).contains("warning"),
        "{}",
        text(&out.stderr)
    );
    let mut everything = text(&out.stdout) + &text(&out.stderr);
    for args in [
        vec!["account", "show", "main", "--json"],
        vec!["account", "show", "main"],
        vec!["account", "list", "--json"],
    ] {
        let out = run(mailroom(store.path()).args(&args));
        ok(&out);
        everything += &(text(&out.stdout) + &text(&out.stderr));
    }
    let shown = json(&run(
        mailroom(store.path()).args(["account", "show", "main", "--json"])
    ));
    assert_eq!(shown["password"]["source"], "stored");
    assert_eq!(shown["default"], true);
    let out = run(mailroom(store.path()).args([
        "-vv",
        "send",
        "--to",
        "bob@example.net",
        "--subject",
        "s",
        "--body",
        "b",
    ]));
    ok(&out);
    everything += &(text(&out.stdout) + &text(&out.stderr));
    assert!(
        !everything.contains("s3cret"),
        "secret printed:\n{everything}"
    );
    let got = server.wait_for(1, WAIT);
    assert!(got[0].authenticated && got[0].tls);
    assert_eq!(got[0].login.as_deref(), Some("alice"));
    let store_db = std::fs::read_dir(store.path()).unwrap();
    for f in store_db.flatten() {
        use std::os::unix::fs::PermissionsExt;
        let mode = f.metadata().unwrap().permissions().mode() & 0o777;
        if f.file_type().unwrap().is_file() {
            assert_eq!(
                mode & 0o077,
                0,
                "{} is readable by others",
                f.path().display()
            );
        }
    }
}

#[test]
fn account_set_default_and_remove() {
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "one", 2525, "one@example.com");
    add_account(store.path(), "two", 2526, "two@example.com");
    let list = json(&run(
        mailroom(store.path()).args(["account", "list", "--json"])
    ));
    let names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["name"].clone(), a["default"].clone()))
        .collect();
    assert_eq!(
        names,
        [("one".into(), true.into()), ("two".into(), false.into())]
    );
    ok(&run(
        mailroom(store.path()).args(["account", "default", "two"])
    ));
    let out = run(mailroom(store.path()).args([
        "account",
        "set",
        "two",
        "--server",
        "smtp://127.0.0.1:2600",
        "--json",
    ]));
    ok(&out);
    let two = json(&out);
    assert_eq!(two["server"], "smtp://127.0.0.1:2600");
    assert_eq!(two["from"], "two@example.com");
    assert_eq!(two["default"], true);
    ok(&run(
        mailroom(store.path()).args(["account", "remove", "two"])
    ));
    let list = json(&run(
        mailroom(store.path()).args(["account", "list", "--json"])
    ));
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["default"], true);
    let out = run(mailroom(store.path()).args(["account", "show", "two"]));
    assert_eq!(code(&out), 65);
    let out = run(mailroom(store.path()).args([
        "account",
        "add",
        "one",
        "--server",
        "smtp://127.0.0.1:1",
    ]));
    assert_eq!(code(&out), 65, "a duplicate name is refused");
}

#[test]
fn dry_run_prints_bytes_and_envelope_and_stores_nothing() {
    let store = tempfile::tempdir().unwrap();
    let out = run(mailroom(store.path())
        .args([
            "send",
            "--dry-run",
            "--server",
            "smtp://127.0.0.1:9",
            "--from",
            "a@example.com",
        ])
        .args([
            "--to",
            "b@example.net",
            "--bcc",
            "hidden@example.org",
            "--subject",
            "Dry",
        ])
        .args(["--body", "line\n.dot"]));
    ok(&out);
    let msg = MessageParser::default().parse(&out.stdout).unwrap();
    assert_eq!(msg.subject(), Some("Dry"));
    assert!(!text(&out.stdout).contains("hidden@"), "Bcc in the bytes");
    assert!(
        out.stdout
            .windows(2)
            .all(|w| w[1] != b'\n' || w[0] == b'\r')
    );
    assert_eq!(
        text(&out.stderr),
        "MAIL FROM:<a@example.com>\nRCPT TO:<b@example.net>\nRCPT TO:<hidden@example.org>\n"
    );
    for folder in ["outbox", "sent", "drafts"] {
        let list = json(&run(mailroom(store.path()).args([folder, "--json"])));
        assert_eq!(list, serde_json::json!([]), "{folder} is not empty");
    }
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
fn sendmail_fed_through_a_pipe_as_cron_does() {
    let server = plain_server();
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "work", server.port(), "cron@example.com");
    let input = b"To: root@example.net\nSubject: Cron <root@host> run-parts\n\nline one\n.\nline after dot\n";
    let out = run_with_input(
        mailroom(store.path()).args([
            "sendmail",
            "-FCronDaemon",
            "-i",
            "-B8BITMIME",
            "-oem",
            "root@example.net",
        ]),
        input,
    );
    ok(&out);
    assert!(
        out.stdout.is_empty(),
        "sendmail mode prints nothing on success"
    );
    let got = server.wait_for(1, WAIT);
    assert_eq!(got[0].mail_from, "cron@example.com");
    assert_eq!(got[0].rcpt_tos, ["root@example.net"]);
    let data = got[0].data();
    let msg = MessageParser::default().parse(&data).unwrap();
    assert_eq!(
        msg.header_raw("From").map(str::trim),
        Some("CronDaemon <cron@example.com>")
    );
    assert!(msg.date().is_some() && msg.message_id().is_some());
    let body = msg.body_text(0).unwrap().replace("\r\n", "\n");
    assert_eq!(body, "line one\n.\nline after dot\n");
}

#[test]
fn sendmail_symlink_with_t_and_dot_end_as_mail_programs_use() {
    let server = plain_server();
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "work", server.port(), "me@example.com");
    let bin = tempfile::tempdir().unwrap();
    let link = bin.path().join("sendmail");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_mailroom"), &link).unwrap();
    let input = b"From: Me <me@example.com>\nTo: a@example.net\nCc: b@example.net\nBcc: c@example.net\nSubject: t\n\nbody\n.\nnot sent\n";
    let out = run_with_input(
        std::process::Command::new(&link)
            .env("MAILROOM_STORE", store.path())
            .args(["-t", "-f", "bounce@example.com"]),
        input,
    );
    ok(&out);
    let got = server.wait_for(1, WAIT);
    assert_eq!(got[0].mail_from, "bounce@example.com");
    let mut rcpts = got[0].rcpt_tos.clone();
    rcpts.sort();
    assert_eq!(rcpts, ["a@example.net", "b@example.net", "c@example.net"]);
    let data = text(&got[0].data());
    assert!(
        !data.contains("c@example.net") && !data.contains("not sent"),
        "{data}"
    );
    let out = run_with_input(
        std::process::Command::new(&link)
            .env("MAILROOM_STORE", store.path())
            .arg("-i"),
        b"Subject: none\n\nx\n",
    );
    assert_eq!(code(&out), 64, "no recipients is a usage error");
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
fn msmtp_import_makes_accounts_and_default() {
    let server = plain_server();
    let store = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rc = dir.path().join("msmtprc");
    std::fs::write(
        &rc,
        format!(
            "defaults\nauth off\ntls off\n\naccount home\nhost 127.0.0.1\nport {}\nfrom home@example.com\n\n\
             account other : home\nfrom other@example.com\n\naccount default : other\n",
            server.port()
        ),
    )
    .unwrap();
    let out = run(mailroom(store.path())
        .args(["account", "import", "--json"])
        .arg(&rc));
    ok(&out);
    assert_eq!(json(&out)["imported"], serde_json::json!(["home", "other"]));
    let other = json(&run(
        mailroom(store.path()).args(["account", "show", "other", "--json"])
    ));
    assert_eq!(other["default"], true);
    let out = run(mailroom(store.path()).args(["send", "--to", "x@example.net", "--body", "hi"]));
    ok(&out);
    assert_eq!(server.wait_for(1, WAIT)[0].mail_from, "other@example.com");
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

#[test]
fn dsn_request_accepted_by_postfix_and_bad_values_refused_before_network() {
    use mailroom_testkit::{Postfix, PostfixOptions};
    let certs = TestCerts::generate();
    let postfix = Postfix::start(&PostfixOptions::default(), &certs);
    let store = tempfile::tempdir().unwrap();
    let server = format!("smtp://127.0.0.1:{}", postfix.port());
    let send = |notify: &str| {
        run(mailroom(store.path())
            .args(["send", "--server", &server])
            .arg("--ca-file")
            .arg(certs.ca_path())
            .args(["--from", "alice@example.com", "--to", "bob@example.net"])
            .args(["--subject", "dsn", "--body", "b", "--dsn-notify", notify])
            .args(["--dsn-ret", "hdrs", "--json"]))
    };
    let out = send("success,failure");
    assert_eq!(code(&out), 0, "{}\n{}", text(&out.stderr), postfix.log());
    assert_eq!(json(&out)["state"], "sent");
    // NOTIFY=SUCCESS reached Postfix: relaying to a next hop without DSN, it reports
    // "relayed" to the sender with a null-sender delivery status notification.
    let got = postfix.relay().wait_for(2, WAIT);
    assert!(got.iter().any(|m| m.rcpt_tos == ["bob@example.net"]));
    let report = got
        .iter()
        .find(|m| m.rcpt_tos == ["alice@example.com"])
        .expect("a delivery status notification");
    assert_eq!(report.mail_from, "<>");
    let report_text = text(&report.data());
    assert!(report_text.contains("multipart/report"), "{report_text}");
    assert!(
        report_text.to_ascii_lowercase().contains("relayed"),
        "{report_text}"
    );
    let out = send("never,success");
    assert_eq!(code(&out), 78, "{}", text(&out.stderr));
    let out = send("sometimes");
    assert_eq!(code(&out), 78, "{}", text(&out.stderr));
    let outbox = json(&run(mailroom(store.path()).args(["outbox", "--json"])));
    assert_eq!(
        outbox,
        serde_json::json!([]),
        "a refused send stored something"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(postfix.relay().messages().len(), 2);
}

#[test]
fn queued_attachment_survives_deleting_its_file() {
    let server = plain_server();
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "work", server.port(), "alice@example.com");
    let files = tempfile::tempdir().unwrap();
    let path = files.path().join("notes.txt");
    std::fs::write(&path, "kept in the store\n").unwrap();
    let out = run(mailroom(store.path())
        .args([
            "send",
            "--to",
            "bob@example.net",
            "--when",
            "on-request",
            "--attach",
        ])
        .arg(&path));
    ok(&out);
    std::fs::remove_file(&path).unwrap();
    let drafts = json(&run(mailroom(store.path()).args(["drafts", "--json"])));
    assert_eq!(
        drafts,
        serde_json::json!([]),
        "the draft was moved to the Outbox"
    );
    let out = run(mailroom(store.path()).args(["flush", "--json"]));
    ok(&out);
    let got = server.wait_for(1, WAIT);
    let data = got[0].data();
    let msg = MessageParser::default().parse(&data).unwrap();
    let att = msg.attachment(0).expect("the attachment");
    assert_eq!(att.attachment_name(), Some("notes.txt"));
    assert_eq!(att.contents(), b"kept in the store\n");
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
fn git_send_email_through_the_sendmail_symlink() {
    let server = plain_server();
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "work", server.port(), "alice@example.com");
    let home = tempfile::tempdir().unwrap();
    let repo = home.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let link = home.path().join("sendmail");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_mailroom"), &link).unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(&repo)
            .env("HOME", home.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("MAILROOM_STORE", store.path())
            .env_remove("RUST_LOG")
            .args([
                "-c",
                "user.name=Alice",
                "-c",
                "user.email=alice@example.com",
            ])
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("git");
        assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
        out
    };
    git(&["init", "-q"]);
    std::fs::write(repo.join("fix.txt"), "a fix\n.\nafter a dot line\n").unwrap();
    git(&["add", "fix.txt"]);
    git(&["commit", "-q", "-m", "Fix the thing"]);
    let sendmail_cmd = format!("--sendmail-cmd={}", link.display());
    git(&[
        "send-email",
        &sendmail_cmd,
        "--to=bob@example.net",
        "--cc=carol@example.org",
        "--from=Alice <alice@example.com>",
        "--confirm=never",
        "--quiet",
        "-1",
    ]);
    let got = server.wait_for(1, WAIT);
    let mut rcpts = got[0].rcpt_tos.clone();
    rcpts.sort();
    // git adds the patch's author as a Cc.
    assert_eq!(
        rcpts,
        ["alice@example.com", "bob@example.net", "carol@example.org"]
    );
    assert_eq!(got[0].mail_from, "alice@example.com");
    let data = got[0].data();
    let msg = MessageParser::default().parse(&data).unwrap();
    assert_eq!(msg.subject(), Some("[PATCH] Fix the thing"));
    let body = msg.body_text(0).unwrap().replace("\r\n", "\n");
    assert!(body.contains("+a fix\n+.\n+after a dot line\n"), "{body}");
}

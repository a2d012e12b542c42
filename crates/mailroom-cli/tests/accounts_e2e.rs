//! Accounts end to end: add, list, show, set, default, remove, stored secrets, msmtp
//! import, and send through an account with the send extensions (attachments, HTML, headers,
//! priority, receipt, DSN, dry run).

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
    let out = run(mailroom(store.path()).args(["account", "set", "two", "--password-env", "PW"]));
    assert_eq!(
        code(&out),
        78,
        "a password source without a login is refused"
    );
    ok(&run(mailroom(store.path()).args([
        "account",
        "set",
        "two",
        "--user",
        "al",
        "--password-env",
        "PW",
    ])));
    let out = run(mailroom(store.path()).args([
        "account",
        "set",
        "two",
        "--password-command",
        "echo x",
        "--json",
    ]));
    ok(&out);
    let two = json(&out);
    assert_eq!(two["user"], "al");
    assert_eq!(two["password"]["source"], "command");
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
fn a_signature_starting_with_its_delimiter_is_accepted_and_written_once() {
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "sig", 9, "Jo <jo@example.com>");
    ok(&run(mailroom(store.path()).args([
        "account",
        "set",
        "sig",
        "--signature",
        "-- \nJo Example\n+1 555 0100",
    ])));
    let out = run(mailroom(store.path())
        .args([
            "send",
            "--dry-run",
            "--account",
            "sig",
            "--to",
            "b@example.net",
        ])
        .args(["--subject", "Sig", "--body", "Hello"]));
    ok(&out);
    let msg = MessageParser::default().parse(&out.stdout).unwrap();
    assert_eq!(
        msg.body_text(0).unwrap().trim_end(),
        "Hello\r\n-- \r\nJo Example\r\n+1 555 0100"
    );
}

#[test]
fn html_only_message_gets_its_text_as_the_plain_alternative() {
    let store = tempfile::tempdir().unwrap();
    let html = store.path().join("note.html");
    std::fs::write(
        &html,
        "<html><body><p>Hello <b>there</b></p><p>Bye</p></body></html>",
    )
    .unwrap();
    let out = run(mailroom(store.path())
        .args(["send", "--dry-run", "--server", "smtp://127.0.0.1:9"])
        .args([
            "--from",
            "a@example.com",
            "--to",
            "b@example.net",
            "--subject",
            "H",
        ])
        .arg("--html-file")
        .arg(&html));
    ok(&out);
    let msg = MessageParser::default().parse(&out.stdout).unwrap();
    let plain = msg.body_text(0).unwrap();
    assert!(
        plain.contains("Hello there") && plain.contains("Bye"),
        "{plain:?}"
    );
    assert!(msg.body_html(0).unwrap().contains("<b>there</b>"));
}

#[test]
fn attachment_from_a_pipe_is_read_once_and_attached() {
    let store = tempfile::tempdir().unwrap();
    let out = run_with_input(
        mailroom(store.path())
            .args(["send", "--dry-run", "--server", "smtp://127.0.0.1:9"])
            .args([
                "--from",
                "a@example.com",
                "--to",
                "b@example.net",
                "--body",
                "see",
            ])
            .args(["--attach", "/dev/stdin"]),
        b"piped attachment bytes\n",
    );
    ok(&out);
    let msg = MessageParser::default().parse(&out.stdout).unwrap();
    let part = msg.attachment(0).expect("an attachment");
    assert_eq!(part.contents(), b"piped attachment bytes\n");
    assert_eq!(part.attachment_name(), Some("stdin"));
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
    // With --json: one object on stdout, the same envelope and message.
    let out = run(mailroom(store.path())
        .args([
            "send",
            "--dry-run",
            "--json",
            "--server",
            "smtp://127.0.0.1:9",
        ])
        .args(["--from", "a@example.com", "--to", "b@example.net"])
        .args([
            "--bcc",
            "hidden@example.org",
            "--subject",
            "Dry",
            "--body",
            "x",
        ]));
    ok(&out);
    let v = json(&out);
    assert_eq!(v["mail_from"], "a@example.com");
    assert_eq!(
        v["rcpt_to"],
        serde_json::json!(["b@example.net", "hidden@example.org"])
    );
    let message = v["message"].as_str().unwrap();
    assert!(message.contains("Subject: Dry\r\n") && !message.contains("hidden@"));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    for folder in ["outbox", "sent", "drafts"] {
        let list = json(&run(mailroom(store.path()).args([folder, "--json"])));
        assert_eq!(list, serde_json::json!([]), "{folder} is not empty");
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
    // Bad values on the command line are input errors (65), named in the message.
    let out = send("never,success");
    assert_eq!(code(&out), 65, "{}", text(&out.stderr));
    let out = send("sometimes");
    assert_eq!(code(&out), 65, "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("sometimes"),
        "{}",
        text(&out.stderr)
    );
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
fn dsn_request_is_kept_with_a_queued_message_for_the_later_flush() {
    use mailroom_testkit::{Postfix, PostfixOptions};
    let certs = TestCerts::generate();
    let postfix = Postfix::start(&PostfixOptions::default(), &certs);
    let store = tempfile::tempdir().unwrap();
    let server = format!("smtp://127.0.0.1:{}", postfix.port());
    let out = run(mailroom(store.path())
        .args(["send", "--when", "on-request"])
        .args(["--from", "alice@example.com", "--to", "bob@example.net"])
        .args([
            "--subject",
            "later",
            "--body",
            "b",
            "--dsn-notify",
            "success",
            "--json",
        ]));
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let out = run(mailroom(store.path())
        .args(["flush", "--server", &server])
        .arg("--ca-file")
        .arg(certs.ca_path()));
    assert_eq!(code(&out), 0, "{}\n{}", text(&out.stderr), postfix.log());
    // The success notification shows that NOTIFY=SUCCESS went out with the flush.
    let got = postfix.relay().wait_for(2, WAIT);
    assert!(
        got.iter()
            .any(|m| m.rcpt_tos == ["alice@example.com"] && m.mail_from == "<>"),
        "no delivery status notification: the DSN request was lost\n{}",
        postfix.log()
    );
}

#[test]
fn account_connections_and_messages_per_connection_shape_the_flush() {
    let server = plain_server();
    let store = tempfile::tempdir().unwrap();
    ok(&run(mailroom(store.path())
        .args(["account", "add", "bulk", "--server"])
        .arg(format!("smtp://127.0.0.1:{}", server.port()))
        .args(["--tls", "none", "--from", "alice@example.com"])
        .args([
            "--connections",
            "2",
            "--messages-per-connection",
            "5",
        ])));
    let shown = json(&run(
        mailroom(store.path()).args(["account", "show", "bulk", "--json"])
    ));
    assert_eq!(shown["connections"], 2);
    assert_eq!(shown["messages_per_connection"], 5);
    for i in 0..20 {
        ok(&run(mailroom(store.path()).args([
            "send",
            "--when",
            "on-request",
            "--to",
            "bob@example.net",
            "--subject",
            &format!("bulk {i}"),
            "--body",
            "b",
        ])));
    }
    ok(&run(mailroom(store.path()).arg("flush")));
    let got = server.wait_for(20, WAIT);
    assert_eq!(got.len(), 20);
    // Five messages a session at most: at least four sessions.
    let mut per_session = std::collections::HashMap::new();
    for m in &got {
        *per_session.entry(m.peer_port).or_insert(0) += 1;
    }
    assert!(per_session.len() >= 4, "{per_session:?}");
    assert!(per_session.values().all(|n| *n <= 5), "{per_session:?}");
    let refused =
        run(mailroom(store.path()).args(["account", "set", "bulk", "--connections", "17"]));
    assert_eq!(code(&refused), 64, "{refused:?}");
}

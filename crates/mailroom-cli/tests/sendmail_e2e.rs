//! sendmail mode end to end: fed through a pipe as cron does, called through a `sendmail`
//! symlink with -t, and used by git send-email.

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
    let added_id = msg.header_raw("Message-ID").unwrap().trim().to_string();
    assert!(
        added_id.starts_with('<')
            && !added_id.starts_with("<<")
            && added_id.ends_with("@example.com>"),
        "added Message-ID {added_id:?}"
    );
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

#[test]
fn sendmail_full_name_with_line_breaks_is_refused_before_sending() {
    let server = plain_server();
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "work", server.port(), "cron@example.com");
    for name in [
        "Bob\r\nX-Injected: yes",
        "Bob\nBcc: evil@example.com",
        "Bob\rX: y",
    ] {
        let out = run_with_input(
            mailroom(store.path()).args(["sendmail", "-i", "-F", name, "root@example.net"]),
            b"Subject: x\n\nhi\n",
        );
        assert_eq!(code(&out), 65, "{name:?}: {}", text(&out.stderr));
    }
    // A name that needs encoding is encoded, not sent raw.
    let out = run_with_input(
        mailroom(store.path()).args([
            "sendmail",
            "-i",
            "-F",
            "Zoë, \"the\" Admin",
            "root@example.net",
        ]),
        b"Subject: x\n\nhi\n",
    );
    ok(&out);
    let got = server.wait_for(1, WAIT);
    assert_eq!(got.len(), 1, "a refused message was sent");
    let msg = MessageParser::default().parse(&got[0].data()).map(|m| {
        let from = m.from().unwrap().first().unwrap();
        (
            from.name().map(str::to_string),
            from.address().map(str::to_string),
        )
    });
    assert_eq!(
        msg,
        Some((
            Some("Zoë, \"the\" Admin".to_string()),
            Some("cron@example.com".to_string())
        ))
    );
}

/// Nothing in the Outbox of `store`.
fn outbox_is_empty(store: &std::path::Path) {
    let listing = run(mailroom(store).args(["outbox", "--json"]));
    ok(&listing);
    assert_eq!(json(&listing).as_array().map(Vec::len), Some(0));
}

#[test]
fn sendmail_input_without_header_is_sent_as_body_with_added_header() {
    let server = plain_server();
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "work", server.port(), "cron@example.com");
    for (n, input) in [&b"hello\nsecond: line\n"[..], b"\nhello\nsecond: line\n"]
        .into_iter()
        .enumerate()
    {
        let out = run_with_input(
            mailroom(store.path()).args(["sendmail", "you@example.com"]),
            input,
        );
        ok(&out);
        let got = server.wait_for(n + 1, WAIT);
        assert_eq!(got.len(), n + 1);
        assert_eq!(got[n].rcpt_tos, ["you@example.com"]);
        let data = got[n].data();
        let msg = MessageParser::default().parse(&data).unwrap();
        assert_eq!(
            msg.from().and_then(|f| f.first()).and_then(|a| a.address()),
            Some("cron@example.com")
        );
        assert!(msg.date().is_some() && msg.message_id().is_some());
        assert_eq!(
            msg.header_raw("second"),
            None,
            "a body line became a header"
        );
        let body = msg.body_text(0).unwrap().replace("\r\n", "\n");
        assert_eq!(body, "hello\nsecond: line\n");
    }
}

#[test]
fn sendmail_bad_header_line_is_named_by_the_users_line_number() {
    let server = plain_server();
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "work", server.port(), "cron@example.com");
    for (input, line) in [
        (&b"Subject: x\nFrom me@example.com\n\nbody\n"[..], "line 2 "),
        (
            b"From 0123abcd Mon Sep 17 00:00:00 2001\nSubject: x\nnot a field\n\nb\n",
            "line 3 ",
        ),
    ] {
        let out = run_with_input(
            mailroom(store.path()).args(["sendmail", "you@example.com"]),
            input,
        );
        let err = text(&out.stderr);
        assert_eq!(code(&out), 65, "{err}");
        assert!(
            err.contains(line) && err.contains("not a header field"),
            "{err}"
        );
    }
    outbox_is_empty(store.path());
    assert!(server.messages().is_empty());
}

#[test]
fn sendmail_drops_the_mbox_from_line_as_send_raw_does() {
    let server = plain_server();
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "work", server.port(), "alice@example.com");
    let input = b"From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n\
        From: Alice <alice@example.com>\nSubject: [PATCH] fix\n\n---\n fix.txt | 1 +\n";
    let out = run_with_input(
        mailroom(store.path()).args(["sendmail", "bob@example.net"]),
        input,
    );
    ok(&out);
    let got = server.wait_for(1, WAIT);
    let data = text(&got[0].data());
    assert!(!data.contains("0123456789abcdef"), "{data}");
    let msg = MessageParser::default().parse(data.as_bytes()).unwrap();
    assert_eq!(msg.subject(), Some("[PATCH] fix"));
    assert_eq!(got[0].mail_from, "alice@example.com");
}

#[test]
fn sendmail_without_a_server_refuses_with_78_and_stores_nothing() {
    let store = tempfile::tempdir().unwrap();
    let out = run_with_input(
        mailroom(store.path()).args(["sendmail", "-f", "a@example.com", "r@example.com"]),
        b"Subject: x\n\nb\n",
    );
    let err = text(&out.stderr);
    assert_eq!(code(&out), 78, "{err}");
    assert!(
        err.contains("server") && err.contains("nothing was stored"),
        "{err}"
    );
    outbox_is_empty(store.path());
}

#[test]
fn sendmail_other_f_address_does_not_take_the_account_display_name() {
    let server = plain_server();
    let store = tempfile::tempdir().unwrap();
    add_account(
        store.path(),
        "work",
        server.port(),
        "Default Sender <def@example.com>",
    );
    let cases = [
        (vec!["-f", "cron@other.example"], "cron@other.example"),
        (
            vec!["-f", "def@EXAMPLE.com"],
            "Default Sender <def@EXAMPLE.com>",
        ),
        (vec![], "Default Sender <def@example.com>"),
        (
            vec!["-f", "cron@other.example", "-F", "Cron"],
            "Cron <cron@other.example>",
        ),
    ];
    for (n, (options, from)) in cases.iter().enumerate() {
        let out = run_with_input(
            mailroom(store.path())
                .arg("sendmail")
                .args(options)
                .arg("r@example.com"),
            b"Subject: x\n\nb\n",
        );
        ok(&out);
        let got = server.wait_for(n + 1, WAIT);
        let msg = MessageParser::default()
            .parse(&got[n].data())
            .map(|m| m.header_raw("From").map(|f| f.trim().to_string()));
        assert_eq!(msg, Some(Some(from.to_string())), "{options:?}");
    }
}

#[test]
fn sendmail_t_refuses_an_invalid_address_before_sending() {
    let server = plain_server();
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "work", server.port(), "me@example.com");
    for input in [
        &b"To: not-an-address, ok@example.com\nSubject: c\n\nb\n"[..],
        b"To: ok@example.com\nCc: Bob <bob@example.com\nSubject: c\n\nb\n",
    ] {
        let out = run_with_input(mailroom(store.path()).args(["sendmail", "-t"]), input);
        let err = text(&out.stderr);
        assert_eq!(code(&out), 65, "{err}");
        assert!(
            err.contains("\"not-an-address\"") || err.contains("\"Bob <bob@example.com\""),
            "{err}"
        );
    }
    outbox_is_empty(store.path());
    assert!(server.messages().is_empty(), "a refused message was sent");
    // A source route (obsolete syntax) is accepted as the address it leads to.
    let out = run_with_input(
        mailroom(store.path()).args(["sendmail", "-t"]),
        b"To: <@route.example:r@example.com>\nSubject: c\n\nb\n",
    );
    ok(&out);
    let got = server.wait_for(1, WAIT);
    assert_eq!(got[0].rcpt_tos, ["r@example.com"]);
}

#[test]
fn sendmail_duplicate_recipients_get_one_rcpt() {
    let server = plain_server();
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "work", server.port(), "me@example.com");
    let input = b"To: A <a@EXAMPLE.com>, b@example.com\nCc: a@example.com, B@example.com\n\
        Bcc: b@Example.com\nSubject: d\n\nb\n";
    let out = run_with_input(
        mailroom(store.path()).args(["sendmail", "-t", "a@example.com"]),
        input,
    );
    ok(&out);
    let got = server.wait_for(1, WAIT);
    // Compared without regard to case, as servers treat mailboxes: each once.
    assert_eq!(got[0].rcpt_tos, ["a@example.com", "b@example.com"]);
}

#[test]
fn sendmail_unparseable_date_or_from_is_kept_not_doubled() {
    let server = plain_server();
    let store = tempfile::tempdir().unwrap();
    add_account(store.path(), "work", server.port(), "me@example.com");
    let input = b"Date: sometime soon\nFrom: not quite an address\nSubject: d\n\nb\n";
    let out = run_with_input(
        mailroom(store.path()).args(["sendmail", "r@example.com"]),
        input,
    );
    ok(&out);
    let got = server.wait_for(1, WAIT);
    assert_eq!(got[0].mail_from, "me@example.com");
    let data = text(&got[0].data());
    let count = |name: &str| {
        data.lines()
            .take_while(|l| !l.is_empty())
            .filter(|l| l.to_ascii_lowercase().starts_with(name))
            .count()
    };
    assert_eq!((count("date:"), count("from:")), (1, 1), "{data}");
    assert!(data.contains("Date: sometime soon"), "{data}");
}

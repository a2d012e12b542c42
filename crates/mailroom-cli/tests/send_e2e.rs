//! `mailroom send` and `mailroom flush` end to end: the built binary, a real store file, and
//! real SMTP servers (aiosmtpd and Postfix) on 127.0.0.1.

use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use mail_parser::MessageParser;
use mailroom_testkit::{
    CaptureOptions, CaptureServer, Captured, Postfix, PostfixOptions, TestCerts, TlsMode,
};
use serde_json::Value;

mod common;
use common::{code, json, mailroom, run, run_with_input, text};

const WAIT: Duration = Duration::from_secs(20);

fn header<'a>(msg: &'a mail_parser::Message<'a>, name: &str) -> Option<String> {
    msg.header_raw(name).map(|v| v.trim().to_string())
}

fn auth_server(certs: &TestCerts) -> CaptureServer {
    let options = CaptureOptions {
        tls: TlsMode::StartTls,
        require_starttls: true,
        auth: Some(("alice".into(), "s3cret pass".into())),
        ..CaptureOptions::default()
    };
    CaptureServer::start(&options, Some(certs))
}

fn check_delivered(got: &Captured) {
    assert_eq!(got.mail_from, "alice@example.com");
    let mut rcpts = got.rcpt_tos.clone();
    rcpts.sort();
    assert_eq!(
        rcpts,
        vec!["bob@example.net", "carol@example.org", "dave@example.org"]
    );
    let data = got.data();
    let text = String::from_utf8_lossy(&data);
    assert!(
        !text.to_ascii_lowercase().contains("\nbcc:"),
        "Bcc header transmitted:\n{text}"
    );
    assert!(
        !text.contains("dave@example.org"),
        "Bcc address leaked into the message:\n{text}"
    );
    assert!(
        data.windows(2).all(|w| w[1] != b'\n' || w[0] == b'\r'),
        "bare LF in:\n{text}"
    );
    let msg = MessageParser::default().parse(&data).expect("parse");
    assert_eq!(msg.subject(), Some("Quarterly report"));
    assert_eq!(
        header(&msg, "From").as_deref(),
        Some("Alice <alice@example.com>")
    );
    assert_eq!(
        msg.to().unwrap().first().unwrap().address(),
        Some("bob@example.net")
    );
    assert_eq!(
        msg.cc().unwrap().first().unwrap().address(),
        Some("carol@example.org")
    );
    assert!(
        msg.message_id()
            .is_some_and(|id| id.ends_with("@example.com"))
    );
    assert!(header(&msg, "Date").is_some_and(|d| d.ends_with("+0000")));
    let body = msg.body_text(0).unwrap().replace("\r\n", "\n");
    assert_eq!(body.trim_end(), "Numbers are up.\n.dot line stays\nend");
}

fn send_with_auth(mechanism: &str) {
    let certs = TestCerts::generate();
    let server = auth_server(&certs);
    let store = tempfile::tempdir().unwrap();
    let out = run(mailroom(store.path())
        .args([
            "send",
            "--server",
            &format!("smtp://127.0.0.1:{}", server.port()),
        ])
        .arg("--ca-file")
        .arg(certs.ca_path())
        .args([
            "--user",
            "alice",
            "--password-env",
            "MAILROOM_TEST_PW",
            "--auth",
            mechanism,
        ])
        .env("MAILROOM_TEST_PW", "s3cret pass")
        .args([
            "--from",
            "Alice <alice@example.com>",
            "--to",
            "bob@example.net",
        ])
        .args(["--cc", "carol@example.org", "--bcc", "dave@example.org"])
        .args(["--subject", "Quarterly report"])
        .args(["--body", "Numbers are up.\n.dot line stays\nend", "--json"]));
    assert_eq!(
        code(&out),
        0,
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["state"], "sent");
    assert_eq!(report["error"], Value::Null);
    assert_eq!(report["recipients"].as_array().unwrap().len(), 3);
    for r in report["recipients"].as_array().unwrap() {
        assert_eq!(r["state"], "accepted");
        assert_eq!(r["code"], 250);
    }
    let got = server.wait_for(1, WAIT);
    assert_eq!(got.len(), 1);
    assert!(got[0].tls && got[0].authenticated, "{:?}", got[0]);
    assert_eq!(got[0].login.as_deref(), Some("alice"));
    check_delivered(&got[0]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("s3cret"));
}

#[test]
fn aiosmtpd_starttls_auth_plain_delivers_with_bcc_hidden() {
    send_with_auth("PLAIN");
}

#[test]
fn aiosmtpd_starttls_auth_login_delivers_with_bcc_hidden() {
    send_with_auth("LOGIN");
}

#[test]
fn postfix_starttls_delivers_and_relays_the_exact_message() {
    let certs = TestCerts::generate();
    let postfix = Postfix::start(&PostfixOptions::default(), &certs);
    let store = tempfile::tempdir().unwrap();
    let out = run(mailroom(store.path())
        .args([
            "send",
            "--server",
            &format!("smtp://127.0.0.1:{}", postfix.port()),
        ])
        .arg("--ca-file")
        .arg(certs.ca_path())
        .args([
            "--from",
            "Alice <alice@example.com>",
            "--to",
            "bob@example.net",
        ])
        .args(["--cc", "carol@example.org", "--bcc", "dave@example.org"])
        .args(["--subject", "Quarterly report"])
        .args(["--body", "Numbers are up.\n.dot line stays\nend", "--json"]));
    assert_eq!(
        code(&out),
        0,
        "stderr: {}\nlog:\n{}",
        String::from_utf8_lossy(&out.stderr),
        postfix.log()
    );
    assert_eq!(json(&out)["state"], "sent");
    let got = postfix.relay().wait_for(1, WAIT);
    assert_eq!(
        got.len(),
        1,
        "Postfix relayed nothing; log:\n{}",
        postfix.log()
    );
    check_delivered(&got[0]);
    assert!(
        postfix.log().contains("TLS connection established"),
        "{}",
        postfix.log()
    );
    let received = String::from_utf8_lossy(&got[0].data()).to_string();
    assert!(
        received.contains("with ESMTPS"),
        "not received over TLS:\n{received}"
    );
}

#[test]
fn next_connection_waits_when_unreachable_and_flush_delivers_once() {
    let port = mailroom_testkit::free_port();
    let store = tempfile::tempdir().unwrap();
    let server_url = format!("smtp://127.0.0.1:{port}");
    let out = run(mailroom(store.path())
        .args([
            "send",
            "--server",
            &server_url,
            "--tls",
            "none",
            "--when",
            "next-connection",
        ])
        .args([
            "--from",
            "alice@example.com",
            "--to",
            "bob@example.net",
            "--subject",
            "later",
        ])
        .args(["--body", "queued first", "--json"]));
    assert_eq!(
        code(&out),
        75,
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["state"], "waiting");
    assert_eq!(report["error"]["kind"], "connect");
    assert_eq!(report["recipients"][0]["state"], "pending");

    let plain = run(mailroom(store.path())
        .args([
            "send",
            "--server",
            &server_url,
            "--tls",
            "none",
            "--when",
            "next-connection",
        ])
        .args([
            "--from",
            "alice@example.com",
            "--to",
            "carol@example.org",
            "--body",
            "x",
        ]));
    assert_eq!(code(&plain), 75);
    let line = String::from_utf8_lossy(&plain.stdout);
    assert!(line.contains("waiting for the next connection"), "{line}");

    let server = CaptureServer::start(
        &CaptureOptions {
            port: Some(port),
            ..Default::default()
        },
        None,
    );
    let out = run(mailroom(store.path()).args([
        "flush",
        "--server",
        &server_url,
        "--tls",
        "none",
        "--json",
    ]));
    assert_eq!(
        code(&out),
        0,
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports = json(&out);
    assert_eq!(reports.as_array().unwrap().len(), 2);
    assert!(
        reports
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["state"] == "sent")
    );

    let again =
        run(mailroom(store.path()).args(["flush", "--server", &server_url, "--tls", "none"]));
    assert_eq!(code(&again), 0);
    assert_eq!(
        String::from_utf8_lossy(&again.stdout).trim(),
        "nothing to send"
    );
    let got = server.wait_for(2, WAIT);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        server.messages().len(),
        2,
        "each message must arrive exactly once"
    );
    let subjects: Vec<_> = got.iter().map(|c| c.rcpt_tos[0].clone()).collect();
    assert!(subjects.contains(&"bob@example.net".to_string()));
}

#[test]
fn to_with_crlf_is_refused_before_any_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let store = tempfile::tempdir().unwrap();
    for bad in [
        "bob@example.net\r\nRCPT TO:<evil@example.org>",
        "bob@example.net\nX: y",
        "a\rb@example.net",
    ] {
        let out = run(mailroom(store.path())
            .args([
                "send",
                "--server",
                &format!("smtp://127.0.0.1:{port}"),
                "--tls",
                "none",
            ])
            .args(["--from", "alice@example.com", "--to", bad, "--body", "x"]));
        assert_eq!(
            code(&out),
            65,
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--to address"), "{err}");
    }
    assert!(listener.accept().is_err(), "a connection was opened");
    let queued = run(mailroom(store.path()).args([
        "flush",
        "--server",
        &format!("smtp://127.0.0.1:{port}"),
        "--tls",
        "none",
    ]));
    assert_eq!(
        String::from_utf8_lossy(&queued.stdout).trim(),
        "nothing to send"
    );
}

#[test]
fn raw_message_with_a_line_over_998_octets_is_refused_before_any_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("smtp://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let store = tempfile::tempdir().unwrap();
    let raw = format!(
        "From: a@example.com\nSubject: patch\n\nshort\n{}\nshort\n",
        "x".repeat(1200)
    );
    let out = run_with_input(
        mailroom(store.path())
            .args(["send", "--server", &url, "--tls", "none"])
            .args(["--raw", "-", "--to", "list@example.org"]),
        raw.as_bytes(),
    );
    assert_eq!(code(&out), 65, "stderr: {}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("line 5") && err.contains("998 octets"),
        "{err}"
    );
    assert!(listener.accept().is_err(), "a connection was opened");
    let outbox = run(mailroom(store.path()).args(["outbox", "--json"]));
    assert_eq!(json(&outbox).as_array().map(Vec::len), Some(0));
}

#[test]
fn raw_message_from_stdin_is_sent_as_is_without_its_bcc_header() {
    let server = CaptureServer::start(&CaptureOptions::default(), None);
    let store = tempfile::tempdir().unwrap();
    let raw = "From: Alice <alice@example.com>\nTo: bob@example.net\nBcc: secret@example.org,\n  other@example.org\nSubject: raw one\nMessage-ID: <fixed-1@example.com>\n\n.leading dot\nbare lf line\r\nlast line without newline";
    let mut child = mailroom(store.path())
        .args([
            "send",
            "--server",
            &format!("smtp://127.0.0.1:{}", server.port()),
            "--tls",
            "none",
        ])
        .args([
            "--raw",
            "-",
            "--to",
            "bob@example.net",
            "--bcc",
            "secret@example.org",
            "--json",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(raw.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        code(&out),
        0,
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = server.wait_for(1, WAIT);
    assert_eq!(got[0].mail_from, "alice@example.com");
    assert_eq!(
        got[0].rcpt_tos,
        vec!["bob@example.net", "secret@example.org"]
    );
    let expected = "From: Alice <alice@example.com>\r\nTo: bob@example.net\r\nSubject: raw one\r\nMessage-ID: <fixed-1@example.com>\r\n\r\n.leading dot\r\nbare lf line\r\nlast line without newline\r\n";
    assert_eq!(String::from_utf8_lossy(&got[0].data()), expected);
}

#[test]
fn a_recipient_given_twice_gets_one_rcpt_and_one_record() {
    let server = CaptureServer::start(&CaptureOptions::default(), None);
    let store = tempfile::tempdir().unwrap();
    let url = format!("smtp://127.0.0.1:{}", server.port());
    let out = run(mailroom(store.path())
        .args([
            "send",
            "--server",
            &url,
            "--tls",
            "none",
            "--from",
            "a@example.com",
        ])
        .args([
            "--to",
            "b@example.com",
            "--to",
            "B@Example.COM",
            "--cc",
            "b@example.com",
        ])
        .args([
            "--bcc",
            "b@example.com",
            "--cc",
            "c@example.com",
            "--body",
            "x",
            "--json",
        ]));
    assert_eq!(code(&out), 0, "stderr: {}", text(&out.stderr));
    let report = json(&out);
    let records: Vec<&str> = report["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["address"].as_str().unwrap())
        .collect();
    assert_eq!(records, ["b@example.com", "c@example.com"]);
    let got = server.wait_for(1, WAIT);
    assert_eq!(got[0].rcpt_tos, ["b@example.com", "c@example.com"]);
    // The same through --raw.
    let raw = "From: a@example.com\nTo: b@example.com\nSubject: twice\n\nx\n";
    let out = run_with_input(
        mailroom(store.path())
            .args(["send", "--server", &url, "--tls", "none", "--raw", "-"])
            .args(["--to", "b@example.com", "--cc", "b@EXAMPLE.com", "--json"]),
        raw.as_bytes(),
    );
    assert_eq!(code(&out), 0, "stderr: {}", text(&out.stderr));
    let got = server.wait_for(2, WAIT);
    assert_eq!(got[1].rcpt_tos, ["b@example.com"]);
}

#[test]
fn refused_recipient_is_recorded_and_the_others_still_get_the_message() {
    let server = CaptureServer::start(
        &CaptureOptions {
            reject: vec!["nobody@example.net".into()],
            ..Default::default()
        },
        None,
    );
    let store = tempfile::tempdir().unwrap();
    let out = run(mailroom(store.path())
        .args([
            "send",
            "--server",
            &format!("smtp://127.0.0.1:{}", server.port()),
            "--tls",
            "none",
        ])
        .args([
            "--from",
            "alice@example.com",
            "--to",
            "bob@example.net",
            "--to",
            "nobody@example.net",
        ])
        .args(["--body", "hi", "--json"]));
    assert_eq!(
        code(&out),
        69,
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["recipients"][0]["state"], "accepted");
    assert_eq!(report["recipients"][1]["state"], "rejected");
    assert_eq!(report["recipients"][1]["code"], 550);
    assert_eq!(report["recipients"][1]["enhanced"], "5.1.1");
    assert_eq!(report["error"]["kind"], "recipients");
    let got = server.wait_for(1, WAIT);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].rcpt_tos, vec!["bob@example.net"]);
}

#[test]
fn idn_domain_and_quoted_local_part_go_to_a_server_without_smtputf8() {
    // Neither needs SMTPUTF8: the domain travels as A-labels, and a quoted local part with a
    // space is plain ASCII that RFC 5321 allows.
    let server = CaptureServer::start(&CaptureOptions::default(), None);
    let store = tempfile::tempdir().unwrap();
    let url = format!("smtp://127.0.0.1:{}", server.port());
    let out = run(mailroom(store.path())
        .args(["send", "--server", &url, "--tls", "none"])
        .args([
            "--from",
            "alice@example.com",
            "--to",
            "Bob <bob@bücher.example>",
        ])
        .args([
            "--to",
            "\"quoted local\"@example.com",
            "--bcc",
            "carol@münchen.example",
        ])
        .args(["--subject", "IDN", "--body", "hi", "--json"]));
    assert_eq!(code(&out), 0, "stderr: {}", text(&out.stderr));
    let got = server.wait_for(1, WAIT);
    assert_eq!(
        got[0].rcpt_tos,
        [
            "bob@xn--bcher-kva.example",
            "\"quoted local\"@example.com",
            "carol@xn--mnchen-3ya.example"
        ]
    );
    assert!(!got[0].mail_options.iter().any(|o| o == "SMTPUTF8"));
    let data = text(&got[0].data());
    assert!(
        data.contains("To: Bob <bob@xn--bcher-kva.example>, \"quoted local\"@example.com\r\n"),
        "{data}"
    );
    assert!(!data.contains("carol"));
}

#[test]
fn a_message_the_server_can_never_take_fails_instead_of_waiting_for_a_retry() {
    // A UTF-8 local part needs SMTPUTF8, which this server does not offer.
    let server = CaptureServer::start(&CaptureOptions::default(), None);
    let store = tempfile::tempdir().unwrap();
    let url = format!("smtp://127.0.0.1:{}", server.port());
    let out = run(mailroom(store.path())
        .args([
            "send",
            "--server",
            &url,
            "--tls",
            "none",
            "--from",
            "a@example.com",
        ])
        .args(["--to", "jöran@example.org", "--body", "x", "--json"]));
    assert_eq!(code(&out), 69, "stderr: {}", text(&out.stderr));
    let report = json(&out);
    assert_eq!(report["state"], "failed");
    assert_eq!(report["error"]["kind"], "unsupported");
    assert_eq!(report["recipients"][0]["state"], "rejected");
    assert!(server.messages().is_empty());
}

#[test]
fn every_recipient_refused_leaves_the_message_failed_in_the_outbox() {
    let server = CaptureServer::start(
        &CaptureOptions {
            reject: vec!["nobody@example.net".into()],
            ..Default::default()
        },
        None,
    );
    let store = tempfile::tempdir().unwrap();
    let url = format!("smtp://127.0.0.1:{}", server.port());
    let out = run(mailroom(store.path())
        .args(["send", "--server", &url, "--tls", "none"])
        .args([
            "--from",
            "alice@example.com",
            "--to",
            "nobody@example.net",
            "--body",
            "hi",
            "--json",
        ]));
    assert_eq!(code(&out), 69);
    let report = json(&out);
    assert_eq!(report["state"], "failed");
    assert_eq!(report["recipients"][0]["state"], "rejected");
    std::thread::sleep(Duration::from_millis(200));
    assert!(server.messages().is_empty());
}

fn send_args(cmd: &mut Command, url: &str) {
    cmd.args(["send", "--server", url])
        .args([
            "--from",
            "alice@example.com",
            "--to",
            "bob@example.net",
            "--subject",
            "s",
        ])
        .args(["--body", "b", "--json"]);
}

#[test]
fn implicit_tls_with_password_command_delivers() {
    let certs = TestCerts::generate();
    let server = CaptureServer::start(
        &CaptureOptions {
            tls: TlsMode::Implicit,
            auth: Some(("alice".into(), "from a command".into())),
            ..CaptureOptions::default()
        },
        Some(&certs),
    );
    let store = tempfile::tempdir().unwrap();
    let mut cmd = mailroom(store.path());
    send_args(&mut cmd, &format!("smtps://127.0.0.1:{}", server.port()));
    cmd.arg("--ca-file").arg(certs.ca_path());
    cmd.args([
        "--user",
        "alice",
        "--password-command",
        "echo 'from a command'",
    ]);
    cmd.args(["--ehlo-name", "client.example.com", "--timeout", "30"]);
    let out = run(&mut cmd);
    assert_eq!(
        code(&out),
        0,
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = server.wait_for(1, WAIT);
    assert!(got[0].tls && got[0].authenticated);
}

#[test]
fn wrong_password_exits_77_and_keeps_the_message_queued() {
    let certs = TestCerts::generate();
    let server = auth_server(&certs);
    let store = tempfile::tempdir().unwrap();
    let url = format!("smtp://127.0.0.1:{}", server.port());
    let mut cmd = mailroom(store.path());
    send_args(&mut cmd, &url);
    cmd.arg("--ca-file").arg(certs.ca_path());
    cmd.args(["--user", "alice", "--password-env", "MAILROOM_TEST_PW"])
        .env("MAILROOM_TEST_PW", "wrong guess");
    let out = run(&mut cmd);
    assert_eq!(
        code(&out),
        77,
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["error"]["kind"], "auth");
    assert_eq!(report["state"], "waiting");
    let everything = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !everything.contains("wrong guess"),
        "the password leaked: {everything}"
    );
    assert!(server.messages().is_empty());
}

#[test]
fn starttls_missing_is_a_hard_failure_and_nothing_is_sent_in_plaintext() {
    let server = CaptureServer::start(&CaptureOptions::default(), None);
    let store = tempfile::tempdir().unwrap();
    let mut cmd = mailroom(store.path());
    send_args(&mut cmd, &format!("smtp://127.0.0.1:{}", server.port()));
    let out = run(&mut cmd);
    // Left queued (waiting) with the reason, and exit 78: it will not go through until the
    // settings or the server change.
    assert_eq!(
        code(&out),
        78,
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["error"]["kind"], "tls");
    assert_eq!(report["state"], "waiting");
    std::thread::sleep(Duration::from_millis(200));
    assert!(server.messages().is_empty());
}

#[test]
fn untrusted_certificate_is_refused() {
    let certs = TestCerts::generate();
    let server = auth_server(&certs);
    let store = tempfile::tempdir().unwrap();
    let mut cmd = mailroom(store.path());
    send_args(&mut cmd, &format!("smtp://127.0.0.1:{}", server.port()));
    cmd.args(["--user", "alice", "--password-env", "MAILROOM_TEST_PW"])
        .env("MAILROOM_TEST_PW", "s3cret pass");
    let out = run(&mut cmd);
    // Left queued (waiting) with the reason, and exit 78: it will not go through until the
    // settings or the server change.
    assert_eq!(
        code(&out),
        78,
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(&out)["error"]["kind"], "tls");
    assert!(server.messages().is_empty());
}

#[test]
fn bad_settings_are_refused_before_anything_is_stored() {
    let store = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], i32)] = &[
        (&["--server", "http://127.0.0.1:1"], 78),
        (&["--server", "smtp://127.0.0.1:99999"], 78),
        (
            &["--server", "smtps://127.0.0.1:1", "--tls", "starttls"],
            78,
        ),
        (&["--server", "smtp://127.0.0.1:1", "--user", "u"], 78),
        (
            &[
                "--server",
                "smtp://127.0.0.1:1",
                "--user",
                "u",
                "--password-env",
                "MAILROOM_UNSET_VAR",
            ],
            78,
        ),
        (
            &[
                "--server",
                "smtp://127.0.0.1:1",
                "--auth",
                "NOPE",
                "--user",
                "u",
                "--password-env",
                "HOME",
            ],
            78,
        ),
        (
            &[
                "--server",
                "smtp://127.0.0.1:1",
                "--ca-file",
                "/nonexistent/ca.pem",
            ],
            78,
        ),
        (
            &["--server", "smtp://127.0.0.1:1", "--ehlo-name", "bad name"],
            78,
        ),
        (
            &[
                "--server",
                "smtp://127.0.0.1:1",
                "--ehlo-name",
                "under_score.example",
            ],
            78,
        ),
        (
            &["--server", "smtp://127.0.0.1:1", "--cc", "not an address"],
            65,
        ),
        (
            &[
                "--server",
                "smtp://127.0.0.1:1",
                "--body-file",
                "/nonexistent/body",
            ],
            65,
        ),
    ];
    for (args, expected) in cases {
        let out = run(mailroom(store.path())
            .args([
                "send",
                "--from",
                "alice@example.com",
                "--to",
                "bob@example.net",
            ])
            .args(*args)
            .env_remove("MAILROOM_UNSET_VAR"));
        assert_eq!(
            code(&out),
            *expected,
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stderr.is_empty());
    }
    let out = run(mailroom(store.path()).args([
        "flush",
        "--server",
        "smtp://127.0.0.1:1",
        "--tls",
        "none",
    ]));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "nothing to send"
    );
}

#[test]
fn on_request_stores_without_sending_and_flush_sends_it() {
    let server = CaptureServer::start(&CaptureOptions::default(), None);
    let store = tempfile::tempdir().unwrap();
    let url = format!("smtp://127.0.0.1:{}", server.port());
    let mut cmd = mailroom(store.path());
    send_args(&mut cmd, &url);
    cmd.args(["--tls", "none", "--when", "on-request"]);
    let out = run(&mut cmd);
    assert_eq!(code(&out), 0);
    assert_eq!(json(&out)["state"], "upon_request");
    std::thread::sleep(Duration::from_millis(200));
    assert!(server.messages().is_empty());
    let out = run(mailroom(store.path()).args(["flush", "--server", &url, "--tls", "none"]));
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(server.wait_for(1, WAIT).len(), 1);
}

#[test]
fn far_future_at_is_refused_and_listings_keep_working() {
    let store = tempfile::tempdir().unwrap();
    for at in ["+99999999d", "+999999999999999d", "+18446744073709551615s"] {
        let out = run(mailroom(store.path())
            .args([
                "send",
                "--server",
                "smtp://127.0.0.1:1",
                "--tls",
                "none",
                "--at",
                at,
            ])
            .args([
                "--from",
                "a@example.com",
                "--to",
                "b@example.com",
                "--body",
                "x",
            ]));
        assert_eq!(
            code(&out),
            65,
            "{at}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = run(mailroom(store.path())
        .args([
            "send",
            "--server",
            "smtp://127.0.0.1:1",
            "--tls",
            "none",
            "--at",
            "+2000d",
        ])
        .args([
            "--from",
            "a@example.com",
            "--to",
            "b@example.com",
            "--body",
            "x",
            "--json",
        ]));
    assert_eq!(json(&out)["state"], "scheduled");
    let listing = run(mailroom(store.path()).args(["outbox", "--json"]));
    assert_eq!(
        code(&listing),
        0,
        "{}",
        String::from_utf8_lossy(&listing.stderr)
    );
    assert_eq!(json(&listing).as_array().unwrap().len(), 1);
}

#[test]
fn git_format_patch_output_is_sent_without_its_mbox_line_and_empty_raw_is_refused() {
    let server = CaptureServer::start(&CaptureOptions::default(), None);
    let store = tempfile::tempdir().unwrap();
    let url = format!("smtp://127.0.0.1:{}", server.port());
    let patch = "From 0123456789abcdef Mon Sep 17 00:00:00 2001\nFrom: Alice <alice@example.com>\nDate: Fri, 4 Dec 2026 10:00:00 +0000\nSubject: [PATCH] fix\n\n---\n a | 1 +\n";
    let out = common::run_with_input(
        mailroom(store.path()).args([
            "send",
            "--server",
            &url,
            "--tls",
            "none",
            "--raw",
            "-",
            "--to",
            "list@example.org",
        ]),
        patch.as_bytes(),
    );
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let got = server.wait_for(1, WAIT);
    let data = String::from_utf8_lossy(&got[0].data()).to_string();
    assert!(
        data.starts_with("From: Alice <alice@example.com>\r\n"),
        "{data}"
    );
    for empty in ["", "\n\nbody without header\n"] {
        let out = common::run_with_input(
            mailroom(store.path())
                .args(["send", "--server", &url, "--tls", "none", "--raw", "-"])
                .args(["--from", "a@example.com", "--to", "list@example.org"]),
            empty.as_bytes(),
        );
        assert_eq!(
            code(&out),
            65,
            "{empty:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.messages().len(), 1);
}

#[test]
fn ctrl_c_during_a_send_lets_the_message_finish_instead_of_leaving_it_uncertain() {
    let server = CaptureServer::start(
        &CaptureOptions {
            delay_data: Some(Duration::from_secs(2)),
            ..Default::default()
        },
        None,
    );
    let store = tempfile::tempdir().unwrap();
    let child = mailroom(store.path())
        .args([
            "send",
            "--server",
            &format!("smtp://127.0.0.1:{}", server.port()),
            "--tls",
            "none",
        ])
        .args([
            "--from",
            "a@example.com",
            "--to",
            "b@example.com",
            "--body",
            "x",
            "--json",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json(&out)["state"], "sent");
    assert!(String::from_utf8_lossy(&out.stderr).contains("stopping after the message"));
    assert_eq!(server.wait_for(1, WAIT).len(), 1);
}

#[test]
fn flush_of_on_request_messages_with_the_server_down_exits_75_and_says_why() {
    let port = mailroom_testkit::free_port();
    let store = tempfile::tempdir().unwrap();
    let server_url = format!("smtp://127.0.0.1:{port}");
    let added = run(mailroom(store.path()).args([
        "account",
        "add",
        "main",
        "--server",
        &server_url,
        "--tls",
        "none",
        "--from",
        "alice@example.com",
    ]));
    assert_eq!(code(&added), 0, "{added:?}");
    let queued = run(mailroom(store.path()).args([
        "send",
        "--when",
        "on-request",
        "--to",
        "bob@example.net",
        "--subject",
        "s",
        "--body",
        "b",
    ]));
    assert_eq!(code(&queued), 0, "{queued:?}");
    let out = run(mailroom(store.path()).arg("flush"));
    assert_eq!(code(&out), 75, "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("not sent") && text.contains("connect"),
        "{text}"
    );
    let out = run(mailroom(store.path()).args(["flush", "--json"]));
    assert_eq!(code(&out), 75, "{out:?}");
    let report = json(&out);
    let report = report.as_array().map_or(&report, |a| &a[0]);
    assert_eq!(report["state"], "upon_request");
    assert_eq!(report["error"]["kind"], "connect");
}

#[test]
fn ctrl_c_during_a_flush_says_how_many_are_left_queued_and_exits_75() {
    let server = CaptureServer::start(
        &CaptureOptions {
            delay_data: Some(Duration::from_millis(700)),
            ..Default::default()
        },
        None,
    );
    let store = tempfile::tempdir().unwrap();
    let url = format!("smtp://127.0.0.1:{}", server.port());
    for i in 0..5 {
        let out = run(mailroom(store.path())
            .args([
                "send",
                "--server",
                &url,
                "--tls",
                "none",
                "--when",
                "on-request",
                "--from",
                "a@example.com",
                "--to",
                "b@example.com",
                "--subject",
            ])
            .arg(format!("m{i}"))
            .args(["--body", "x"]));
        assert_eq!(code(&out), 0, "{out:?}");
    }
    let child = mailroom(store.path())
        .args(["flush", "--server", &url, "--tls", "none"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code(&out), 75, "{stderr}");
    let sent = server.wait_for(1, WAIT).len();
    std::thread::sleep(Duration::from_millis(800));
    let sent = sent.max(server.messages().len());
    assert!(sent < 5, "the flush did not stop");
    assert!(
        stderr.contains(&format!("{} message(s) left queued", 5 - sent)),
        "{stderr}"
    );
}

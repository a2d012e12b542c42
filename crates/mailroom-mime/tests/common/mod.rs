//! Sample messages shared by the golden and the oracle tests, with fixed date, id and boundaries.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use mailroom_mime::{Attachment, Boundaries, Mailbox, Message, Priority, RenderOptions, Source};
use time::macros::datetime;

/// How many cases a property test runs: `PROPTEST_CASES` when set, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn mb(text: &str) -> Mailbox {
    Mailbox::parse(text).unwrap()
}

/// A one-pixel PNG-like blob: binary bytes with every value, so base64 must be exact.
pub fn binary_blob(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 131 % 256) as u8).collect()
}

fn base(subject: &str) -> Message {
    Message {
        from: Some(mb("Alice Example <alice@example.org>")),
        to: vec![mb("Bob <bob@example.net>")],
        subject: Some(subject.into()),
        date: Some(datetime!(2026-12-04 15:48:15 +01:00)),
        message_id: Some("<golden.1@example.org>".into()),
        ..Message::default()
    }
}

pub fn options(allow_8bit: bool) -> RenderOptions {
    RenderOptions {
        allow_8bit,
        boundaries: Boundaries::Counter("=_golden_".into()),
        ..RenderOptions::default()
    }
}

/// (name, model, allow_8bit) for every golden and oracle case.
pub fn samples() -> Vec<(&'static str, Message, bool)> {
    let mut out = Vec::new();

    let mut m = base("Lunch on Friday?");
    m.text = Some("Hi Bob,\n\nlunch on Friday at noon?\n\nAlice\n".into());
    out.push(("plain_ascii", m, false));

    let mut m = base("Grüße aus Köln – schönes Wochenende! 🎉");
    m.from = Some(mb("Jürgen Müller <juergen@example.org>"));
    m.to = vec![
        mb("Zoë Ångström <zoe@example.net>"),
        mb("carol@example.net"),
    ];
    m.cc = vec![mb("李小龙 <li@example.cn>")];
    m.text = Some("Hallo Zoë,\r\nviele Grüße aus Köln.\r\nJürgen".into());
    out.push(("utf8_quoted_printable", m.clone(), false));
    out.push(("utf8_eight_bit", m, true));

    let mut m = base("A very long line");
    m.text = Some(format!("start\n{}\nend\n", "0123456789".repeat(150)));
    out.push(("long_line_quoted_printable", m, true));

    let mut m = base("Names with specials");
    m.from = Some(mb("\"Doe, Jane (Sales)\" <jane@example.org>"));
    m.to = vec![
        mb("\"Back\\\\slash \\\"Quote\\\"\" <q@example.net>"),
        mb(&format!(
            "\"{}\" <long@example.net>",
            "Very Long Name, ".repeat(8).trim_end()
        )),
        mb("\"=?utf-8?q?not_encoded?=\" <tricky@example.net>"),
    ];
    m.reply_to = vec![mb("Team <team@example.org>")];
    m.text = Some("Body.\n".into());
    out.push(("display_names", m, false));

    let url = format!("https://example.org/track/{}", "abcdefghij".repeat(9));
    let mut m = base(&format!(
        "Re: a rather long subject line that needs folding see {url} and also \
         Ünïcödé wörds mixed in with ASCII words until the line must fold again"
    ));
    m.text = Some("See subject.\n".into());
    m.in_reply_to = Some("<parent.2@example.net>".into());
    m.references = (1..=6)
        .map(|i| format!("<thread.{i}.abcdefghijklmnop@example.net>"))
        .collect();
    out.push(("long_headers", m, false));

    let mut m = base("Newsletter");
    m.text = Some("Plain version.\n".into());
    m.html = Some("<html><body><p>HTML <b>version</b> – ünïcode.</p></body></html>\n".into());
    out.push(("alternative", m, false));

    let mut m = base("With a logo");
    m.text = Some("Logo below.\n".into());
    m.html = Some("<p>Logo: <img src=\"cid:logo.1@example.org\"></p>\n".into());
    let mut logo = Attachment::from_bytes("logo.png", "image/png", binary_blob(300));
    logo.content_id = Some("logo.1@example.org".into());
    m.inline.push(logo);
    out.push(("related_inline", m, false));

    let mut m = base("Two attachments");
    m.text = Some("Files attached.\n".into());
    m.attachments.push(Attachment::from_bytes(
        "report.pdf",
        "application/pdf",
        binary_blob(1000),
    ));
    m.attachments.push(Attachment::from_bytes(
        "Überweisungsbestätigung für das Geschäftsjahr 2026 – endgültige Fassung (Kopie).txt",
        "text/plain",
        "ünïcödé text attachment\r\n".as_bytes().to_vec(),
    ));
    out.push(("attachments_rfc2231", m, false));

    let mut m = base("Everything at once");
    m.sender = Some(mb("Assistant <assistant@example.org>"));
    m.cc = vec![mb("Carol <carol@example.net>")];
    m.bcc = vec![mb("Secret <secret@example.net>")];
    m.priority = Some(Priority::High);
    m.receipt_to = Some(mb("Alice Example <alice@example.org>"));
    m.headers = vec![
        (
            "List-Unsubscribe".into(),
            "<https://example.org/unsubscribe?id=12345>".into(),
        ),
        ("X-Mailer".into(), "Mailroom".into()),
    ];
    m.in_reply_to = Some("<parent@example.net>".into());
    m.references = vec!["<root@example.net>".into(), "<parent@example.net>".into()];
    m.text = Some("Text body.\n".into());
    m.html = Some("<html><body><p>HTML body <img src=\"cid:pic@x\"></p></body></html>".into());
    let mut pic = Attachment::from_bytes("pic.gif", "image/gif", binary_blob(64));
    pic.content_id = Some("pic@x".into());
    m.inline.push(pic);
    m.attachments.push(Attachment::from_bytes(
        "data.bin",
        "application/octet-stream",
        vec![0, 255],
    ));
    m.signature = Some("Alice Example\nExample Org".into());
    m.vcard = Some(
        "BEGIN:VCARD\nVERSION:4.0\nFN:Alice Example\nEMAIL:alice@example.org\nEND:VCARD\n".into(),
    );
    out.push(("everything", m, false));

    let mut m = base("Internationalized addresses");
    m.from = Some(mb("Jörg <jörg@bücher.example>"));
    m.to = vec![mb("Ana <ana@bücher.example>"), mb("用户@例子.广告")];
    m.text = Some("SMTPUTF8 needed.\n".into());
    out.push(("idn_and_utf8_local", m, true));

    let mut m = base("Fwd: Original");
    m.text = Some("Forwarding the message below.\n".into());
    let inner =
        b"From: Orig <orig@example.net>\nTo: a@example.org\nSubject: Original\n\nOriginal body\n";
    m.attachments.push(Attachment {
        file_name: Some("Original.eml".into()),
        content_type: "message/rfc822".into(),
        content_id: None,
        source: Source::Bytes {
            data: inner.to_vec(),
        },
    });
    out.push(("forward_attached", m, false));

    let mut m = base("");
    m.subject = None;
    m.html = Some("<p>Only HTML</p>".into());
    out.push(("html_only_no_subject", m, false));

    out
}

/// Renders a sample with its fixed options.
pub fn render(message: &Message, allow_8bit: bool) -> Vec<u8> {
    let mut out = Vec::new();
    message.render(&options(allow_8bit), &mut out).unwrap();
    out
}

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs a Python oracle script on `input` and returns its stdout as JSON.
/// A missing python3 is a failure, not a skip.
pub fn python(script: &str, input: &[u8]) -> serde_json::Value {
    python_with(script, &[], input)
}

/// Runs a Python oracle script with arguments; see [`python`].
pub fn python_with(script: &str, args: &[&str], input: &[u8]) -> serde_json::Value {
    let path = crate_dir().join("tests/oracle").join(script);
    let mut child = Command::new("python3")
        .arg(&path)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 must be installed for the oracle tests");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

//! The renderer's contract with its callers: errors before output, what RenderInfo reports,
//! sources from files and streams, and the JSON form the MTM stores.

mod common;

use std::io::{self, Read};
use std::sync::Arc;

use common::{mb, options, render, samples};
use mailroom_mime::{Attachment, Message, MessageError, RenderOptions, Source};

fn simple() -> Message {
    Message {
        from: Some(mb("a@example.org")),
        to: vec![mb("b@example.net")],
        text: Some("hello".into()),
        ..Message::default()
    }
}

#[test]
fn invalid_models_fail_before_any_byte_is_written() {
    let mut m = simple();
    m.subject = Some("x\r\nBcc: victim@example.net".into());
    let mut out = Vec::new();
    let err = m.render(&RenderOptions::default(), &mut out).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(out.is_empty());

    let mut m = simple();
    m.from = None;
    let err = m.render(&RenderOptions::default(), &mut out).unwrap_err();
    let inner = err
        .get_ref()
        .unwrap()
        .downcast_ref::<MessageError>()
        .unwrap();
    assert_eq!(inner, &MessageError::MissingFrom);

    let mut m = simple();
    m.attachments.push(Attachment::from_file(
        "x.pdf",
        "application/pdf",
        "/nonexistent/x.pdf",
    ));
    assert_eq!(
        m.render(&RenderOptions::default(), &mut out)
            .unwrap_err()
            .kind(),
        io::ErrorKind::NotFound
    );
    assert!(out.is_empty());

    let dir = tempfile::tempdir().unwrap();
    m.attachments[0] = Attachment::from_file("dir", "application/pdf", dir.path());
    let err = m.render(&RenderOptions::default(), &mut out).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("not a file"));
    assert!(out.is_empty());
}

#[test]
fn defaults_are_filled_and_reported() {
    let m = simple();
    let mut out = Vec::new();
    let info = m.render(&RenderOptions::default(), &mut out).unwrap();
    assert_eq!(info.bytes, out.len() as u64);
    assert!(!info.has_8bit && !info.needs_smtputf8);
    assert!(info.message_id.ends_with("@example.org>"));
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains(&format!("Message-ID: {}\r\n", info.message_id)));
    assert!(text.contains(&format!(
        "Date: {}\r\n",
        mailroom_mime::format_date(info.date)
    )));
    // Random boundaries differ between renders.
    let mut m = simple();
    m.html = Some("<p>x</p>".into());
    let (mut a, mut b) = (Vec::new(), Vec::new());
    m.render(&RenderOptions::default(), &mut a).unwrap();
    m.render(&RenderOptions::default(), &mut b).unwrap();
    assert_ne!(a, b);
}

#[test]
fn eight_bit_flags_follow_content_and_options() {
    let mut m = simple();
    m.text = Some("grün".into());
    assert!(m.needs_8bit() && !m.needs_smtputf8());
    let mut out = Vec::new();
    assert!(!m.render(&options(false), &mut out).unwrap().has_8bit);
    assert!(m.render(&options(true), &mut out).unwrap().has_8bit);
    m.bcc.push(mb("jö@example.net"));
    assert!(m.needs_smtputf8());
}

#[test]
fn recipients_are_to_cc_and_bcc_once_each() {
    let mut m = simple();
    m.cc = vec![mb("C <c@example.net>"), mb("B@EXAMPLE.NET")];
    m.bcc = vec![mb("d@bücher.example"), mb("d@xn--bcher-kva.example")];
    let got: Vec<&str> = m.recipients().iter().map(|a| a.as_str()).collect();
    assert_eq!(got, ["b@example.net", "c@example.net", "d@bücher.example"]);
}

#[test]
fn an_enclosed_8bit_message_goes_base64_unless_8bit_is_allowed() {
    let mut m = simple();
    m.attachments.push(Attachment {
        file_name: Some("orig.eml".into()),
        content_type: "message/rfc822".into(),
        content_id: None,
        source: Source::Bytes {
            data: "Subject: grün\n\nkäse\n".as_bytes().to_vec(),
        },
    });
    assert!(m.needs_8bit());
    let mut out = Vec::new();
    m.render(&options(false), &mut out).unwrap();
    assert!(out.is_ascii());
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("Content-Transfer-Encoding: base64")
    );
    let mut out = Vec::new();
    assert!(m.render(&options(true), &mut out).unwrap().has_8bit);
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("Content-Transfer-Encoding: 8bit\r\n\r\nSubject: grün\r\n")
    );
}

#[test]
fn attachments_come_from_files_and_streams() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.bin");
    std::fs::write(&path, b"file bytes").unwrap();
    let mut m = simple();
    m.attachments.push(Attachment::from_file(
        "data.bin",
        "application/octet-stream",
        &path,
    ));
    m.attachments.push(Attachment {
        file_name: Some("s.txt".into()),
        content_type: "text/plain".into(),
        content_id: None,
        source: Source::Stream {
            key: "stream-7".into(),
        },
    });
    let mut out = Vec::new();
    let err = m.render(&options(false), &mut out).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);

    let opener = |key: &str| -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(io::Cursor::new(
            format!("contents of {key}").into_bytes(),
        )))
    };
    let opts = RenderOptions {
        streams: Some(Arc::new(opener)),
        ..options(false)
    };
    let mut out = Vec::new();
    m.render(&opts, &mut out).unwrap();
    let parsed = mail_parser::MessageParser::default().parse(&out).unwrap();
    let bodies: Vec<&[u8]> = parsed.attachments().map(|a| a.contents()).collect();
    assert_eq!(bodies, [&b"file bytes"[..], b"contents of stream-7"]);
}

#[test]
fn models_survive_a_json_round_trip() {
    for (name, m, _) in samples() {
        let json = serde_json::to_string(&m).unwrap();
        let back: Message = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m, "{name}");
        assert_eq!(render(&back, false), render(&m, false), "{name}");
    }
    let minimal: Message =
        serde_json::from_str(r#"{"from": {"name": null, "address": "a@b.example"}}"#).unwrap();
    assert_eq!(minimal.from.unwrap().address.as_str(), "a@b.example");
    assert!(
        serde_json::from_str::<Message>(r#"{"to": [{"name": null, "address": "bad"}]}"#).is_err()
    );
}

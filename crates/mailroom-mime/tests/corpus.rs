//! Corpus test: real-world shaped messages of varied origin (desktop, web and list mail,
//! delivery reports, non-English charsets, malformed input) are parsed, replied to, forwarded,
//! searched and stripped of Bcc without error, and what they say comes back.

mod common;

use std::path::PathBuf;

use common::{crate_dir, mb};
use mailroom_mime::{
    Address, Field, ForwardMode, Message, ReplyOptions, Scope, base_subject, find, forward,
    parse_message, reply, reply_all, reply_subject, strip_bcc,
};

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir: PathBuf = crate_dir().join("tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn me() -> ReplyOptions {
    ReplyOptions {
        from: Some(mb("Me Myself <me@example.net>")),
        own_addresses: vec![Address::parse("you@example.net").unwrap()],
        include_limit: 3,
    }
}

fn render(name: &str, m: &Message) -> Vec<u8> {
    let mut out = Vec::new();
    m.render(&Default::default(), &mut out)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    out
}

/// The first word of at least four letters, for searching.
fn a_word(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_alphabetic())
        .find(|w| w.chars().count() >= 4)
        .map(str::to_owned)
}

/// The header fields a reply or forward may have; anything else was injected.
const RENDERED_FIELDS: &[&str] = &[
    "date",
    "from",
    "to",
    "cc",
    "subject",
    "message-id",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
];

fn header_block(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.split("\r\n\r\n").next().unwrap().to_ascii_lowercase()
}

#[test]
fn the_corpus_has_at_least_thirty_messages() {
    assert!(corpus().len() >= 30);
}

#[test]
fn every_message_parses_replies_forwards_and_searches() {
    for (name, raw) in corpus() {
        let parsed = parse_message(&raw).unwrap_or_else(|e| panic!("{name}: {e}"));
        let original = parsed.message;
        original
            .validate()
            .unwrap_or_else(|e| panic!("{name}: parsed model invalid: {e}"));

        let r = reply(&original, &me());
        // One Re: before the same base subject (forward prefixes may stay between them).
        let base = base_subject(original.subject.as_deref().unwrap_or(""));
        let subject = r.subject.clone().unwrap();
        assert!(subject.starts_with("Re:"), "{name}: {subject}");
        assert_eq!(base_subject(&subject), base, "{name}");
        assert_eq!(reply_subject(Some(&subject)), subject, "{name}");
        assert_eq!(r.in_reply_to, original.message_id, "{name}");
        if let Some(id) = &original.message_id {
            assert_eq!(r.references.last(), Some(id), "{name}");
        }
        let all = reply_all(&original, &me());
        assert!(
            all.to
                .iter()
                .chain(&all.cc)
                .all(|m| m.address.as_str() != "you@example.net")
        );
        let inline = forward(&original, None, ForwardMode::Inline, &me()).unwrap();
        let attached = forward(&original, Some(&raw), ForwardMode::Attached, &me()).unwrap();
        for (what, m) in [
            ("reply", &r),
            ("reply-all", &all),
            ("fwd", &inline),
            ("fwd-att", &attached),
        ] {
            let bytes = render(name.as_str(), m);
            assert!(bytes.ends_with(b"\r\n"), "{name} {what}");
            for line in bytes[..bytes.len() - 2].split(|&b| b == b'\n') {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                assert!(line.len() <= 998, "{name} {what}: line over 998 octets");
                assert!(!line.contains(&b'\r'), "{name} {what}: bare CR or LF");
            }
            let lf = bytes.iter().filter(|&&b| b == b'\n').count();
            assert_eq!(
                lf,
                bytes.windows(2).filter(|w| w == b"\r\n").count(),
                "{name} {what}"
            );
            let head = header_block(&bytes);
            assert!(!head.contains("\nbcc:"), "{name} {what}: Bcc written");
            for line in head.split("\r\n").filter(|l| !l.starts_with([' ', '\t'])) {
                let field = line.split(':').next().unwrap();
                assert!(
                    RENDERED_FIELDS.contains(&field),
                    "{name} {what}: unexpected {line:?}"
                );
            }
            let back = parse_message(&bytes).unwrap_or_else(|e| panic!("{name} {what}: {e}"));
            assert_eq!(back.message.subject, m.subject, "{name} {what}");
        }

        if let Some(word) = original.subject.as_deref().and_then(a_word) {
            let hits = find(
                &original,
                &word.to_uppercase(),
                Scope {
                    subject: true,
                    ..Scope::NONE
                },
            );
            assert!(
                hits.iter().any(|h| h.field == Field::Subject),
                "{name}: {word}"
            );
        }
        if let Some(word) = original.text.as_deref().and_then(a_word) {
            let hits = find(&original, &word.to_lowercase(), Scope::ALL);
            assert!(
                hits.iter().any(|h| h.field == Field::Text),
                "{name}: {word}"
            );
        }
        if let Some(word) = original
            .html
            .as_deref()
            .map(mailroom_mime::html_to_text)
            .as_deref()
            .and_then(a_word)
        {
            let hits = find(
                &original,
                &word,
                Scope {
                    html: true,
                    ..Scope::NONE
                },
            );
            assert!(!hits.is_empty(), "{name}: {word} in html");
        }
    }
}

#[test]
fn strip_bcc_leaves_everything_but_bcc_fields() {
    for (name, raw) in corpus() {
        let mut out = Vec::new();
        let info = strip_bcc(&raw[..], &mut out).unwrap();
        let text = String::from_utf8_lossy(&out);
        let head_end = text
            .find("\r\n\r\n")
            .or_else(|| text.find("\n\n"))
            .unwrap_or(text.len());
        assert!(
            !text[..head_end]
                .to_ascii_lowercase()
                .lines()
                .any(|l| l.starts_with("bcc:")),
            "{name}"
        );
        assert_eq!(out.len() as u64, info.header_bytes + info.body_bytes);
        assert!(
            raw.ends_with(&out[info.header_bytes as usize..]),
            "{name}: body changed"
        );
        assert_eq!(
            info.bcc_removed,
            usize::from(name.contains("group_addresses")),
            "{name}"
        );
    }
}

fn load(name: &str) -> Message {
    let raw = std::fs::read(crate_dir().join("tests/corpus").join(name)).unwrap();
    parse_message(&raw).unwrap().message
}

#[test]
fn non_english_charsets_decode() {
    let cases = [
        (
            "12_japanese_iso2022jp.eml",
            "会議の議事録について",
            "議事録",
        ),
        ("13_russian_koi8r.eml", "Встреча в пятницу", "встрече"),
        ("14_chinese_gb2312_base64.eml", "会议通知", "会议室"),
        ("15_hebrew_windows1255.eml", "דוח חודשי", "הדוח"),
        ("16_greek_iso8859_7.eml", "Συνέδριο τη Δευτέρα", "συνέδριο"),
        (
            "17_german_latin1_qp.eml",
            "Unterlagen für die Überprüfung",
            "Größe",
        ),
        ("18_arabic_utf8.eml", "رد: شكرا", "رسالتك"),
        (
            "22_smtputf8_raw_headers.eml",
            "Grüße ohne Kodierung",
            "SMTPUTF8",
        ),
    ];
    for (name, subject, word) in cases {
        let m = load(name);
        assert_eq!(m.subject.as_deref(), Some(subject), "{name}");
        assert!(m.text.as_deref().unwrap().contains(word), "{name}");
        assert!(!find(&m, word, Scope::ALL).is_empty(), "{name}");
    }
    assert_eq!(
        load("13_russian_koi8r.eml").from.unwrap().name.as_deref(),
        Some("Иван Петров")
    );
    let utf8 = load("22_smtputf8_raw_headers.eml");
    assert_eq!(utf8.from.unwrap().address.as_str(), "zoë@bücher.example");
    assert_eq!(
        reply(&load("18_arabic_utf8.eml"), &me()).subject.as_deref(),
        Some("Re: شكرا")
    );
}

#[test]
fn attachments_inline_parts_and_groups_come_through() {
    let m = load("20_attachment_rfc2231.eml");
    assert_eq!(
        m.attachments[0].file_name.as_deref(),
        Some("Kvittering for flybillett Tromsø–Ålesund 2026.pdf")
    );
    let m = load("21_attachment_rfc2047_name.eml");
    assert_eq!(
        m.attachments[0].file_name.as_deref(),
        Some("stränder i Göteborg.jpg")
    );
    let m = load("03_apple_mail_related.eml");
    assert_eq!(m.inline.len(), 1);
    assert_eq!(
        m.inline[0].content_id.as_deref(),
        Some("F00D1234-ABCD-4EF0-9876-0123456789AB")
    );
    let m = load("19_forwarded_rfc822.eml");
    assert_eq!(m.attachments[0].content_type, "message/rfc822");
    let m = load("36_group_addresses.eml");
    let cc: Vec<&str> = m.cc.iter().map(|c| c.address.as_str()).collect();
    assert_eq!(cc, ["alice@example.com", "bob@example.com"]);
    assert_eq!(m.bcc.len(), 1);
    assert!(m.to.is_empty());
}

#[test]
fn hostile_encoded_words_are_defused() {
    let m = load("34_header_injection_attempt.eml");
    for text in [
        m.subject.as_deref().unwrap(),
        m.from.as_ref().unwrap().name.as_deref().unwrap(),
    ] {
        assert!(!text.contains(['\r', '\n', '\0']), "{text:?}");
    }
    assert!(
        m.headers
            .iter()
            .all(|(_, v)| !v.contains(['\r', '\n', '\0']))
    );
    let mut out = Vec::new();
    let mut again = m.clone();
    again.to = vec![mb("x@example.net")];
    again.render(&Default::default(), &mut out).unwrap();
    let back = mail_parser::MessageParser::default().parse(&out).unwrap();
    assert!(back.bcc().is_none());
    assert_eq!(
        back.body_text(0).unwrap().trim_end(),
        "Nothing to see here."
    );
}

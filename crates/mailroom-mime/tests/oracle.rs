//! Oracle tests: Python's email package (policy.default) parses every rendered sample, and the
//! subject, display names, addresses, ids, file names and bodies come back exactly.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{crate_dir, mb, python, python_with, render, samples};
use mailroom_mime::{
    Address, ForwardMode, Mailbox, Message, ReplyOptions, Source, forward, parse_message, reply_all,
};
use serde_json::{Value, json};

fn header_address(m: &Mailbox) -> String {
    let a = &m.address;
    if a.needs_smtputf8() {
        a.as_str().to_owned()
    } else {
        a.to_ascii_domain_address()
    }
}

fn boxes(list: &[Mailbox]) -> Value {
    list.iter()
        .map(|m| json!([m.name.clone().unwrap_or_default(), header_address(m)]))
        .collect()
}

/// Text as it must come back: LF line ends, one final line break.
fn lines(text: &str) -> String {
    let mut t = text.replace("\r\n", "\n").replace('\r', "\n");
    if !t.ends_with('\n') {
        t.push('\n');
    }
    t
}

fn crlf(text: &str) -> Vec<u8> {
    lines(text).replace('\n', "\r\n").into_bytes()
}

/// Compares the parts Python found with the model. `strict` also compares the text of enclosed
/// messages, which two parsers may read differently when the enclosed original is malformed.
fn check_parts(name: &str, m: &Message, parts: &[Value], strict: bool) {
    let mut i = 0;
    let mut next = |what: &str| {
        let part = parts
            .get(i)
            .unwrap_or_else(|| panic!("{name}: missing {what} part"));
        i += 1;
        part.clone()
    };
    if m.text.is_some() || m.html.is_none() {
        let part = next("text");
        assert_eq!(part["content_type"], "text/plain", "{name}");
        let mut want = m.text.clone().unwrap_or_default();
        if let Some(sig) = &m.signature {
            want = format!("{}-- \n{sig}", lines(&want));
        }
        assert_eq!(part["text"], lines(&want), "{name}: text body");
    }
    if let Some(html) = &m.html {
        let part = next("html");
        assert_eq!(part["content_type"], "text/html", "{name}");
        let got = part["text"].as_str().unwrap();
        match &m.signature {
            None => assert_eq!(got, lines(html), "{name}: html body"),
            Some(sig) => {
                let escaped = sig.replace('\n', "<br>");
                assert!(
                    got.contains(&format!("-- <br>{escaped}")),
                    "{name}: html signature"
                );
                let head = html.split("</body>").next().unwrap();
                assert!(got.starts_with(head), "{name}: html body");
            }
        }
    }
    for (inline, part_model) in m
        .inline
        .iter()
        .map(|p| (true, p))
        .chain(m.attachments.iter().map(|p| (false, p)))
    {
        let part = next("attachment");
        assert_eq!(part["content_type"], part_model.content_type, "{name}");
        assert_eq!(
            part["filename"],
            json!(part_model.file_name),
            "{name}: file name"
        );
        let disposition = if inline { "inline" } else { "attachment" };
        assert_eq!(part["disposition"], disposition, "{name}");
        if let Some(id) = &part_model.content_id {
            assert_eq!(part["content_id"], format!("<{id}>"), "{name}");
        }
        let Source::Bytes { data } = &part_model.source else {
            panic!("samples use bytes")
        };
        if part_model.content_type == "message/rfc822" {
            let inner = mail_parser::MessageParser::default().parse(data).unwrap();
            if strict {
                assert_eq!(part["inner_subject"], json!(inner.subject()), "{name}");
            }
            // Python gives no plain body for an HTML-only original or an unknown charset.
            if strict && !part["inner_body"].is_null() {
                let body = lines(&inner.body_text(0).unwrap());
                assert_eq!(part["inner_body"], body, "{name}");
            }
        } else if part_model.content_type.starts_with("message/") && part["data"].is_null() {
            // Python parses message/delivery-status and the like into header blocks rather
            // than bytes; their type and file name were compared above.
        } else {
            let want = STANDARD.encode(data);
            assert_eq!(part["data"], want, "{name}: attachment bytes");
        }
    }
    if let Some(vcard) = &m.vcard {
        let part = next("vcard");
        assert_eq!(part["content_type"], "text/vcard", "{name}");
        assert_eq!(part["filename"], "contact.vcf", "{name}");
        assert_eq!(part["data"], STANDARD.encode(crlf(vcard)), "{name}: vcard");
    }
    assert_eq!(i, parts.len(), "{name}: unexpected extra parts");
}

#[test]
fn python_reads_back_every_sample_exactly() {
    for (name, m, allow_8bit) in samples() {
        let bytes = render(&m, allow_8bit);
        let got = python("parse_message.py", &bytes);
        let defects: Vec<&str> = got["defects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            // Python's email package knows RFC 5322 only and flags RFC 6532 local parts.
            .filter(|d| !(m.needs_smtputf8() && d.ends_with("NonASCIILocalPartDefect")))
            .collect();
        assert!(defects.is_empty(), "{name}: defects {defects:?}");
        assert_eq!(got["subject"], json!(m.subject), "{name}: subject");
        assert_eq!(got["from"], boxes(m.from.as_slice()), "{name}: from");
        assert_eq!(got["sender"], boxes(m.sender.as_slice()), "{name}: sender");
        assert_eq!(got["reply_to"], boxes(&m.reply_to), "{name}: reply-to");
        assert_eq!(got["to"], boxes(&m.to), "{name}: to");
        assert_eq!(got["cc"], boxes(&m.cc), "{name}: cc");
        assert_eq!(
            got["receipt_to"],
            boxes(m.receipt_to.as_slice()),
            "{name}: receipt"
        );
        assert_eq!(got["bcc_present"], false, "{name}");
        assert_eq!(got["message_id"], json!(m.message_id), "{name}: message id");
        assert_eq!(
            got["in_reply_to"],
            json!(m.in_reply_to),
            "{name}: in-reply-to"
        );
        let refs = (!m.references.is_empty()).then(|| m.references.join(" "));
        assert_eq!(got["references"], json!(refs), "{name}: references");
        assert_eq!(got["date"], "2026-12-04T15:48:15+01:00", "{name}: date");
        check_parts(name, &m, got["parts"].as_array().unwrap(), true);
    }
}

fn defects(m: &Message, got: &Value) -> Vec<String> {
    got["defects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_owned())
        // Python's email package knows RFC 5322 only and flags RFC 6532 local parts.
        .filter(|d| !(m.needs_smtputf8() && d.ends_with("NonASCIILocalPartDefect")))
        .collect()
}

#[test]
fn python_reads_back_replies_and_forwards_of_the_whole_corpus() {
    let opts = ReplyOptions {
        from: Some(mb("Me <me@example.net>")),
        own_addresses: vec![Address::parse("you@example.net").unwrap()],
        include_limit: 2,
    };
    let dir = crate_dir().join("tests/corpus");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    names.sort();
    let mut models = Vec::new();
    for path in &names {
        let raw = std::fs::read(path).unwrap();
        let original = parse_message(&raw).unwrap().message;
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        models.push((format!("{name} reply-all"), reply_all(&original, &opts)));
        let inline = forward(&original, None, ForwardMode::Inline, &opts).unwrap();
        models.push((format!("{name} forward"), inline));
        let attached = forward(&original, Some(&raw), ForwardMode::Attached, &opts).unwrap();
        models.push((format!("{name} forward-attached"), attached));
    }
    let rendered: Vec<String> = models
        .iter()
        .map(|(_, m)| STANDARD.encode(render(m, false)))
        .collect();
    let input = serde_json::to_vec(&rendered).unwrap();
    let results = python_with("parse_message.py", &["--many"], &input);
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), models.len());
    for ((name, m), got) in models.iter().zip(results) {
        assert!(
            defects(m, got).is_empty(),
            "{name}: defects {:?}",
            defects(m, got)
        );
        assert_eq!(got["subject"], json!(m.subject), "{name}: subject");
        assert_eq!(got["from"], boxes(m.from.as_slice()), "{name}: from");
        assert_eq!(got["to"], boxes(&m.to), "{name}: to");
        assert_eq!(got["cc"], boxes(&m.cc), "{name}: cc");
        assert_eq!(
            got["in_reply_to"],
            json!(m.in_reply_to),
            "{name}: in-reply-to"
        );
        check_parts(name, m, got["parts"].as_array().unwrap(), false);
    }
}

//! Reply, reply-all and forward built from parsed originals.

mod common;

use common::mb;
use mailroom_mime::{
    Address, ForwardMode, Message, ReplyOptions, Source, forward, parse_message, reply, reply_all,
};

const ORIGINAL: &[u8] = b"From: Bob Builder <bob@example.net>\r\n\
To: Alice <alice@example.org>, Carol <carol@example.net>, dave@example.net\r\n\
Cc: Alice Work <ALICE@Example.org>, Erin <erin@example.net>, bob@example.net\r\n\
Subject: AW: Re: Fwd: Plans\r\n\
Date: Tue, 01 Dec 2026 09:30:00 +0100\r\n\
Message-ID: <orig.3@example.net>\r\n\
In-Reply-To: <orig.2@example.net>\r\n\
References: <orig.1@example.net> <orig.2@example.net>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Line one\r\n\
> earlier quote\r\n\
\r\n\
Line three\r\n";

fn original() -> Message {
    parse_message(ORIGINAL).unwrap().message
}

fn alice() -> ReplyOptions {
    ReplyOptions {
        from: Some(mb("Alice <alice@example.org>")),
        own_addresses: vec![Address::parse("alice@example.org").unwrap()],
        include_limit: 2,
    }
}

fn addresses(list: &[mailroom_mime::Mailbox]) -> Vec<&str> {
    list.iter().map(|m| m.address.as_str()).collect()
}

#[test]
fn reply_threads_quotes_and_has_one_prefix() {
    let r = reply(&original(), &alice());
    assert_eq!(r.subject.as_deref(), Some("Re: Plans"));
    assert_eq!(addresses(&r.to), ["bob@example.net"]);
    assert!(r.cc.is_empty());
    assert_eq!(r.in_reply_to.as_deref(), Some("<orig.3@example.net>"));
    assert_eq!(
        r.references,
        [
            "<orig.1@example.net>",
            "<orig.2@example.net>",
            "<orig.3@example.net>"
        ]
    );
    let text = r.text.clone().unwrap();
    assert_eq!(
        text,
        "\nOn Tue, 01 Dec 2026 09:30:00 +0100, Bob Builder <bob@example.net> wrote:\n\
         > To: Alice <alice@example.org>, Carol <carol@example.net> and 1 more\n\
         > Cc: Alice Work <ALICE@Example.org>, Erin <erin@example.net> and 1 more\n\
         >\n> Line one\n>> earlier quote\n>\n> Line three\n"
    );
    let again = reply(&parse_message(&render(&r)).unwrap().message, &alice());
    assert_eq!(again.subject.as_deref(), Some("Re: Plans"));
}

fn render(m: &Message) -> Vec<u8> {
    let mut out = Vec::new();
    m.render(&Default::default(), &mut out).unwrap();
    out
}

#[test]
fn reply_all_leaves_out_own_addresses_and_duplicates() {
    let r = reply_all(&original(), &alice());
    assert_eq!(
        addresses(&r.to),
        ["bob@example.net", "carol@example.net", "dave@example.net"]
    );
    assert_eq!(addresses(&r.cc), ["erin@example.net"]);
}

#[test]
fn reply_to_header_wins_and_own_message_goes_to_its_recipients() {
    let mut o = original();
    o.reply_to = vec![mb("List <list@example.com>")];
    assert_eq!(addresses(&reply(&o, &alice()).to), ["list@example.com"]);
    let mut sent = original();
    sent.from = Some(mb("Alice <alice@example.org>"));
    sent.to = vec![mb("bob@example.net")];
    assert_eq!(addresses(&reply(&sent, &alice()).to), ["bob@example.net"]);
}

#[test]
fn forward_inline_keeps_text_attachments_and_limited_recipients() {
    let mut o = original();
    o.attachments.push(mailroom_mime::Attachment::from_bytes(
        "a.txt",
        "text/plain",
        b"x".to_vec(),
    ));
    let f = forward(&o, None, ForwardMode::Inline, &alice()).unwrap();
    assert_eq!(f.subject.as_deref(), Some("Fwd: Plans"));
    assert!(f.in_reply_to.is_none());
    let text = f.text.unwrap();
    assert!(text.contains(
        "---------- Forwarded message ----------\nFrom: Bob Builder <bob@example.net>\n"
    ));
    assert!(text.contains("To: Alice <alice@example.org>, Carol <carol@example.net> and 1 more\n"));
    assert!(text.ends_with("Line one\n> earlier quote\n\nLine three\n"));
    assert_eq!(f.attachments.len(), 1);
    let none = ReplyOptions {
        include_limit: 0,
        ..alice()
    };
    let f = forward(&o, None, ForwardMode::Inline, &none).unwrap();
    assert!(!f.text.unwrap().contains("To: "));
}

#[test]
fn forward_attached_carries_the_raw_original() {
    let f = forward(&original(), Some(ORIGINAL), ForwardMode::Attached, &alice()).unwrap();
    assert_eq!(f.attachments.len(), 1);
    let part = &f.attachments[0];
    assert_eq!(part.content_type, "message/rfc822");
    assert_eq!(part.file_name.as_deref(), Some("Plans.eml"));
    assert_eq!(
        part.source,
        Source::Bytes {
            data: ORIGINAL.to_vec()
        }
    );
    let bytes = render(&f);
    let back = mail_parser::MessageParser::default().parse(&bytes).unwrap();
    let inner = back.attachment(0).unwrap().message().unwrap();
    assert_eq!(inner.subject(), Some("AW: Re: Fwd: Plans"));
    // Without the raw original the model is rendered.
    let f = forward(&original(), None, ForwardMode::Attached, &alice()).unwrap();
    let Source::Bytes { data } = &f.attachments[0].source else {
        panic!("bytes expected")
    };
    assert_eq!(
        parse_message(data).unwrap().message.subject.as_deref(),
        Some("AW: Re: Fwd: Plans")
    );
}

#[test]
fn html_originals_are_quoted_as_html_and_as_text() {
    let mut o = original();
    o.text = None;
    o.html = Some("<html><body><p>Hello <b>there</b></p></body></html>".into());
    let r = reply(&o, &alice());
    assert!(r.text.as_deref().unwrap().ends_with("> Hello there\n"));
    let html = r.html.unwrap();
    assert!(html.contains("<blockquote type=\"cite\">"));
    assert!(html.contains("<p>Hello <b>there</b></p></blockquote>"));
}

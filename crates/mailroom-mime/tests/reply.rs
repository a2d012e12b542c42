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
    assert_eq!(r.subject.as_deref(), Some("Re: Fwd: Plans"));
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
    assert_eq!(again.subject.as_deref(), Some("Re: Fwd: Plans"));
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

#[test]
fn reply_to_a_forward_keeps_its_fwd_prefix() {
    let mut o = original();
    o.subject = Some("Fwd: x".into());
    let r = reply(&o, &alice());
    assert_eq!(r.subject.as_deref(), Some("Re: Fwd: x"));
    let again = reply(&parse_message(&render(&r)).unwrap().message, &alice());
    assert_eq!(again.subject.as_deref(), Some("Re: Fwd: x"));
    assert_eq!(
        reply_all(&again, &alice()).subject.as_deref(),
        Some("Re: Fwd: x")
    );
}

/// A message as the store keeps it after `sendmail -t`: its Bcc fields still in the header.
const WITH_BCC: &[u8] = b"From: Bob Builder <bob@example.net>\r\n\
To: Alice <alice@example.org>\r\n\
Bcc: Hidden One <hidden1@example.com>,\r\n hidden2@example.com\r\n\
Resent-Bcc: hidden3@example.com\r\n\
Subject: Secret plans\r\n\
Message-ID: <bcc.1@example.net>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Bcc: this line is body text and stays\r\n";

fn without_hidden(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for hidden in ["hidden1@", "hidden2@", "hidden3@", "Hidden One"] {
        assert!(!text.contains(hidden), "{what} reveals {hidden}:\n{text}");
    }
}

#[test]
fn forward_as_attachment_drops_the_originals_bcc() {
    let parsed = parse_message(WITH_BCC).unwrap().message;
    let f = forward(&parsed, Some(WITH_BCC), ForwardMode::Attached, &alice()).unwrap();
    let Source::Bytes { data } = &f.attachments[0].source else {
        panic!("bytes expected")
    };
    let data = String::from_utf8(data.clone()).unwrap();
    assert!(data.starts_with("From: Bob Builder <bob@example.net>\r\nTo: Alice"));
    assert!(data.contains("\r\nSubject: Secret plans\r\n"));
    assert!(data.ends_with("\r\n\r\nBcc: this line is body text and stays\r\n"));
    assert!(!data.contains("hidden"), "{data}");
    let wire = render(&f);
    without_hidden("the rendered forward", &wire);
    let back = mail_parser::MessageParser::default().parse(&wire).unwrap();
    let inner = back.attachment(0).unwrap().message().unwrap();
    assert_eq!(inner.subject(), Some("Secret plans"));
    assert!(inner.bcc().is_none());

    // Without the raw bytes the model is rendered: its Bcc list and a Resent-Bcc kept among
    // its other fields must not come through either.
    let mut model = parsed.clone();
    model.bcc = vec![mb("Hidden One <hidden1@example.com>")];
    model
        .headers
        .push(("Resent-Bcc".into(), "hidden3@example.com".into()));
    let f = forward(&model, None, ForwardMode::Attached, &alice()).unwrap();
    without_hidden("the forward of the model", &render(&f));

    // Quoting paths: inline forward, reply and reply-all.
    let inline = forward(&model, None, ForwardMode::Inline, &alice()).unwrap();
    without_hidden("the inline forward", &render(&inline));
    without_hidden("the reply", &render(&reply(&model, &alice())));
    without_hidden("the reply to all", &render(&reply_all(&model, &alice())));
}

fn html_original() -> Message {
    let mut o = original();
    o.html = Some("<html><body><p>Line one</p></body></html>".into());
    o
}

#[test]
fn reply_and_forward_put_the_users_text_into_the_html_part() {
    let text = "Danke!\r\nBis <morgen> & so\r\n\r\n\r\nZweiter Absatz\n";
    let mut r = reply(&html_original(), &alice());
    r.write_above_quote(text);
    let plain = r.text.as_deref().unwrap();
    assert!(
        plain.starts_with("Danke!\nBis <morgen> & so\n\n\nZweiter Absatz\n\nOn Tue, 01 Dec 2026"),
        "{plain}"
    );
    let html = r.html.as_deref().unwrap();
    assert!(
        html.starts_with(
            "<p>Danke!<br>\nBis &lt;morgen&gt; &amp; so</p>\n<p>Zweiter Absatz</p>\n\
             <div>On Tue, 01 Dec 2026"
        ),
        "{html}"
    );
    assert!(!html.contains("<p></p>"), "{html}");
    assert!(html.ends_with("<p>Line one</p></blockquote>\n"), "{html}");

    for mode in [ForwardMode::Inline, ForwardMode::Attached] {
        let mut f = forward(&html_original(), Some(ORIGINAL), mode, &alice()).unwrap();
        f.write_above_quote("MY NOTE");
        let plain = f.text.as_deref().unwrap();
        assert!(
            plain.starts_with("MY NOTE\n\n\n---------- Forwarded message"),
            "{plain}"
        );
        if mode == ForwardMode::Inline {
            let html = f.html.as_deref().unwrap();
            assert!(
                html.starts_with("<p>MY NOTE</p>\n<div>---------- Forwarded message"),
                "{html}"
            );
        }
        // Both parts survive rendering and parsing with the note above the quote.
        let back = parse_message(&render(&f)).unwrap().message;
        assert!(back.text.unwrap().starts_with("MY NOTE"));
        if mode == ForwardMode::Inline {
            assert!(back.html.unwrap().starts_with("<p>MY NOTE</p>"));
        }
    }

    // Text only originals: no HTML part appears; blank text changes nothing.
    let mut r = reply(&original(), &alice());
    let before = r.clone();
    r.write_above_quote(" \n\n");
    assert_eq!(r, before);
    r.write_above_quote("Ok");
    assert!(r.html.is_none());
    assert!(r.text.unwrap().starts_with("Ok\n\nOn Tue"));
}

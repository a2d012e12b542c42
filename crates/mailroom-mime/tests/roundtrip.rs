//! Property test: random models render and come back through mail-parser unchanged.

mod common;

use mailroom_mime::{Address, Attachment, Mailbox, Message, RenderOptions, Source};
use proptest::prelude::*;

/// Words with ASCII specials, Latin, CJK, emoji, `=?` and quote characters.
fn word() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9äöüÄÖÜßéñ€中文字😀!?.,;:()<>@\"'=_\\\\-]{1,14}"
}

fn phrase(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(word(), 1..max).prop_map(|w| w.join(" "))
}

fn address() -> impl Strategy<Value = Address> {
    (
        "[a-z0-9]{1,8}(\\.[a-z0-9]{1,8})?",
        "[a-z]{1,10}\\.(com|org|example)",
    )
        .prop_map(|(l, d)| Address::parse(&format!("{l}@{d}")).unwrap())
}

fn mailbox() -> impl Strategy<Value = Mailbox> {
    (prop::option::of(phrase(5)), address()).prop_map(|(n, a)| Mailbox::new(n, a))
}

/// Body text: lines of any printable characters, some long, with trailing spaces and '='.
fn body() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        4 => "[ -~äöü€中😀\t]{0,80}",
        1 => "[a-z=. ]{900,1200}",
    ];
    prop::collection::vec(line, 1..8).prop_map(|lines| lines.join("\n"))
}

fn attachment() -> impl Strategy<Value = Attachment> {
    (phrase(4), prop::collection::vec(any::<u8>(), 0..3000)).prop_map(|(name, data)| {
        Attachment::from_bytes(&format!("{name}.bin"), "application/octet-stream", data)
    })
}

fn message() -> impl Strategy<Value = Message> {
    (
        mailbox(),
        prop::collection::vec(mailbox(), 1..4),
        prop::option::of(phrase(25)),
        body(),
        prop::option::of(body()),
        prop::collection::vec(attachment(), 0..3),
    )
        .prop_map(|(from, to, subject, text, html, attachments)| Message {
            from: Some(from),
            to,
            subject,
            text: Some(text),
            html: html.map(|h| format!("<p>{h}</p>")),
            attachments,
            ..Message::default()
        })
}

fn header_form(a: &Address) -> String {
    a.to_ascii_domain_address()
}

fn lines(text: &str) -> String {
    let mut t = text.replace("\r\n", "\n");
    if !t.ends_with('\n') {
        t.push('\n');
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(200), ..ProptestConfig::default() })]

    #[test]
    fn rendered_models_round_trip_through_mail_parser(m in message(), allow_8bit in any::<bool>()) {
        let mut out = Vec::new();
        m.render(&RenderOptions { allow_8bit, ..RenderOptions::default() }, &mut out).unwrap();
        for line in out.split(|&b| b == b'\n') {
            prop_assert!(line.len() <= 999);
        }
        let p = mail_parser::MessageParser::default().parse(&out).unwrap();
        prop_assert_eq!(p.subject(), m.subject.as_deref());
        let from = p.from().unwrap().first().unwrap();
        let want = m.from.as_ref().unwrap();
        prop_assert_eq!(from.name(), want.name.as_deref());
        prop_assert_eq!(from.address().unwrap(), header_form(&want.address));
        let to: Vec<(Option<&str>, &str)> =
            p.to().unwrap().iter().map(|a| (a.name(), a.address().unwrap())).collect();
        let want_to: Vec<(Option<&str>, String)> =
            m.to.iter().map(|t| (t.name.as_deref(), header_form(&t.address))).collect();
        prop_assert_eq!(to.len(), want_to.len());
        for (got, want) in to.iter().zip(&want_to) {
            prop_assert_eq!(got.0, want.0);
            prop_assert_eq!(got.1, want.1.as_str());
        }
        prop_assert_eq!(lines(&p.body_text(0).unwrap()), lines(m.text.as_deref().unwrap()));
        if let Some(html) = &m.html {
            prop_assert_eq!(lines(&p.body_html(0).unwrap()), lines(html));
        }
        let got: Vec<(Option<&str>, &[u8])> =
            p.attachments().map(|a| (mail_parser::MimeHeaders::attachment_name(a), a.contents())).collect();
        prop_assert_eq!(got.len(), m.attachments.len());
        for (g, a) in got.iter().zip(&m.attachments) {
            let Source::Bytes { data } = &a.source else { unreachable!() };
            prop_assert_eq!(g.0, a.file_name.as_deref());
            prop_assert_eq!(g.1, &data[..]);
        }
    }
}

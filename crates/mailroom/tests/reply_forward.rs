//! Replies and forwards through the client MTM, from originals stored raw or composed, against a
//! real store file.

use std::sync::Arc;

use mail_parser::MessageParser;
use mailroom::mime::{Mailbox, RenderOptions, Source};
use mailroom::store::{EntryId, Store};
use mailroom::{Outbox, RawEnvelope, SendOption, Services, SmtpClientMtm, SmtpSettings};

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    account: EntryId,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let settings = SmtpSettings {
        address: Some("alice@example.com".into()),
        display_name: Some("Alice".into()),
        ..SmtpSettings::default()
    };
    let account = Services::new(store.clone())
        .create("smtp", "work", &settings)
        .unwrap();
    Fixture {
        _dir: dir,
        store,
        account,
    }
}

/// Stores `raw` as `send --raw` does, with no account unless one is given.
fn store_raw(f: &Fixture, raw: &[u8], account: Option<EntryId>, to: &[&str]) -> EntryId {
    let envelope = RawEnvelope {
        to: to.iter().map(ToString::to_string).collect(),
        bcc: vec!["hidden@example.org".into()],
        ..RawEnvelope::default()
    };
    Outbox::new(f.store.clone(), account)
        .queue_raw(&mut &raw[..], &envelope, SendOption::OnRequest)
        .unwrap()
}

const FROM_OTHER: &[u8] = b"From: Otto <o@example.com>\r\n\
To: ME@example.COM, x@example.com\r\n\
Cc: Me Again <me@EXAMPLE.com>, y@example.com\r\n\
Bcc: Hidden <hidden@example.org>\r\n\
Resent-Bcc: resent-hidden@example.org\r\n\
Subject: Fwd: Plans\r\n\
Message-ID: <raw.1@example.com>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=b\r\n\
\r\n\
--b\r\n\
Content-Type: text/plain\r\n\
\r\n\
hello\r\n\
--b\r\n\
Content-Type: text/html\r\n\
\r\n\
<p>hello</p>\r\n\
--b--\r\n";

fn me() -> Mailbox {
    Mailbox::parse("Me <me@example.com>").unwrap()
}

fn addresses(list: &[Mailbox]) -> Vec<String> {
    list.iter().map(|m| m.address.to_string()).collect()
}

#[test]
fn reply_all_to_a_message_stored_without_account_leaves_out_the_replying_identity() {
    let f = fixture();
    let original = store_raw(&f, FROM_OTHER, None, &["me@example.com", "x@example.com"]);
    let mut client = SmtpClientMtm::new(f.store.clone());
    client.switch_context(original).unwrap();
    client.reply_as(true, Some(&me())).unwrap();
    let m = client.message().unwrap();
    assert_eq!(m.from.as_ref().unwrap().to_string(), "Me <me@example.com>");
    assert_eq!(addresses(&m.to), ["o@example.com", "x@example.com"]);
    assert_eq!(addresses(&m.cc), ["y@example.com"]);
    assert_eq!(m.subject.as_deref(), Some("Re: Fwd: Plans"));

    // One's own raw message: a reply goes to its recipients, not back to oneself.
    let own = b"From: Me <Me@Example.com>\r\nTo: x@example.com\r\nCc: y@example.com\r\n\
Subject: Mine\r\n\r\ntext\r\n";
    let original = store_raw(&f, own, None, &["x@example.com", "y@example.com"]);
    client.switch_context(original).unwrap();
    client.reply_as(false, Some(&me())).unwrap();
    let m = client.message().unwrap();
    assert_eq!(addresses(&m.to), ["x@example.com"]);
    client.switch_context(original).unwrap();
    client.reply_as(true, Some(&me())).unwrap();
    let m = client.message().unwrap();
    assert_eq!(addresses(&m.to), ["x@example.com"]);
    assert_eq!(addresses(&m.cc), ["y@example.com"]);

    // The original's own account wins over the identity given.
    let original = store_raw(&f, FROM_OTHER, Some(f.account), &["x@example.com"]);
    client.switch_context(original).unwrap();
    client.reply_as(true, Some(&me())).unwrap();
    let m = client.message().unwrap();
    assert_eq!(
        m.from.as_ref().unwrap().address.as_str(),
        "alice@example.com"
    );
    assert!(addresses(&m.to).contains(&"ME@example.COM".to_owned()));
}

fn rendered(client: &SmtpClientMtm) -> Vec<u8> {
    let mut out = Vec::new();
    client
        .message()
        .unwrap()
        .render(&RenderOptions::default(), &mut out)
        .unwrap();
    out
}

#[test]
fn forward_as_attachment_drops_the_originals_bcc() {
    let f = fixture();
    let original = store_raw(&f, FROM_OTHER, Some(f.account), &["x@example.com"]);
    let mut client = SmtpClientMtm::new(f.store.clone());
    client.switch_context(original).unwrap();
    let forward = client.forward(true).unwrap();
    // Saved and loaded again, as the CLI leaves it in Drafts.
    client.save().unwrap();
    client.switch_context(forward).unwrap();
    let m = client.message().unwrap();
    let Source::Bytes { data } = &m.attachments[0].source else {
        panic!("the original attached as bytes")
    };
    let data = String::from_utf8(data.clone()).unwrap();
    assert!(data.starts_with("From: Otto <o@example.com>\r\nTo: ME@example.COM"));
    assert!(!data.contains("hidden"), "{data}");
    let wire = rendered(&client);
    assert!(!String::from_utf8_lossy(&wire).contains("hidden"));
    let back = MessageParser::default().parse(&wire).unwrap();
    let inner = back.attachment(0).unwrap().message().unwrap();
    assert_eq!(inner.subject(), Some("Fwd: Plans"));
    assert!(inner.bcc().is_none());

    for all in [false, true] {
        client.switch_context(original).unwrap();
        client.reply(all).unwrap();
        assert!(!String::from_utf8_lossy(&rendered(&client)).contains("hidden"));
    }
    client.switch_context(original).unwrap();
    client.forward(false).unwrap();
    assert!(!String::from_utf8_lossy(&rendered(&client)).contains("hidden"));
}

#[test]
fn reply_and_forward_put_the_users_text_into_the_html_part() {
    let f = fixture();
    let original = store_raw(&f, FROM_OTHER, Some(f.account), &["x@example.com"]);
    let mut client = SmtpClientMtm::new(f.store.clone());
    for which in ["reply", "forward"] {
        client.switch_context(original).unwrap();
        let id = if which == "reply" {
            client.reply(false).unwrap()
        } else {
            client.forward(false).unwrap()
        };
        client
            .write_above_quote("Danke!\n<b>fett</b> & mehr")
            .unwrap();
        client.save().unwrap();
        client.switch_context(id).unwrap();
        let m = client.message().unwrap();
        assert!(
            m.text
                .as_deref()
                .unwrap()
                .starts_with("Danke!\n<b>fett</b> & mehr\n\n"),
            "{which}"
        );
        let html = m.html.as_deref().unwrap();
        assert!(
            html.starts_with("<p>Danke!<br>\n&lt;b&gt;fett&lt;/b&gt; &amp; mehr</p>\n<div>"),
            "{which}: {html}"
        );
        assert!(html.contains("<p>hello</p>"), "{which}: {html}");
        let wire = rendered(&client);
        let back = MessageParser::default().parse(&wire).unwrap();
        assert!(
            back.body_html(0)
                .unwrap()
                .contains("&lt;b&gt;fett&lt;/b&gt; &amp; mehr"),
            "{which}"
        );
    }
}

#[test]
fn a_reply_or_forward_is_stored_before_it_is_saved_and_survives_a_context_switch() {
    let f = fixture();
    let original = store_raw(&f, FROM_OTHER, Some(f.account), &["x@example.com"]);
    let mut client = SmtpClientMtm::new(f.store.clone());
    for forward in [false, true] {
        client.switch_context(original).unwrap();
        let derived = if forward {
            client.forward(true).unwrap()
        } else {
            client.reply(false).unwrap()
        };
        // The application looks at another message first, then comes back to finish it.
        client.switch_context(original).unwrap();
        client.switch_context(derived).unwrap();
        let m = client.message().unwrap();
        let want = if forward {
            "Fwd: Plans"
        } else {
            "Re: Fwd: Plans"
        };
        assert_eq!(m.subject.as_deref(), Some(want));
        assert_eq!(m.attachments.len(), usize::from(forward));
        assert!(m.text.as_deref().unwrap_or("").contains("wrote") || forward);
        client
            .add_addressee(mailroom::store::RecipientKind::To, "z@example.org")
            .unwrap();
        client.save().unwrap();
        client.switch_context(derived).unwrap();
        assert_eq!(client.message().unwrap().subject.as_deref(), Some(want));
    }
}

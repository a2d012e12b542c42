//! `reply`, `forward` and `find`.

use mailroom::mime::{Field, Mailbox, Scope};
use mailroom::store::{EntryId, EntryKind, Filter, RecipientKind};
use mailroom::{MessageReport, Selection, SendOption, Sender, SmtpClientMtm};
use serde_json::{Value, json};

use crate::cli_more::{DraftArgs, FindArgs, ForwardArgs, Part, ReplyArgs};
use crate::commands::{Globals, open_store};
use crate::exit::{CliError, Exit};

/// `reply ID [--all]`.
pub async fn reply(g: &Globals, args: ReplyArgs) -> Result<Exit, CliError> {
    derived(g, args.id, &args.draft, &[], |client, identity| {
        client.reply_as(args.all, identity)
    })
    .await
}

/// `forward ID [--as-attachment]`.
pub async fn forward(g: &Globals, args: ForwardArgs) -> Result<Exit, CliError> {
    let as_attachment = args.as_attachment;
    derived(g, args.id, &args.draft, &args.to, |client, identity| {
        client.forward_as(as_attachment, identity)
    })
    .await
}

async fn derived(
    g: &Globals,
    id: i64,
    draft: &DraftArgs,
    to: &[String],
    make: impl FnOnce(&mut SmtpClientMtm, Option<&Mailbox>) -> Result<EntryId, mailroom::Error>,
) -> Result<Exit, CliError> {
    let store = open_store(g.store_dir.clone())?;
    let resolved = crate::accounts::resolve(&store, &draft.server)?;
    // Who replies when the original's own account gives no address: the account used here.
    let identity = match &resolved.settings.address {
        Some(address) => {
            let mut from = mailroom::parse_mailbox("account address", address)?;
            from.name = resolved.settings.display_name.clone();
            Some(from)
        }
        None => None,
    };
    let mut client = SmtpClientMtm::new(store.clone());
    client.switch_context(EntryId(id)).map_err(|e| {
        // The whole chain: "message store" alone does not say that there is no such message.
        CliError::new(
            Exit::DataErr,
            "not_found",
            anyhow::Error::new(e).context(format!("message {id}")),
        )
    })?;
    if client.message().is_err() {
        return Err(CliError::new(
            Exit::DataErr,
            "not_found",
            anyhow::anyhow!("{id} is not a message (an account or a folder?)"),
        ));
    }
    let new_id = make(&mut client, identity.as_ref())?;
    // A draft that cannot be completed is removed, not left half-written.
    let filled = (|| -> Result<(), CliError> {
        for addr in to {
            client.add_addressee(RecipientKind::To, addr)?;
        }
        if let Some(body) = &draft.body {
            client.write_above_quote(body)?;
        }
        client.save()?;
        Ok(())
    })();
    if let Err(e) = filled {
        let _ = store.delete(new_id);
        return Err(e);
    }
    if !draft.send {
        let entry = store.entry(new_id).map_err(mailroom::Error::from)?;
        let message = client.message()?;
        let addresses = |list: &[Mailbox]| {
            list.iter()
                .map(|m| m.address.to_string())
                .collect::<Vec<_>>()
        };
        let (to, cc) = (addresses(&message.to), addresses(&message.cc));
        if g.json {
            outln!(
                "{}",
                json!({ "id": new_id.0, "folder": "drafts", "subject": entry.description, "to": to, "cc": cc })
            );
        } else {
            let mut whom = if to.is_empty() {
                "no one yet".to_owned()
            } else {
                to.join(", ")
            };
            if !cc.is_empty() {
                whom.push_str(&format!(", cc {}", cc.join(", ")));
            }
            outln!(
                "message {new_id}: draft \"{}\" to {whom} saved in Drafts",
                entry.description
            );
        }
        return Ok(Exit::Ok);
    }
    let queued = match client.queue(SendOption::Immediately) {
        Ok(id) => id,
        Err(e) => {
            let _ = store.delete(new_id);
            return Err(e.into());
        }
    };
    let reports = match &resolved.settings.server {
        Some(_) => {
            let config = resolved.settings.client_config()?;
            let service = store.entry(queued).map_err(mailroom::Error::from)?.service;
            let sender = Sender::new(store.clone(), resolved.settings.clone(), service)
                .with_client_config(config);
            let _interrupt = crate::interrupt::guard(&sender);
            let bar = crate::progress::attach(&sender, g);
            let reports = sender.send(Selection::Ids(vec![queued])).await?;
            crate::progress::finish(bar);
            reports
        }
        None => vec![MessageReport::from_entry(
            &store.entry(queued).map_err(mailroom::Error::from)?,
        )],
    };
    crate::output::print_reports(&reports, g.json, false, &resolved.settings);
    Ok(Exit::for_reports(&reports))
}

fn scope(parts: &[Part]) -> Scope {
    if parts.is_empty() {
        return Scope::ALL;
    }
    let mut scope = Scope::NONE;
    for part in parts {
        match part {
            Part::Subject => scope.subject = true,
            Part::Addresses => scope.addresses = true,
            Part::Headers => scope.headers = true,
            Part::Body => {
                scope.text = true;
                scope.html = true;
            }
            Part::Attachments => scope.attachment_names = true,
        }
    }
    scope
}

fn field_name(field: &Field) -> String {
    match field {
        Field::Subject => "subject".into(),
        Field::Address(name) => name.to_ascii_lowercase(),
        Field::Header(name) => format!("header {name}"),
        Field::Text => "body".into(),
        Field::Html => "html".into(),
        Field::AttachmentName => "attachment".into(),
        Field::Signature => "signature".into(),
        _ => "other".into(),
    }
}

/// `find TEXT [--in PARTS]`: every message in Outbox, Drafts and Sent with a match.
pub fn find(g: &Globals, args: FindArgs) -> Result<Exit, CliError> {
    if args.text.trim().is_empty() {
        return Err(CliError::new(
            Exit::Usage,
            "usage",
            anyhow::anyhow!("find needs some text to look for"),
        ));
    }
    let store = open_store(g.store_dir.clone())?;
    let scope = scope(&args.parts);
    let mut client = SmtpClientMtm::new(store.clone());
    let mut found: Vec<Value> = Vec::new();
    for (folder, name) in [
        (EntryId::OUTBOX, "outbox"),
        (EntryId::DRAFTS, "drafts"),
        (EntryId::SENT, "sent"),
    ] {
        let filter = Filter::all().kind(EntryKind::Message).mtm(mailroom::MTM_ID);
        for entry in store
            .children(folder, &filter)
            .map_err(mailroom::Error::from)?
        {
            if entry.flags.in_preparation || client.switch_context(entry.id).is_err() {
                continue;
            }
            let matches = client.find(&args.text, scope)?;
            if matches.is_empty() {
                continue;
            }
            let list: Vec<Value> = matches
                .iter()
                .map(|m| {
                    json!({
                        "field": field_name(&m.field),
                        "item": m.item,
                        "context": context(&m.text, m.range.clone()),
                    })
                })
                .collect();
            found.push(json!({
                "id": entry.id.0,
                "folder": name,
                "subject": entry.description,
                "matches": list,
            }));
        }
    }
    if g.json {
        outln!("{}", Value::Array(found.clone()));
    } else if found.is_empty() {
        outln!("no message contains {:?}", args.text);
    } else {
        for f in &found {
            outln!(
                "{:>5}  {:<7} {}",
                f["id"],
                f["folder"].as_str().unwrap_or(""),
                f["subject"].as_str().unwrap_or("")
            );
            for m in f["matches"].as_array().into_iter().flatten() {
                outln!(
                    "         {}: {}",
                    m["field"].as_str().unwrap_or(""),
                    m["context"].as_str().unwrap_or("")
                );
            }
        }
    }
    // Like grep: 1 when nothing matched.
    Ok(if found.is_empty() {
        Exit::NotFound
    } else {
        Exit::Ok
    })
}

/// Up to 30 characters either side of the match, on one line.
fn context(text: &str, range: std::ops::Range<usize>) -> String {
    let start = text[..range.start]
        .char_indices()
        .rev()
        .nth(29)
        .map(|(i, _)| i)
        .unwrap_or(0);
    let end = text[range.end..]
        .char_indices()
        .nth(30)
        .map(|(i, _)| range.end + i)
        .unwrap_or(text.len());
    text[start..end].replace(['\r', '\n'], " ")
}

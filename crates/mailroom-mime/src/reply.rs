//! Reply, reply-all and forward: new models built from an original.

use std::io;

use crate::address::Address;
use crate::html::html_to_text;
use crate::ids::format_date;
use crate::mailbox::Mailbox;
use crate::model::{Attachment, Message, Source};
use crate::raw::strip_bcc;
use crate::render::{Boundaries, RenderOptions};
use crate::subject::{base_subject, forward_subject, reply_subject};
use crate::tree::escape_html;

/// Most msg-ids kept in References: the first and the latest ones.
const MAX_REFERENCES: usize = 20;

/// The empty paragraph an HTML reply or forward starts with, where the user's text goes.
const HTML_PLACEHOLDER: &str = "<p></p>\n";

/// Who replies or forwards, and how much of the original's header to quote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyOptions {
    /// The From of the new message.
    pub from: Option<Mailbox>,
    /// The user's own addresses (the From above counts too), left out of reply-all.
    pub own_addresses: Vec<Address>,
    /// How many of the original's To and Cc addresses are quoted in the body; 0 quotes none.
    pub include_limit: usize,
}

/// How a forward carries the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForwardMode {
    /// The original's text under a "Forwarded message" block, its attachments kept.
    Inline,
    /// The original attached whole as message/rfc822.
    Attached,
}

fn is_own(opts: &ReplyOptions, address: &Address) -> bool {
    let k = address.mailbox_key();
    opts.from
        .iter()
        .map(|m| &m.address)
        .chain(&opts.own_addresses)
        .any(|a| a.mailbox_key() == k)
}

/// Mailboxes without duplicates (by address, ignoring case) and without those in `skip`.
fn dedup(list: Vec<Mailbox>, skip: &[Mailbox]) -> Vec<Mailbox> {
    let mut seen: Vec<String> = skip.iter().map(|m| m.address.mailbox_key()).collect();
    let mut out = Vec::new();
    for m in list {
        let k = m.address.mailbox_key();
        if !seen.contains(&k) {
            seen.push(k);
            out.push(m);
        }
    }
    out
}

/// `a, b, c and 2 more`, at most `limit` mailboxes.
fn limited(list: &[Mailbox], limit: usize) -> String {
    let shown: Vec<String> = list.iter().take(limit).map(ToString::to_string).collect();
    let mut text = shown.join(", ");
    if list.len() > limit {
        text.push_str(&format!(" and {} more", list.len() - limit));
    }
    text
}

/// From, Date, Subject, and To and Cc up to the include limit, one per line.
fn header_block(original: &Message, limit: usize) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(from) = &original.from {
        lines.push(format!("From: {from}"));
    }
    if let Some(date) = original.date {
        lines.push(format!("Date: {}", format_date(date)));
    }
    lines.push(format!(
        "Subject: {}",
        original.subject.as_deref().unwrap_or("")
    ));
    for (name, list) in [("To", &original.to), ("Cc", &original.cc)] {
        if limit > 0 && !list.is_empty() {
            lines.push(format!("{name}: {}", limited(list, limit)));
        }
    }
    lines
}

/// The original's text: its plain body, or the text of its HTML body.
fn original_text(original: &Message) -> String {
    match (&original.text, &original.html) {
        (Some(text), _) => text.replace("\r\n", "\n").replace('\r', "\n"),
        (None, Some(html)) => html_to_text(html),
        (None, None) => String::new(),
    }
}

fn quote(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with('>') {
            out.push('>');
        } else if !line.is_empty() {
            out.push_str("> ");
        } else {
            out.push('>');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The inside of an HTML document's body element (all of it when there is none).
fn html_body_inner(html: &str) -> &str {
    let lower = html.to_ascii_lowercase();
    let start = lower
        .find("<body")
        .and_then(|at| lower[at..].find('>').map(|e| at + e + 1));
    let end = lower.rfind("</body>");
    match (start, end) {
        (Some(s), Some(e)) if s <= e => &html[s..e],
        (Some(s), None) => &html[s..],
        _ => html,
    }
}

fn attribution(original: &Message) -> String {
    let who = original
        .from
        .as_ref()
        .map_or_else(|| "Someone".to_owned(), ToString::to_string);
    match original.date {
        Some(date) => format!("On {}, {who} wrote:", format_date(date)),
        None => format!("{who} wrote:"),
    }
}

fn threading(original: &Message, m: &mut Message) {
    let mut refs = original.references.clone();
    if refs.is_empty() {
        refs.extend(original.in_reply_to.clone());
    }
    if let Some(id) = &original.message_id {
        if !refs.contains(id) {
            refs.push(id.clone());
        }
        m.in_reply_to = Some(id.clone());
    }
    if refs.len() > MAX_REFERENCES {
        let tail = refs.split_off(refs.len() - (MAX_REFERENCES - 1));
        refs.truncate(1);
        refs.extend(tail);
    }
    m.references = refs;
}

fn reply_body(original: &Message, opts: &ReplyOptions, m: &mut Message) {
    let mut quoted = String::new();
    let headers: Vec<String> = header_block(original, opts.include_limit)
        .into_iter()
        .filter(|l| l.starts_with("To:") || l.starts_with("Cc:"))
        .collect();
    if !headers.is_empty() {
        quoted.push_str(&headers.join("\n"));
        quoted.push_str("\n\n");
    }
    quoted.push_str(&original_text(original));
    m.text = Some(format!("\n{}\n{}", attribution(original), quote(&quoted)));
    if let Some(html) = &original.html {
        let mut cite = String::new();
        for line in &headers {
            cite.push_str(&format!("{}<br>", escape_html(line)));
        }
        m.html = Some(format!(
            "{HTML_PLACEHOLDER}<div>{}</div>\n<blockquote type=\"cite\">{cite}{}</blockquote>\n",
            escape_html(&attribution(original)),
            html_body_inner(html)
        ));
        m.inline = original.inline.clone();
    }
}

fn reply_targets(original: &Message) -> Vec<Mailbox> {
    if !original.reply_to.is_empty() {
        original.reply_to.clone()
    } else {
        original
            .from
            .iter()
            .chain(&original.sender)
            .take(1)
            .cloned()
            .collect()
    }
}

/// A reply to the original's Reply-To (or From), with one `Re: `, In-Reply-To and References
/// from the original, and its text quoted under an attribution line. Replying to one's own
/// message goes to the original's recipients.
pub fn reply(original: &Message, opts: &ReplyOptions) -> Message {
    let mut m = Message {
        from: opts.from.clone(),
        subject: Some(reply_subject(original.subject.as_deref())),
        ..Message::default()
    };
    let mut to = reply_targets(original);
    if to.iter().all(|t| is_own(opts, &t.address)) {
        to = original.to.clone();
    }
    m.to = dedup(to, &[]);
    threading(original, &mut m);
    reply_body(original, opts, &mut m);
    m
}

/// A reply to the sender and every To and Cc recipient, leaving out the user's own addresses.
pub fn reply_all(original: &Message, opts: &ReplyOptions) -> Message {
    let mut m = reply(original, opts);
    let mut to = reply_targets(original);
    to.extend(original.to.iter().cloned());
    to.retain(|t| !is_own(opts, &t.address));
    let mut cc: Vec<Mailbox> = original.cc.clone();
    cc.retain(|t| !is_own(opts, &t.address));
    let to = dedup(to, &[]);
    let cc = dedup(cc, &to);
    if to.is_empty() {
        m.to = cc;
    } else {
        m.to = to;
        m.cc = cc;
    }
    m
}

/// A forward of the original, inline or as an attached message/rfc822. `raw` is the original as
/// received; without it the model is rendered for the attachment, which fails without a From.
/// The attached copy never carries the original's Bcc or Resent-Bcc fields.
pub fn forward(
    original: &Message,
    raw: Option<&[u8]>,
    mode: ForwardMode,
    opts: &ReplyOptions,
) -> io::Result<Message> {
    let mut m = Message {
        from: opts.from.clone(),
        subject: Some(forward_subject(original.subject.as_deref())),
        ..Message::default()
    };
    let block = header_block(original, opts.include_limit);
    let banner = "---------- Forwarded message ----------";
    match mode {
        ForwardMode::Inline => {
            m.text = Some(format!(
                "\n\n{banner}\n{}\n\n{}",
                block.join("\n"),
                original_text(original)
            ));
            if let Some(html) = &original.html {
                let head: Vec<String> = block.iter().map(|l| escape_html(l)).collect();
                m.html = Some(format!(
                    "{HTML_PLACEHOLDER}<div>{banner}<br>{}</div>\n<br>\n{}\n",
                    head.join("<br>"),
                    html_body_inner(html)
                ));
            }
            m.inline = original.inline.clone();
            m.attachments = original.attachments.clone();
        }
        ForwardMode::Attached => {
            let rendered;
            let bytes = match raw {
                Some(raw) => raw,
                None => {
                    let mut out = Vec::new();
                    let opts = RenderOptions {
                        boundaries: Boundaries::Random,
                        ..Default::default()
                    };
                    original.render(&opts, &mut out)?;
                    rendered = out;
                    &rendered
                }
            };
            // A stored original keeps its Bcc (dropped only on the wire): never pass it on.
            let mut data = Vec::with_capacity(bytes.len());
            strip_bcc(bytes, &mut data)?;
            m.text = Some(format!("\n\n{banner}\n{}\n", block.join("\n")));
            let name: String = base_subject(original.subject.as_deref().unwrap_or(""))
                .chars()
                .map(|c| {
                    if c.is_control() || "/\\:*?\"<>|".contains(c) {
                        '_'
                    } else {
                        c
                    }
                })
                .take(100)
                .collect();
            let name = if name.trim().is_empty() {
                "message".to_owned()
            } else {
                name
            };
            m.attachments.push(Attachment {
                file_name: Some(format!("{}.eml", name.trim())),
                content_type: "message/rfc822".into(),
                content_id: None,
                source: Source::Bytes { data },
            });
        }
    }
    Ok(m)
}

impl Message {
    /// Puts the user's own text above the quote of a [`reply`] or [`forward`]: at the top of the
    /// plain text, and, when there is an HTML part, HTML-escaped in place of its empty first
    /// paragraph (blank lines start new paragraphs, other line breaks are kept). Text that is
    /// only white space changes nothing.
    pub fn write_above_quote(&mut self, text: &str) {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        let text = text.trim_end();
        if text.trim().is_empty() {
            return;
        }
        let below = self.text.take().unwrap_or_default();
        let gap = if below.starts_with('\n') {
            "\n"
        } else {
            "\n\n"
        };
        self.text = Some(format!("{text}{gap}{below}"));
        if let Some(html) = &mut self.html {
            let rest = html.strip_prefix(HTML_PLACEHOLDER).unwrap_or(html);
            *html = format!("{}{rest}", text_to_html(text));
        }
    }
}

/// Plain text as HTML paragraphs: escaped, blank lines between paragraphs, `<br>` within them.
fn text_to_html(text: &str) -> String {
    let mut out = String::new();
    let mut paragraph: Vec<String> = Vec::new();
    let flush = |paragraph: &mut Vec<String>, out: &mut String| {
        if !paragraph.is_empty() {
            out.push_str(&format!("<p>{}</p>\n", paragraph.join("<br>\n")));
            paragraph.clear();
        }
    };
    for line in text.lines() {
        if line.trim().is_empty() {
            flush(&mut paragraph, &mut out);
        } else {
            paragraph.push(escape_html(line));
        }
    }
    flush(&mut paragraph, &mut out);
    out
}

//! Parsing stored or incoming raw messages (with mail-parser) back into the model.

use std::fmt;

use mail_parser::{HeaderName, HeaderValue, MessageParser, MimeHeaders, PartType};
use time::{Date, Month, OffsetDateTime, Time, UtcOffset};

use crate::Address;
use crate::mailbox::Mailbox;
use crate::model::{Attachment, Message, Priority, Source};
use crate::validate::{is_media_type, is_msg_id, is_multipart};

/// A raw message read back into the model, with what could not be carried over.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Parsed {
    /// The model.
    pub message: Message,
    /// Header values left out because the model cannot hold them (an address without a
    /// domain, a msg-id without `@`...), as `Field: value`.
    pub dropped: Vec<String>,
}

/// Why a raw message could not be parsed at all.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// The input has no header fields and no body mail-parser could find.
    NotAMessage,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::NotAMessage => f.write_str("the input is not an RFC 5322 message"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Header text made safe: CR, LF and NUL (which decoded encoded words may carry) become spaces,
/// so that re-rendering can never add a header line. White space at either end goes: a value that
/// began with NUL must not start with a space that the next parse would drop.
pub(crate) fn clean(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| {
            if matches!(c, '\r' | '\n' | '\0') {
                ' '
            } else {
                c
            }
        })
        .collect();
    out.truncate(out.trim_end().len());
    let lead = out.len() - out.trim_start().len();
    out.drain(..lead);
    out
}

/// A file name without control characters (each becomes a space), trimmed.
fn clean_file_name(name: &str) -> String {
    let out: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    out.trim().to_owned()
}

/// Parses a raw RFC 5322 message into the model. Never panics on malformed input; parts of the
/// header the model cannot hold are listed in [`Parsed::dropped`].
pub fn parse_message(raw: &[u8]) -> Result<Parsed, ParseError> {
    let parser = MessageParser::new()
        .with_mime_headers()
        .with_date_headers()
        .with_address_headers()
        .with_message_ids()
        .header_text(HeaderName::Subject)
        .header_text(HeaderName::Comments)
        .header_text(HeaderName::Keywords)
        .default_header_text()
        .header_address("Disposition-Notification-To");
    let parsed = parser.parse(raw).ok_or(ParseError::NotAMessage)?;
    let mut dropped = Vec::new();
    let mut m = Message {
        from: mailboxes(&parsed, HeaderName::From, &mut dropped)
            .into_iter()
            .next(),
        sender: mailboxes(&parsed, HeaderName::Sender, &mut dropped)
            .into_iter()
            .next(),
        reply_to: mailboxes(&parsed, HeaderName::ReplyTo, &mut dropped),
        to: mailboxes(&parsed, HeaderName::To, &mut dropped),
        cc: mailboxes(&parsed, HeaderName::Cc, &mut dropped),
        bcc: mailboxes(&parsed, HeaderName::Bcc, &mut dropped),
        subject: parsed.subject().map(clean).filter(|s| !s.is_empty()),
        date: parsed.date().and_then(to_offset_datetime),
        ..Message::default()
    };
    let receipt = HeaderName::Other("Disposition-Notification-To".into());
    m.receipt_to = mailboxes(&parsed, receipt, &mut dropped).into_iter().next();
    m.message_id = parsed
        .message_id()
        .and_then(|id| msg_id("Message-ID", id, &mut dropped));
    m.in_reply_to = text_list(parsed.in_reply_to())
        .first()
        .and_then(|id| msg_id("In-Reply-To", id, &mut dropped));
    m.references = text_list(parsed.references())
        .iter()
        .filter_map(|id| msg_id("References", id, &mut dropped))
        .collect();
    m.priority = priority(&parsed);
    for header in parsed.headers() {
        let name = header.name();
        let lower = name.to_ascii_lowercase();
        if crate::validate::RESERVED.contains(&lower.as_str()) {
            continue;
        }
        if !crate::validate::header_name_ok(name) {
            dropped.push(format!("a header field named {:?}", clean(name)));
            continue;
        }
        let value = match header.value() {
            HeaderValue::Text(text) => text.to_string(),
            HeaderValue::TextList(list) => list.join(", "),
            _ => parsed.header_raw(name).map(unfold).unwrap_or_default(),
        };
        m.headers.push((name.to_owned(), clean(&value)));
    }
    bodies(&parsed, &mut m);
    Ok(Parsed {
        message: m,
        dropped,
    })
}

fn unfold(raw: &str) -> String {
    raw.replace("\r\n", "").replace('\n', "").trim().to_owned()
}

fn text_list(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => t.split_whitespace().map(str::to_owned).collect(),
        HeaderValue::TextList(list) => list.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn msg_id(field: &str, id: &str, dropped: &mut Vec<String>) -> Option<String> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    let full = format!("<{id}>");
    if is_msg_id(&full) {
        Some(full)
    } else {
        dropped.push(format!("{field}: {}", clean(id)));
        None
    }
}

fn mailboxes(
    parsed: &mail_parser::Message<'_>,
    name: HeaderName<'_>,
    dropped: &mut Vec<String>,
) -> Vec<Mailbox> {
    let field = name.as_str().to_owned();
    let mut out = Vec::new();
    for header in parsed
        .headers()
        .iter()
        .filter(|h| h.name().eq_ignore_ascii_case(&field))
    {
        let Some(list) = header.value().as_address() else {
            if let Some(text) = header.value().as_text() {
                dropped.push(format!("{field}: {}", clean(text)));
            }
            continue;
        };
        for addr in list.iter() {
            let Some(text) = addr.address() else { continue };
            match Address::parse(text.trim()) {
                Ok(address) => {
                    let name = addr.name().map(clean).filter(|n| !n.is_empty());
                    out.push(Mailbox::new(name, address));
                }
                Err(_) => dropped.push(format!("{field}: {}", clean(text))),
            }
        }
    }
    out
}

fn to_offset_datetime(d: &mail_parser::DateTime) -> Option<OffsetDateTime> {
    let date = Date::from_calendar_date(i32::from(d.year), Month::try_from(d.month).ok()?, d.day);
    let time = Time::from_hms(d.hour, d.minute, d.second).ok()?;
    let (h, m) = (
        i8::try_from(d.tz_hour).ok()?,
        i8::try_from(d.tz_minute).ok()?,
    );
    let offset = if d.tz_before_gmt {
        UtcOffset::from_hms(-h, -m, 0)
    } else {
        UtcOffset::from_hms(h, m, 0)
    };
    Some(date.ok()?.with_time(time).assume_offset(offset.ok()?))
}

fn priority(parsed: &mail_parser::Message<'_>) -> Option<Priority> {
    let x = parsed.header_raw("X-Priority").map(str::trim);
    let importance = parsed
        .header_raw("Importance")
        .map(|v| v.trim().to_ascii_lowercase());
    match (x.and_then(|v| v.chars().next()), importance.as_deref()) {
        (Some('1' | '2'), _) | (None, Some("high")) => Some(Priority::High),
        (Some('4' | '5'), _) | (None, Some("low")) => Some(Priority::Low),
        (Some('3'), _) | (None, Some("normal")) => Some(Priority::Normal),
        _ => None,
    }
}

fn bodies(parsed: &mail_parser::Message<'_>, m: &mut Message) {
    let texts: Vec<String> = parsed
        .text_bodies()
        .filter(|p| matches!(p.body, PartType::Text(_)))
        .filter_map(|p| p.text_contents().map(str::to_owned))
        .collect();
    if !texts.is_empty() {
        m.text = Some(texts.join("\n"));
    }
    m.html = parsed
        .html_bodies()
        .find(|p| matches!(p.body, PartType::Html(_)))
        .and_then(|p| p.text_contents().map(str::to_owned));
    for part in parsed.attachments() {
        let content_type = part
            .content_type()
            .map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("octet-stream")))
            .filter(|t| is_media_type(t) && !is_multipart(t))
            .unwrap_or_else(|| "application/octet-stream".to_owned())
            .to_ascii_lowercase();
        let content_id = part
            .content_id()
            .map(|id| {
                id.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
            .filter(|id| crate::validate::content_id_ok(id));
        let referenced = content_id.as_ref().is_some_and(|id| {
            m.html
                .as_deref()
                .is_some_and(|html| html.contains(&format!("cid:{id}")))
        });
        let attachment = Attachment {
            file_name: part
                .attachment_name()
                .map(clean_file_name)
                .filter(|n| !n.is_empty()),
            content_type,
            content_id,
            source: Source::Bytes {
                data: part.contents().to_vec(),
            },
        };
        if referenced {
            m.inline.push(attachment);
        } else {
            m.attachments.push(attachment);
        }
    }
}

impl Message {
    /// Parses a raw message; see [`parse_message`].
    pub fn parse(raw: &[u8]) -> Result<Message, ParseError> {
        parse_message(raw).map(|p| p.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_encoded_words_with_crlf_cannot_add_header_lines() {
        // "x\r\nBcc: victim@example.org" as an encoded word.
        let raw = b"From: =?utf-8?b?QQ0KQmNjOiB2aWN0aW1AZXhhbXBsZS5vcmc=?= <a@example.org>\r\n\
            Subject: =?utf-8?b?eA0KQmNjOiB2aWN0aW1AZXhhbXBsZS5vcmc=?=\r\n\
            X-Note: =?utf-8?b?eQ0KDQpib2R5?=\r\n\r\nhello\r\n";
        let m = Message::parse(raw).unwrap();
        assert_eq!(m.subject.as_deref(), Some("x  Bcc: victim@example.org"));
        assert_eq!(
            m.from.as_ref().unwrap().name.as_deref(),
            Some("A  Bcc: victim@example.org")
        );
        assert_eq!(m.headers, [("X-Note".to_owned(), "y    body".to_owned())]);
        m.validate().unwrap();
        let mut out = Vec::new();
        m.render(&crate::RenderOptions::default(), &mut out)
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.to_ascii_lowercase().contains("\nbcc:"));
        assert_eq!(text.matches("\r\n\r\n").count(), 1);
    }

    #[test]
    fn nul_at_start_of_subject_does_not_become_a_leading_space() {
        let raw = b"From: a@example.org\r\nSubject:\0Undeliverable: report\r\n\
            X-Note: \0\0note\r\n\r\nbody\r\n";
        let m = Message::parse(raw).unwrap();
        assert_eq!(m.subject.as_deref(), Some("Undeliverable: report"));
        assert_eq!(m.headers, [("X-Note".to_owned(), "note".to_owned())]);
        // A subject of nothing but NUL is no subject, as an empty one is.
        for raw in [
            &b"From: a@example.org\r\nSubject: \0\r\n\r\nx"[..],
            b"From: a@example.org\r\nSubject: \r\n\r\nx",
        ] {
            assert_eq!(Message::parse(raw).unwrap().subject, None);
        }
        let mut out = Vec::new();
        m.render(&crate::RenderOptions::default(), &mut out)
            .unwrap();
        let again = Message::parse(&out).unwrap();
        assert_eq!(again.subject, m.subject);
        assert_eq!(again.headers, m.headers);
    }

    #[test]
    fn tab_beside_an_encoded_word_survives_a_round_trip() {
        for subject in ["Grüße \tKodierung", "Kodierung\t Grüße", "a \t Grüße"] {
            let m = Message {
                from: Some(crate::Mailbox::parse("a@example.org").unwrap()),
                subject: Some(subject.to_owned()),
                ..Message::default()
            };
            let mut out = Vec::new();
            m.render(&crate::RenderOptions::default(), &mut out)
                .unwrap();
            let again = Message::parse(&out).unwrap();
            assert_eq!(again.subject.as_deref(), Some(subject), "{subject:?}");
        }
    }

    #[test]
    fn an_over_long_header_name_is_dropped_when_parsed() {
        let long = "X".repeat(77);
        let raw = format!("From: a@example.org\r\n{long}: v\r\nX-Ok: w\r\n\r\nbody\r\n");
        let p = parse_message(raw.as_bytes()).unwrap();
        assert_eq!(p.message.headers, [("X-Ok".to_owned(), "w".to_owned())]);
        assert!(
            p.dropped.iter().any(|d| d.contains(&long)),
            "{:?}",
            p.dropped
        );
        p.message.validate().unwrap();
    }

    #[test]
    fn a_content_id_with_a_bracket_inside_is_dropped_when_parsed() {
        let raw = b"From: a@example.org\r\nContent-Type: multipart/related; boundary=b\r\n\r\n\
            --b\r\nContent-Type: text/html\r\n\r\n<img src=\"cid:x<y\">\r\n\
            --b\r\nContent-Type: image/png\r\nContent-ID: <x<y>\r\n\r\npng\r\n--b--\r\n";
        let m = Message::parse(raw).unwrap();
        assert!(m.inline.is_empty());
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].content_id, None);
        m.validate().unwrap();
    }

    #[test]
    fn header_fields_map_to_the_model() {
        let raw = b"From: \"Doe, Jo\" <jo@example.org>\r\nTo: a@example.net, B <b@example.net>\r\n\
            Cc: undisclosed-recipients:;\r\nSubject: =?iso-8859-1?q?Gr=FC=DFe?=\r\n\
            Date: Thu, 29 Feb 2024 01:02:03 -0330\r\nMessage-ID: <id.1@example.org>\r\n\
            In-Reply-To: <p@x>\r\nReferences: <r@x>\r\n <p@x>\r\nX-Priority: 2\r\n\
            Disposition-Notification-To: jo@example.org\r\nList-Id: <list.example.org>\r\n\r\nbody\r\n";
        let p = parse_message(raw).unwrap();
        let m = p.message;
        assert_eq!(m.from.unwrap().to_string(), "\"Doe, Jo\" <jo@example.org>");
        assert_eq!(m.to.len(), 2);
        assert!(m.cc.is_empty());
        assert_eq!(m.subject.as_deref(), Some("Grüße"));
        assert_eq!(
            crate::format_date(m.date.unwrap()),
            "Thu, 29 Feb 2024 01:02:03 -0330"
        );
        assert_eq!(m.message_id.as_deref(), Some("<id.1@example.org>"));
        assert_eq!(m.in_reply_to.as_deref(), Some("<p@x>"));
        assert_eq!(m.references, ["<r@x>", "<p@x>"]);
        assert_eq!(m.priority, Some(Priority::High));
        assert_eq!(m.receipt_to.unwrap().address.as_str(), "jo@example.org");
        assert_eq!(
            m.headers,
            [("List-ID".to_owned(), "<list.example.org>".to_owned())]
        );
        assert_eq!(m.text.as_deref(), Some("body\r\n"));
    }

    #[test]
    fn unusable_addresses_and_ids_are_reported() {
        let raw = b"From: nobody\r\nTo: a@b@c, ok@example.org\r\nMessage-ID: <no-at-sign>\r\n\r\nx";
        let p = parse_message(raw).unwrap();
        assert!(p.message.from.is_none());
        assert_eq!(p.message.to.len(), 1);
        assert!(p.dropped.iter().any(|d| d.starts_with("Message-ID")));
        assert!(p.dropped.iter().any(|d| d.starts_with("To")));
    }
}

//! Checks that a model can be rendered without any input adding a header line.

use std::fmt;

use crate::model::{Attachment, Message};

/// Why a message cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageError {
    /// A header value contains CR, LF or NUL (the field is named).
    ControlInHeader(String),
    /// A further header's name is empty, longer than 76 characters, or has characters outside
    /// printable ASCII, or a colon.
    BadHeaderName(String),
    /// A further header duplicates one the renderer writes itself (Date, From, Content-Type...).
    ReservedHeader(String),
    /// A msg-id is not of the form `<left@right>` (the field is named).
    BadMessageId(String),
    /// An attachment's media type is not `type/subtype`, or is multipart/*.
    BadContentType(String),
    /// An inline part has no Content-ID, or one with brackets, whitespace or control characters.
    BadContentId,
    /// There is no From.
    MissingFrom,
}

/// A further header's name: 1 to 76 characters of printable ASCII without a colon.
pub(crate) fn header_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 76
        && name.bytes().all(|b| (33..=126).contains(&b) && b != b':')
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageError::ControlInHeader(field) => {
                write!(f, "the {field} header contains CR, LF or NUL")
            }
            MessageError::BadHeaderName(name) => write!(f, "invalid header name {name:?}"),
            MessageError::ReservedHeader(name) => {
                write!(
                    f,
                    "the header {name} is written by the renderer and cannot be set"
                )
            }
            MessageError::BadMessageId(field) => write!(f, "the {field} is not a valid msg-id"),
            MessageError::BadContentType(t) => write!(f, "invalid media type {t:?}"),
            MessageError::BadContentId => f.write_str("an inline part has an invalid Content-ID"),
            MessageError::MissingFrom => f.write_str("the message has no From"),
        }
    }
}

impl std::error::Error for MessageError {}

impl From<MessageError> for std::io::Error {
    fn from(e: MessageError) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, e)
    }
}

/// Header names the model holds in its own fields or the renderer writes for the MIME
/// structure: a further header may not repeat them, and parsing keeps them out of the further
/// headers.
pub(crate) const RESERVED: &[&str] = &[
    "date",
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "bcc",
    "subject",
    "message-id",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-disposition",
    "content-id",
    "disposition-notification-to",
    "x-priority",
    "importance",
];

fn has_control(text: &str) -> bool {
    text.contains(['\r', '\n', '\0'])
}

/// True for a msg-id `<left@right>` with no whitespace or control characters.
pub(crate) fn is_msg_id(id: &str) -> bool {
    let Some(inner) = id.strip_prefix('<').and_then(|i| i.strip_suffix('>')) else {
        return false;
    };
    let Some((left, right)) = inner.rsplit_once('@') else {
        return false;
    };
    id.len() <= 900
        && !left.is_empty()
        && !right.is_empty()
        && inner
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '<' && c != '>')
}

/// True for multipart/*, which an attachment cannot be: its body would need a boundary.
pub(crate) fn is_multipart(text: &str) -> bool {
    text.get(..10)
        .is_some_and(|t| t.eq_ignore_ascii_case("multipart/"))
}

/// True for `type/subtype` made of RFC 2045 token characters.
pub(crate) fn is_media_type(text: &str) -> bool {
    let token = |t: &str| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?=".contains(c))
    };
    matches!(text.split_once('/'), Some((a, b)) if token(a) && token(b))
}

/// A Content-ID without its brackets: 1 to 900 characters, no white space, controls or brackets.
pub(crate) fn content_id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 900
        && !id
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
}

fn check_part(part: &Attachment, inline: bool) -> Result<(), MessageError> {
    if !is_media_type(&part.content_type) || is_multipart(&part.content_type) {
        return Err(MessageError::BadContentType(part.content_type.clone()));
    }
    if part
        .file_name
        .as_deref()
        .is_some_and(|n| n.chars().any(char::is_control))
    {
        return Err(MessageError::ControlInHeader("file name".into()));
    }
    match &part.content_id {
        None if inline => Err(MessageError::BadContentId),
        Some(id) if !content_id_ok(id) => Err(MessageError::BadContentId),
        _ => Ok(()),
    }
}

impl Message {
    /// Checks everything that goes into the header: no CR, LF or NUL in any text, valid header
    /// names, msg-ids, media types and Content-IDs. [`Message::render`] runs it first.
    pub fn validate(&self) -> Result<(), MessageError> {
        let lists = [
            ("From", self.from.iter().collect::<Vec<_>>()),
            ("Sender", self.sender.iter().collect()),
            ("Reply-To", self.reply_to.iter().collect()),
            ("To", self.to.iter().collect()),
            ("Cc", self.cc.iter().collect()),
            ("Bcc", self.bcc.iter().collect()),
            (
                "Disposition-Notification-To",
                self.receipt_to.iter().collect(),
            ),
        ];
        for (field, boxes) in lists {
            if boxes
                .iter()
                .any(|m| m.name.as_deref().is_some_and(has_control))
            {
                return Err(MessageError::ControlInHeader(field.into()));
            }
        }
        if self.subject.as_deref().is_some_and(has_control) {
            return Err(MessageError::ControlInHeader("Subject".into()));
        }
        for (field, id) in [
            ("Message-ID", &self.message_id),
            ("In-Reply-To", &self.in_reply_to),
        ] {
            if id.as_deref().is_some_and(|id| !is_msg_id(id)) {
                return Err(MessageError::BadMessageId(field.into()));
            }
        }
        if self.references.iter().any(|id| !is_msg_id(id)) {
            return Err(MessageError::BadMessageId("References".into()));
        }
        for (name, value) in &self.headers {
            if !header_name_ok(name) {
                return Err(MessageError::BadHeaderName(name.clone()));
            }
            if RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
                return Err(MessageError::ReservedHeader(name.clone()));
            }
            if has_control(value) {
                return Err(MessageError::ControlInHeader(name.clone()));
            }
        }
        for part in &self.inline {
            check_part(part, true)?;
        }
        for part in &self.attachments {
            check_part(part, false)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Mailbox;

    fn base() -> Message {
        Message {
            from: Some(Mailbox::parse("a@example.org").unwrap()),
            ..Message::default()
        }
    }

    #[test]
    fn header_injection_through_any_field_is_refused() {
        let mut m = base();
        m.subject = Some("hi\r\nBcc: victim@example.org".into());
        assert_eq!(
            m.validate(),
            Err(MessageError::ControlInHeader("Subject".into()))
        );
        let mut m = base();
        m.to.push(Mailbox::new(
            Some("x\ny".into()),
            "b@example.org".parse().unwrap(),
        ));
        assert_eq!(
            m.validate(),
            Err(MessageError::ControlInHeader("To".into()))
        );
        let mut m = base();
        m.headers.push(("X-Test".into(), "a\0b".into()));
        assert_eq!(
            m.validate(),
            Err(MessageError::ControlInHeader("X-Test".into()))
        );
        let mut m = base();
        m.in_reply_to = Some("<a@b>\r\nX: y".into());
        assert_eq!(
            m.validate(),
            Err(MessageError::BadMessageId("In-Reply-To".into()))
        );
    }

    #[test]
    fn bad_and_reserved_header_names_are_refused() {
        for (name, want) in [
            ("X Bad", MessageError::BadHeaderName("X Bad".into())),
            ("X:Bad", MessageError::BadHeaderName("X:Bad".into())),
            ("", MessageError::BadHeaderName(String::new())),
            (&"X".repeat(77), MessageError::BadHeaderName("X".repeat(77))),
            ("bcc", MessageError::ReservedHeader("bcc".into())),
            (
                "Content-Type",
                MessageError::ReservedHeader("Content-Type".into()),
            ),
        ] {
            let mut m = base();
            m.headers.push((name.into(), "v".into()));
            assert_eq!(m.validate(), Err(want));
        }
        let mut m = base();
        m.headers
            .push(("List-Id".into(), "<list.example.org>".into()));
        assert_eq!(m.validate(), Ok(()));
    }

    #[test]
    fn msg_ids_media_types_and_content_ids_are_checked() {
        assert!(is_msg_id("<a.b@c>"));
        assert!(!is_msg_id("a@b"));
        assert!(!is_msg_id("<a b@c>"));
        assert!(!is_msg_id("<ab>"));
        assert!(is_media_type("application/pdf"));
        assert!(!is_media_type("application/pdf; name=x"));
        let mut m = base();
        m.attachments
            .push(Attachment::from_bytes("x", "Multipart/Mixed", vec![]));
        let refused = MessageError::BadContentType("Multipart/Mixed".into());
        assert_eq!(m.validate(), Err(refused));
        let mut m = base();
        m.inline
            .push(Attachment::from_bytes("a.png", "image/png", vec![1]));
        assert_eq!(m.validate(), Err(MessageError::BadContentId));
        m.inline[0].content_id = Some("logo@x".into());
        assert_eq!(m.validate(), Ok(()));
    }
}

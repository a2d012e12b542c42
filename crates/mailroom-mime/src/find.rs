//! Find: case-insensitive, Unicode-aware search of chosen parts of a message.

use std::borrow::Cow;
use std::ops::Range;

use icu_normalizer::DecomposingNormalizerBorrowed;

use crate::html::html_to_text;
use crate::mailbox::Mailbox;
use crate::model::Message;

/// Which parts of a message to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// The subject.
    pub subject: bool,
    /// From, Sender, Reply-To, To, Cc and Bcc (display names and addresses).
    pub addresses: bool,
    /// Further header fields (names and values).
    pub headers: bool,
    /// The plain text body and the signature.
    pub text: bool,
    /// The text of the HTML body (tags and entities resolved).
    pub html: bool,
    /// Attachment and inline part file names.
    pub attachment_names: bool,
}

impl Scope {
    /// Every part.
    pub const ALL: Scope = Scope {
        subject: true,
        addresses: true,
        headers: true,
        text: true,
        html: true,
        attachment_names: true,
    };
    /// Nothing: start from this and switch parts on.
    pub const NONE: Scope = Scope {
        subject: false,
        addresses: false,
        headers: false,
        text: false,
        html: false,
        attachment_names: false,
    };
}

/// Where a match is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Field {
    /// The subject.
    Subject,
    /// An address field ("From", "To"...), searched as `Name <address>`.
    Address(&'static str),
    /// A further header field, searched as `Name: value`.
    Header(String),
    /// The plain text body.
    Text,
    /// The text of the HTML body, as [`html_to_text`] gives it.
    Html,
    /// An attachment's file name.
    AttachmentName,
    /// The signature, which is sent under the text (searched with the text).
    Signature,
}

/// One match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The field that matched.
    pub field: Field,
    /// Which item of the field (the n-th address of To, the n-th attachment...), from 0.
    pub item: usize,
    /// Byte range of the match in the searched text.
    pub range: Range<usize>,
    /// The searched text, for showing the match in context.
    pub text: String,
}

/// Folded text and, per folded byte, the start of the original character it came from.
struct Folded {
    text: String,
    origin: Vec<usize>,
}

/// Folding per character: compatibility decomposition (so that `é` and `e` + U+0301 match, and
/// the ligature `ﬁ` matches `fi`), then lower case, plus `ß` to `ss` and final sigma to sigma.
fn fold(text: &str) -> Folded {
    let nfkd = DecomposingNormalizerBorrowed::new_nfkd();
    let mut folded = Folded {
        text: String::with_capacity(text.len()),
        origin: Vec::new(),
    };
    for (at, c) in text.char_indices() {
        let before = folded.text.len();
        let mut buf = [0u8; 4];
        let one: &str = c.encode_utf8(&mut buf);
        let decomposed = if c.is_ascii() {
            Cow::Borrowed(one)
        } else {
            nfkd.normalize(one)
        };
        for d in decomposed.chars() {
            match d {
                'ß' | 'ẞ' => folded.text.push_str("ss"),
                'ς' => folded.text.push('σ'),
                _ => folded.text.extend(d.to_lowercase()),
            }
        }
        folded
            .origin
            .extend(std::iter::repeat_n(at, folded.text.len() - before));
    }
    folded
}

/// Every non-overlapping occurrence of `needle` in `haystack`, ignoring case and canonical
/// composition; byte ranges in `haystack`. An empty needle matches nothing.
pub fn find_in(haystack: &str, needle: &str) -> Vec<Range<usize>> {
    let needle = fold(needle).text;
    if needle.is_empty() {
        return Vec::new();
    }
    let hay = fold(haystack);
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = hay.text[from..].find(&needle) {
        let start = from + pos;
        let end = start + needle.len();
        let orig_start = hay.origin[start];
        let last = hay.origin[end - 1];
        let orig_end = last + haystack[last..].chars().next().map_or(0, char::len_utf8);
        out.push(orig_start..orig_end);
        // Go on after the whole character the match ended in: "s" is half of the "ss" that
        // "ß" folds to, and the other half must not report the same "ß" again.
        from = end;
        while hay.origin.get(from).is_some_and(|&o| o < orig_end) {
            from += 1;
        }
    }
    out
}

fn mailbox_text(m: &Mailbox) -> String {
    match &m.name {
        Some(name) => format!("{name} <{}>", m.address),
        None => m.address.to_string(),
    }
}

/// Searches the chosen parts of a message for `needle`, ignoring case (Unicode lower-case
/// folding), and says where each match is.
pub fn find(message: &Message, needle: &str, scope: Scope) -> Vec<Match> {
    let mut out = Vec::new();
    let mut search = |field: Field, item: usize, text: String| {
        for range in find_in(&text, needle) {
            out.push(Match {
                field: field.clone(),
                item,
                range,
                text: text.clone(),
            });
        }
    };
    if let Some(subject) = message.subject.as_ref().filter(|_| scope.subject) {
        search(Field::Subject, 0, subject.clone());
    }
    if scope.addresses {
        let fields: [(&'static str, &[Mailbox]); 6] = [
            ("From", message.from.as_slice()),
            ("Sender", message.sender.as_slice()),
            ("Reply-To", &message.reply_to),
            ("To", &message.to),
            ("Cc", &message.cc),
            ("Bcc", &message.bcc),
        ];
        for (name, list) in fields {
            for (n, m) in list.iter().enumerate() {
                search(Field::Address(name), n, mailbox_text(m));
            }
        }
    }
    if scope.headers {
        for (n, (name, value)) in message.headers.iter().enumerate() {
            search(Field::Header(name.clone()), n, format!("{name}: {value}"));
        }
    }
    if let Some(text) = message.text.as_ref().filter(|_| scope.text) {
        search(Field::Text, 0, text.clone());
    }
    if let Some(signature) = message.signature.as_ref().filter(|_| scope.text) {
        search(Field::Signature, 0, signature.clone());
    }
    if let Some(html) = message.html.as_ref().filter(|_| scope.html) {
        search(Field::Html, 0, html_to_text(html));
    }
    if scope.attachment_names {
        for (n, part) in message
            .attachments
            .iter()
            .chain(&message.inline)
            .enumerate()
        {
            if let Some(name) = &part.file_name {
                search(Field::AttachmentName, n, name.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn ligatures_and_compatibility_forms_match_their_letters() {
        assert_eq!(find_in("the ﬁle", "file"), [4..9]);
        assert_eq!(find_in("see the file", "ﬁle"), [8..12]);
        assert_eq!(find_in("ＡＢＣ", "abc"), [0..9]);
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn sharp_s_matched_by_one_s_is_reported_once() {
        assert_eq!(find_in("ß", "S"), [0..2]);
        assert_eq!(find_in("aßb", "s"), [1..3]);
        assert_eq!(find_in("ßß", "ss"), [0..2, 2..4]);
        assert_eq!(find_in("Straße", "SS"), [4..6]);
    }

    #[test]
    fn the_signature_is_searched_with_the_text() {
        let m = Message {
            text: Some("Hello".into()),
            signature: Some("Jo Example\nExample Corp".into()),
            ..Message::default()
        };
        let found = find(&m, "example corp", Scope::ALL);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field, Field::Signature);
        let only_subject = Scope {
            subject: true,
            ..Scope::NONE
        };
        assert!(find(&m, "example corp", only_subject).is_empty());
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)]
    fn case_and_unicode_are_ignored() {
        assert_eq!(find_in("Grüße aus KÖLN", "köln"), vec![12..17]);
        assert_eq!(find_in("STRASSE und Straße", "straße"), [0..7, 12..19]);
        assert_eq!(find_in("ΟΔΥΣΣΕΥΣ", "οδυσσευς"), vec![0..16]);
        assert_eq!(find_in("abcABCabc", "ABC"), [0..3, 3..6, 6..9]);
        assert_eq!(find_in("Cafe\u{301} CAFÉ", "café"), vec![0..6, 7..12]);
        assert!(find_in("abc", "").is_empty());
        assert!(find_in("abc", "x").is_empty());
    }

    #[test]
    fn matches_name_their_field() {
        let m = Message {
            subject: Some("Invoice 42".into()),
            to: vec![Mailbox::parse("Invoice Dept <billing@example.org>").unwrap()],
            html: Some("<p>Your <b>invoice</b> &amp; more</p>".into()),
            headers: vec![("X-Tag".into(), "invoices".into())],
            ..Message::default()
        };
        let fields: Vec<Field> = find(&m, "INVOICE", Scope::ALL)
            .into_iter()
            .map(|x| x.field)
            .collect();
        assert_eq!(
            fields,
            [
                Field::Subject,
                Field::Address("To"),
                Field::Header("X-Tag".into()),
                Field::Html
            ]
        );
        let only_subject = Scope {
            subject: true,
            ..Scope::NONE
        };
        assert_eq!(find(&m, "invoice", only_subject).len(), 1);
        let html = &find(
            &m,
            "invoice &",
            Scope {
                html: true,
                ..Scope::NONE
            },
        )[0];
        assert_eq!(&html.text[html.range.clone()], "invoice &");
    }
}

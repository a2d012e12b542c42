//! Header field encoding: RFC 2047 encoded words, quoted phrases, RFC 2231 parameters, and
//! folding between tokens (never inside an address, a msg-id, an encoded word or a word).

use std::io::{self, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::address::Address;
use crate::mailbox::{Mailbox, is_plain_phrase, quote};

/// Lines are folded before they pass this many characters, where a fold point allows.
const FOLD_AT: usize = 78;
/// Folding inside a run of spaces waits until the line would pass this many characters: some
/// decoders shrink the white space around a fold to one space.
const FOLD_IN_SPACES_AT: usize = 990;
/// Longest raw text put in one encoded word: 45 bytes give 60 base64 characters, 72 in all.
const WORD_BYTES: usize = 45;
/// Longest literal word kept unencoded in unstructured text.
const LONG_WORD: usize = 900;
/// Longest parameter value piece before an RFC 2231 continuation.
const PARAM_PIECE: usize = 60;

/// An unbreakable piece of a header value; `space` says whether a space (a fold point) precedes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) text: String,
    pub(crate) space: bool,
}

impl Token {
    pub(crate) fn spaced(text: impl Into<String>) -> Token {
        Token {
            text: text.into(),
            space: true,
        }
    }
    pub(crate) fn glued(text: impl Into<String>) -> Token {
        Token {
            text: text.into(),
            space: false,
        }
    }
}

/// Writes `Name: tokens` folded at 78 columns where a space allows, ending with CRLF.
pub(crate) fn write_field<W: Write>(out: &mut W, name: &str, tokens: &[Token]) -> io::Result<()> {
    out.write_all(name.as_bytes())?;
    out.write_all(b":")?;
    let start = name.len() + 1;
    let mut col = start;
    for (n, token) in tokens.iter().enumerate() {
        if token.space || n == 0 {
            let in_spaces = n > 0 && tokens[n - 1].space && tokens[n - 1].text.is_empty();
            let limit = if in_spaces {
                FOLD_IN_SPACES_AT
            } else {
                FOLD_AT
            };
            let fold = col > start && !token.text.is_empty() && col + 1 + token.text.len() > limit;
            if fold {
                out.write_all(b"\r\n")?;
                col = 0;
            }
            out.write_all(b" ")?;
            col += 1;
        }
        out.write_all(token.text.as_bytes())?;
        col += token.text.len();
    }
    out.write_all(b"\r\n")
}

/// RFC 2047 "B" encoded words for `text`, split at character boundaries.
pub(crate) fn encoded_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut start = 0;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        if i + c.len_utf8() - start > WORD_BYTES && end > start {
            words.push(encode_word(&text[start..end]));
            start = end;
        }
        end = i + c.len_utf8();
    }
    if end > start {
        words.push(encode_word(&text[start..end]));
    }
    words
}

fn encode_word(chunk: &str) -> String {
    format!("=?utf-8?b?{}?=", STANDARD.encode(chunk.as_bytes()))
}

fn needs_encoding(word: &str) -> bool {
    // A tab at either end would sit in the white space beside a neighbouring encoded word, and
    // decoders do not agree on keeping it there.
    !word.is_ascii()
        || word.starts_with('\t')
        || word.ends_with('\t')
        || word.contains("=?")
        || word.len() > LONG_WORD
        || word.bytes().any(|b| b.is_ascii_control() && b != b'\t')
}

/// Tokens for unstructured text (Subject, further headers): plain words stay as they are,
/// runs of words that need it become encoded words, with the spaces between them inside.
pub(crate) fn unstructured(value: &str) -> Vec<Token> {
    let words: Vec<&str> = value.split(' ').collect();
    // The first non-empty word at or after `k` needs encoding.
    let encoded_next = |k: usize| {
        words[k..]
            .iter()
            .find(|w| !w.is_empty())
            .is_some_and(|w| needs_encoding(w))
    };
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < words.len() {
        // Extra spaces next to an encoded word go inside it: decoders differ on whether they
        // keep white space between an encoded word and plain text.
        let starts_run = needs_encoding(words[i]) || (words[i].is_empty() && encoded_next(i));
        if !starts_run {
            tokens.push(Token {
                text: words[i].to_owned(),
                space: i > 0,
            });
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < words.len() && (words[j].is_empty() || encoded_next(j)) {
            j += 1;
        }
        let run = words[i..j].join(" ");
        for (n, word) in encoded_words(&run).into_iter().enumerate() {
            tokens.push(Token {
                text: word,
                space: i > 0 || n > 0,
            });
        }
        i = j;
    }
    tokens
}

/// Tokens for a display name: plain words, a quoted string (split at its spaces, so that it
/// stays quoted when folded), or encoded words when it is not ASCII.
pub(crate) fn phrase(name: &str) -> Vec<Token> {
    let encode = !name.is_ascii()
        || name.contains("=?")
        || name.chars().any(|c| c.is_control())
        || name.split(' ').any(|w| w.len() > LONG_WORD);
    if encode {
        return encoded_words(name).into_iter().map(Token::spaced).collect();
    }
    let text = if is_plain_phrase(name) {
        name.to_owned()
    } else {
        quote(name)
    };
    text.split(' ').map(Token::spaced).collect()
}

/// The address as written in a header: A-label domain unless the local part needs SMTPUTF8.
pub(crate) fn header_address(address: &Address) -> String {
    if address.needs_smtputf8() {
        address.as_str().to_owned()
    } else {
        address.to_ascii_domain_address()
    }
}

/// Tokens for a list of mailboxes, comma separated.
pub(crate) fn mailbox_list(boxes: &[Mailbox]) -> Vec<Token> {
    let mut tokens = Vec::new();
    for (n, mailbox) in boxes.iter().enumerate() {
        if n > 0 {
            tokens.push(Token::glued(","));
        }
        let address = header_address(&mailbox.address);
        match mailbox.name.as_deref().filter(|n| !n.is_empty()) {
            Some(name) => {
                tokens.extend(phrase(name));
                tokens.push(Token::spaced(format!("<{address}>")));
            }
            None => tokens.push(Token::spaced(address)),
        }
    }
    tokens
}

/// The ASCII fallback of a file name: non-ASCII, quotes, backslashes and controls become `_`.
pub(crate) fn ascii_fallback(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn is_attr_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b)
}

/// Tokens for one parameter, `; name="value"`, or RFC 2231 `name*0*=utf-8''...` continuations
/// when the value is not plain ASCII or is long.
pub(crate) fn parameter(name: &str, value: &str) -> Vec<Token> {
    let plain = value.len() <= PARAM_PIECE
        && value
            .chars()
            .all(|c| (c.is_ascii_graphic() || c == ' ') && c != '"' && c != '\\');
    if plain {
        return vec![
            Token::glued(";"),
            Token::spaced(format!("{name}=\"{value}\"")),
        ];
    }
    let mut pieces = vec![String::new()];
    for c in value.chars() {
        let mut buf = [0u8; 4];
        let mut enc = String::new();
        for &b in c.encode_utf8(&mut buf).as_bytes() {
            if is_attr_char(b) {
                enc.push(b as char);
            } else {
                enc.push_str(&format!("%{b:02X}"));
            }
        }
        let last = pieces.last_mut().expect("pieces is never empty");
        if !last.is_empty() && last.len() + enc.len() > PARAM_PIECE {
            pieces.push(enc);
        } else {
            last.push_str(&enc);
        }
    }
    let mut tokens = Vec::new();
    if pieces.len() == 1 {
        tokens.push(Token::glued(";"));
        tokens.push(Token::spaced(format!("{name}*=utf-8''{}", pieces[0])));
        return tokens;
    }
    for (n, piece) in pieces.iter().enumerate() {
        let charset = if n == 0 { "utf-8''" } else { "" };
        tokens.push(Token::glued(";"));
        tokens.push(Token::spaced(format!("{name}*{n}*={charset}{piece}")));
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, tokens: &[Token]) -> String {
        let mut out = Vec::new();
        write_field(&mut out, name, tokens).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn ascii_subject_folds_between_words_only() {
        let words = "word ".repeat(30);
        let text = field("Subject", &unstructured(words.trim_end()));
        for line in text.split("\r\n") {
            assert!(line.len() <= 78, "{line:?}");
        }
        assert_eq!(
            text.replace("\r\n", ""),
            format!("Subject: {}", words.trim_end())
        );
    }

    #[test]
    fn a_run_of_spaces_is_never_a_fold_point() {
        // Decoders such as mail-parser shrink the white space around a fold to one space.
        for pad in 60..80 {
            let value = format!("{} a    b c", "x".repeat(pad));
            let text = field("Subject", &unstructured(&value));
            assert!(!text.contains(" \r\n"), "{text:?}");
            assert!(!text.contains("\r\n  "), "{text:?}");
            assert_eq!(text.replace("\r\n", ""), format!("Subject: {value}"));
        }
        // Only double spaces in a long value: folded late, but never past 998.
        let value = "ab  ".repeat(800);
        let text = field("Subject", &unstructured(value.trim_end()));
        assert!(text.split("\r\n").all(|l| l.len() <= 998), "{text}");
        assert_eq!(
            text.replace("\r\n", ""),
            format!("Subject: {}", value.trim_end())
        );
    }

    #[test]
    fn a_url_is_never_split() {
        let url = format!("https://example.org/{}", "x".repeat(120));
        let text = field("Subject", &unstructured(&format!("see {url} now")));
        assert!(text.contains(&url));
    }

    #[test]
    fn non_ascii_runs_become_encoded_words_with_their_spaces() {
        let tokens = unstructured("Grüße aus  Köln, bis bald");
        let texts: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "=?utf-8?b?R3LDvMOfZQ==?=",
                "aus",
                "=?utf-8?b?IEvDtmxuLA==?=",
                "bis",
                "bald"
            ]
        );
    }

    #[test]
    fn text_that_looks_like_an_encoded_word_is_encoded() {
        let tokens = unstructured("=?utf-8?q?x?=");
        assert_eq!(tokens[0].text, encode_word("=?utf-8?q?x?="));
    }

    #[test]
    fn encoded_words_stay_short_and_split_on_characters() {
        let words = encoded_words(&"€".repeat(40));
        assert!(words.iter().all(|w| w.len() <= 75));
        assert_eq!(words.len(), 3);
    }

    #[test]
    fn display_names_are_plain_quoted_or_encoded() {
        let m = |s: &str| Mailbox::parse(s).unwrap();
        let text = field(
            "To",
            &mailbox_list(&[m("Jo Example <a@example.org>"), m("b@example.org")]),
        );
        assert_eq!(text, "To: Jo Example <a@example.org>, b@example.org\r\n");
        let text = field("To", &mailbox_list(&[m("\"Doe, Jo\" <a@example.org>")]));
        assert_eq!(text, "To: \"Doe, Jo\" <a@example.org>\r\n");
        let text = field("To", &mailbox_list(&[m("Jö <a@bücher.example>")]));
        assert_eq!(text, "To: =?utf-8?b?SsO2?= <a@xn--bcher-kva.example>\r\n");
    }

    #[test]
    fn a_huge_word_in_a_display_name_never_makes_a_line_over_998() {
        let name = format!("\"{}, Jo\" <a@example.org>", "x".repeat(3000));
        let text = field("From", &mailbox_list(&[Mailbox::parse(&name).unwrap()]));
        assert!(text.split("\r\n").all(|l| l.len() <= 78), "{text}");
        // The first encoded word stays on the field name's line, which may pass 78 but
        // never 998; the folded lines that follow keep to 78.
        let text = field("Subject", &unstructured(&"y".repeat(3000)));
        let mut lines = text.split("\r\n");
        assert!(lines.next().unwrap().len() <= 9 + 75);
        assert!(lines.all(|l| l.len() <= 78));
    }

    #[test]
    fn a_long_quoted_name_folds_inside_its_quotes() {
        let name = format!("\"Doe, {}\" <a@example.org>", "Jo ".repeat(30).trim_end());
        let text = field("From", &mailbox_list(&[Mailbox::parse(&name).unwrap()]));
        assert!(text.matches("\r\n").count() > 1);
        assert_eq!(text.replace("\r\n", ""), format!("From: {name}"));
    }

    #[test]
    fn parameters_use_rfc2231_continuations_when_needed() {
        let text = field("X", &parameter("filename", "report.pdf"));
        assert_eq!(text, "X: ; filename=\"report.pdf\"\r\n");
        let text = field("X", &parameter("filename", "ä.pdf"));
        assert_eq!(text, "X: ; filename*=utf-8''%C3%A4.pdf\r\n");
        let long = "ü".repeat(20);
        let text = field("X", &parameter("filename", &long));
        assert!(text.contains("filename*0*=utf-8''%C3%BC"));
        assert!(text.contains("filename*1*=%C3%BC"));
        assert_eq!(ascii_fallback("Grüße \"x\".pdf"), "Gr__e _x_.pdf");
    }
}

/// An address header field (`From`, `To`, `Reply-To`...) as it goes on the wire: display names
/// quoted or encoded as needed, folded, ending with CRLF. For adding a field to a ready-made
/// message; a display name with CR, LF or NUL is refused, so no input adds a line.
pub fn address_field(name: &str, boxes: &[Mailbox]) -> Result<Vec<u8>, crate::MessageError> {
    for mailbox in boxes {
        if mailbox
            .name
            .as_deref()
            .is_some_and(|n| n.contains(['\r', '\n', '\0']))
        {
            return Err(crate::MessageError::ControlInHeader(name.to_string()));
        }
    }
    let mut out = Vec::new();
    write_field(&mut out, name, &mailbox_list(boxes)).expect("writing to memory");
    Ok(out)
}

#[cfg(test)]
mod address_field_tests {
    use super::*;

    #[test]
    fn address_field_encodes_names_and_refuses_line_breaks() {
        let mut m = Mailbox::parse("bob@example.com").unwrap();
        m.name = Some("Bob \"the\" Builder".into());
        let field = String::from_utf8(address_field("From", &[m.clone()]).unwrap()).unwrap();
        assert_eq!(
            field,
            "From: \"Bob \\\"the\\\" Builder\" <bob@example.com>\r\n"
        );
        m.name = Some("Zoë".into());
        let field = String::from_utf8(address_field("From", &[m.clone()]).unwrap()).unwrap();
        assert!(
            field.starts_with("From: =?utf-8?") && field.is_ascii(),
            "{field}"
        );
        m.name = Some("Bob\r\nX-Injected: yes".into());
        assert!(address_field("From", &[m]).is_err());
    }
}

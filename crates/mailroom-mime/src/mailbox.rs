//! A mailbox: an address with an optional display name.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::address::{Address, AddressError};

/// An address with an optional display name, as in `Jo Example <jo@example.org>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Mailbox {
    /// The display name, unquoted and decoded (`None` when absent or empty).
    pub name: Option<String>,
    /// The address.
    pub address: Address,
}

impl Mailbox {
    /// A mailbox with a display name.
    pub fn new(name: Option<String>, address: Address) -> Mailbox {
        Mailbox {
            name: name.filter(|n| !n.is_empty()),
            address,
        }
    }

    /// Parses `Name <a@b>`, `"Quoted, Name" <a@b>`, `<a@b>` or a bare `a@b`.
    /// Surrounding whitespace is ignored. Encoded words are not decoded here.
    pub fn parse(input: &str) -> Result<Mailbox, AddressError> {
        let input = input.trim_matches(|c| c == ' ' || c == '\t');
        let Some(rest) = input.strip_suffix('>') else {
            return Ok(Mailbox {
                name: None,
                address: Address::parse(input)?,
            });
        };
        let open = find_open_angle(rest).ok_or(AddressError::InvalidCharacter('>'))?;
        let address = Address::parse(&rest[open + 1..])?;
        let raw_name = rest[..open].trim_matches(|c| c == ' ' || c == '\t');
        if raw_name.chars().any(|c| c.is_control()) {
            return Err(AddressError::ControlCharacter);
        }
        let name = match raw_name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
            Some(quoted) => unescape(quoted),
            None => raw_name.to_owned(),
        };
        Ok(Mailbox::new(Some(name), address))
    }
}

/// The position of the `<` that opens the address: the last one outside a quoted name.
fn find_open_angle(text: &str) -> Option<usize> {
    let mut in_quotes = false;
    let mut escaped = false;
    let mut found = None;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            '<' if !in_quotes => found = Some(i),
            _ => {}
        }
    }
    found
}

fn unescape(quoted: &str) -> String {
    let mut out = String::with_capacity(quoted.len());
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// True when a display name can be written as plain words, without quotes.
pub(crate) fn is_plain_phrase(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(' ')
        && !name.ends_with(' ')
        && !name.contains("  ")
        && name.chars().all(|c| {
            c == ' '
                || c.is_ascii_alphanumeric()
                || "!#$%&'*+-/=?^_`{|}~".contains(c)
                || !c.is_ascii()
        })
}

/// The name as a quoted-string: backslash before `"` and `\`.
pub(crate) fn quote(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for c in name.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            None => write!(f, "{}", self.address),
            Some(name) if is_plain_phrase(name) => write!(f, "{name} <{}>", self.address),
            Some(name) => write!(f, "{} <{}>", quote(name), self.address),
        }
    }
}

impl std::str::FromStr for Mailbox {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mailbox::parse(s)
    }
}

impl From<Address> for Mailbox {
    fn from(address: Address) -> Mailbox {
        Mailbox {
            name: None,
            address,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_usual_forms() {
        let m = Mailbox::parse("Jo Example <jo@example.org>").unwrap();
        assert_eq!(m.name.as_deref(), Some("Jo Example"));
        assert_eq!(m.address.as_str(), "jo@example.org");
        let m = Mailbox::parse(" \"Doe, Jo \\\"JD\\\"\" <jo@example.org> ").unwrap();
        assert_eq!(m.name.as_deref(), Some("Doe, Jo \"JD\""));
        let m = Mailbox::parse("<jo@example.org>").unwrap();
        assert_eq!(m.name, None);
        let m = Mailbox::parse("jo@example.org").unwrap();
        assert_eq!(m.name, None);
        let m = Mailbox::parse("\"a <b>\" <jo@example.org>").unwrap();
        assert_eq!(m.name.as_deref(), Some("a <b>"));
    }

    #[test]
    fn refuses_bad_mailboxes() {
        assert!(Mailbox::parse("Jo <jo@example.org").is_err());
        assert!(Mailbox::parse("Jo jo@example.org>").is_err());
        assert!(Mailbox::parse("Jo\r\nBcc: x@y <jo@example.org>").is_err());
        assert!(Mailbox::parse("Jo <jo@@example.org>").is_err());
    }

    #[test]
    fn display_quotes_specials_and_round_trips() {
        for text in [
            "Jo Example <jo@example.org>",
            "\"Doe, Jo\" <jo@example.org>",
            "jo@example.org",
        ] {
            let m = Mailbox::parse(text).unwrap();
            assert_eq!(m.to_string(), text);
            assert_eq!(Mailbox::parse(&m.to_string()).unwrap(), m);
        }
    }
}

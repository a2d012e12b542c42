//! Validated addr-specs (RFC 5321/5322, with RFC 6531/6532 UTF-8 local parts and IDN domains).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest local part in octets (RFC 5321 section 4.5.3.1.1).
const MAX_LOCAL: usize = 64;
/// Longest whole address in octets (RFC 5321 path limit less the angle brackets).
const MAX_ADDRESS: usize = 254;

/// Why a string is not an acceptable address.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddressError {
    /// The input was empty.
    Empty,
    /// The address contains CR, LF, NUL or another control character.
    ControlCharacter,
    /// The address contains whitespace outside a quoted local part.
    Whitespace,
    /// There is no `@` separating local part and domain.
    MissingAt,
    /// The local part is empty.
    EmptyLocalPart,
    /// The domain is empty.
    EmptyDomain,
    /// A leading, trailing or doubled dot in the local part or the domain.
    BadDots,
    /// A quoted local part is not closed, or a quote appears where none may.
    UnbalancedQuotes,
    /// A character that is not allowed at its place.
    InvalidCharacter(char),
    /// The domain is not a valid host name or domain literal.
    InvalidDomain,
    /// The local part or the whole address is too long.
    TooLong,
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressError::Empty => f.write_str("the address is empty"),
            AddressError::ControlCharacter => {
                f.write_str("the address contains a control character")
            }
            AddressError::Whitespace => f.write_str("the address contains whitespace"),
            AddressError::MissingAt => f.write_str("the address has no '@'"),
            AddressError::EmptyLocalPart => f.write_str("the address has an empty local part"),
            AddressError::EmptyDomain => f.write_str("the address has an empty domain"),
            AddressError::BadDots => f.write_str("the address has a misplaced dot"),
            AddressError::UnbalancedQuotes => f.write_str("the address has unbalanced quotes"),
            AddressError::InvalidCharacter(c) => {
                write!(
                    f,
                    "the address contains the character {c:?} where it is not allowed"
                )
            }
            AddressError::InvalidDomain => f.write_str("the address has an invalid domain"),
            AddressError::TooLong => f.write_str("the address is too long"),
        }
    }
}

impl std::error::Error for AddressError {}

/// A validated addr-spec such as `jo@example.org`, `"j o"@example.org` or `jö@bücher.example`.
///
/// The text is kept as given; [`Address::to_ascii_domain`] gives the A-label form of an IDN
/// domain for the SMTP envelope and for headers of messages that do not use SMTPUTF8.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    text: String,
    at: usize,
}

impl Address {
    /// Parses and validates an addr-spec. No surrounding whitespace or angle brackets allowed.
    pub fn parse(input: &str) -> Result<Address, AddressError> {
        if input.is_empty() {
            return Err(AddressError::Empty);
        }
        if input.chars().any(|c| c.is_control()) {
            return Err(AddressError::ControlCharacter);
        }
        let at = split_at_sign(input)?;
        let (local, domain) = (&input[..at], &input[at + 1..]);
        check_local(local)?;
        check_domain(domain)?;
        if local.len() > MAX_LOCAL || input.len() > MAX_ADDRESS {
            return Err(AddressError::TooLong);
        }
        Ok(Address {
            text: input.to_owned(),
            at,
        })
    }

    /// The whole address as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The part before the `@` (with its quotes, if quoted).
    pub fn local_part(&self) -> &str {
        &self.text[..self.at]
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        &self.text[self.at + 1..]
    }

    /// True when the local part is not ASCII: such an address can only be sent with SMTPUTF8.
    /// A non-ASCII domain alone does not need it, since it has an A-label form.
    pub fn needs_smtputf8(&self) -> bool {
        !self.local_part().is_ascii()
    }

    /// The domain in ASCII: IDN labels turned into A-labels (`xn--...`), lower-cased.
    /// ASCII domains and domain literals are returned unchanged.
    pub fn to_ascii_domain(&self) -> String {
        let domain = self.domain();
        if domain.is_ascii() {
            return domain.to_owned();
        }
        // Parsing already checked that the conversion succeeds.
        idna::domain_to_ascii(domain).unwrap_or_else(|_| domain.to_owned())
    }

    /// The address with its domain in A-label form (`local@xn--...`).
    pub fn to_ascii_domain_address(&self) -> String {
        format!("{}@{}", self.local_part(), self.to_ascii_domain())
    }

    /// What makes two addresses the same mailbox for sending: the A-label form, without regard
    /// to case (servers do not tell `B@x` from `b@x` in practice).
    pub fn mailbox_key(&self) -> String {
        self.to_ascii_domain_address().to_lowercase()
    }
}

fn split_at_sign(input: &str) -> Result<usize, AddressError> {
    let mut in_quotes = false;
    let mut escaped = false;
    let mut at = None;
    for (i, c) in input.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_quotes => escaped = true,
            '"' => {
                if !in_quotes && i != 0 {
                    return Err(AddressError::UnbalancedQuotes);
                }
                in_quotes = !in_quotes;
            }
            '@' if !in_quotes => at = Some(i),
            _ => {}
        }
    }
    if in_quotes {
        return Err(AddressError::UnbalancedQuotes);
    }
    match at {
        None => Err(AddressError::MissingAt),
        Some(0) => Err(AddressError::EmptyLocalPart),
        Some(i) if i + 1 == input.len() => Err(AddressError::EmptyDomain),
        Some(i) => Ok(i),
    }
}

fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || (!c.is_ascii())
}

fn check_local(local: &str) -> Result<(), AddressError> {
    if let Some(inner) = local.strip_prefix('"') {
        let inner = inner
            .strip_suffix('"')
            .ok_or(AddressError::UnbalancedQuotes)?;
        if inner.is_empty() {
            return Err(AddressError::EmptyLocalPart);
        }
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    chars.next().ok_or(AddressError::UnbalancedQuotes)?;
                }
                '"' => return Err(AddressError::UnbalancedQuotes),
                '\t' => return Err(AddressError::Whitespace),
                _ => {}
            }
        }
        return Ok(());
    }
    check_dot_atom(local, is_atext)
}

fn check_dot_atom(text: &str, allowed: fn(char) -> bool) -> Result<(), AddressError> {
    if text.starts_with('.') || text.ends_with('.') || text.contains("..") {
        return Err(AddressError::BadDots);
    }
    for c in text.chars() {
        if c.is_whitespace() {
            return Err(AddressError::Whitespace);
        }
        if c == '"' {
            return Err(AddressError::UnbalancedQuotes);
        }
        if c != '.' && !allowed(c) {
            return Err(AddressError::InvalidCharacter(c));
        }
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<(), AddressError> {
    if let Some(literal) = domain.strip_prefix('[') {
        let inner = literal
            .strip_suffix(']')
            .ok_or(AddressError::InvalidDomain)?;
        let ok = !inner.is_empty()
            && inner
                .chars()
                .all(|c| c.is_ascii_graphic() && !matches!(c, '[' | ']' | '\\'));
        return if ok {
            Ok(())
        } else {
            Err(AddressError::InvalidDomain)
        };
    }
    check_dot_atom(domain, |c| c.is_alphanumeric() || c == '-' || !c.is_ascii())?;
    let ascii = if domain.is_ascii() {
        domain.to_owned()
    } else {
        idna::domain_to_ascii_strict(domain).map_err(|_| AddressError::InvalidDomain)?
    };
    if ascii.len() > 253 {
        return Err(AddressError::TooLong);
    }
    for label in ascii.split('.') {
        let bad = label.is_empty()
            || label.len() > 63
            || label.starts_with('-')
            || label.ends_with('-')
            || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if bad {
            return Err(AddressError::InvalidDomain);
        }
    }
    Ok(())
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({:?})", self.text)
    }
}

impl std::str::FromStr for Address {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Address::parse(s)
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Address::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_quoted_utf8_and_idn_addresses() {
        for ok in [
            "jo@example.org",
            "first.last+tag@sub.example.co.uk",
            "\"j o\"@example.org",
            "\"a\\\"b\"@example.org",
            "jö@example.org",
            "用户@例子.广告",
            "x@bücher.example",
            "u@[192.0.2.1]",
            "u@localhost",
        ] {
            assert!(Address::parse(ok).is_ok(), "{ok} should parse");
        }
    }

    #[test]
    fn refuses_malformed_addresses() {
        use AddressError::*;
        let cases = [
            ("", Empty),
            ("a@b\r\nRCPT TO:<x@y>", ControlCharacter),
            ("a\n@b", ControlCharacter),
            ("a\0@b", ControlCharacter),
            ("a b@example.org", Whitespace),
            (" a@example.org", Whitespace),
            ("example.org", MissingAt),
            ("@example.org", EmptyLocalPart),
            ("a@", EmptyDomain),
            (".a@example.org", BadDots),
            ("a.@example.org", BadDots),
            ("a..b@example.org", BadDots),
            ("a@example..org", BadDots),
            ("a@example.org.", BadDots),
            ("\"abc@example.org", UnbalancedQuotes),
            ("ab\"c\"@example.org", UnbalancedQuotes),
            ("a(b)@example.org", InvalidCharacter('(')),
            ("a@exa_mple.org", InvalidCharacter('_')),
            ("a@-example.org", InvalidDomain),
        ];
        for (input, want) in cases {
            assert_eq!(Address::parse(input), Err(want), "{input:?}");
        }
        let long_local = format!("{}@example.org", "a".repeat(65));
        assert_eq!(Address::parse(&long_local), Err(TooLong));
    }

    #[test]
    fn parts_smtputf8_and_a_labels() {
        let a = Address::parse("jö@bücher.example").unwrap();
        assert_eq!(a.local_part(), "jö");
        assert_eq!(a.domain(), "bücher.example");
        assert!(a.needs_smtputf8());
        assert_eq!(a.to_ascii_domain(), "xn--bcher-kva.example");
        let b = Address::parse("jo@bücher.example").unwrap();
        assert!(!b.needs_smtputf8());
        assert_eq!(b.to_ascii_domain_address(), "jo@xn--bcher-kva.example");
    }

    #[test]
    fn serde_round_trip_validates() {
        let a = Address::parse("jo@example.org").unwrap();
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, "\"jo@example.org\"");
        assert_eq!(serde_json::from_str::<Address>(&json).unwrap(), a);
        assert!(serde_json::from_str::<Address>("\"bad@@x\"").is_err());
    }
}

//! The envelope and the checks and encodings applied to its addresses.

use crate::error::Error;

/// What a delivery status notification should return (RFC 3461 `RET`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DsnReturn {
    /// The whole message.
    Full,
    /// Headers only.
    Headers,
}

/// When a recipient's DSN is wanted (RFC 3461 `NOTIFY`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DsnNotify {
    /// Never (must stand alone).
    Never,
    /// On success.
    Success,
    /// On failure.
    Failure,
    /// On delay.
    Delay,
}

/// Delivery status notification requests, sent only when the server offers DSN.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dsn {
    /// `RET=` on MAIL.
    pub ret: Option<DsnReturn>,
    /// `ENVID=` on MAIL (xtext-encoded on the wire).
    pub envid: Option<String>,
    /// `NOTIFY=` on every RCPT; empty sends none.
    pub notify: Vec<DsnNotify>,
    /// Send `ORCPT=` with each recipient's address.
    pub orcpt: bool,
}

/// Sender and recipients of one message, and what its content needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Envelope {
    /// Reverse path; empty for the null sender (bounces).
    pub from: String,
    /// Forward paths, one transaction for all of them.
    pub recipients: Vec<String>,
    /// DSN requests.
    pub dsn: Option<Dsn>,
    /// The headers need SMTPUTF8 (non-ASCII addresses in them). Addresses are checked anyway.
    pub smtputf8: bool,
    /// The content has 8-bit bytes and needs `BODY=8BITMIME`.
    pub body_8bit: bool,
    /// Ask for REQUIRETLS (RFC 8689); refused when the server does not offer it.
    pub require_tls: bool,
}

impl Envelope {
    /// An envelope with no special needs.
    pub fn new(
        from: impl Into<String>,
        recipients: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Envelope {
            from: from.into(),
            recipients: recipients.into_iter().map(Into::into).collect(),
            ..Envelope::default()
        }
    }
}

/// An address ready for the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireAddress {
    /// The address with the domain as A-labels.
    pub(crate) text: String,
    /// Whether the local part is not ASCII (SMTPUTF8 required).
    pub(crate) needs_utf8: bool,
}

/// Refuses CR, LF and NUL anywhere in a command argument.
pub(crate) fn check_argument(what: &str, value: &str) -> Result<(), Error> {
    if let Some(c) = value.chars().find(|c| matches!(c, '\r' | '\n' | '\0')) {
        return Err(Error::input(format!(
            "{what} contains a forbidden character {c:?}"
        )));
    }
    Ok(())
}

/// Checks an address and converts an internationalised domain to A-labels.
pub(crate) fn wire_address(what: &str, address: &str) -> Result<WireAddress, Error> {
    check_argument(what, address)?;
    if address.is_empty() {
        return Ok(WireAddress {
            text: String::new(),
            needs_utf8: false,
        });
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return Err(Error::input(format!("{what} {address:?} has no domain")));
    };
    let bad = |c: char| c.is_control() || matches!(c, '<' | '>' | ' ');
    let bad_local = if is_quoted_string(local) {
        // Inside quotes, spaces and brackets are text; controls never are.
        local.chars().find(|c| c.is_control())
    } else {
        local.chars().find(|&c| bad(c) || matches!(c, '"' | '\\'))
    };
    if let Some(c) = bad_local.or_else(|| domain.chars().find(|&c| bad(c))) {
        return Err(Error::input(format!("{what} {address:?} contains {c:?}")));
    }
    if local.is_empty() || domain.is_empty() {
        return Err(Error::input(format!("{what} {address:?} is incomplete")));
    }
    let domain = if domain.starts_with('[') || domain.is_ascii() {
        domain.to_owned()
    } else {
        idna::domain_to_ascii(domain)
            .map_err(|_| Error::input(format!("{what} {address:?} has an invalid domain")))?
    };
    Ok(WireAddress {
        text: format!("{local}@{domain}"),
        needs_utf8: !local.is_ascii(),
    })
}

/// The name given in EHLO, as RFC 5321 wants it: an address literal (`[192.0.2.1]`) as it is,
/// else a domain in A-labels, each label 1 to 63 letters, digits or inner hyphens, at most 253
/// characters in all.
pub fn ehlo_domain(name: &str) -> Result<String, Error> {
    let bad = |why: &str| Error::input(format!("EHLO name {name:?} {why}"));
    if let Some(inner) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        let ok = !inner.is_empty()
            && inner
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'[' && b != b']');
        return if ok {
            Ok(name.to_owned())
        } else {
            Err(bad("is not an address literal"))
        };
    }
    let ascii = idna::domain_to_ascii(name).map_err(|_| bad("is not a domain"))?;
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if ascii.is_empty() || ascii.len() > 253 || !ascii.split('.').all(label_ok) {
        return Err(bad(
            "is not a domain (labels of 1 to 63 letters, digits and hyphens)",
        ));
    }
    Ok(ascii)
}

/// Whether `local` is an RFC 5321 Quoted-string: quotes at both ends, and inside them only text
/// and backslash pairs (a quote or backslash inside must be escaped).
fn is_quoted_string(local: &str) -> bool {
    let Some(inner) = local
        .strip_prefix('"')
        .and_then(|l| l.strip_suffix('"'))
        .filter(|_| local.len() >= 2)
    else {
        return false;
    };
    let mut escaped = false;
    for c in inner.chars() {
        if c.is_control() || (c == '"' && !escaped) {
            return false;
        }
        escaped = c == '\\' && !escaped;
    }
    !escaped
}

/// RFC 3461 xtext.
pub(crate) fn xtext(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if (33..=126).contains(&b) && b != b'+' && b != b'=' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("+{b:02X}"));
        }
    }
    out
}

/// The ORCPT value: `rfc822;` with xtext, or RFC 6533 `utf-8;` for non-ASCII addresses.
pub(crate) fn orcpt(address: &str) -> String {
    if address.is_ascii() {
        return format!("rfc822;{}", xtext(address));
    }
    let mut out = String::from("utf-8;");
    for c in address.chars() {
        if c.is_ascii_graphic() && !matches!(c, '+' | '=' | '\\') {
            out.push(c);
        } else {
            out.push_str(&format!("\\x{{{:X}}}", u32::from(c)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idn_domain_becomes_a_labels() {
        let w = wire_address("recipient", "user@bücher.example").unwrap();
        assert_eq!(w.text, "user@xn--bcher-kva.example");
        assert!(!w.needs_utf8);
    }

    #[test]
    fn non_ascii_local_part_needs_smtputf8() {
        assert!(
            wire_address("recipient", "jöran@example.org")
                .unwrap()
                .needs_utf8
        );
    }

    #[test]
    fn crlf_and_nul_are_refused() {
        for bad in ["a@b\r\nRCPT TO:<x@y>", "a@b\n", "a\0@b"] {
            let err = wire_address("recipient", bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Input, "{bad:?}");
        }
    }

    #[test]
    fn quoted_local_part_with_a_space_is_a_valid_address() {
        for good in [
            "\"quoted local\"@example.com",
            "\"a<b>\"@example.com",
            "\"esc\\\"aped\"@example.com",
            "\"at@sign\"@example.com",
        ] {
            let w = wire_address("recipient", good).unwrap();
            assert_eq!(w.text, good);
        }
        for bad in [
            "quoted local@example.com",
            "\"open@example.com",
            "\"a\"b\"@example.com",
            "\"tab\there\"@example.com",
            "\"ok\"@exa mple.com",
            "\"ends\\\"@example.com",
        ] {
            let err = wire_address("recipient", bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Input, "{bad:?}");
        }
    }

    #[test]
    fn ehlo_name_is_a_domain_in_a_labels_or_an_address_literal() {
        assert_eq!(ehlo_domain("mail.example.org").unwrap(), "mail.example.org");
        assert_eq!(
            ehlo_domain("bücher.example").unwrap(),
            "xn--bcher-kva.example"
        );
        assert_eq!(ehlo_domain("[192.0.2.1]").unwrap(), "[192.0.2.1]");
        assert_eq!(
            ehlo_domain("[IPv6:2001:db8::1]").unwrap(),
            "[IPv6:2001:db8::1]"
        );
        let long_label = format!("{}.example", "a".repeat(64));
        for bad in [
            "",
            "a b",
            "-x.example",
            "x-.example",
            "a..b",
            "[]",
            "a_b.example",
            &long_label,
        ] {
            let err = ehlo_domain(bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Input, "{bad:?}");
        }
    }

    #[test]
    fn xtext_and_orcpt_encode_specials() {
        assert_eq!(xtext("a+b=c d"), "a+2Bb+3Dc+20d");
        assert_eq!(orcpt("a+b@x.org"), "rfc822;a+2Bb@x.org");
        assert_eq!(orcpt("ö@x.org"), "utf-8;\\x{F6}@x.org");
    }
}

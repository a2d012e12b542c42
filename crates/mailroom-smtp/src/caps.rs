//! Server capabilities read from an EHLO reply.

use crate::config::Mechanism;
use crate::reply::Reply;

/// What the server advertised in its (last) EHLO reply.
///
/// Keywords are matched without regard to case. After STARTTLS, only the capabilities of the
/// EHLO sent over TLS are kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    esmtp: bool,
    /// (upper-cased keyword, parameters as sent)
    entries: Vec<(String, Vec<String>)>,
    auth: Vec<Mechanism>,
}

impl Capabilities {
    /// Reads the capability lines of an EHLO reply (every line after the first).
    pub(crate) fn from_ehlo(reply: &Reply) -> Capabilities {
        let mut caps = Capabilities {
            esmtp: true,
            ..Capabilities::default()
        };
        for line in reply.lines.iter().skip(1) {
            let mut words = line.split_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            let keyword = keyword.to_ascii_uppercase();
            let params: Vec<String> = words.map(str::to_owned).collect();
            if let Some(legacy) = keyword.strip_prefix("AUTH=") {
                // The pre-standard form `AUTH=LOGIN PLAIN` lists mechanisms too.
                let names = std::iter::once(legacy).chain(params.iter().map(String::as_str));
                caps.add_mechanisms(names);
                continue;
            }
            if keyword == "AUTH" {
                caps.add_mechanisms(params.iter().map(String::as_str));
            }
            caps.entries.push((keyword, params));
        }
        caps
    }

    fn add_mechanisms<'a>(&mut self, names: impl Iterator<Item = &'a str>) {
        for name in names {
            if let Some(mechanism) = Mechanism::from_name(name)
                && !self.auth.contains(&mechanism)
            {
                self.auth.push(mechanism);
            }
        }
    }

    /// Whether the server answered EHLO (false after a HELO fallback).
    pub fn is_esmtp(&self) -> bool {
        self.esmtp
    }

    /// Whether a keyword was advertised (any case).
    pub fn has(&self, keyword: &str) -> bool {
        self.params(keyword).is_some()
    }

    /// The parameters of a keyword, if it was advertised.
    pub fn params(&self, keyword: &str) -> Option<&[String]> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(keyword))
            .map(|(_, p)| p.as_slice())
    }

    /// The SIZE limit in bytes; `None` when absent, `SIZE 0` or `SIZE` without a value.
    pub fn size_limit(&self) -> Option<u64> {
        let params = self.params("SIZE")?;
        params
            .first()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|&n| n > 0)
    }

    /// Whether `SIZE` was advertised at all (the `SIZE=` parameter may then be sent).
    pub fn size(&self) -> bool {
        self.has("SIZE")
    }

    /// 8BITMIME (RFC 6152).
    pub fn eight_bit_mime(&self) -> bool {
        self.has("8BITMIME")
    }

    /// SMTPUTF8 (RFC 6531).
    pub fn smtputf8(&self) -> bool {
        self.has("SMTPUTF8")
    }

    /// PIPELINING (RFC 2920).
    pub fn pipelining(&self) -> bool {
        self.has("PIPELINING")
    }

    /// CHUNKING (RFC 3030).
    pub fn chunking(&self) -> bool {
        self.has("CHUNKING")
    }

    /// DSN (RFC 3461).
    pub fn dsn(&self) -> bool {
        self.has("DSN")
    }

    /// STARTTLS (RFC 3207).
    pub fn starttls(&self) -> bool {
        self.has("STARTTLS")
    }

    /// ENHANCEDSTATUSCODES (RFC 2034).
    pub fn enhanced_status_codes(&self) -> bool {
        self.has("ENHANCEDSTATUSCODES")
    }

    /// REQUIRETLS (RFC 8689).
    pub fn require_tls(&self) -> bool {
        self.has("REQUIRETLS")
    }

    /// The AUTH mechanisms advertised that this client knows, in the server's order.
    pub fn auth_mechanisms(&self) -> &[Mechanism] {
        &self.auth
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(lines: &[&str]) -> Capabilities {
        let lines = lines.iter().map(|s| s.to_string()).collect();
        Capabilities::from_ehlo(&Reply {
            code: 250,
            enhanced: None,
            lines,
        })
    }

    #[test]
    fn lowercase_keywords_are_recognised() {
        let c = caps(&[
            "mx",
            "pipelining",
            "size 1000",
            "8bitmime",
            "auth plain login",
            "starttls",
        ]);
        assert!(c.pipelining() && c.eight_bit_mime() && c.starttls());
        assert_eq!(c.size_limit(), Some(1000));
        assert_eq!(c.auth_mechanisms(), [Mechanism::Plain, Mechanism::Login]);
    }

    #[test]
    fn size_zero_or_without_value_means_no_limit() {
        assert_eq!(caps(&["mx", "SIZE 0"]).size_limit(), None);
        assert_eq!(caps(&["mx", "SIZE"]).size_limit(), None);
        assert!(caps(&["mx", "SIZE"]).size());
    }

    #[test]
    fn legacy_auth_equals_form_is_read() {
        let c = caps(&["mx", "AUTH=LOGIN PLAIN", "AUTH CRAM-MD5"]);
        let mut m = c.auth_mechanisms().to_vec();
        m.sort();
        let mut expected = vec![Mechanism::Login, Mechanism::Plain, Mechanism::CramMd5];
        expected.sort();
        assert_eq!(m, expected);
    }

    #[test]
    fn first_line_is_not_a_capability() {
        assert!(!caps(&["PIPELINING"]).pipelining());
    }
}

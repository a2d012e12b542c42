//! Address lists of To, Cc and Bcc as `sendmail -t` reads them.

use mailroom::mime::{Address, AddressError};

/// One element of an address list: its text as written, and what sat between `<` and `>`.
#[derive(Default)]
struct Item {
    written: String,
    outside: String,
    inside: Option<String>,
    /// The `>` was seen.
    closed: bool,
    /// Something other than white space follows the `>`.
    trailing: bool,
}

impl Item {
    fn push(&mut self, c: char, angle: bool) {
        self.written.push(c);
        match &mut self.inside {
            Some(inside) if angle => inside.push(c),
            _ if self.closed => self.trailing |= !c.is_whitespace(),
            _ => self.outside.push(c),
        }
    }

    /// The address: the bracketed one (less any source route), or the whole text. A display
    /// name is not needed for the envelope and is not looked at.
    fn address(self) -> Result<Option<Address>, (String, AddressError)> {
        let written = self.written.trim().to_string();
        let spec = match self.inside {
            None if written.is_empty() => return Ok(None),
            None => self.outside,
            Some(_) if !self.closed => return Err((written, AddressError::InvalidCharacter('<'))),
            Some(_) if self.trailing => return Err((written, AddressError::InvalidCharacter('>'))),
            Some(inside) => match inside.trim().strip_prefix('@') {
                // Obsolete source route `<@relay:user@domain>`: the route is ignored.
                Some(route) => route
                    .split_once(':')
                    .map_or(inside.clone(), |(_, a)| a.into()),
                None => inside,
            },
        };
        Address::parse(spec.trim())
            .map(Some)
            .map_err(|e| (written, e))
    }
}

/// The addresses of an address-list header value (groups opened, comments skipped). The error
/// names the first element that is not an address.
pub(super) fn address_list(value: &str) -> Result<Vec<Address>, (String, AddressError)> {
    let mut items = vec![Item::default()];
    let (mut quoted, mut escaped, mut comment, mut angle, mut literal) =
        (false, false, 0usize, false, false);
    for c in value.chars() {
        let item = items.last_mut().expect("never empty");
        if escaped {
            escaped = false;
            if comment == 0 {
                item.push(c, angle);
            }
        } else if c == '\\' && (quoted || comment > 0) {
            escaped = true;
            if comment == 0 {
                item.push(c, angle);
            }
        } else if comment > 0 {
            match c {
                '(' => comment += 1,
                ')' => comment -= 1,
                _ => {}
            }
        } else if quoted || literal {
            quoted &= c != '"';
            literal &= c != ']';
            item.push(c, angle);
        } else {
            match c {
                '"' => quoted = true,
                '[' => literal = true,
                '(' => {
                    comment = 1;
                    continue;
                }
                '<' if !angle && item.inside.is_none() => {
                    angle = true;
                    item.inside = Some(String::new());
                    item.written.push(c);
                    continue;
                }
                '>' if angle => {
                    angle = false;
                    item.closed = true;
                    item.written.push(c);
                    continue;
                }
                ',' | ';' if !angle => {
                    items.push(Item::default());
                    continue;
                }
                // A group's name (`Team: a@x, b@y;`) is a phrase, never an address.
                ':' if !angle && item.inside.is_none() && !item.written.contains('@') => {
                    *item = Item::default();
                    continue;
                }
                _ => {}
            }
            item.push(c, angle);
        }
    }
    if comment > 0 {
        return Err((
            value.trim().to_string(),
            AddressError::InvalidCharacter('('),
        ));
    }
    items
        .into_iter()
        .filter_map(|item| item.address().transpose())
        .collect()
}

/// The same mailbox, as the Outbox and `Message::recipients` compare envelope addresses.
pub(super) fn same_address(a: &Address, b: &Address) -> bool {
    a.mailbox_key() == b.mailbox_key()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(value: &str) -> Result<Vec<String>, String> {
        address_list(value)
            .map(|l| l.iter().map(ToString::to_string).collect())
            .map_err(|(written, _)| written)
    }

    #[test]
    fn sendmail_address_lists_give_every_address_or_name_the_bad_one() {
        let ok = |v: &str, want: &[&str]| {
            let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
            assert_eq!(list(v), Ok(want), "{v}");
        };
        ok(
            "a@x.example, B <b@x.example>",
            &["a@x.example", "b@x.example"],
        );
        ok(
            "\"Doe, J\" <j@x.example> (boss, really), k@x.example",
            &["j@x.example", "k@x.example"],
        );
        ok(
            "<@route.example,@r2.example:r@example.com>",
            &["r@example.com"],
        );
        ok(
            "Team: a@x.example, b@x.example;, c@x.example",
            &["a@x.example", "b@x.example", "c@x.example"],
        );
        ok("undisclosed-recipients:;", &[]);
        ok(
            "\"a b\"@x.example, u@[IPv6:::1]",
            &["\"a b\"@x.example", "u@[IPv6:::1]"],
        );
        ok("", &[]);
        let bad = |v: &str, named: &str| assert_eq!(list(v), Err(named.to_string()), "{v}");
        bad("not-an-address, ok@example.com", "not-an-address");
        bad("ok@example.com, Name <broken", "Name <broken");
        bad("<a@x.example> junk", "<a@x.example> junk");
        bad("a@x.example (open comment", "a@x.example (open comment");
        bad("a@@x.example", "a@@x.example");
    }

    #[test]
    fn sendmail_same_address_compares_without_regard_to_case() {
        let a = |s: &str| Address::parse(s).unwrap();
        assert!(same_address(&a("a@Example.COM"), &a("a@example.com")));
        assert!(same_address(&a("A@example.com"), &a("a@example.com")));
        assert!(same_address(
            &a("a@bücher.example"),
            &a("a@xn--bcher-kva.example")
        ));
        assert!(!same_address(&a("a@example.com"), &a("a@example.org")));
    }
}

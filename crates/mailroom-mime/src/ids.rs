//! Message-IDs, MIME boundaries and RFC 5322 dates.

use rand::Rng;
use time::OffsetDateTime;

/// Characters of random ids and boundaries: letters and digits only.
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `len` random letters and digits from the thread's CSPRNG (ChaCha, seeded by the OS).
pub(crate) fn random_token(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A new Message-ID, `<random@domain>`: 26 random letters and digits (about 154 bits from a
/// CSPRNG) and the sender's domain in ASCII (A-labels). No host name or time goes into it.
/// A domain that is not a valid host name is replaced by `mailroom.invalid`.
pub fn new_message_id(domain: &str) -> String {
    let ascii = idna::domain_to_ascii_strict(domain)
        .ok()
        .filter(|d| !d.is_empty() && d.split('.').all(|l| !l.is_empty() && !l.starts_with('-')));
    let domain = ascii.as_deref().unwrap_or("mailroom.invalid");
    format!("<{}@{}>", random_token(26), domain)
}

/// A new random MIME boundary. It begins with `=_`, which quoted-printable and base64 text can
/// never contain, so it cannot collide with an encoded body.
pub(crate) fn random_boundary() -> String {
    format!("=_{}", random_token(28))
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// An RFC 5322 date with a numeric offset, `Fri, 04 Dec 2026 15:48:15 +0100`. The offset is the
/// one `t` carries; seconds of the offset are dropped.
pub fn format_date(t: OffsetDateTime) -> String {
    let offset = t.offset();
    let minutes = offset.whole_minutes();
    let sign = if minutes < 0 { '-' } else { '+' };
    let minutes = minutes.unsigned_abs();
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} {}{:02}{:02}",
        DAYS[usize::from(t.weekday().number_days_from_monday())],
        t.day(),
        MONTHS[usize::from(u8::from(t.month())) - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second(),
        sign,
        minutes / 60,
        minutes % 60,
    )
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn dates_have_numeric_offsets() {
        assert_eq!(
            format_date(datetime!(2026-12-04 15:48:15 UTC)),
            "Fri, 04 Dec 2026 15:48:15 +0000"
        );
        assert_eq!(
            format_date(datetime!(2024-02-29 01:02:03 -03:30)),
            "Thu, 29 Feb 2024 01:02:03 -0330"
        );
        assert_eq!(
            format_date(datetime!(2025-06-01 23:59:59 +05:45)),
            "Sun, 01 Jun 2025 23:59:59 +0545"
        );
    }

    #[test]
    fn message_ids_are_random_and_use_the_ascii_domain() {
        let a = new_message_id("example.org");
        let b = new_message_id("example.org");
        assert_ne!(a, b);
        assert!(a.starts_with('<') && a.ends_with("@example.org>"));
        assert_eq!(a.len(), "<@example.org>".len() + 26);
        assert!(new_message_id("bücher.example").ends_with("@xn--bcher-kva.example>"));
        assert!(new_message_id("bad domain\r\n").ends_with("@mailroom.invalid>"));
        assert!(crate::validate::is_msg_id(&a));
    }
}

//! Reply and forward subject prefixes: stacked and localized ones collapse into one.

/// Reply prefixes of common mail programs, lower-cased, without the colon.
const REPLY_PREFIXES: &[&str] = &[
    // Reply: English, German, Nordic, Finnish, Dutch, Polish, Turkish, Portuguese, Italian,
    // French, Czech/Slovak, Hungarian, Latvian/Lithuanian, Greek, Russian, Hebrew, Arabic, CJK.
    "re",
    "aw",
    "sv",
    "vs",
    "antw",
    "odp",
    "ynt",
    "res",
    "rif",
    "réf",
    "ref",
    "odp",
    "vá",
    "atb",
    "ats",
    "απ",
    "σχετ",
    "отв",
    "ответ",
    "השב",
    "תשובה",
    "رد",
    "回复",
    "答复",
    "回覆",
    "返信",
];

/// Forward prefixes of common mail programs, lower-cased, without the colon.
const FORWARD_PREFIXES: &[&str] = &[
    "fwd",
    "fw",
    "wg",
    "tr",
    "rv",
    "enc",
    "doorst",
    "pd",
    "vl",
    "fs",
    "vb",
    "továbbítás",
    "πρθ",
    "пересл",
    "הועבר",
    "转发",
    "轉寄",
    "轉發",
    "転送",
];

/// Longest prefix word looked at, in characters.
const PREFIX_MAX: usize = 12;

/// The subject without any leading reply or forward prefixes (`Re: AW: Fwd[2]: x` -> `x`).
pub fn base_subject(subject: &str) -> &str {
    without_prefixes(subject, &[REPLY_PREFIXES, FORWARD_PREFIXES])
}

/// The subject without the leading prefixes found in `lists`.
fn without_prefixes<'s>(subject: &'s str, lists: &[&[&str]]) -> &'s str {
    let mut rest = subject.trim();
    loop {
        let Some(colon) = rest.find([':', '：']) else {
            return rest;
        };
        let word = rest[..colon].trim_end();
        let word = strip_counter(word);
        let known = word.chars().count() <= PREFIX_MAX && {
            let word = word.to_lowercase();
            lists.iter().flat_map(|l| l.iter()).any(|p| word == *p)
        };
        if !known {
            return rest;
        }
        let colon_len = rest[colon..].chars().next().map_or(1, char::len_utf8);
        rest = rest[colon + colon_len..].trim_start();
    }
}

/// `Re[2]`, `Re(2)` and `Re^2` become `Re`.
fn strip_counter(word: &str) -> &str {
    let counted = |w: &str, open: char| -> Option<usize> {
        let digits = w.trim_end_matches(|c: char| c.is_ascii_digit());
        (digits.len() < w.len()).then_some(())?;
        digits.strip_suffix(open).map(str::len)
    };
    if let Some(inner) = word.strip_suffix(']') {
        return counted(inner, '[').map_or(word, |n| &word[..n]);
    }
    if let Some(inner) = word.strip_suffix(')') {
        return counted(inner, '(').map_or(word, |n| &word[..n]);
    }
    counted(word, '^').map_or(word, |n| &word[..n])
}

/// The subject of a reply: exactly one `Re: ` in place of the leading reply prefixes (`Re:` when
/// empty). Forward prefixes stay, as mail programs keep them: a reply to `Fwd: x` is
/// `Re: Fwd: x`, and a reply to that is the same again.
pub fn reply_subject(subject: Option<&str>) -> String {
    format!(
        "Re: {}",
        without_prefixes(subject.unwrap_or(""), &[REPLY_PREFIXES])
    )
    .trim_end()
    .to_owned()
}

/// The subject of a forward: exactly one `Fwd: ` before the base subject (`Fwd:` when empty).
pub fn forward_subject(subject: Option<&str>) -> String {
    format!("Fwd: {}", base_subject(subject.unwrap_or("")))
        .trim_end()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacked_and_localized_prefixes_collapse_to_one() {
        for (input, want) in [
            ("Lunch", "Re: Lunch"),
            ("Re: Lunch", "Re: Lunch"),
            ("RE: re: Re:Lunch", "Re: Lunch"),
            ("AW: WG: Fwd: Lunch", "Re: WG: Fwd: Lunch"),
            ("Re[2]: Re(3): Re^4: Lunch", "Re: Lunch"),
            ("SV: VS: Lunch", "Re: Lunch"),
            ("Réf : TR : Lunch", "Re: TR : Lunch"),
            ("回复：答复: 午餐", "Re: 午餐"),
            ("回复：转发: 午餐", "Re: 转发: 午餐"),
            ("Отв: Пересл: Обед", "Re: Пересл: Обед"),
            ("Ticket: 42", "Re: Ticket: 42"),
            ("Re: [list] Re: topic", "Re: [list] Re: topic"),
            ("", "Re:"),
        ] {
            assert_eq!(reply_subject(Some(input)), want, "{input:?}");
        }
        assert_eq!(forward_subject(Some("Re: Fw: Lunch")), "Fwd: Lunch");
        assert_eq!(base_subject("AW: WG: Fwd: Lunch"), "Lunch");
        assert_eq!(forward_subject(None), "Fwd:");
    }

    #[test]
    fn reply_to_a_forward_keeps_its_fwd_prefix() {
        assert_eq!(reply_subject(Some("Fwd: x")), "Re: Fwd: x");
        assert_eq!(reply_subject(Some("Re: Fwd: x")), "Re: Fwd: x");
        assert_eq!(reply_subject(Some("AW: RE: Fwd: x")), "Re: Fwd: x");
        assert_eq!(reply_subject(Some("Fwd: Re: x")), "Re: Fwd: Re: x");
        assert_eq!(reply_subject(Some("Re: Fwd: Re: x")), "Re: Fwd: Re: x");
        assert_eq!(reply_subject(Some("WG: Lunch")), "Re: WG: Lunch");
    }
}

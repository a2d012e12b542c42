//! Reply and forward subject prefixes: stacked and localized ones collapse into one.

/// Reply and forward prefixes of common mail programs, lower-cased, without the colon.
const PREFIXES: &[&str] = &[
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
    // Forward.
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
    let mut rest = subject.trim();
    loop {
        let Some(colon) = rest.find([':', '：']) else {
            return rest;
        };
        let word = rest[..colon].trim_end();
        let word = strip_counter(word);
        let known = word.chars().count() <= PREFIX_MAX
            && PREFIXES.iter().any(|p| word.to_lowercase() == *p);
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

/// The subject of a reply: exactly one `Re: ` before the base subject (`Re:` when empty).
pub fn reply_subject(subject: Option<&str>) -> String {
    format!("Re: {}", base_subject(subject.unwrap_or("")))
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
            ("AW: WG: Fwd: Lunch", "Re: Lunch"),
            ("Re[2]: Re(3): Re^4: Lunch", "Re: Lunch"),
            ("SV: VS: Lunch", "Re: Lunch"),
            ("Réf : TR : Lunch", "Re: Lunch"),
            ("回复：转发: 午餐", "Re: 午餐"),
            ("Отв: Пересл: Обед", "Re: Обед"),
            ("Ticket: 42", "Re: Ticket: 42"),
            ("Re: [list] Re: topic", "Re: [list] Re: topic"),
            ("", "Re:"),
        ] {
            assert_eq!(reply_subject(Some(input)), want, "{input:?}");
        }
        assert_eq!(forward_subject(Some("Re: Fw: Lunch")), "Fwd: Lunch");
        assert_eq!(forward_subject(None), "Fwd:");
    }
}

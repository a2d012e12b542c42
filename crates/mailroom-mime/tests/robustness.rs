//! Fuzz-style property tests: every parser takes arbitrary input without panicking, and what it
//! accepts keeps its invariants.

mod common;

use common::{crate_dir, mb};
use mailroom_mime::{
    Address, Mailbox, RenderOptions, find_in, html_to_text, parse_message, reply_subject, strip_bcc,
};
use proptest::prelude::*;

fn corpus_message() -> impl Strategy<Value = Vec<u8>> {
    let dir = crate_dir().join("tests/corpus");
    let mut files: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    files.sort();
    prop::sample::select(files)
}

/// A corpus message with random bytes overwritten, and maybe cut short.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        corpus_message(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..20),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(|(mut raw, flips, cut, truncate)| {
            for (at, byte) in flips {
                let i = at.index(raw.len());
                raw[i] = byte;
            }
            if truncate {
                raw.truncate(cut.index(raw.len() + 1));
            }
            raw
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(300), ..ProptestConfig::default() })]

    #[test]
    fn parsed_messages_always_validate_and_render(raw in prop_oneof![mutated(), prop::collection::vec(any::<u8>(), 0..600)]) {
        if let Ok(parsed) = parse_message(&raw) {
            let mut m = parsed.message;
            prop_assert_eq!(m.validate(), Ok(()));
            m.from = Some(mb("me@example.org"));
            let mut out = Vec::new();
            m.render(&RenderOptions::default(), &mut out).unwrap();
            let again = parse_message(&out).unwrap().message;
            prop_assert_eq!(again.subject, m.subject);
        }
    }

    #[test]
    fn strip_bcc_never_grows_and_copies_bcc_free_input_unchanged(raw in prop_oneof![mutated(), prop::collection::vec(any::<u8>(), 0..600)]) {
        let mut out = Vec::new();
        let info = strip_bcc(&raw[..], &mut out).unwrap();
        prop_assert!(out.len() <= raw.len());
        prop_assert_eq!(out.len() as u64, info.header_bytes + info.body_bytes);
        let lower = raw.to_ascii_lowercase();
        if !lower.windows(3).any(|w| w == b"bcc") {
            prop_assert_eq!(out, raw);
        }
    }

    #[test]
    fn addresses_that_parse_are_clean_and_stable(text in "\\PC{0,40}|[a-z.\"\\\\@ \\[\\]äö-]{0,30}") {
        if let Ok(a) = Address::parse(&text) {
            prop_assert!(!a.as_str().chars().any(char::is_control));
            prop_assert!(!a.local_part().is_empty() && !a.domain().is_empty());
            prop_assert_eq!(Address::parse(a.as_str()).unwrap(), a.clone());
            prop_assert!(a.to_ascii_domain().is_ascii());
        }
        if let Ok(m) = Mailbox::parse(&text) {
            prop_assert_eq!(Mailbox::parse(&m.to_string()).unwrap(), m);
        }
    }

    #[test]
    fn find_ranges_are_on_character_boundaries(hay in "\\PC{0,60}", needle in "\\PC{0,4}") {
        let mut last = 0;
        for r in find_in(&hay, &needle) {
            prop_assert!(hay.is_char_boundary(r.start) && hay.is_char_boundary(r.end));
            prop_assert!(r.start >= last && r.start < r.end);
            last = r.end;
        }
        let _ = html_to_text(&hay);
    }

    #[test]
    fn reply_subjects_are_idempotent(subject in "((Re|RE|Fwd|AW|SV|回复)(\\[[0-9]\\])? ?[:：] ?){0,4}\\PC{0,20}") {
        let once = reply_subject(Some(&subject));
        prop_assert_eq!(reply_subject(Some(&once)), once.clone());
        prop_assert!(once.starts_with("Re:"));
    }
}

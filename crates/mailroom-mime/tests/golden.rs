//! Golden tests: each sample model renders to exactly the bytes in `tests/golden/NAME.eml`.
//! Set `MAILROOM_UPDATE_GOLDEN=1` to rewrite the files after a deliberate change, then review
//! the diff by eye.

mod common;

use common::{crate_dir, render, samples};

#[test]
fn every_sample_renders_to_its_golden_bytes() {
    let update = std::env::var_os("MAILROOM_UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for (name, message, allow_8bit) in samples() {
        let bytes = render(&message, allow_8bit);
        let path = crate_dir().join("tests/golden").join(format!("{name}.eml"));
        if update {
            std::fs::write(&path, &bytes).unwrap();
            continue;
        }
        let want = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if want != bytes {
            failures.push(name);
        }
    }
    assert!(
        failures.is_empty(),
        "renderings differ from golden files: {failures:?}"
    );
}

#[test]
fn every_line_ends_in_crlf_and_fits_998_octets() {
    for (name, message, allow_8bit) in samples() {
        let bytes = render(&message, allow_8bit);
        assert!(bytes.ends_with(b"\r\n"), "{name}");
        for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
            let last = n == bytes.split(|&b| b == b'\n').count() - 1;
            if !last {
                assert!(line.ends_with(b"\r"), "{name}: bare LF on line {n}");
            }
            assert!(
                !line[..line.len().saturating_sub(1)].contains(&b'\r'),
                "{name}: bare CR"
            );
            assert!(
                line.len() <= 999,
                "{name}: line {n} is {} octets",
                line.len()
            );
        }
    }
}

#[test]
fn no_bcc_header_is_ever_written() {
    for (name, message, allow_8bit) in samples() {
        let text = String::from_utf8_lossy(&render(&message, allow_8bit)).to_ascii_lowercase();
        assert!(
            !text.contains("\nbcc:") && !text.starts_with("bcc:"),
            "{name}"
        );
        for bcc in &message.bcc {
            assert!(
                !text.contains(&bcc.address.as_str().to_ascii_lowercase()),
                "{name}"
            );
        }
    }
}

#[test]
fn seven_bit_unless_eight_bit_is_allowed() {
    for (name, message, allow_8bit) in samples() {
        let bytes = render(&message, allow_8bit);
        if !allow_8bit && !message.needs_smtputf8() {
            assert!(
                bytes.is_ascii(),
                "{name} has 8-bit bytes though 8bit was not allowed"
            );
        }
        if !message.needs_8bit() {
            assert!(bytes.is_ascii(), "{name}");
        }
    }
}

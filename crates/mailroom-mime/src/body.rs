//! Body transfer encodings: 7bit and 8bit lines, quoted-printable, and streaming base64.

use std::io::{self, Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Longest line allowed on the wire, without its CRLF (RFC 5322 section 2.1.1).
pub(crate) const MAX_LINE: usize = 998;
/// Longest quoted-printable line, including a soft line break (RFC 2045 section 6.7).
const QP_LINE: usize = 76;
/// Raw bytes per base64 line: 57 bytes give 76 characters.
const B64_LINE: usize = 57;
/// Raw bytes read per chunk when streaming base64: a multiple of 57, 57 KiB in all.
const B64_CHUNK: usize = B64_LINE * 1024;

/// A Content-Transfer-Encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cte {
    SevenBit,
    EightBit,
    QuotedPrintable,
    Base64,
}

impl Cte {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Cte::SevenBit => "7bit",
            Cte::EightBit => "8bit",
            Cte::QuotedPrintable => "quoted-printable",
            Cte::Base64 => "base64",
        }
    }
}

/// Text with every line break made `\n` and a final line break supplied if missing.
pub(crate) fn normalize_text(text: &str) -> String {
    let mut out = text.replace("\r\n", "\n").replace('\r', "\n");
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// The encoding for normalized text: 7bit for short ASCII lines, 8bit for short UTF-8 lines
/// when allowed, quoted-printable otherwise (long lines, NUL, or 8-bit text not allowed).
pub(crate) fn text_encoding(text: &str, allow_8bit: bool) -> Cte {
    let long = text.split('\n').any(|line| line.len() > MAX_LINE);
    if long || text.contains('\0') {
        Cte::QuotedPrintable
    } else if text.is_ascii() {
        Cte::SevenBit
    } else if allow_8bit {
        Cte::EightBit
    } else {
        Cte::QuotedPrintable
    }
}

/// Writes normalized text in the given encoding (7bit, 8bit or quoted-printable), CRLF lines.
pub(crate) fn write_text<W: Write>(out: &mut W, text: &str, cte: Cte) -> io::Result<()> {
    // Each encoded line is assembled here and written at once.
    let mut encoded = Vec::new();
    for line in text.split_terminator('\n') {
        match cte {
            Cte::QuotedPrintable => {
                encoded.clear();
                encode_qp_line(&mut encoded, line.as_bytes());
                encoded.extend_from_slice(b"\r\n");
                out.write_all(&encoded)?;
            }
            Cte::Base64 => unreachable!("text is never base64 encoded"),
            Cte::SevenBit | Cte::EightBit => {
                out.write_all(line.as_bytes())?;
                out.write_all(b"\r\n")?;
            }
        }
    }
    Ok(())
}

fn encode_qp_line(out: &mut Vec<u8>, line: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let plain = |b: u8| (33..=126).contains(&b) && b != b'=';
    let mut col = 0;
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        let last = i + 1 == line.len();
        if plain(b) && !last {
            // A run of bytes that stand for themselves (the line's last byte aside, which has
            // a column more), as much of it as fits before the soft break.
            let room = (QP_LINE - 1).saturating_sub(col);
            if room == 0 {
                out.extend_from_slice(b"=\r\n");
                col = 0;
                continue;
            }
            let run = line[i..line.len() - 1]
                .iter()
                .take(room)
                .take_while(|&&b| plain(b))
                .count();
            out.extend_from_slice(&line[i..i + run]);
            col += run;
            i += run;
            continue;
        }
        let literal = match b {
            b' ' | b'\t' => !last,
            _ => plain(b),
        };
        let width = if literal { 1 } else { 3 };
        // Room for the soft break '=' unless this is the line's last character.
        let limit = if last { QP_LINE } else { QP_LINE - 1 };
        if col + width > limit {
            out.extend_from_slice(b"=\r\n");
            col = 0;
        }
        if literal {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'=', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
        col += width;
        i += 1;
    }
}

/// Streams `input` as base64 in 76-character CRLF lines, reading at most 57 KiB at a time.
/// Returns the number of raw bytes read.
pub(crate) fn write_base64<R: Read, W: Write>(mut input: R, out: &mut W) -> io::Result<u64> {
    let mut raw = vec![0u8; B64_CHUNK];
    let mut encoded = vec![0u8; B64_CHUNK / B64_LINE * (QP_LINE + 2)];
    let mut total = 0u64;
    loop {
        let filled = fill(&mut input, &mut raw)?;
        if filled == 0 {
            break;
        }
        total += filled as u64;
        let mut at = 0;
        for line in raw[..filled].chunks(B64_LINE) {
            let n = STANDARD
                .encode_slice(line, &mut encoded[at..])
                .map_err(|e| io::Error::other(e.to_string()))?;
            encoded[at + n..at + n + 2].copy_from_slice(b"\r\n");
            at += n + 2;
        }
        out.write_all(&encoded[..at])?;
        if filled < raw.len() {
            break;
        }
    }
    Ok(total)
}

/// Reads until `buf` is full or the input ends; returns how much was read.
fn fill<R: Read>(input: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// What a scan of raw message bytes found: whether they can go as 7bit or 8bit lines.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct LineScan {
    pub(crate) eight_bit: bool,
    pub(crate) long_line: bool,
    pub(crate) nul: bool,
}

/// Scans a stream for 8-bit bytes, NUL and lines over 998 octets, in constant memory.
pub(crate) fn scan_lines<R: Read>(mut input: R) -> io::Result<LineScan> {
    let mut scan = LineScan::default();
    let mut buf = vec![0u8; 64 * 1024];
    let mut col = 0usize;
    loop {
        let n = fill(&mut input, &mut buf)?;
        for &b in &buf[..n] {
            match b {
                b'\n' | b'\r' => col = 0,
                0 => scan.nul = true,
                _ => {
                    col += 1;
                    scan.eight_bit |= b >= 0x80;
                    scan.long_line |= col > MAX_LINE;
                }
            }
        }
        if n < buf.len() {
            return Ok(scan);
        }
    }
}

/// Copies a stream, turning every LF, CR or CRLF into CRLF and ending with a line break.
pub(crate) fn copy_crlf<R: Read, W: Write>(mut input: R, out: &mut W) -> io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending_cr = false;
    let mut last = b'\n';
    loop {
        let n = fill(&mut input, &mut buf)?;
        let mut start = 0;
        for i in 0..n {
            let b = buf[i];
            if pending_cr {
                pending_cr = false;
                if b == b'\n' {
                    start = i + 1;
                    last = b'\n';
                    continue;
                }
            }
            if b == b'\r' || b == b'\n' {
                out.write_all(&buf[start..i])?;
                out.write_all(b"\r\n")?;
                start = i + 1;
                pending_cr = b == b'\r';
            }
            last = b;
        }
        out.write_all(&buf[start..n])?;
        if n < buf.len() {
            break;
        }
    }
    if last != b'\n' && last != b'\r' {
        out.write_all(b"\r\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qp(text: &str) -> String {
        let mut out = Vec::new();
        write_text(&mut out, &normalize_text(text), Cte::QuotedPrintable).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The quoted-printable rules one byte at a time: the reference the run-copying encoder
    /// must match.
    fn qp_reference(line: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut col = 0;
        for (i, &b) in line.iter().enumerate() {
            let last = i + 1 == line.len();
            let literal = match b {
                b' ' | b'\t' => !last,
                b'=' => false,
                33..=126 => true,
                _ => false,
            };
            let width = if literal { 1 } else { 3 };
            if col + width > if last { QP_LINE } else { QP_LINE - 1 } {
                out.extend_from_slice(b"=\r\n");
                col = 0;
            }
            if literal {
                out.push(b);
            } else {
                out.extend_from_slice(format!("={b:02X}").as_bytes());
            }
            col += width;
        }
        out
    }

    #[test]
    fn quoted_printable_runs_encode_as_byte_by_byte() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut random = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..3000 {
            let len = (random() % 200) as usize;
            let line: Vec<u8> = (0..len)
                .map(|_| b"aaaaaaaa= \t\xc3\x7f."[(random() % 13) as usize])
                .collect();
            let mut out = Vec::new();
            encode_qp_line(&mut out, &line);
            assert_eq!(out, qp_reference(&line), "line {line:?}");
        }
    }

    #[test]
    fn quoted_printable_escapes_and_keeps_lines_short() {
        assert_eq!(qp("Grüße = gut \n"), "Gr=C3=BC=C3=9Fe =3D gut=20\r\n");
        let long = qp(&"a".repeat(200));
        assert!(long.split("\r\n").all(|l| l.len() <= 76));
        assert_eq!(
            long.replace("=\r\n", ""),
            format!("{}\r\n", "a".repeat(200))
        );
        let euros = qp(&"€".repeat(30));
        assert!(
            euros
                .split("\r\n")
                .all(|l| l.len() <= 76 && !l.ends_with("=E"))
        );
    }

    #[test]
    fn encoding_choice_follows_content_and_permission() {
        assert_eq!(text_encoding("plain\n", false), Cte::SevenBit);
        assert_eq!(text_encoding("grün\n", false), Cte::QuotedPrintable);
        assert_eq!(text_encoding("grün\n", true), Cte::EightBit);
        assert_eq!(
            text_encoding(&format!("{}\n", "a".repeat(999)), true),
            Cte::QuotedPrintable
        );
        assert_eq!(text_encoding("a\0b\n", true), Cte::QuotedPrintable);
    }

    #[test]
    fn base64_lines_are_76_characters_and_decode_back() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut out = Vec::new();
        assert_eq!(
            write_base64(&data[..], &mut out).unwrap(),
            data.len() as u64
        );
        let text = String::from_utf8(out).unwrap();
        assert!(text.split("\r\n").all(|l| l.len() <= 76));
        assert_eq!(STANDARD.decode(text.replace("\r\n", "")).unwrap(), data);
    }

    #[test]
    fn line_breaks_become_crlf() {
        let mut out = Vec::new();
        copy_crlf(&b"a\nb\r\nc\rd"[..], &mut out).unwrap();
        assert_eq!(out, b"a\r\nb\r\nc\r\nd\r\n");
        let scan = scan_lines(&b"x\xc3\xa4\n"[..]).unwrap();
        assert!(scan.eight_bit && !scan.long_line && !scan.nul);
    }
}

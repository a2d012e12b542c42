//! Message content encoders: line endings to CRLF, dot-stuffing and the terminator.

/// Streams message bytes with any line endings into wire form.
///
/// Bare CR, bare LF and CRLF all become CRLF. With dot-stuffing (DATA), a line starting with a
/// dot gets a second dot, the first line included; `finish` adds a missing final CRLF and, for
/// DATA, the terminating `.` line.
#[derive(Debug, Clone)]
pub(crate) struct BodyEncoder {
    dot_stuff: bool,
    at_line_start: bool,
    pending_cr: bool,
}

impl BodyEncoder {
    /// An encoder for DATA (`dot_stuff` true) or BDAT (false).
    pub(crate) fn new(dot_stuff: bool) -> BodyEncoder {
        BodyEncoder {
            dot_stuff,
            at_line_start: true,
            pending_cr: false,
        }
    }

    /// Encodes a chunk of input, appending to `out`.
    pub(crate) fn encode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        out.reserve(input.len() + input.len() / 32 + 4);
        let mut rest = input;
        while !rest.is_empty() {
            if self.pending_cr {
                self.pending_cr = false;
                out.extend_from_slice(b"\r\n");
                self.at_line_start = true;
                if rest[0] == b'\n' {
                    rest = &rest[1..];
                    continue;
                }
            }
            // Everything up to the next line break is copied as it is, after a stuffed dot.
            let end = memchr::memchr2(b'\r', b'\n', rest).unwrap_or(rest.len());
            let (run, tail) = rest.split_at(end);
            if !run.is_empty() {
                if self.at_line_start && run[0] == b'.' && self.dot_stuff {
                    out.push(b'.');
                }
                out.extend_from_slice(run);
                self.at_line_start = false;
            }
            match tail.first() {
                Some(b'\r') => self.pending_cr = true,
                Some(_) => {
                    out.extend_from_slice(b"\r\n");
                    self.at_line_start = true;
                }
                None => {}
            }
            rest = tail.get(1..).unwrap_or_default();
        }
    }

    /// Ends the content: a final CRLF when missing, then `.` CRLF for DATA.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        if self.pending_cr || !self.at_line_start {
            out.extend_from_slice(b"\r\n");
        }
        self.pending_cr = false;
        self.at_line_start = true;
        if self.dot_stuff {
            out.extend_from_slice(b".\r\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(input: &[u8]) -> Vec<u8> {
        let mut enc = BodyEncoder::new(true);
        let mut out = Vec::new();
        enc.encode(input, &mut out);
        enc.finish(&mut out);
        out
    }

    /// The encoder's rules one byte at a time: the reference the run-copying encoder must
    /// match.
    fn reference(input: &[u8]) -> Vec<u8> {
        let (mut out, mut line_start, mut cr) = (Vec::new(), true, false);
        for &b in input {
            if cr {
                cr = false;
                out.extend_from_slice(b"\r\n");
                line_start = true;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\r' => cr = true,
                b'\n' => {
                    out.extend_from_slice(b"\r\n");
                    line_start = true;
                }
                _ => {
                    if line_start && b == b'.' {
                        out.push(b'.');
                    }
                    out.push(b);
                    line_start = false;
                }
            }
        }
        if cr || !line_start {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b".\r\n");
        out
    }

    #[test]
    fn runs_between_line_breaks_encode_as_byte_by_byte_whatever_the_chunking() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut random = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..2000 {
            let len = (random() % 40) as usize;
            let input: Vec<u8> = (0..len)
                .map(|_| b"\r\n.ab"[(random() % 5) as usize])
                .collect();
            let mut enc = BodyEncoder::new(true);
            let mut out = Vec::new();
            let mut rest = &input[..];
            while !rest.is_empty() {
                let take = 1 + (random() as usize) % rest.len();
                enc.encode(&rest[..take], &mut out);
                rest = &rest[take..];
            }
            enc.finish(&mut out);
            assert_eq!(out, reference(&input), "input {input:?}");
        }
    }

    #[test]
    fn dot_stuffing_and_line_ending_table() {
        let table: &[(&[u8], &[u8])] = &[
            (b"", b".\r\n"),
            (b"a", b"a\r\n.\r\n"),
            (b"a\r\n", b"a\r\n.\r\n"),
            (b".", b"..\r\n.\r\n"),
            (b".a\r\n.\r\nb", b"..a\r\n..\r\nb\r\n.\r\n"),
            (b"a\nb\n", b"a\r\nb\r\n.\r\n"),
            (b"a\rb\r", b"a\r\nb\r\n.\r\n"),
            (b"a\r\r\nb", b"a\r\n\r\nb\r\n.\r\n"),
            (b"a\n.\n", b"a\r\n..\r\n.\r\n"),
            (b"a\r.b", b"a\r\n..b\r\n.\r\n"),
            (b"x.y", b"x.y\r\n.\r\n"),
        ];
        for (input, expected) in table {
            assert_eq!(
                String::from_utf8_lossy(&data(input)),
                String::from_utf8_lossy(expected),
                "input {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn split_input_gives_the_same_bytes() {
        let input = b".a\r\n.\rb\r\n\r\n.c\nd";
        let whole = data(input);
        for cut in 0..input.len() {
            let mut enc = BodyEncoder::new(true);
            let mut out = Vec::new();
            enc.encode(&input[..cut], &mut out);
            enc.encode(&input[cut..], &mut out);
            enc.finish(&mut out);
            assert_eq!(out, whole, "cut at {cut}");
        }
    }

    #[test]
    fn bdat_mode_normalises_without_stuffing() {
        let mut enc = BodyEncoder::new(false);
        let mut out = Vec::new();
        enc.encode(b".a\nb", &mut out);
        enc.finish(&mut out);
        assert_eq!(out, b".a\r\nb\r\n");
    }
}

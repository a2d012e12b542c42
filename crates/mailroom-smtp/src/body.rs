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
        for &b in input {
            if self.pending_cr {
                self.pending_cr = false;
                out.extend_from_slice(b"\r\n");
                self.at_line_start = true;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\r' => self.pending_cr = true,
                b'\n' => {
                    out.extend_from_slice(b"\r\n");
                    self.at_line_start = true;
                }
                _ => {
                    if self.at_line_start && b == b'.' && self.dot_stuff {
                        out.push(b'.');
                    }
                    out.push(b);
                    self.at_line_start = false;
                }
            }
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

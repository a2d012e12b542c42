//! Deterministic message content for the crash and lease tests, shared by the harness binary and
//! the tests that check what it wrote.

use std::io::{self, Read};

/// The subject of message number `seq`.
pub fn subject(seq: u64) -> String {
    format!("crash-test message {seq}")
}

/// The length of message `seq`'s body: 2 KiB, give or take; every 97th spans several chunks and
/// every 250th is large enough to be staged ahead of its entry.
pub fn body_len(seq: u64) -> u64 {
    if seq % 250 == 125 {
        1_500_000 + seq % 1000
    } else if seq.is_multiple_of(97) {
        200_000 + seq % 1000
    } else {
        2048 + seq % 61
    }
}

/// Byte `i` of message `seq`'s body.
pub fn body_byte(seq: u64, i: u64) -> u8 {
    (seq.wrapping_mul(2_654_435_761)
        .wrapping_add(i.wrapping_mul(40_503))
        >> 7) as u8
}

/// Yields `len` bytes of message `seq`'s body without holding them in memory.
pub struct Body {
    seq: u64,
    pos: u64,
    len: u64,
}

impl Body {
    /// The body of message `seq`, `len` bytes long.
    pub fn new(seq: u64, len: u64) -> Self {
        Body { seq, pos: 0, len }
    }
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min((self.len - self.pos) as usize);
        for (k, b) in buf[..n].iter_mut().enumerate() {
            *b = body_byte(self.seq, self.pos + k as u64);
        }
        self.pos += n as u64;
        Ok(n)
    }
}

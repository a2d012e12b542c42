//! Message content inside a transaction: DATA blocks, BDAT chunks, and aborting.

use super::txn::Expect;
use super::{Core, State};
use crate::error::{Error, Phase};
use crate::event::Direction;

impl Core {
    /// Appends a piece of DATA content (any line endings).
    pub(crate) fn body_data(&mut self, input: &[u8]) {
        let Some(txn) = self.txn.as_mut() else { return };
        if txn.chunking || !txn.expect.is_empty() {
            return;
        }
        if let Some(encoder) = txn.body.as_mut() {
            let before = self.out.len();
            encoder.encode(input, &mut self.out);
            txn.body_bytes += (self.out.len() - before) as u64;
        }
    }

    /// Ends DATA content: final CRLF if missing, then the `.` line.
    pub(crate) fn body_end(&mut self) {
        let Some(txn) = self.txn.as_mut() else { return };
        if txn.chunking || !txn.expect.is_empty() {
            return;
        }
        if let Some(mut encoder) = txn.body.take() {
            let before = self.out.len();
            encoder.finish(&mut self.out);
            // Content bytes include a final CRLF that `finish` added, not the `.` line.
            let bytes = txn.body_bytes + (self.out.len() - before - 3) as u64;
            txn.expect.push_back(Expect::DataEnd);
            self.transcript(
                Direction::Client,
                &format!("[message content: {bytes} bytes]"),
            );
            self.transcript(Direction::Client, ".");
        }
    }

    /// Sends one BDAT chunk (any line endings); `last` ends the content.
    pub(crate) fn bdat_chunk(&mut self, input: &[u8], last: bool) {
        let Some(txn) = self.txn.as_mut() else { return };
        if !txn.chunking || !txn.expect.is_empty() {
            return;
        }
        let Some(encoder) = txn.body.as_mut() else {
            return;
        };
        let mut chunk = Vec::with_capacity(input.len() + input.len() / 32 + 2);
        encoder.encode(input, &mut chunk);
        if last {
            encoder.finish(&mut chunk);
            txn.body = None;
            txn.expect.push_back(Expect::DataEnd);
        } else {
            txn.expect.push_back(Expect::Bdat);
        }
        let line = format!("BDAT {}{}", chunk.len(), if last { " LAST" } else { "" });
        self.write_command(&line, None);
        self.transcript(
            Direction::Client,
            &format!("[message content: {} bytes]", chunk.len()),
        );
        self.out.extend_from_slice(&chunk);
    }

    /// Reading the caller's content failed mid-transaction: the connection must be dropped
    /// without ending the content, so the server discards it.
    pub(crate) fn body_failed(&mut self, source: std::io::Error) {
        self.txn = None;
        self.state = State::Closed;
        self.out.clear();
        self.outcomes.push_back(Err(Error::Io {
            phase: Phase::Message,
            source,
        }));
    }
}

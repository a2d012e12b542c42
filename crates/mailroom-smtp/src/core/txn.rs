//! One mail transaction: MAIL, RCPT per recipient, DATA or BDAT, and RSET.

use std::collections::VecDeque;

use super::{Core, State, Wait};
use crate::body::BodyEncoder;
use crate::delivery::{DataOutcome, Delivery, RecipientOutcome, RecipientStatus};
use crate::envelope::Envelope;
use crate::error::{Error, Phase};
use crate::event::{Event, SessionState};
use crate::reply::Reply;

/// How the transport streams the content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyMode {
    /// DATA: dot-stuffed, ended by the `.` line.
    Data,
    /// BDAT chunks (RFC 3030).
    Bdat,
}

/// A reply the transaction still waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Expect {
    Rset,
    Mail,
    Rcpt(usize),
    Data,
    Bdat,
    DataEnd,
    /// The reply to a `.` sent only to close a DATA that no recipient wanted.
    Discard,
    /// RSET after a failed transaction; its reply ends the transaction.
    RsetAfter,
}

impl Expect {
    fn phase(self) -> Phase {
        match self {
            Expect::Rset | Expect::RsetAfter => Phase::Rset,
            Expect::Mail => Phase::MailFrom,
            Expect::Rcpt(_) => Phase::RcptTo,
            Expect::Data => Phase::Data,
            Expect::Bdat => Phase::Bdat,
            Expect::DataEnd | Expect::Discard => Phase::DataEnd,
        }
    }
}

pub(super) struct Txn {
    pub(super) recipients: Vec<String>,
    pub(super) mail_line: Option<String>,
    pub(super) rcpt_lines: Vec<String>,
    pub(super) outcomes: Vec<Option<RecipientOutcome>>,
    pub(super) expect: VecDeque<Expect>,
    pub(super) next_rcpt: usize,
    pub(super) chunking: bool,
    pub(super) data_sent: bool,
    pub(super) mail_error: Option<Error>,
    pub(super) data: Option<DataOutcome>,
    pub(super) body: Option<BodyEncoder>,
    pub(super) body_bytes: u64,
    pub(super) rset_sent: bool,
    /// The reply that ends the transaction on the server's side came in: any reply to the final
    /// dot (RFC 5321 section 4.1.1.4), or a successful one to BDAT LAST. Nothing to reset.
    pub(super) ended: bool,
}

impl Txn {
    pub(super) fn wait(&self) -> Wait {
        if self.body.is_some() && self.expect.is_empty() {
            return Wait::Body(if self.chunking {
                BodyMode::Bdat
            } else {
                BodyMode::Data
            });
        }
        match self.expect.front() {
            Some(expect) => Wait::Reply(expect.phase()),
            None => Wait::Ready,
        }
    }

    fn any_accepted(&self) -> bool {
        self.outcomes
            .iter()
            .flatten()
            .any(|o| o.status == RecipientStatus::Accepted)
    }

    pub(super) fn delivery(self, data: DataOutcome) -> Delivery {
        let recipients = self.outcomes.into_iter().flatten().collect();
        Delivery { recipients, data }
    }

    /// The result once every reply that decides it has arrived.
    pub(super) fn result(mut self) -> Result<Delivery, Error> {
        match self.mail_error.take() {
            Some(error) => Err(error),
            None => {
                let data = self.data.take().unwrap_or(DataOutcome::NotAttempted);
                Ok(self.delivery(data))
            }
        }
    }

    /// The link failed: after the final dot the outcome is unknown; while resetting after a
    /// failed transaction the result is already known; before that it is an error.
    pub(super) fn link_lost(self, error: Error) -> Result<Delivery, Error> {
        match self.expect.front() {
            Some(Expect::DataEnd) => Ok(self.delivery(DataOutcome::Unknown(error))),
            Some(Expect::RsetAfter) => self.result(),
            _ => Err(error),
        }
    }
}

impl Core {
    /// Starts a transaction, from the ready state or behind one whose final reply is still due
    /// ([`Core::can_begin_behind`]). Every check runs before anything is written: an `Err` here
    /// means nothing was sent and the session is unchanged.
    pub(crate) fn begin(&mut self, envelope: &Envelope, size: Option<u64>) -> Result<(), Error> {
        let behind = self.can_begin_behind();
        if !matches!(self.state, State::Ready) && !behind {
            return Err(Error::Closed {
                phase: Phase::MailFrom,
                reply: None,
            });
        }
        let (mail_line, rcpt_lines) = self.prepare(envelope, size)?;
        let caps = &self.caps;
        let pipelined = caps.pipelining() && !self.config.disable.pipelining;
        let chunking = caps.chunking() && !self.config.disable.chunking;
        let n = rcpt_lines.len();
        let mut txn = Txn {
            recipients: envelope.recipients.clone(),
            mail_line: Some(mail_line),
            rcpt_lines,
            outcomes: vec![None; n],
            expect: VecDeque::with_capacity(n + 3),
            next_rcpt: 0,
            chunking,
            data_sent: false,
            mail_error: None,
            data: None,
            body: None,
            body_bytes: 0,
            rset_sent: false,
            ended: false,
        };
        self.events.push(Event::State(SessionState::Sending));
        if behind {
            // The transaction ahead ends with its final reply, before this group is read.
            let previous = self.txn.take();
            let after_bdat = previous.as_ref().is_some_and(|p| p.chunking);
            self.previous = previous;
            if after_bdat {
                // RFC 3030 calls a transaction failed after a failed BDAT reply but never says
                // the server forgets it, even for LAST; this group leaves before that reply is
                // known, so it starts with RSET. Behind a final dot none is needed: the reply
                // to the dot ends the transaction, whatever it says.
                self.write_command("RSET", None);
                txn.expect.push_back(Expect::Rset);
            }
        }
        if pipelined {
            // RFC 2920: one group, DATA last; every reply is read and checked in order.
            let mail = txn.mail_line.take().unwrap_or_default();
            self.write_command(&mail, None);
            txn.expect.push_back(Expect::Mail);
            for i in 0..n {
                let line = std::mem::take(&mut txn.rcpt_lines[i]);
                self.write_command(&line, None);
                txn.expect.push_back(Expect::Rcpt(i));
            }
            txn.next_rcpt = n;
            if !chunking {
                self.write_command("DATA", None);
                txn.expect.push_back(Expect::Data);
                txn.data_sent = true;
            }
        }
        self.txn = Some(txn);
        self.state = State::Transaction;
        self.advance();
        Ok(())
    }

    pub(super) fn on_txn_reply(&mut self, reply: Reply) {
        if let Some(previous) = self.previous.take() {
            self.on_previous_reply(previous, reply);
            return;
        }
        let Some(txn) = self.txn.as_mut() else { return };
        let Some(expect) = txn.expect.pop_front() else {
            return;
        };
        if reply.code == 421 {
            // The server is closing: nothing more can happen in this session.
            if expect == Expect::RsetAfter {
                // The transaction's result was settled before the RSET.
                self.finish();
                self.state = State::Closed;
                return;
            }
            let txn = self.txn.take();
            self.state = State::Closed;
            self.outcomes.push_back(match txn {
                Some(txn) if expect == Expect::DataEnd => {
                    Ok(txn.delivery(DataOutcome::Rejected(reply)))
                }
                _ => Err(Error::Closed {
                    phase: expect.phase(),
                    reply: Some(reply),
                }),
            });
            return;
        }
        match expect {
            Expect::Rset => {
                // Only behind a last BDAT chunk. A server that refuses this RSET either forgot
                // the transaction ahead or still holds it: MAIL's own reply decides.
                if !reply.is_positive() {
                    tracing::debug!(code = reply.code, "RSET between transactions refused");
                }
            }
            Expect::Mail => {
                if !reply.is_positive() && txn.mail_error.is_none() {
                    txn.mail_error = Some(Error::Rejected {
                        phase: Phase::MailFrom,
                        reply,
                    });
                }
            }
            Expect::Rcpt(i) => {
                if txn.mail_error.is_none() {
                    let status = if reply.is_positive() {
                        RecipientStatus::Accepted
                    } else if reply.is_permanent() {
                        RecipientStatus::Rejected
                    } else {
                        RecipientStatus::Deferred
                    };
                    let address = txn.recipients[i].clone();
                    txn.outcomes[i] = Some(RecipientOutcome {
                        address,
                        status,
                        reply,
                    });
                }
            }
            Expect::Data => {
                let wanted = txn.mail_error.is_none() && txn.any_accepted();
                if reply.code == 354 && wanted {
                    txn.body = Some(BodyEncoder::new(true));
                } else if reply.code == 354 {
                    // A server that says 354 with no recipient gets an empty message ended
                    // at once; nobody receives it.
                    txn.expect.push_back(Expect::Discard);
                    self.write_command(".", None);
                    return;
                } else if wanted {
                    txn.data = Some(DataOutcome::Rejected(reply));
                }
            }
            Expect::Bdat => {
                if !reply.is_positive() {
                    txn.data = Some(DataOutcome::Rejected(reply));
                    txn.body = None;
                }
            }
            Expect::DataEnd => {
                // A failed reply to BDAT LAST is not taken as the end: RFC 3030 leaves open
                // whether the server dropped the transaction, so RSET follows it.
                txn.ended = !txn.chunking || reply.is_positive();
                txn.data = Some(if reply.is_positive() {
                    DataOutcome::Accepted(reply)
                } else {
                    DataOutcome::Rejected(reply)
                });
            }
            // A server that said 354 with no recipient has strayed already: RSET follows.
            Expect::Discard => {}
            Expect::RsetAfter => {
                self.finish();
                return;
            }
        }
        self.advance();
    }

    /// With no reply pending, sends the next command or ends the transaction.
    fn advance(&mut self) {
        let Some(txn) = self.txn.as_mut() else { return };
        if !txn.expect.is_empty() || (txn.body.is_some() && txn.data.is_none()) {
            return;
        }
        if let Some(mail) = txn.mail_line.take() {
            txn.expect.push_back(Expect::Mail);
            self.write_command(&mail, None);
            return;
        }
        let failed = txn.mail_error.is_some()
            || matches!(txn.data, Some(DataOutcome::Rejected(_)))
            || (txn.next_rcpt >= txn.rcpt_lines.len() && !txn.any_accepted());
        if !failed && txn.next_rcpt < txn.rcpt_lines.len() {
            let i = txn.next_rcpt;
            txn.next_rcpt += 1;
            txn.expect.push_back(Expect::Rcpt(i));
            let line = std::mem::take(&mut txn.rcpt_lines[i]);
            self.write_command(&line, None);
            return;
        }
        if !failed && txn.data.is_none() {
            if txn.chunking {
                txn.body = Some(BodyEncoder::new(false));
            } else if !txn.data_sent {
                txn.data_sent = true;
                txn.expect.push_back(Expect::Data);
                self.write_command("DATA", None);
            }
            return;
        }
        // Reset only a transaction the server may still hold: one that failed before a reply
        // that ends it.
        if failed && !txn.ended && !txn.rset_sent {
            txn.rset_sent = true;
            txn.expect.push_back(Expect::RsetAfter);
            self.write_command("RSET", None);
            self.events.push(Event::State(SessionState::Resetting));
            return;
        }
        self.finish();
    }

    fn finish(&mut self) {
        let Some(txn) = self.txn.take() else {
            return;
        };
        self.state = State::Ready;
        self.events.push(Event::State(SessionState::Ready));
        self.outcomes.push_back(txn.result());
    }
}

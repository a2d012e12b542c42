//! One mail transaction: MAIL, RCPT per recipient, DATA or BDAT, and RSET.

use std::collections::VecDeque;

use super::{Core, State, Wait};
use crate::body::BodyEncoder;
use crate::delivery::{DataOutcome, Delivery, RecipientOutcome, RecipientStatus};
use crate::envelope::{DsnNotify, DsnReturn, Envelope, check_argument, orcpt, wire_address, xtext};
use crate::error::{Error, Phase};
use crate::event::{Direction, Event, SessionState};
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
enum Expect {
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
    recipients: Vec<String>,
    mail_line: Option<String>,
    rcpt_lines: Vec<String>,
    outcomes: Vec<Option<RecipientOutcome>>,
    expect: VecDeque<Expect>,
    next_rcpt: usize,
    chunking: bool,
    data_sent: bool,
    mail_error: Option<Error>,
    data: Option<DataOutcome>,
    body: Option<BodyEncoder>,
    body_bytes: u64,
    rset_sent: bool,
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

    fn delivery(self, data: DataOutcome) -> Delivery {
        let recipients = self.outcomes.into_iter().flatten().collect();
        Delivery { recipients, data }
    }

    /// The link failed: after the final dot the outcome is unknown, before it an error.
    pub(super) fn link_lost(self, error: Error) -> Result<Delivery, Error> {
        if self.expect.front() == Some(&Expect::DataEnd) {
            Ok(self.delivery(DataOutcome::Unknown(error)))
        } else {
            Err(error)
        }
    }
}

fn dsn_notify(notify: &[DsnNotify]) -> Result<String, Error> {
    if notify.contains(&DsnNotify::Never) && notify.len() > 1 {
        return Err(Error::input(
            "DSN NOTIFY=NEVER cannot be combined with other values",
        ));
    }
    let names: Vec<&str> = notify
        .iter()
        .map(|n| match n {
            DsnNotify::Never => "NEVER",
            DsnNotify::Success => "SUCCESS",
            DsnNotify::Failure => "FAILURE",
            DsnNotify::Delay => "DELAY",
        })
        .collect();
    Ok(names.join(","))
}

impl Core {
    /// Starts a transaction. Every check runs before anything is written: an `Err` here means
    /// nothing was sent and the session is unchanged.
    pub(crate) fn begin(&mut self, envelope: &Envelope, size: Option<u64>) -> Result<(), Error> {
        if !matches!(self.state, State::Ready) {
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
        };
        self.events.push(Event::State(SessionState::Sending));
        if self.rset_due {
            self.write_command("RSET", None);
            txn.expect.push_back(Expect::Rset);
            self.rset_due = false;
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

    fn prepare(
        &self,
        envelope: &Envelope,
        size: Option<u64>,
    ) -> Result<(String, Vec<String>), Error> {
        if envelope.recipients.is_empty() {
            return Err(Error::input("the envelope has no recipient"));
        }
        let from = wire_address("sender", &envelope.from)?;
        let rcpts = envelope
            .recipients
            .iter()
            .map(|r| {
                if r.is_empty() {
                    Err(Error::input("empty recipient"))
                } else {
                    wire_address("recipient", r)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let disable = self.config.disable;
        let caps = &self.caps;
        let utf8_local = std::iter::once(&from).chain(&rcpts).find(|a| a.needs_utf8);
        let mut mail = format!("MAIL FROM:<{}>", from.text);
        if utf8_local.is_some() || envelope.smtputf8 {
            if !caps.smtputf8() || disable.smtputf8 {
                return Err(Error::Unsupported {
                    message: match utf8_local {
                        Some(a) => format!("SMTPUTF8 is needed for the address {:?}", a.text),
                        None => "SMTPUTF8 is needed for the message headers".into(),
                    },
                });
            }
            mail.push_str(" SMTPUTF8");
        }
        if envelope.body_8bit {
            if !caps.eight_bit_mime() || disable.eight_bit_mime {
                return Err(Error::Unsupported {
                    message: "8BITMIME is needed for the content".into(),
                });
            }
            mail.push_str(" BODY=8BITMIME");
        }
        if let (Some(limit), Some(size)) = (caps.size_limit(), size)
            && size > limit
        {
            return Err(Error::TooLarge { size, limit });
        }
        if let Some(size) = size.filter(|_| caps.size() && !disable.size) {
            mail.push_str(&format!(" SIZE={size}"));
        }
        if envelope.require_tls {
            if !self.tls_active || !caps.require_tls() {
                return Err(Error::Unsupported {
                    message: "REQUIRETLS was asked for".into(),
                });
            }
            mail.push_str(" REQUIRETLS");
        }
        let dsn = envelope.dsn.as_ref().filter(|_| caps.dsn() && !disable.dsn);
        let mut notify = String::new();
        if let Some(dsn) = dsn {
            match dsn.ret {
                Some(DsnReturn::Full) => mail.push_str(" RET=FULL"),
                Some(DsnReturn::Headers) => mail.push_str(" RET=HDRS"),
                None => {}
            }
            if let Some(envid) = &dsn.envid {
                check_argument("ENVID", envid)?;
                mail.push_str(&format!(" ENVID={}", xtext(envid)));
            }
            if !dsn.notify.is_empty() {
                notify = format!(" NOTIFY={}", dsn_notify(&dsn.notify)?);
            }
        }
        let rcpt_lines = rcpts
            .iter()
            .zip(&envelope.recipients)
            .map(|(wire, original)| {
                let mut line = format!("RCPT TO:<{}>{notify}", wire.text);
                if dsn.is_some_and(|d| d.orcpt) {
                    line.push_str(&format!(" ORCPT={}", orcpt(original)));
                }
                line
            })
            .collect();
        Ok((mail, rcpt_lines))
    }

    pub(super) fn on_txn_reply(&mut self, reply: Reply) {
        let Some(txn) = self.txn.as_mut() else { return };
        let Some(expect) = txn.expect.pop_front() else {
            return;
        };
        if reply.code == 421 {
            // The server is closing: nothing more can happen in this session.
            let txn = self.txn.take();
            self.state = State::Closed;
            self.outcome = Some(match txn {
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
                if !reply.is_positive() && txn.mail_error.is_none() {
                    txn.mail_error = Some(Error::Rejected {
                        phase: Phase::Rset,
                        reply,
                    });
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
                txn.data = Some(if reply.is_positive() {
                    DataOutcome::Accepted(reply)
                } else {
                    DataOutcome::Rejected(reply)
                });
            }
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
        if failed && !txn.rset_sent {
            txn.rset_sent = true;
            txn.expect.push_back(Expect::RsetAfter);
            self.write_command("RSET", None);
            self.events.push(Event::State(SessionState::Resetting));
            return;
        }
        self.finish();
    }

    fn finish(&mut self) {
        let Some(mut txn) = self.txn.take() else {
            return;
        };
        self.rset_due = !txn.rset_sent;
        self.state = State::Ready;
        self.events.push(Event::State(SessionState::Ready));
        self.outcome = Some(match txn.mail_error.take() {
            Some(error) => Err(error),
            None => {
                let data = txn.data.take().unwrap_or(DataOutcome::NotAttempted);
                Ok(txn.delivery(data))
            }
        });
    }

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
        self.outcome = Some(Err(Error::Io {
            phase: Phase::Message,
            source,
        }));
    }
}

//! Pipelining across transactions (RFC 2920 section 3.1, RFC 3030): the next transaction's
//! MAIL, RCPT and DATA leave in the same write as the previous message's final `.` (or RSET,
//! MAIL and RCPT behind its last BDAT chunk), before its reply. Replies still come in order:
//! the previous final reply first, then the new group's.

use super::txn::{Expect, Txn};
use super::{Core, State};
use crate::delivery::DataOutcome;
use crate::error::{Error, Phase};
use crate::reply::Reply;

impl Core {
    /// Whether [`Core::begin`] may start the next transaction now, behind the current one: the
    /// server offers PIPELINING (not disabled), the current transaction has sent all its
    /// content and waits only for the reply to its final dot or last BDAT chunk, and nothing
    /// else is pipelined.
    pub(crate) fn can_begin_behind(&self) -> bool {
        let pipelining = self.caps.pipelining() && !self.config.disable.pipelining;
        pipelining
            && matches!(self.state, State::Transaction)
            && self.previous.is_none()
            && self.txn.as_ref().is_some_and(|txn| {
                txn.body.is_none()
                    && txn.expect.len() == 1
                    && txn.expect.front() == Some(&Expect::DataEnd)
            })
    }

    /// The final reply of the transaction ahead. It settles that transaction alone; the one
    /// behind carries on, unless the server is closing (421), which it cannot survive.
    pub(super) fn on_previous_reply(&mut self, mut previous: Txn, reply: Reply) {
        if reply.code == 421 {
            self.outcomes
                .push_back(Ok(previous.delivery(DataOutcome::Rejected(reply.clone()))));
            if self.txn.take().is_some() {
                self.outcomes.push_back(Err(Error::Closed {
                    phase: Phase::MailFrom,
                    reply: Some(reply),
                }));
            }
            self.state = State::Closed;
            return;
        }
        previous.data = Some(if reply.is_positive() {
            DataOutcome::Accepted(reply)
        } else {
            DataOutcome::Rejected(reply)
        });
        // Nothing to reset for it: the reply to a final dot ended it, and the group behind a
        // last BDAT chunk began with RSET.
        self.outcomes.push_back(previous.result());
    }

    /// The link failed during a transaction: settles the one ahead (its outcome is unknown
    /// after the final dot) and the one behind it, whose content was never sent.
    pub(super) fn settle_lost(&mut self, error: Error) {
        let txn = self.txn.take();
        match (self.previous.take(), txn) {
            (Some(previous), txn) => {
                self.outcomes.push_back(previous.link_lost(error));
                if txn.is_some() {
                    self.outcomes.push_back(Err(Error::Closed {
                        phase: Phase::MailFrom,
                        reply: None,
                    }));
                }
            }
            (None, Some(txn)) => self.outcomes.push_back(txn.link_lost(error)),
            (None, None) => self.outcomes.push_back(Err(error)),
        }
    }
}

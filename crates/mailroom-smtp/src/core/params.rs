//! MAIL and RCPT lines: address checks and extension parameters, all before any write.

use super::Core;
use crate::envelope::{DsnNotify, DsnReturn, Envelope, check_argument, orcpt, wire_address, xtext};
use crate::error::Error;

impl Core {
    pub(super) fn prepare(
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

//! Entry points for the fuzz targets; not part of the supported API.

use crate::config::{Credentials, Disabled, Mechanism, TlsMode};
use crate::core::{Core, CoreConfig, LinkLoss, Wait};
use crate::envelope::Envelope;
use crate::reply::ReplyParser;

/// Feeds arbitrary bytes to the reply parser; returns how many replies came out.
pub fn parse_replies(data: &[u8]) -> usize {
    let mut parser = ReplyParser::default();
    let mut count = 0;
    for piece in data.chunks(97) {
        parser.push(piece);
        loop {
            match parser.next_reply() {
                Ok(Some(reply)) => {
                    assert!((200..600).contains(&reply.code));
                    count += 1;
                }
                Ok(None) => break,
                Err(_) => return count,
            }
        }
        assert!(parser.buffered_len() <= crate::reply::MAX_LINE + 97);
    }
    count
}

/// Drives a whole session core (open, three transactions, QUIT) with arbitrary server bytes.
/// The first byte picks settings (bit 32: each transaction pipelined behind the previous final
/// dot when it can be); the rest is cut into reads at each 0xff byte. Every transaction begun
/// must get exactly one outcome. Returns how many messages the server accepted.
pub fn drive_session(data: &[u8]) -> usize {
    let Some((&flags, rest)) = data.split_first() else {
        return 0;
    };
    let mut accepted = 0;
    let config = CoreConfig {
        ehlo_name: "client.example".into(),
        tls: if flags & 1 == 0 {
            TlsMode::StartTls
        } else {
            TlsMode::None
        },
        credentials: (flags & 2 != 0).then(|| Credentials::new("user", "pass")),
        mechanisms: (flags & 4 != 0).then(|| Mechanism::ALL.to_vec()),
        disable: Disabled {
            chunking: flags & 8 != 0,
            ..Disabled::default()
        },
        transcript: None,
        nonce: "fuzznonce".into(),
    };
    let mut core = Core::new(config, false);
    let mut envelope = Envelope::new("a@example.org", ["b@example.org", "c@example.org"]);
    envelope.body_8bit = flags & 16 != 0;
    let behind = flags & 32 != 0;
    let mut transactions = 0;
    let mut begun = 0;
    let mut settled = 0;
    let mut steps = 0;
    let mut input = rest.split(|&b| b == 0xff);
    loop {
        steps += 1;
        assert!(steps < 100_000, "core does not make progress");
        let out = core.take_output();
        assert!(out.len() < 1 << 20, "output grows without bound");
        match core.wait() {
            Wait::Reply(_) => match input.next() {
                Some(piece) => core.receive(piece),
                None => core.link_lost(LinkLoss::Eof),
            },
            Wait::Tls => core.tls_established(),
            Wait::Body(crate::core::BodyMode::Data) => {
                core.body_data(b"Subject: x\n\n.body\n");
                core.body_end();
                if behind && transactions < 3 && core.can_begin_behind() {
                    transactions += 1;
                    begun += usize::from(core.begin(&envelope, Some(100)).is_ok());
                }
            }
            Wait::Body(crate::core::BodyMode::Bdat) => {
                core.bdat_chunk(b"Subject: x\n\nbody", true);
                if behind && transactions < 3 && core.can_begin_behind() {
                    transactions += 1;
                    begun += usize::from(core.begin(&envelope, Some(100)).is_ok());
                }
            }
            Wait::Ready => {
                if transactions == 3 {
                    core.quit();
                } else {
                    transactions += 1;
                    begun += usize::from(core.begin(&envelope, Some(100)).is_ok());
                }
            }
            Wait::Closed => {}
        }
        while let Some(outcome) = core.take_outcome() {
            settled += 1;
            if let Ok(delivery) = outcome {
                accepted += usize::from(delivery.is_accepted());
            }
        }
        if core.wait() == Wait::Closed {
            assert_eq!(settled, begun, "a transaction was lost or settled twice");
            return accepted;
        }
        let _ = core.take_events();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_dialog_runs_to_the_end() {
        let mut data = vec![1u8 | 8];
        data.extend_from_slice(b"220 hi\r\n\xff250-mx\r\n250 PIPELINING\r\n\xff");
        data.extend_from_slice(b"250 ok\r\n250 ok\r\n550 no\r\n354 go\r\n\xff250 queued\r\n\xff");
        data.extend_from_slice(b"250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n\xff");
        data.extend_from_slice(b"250 queued\r\n\xff250 ok\r\n250 ok\r\n");
        data.extend_from_slice(b"250 ok\r\n354 go\r\n\xff250 queued\r\n\xff221 bye\r\n");
        assert_eq!(drive_session(&data), 3);
        assert_eq!(parse_replies(b"250-a\r\n250 b\r\n354 go\r\n"), 2);
    }

    #[test]
    fn pipelined_dialog_settles_every_transaction_once() {
        let mut data = vec![1u8 | 8 | 32];
        data.extend_from_slice(b"220 hi\r\n\xff250-mx\r\n250 PIPELINING\r\n\xff");
        data.extend_from_slice(b"250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n\xff");
        // First dot refused; the second transaction, already sent, goes on.
        data.extend_from_slice(b"554 no\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n\xff");
        // Second dot accepted, then the link drops after the third dot.
        data.extend_from_slice(b"250 queued\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
        assert_eq!(drive_session(&data), 1);
        // Every prefix of it ends the session with each transaction settled once.
        for end in 0..data.len() {
            drive_session(&data[..end]);
        }
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        for seed in [
            &b""[..],
            b"\x00",
            b"\x02220 x\r\n250 AUTH PLAIN\r\n334 \r\n334 zz\r\n",
            b"\x00\xff\xfe",
        ] {
            drive_session(seed);
            parse_replies(seed);
        }
    }
}

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

/// Drives a whole session core (open, two transactions, QUIT) with arbitrary server bytes.
/// The first byte picks settings; the rest is cut into reads.
pub fn drive_session(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
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
    let mut transactions = 0;
    let mut steps = 0;
    let mut input = rest.chunks(61);
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
            }
            Wait::Body(crate::core::BodyMode::Bdat) => core.bdat_chunk(b"Subject: x\n\nbody", true),
            Wait::Ready => {
                let _ = core.take_outcome();
                if transactions == 2 {
                    core.quit();
                } else {
                    transactions += 1;
                    let _ = core.begin(&envelope, Some(100));
                }
            }
            Wait::Closed => return,
        }
        let _ = core.take_events();
    }
}

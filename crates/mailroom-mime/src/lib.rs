//! Mailroom's message model, streaming MIME renderer, parser, replies, forwards and find
#![forbid(unsafe_code)]

//! Mailroom: a message store with pluggable message-type modules, and an SMTP module that sends from it
#![forbid(unsafe_code)]

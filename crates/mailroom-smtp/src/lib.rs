//! Mailroom's SMTP client: a sans-IO protocol core with a tokio and rustls transport
#![forbid(unsafe_code)]

//! Opening a session: greeting, EHLO/HELO, STARTTLS and AUTH.

use super::{Core, State};
use crate::auth::AuthExchange;
use crate::caps::Capabilities;
use crate::config::{Mechanism, TlsMode};
use crate::error::{Error, Phase};
use crate::event::{Event, SessionState};
use crate::reply::Reply;

/// Mechanisms tried when the settings name none: the password ones, strongest first.
const DEFAULT_MECHANISMS: [Mechanism; 4] = [
    Mechanism::ScramSha256,
    Mechanism::CramMd5,
    Mechanism::Plain,
    Mechanism::Login,
];

impl Core {
    pub(super) fn on_greeting(&mut self, reply: Reply) {
        if reply.code == 220 {
            self.send_ehlo(false);
        } else if reply.code == 421 {
            self.fail_with_quit(Error::Closed {
                phase: Phase::Greeting,
                reply: Some(reply),
            });
        } else {
            self.fail_with_quit(Error::Rejected {
                phase: Phase::Greeting,
                reply,
            });
        }
    }

    fn send_ehlo(&mut self, after_tls: bool) {
        let line = format!("EHLO {}", self.config.ehlo_name);
        self.write_command(&line, None);
        self.state = State::ExpectEhlo { after_tls };
    }

    fn starttls_needed(&self) -> bool {
        self.config.tls == TlsMode::StartTls && !self.tls_active
    }

    pub(super) fn on_ehlo(&mut self, reply: Reply, after_tls: bool) {
        if reply.is_positive() {
            self.caps = Capabilities::from_ehlo(&reply);
            if self.starttls_needed() {
                if self.caps.starttls() {
                    self.write_command("STARTTLS", None);
                    self.state = State::ExpectStartTls;
                    self.events.push(Event::State(SessionState::Tls));
                } else {
                    self.fail_with_quit(Error::tls(
                        "server does not offer STARTTLS and TLS is required",
                    ));
                }
                return;
            }
            self.start_auth();
        } else if reply.code == 421 {
            self.abort(Error::Closed {
                phase: Phase::Ehlo,
                reply: Some(reply),
            });
        } else if reply.is_permanent() && !after_tls {
            let line = format!("HELO {}", self.config.ehlo_name);
            self.write_command(&line, None);
            self.state = State::ExpectHelo;
        } else {
            self.fail_with_quit(Error::Rejected {
                phase: Phase::Ehlo,
                reply,
            });
        }
    }

    pub(super) fn on_helo(&mut self, reply: Reply) {
        if reply.is_positive() {
            self.caps = Capabilities::default();
            if self.starttls_needed() {
                self.fail_with_quit(Error::tls(
                    "server does not speak ESMTP, so no STARTTLS, and TLS is required",
                ));
            } else {
                self.start_auth();
            }
        } else if reply.code == 421 {
            self.abort(Error::Closed {
                phase: Phase::Helo,
                reply: Some(reply),
            });
        } else {
            self.fail_with_quit(Error::Rejected {
                phase: Phase::Helo,
                reply,
            });
        }
    }

    pub(super) fn on_starttls(&mut self, reply: Reply) {
        if reply.code == 220 {
            // Anything already buffered was sent in plaintext after the go-ahead: `receive`
            // refuses it once this state is set.
            self.state = State::Handshake;
        } else if reply.code == 421 {
            self.abort(Error::Closed {
                phase: Phase::StartTls,
                reply: Some(reply),
            });
        } else {
            self.fail_with_quit(Error::tls(format!("server refused STARTTLS: {reply}")));
        }
    }

    /// The transport finished the TLS handshake: forget everything learnt in plaintext.
    pub(crate) fn tls_established(&mut self) {
        if !matches!(self.state, State::Handshake) {
            return;
        }
        self.tls_active = true;
        self.caps = Capabilities::default();
        self.send_ehlo(true);
    }

    fn start_auth(&mut self) {
        let Some(credentials) = self.config.credentials.take() else {
            self.become_ready();
            return;
        };
        let allowed: &[Mechanism] = self
            .config
            .mechanisms
            .as_deref()
            .unwrap_or(&DEFAULT_MECHANISMS);
        let advertised = self.caps.auth_mechanisms();
        if advertised.is_empty() {
            self.fail_with_quit(Error::Auth {
                mechanism: None,
                reply: None,
                message: "server does not offer AUTH".into(),
            });
            return;
        }
        let Some(mechanism) = Mechanism::ALL
            .into_iter()
            .find(|m| allowed.contains(m) && advertised.contains(m))
        else {
            let names: Vec<&str> = advertised.iter().map(|m| m.name()).collect();
            self.fail_with_quit(Error::Auth {
                mechanism: None,
                reply: None,
                message: format!(
                    "no allowed mechanism among those offered ({})",
                    names.join(" ")
                ),
            });
            return;
        };
        let (exchange, line) = AuthExchange::start(mechanism, &credentials, &self.config.nonce);
        self.write_command(&line.line, Some(&line.redacted));
        self.state = State::ExpectAuth(exchange);
        self.events.push(Event::State(SessionState::Authenticating));
    }

    pub(super) fn on_auth(&mut self, mut exchange: AuthExchange, reply: Reply) {
        let mechanism = Some(exchange.mechanism());
        match reply.code {
            334 => match exchange.respond(reply.lines.first().map_or("", String::as_str)) {
                Ok(line) => {
                    self.write_command(&line.line, Some(&line.redacted));
                    self.state = State::ExpectAuth(exchange);
                }
                Err(error) => {
                    // Cancel the exchange; the server answers 501, then QUIT.
                    self.write_command("*", None);
                    self.failure = Some(error);
                    self.state = State::ExpectAuth(exchange);
                }
            },
            235 | 250 if self.failure.is_none() => match exchange.succeeded() {
                Ok(()) => self.become_ready(),
                Err(error) => self.fail_with_quit(error),
            },
            421 => self.abort(Error::Closed {
                phase: Phase::Auth,
                reply: Some(reply),
            }),
            _ => {
                let error = self.failure.take().unwrap_or(Error::Auth {
                    mechanism,
                    reply: Some(reply),
                    message: "server refused the credentials".into(),
                });
                self.fail_with_quit(error);
            }
        }
    }

    fn become_ready(&mut self) {
        self.state = State::Ready;
        self.events.push(Event::State(SessionState::Ready));
    }
}

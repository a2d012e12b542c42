//! SASL client exchanges, driven by 334 challenges; prompt texts are never interpreted.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use md5::{Digest, Md5};
use zeroize::Zeroizing;

use crate::config::{Credentials, Mechanism};
use crate::error::Error;

mod scram;

/// Longest AUTH command line sent with an initial response (RFC 5321 command line length);
/// longer ones use the two-step form (`AUTH MECH`, then the response after an empty 334).
const MAX_AUTH_LINE: usize = 512;

/// A line to write during AUTH and its redacted form for the transcript.
pub(crate) struct AuthLine {
    pub(crate) line: Zeroizing<String>,
    pub(crate) redacted: String,
}

enum Step {
    /// Two-step form: the initial response waits for the first 334; `then` follows.
    HoldingInitial {
        response: Zeroizing<String>,
        then: Box<Step>,
    },
    /// LOGIN: waiting for the n-th challenge.
    Login(u8),
    /// CRAM-MD5: waiting for the challenge.
    Cram,
    /// SCRAM: waiting for server-first; holds client-first-bare.
    ScramFirst(String),
    /// SCRAM: waiting for server-final; holds the expected server signature.
    ScramFinal(Vec<u8>),
    /// SCRAM: server verified, waiting for 235.
    ScramVerified,
    /// An initial response was sent; a 334 now is an error report to acknowledge.
    Sent,
    /// The error report was acknowledged; waiting for the final failure reply.
    Acknowledged,
}

/// One AUTH exchange in progress.
pub(crate) struct AuthExchange {
    mechanism: Mechanism,
    credentials: Credentials,
    step: Step,
}

impl std::fmt::Debug for AuthExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthExchange")
            .field("mechanism", &self.mechanism)
            .finish()
    }
}

fn b64(bytes: &[u8]) -> Zeroizing<String> {
    Zeroizing::new(B64.encode(bytes))
}

fn scram_name(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

impl AuthExchange {
    /// Starts an exchange; returns it and the AUTH command line.
    pub(crate) fn start(
        mechanism: Mechanism,
        credentials: &Credentials,
        nonce: &str,
    ) -> (AuthExchange, AuthLine) {
        let user = credentials.username.as_str();
        let secret = credentials.password.expose();
        let initial: Option<Zeroizing<Vec<u8>>> = match mechanism {
            Mechanism::Plain => Some(Zeroizing::new(format!("\0{user}\0{secret}").into_bytes())),
            Mechanism::XOAuth2 => Some(Zeroizing::new(
                format!("user={user}\x01auth=Bearer {secret}\x01\x01").into_bytes(),
            )),
            Mechanism::OAuthBearer => Some(Zeroizing::new(
                format!("n,a={},\x01auth=Bearer {secret}\x01\x01", scram_name(user)).into_bytes(),
            )),
            Mechanism::ScramSha256 => Some(Zeroizing::new(
                format!("n,,n={},r={nonce}", scram_name(user)).into_bytes(),
            )),
            Mechanism::Login | Mechanism::CramMd5 => None,
        };
        let name = mechanism.name();
        let mut exchange = AuthExchange {
            mechanism,
            credentials: credentials.clone(),
            step: match mechanism {
                Mechanism::Login => Step::Login(0),
                Mechanism::CramMd5 => Step::Cram,
                Mechanism::ScramSha256 => {
                    Step::ScramFirst(format!("n={},r={nonce}", scram_name(user)))
                }
                _ => Step::Sent,
            },
        };
        let Some(initial) = initial else {
            return (exchange, bare_auth_line(name));
        };
        let encoded = b64(&initial);
        let redacted = format!("AUTH {name} [redacted]");
        if name.len() + encoded.len() + 8 > MAX_AUTH_LINE {
            let then = Box::new(std::mem::replace(&mut exchange.step, Step::Sent));
            exchange.step = Step::HoldingInitial {
                response: encoded,
                then,
            };
            return (exchange, bare_auth_line(name));
        }
        let line = Zeroizing::new(format!("AUTH {name} {}", encoded.as_str()));
        (exchange, AuthLine { line, redacted })
    }

    /// The mechanism in use.
    pub(crate) fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    fn fail(&self, message: impl Into<String>) -> Error {
        Error::Auth {
            mechanism: Some(self.mechanism),
            reply: None,
            message: message.into(),
        }
    }

    fn line(text: Zeroizing<String>) -> AuthLine {
        AuthLine {
            line: text,
            redacted: "[redacted]".to_owned(),
        }
    }

    /// Answers a 334 challenge (its text, still base64).
    pub(crate) fn respond(&mut self, challenge: &str) -> Result<AuthLine, Error> {
        let mechanism = self.mechanism;
        let decode = |c: &str| {
            B64.decode(c.trim()).map_err(|_| Error::Auth {
                mechanism: Some(mechanism),
                reply: None,
                message: "server challenge is not valid base64".into(),
            })
        };
        match std::mem::replace(&mut self.step, Step::Acknowledged) {
            Step::HoldingInitial { response, then } => {
                self.step = *then;
                Ok(Self::line(response))
            }
            Step::Login(n) => {
                let secret = match n {
                    0 => self.credentials.username.clone(),
                    1 => self.credentials.password.expose().to_owned(),
                    _ => return Err(self.fail("server asked for more than a name and a password")),
                };
                self.step = Step::Login(n + 1);
                Ok(Self::line(b64(secret.as_bytes())))
            }
            Step::Cram => {
                let challenge = decode(challenge)?;
                let mac = hmac_md5(self.credentials.password.expose().as_bytes(), &challenge);
                let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
                let response = format!("{} {hex}", self.credentials.username);
                self.step = Step::Sent;
                Ok(Self::line(b64(response.as_bytes())))
            }
            Step::ScramFirst(bare) => {
                let server_first = String::from_utf8(decode(challenge)?)
                    .map_err(|_| self.fail("SCRAM server-first is not UTF-8"))?;
                let (line, signature) = self.scram_final(&bare, &server_first)?;
                self.step = Step::ScramFinal(signature);
                Ok(Self::line(line))
            }
            Step::ScramFinal(expected) => {
                let server_final = decode(challenge)?;
                let server_final = String::from_utf8_lossy(&server_final);
                let verifier = server_final
                    .strip_prefix("v=")
                    .and_then(|v| B64.decode(v).ok())
                    .ok_or_else(|| self.fail("SCRAM server-final carries no verifier"))?;
                let same = verifier.len() == expected.len()
                    && verifier
                        .iter()
                        .zip(&expected)
                        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                        == 0;
                if !same {
                    return Err(
                        self.fail("server's SCRAM signature is wrong (not the real server?)")
                    );
                }
                self.step = Step::ScramVerified;
                Ok(Self::line(Zeroizing::new(String::new())))
            }
            Step::Sent => {
                // An error report (XOAUTH2, OAUTHBEARER) or a stray challenge: acknowledge it
                // so the server sends its final failure reply.
                let ack = if self.mechanism == Mechanism::OAuthBearer {
                    "AQ=="
                } else {
                    ""
                };
                Ok(Self::line(Zeroizing::new(ack.to_owned())))
            }
            Step::ScramVerified | Step::Acknowledged => {
                Err(self.fail("unexpected further challenge"))
            }
        }
    }

    /// Checks that a 235 may end the exchange.
    pub(crate) fn succeeded(&self) -> Result<(), Error> {
        match self.step {
            Step::ScramFirst(_) | Step::ScramFinal(_) => {
                Err(self.fail("server accepted SCRAM without proving it knows the password"))
            }
            Step::HoldingInitial { .. } => Err(self.fail("server accepted before any credentials")),
            _ => Ok(()),
        }
    }
}

/// HMAC-MD5 (RFC 2104): a key longer than the 64-byte block is hashed first.
pub(crate) fn hmac_md5(key: &[u8], message: &[u8]) -> [u8; 16] {
    let mut block = Zeroizing::new([0u8; 64]);
    if key.len() > 64 {
        block[..16].copy_from_slice(&Md5::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Md5::new();
    inner.update(block.iter().map(|b| b ^ 0x36).collect::<Vec<u8>>());
    inner.update(message);
    let mut outer = Md5::new();
    outer.update(block.iter().map(|b| b ^ 0x5c).collect::<Vec<u8>>());
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// `AUTH NAME` with no initial response: nothing in it needs redacting.
fn bare_auth_line(name: &str) -> AuthLine {
    AuthLine {
        line: Zeroizing::new(format!("AUTH {name}")),
        redacted: format!("AUTH {name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_md5_matches_rfc_2202_vectors() {
        assert_eq!(
            hex(&hmac_md5(b"Jefe", b"what do ya want for nothing?")),
            "750c783e6ab0b503eaa86e310a5db738"
        );
        // Test case 6: an 80-byte key, hashed before use.
        let key = [0xaa; 80];
        let msg = b"Test Using Larger Than Block-Size Key - Hash Key First";
        assert_eq!(
            hex(&hmac_md5(&key, msg)),
            "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"
        );
    }

    #[test]
    fn cram_md5_matches_rfc_2195_example() {
        let creds = Credentials::new("tim", "tanstaaftanstaaf");
        let (mut ex, start) = AuthExchange::start(Mechanism::CramMd5, &creds, "n");
        assert_eq!(start.line.as_str(), "AUTH CRAM-MD5");
        let challenge = B64.encode("<1896.697170952@postoffice.reston.mci.net>");
        let reply = ex.respond(&challenge).unwrap();
        let decoded = B64.decode(reply.line.as_str()).unwrap();
        assert_eq!(decoded, b"tim b913a602c7eda7a495b4e6e7334d3890");
        assert_eq!(reply.redacted, "[redacted]");
    }

    #[test]
    fn scram_sha_256_matches_rfc_7677_example() {
        let creds = Credentials::new("user", "pencil");
        let nonce = "rOprNGfwEbeRWgbNEkqO";
        let (mut ex, start) = AuthExchange::start(Mechanism::ScramSha256, &creds, nonce);
        let first = start.line.strip_prefix("AUTH SCRAM-SHA-256 ").unwrap();
        assert_eq!(
            B64.decode(first).unwrap(),
            b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
        );
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                            s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let reply = ex.respond(&B64.encode(server_first)).unwrap();
        assert_eq!(
            String::from_utf8(B64.decode(reply.line.as_str()).unwrap()).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
             p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        assert!(
            ex.succeeded().is_err(),
            "235 before the server proof must fail"
        );
        let bad = ex.respond(&B64.encode("v=AAAA")).err();
        assert!(bad.is_some());
    }

    #[test]
    fn scram_accepts_the_right_server_signature() {
        let creds = Credentials::new("user", "pencil");
        let (mut ex, _) =
            AuthExchange::start(Mechanism::ScramSha256, &creds, "rOprNGfwEbeRWgbNEkqO");
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                            s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        ex.respond(&B64.encode(server_first)).unwrap();
        let last = ex
            .respond(&B64.encode("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="))
            .unwrap();
        assert_eq!(last.line.as_str(), "");
        assert!(ex.succeeded().is_ok());
    }

    #[test]
    fn long_oauth_token_uses_the_two_step_form() {
        let creds = Credentials::new("a@example.org", "t".repeat(600));
        let (mut ex, start) = AuthExchange::start(Mechanism::OAuthBearer, &creds, "n");
        assert_eq!(start.line.as_str(), "AUTH OAUTHBEARER");
        let resp = ex.respond("").unwrap();
        let decoded = String::from_utf8(B64.decode(resp.line.as_str()).unwrap()).unwrap();
        assert!(decoded.starts_with("n,a=a@example.org,\x01auth=Bearer ttt"));
        // An error report then gets the %x01 acknowledgement.
        assert_eq!(
            ex.respond("eyJzdGF0dXMiOiI0MDEifQ==")
                .unwrap()
                .line
                .as_str(),
            "AQ=="
        );
    }

    #[test]
    fn login_ignores_prompt_text() {
        let creds = Credentials::new("bob", "s3cret");
        let (mut ex, _) = AuthExchange::start(Mechanism::Login, &creds, "n");
        let first = ex.respond("UGFzc3dvcmQ6").unwrap(); // "Password:" prompt sent first
        assert_eq!(B64.decode(first.line.as_str()).unwrap(), b"bob");
        let second = ex.respond("VXNlcm5hbWU6").unwrap();
        assert_eq!(B64.decode(second.line.as_str()).unwrap(), b"s3cret");
        assert!(ex.respond("").is_err());
    }
}

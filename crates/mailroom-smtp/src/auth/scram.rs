//! SCRAM-SHA-256 (RFC 5802, RFC 7677) client proof and server signature.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::{digest, hmac, pbkdf2};
use zeroize::Zeroizing;

use super::{AuthExchange, b64};
use crate::error::Error;

/// Highest SCRAM iteration count accepted, so a hostile server cannot stall the client.
const MAX_SCRAM_ITERATIONS: u32 = 1_000_000;

impl AuthExchange {
    pub(super) fn scram_final(
        &self,
        bare: &str,
        server_first: &str,
    ) -> Result<(Zeroizing<String>, Vec<u8>), Error> {
        let mut nonce = None;
        let mut salt = None;
        let mut iterations = None;
        for attr in server_first.split(',') {
            match attr.split_once('=') {
                Some(("r", v)) => nonce = Some(v),
                Some(("s", v)) => salt = B64.decode(v).ok(),
                Some(("i", v)) => iterations = v.parse::<u32>().ok(),
                Some(("m", _)) => return Err(self.fail("SCRAM extension required by the server")),
                _ => {}
            }
        }
        let (Some(nonce), Some(salt), Some(iterations)) = (nonce, salt, iterations) else {
            return Err(self.fail("SCRAM server-first is incomplete"));
        };
        let client_nonce = bare.rsplit_once(",r=").map(|(_, n)| n).unwrap_or_default();
        if !nonce.starts_with(client_nonce) || nonce.len() <= client_nonce.len() {
            return Err(self.fail("SCRAM server nonce does not extend the client nonce"));
        }
        if iterations == 0 || iterations > MAX_SCRAM_ITERATIONS {
            return Err(self.fail(format!("SCRAM iteration count {iterations} out of range")));
        }
        // The password is used as given; SASLprep normalisation is not applied.
        let mut salted = Zeroizing::new([0u8; 32]);
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            std::num::NonZeroU32::new(iterations).unwrap_or(std::num::NonZeroU32::MIN),
            &salt,
            self.credentials.password.expose().as_bytes(),
            salted.as_mut(),
        );
        let key = hmac::Key::new(hmac::HMAC_SHA256, salted.as_ref());
        let client_key = hmac::sign(&key, b"Client Key");
        let stored_key = digest::digest(&digest::SHA256, client_key.as_ref());
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{bare},{server_first},{without_proof}");
        let client_sig = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, stored_key.as_ref()),
            auth_message.as_bytes(),
        );
        let proof: Vec<u8> = client_key
            .as_ref()
            .iter()
            .zip(client_sig.as_ref())
            .map(|(a, b)| a ^ b)
            .collect();
        let server_key = hmac::sign(&key, b"Server Key");
        let server_sig = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, server_key.as_ref()),
            auth_message.as_bytes(),
        );
        let client_final = format!("{without_proof},p={}", B64.encode(proof));
        Ok((b64(client_final.as_bytes()), server_sig.as_ref().to_vec()))
    }
}

//! SCRAM-SHA-256 against a scripted server that does the server side of the exchange.

mod common;

use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::{Step, Step::*, serve};
use mailroom_smtp::{Credentials, ErrorKind, Mechanism, Session};
use ring::{digest, hmac, pbkdf2};

const SALT: &[u8] = b"mailroom-salt-16";
const ITERATIONS: u32 = 4096;

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data)
        .as_ref()
        .to_vec()
}

/// The server side: answers client-first, checks the proof, signs (or forges) the final.
fn scram_server(password: &'static str, forge_signature: bool) -> Vec<Step> {
    let state = Arc::new(Mutex::new(String::new()));
    let (s1, s2) = (state.clone(), state);
    vec![
        Reply("220 mx.test ESMTP\r\n"),
        Expect("EHLO client.test\r\n"),
        Reply("250-mx.test\r\n250 AUTH SCRAM-SHA-256 PLAIN\r\n"),
        Answer(Box::new(move |line: &str| {
            let first = line
                .strip_prefix("AUTH SCRAM-SHA-256 ")
                .expect("initial response");
            let first = String::from_utf8(B64.decode(first).unwrap()).unwrap();
            let bare = first.strip_prefix("n,,").expect("gs2 header").to_owned();
            let nonce = bare.split(",r=").nth(1).unwrap().to_owned();
            let server_first = format!("r={nonce}srv-nonce,s={},i={ITERATIONS}", B64.encode(SALT));
            *s1.lock().unwrap() = format!("{bare},{server_first}");
            format!("334 {}\r\n", B64.encode(&server_first))
        })),
        Answer(Box::new(move |line: &str| {
            let client_final = String::from_utf8(B64.decode(line).unwrap()).unwrap();
            let (without_proof, proof) = client_final.rsplit_once(",p=").unwrap();
            let auth_message = format!("{},{without_proof}", s2.lock().unwrap());
            let mut salted = [0u8; 32];
            pbkdf2::derive(
                pbkdf2::PBKDF2_HMAC_SHA256,
                std::num::NonZeroU32::new(ITERATIONS).unwrap(),
                SALT,
                password.as_bytes(),
                &mut salted,
            );
            let client_key = hmac_sha256(&salted, b"Client Key");
            let stored_key = digest::digest(&digest::SHA256, &client_key);
            let signature = hmac_sha256(stored_key.as_ref(), auth_message.as_bytes());
            let recovered: Vec<u8> = B64
                .decode(proof)
                .unwrap()
                .iter()
                .zip(&signature)
                .map(|(a, b)| a ^ b)
                .collect();
            if digest::digest(&digest::SHA256, &recovered).as_ref() != stored_key.as_ref() {
                return "535 5.7.8 bad proof\r\n".into();
            }
            let server_key = hmac_sha256(&salted, b"Server Key");
            let mut server_sig = hmac_sha256(&server_key, auth_message.as_bytes());
            if forge_signature {
                server_sig[0] ^= 1;
            }
            format!(
                "334 {}\r\n",
                B64.encode(format!("v={}", B64.encode(server_sig)))
            )
        })),
    ]
}

#[tokio::test]
async fn scram_sha_256_authenticates_and_checks_the_server() {
    let mut script = scram_server("pencil", false);
    script.extend([
        Expect("\r\n"),
        Reply("235 2.7.0 ok\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ]);
    let server = serve(script).await;
    let mut config = server.config();
    config.credentials = Some(Credentials::new("user", "pencil"));
    let session = Session::connect(&config, None).await.unwrap();
    session.quit().await.unwrap();
    let bytes = server.client_bytes().await;
    assert!(
        bytes.starts_with("EHLO client.test\r\nAUTH SCRAM-SHA-256 "),
        "{bytes}"
    );
    assert!(!bytes.contains("pencil"));
}

#[tokio::test]
async fn scram_wrong_password_is_refused_by_the_server() {
    let mut script = scram_server("pencil", false);
    script.extend([Expect("QUIT\r\n"), Reply("221 bye\r\n")]);
    let server = serve(script).await;
    let mut config = server.config();
    config.credentials = Some(Credentials::new("user", "crayon"));
    config.mechanisms = Some(vec![Mechanism::ScramSha256]);
    let err = Session::connect(&config, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.reply().unwrap().code, 535);
}

#[tokio::test]
async fn scram_server_that_cannot_prove_the_password_is_refused() {
    let mut script = scram_server("pencil", true);
    script.extend([
        Expect("*\r\n"),
        Reply("501 cancelled\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ]);
    let server = serve(script).await;
    let mut config = server.config();
    config.credentials = Some(Credentials::new("user", "pencil"));
    let err = Session::connect(&config, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(err.to_string().contains("signature"), "{err}");
    assert!(server.client_bytes().await.ends_with("*\r\nQUIT\r\n"));
}

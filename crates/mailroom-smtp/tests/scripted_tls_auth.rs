//! Scripted-server cases: STARTTLS, implicit TLS, certificate checks and AUTH.

mod common;

use std::sync::Arc;

use common::{Step::*, Transcript, serve};
use mailroom_smtp::{Credentials, Envelope, ErrorKind, Mechanism, Session, TlsMode};

const PRE_TLS: &str = "250-mx.test\r\n250-SIZE 10\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n";

fn opening(after_tls: &'static str) -> Vec<common::Step> {
    vec![
        Reply("220 mx.test ESMTP\r\n"),
        Expect("EHLO client.test\r\n"),
        Reply(PRE_TLS),
        Expect("STARTTLS\r\n"),
        Reply("220 2.0.0 go ahead\r\n"),
        Tls,
        Expect("EHLO client.test\r\n"),
        Reply(after_tls),
    ]
}

#[tokio::test]
async fn starttls_go_ahead_with_injected_plaintext_is_refused() {
    let server = serve(vec![
        Reply("220 mx.test ESMTP\r\n"),
        Expect("EHLO client.test\r\n"),
        Reply(PRE_TLS),
        Expect("STARTTLS\r\n"),
        Reply("220 go ahead\r\n250-mx.test\r\n250 AUTH PLAIN\r\n"),
        Silence,
    ])
    .await;
    let err = Session::connect(&server.tls_config(), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(err.to_string().contains("STARTTLS"), "{err}");
    assert_eq!(
        server.client_bytes().await,
        "EHLO client.test\r\nSTARTTLS\r\n"
    );
}

#[tokio::test]
async fn starttls_missing_while_required_is_a_hard_failure() {
    let server = serve(vec![
        Reply("220 mx.test ESMTP\r\n"),
        Expect("EHLO client.test\r\n"),
        Reply("250-mx.test\r\n250 AUTH PLAIN\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ])
    .await;
    let err = Session::connect(&server.tls_config(), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls);
    assert_eq!(server.client_bytes().await, "EHLO client.test\r\nQUIT\r\n");
}

#[tokio::test]
async fn capabilities_come_only_from_the_ehlo_after_tls() {
    let mut script = opening("250-mx.test\r\n250-PIPELINING\r\n250 AUTH LOGIN\r\n");
    script.extend([Expect("QUIT\r\n"), Reply("221 bye\r\n")]);
    let server = serve(script).await;
    let session = Session::connect(&server.tls_config(), None).await.unwrap();
    assert!(session.is_tls());
    let caps = session.capabilities();
    assert!(caps.pipelining());
    assert_eq!(
        caps.size_limit(),
        None,
        "SIZE from the plaintext EHLO must be forgotten"
    );
    assert_eq!(caps.auth_mechanisms(), [Mechanism::Login]);
    session.quit().await.unwrap();
    assert_eq!(
        server.client_bytes().await,
        "EHLO client.test\r\nSTARTTLS\r\nEHLO client.test\r\nQUIT\r\n"
    );
}

#[tokio::test]
async fn certificate_for_another_name_is_refused() {
    let server = serve(vec![
        Reply("220 mx.test ESMTP\r\n"),
        Expect("EHLO client.test\r\n"),
        Reply(PRE_TLS),
        Expect("STARTTLS\r\n"),
        Reply("220 go ahead\r\n"),
        Tls,
    ])
    .await;
    let mut config = server.tls_config();
    config.tls_server_name = Some("mail.elsewhere.test".into());
    let err = Session::connect(&config, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
    let mut config = server.tls_config();
    config.extra_roots.clear();
    drop(config);
}

#[tokio::test]
async fn untrusted_certificate_is_refused() {
    let server = serve(vec![
        Reply("220 mx.test ESMTP\r\n"),
        Expect("EHLO client.test\r\n"),
        Reply(PRE_TLS),
        Expect("STARTTLS\r\n"),
        Reply("220 go ahead\r\n"),
        Tls,
    ])
    .await;
    let mut config = server.tls_config();
    config.extra_roots.clear();
    let err = Session::connect(&config, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
}

#[tokio::test]
async fn implicit_tls_greets_inside_tls() {
    let server = serve(vec![
        Tls,
        Reply("220 mx.test ESMTP\r\n"),
        Expect("EHLO client.test\r\n"),
        Reply("250 mx.test\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ])
    .await;
    let mut config = server.tls_config();
    config.tls = TlsMode::Implicit;
    let session = Session::connect(&config, None).await.unwrap();
    assert!(session.is_tls());
    session.quit().await.unwrap();
    assert_eq!(server.client_bytes().await, "EHLO client.test\r\nQUIT\r\n");
}

#[tokio::test]
async fn auth_plain_after_tls_is_byte_exact_and_redacted() {
    let mut script = opening("250-mx.test\r\n250 AUTH PLAIN LOGIN\r\n");
    script.extend([
        Expect("AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n"),
        Reply("235 2.7.0 ok\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ]);
    let server = serve(script).await;
    let transcript = Arc::new(Transcript::default());
    let mut config = server.tls_config();
    config.credentials = Some(Credentials::new("alice", "s3cret"));
    config.transcript = Some(transcript.clone());
    let session = Session::connect(&config, None).await.unwrap();
    session.quit().await.unwrap();
    assert!(
        server
            .client_bytes()
            .await
            .ends_with("AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\nQUIT\r\n")
    );
    let lines = transcript.0.lock().unwrap().join("\n");
    assert!(lines.contains("C: AUTH PLAIN [redacted]"), "{lines}");
    assert!(
        !lines.contains("AGFsaWNl") && !lines.contains("s3cret"),
        "{lines}"
    );
}

#[tokio::test]
async fn auth_refused_with_535_sends_no_mail() {
    let mut script = opening("250-mx.test\r\n250 AUTH PLAIN\r\n");
    script.extend([
        Expect("AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n"),
        Reply("535 5.7.8 bad credentials\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ]);
    let server = serve(script).await;
    let mut config = server.tls_config();
    config.credentials = Some(Credentials::new("alice", "s3cret"));
    let err = Session::connect(&config, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.reply().unwrap().code, 535);
    assert!(!err.to_string().contains("s3cret"));
    let bytes = server.client_bytes().await;
    assert!(!bytes.contains("MAIL"), "{bytes}");
}

#[tokio::test]
async fn auth_login_does_not_rely_on_prompt_text() {
    let mut script = opening("250-mx.test\r\n250 AUTH LOGIN\r\n");
    script.extend([
        Expect("AUTH LOGIN\r\n"),
        Reply("334 R2ltbWUgeW91ciBuYW1l\r\n"),
        Expect("YWxpY2U=\r\n"),
        Reply("334 U2VjcmV0IHNhdWNlPw==\r\n"),
        Expect("czNjcmV0\r\n"),
        Reply("235 ok\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ]);
    let server = serve(script).await;
    let mut config = server.tls_config();
    config.credentials = Some(Credentials::new("alice", "s3cret"));
    let session = Session::connect(&config, None).await.unwrap();
    session.quit().await.unwrap();
    assert!(
        server
            .client_bytes()
            .await
            .ends_with("czNjcmV0\r\nQUIT\r\n")
    );
}

#[tokio::test]
async fn cram_md5_with_an_80_byte_password() {
    let mut script = opening("250-mx.test\r\n250 AUTH PLAIN CRAM-MD5 LOGIN\r\n");
    script.extend([
        Expect("AUTH CRAM-MD5\r\n"),
        Reply("334 PDEyMzQ1LjY3ODkwQG14LnRlc3Q+\r\n"),
        Expect("YWxpY2UgY2I1NzZiYmUyZGE1MjkzYzUwMjM4NDc5NmEyZTlkOTU=\r\n"),
        Reply("235 ok\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ]);
    let server = serve(script).await;
    let mut config = server.tls_config();
    let password = format!("{}{}", "p".repeat(40), "Q".repeat(40));
    config.credentials = Some(Credentials::new("alice", password));
    let session = Session::connect(&config, None).await.unwrap();
    session.quit().await.unwrap();
    let bytes = server.client_bytes().await;
    assert!(bytes.contains("AUTH CRAM-MD5\r\nYWxpY2Ug"), "{bytes}");
}

#[tokio::test]
async fn mechanisms_setting_restricts_the_choice() {
    let mut script = opening("250-mx.test\r\n250 AUTH PLAIN CRAM-MD5 LOGIN\r\n");
    script.extend([
        Expect("AUTH LOGIN\r\n"),
        Reply("334 VXNlcm5hbWU6\r\n"),
        Expect("YWxpY2U=\r\n"),
        Reply("334 UGFzc3dvcmQ6\r\n"),
        Expect("czNjcmV0\r\n"),
        Reply("235 ok\r\n"),
    ]);
    let server = serve(script).await;
    let mut config = server.tls_config();
    config.credentials = Some(Credentials::new("alice", "s3cret"));
    config.mechanisms = Some(vec![Mechanism::Login]);
    let session = Session::connect(&config, None).await.unwrap();
    drop(session);
    assert!(server.client_bytes().await.ends_with("czNjcmV0\r\n"));
}

#[tokio::test]
async fn auth_not_offered_is_an_auth_error() {
    let mut script = opening("250-mx.test\r\n250 8BITMIME\r\n");
    script.extend([Expect("QUIT\r\n"), Reply("221 bye\r\n")]);
    let server = serve(script).await;
    let mut config = server.tls_config();
    config.credentials = Some(Credentials::new("alice", "s3cret"));
    let err = Session::connect(&config, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    let envelope = Envelope::new("a@example.org", ["b@example.org"]);
    drop(envelope);
}

#[tokio::test]
async fn xoauth2_error_report_is_acknowledged_then_fails() {
    let mut script = opening("250-mx.test\r\n250 AUTH XOAUTH2 PLAIN\r\n");
    script.extend([
        ExpectUntil("\r\n"),
        Reply("334 eyJzdGF0dXMiOiI0MDEifQ==\r\n"),
        Expect("\r\n"),
        Reply("535 5.7.8 token expired\r\n"),
        Expect("QUIT\r\n"),
        Reply("221 bye\r\n"),
    ]);
    let server = serve(script).await;
    let mut config = server.tls_config();
    config.credentials = Some(Credentials::new("alice@example.org", "ya29.token"));
    config.mechanisms = Some(vec![Mechanism::XOAuth2]);
    let err = Session::connect(&config, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    let bytes = server.client_bytes().await;
    assert!(
        bytes.contains(
            "AUTH XOAUTH2 dXNlcj1hbGljZUBleGFtcGxlLm9yZwFhdXRoPUJlYXJlciB5YTI5LnRva2VuAQE=\r\n"
        ),
        "{bytes}"
    );
}

//! Interop with a real aiosmtpd on 127.0.0.1.

mod common;

use mailroom_smtp::{
    ClientConfig, Credentials, DataOutcome, Envelope, ErrorKind, Mechanism, RecipientStatus,
    Session, TlsMode,
};

fn config(port: u16, cert: &common::Cert, tls: TlsMode) -> ClientConfig {
    let mut config = ClientConfig::new("127.0.0.1", port);
    config.tls = tls;
    config.tls_server_name = Some("localhost".into());
    config.extra_roots = vec![cert.der.clone()];
    config.credentials = Some(Credentials::new("alice", "s3cret"));
    config
}

const MESSAGE: &[u8] =
    b"From: a@example.org\nTo: b@example.org\nSubject: interop\n\n.leading dot\nbody\n";

#[tokio::test]
async fn aiosmtpd_starttls_auth_plain_and_login() {
    let cert = common::cert();
    let server = common::servers::aiosmtpd(&cert, "starttls").await;
    for mechanism in [Mechanism::Plain, Mechanism::Login] {
        let mut config = config(server.port, &cert, TlsMode::StartTls);
        config.mechanisms = Some(vec![mechanism]);
        let mut session = Session::connect(&config, None).await.unwrap();
        assert!(session.is_tls());
        let envelope = Envelope::new("a@example.org", ["b@example.org", "reject@example.org"]);
        let delivery = session
            .send(&envelope, MESSAGE, Some(MESSAGE.len() as u64))
            .await
            .unwrap();
        assert!(
            matches!(delivery.data, DataOutcome::Accepted(_)),
            "{delivery:?}"
        );
        assert_eq!(delivery.recipients[1].status, RecipientStatus::Rejected);
        // The session is reused for a second message.
        let envelope = Envelope::new("a@example.org", ["c@example.org"]);
        assert!(
            session
                .send(&envelope, MESSAGE, None)
                .await
                .unwrap()
                .is_accepted()
        );
        session.quit().await.unwrap();
    }
    let spool = server.spool();
    assert_eq!(spool.len(), 4);
    assert_eq!(spool[0]["to"], serde_json::json!(["b@example.org"]));
    assert_eq!(spool[0]["auth"], serde_json::json!(true));
    let content = spool[0]["content"].as_str().unwrap();
    assert_eq!(
        content,
        "From: a@example.org\r\nTo: b@example.org\r\nSubject: interop\r\n\r\n.leading dot\r\nbody\r\n"
    );
}

#[tokio::test]
async fn aiosmtpd_wrong_password_is_an_auth_error() {
    let cert = common::cert();
    let server = common::servers::aiosmtpd(&cert, "starttls").await;
    let mut config = config(server.port, &cert, TlsMode::StartTls);
    config.credentials = Some(Credentials::new("alice", "wrong"));
    let err = Session::connect(&config, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert_eq!(err.reply().map(|r| r.code), Some(535));
}

#[tokio::test]
async fn aiosmtpd_implicit_tls_and_smtputf8() {
    let cert = common::cert();
    let server = common::servers::aiosmtpd(&cert, "implicit").await;
    let config = config(server.port, &cert, TlsMode::Implicit);
    let mut session = Session::connect(&config, None).await.unwrap();
    assert!(session.capabilities().smtputf8());
    let mut envelope = Envelope::new("jörg@example.org", ["ünïcode@bücher.example"]);
    envelope.body_8bit = true;
    let body = "Subject: grüße\n\nÄpfel\n".as_bytes();
    let delivery = session.send(&envelope, body, None).await.unwrap();
    assert!(delivery.is_accepted(), "{delivery:?}");
    session.quit().await.unwrap();
    let spool = server.spool();
    assert_eq!(spool[0]["from"], "jörg@example.org");
    assert_eq!(
        spool[0]["to"],
        serde_json::json!(["ünïcode@xn--bcher-kva.example"])
    );
    let options: Vec<String> = serde_json::from_value(spool[0]["mail_options"].clone()).unwrap();
    assert!(options.contains(&"SMTPUTF8".to_string()), "{options:?}");
    assert!(
        options.contains(&"BODY=8BITMIME".to_string()),
        "{options:?}"
    );
}

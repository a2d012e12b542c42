//! Interop with a real Exim on 127.0.0.1: AUTH offered only after STARTTLS.

mod common;

use mailroom_smtp::{ClientConfig, Credentials, Envelope, ErrorKind, Mechanism, Session, TlsMode};

fn config(port: u16, cert: &common::Cert) -> ClientConfig {
    let mut config = ClientConfig::new("127.0.0.1", port);
    config.tls_server_name = Some("localhost".into());
    config.extra_roots = vec![cert.der.clone()];
    config.ehlo_name = Some("client.mailroom.test".into());
    config.credentials = Some(Credentials::new("alice", "s3cret"));
    config
}

#[tokio::test]
async fn exim_auth_after_tls_plain_and_login() {
    let cert = common::cert();
    let server = common::servers::exim(&cert).await;
    for mechanism in [Mechanism::Plain, Mechanism::Login] {
        let mut config = config(server.port, &cert);
        config.mechanisms = Some(vec![mechanism]);
        let mut session = Session::connect(&config, None).await.unwrap();
        assert!(session.is_tls());
        assert!(
            session
                .capabilities()
                .auth_mechanisms()
                .contains(&mechanism)
        );
        let envelope = Envelope::new("a@example.org", ["b@example.net"]);
        let body = b"Subject: exim\n\nhello exim\n";
        let delivery = session
            .send(&envelope, &body[..], Some(body.len() as u64))
            .await
            .unwrap();
        assert!(delivery.is_accepted(), "{delivery:?}");
        session.quit().await.unwrap();
    }
    let log = server.exim_log();
    assert!(log.contains("A=plain:alice"), "{log}");
    assert!(log.contains("A=login:alice"), "{log}");
    assert!(log.contains("P=esmtpsa"), "{log}");
}

#[tokio::test]
async fn exim_without_tls_offers_no_auth_and_nothing_is_sent() {
    let cert = common::cert();
    let server = common::servers::exim(&cert).await;
    let mut config = config(server.port, &cert);
    config.tls = TlsMode::None;
    let err = Session::connect(&config, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    let mut config = self::config(server.port, &cert);
    config.credentials = Some(Credentials::new("alice", "wrong"));
    let err = Session::connect(&config, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert_eq!(err.reply().map(|r| r.code), Some(535));
    assert!(!server.exim_log().contains("<= a@example.org"));
}

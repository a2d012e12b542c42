//! Interop with a real Postfix on 127.0.0.1 (relaying to an smtp-sink that records).

mod common;

use mailroom_smtp::{
    ClientConfig, DataOutcome, Dsn, DsnNotify, DsnReturn, Envelope, Error, Session, TlsMode,
};

fn config(port: u16, cert: &common::Cert) -> ClientConfig {
    let mut config = ClientConfig::new("127.0.0.1", port);
    config.tls = TlsMode::StartTls;
    config.tls_server_name = Some("localhost".into());
    config.extra_roots = vec![cert.der.clone()];
    config.ehlo_name = Some("client.mailroom.test".into());
    config
}

#[tokio::test]
async fn postfix_starttls_pipelining_chunking_dsn() {
    let cert = common::cert();
    let server = common::servers::postfix(&cert, 100_000).await;
    let mut session = Session::connect(&config(server.port, &cert), None)
        .await
        .unwrap();
    let caps = session.capabilities().clone();
    assert!(session.is_tls());
    assert!(caps.pipelining() && caps.chunking() && caps.dsn() && caps.smtputf8());
    assert_eq!(caps.size_limit(), Some(100_000));

    let mut envelope = Envelope::new("a@example.org", ["b@example.net", "c+x@example.net"]);
    envelope.dsn = Some(Dsn {
        ret: Some(DsnReturn::Headers),
        envid: Some("env-1".into()),
        notify: vec![DsnNotify::Success, DsnNotify::Failure],
        orcpt: true,
    });
    let body = b"Subject: over BDAT\nFrom: a@example.org\n\n.dotted line\nlast line";
    let delivery = session
        .send(&envelope, &body[..], Some(body.len() as u64))
        .await
        .unwrap();
    assert!(delivery.is_accepted(), "{delivery:?}");
    assert_eq!(delivery.accepted().count(), 2);

    // A second message on the same session, through DATA this time.
    session.quit().await.unwrap();
    let mut plain = config(server.port, &cert);
    plain.disable.chunking = true;
    let mut session = Session::connect(&plain, None).await.unwrap();
    let envelope = Envelope::new("a@example.org", ["d@example.net"]);
    let body = b"Subject: over DATA\n\n.dotted again\n";
    assert!(
        session
            .send(&envelope, &body[..], None)
            .await
            .unwrap()
            .is_accepted()
    );
    session.quit().await.unwrap();

    let relayed = server.relayed(2).await;
    let bdat = relayed
        .iter()
        .find(|m| m.contains("over BDAT"))
        .expect("BDAT message relayed");
    assert!(
        bdat.contains("X-Mail-Args: <a@example.org>") && bdat.contains("ENVID=env-1"),
        "{bdat}"
    );
    assert!(bdat.contains("RET=HDRS"), "{bdat}");
    assert!(bdat.contains("ORCPT=rfc822;c+2Bx@example.net"), "{bdat}");
    assert!(bdat.contains("NOTIFY=SUCCESS,FAILURE"), "{bdat}");
    assert!(
        bdat.contains("\n.dotted line\n") || bdat.contains("\r\n.dotted line\r\n"),
        "{bdat}"
    );
    let data = relayed
        .iter()
        .find(|m| m.contains("over DATA"))
        .expect("DATA message relayed");
    assert!(data.contains(".dotted again"), "{data}");
    assert!(
        !data.contains("..dotted"),
        "dot-stuffing must be undone by the server: {data}"
    );
}

#[tokio::test]
async fn postfix_size_limit() {
    let cert = common::cert();
    let server = common::servers::postfix(&cert, 20_000).await;
    let mut session = Session::connect(&config(server.port, &cert), None)
        .await
        .unwrap();
    let envelope = Envelope::new("a@example.org", ["b@example.net"]);
    let big = vec![b'z'; 90_000];
    let err = session
        .send(&envelope, &big[..], Some(big.len() as u64))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { limit: 20_000, .. }),
        "{err}"
    );
    // Size unknown: the server refuses at the end (BDAT chunk or final dot), not the client.
    let delivery = session.send(&envelope, &big[..], None).await.unwrap();
    match &delivery.data {
        DataOutcome::Rejected(reply) => assert_eq!(reply.code, 552, "{reply}"),
        other => panic!("{other:?}"),
    }
    // The session survives for a message that fits.
    let small = b"Subject: small\n\nfits\n";
    assert!(
        session
            .send(&envelope, &small[..], Some(small.len() as u64))
            .await
            .unwrap()
            .is_accepted()
    );
    session.quit().await.unwrap();

    let mut data_only = config(server.port, &cert);
    data_only.disable.chunking = true;
    let mut session = Session::connect(&data_only, None).await.unwrap();
    let delivery = session.send(&envelope, &big[..], None).await.unwrap();
    assert!(
        matches!(&delivery.data, DataOutcome::Rejected(r) if r.code == 552),
        "{delivery:?}"
    );
    session.quit().await.unwrap();
}

#[tokio::test]
async fn postfix_smtputf8() {
    let cert = common::cert();
    let server = common::servers::postfix(&cert, 100_000).await;
    let mut session = Session::connect(&config(server.port, &cert), None)
        .await
        .unwrap();
    let mut envelope = Envelope::new("jörg@example.org", ["δοκιμή@example.net"]);
    envelope.body_8bit = true;
    let body = "Subject: Grüße\n\nΚαλημέρα\n".as_bytes();
    let delivery = session
        .send(&envelope, body, Some(body.len() as u64))
        .await
        .unwrap();
    assert!(delivery.is_accepted(), "{delivery:?}");
    session.quit().await.unwrap();
}

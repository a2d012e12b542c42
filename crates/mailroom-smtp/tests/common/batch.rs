//! Running a batch against a scripted server and recording what the engine asked and told.

use std::cell::RefCell;

use mailroom_smtp::{Delivery, Envelope, Error, Outgoing, Session};

pub const PIPELINING: &str = "250-mx.test\r\n250 PIPELINING\r\n";

pub fn to(rcpt: &str) -> Envelope {
    Envelope::new("a@example.org", [rcpt])
}

/// Runs one batch; returns the outcomes by message index and the order in which the engine
/// asked for messages (`next N`, `next none`) and reported them (`done N`).
pub async fn batch(
    session: &mut Session,
    messages: Vec<(Envelope, &'static [u8])>,
) -> (Vec<Result<Delivery, Error>>, Vec<String>) {
    let log = RefCell::new(Vec::new());
    let outcomes = RefCell::new(Vec::new());
    let mut queue = messages.into_iter().enumerate();
    session
        .send_batch(
            || match queue.next() {
                Some((i, (envelope, body))) => {
                    log.borrow_mut().push(format!("next {i}"));
                    Some(Outgoing::new(i, envelope, body, None))
                }
                None => {
                    log.borrow_mut().push("next none".into());
                    None
                }
            },
            |i, result| {
                log.borrow_mut().push(format!("done {i}"));
                outcomes.borrow_mut().push((i, result));
            },
        )
        .await;
    let outcomes = outcomes.into_inner();
    let order: Vec<usize> = outcomes.iter().map(|(i, _)| *i).collect();
    assert_eq!(
        order,
        (0..order.len()).collect::<Vec<_>>(),
        "reported out of order"
    );
    (
        outcomes.into_iter().map(|(_, r)| r).collect(),
        log.into_inner(),
    )
}

pub fn accepted(result: &Result<Delivery, Error>) -> bool {
    matches!(result, Ok(delivery) if delivery.is_accepted())
}

//! The whole session core (greeting, EHLO, STARTTLS, AUTH, transactions, QUIT) fed
//! arbitrary server bytes: no panic, no unbounded output, always progress.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mailroom_smtp::fuzzing::drive_session(data);
});

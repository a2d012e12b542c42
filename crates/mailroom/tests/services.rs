//! Accounts kept as service entries: create, list, change, default, delete.

use std::sync::Arc;

use mailroom::store::Store;
use mailroom::{CopyToSelf, Services, SmtpSettings};

fn services() -> (tempfile::TempDir, Services) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    (dir, Services::new(store))
}

fn settings(address: &str) -> SmtpSettings {
    SmtpSettings {
        server: Some("smtp://mail.example.com".parse().unwrap()),
        address: Some(address.into()),
        ..SmtpSettings::default()
    }
}

#[test]
fn first_account_is_the_default_and_settings_come_back() {
    let (_dir, services) = services();
    let work = services
        .create("smtp", "work", &settings("me@work.example"))
        .unwrap();
    let home = services
        .create("smtp", "home", &settings("me@home.example"))
        .unwrap();
    let list = services.list(Some("smtp")).unwrap();
    let names: Vec<_> = list
        .iter()
        .map(|s| (s.name.as_str(), s.is_default))
        .collect();
    assert_eq!(names, vec![("home", false), ("work", true)]);
    assert_eq!(services.default_service("smtp").unwrap().unwrap().id, work);

    let mut changed: SmtpSettings = services.settings(home).unwrap();
    assert_eq!(changed.address.as_deref(), Some("me@home.example"));
    changed.copy_to_self = CopyToSelf::Bcc;
    services.set_settings(home, &changed).unwrap();
    let back: SmtpSettings = services.settings(home).unwrap();
    assert_eq!(back.copy_to_self, CopyToSelf::Bcc);

    services.set_default(home).unwrap();
    assert_eq!(
        services.default_service("smtp").unwrap().unwrap().name,
        "home"
    );
}

#[test]
fn names_are_unique_and_deleting_the_default_picks_another() {
    let (_dir, services) = services();
    let a = services
        .create("smtp", "a", &settings("a@example.com"))
        .unwrap();
    services
        .create("smtp", "b", &settings("b@example.com"))
        .unwrap();
    assert!(
        services
            .create("smtp", "a", &settings("c@example.com"))
            .is_err()
    );
    assert!(
        services
            .create("smtp", "", &settings("c@example.com"))
            .is_err()
    );
    services.rename(a, "alpha").unwrap();
    assert!(services.find("smtp", "a").unwrap().is_none());
    services.delete(a).unwrap();
    let list = services.list(Some("smtp")).unwrap();
    assert_eq!(list.len(), 1);
    assert!(list[0].is_default);
    assert!(services.settings::<SmtpSettings>(a).is_err());
}

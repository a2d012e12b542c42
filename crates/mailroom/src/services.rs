//! Services: one account of one module, kept as a service entry under the root, with its
//! settings as a JSON stream of that entry. One service per module can be the default.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;

use mailroom_store::{EntryId, EntryKind, Filter, NewEntry, SendState, Store, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, ErrorKind};

/// The stream of a service entry holding its settings.
const STREAM_SETTINGS: &str = "settings.json";
/// The stream of the root entry naming each module's default service.
const STREAM_DEFAULTS: &str = "default-services.json";

/// One service as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceInfo {
    /// Its entry id.
    pub id: EntryId,
    /// The module it belongs to.
    pub mtm: String,
    /// Its name, unique within its module.
    pub name: String,
    /// Whether it is its module's default.
    pub is_default: bool,
}

/// The services (accounts) of a store.
#[derive(Clone)]
pub struct Services {
    store: Arc<Store>,
}

impl Services {
    /// The services of `store`.
    pub fn new(store: Arc<Store>) -> Services {
        Services { store }
    }

    /// Creates a service named `name` for module `mtm` with `settings`. The first service of a
    /// module becomes its default.
    pub fn create<T: Serialize>(
        &self,
        mtm: &str,
        name: &str,
        settings: &T,
    ) -> Result<EntryId, Error> {
        check_name(name)?;
        if self.find(mtm, name)?.is_some() {
            return Err(Error::input(format!(
                "a {mtm} account named {name:?} already exists"
            )));
        }
        let json = to_json(settings)?;
        let first = self.list(Some(mtm))?.is_empty();
        let new = NewEntry::service(mtm, name);
        let id = self.store.create(
            &new,
            &mut [(STREAM_SETTINGS, &mut json.as_slice() as &mut dyn Read)],
        )?;
        if first {
            self.set_default(id)?;
        }
        Ok(id)
    }

    /// Every service, or those of one module, by name.
    pub fn list(&self, mtm: Option<&str>) -> Result<Vec<ServiceInfo>, Error> {
        let mut filter = Filter::all().kind(EntryKind::Service);
        if let Some(mtm) = mtm {
            filter = filter.mtm(mtm);
        }
        let defaults = self.defaults()?;
        let mut list: Vec<ServiceInfo> = self
            .store
            .children(EntryId::ROOT, &filter)?
            .into_iter()
            .filter(|e| e.id != EntryId::LOCAL_SERVICE)
            .map(|e| ServiceInfo {
                is_default: defaults.get(&e.mtm) == Some(&e.id.0),
                id: e.id,
                mtm: e.mtm,
                name: e.description,
            })
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(list)
    }

    /// The service of module `mtm` named `name`.
    pub fn find(&self, mtm: &str, name: &str) -> Result<Option<ServiceInfo>, Error> {
        Ok(self.list(Some(mtm))?.into_iter().find(|s| s.name == name))
    }

    /// The service named `name`, or an error saying there is none.
    pub fn get(&self, mtm: &str, name: &str) -> Result<ServiceInfo, Error> {
        self.find(mtm, name)?
            .ok_or_else(|| Error::new(ErrorKind::NotFound, format!("no account named {name:?}")))
    }

    /// The default service of module `mtm`, if any.
    pub fn default_service(&self, mtm: &str) -> Result<Option<ServiceInfo>, Error> {
        Ok(self.list(Some(mtm))?.into_iter().find(|s| s.is_default))
    }

    /// Makes `id` its module's default service.
    pub fn set_default(&self, id: EntryId) -> Result<(), Error> {
        let entry = self.service_entry(id)?;
        let mut defaults = self.defaults()?;
        defaults.insert(entry.mtm, id.0);
        let json = to_json(&defaults)?;
        self.store
            .write_stream(EntryId::ROOT, STREAM_DEFAULTS, &mut json.as_slice())?;
        Ok(())
    }

    /// The settings of service `id`.
    pub fn settings<T: DeserializeOwned>(&self, id: EntryId) -> Result<T, Error> {
        self.service_entry(id)?;
        let mut json = Vec::new();
        self.store
            .open_stream(id, STREAM_SETTINGS)?
            .read_to_end(&mut json)
            .map_err(|e| Error::new(ErrorKind::Store, "cannot read the settings").with_source(e))?;
        serde_json::from_slice(&json).map_err(|e| {
            Error::new(
                ErrorKind::Config,
                format!("the settings of service {id} are unreadable"),
            )
            .with_source(e)
        })
    }

    /// Replaces the settings of service `id`.
    pub fn set_settings<T: Serialize>(&self, id: EntryId, settings: &T) -> Result<(), Error> {
        self.service_entry(id)?;
        let json = to_json(settings)?;
        self.store
            .write_stream(id, STREAM_SETTINGS, &mut json.as_slice())?;
        Ok(())
    }

    /// Renames service `id`.
    pub fn rename(&self, id: EntryId, name: &str) -> Result<(), Error> {
        check_name(name)?;
        let mut entry = self.service_entry(id)?;
        if self.find(&entry.mtm, name)?.is_some_and(|s| s.id != id) {
            return Err(Error::input(format!(
                "an account named {name:?} already exists"
            )));
        }
        entry.description = name.to_string();
        self.store.update(&entry)?;
        Ok(())
    }

    /// Deletes service `id`. Refused while messages of it wait in the Outbox; another service
    /// of the module becomes the default if this one was.
    pub fn delete(&self, id: EntryId) -> Result<(), Error> {
        let entry = self.service_entry(id)?;
        let queued = Filter::all().service(id).send_states(&[
            SendState::Waiting,
            SendState::Scheduled,
            SendState::Sending,
            SendState::Resend,
            SendState::UponRequest,
            SendState::Uncertain,
        ]);
        let waiting = self.store.children(EntryId::OUTBOX, &queued)?.len();
        if waiting > 0 {
            return Err(Error::input(format!(
                "{waiting} message(s) of account {:?} are still queued; send or delete them first",
                entry.description
            )));
        }
        let was_default = self.defaults()?.get(&entry.mtm) == Some(&id.0);
        self.store.delete(id)?;
        if was_default {
            let mut defaults = self.defaults()?;
            defaults.remove(&entry.mtm);
            if let Some(next) = self.list(Some(&entry.mtm))?.first() {
                defaults.insert(entry.mtm.clone(), next.id.0);
            }
            let json = to_json(&defaults)?;
            self.store
                .write_stream(EntryId::ROOT, STREAM_DEFAULTS, &mut json.as_slice())?;
        }
        Ok(())
    }

    fn service_entry(&self, id: EntryId) -> Result<mailroom_store::Entry, Error> {
        let entry = self.store.entry(id)?;
        if entry.kind != EntryKind::Service || id == EntryId::LOCAL_SERVICE {
            return Err(Error::input(format!("entry {id} is not an account")));
        }
        Ok(entry)
    }

    fn defaults(&self) -> Result<BTreeMap<String, i64>, Error> {
        let mut json = Vec::new();
        match self.store.open_stream(EntryId::ROOT, STREAM_DEFAULTS) {
            Ok(mut reader) => reader.read_to_end(&mut json).map_err(|e| {
                Error::new(ErrorKind::Store, "cannot read the default accounts").with_source(e)
            })?,
            Err(StoreError::StreamNotFound { .. }) => return Ok(BTreeMap::new()),
            Err(e) => return Err(e.into()),
        };
        serde_json::from_slice(&json).map_err(|e| {
            Error::new(ErrorKind::Store, "the default accounts are unreadable").with_source(e)
        })
    }
}

fn check_name(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.len() > 200 || name.chars().any(|c| c.is_control()) {
        return Err(Error::input(format!(
            "invalid account name {name:?}: 1 to 200 characters, no control characters"
        )));
    }
    Ok(())
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|e| Error::input("cannot encode the settings").with_source(e))
}

//! Facts about this host: its name, its boot, and whether a process on it still runs.

use std::path::Path;

/// This host's name, for lease owners and Maildir file names.
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// This boot of the host: changes when the machine restarts (Linux), else empty.
fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|b| b.trim().replace('-', "").chars().take(12).collect())
        .unwrap_or_default()
}

/// A lease owner name: role, host, boot, process id and a random part. Naming the process and
/// the boot lets another sender on the same host tell a holder that died (its lease can be
/// released at once) from one lost with a restart of the machine (whose unsynced records may
/// be gone).
pub(crate) fn owner_name(role: &str) -> String {
    format!(
        "{role}:{}:{}:{}:{:08x}",
        hostname(),
        boot_id(),
        std::process::id(),
        rand::random::<u32>()
    )
}

/// What is known of a lease holder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Holder {
    /// A running process of this host, or this process.
    Alive,
    /// A process of this host, since this boot, that no longer runs.
    Died,
    /// A process of this host before it restarted.
    Rebooted,
    /// Another host, or a name not made by [`owner_name`].
    Unknown,
}

/// What is known of the holder named `owner`.
pub(crate) fn holder(owner: &str) -> Holder {
    let parts: Vec<&str> = owner.split(':').collect();
    let [_, host, boot, pid, _] = parts.as_slice() else {
        return Holder::Unknown;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return Holder::Unknown;
    };
    if *host != hostname() || !Path::new("/proc/self").exists() {
        return Holder::Unknown;
    }
    if *boot != boot_id() {
        return Holder::Rebooted;
    }
    if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
        Holder::Alive
    } else {
        Holder::Died
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holders_are_told_apart_by_process_boot_and_host() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let (host, boot) = (hostname(), boot_id());
        assert_eq!(holder(&format!("smtp:{host}:{boot}:{pid}:0")), Holder::Died);
        assert_eq!(holder(&owner_name("smtp")), Holder::Alive);
        assert_eq!(
            holder(&format!("smtp:{host}:0000000000ab:{pid}:0")),
            Holder::Rebooted
        );
        assert_eq!(
            holder(&format!("smtp:other-host:{boot}:{pid}:0")),
            Holder::Unknown
        );
        assert_eq!(holder("free text"), Holder::Unknown);
    }
}

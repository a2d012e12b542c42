//! Facts about this host: its name, and whether a process on it still lives.

use std::path::Path;

/// This host's name, for lease owners and Maildir file names.
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// A lease owner name: host, process id and a random part. Naming the process lets another
/// sender on the same host release a lease whose holder died, instead of waiting for it to
/// expire.
pub(crate) fn owner_name(role: &str) -> String {
    format!(
        "{role}:{}:{}:{:08x}",
        hostname(),
        std::process::id(),
        rand::random::<u32>()
    )
}

/// Whether `owner` (made by [`owner_name`]) names a process of this host that no longer runs.
/// Unknown formats, other hosts and systems without `/proc` count as alive.
pub(crate) fn owner_is_dead(owner: &str) -> bool {
    let mut parts = owner.split(':');
    let (_, Some(host), Some(pid)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    host == hostname()
        && pid != std::process::id()
        && Path::new("/proc/self").exists()
        && !Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_of_a_finished_process_is_dead_and_ours_is_alive() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(owner_is_dead(&format!(
            "smtp:{}:{pid}:00000000",
            hostname()
        )));
        assert!(!owner_is_dead(&owner_name("smtp")));
        assert!(!owner_is_dead(&format!("smtp:other-host:{pid}:0")));
        assert!(!owner_is_dead("free text"));
    }
}

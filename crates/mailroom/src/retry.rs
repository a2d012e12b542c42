//! When to try a message again after a transient failure.

use std::time::{Duration, SystemTime};

/// Backoff that grows with the time a message has waited, capped, and a lifetime after which
/// the message fails for good. Each retry waits about as long as the message has already
/// waited, between `min_backoff` and `max_backoff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Shortest wait before a retry.
    pub min_backoff: Duration,
    /// Longest wait before a retry.
    pub max_backoff: Duration,
    /// Give up once a message has waited this long since it was queued.
    pub lifetime: Duration,
}

impl Default for RetryPolicy {
    /// 5 minutes, doubling up to 4 hours between tries, for 5 days.
    fn default() -> Self {
        RetryPolicy {
            min_backoff: Duration::from_secs(5 * 60),
            max_backoff: Duration::from_secs(4 * 3600),
            lifetime: Duration::from_secs(5 * 24 * 3600),
        }
    }
}

impl RetryPolicy {
    /// The time of the next try for a message queued at `queued`, or `None` to give up.
    pub fn next_attempt(&self, queued: SystemTime, now: SystemTime) -> Option<SystemTime> {
        let age = now.duration_since(queued).unwrap_or_default();
        if age >= self.lifetime {
            return None;
        }
        let wait = age.clamp(self.min_backoff, self.max_backoff);
        Some(now + wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_minimum_up_to_the_cap_then_gives_up() {
        let policy = RetryPolicy::default();
        let queued = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut now = queued;
        let mut waits = Vec::new();
        while let Some(next) = policy.next_attempt(queued, now) {
            waits.push(next.duration_since(now).unwrap().as_secs());
            now = next;
        }
        assert_eq!(&waits[..4], &[300, 300, 600, 1200]);
        assert!(waits.iter().all(|&w| w <= 4 * 3600));
        let total = now.duration_since(queued).unwrap();
        assert!(total >= policy.lifetime && total < policy.lifetime + policy.max_backoff);
    }
}

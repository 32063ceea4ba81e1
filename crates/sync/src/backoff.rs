//! Reconnect delays: exponential backoff with full jitter, so a restarted service is not hit
//! by every browser at the same instant.

use std::time::Duration;

/// `delay(n)` is uniform in `[0, min(cap, base · 2^n)]` (AWS's "full jitter").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for BackoffPolicy {
    /// The spec's 1 s base and 60 s cap.
    fn default() -> Self {
        BackoffPolicy {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
        }
    }
}

impl BackoffPolicy {
    /// The longest delay before retry number `retry` (0 for the first retry).
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The delay before retry number `retry`, drawn from `random` (a uniform 64-bit value).
    pub fn delay(&self, retry: u32, random: u64) -> Duration {
        let ceiling = u64::try_from(self.ceiling(retry).as_millis()).unwrap_or(u64::MAX);
        let span = u128::from(ceiling) + 1;
        // Scales the 64-bit value onto [0, ceiling] without the bias of a modulo.
        let millis = (u128::from(random) * span) >> 64;
        Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
    }
}

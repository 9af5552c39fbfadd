//! [`Retry`]: how a failed attempt of a task is retried.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How often and how soon a failed attempt is tried again, for
/// [`TaskBuilder::retry`](crate::asyncio::TaskBuilder::retry).
///
/// An attempt fails when the closure returns `Err`, panics or times out; a cancelled
/// attempt is never retried. Retry `n` comes after `first_delay · 2ⁿ⁻¹` (capped by
/// `max_delay`) with jitter: a delay `d` becomes a random duration in `d/2 ..= d`, so
/// clients that failed together do not retry together. Defaults: 1 s first delay, 30 s
/// cap (as TanStack Query's).
///
/// # Example
/// ```
/// use std::time::Duration;
/// use streamtree::asyncio::Retry;
/// let r = Retry::times(3).backoff(Duration::from_millis(200)).max_delay(Duration::from_secs(2));
/// assert_eq!(r.retries(), 3);
/// assert_eq!(r.first_delay(), Duration::from_millis(200));
/// assert_eq!(r.max_delay_limit(), Duration::from_secs(2));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub struct Retry {
    retries: u32,
    first_delay: Duration,
    max_delay: Duration,
}

impl Retry {
    /// Up to `retries` more attempts after the first.
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::asyncio::Retry::times(2).retries(), 2);
    /// ```
    pub fn times(retries: u32) -> Retry {
        Retry {
            retries,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
        }
    }

    /// The delay before the first retry; each later one doubles it (with jitter).
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// let r = streamtree::asyncio::Retry::times(1).backoff(Duration::ZERO);
    /// assert_eq!(r.first_delay(), Duration::ZERO);
    /// ```
    pub fn backoff(self, first_delay: Duration) -> Retry {
        Retry {
            first_delay,
            ..self
        }
    }

    /// No delay between attempts is longer than `limit`.
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// let r = streamtree::asyncio::Retry::times(9).max_delay(Duration::from_secs(5));
    /// assert_eq!(r.max_delay_limit(), Duration::from_secs(5));
    /// ```
    pub fn max_delay(self, limit: Duration) -> Retry {
        Retry {
            max_delay: limit,
            ..self
        }
    }

    /// How many attempts may follow the first.
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::asyncio::Retry::times(4).retries(), 4);
    /// ```
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// The delay before the first retry, before jitter.
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(streamtree::asyncio::Retry::times(1).first_delay(), Duration::from_secs(1));
    /// ```
    pub fn first_delay(&self) -> Duration {
        self.first_delay
    }

    /// The cap on any delay.
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(streamtree::asyncio::Retry::times(1).max_delay_limit(), Duration::from_secs(30));
    /// ```
    pub fn max_delay_limit(&self) -> Duration {
        self.max_delay
    }

    /// The wait after failed attempt `failed` (1-based), before jitter: doubling from
    /// `first_delay`, capped by `max_delay`.
    pub(crate) fn base_delay(&self, failed: u32) -> Duration {
        let doublings = failed.saturating_sub(1).min(63);
        let factor = 1u64 << doublings;
        let nanos = self
            .first_delay
            .as_nanos()
            .saturating_mul(u128::from(factor));
        let capped = nanos.min(self.max_delay.as_nanos());
        Duration::from_nanos(u64::try_from(capped).unwrap_or(u64::MAX))
    }

    /// The wait after failed attempt `failed`, with jitter: in `base/2 ..= base`.
    pub(crate) fn delay(&self, failed: u32) -> Duration {
        jitter(self.base_delay(failed), random())
    }
}

/// `d` scaled into `d/2 ..= d` by `r` (a uniform `u64`).
pub(crate) fn jitter(d: Duration, r: u64) -> Duration {
    let nanos = d.as_nanos();
    let half = nanos / 2;
    let extra = (nanos - half) * u128::from(r) / u128::from(u64::MAX);
    Duration::from_nanos(u64::try_from(half + extra).unwrap_or(u64::MAX))
}

/// A random `u64` (std's randomly keyed SipHash over a counter; jitter needs no more).
fn random() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static KEYS: std::sync::OnceLock<RandomState> = std::sync::OnceLock::new();
    KEYS.get_or_init(RandomState::new)
        .hash_one(COUNTER.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_the_first_and_stop_at_the_cap() {
        let r = Retry::times(10)
            .backoff(Duration::from_millis(100))
            .max_delay(Duration::from_millis(700));
        let base: Vec<u128> = (1..=5).map(|n| r.base_delay(n).as_millis()).collect();
        assert_eq!(base, [100, 200, 400, 700, 700]);
        assert_eq!(
            Retry::times(1).backoff(Duration::MAX).base_delay(64),
            Duration::from_secs(30)
        );
    }

    #[test]
    fn jitter_stays_between_half_and_all_of_the_delay() {
        let d = Duration::from_millis(400);
        assert_eq!(jitter(d, 0), Duration::from_millis(200));
        assert_eq!(jitter(d, u64::MAX), d);
        for _ in 0..1000 {
            let j = Retry::times(1).backoff(d).delay(1);
            assert!(j >= d / 2 && j <= d, "{j:?}");
        }
    }
}

//! [`Cancelled`]: the error a task returns to stop on a cancel request.

use std::fmt;

/// A task stopped because a cancel was requested. Returned by
/// [`TaskContext::check_cancelled`](crate::asyncio::TaskContext::check_cancelled); a
/// closure given to [`submit_fallible_with`](crate::asyncio::submit_fallible_with) that
/// returns any `Err` while a cancel is requested ends the task
/// [`Cancelled`](crate::asyncio::TaskStatus::Cancelled).
///
/// Displays as `cancelled`; converts into `String` and boxed errors, so `?` works in
/// closures returning `Result<T, String>` or `Result<T, Box<dyn Error + Send + Sync>>`.
///
/// # Example
/// ```
/// use streamtree::asyncio::Cancelled;
/// assert_eq!(Cancelled.to_string(), "cancelled");
/// let as_string: String = Cancelled.into();
/// assert_eq!(as_string, "cancelled");
/// let boxed: Box<dyn std::error::Error + Send + Sync> = Cancelled.into();
/// assert_eq!(boxed.to_string(), "cancelled");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Cancelled;

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cancelled")
    }
}

impl std::error::Error for Cancelled {}

impl From<Cancelled> for String {
    fn from(c: Cancelled) -> String {
        c.to_string()
    }
}

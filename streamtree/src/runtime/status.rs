//! The public status and progress types: what a task reports to handles, summaries and
//! the loading UI.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a task is in its life. `Missing` means the session has no task under the key
/// (never submitted, or dismissed).
///
/// Displays and serializes as the lowercase name.
///
/// # Example
/// ```
/// use streamtree::asyncio::TaskStatus;
/// assert_eq!(TaskStatus::Cancelled.to_string(), "cancelled");
/// assert_eq!(serde_json::to_string(&TaskStatus::Done).unwrap(), "\"done\"");
/// assert!(TaskStatus::Error.is_terminal() && !TaskStatus::Running.is_terminal());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    /// Queued, waiting for a worker.
    Pending,
    /// A worker is running it.
    Running,
    /// Finished with a result.
    Done,
    /// Failed: returned `Err`, or panicked.
    Error,
    /// Cancelled before it started, or stopped early by its worker.
    Cancelled,
    /// No task under this key.
    Missing,
}

impl TaskStatus {
    /// `Done`, `Error` or `Cancelled`: the task will not change any more.
    ///
    /// # Example
    /// ```
    /// assert!(streamtree::asyncio::TaskStatus::Done.is_terminal());
    /// ```
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskStatus::Done | TaskStatus::Error | TaskStatus::Cancelled
        )
    }

    /// The lowercase name, as displayed and serialized.
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::asyncio::TaskStatus::Pending.as_str(), "pending");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::Running => "running",
            TaskStatus::Done => "done",
            TaskStatus::Error => "error",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::Missing => "missing",
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A task's progress: an optional fraction in `0..=1` and an optional message.
///
/// Fractions are clamped into `0..=1`; `NaN` counts as no fraction. Displays as
/// `"50% half way"`, `"50%"`, `"half way"` or `""`.
///
/// # Example
/// ```
/// use streamtree::asyncio::Progress;
/// let p = Progress::from((0.5, "half way"));
/// assert_eq!(p.fraction(), Some(0.5));
/// assert_eq!(p.message(), Some("half way"));
/// assert_eq!(p.to_string(), "50% half way");
/// assert_eq!(Progress::from(1.7).fraction(), Some(1.0));
/// assert_eq!(Progress::from("loading").to_string(), "loading");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Progress {
    fraction: Option<f64>,
    message: Option<String>,
}

impl Progress {
    /// Progress from its parts; the fraction is clamped into `0..=1`.
    ///
    /// # Example
    /// ```
    /// let p = streamtree::asyncio::Progress::new(Some(-1.0), None);
    /// assert_eq!(p.fraction(), Some(0.0));
    /// ```
    pub fn new(fraction: Option<f64>, message: Option<String>) -> Progress {
        let fraction = fraction.filter(|f| !f.is_nan()).map(|f| f.clamp(0.0, 1.0));
        Progress { fraction, message }
    }

    /// The fraction done, in `0..=1`, if one was given.
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::asyncio::Progress::from(0.25).fraction(), Some(0.25));
    /// ```
    pub fn fraction(&self) -> Option<f64> {
        self.fraction
    }

    /// The message, if one was given.
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::asyncio::Progress::from("hi").message(), Some("hi"));
    /// ```
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.fraction, &self.message) {
            (Some(x), Some(m)) => write!(f, "{:.0}% {m}", x * 100.0),
            (Some(x), None) => write!(f, "{:.0}%", x * 100.0),
            (None, Some(m)) => f.write_str(m),
            (None, None) => Ok(()),
        }
    }
}

impl From<f64> for Progress {
    fn from(f: f64) -> Progress {
        Progress::new(Some(f), None)
    }
}

impl From<f32> for Progress {
    fn from(f: f32) -> Progress {
        Progress::new(Some(f64::from(f)), None)
    }
}

impl From<&str> for Progress {
    fn from(m: &str) -> Progress {
        Progress::new(None, Some(m.to_owned()))
    }
}

impl From<String> for Progress {
    fn from(m: String) -> Progress {
        Progress::new(None, Some(m))
    }
}

impl From<(f64, &str)> for Progress {
    fn from((f, m): (f64, &str)) -> Progress {
        Progress::new(Some(f), Some(m.to_owned()))
    }
}

impl From<(f64, String)> for Progress {
    fn from((f, m): (f64, String)) -> Progress {
        Progress::new(Some(f), Some(m))
    }
}

//! PLACEHOLDER (replaced by the task-runtime work): the contract `Session` relies on.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

/// A pool of worker threads shared by sessions.
///
/// # Example
/// ```
/// let rt = streamtree::Runtime::builder().max_workers(2).build();
/// # drop(rt);
/// ```
#[derive(Clone, Debug)]
pub struct Runtime {
    max_workers: usize,
}

/// Configures a [`Runtime`].
///
/// # Example
/// ```
/// let rt = streamtree::Runtime::builder().max_workers(2).build();
/// # drop(rt);
/// ```
#[derive(Debug)]
pub struct RuntimeBuilder {
    max_workers: usize,
}

impl Runtime {
    /// A builder.
    ///
    /// # Example
    /// ```
    /// let rt = streamtree::Runtime::builder().build();
    /// # drop(rt);
    /// ```
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder { max_workers: 64 }
    }

    /// The process-wide runtime.
    ///
    /// # Example
    /// ```
    /// let rt = streamtree::Runtime::global();
    /// # drop(rt);
    /// ```
    pub fn global() -> Runtime {
        Runtime { max_workers: 64 }
    }
}

impl RuntimeBuilder {
    /// The bound.
    ///
    /// # Example
    /// ```
    /// let rt = streamtree::Runtime::builder().max_workers(2).build();
    /// # drop(rt);
    /// ```
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = n;
        self
    }

    /// Builds it.
    ///
    /// # Example
    /// ```
    /// let rt = streamtree::Runtime::builder().build();
    /// # drop(rt);
    /// ```
    pub fn build(self) -> Runtime {
        Runtime {
            max_workers: self.max_workers,
        }
    }
}

pub(crate) struct TaskSet {
    _runtime: Runtime,
    _tx: crossbeam_channel::Sender<()>,
    rx: crossbeam_channel::Receiver<()>,
}

impl TaskSet {
    pub(crate) fn new(runtime: Runtime) -> Arc<TaskSet> {
        let (tx, rx) = crossbeam_channel::unbounded();
        Arc::new(TaskSet {
            _runtime: runtime,
            _tx: tx,
            rx,
        })
    }
    pub(crate) fn wait_idle(&self, _timeout: Duration) -> bool {
        true
    }
    pub(crate) fn close(&self) {}
    pub(crate) fn subscribe(&self) -> Subscription {
        Subscription {
            rx: self.rx.clone(),
        }
    }
}

/// Notifications of task changes.
///
/// # Example
/// ```
/// let sub = streamtree::Session::new().subscribe();
/// assert!(!sub.wait_timeout(std::time::Duration::ZERO));
/// ```
pub struct Subscription {
    rx: crossbeam_channel::Receiver<()>,
}

impl Subscription {
    /// Waits for a change.
    ///
    /// # Example
    /// ```
    /// let sub = streamtree::Session::new().subscribe();
    /// assert!(!sub.wait_timeout(std::time::Duration::ZERO));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.rx.recv_timeout(timeout).is_ok()
    }
}

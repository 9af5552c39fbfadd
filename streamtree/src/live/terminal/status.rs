//! One line per task status change, for runs without a TTY (logs, CI): a task's progress
//! ticks print nothing, its moves between pending, running and an end print one line.

use std::collections::HashMap;

use crate::asyncio::{TaskStatus, summarize_async_tasks};
use crate::session::Session;

/// The statuses seen so far, by task key.
#[derive(Default)]
pub(crate) struct StatusLog {
    seen: HashMap<String, TaskStatus>,
}

impl StatusLog {
    /// Lines for tasks of `session` that are new or changed status since the last call,
    /// sorted by key: `task <key>: <status>` (and the error for a failed task).
    pub(crate) fn changes(&mut self, session: &Session) -> Vec<String> {
        let rows = session.enter(summarize_async_tasks);
        let mut out = Vec::new();
        for row in rows {
            if self.seen.get(&row.key) == Some(&row.status) {
                continue;
            }
            let mut line = format!("task {}: {}", row.key, row.status);
            if let Some(e) = row
                .error_preview
                .as_deref()
                .filter(|_| row.status == TaskStatus::Error)
            {
                line.push_str(": ");
                line.push_str(e);
            }
            out.push(line);
            self.seen.insert(row.key, row.status);
        }
        out
    }
}

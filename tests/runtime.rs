//! Integration tests of the task runtime.

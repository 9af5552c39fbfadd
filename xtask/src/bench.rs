//! `cargo xtask bench`: every benchmark of the runtime crate, release build: render
//! beside maud, the task runtime beside rayon and thread-per-task, and the live server's
//! push latency and memory. Extra arguments go to cargo (`-- NAME` filters).

use crate::util::{cargo, exec};

pub fn run(args: &[String]) -> Result<(), String> {
    exec(
        cargo()
            .args(["bench", "--package", "streamtree", "--features", "serve"])
            .args(args),
    )
}

//! `cargo xtask demo`: the demo gallery.

use crate::util::{cargo, exec};

pub fn run(args: &[String]) -> Result<(), String> {
    exec(
        cargo()
            .args([
                "run",
                "--quiet",
                "--package",
                "streamtree-examples",
                "--example",
                "gallery",
                "--",
            ])
            .args(args),
    )
}

//! `cargo xtask bench`: the divan benchmarks of the runtime crate, printed as tables.

use crate::util::{cargo, exec};

pub fn run(args: &[String]) -> Result<(), String> {
    exec(
        cargo()
            .args(["bench", "--package", "streamtree"])
            .args(args),
    )
}

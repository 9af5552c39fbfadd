//! `cargo xtask demo`: the demo gallery; `demo --distributed` runs
//! `examples/distributed.rs` on NATS instead (`distributed.rs`).

use crate::util::{cargo, exec};

pub fn run(args: &[String]) -> Result<(), String> {
    if let Some((first, rest)) = args.split_first()
        && first == "--distributed"
    {
        return crate::distributed::run(rest);
    }
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

//! `cargo xtask ci`: what CI runs. Fix hints name the command that repairs each failure.

use crate::util::{cargo, exec};

pub fn run(_args: &[String]) -> Result<(), String> {
    exec(cargo().args(["fmt", "--all", "--", "--check"]))
        .map_err(|e| format!("{e}\n  fix: cargo fmt --all"))?;
    exec(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))
    .map_err(|e| format!("{e}\n  fix: the clippy findings above"))?;
    exec(
        cargo()
            .args([
                "doc",
                "--no-deps",
                "--all-features",
                "-p",
                "streamtree",
                "-p",
                "streamtree-macros",
            ])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )
    .map_err(|e| format!("{e}\n  fix: the broken doc links above"))?;
    // CI=true makes insta refuse to write snapshots: any mismatch or new snapshot fails.
    exec(cargo().args(["test", "--workspace"]).env("CI", "true")).map_err(|e| {
        format!("{e}\n  fix: the failing tests above; for snapshots, `cargo insta review`")
    })?;
    // Loom model checks need `--cfg streamtree_loom`: their own target dir keeps the main cache warm.
    exec(
        cargo()
            .args([
                "test",
                "-p",
                "streamtree",
                "--release",
                "--lib",
                "runtime::loom",
            ])
            .env("RUSTFLAGS", "--cfg streamtree_loom")
            .env(
                "CARGO_TARGET_DIR",
                crate::util::project_root().join("target/loom"),
            ),
    )
    .map_err(|e| {
        format!(
            "{e}\n  fix: the invariant the failing model names (streamtree/src/runtime/README.md)"
        )
    })?;
    Ok(())
}

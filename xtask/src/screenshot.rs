//! `cargo xtask screenshot`: the README's pictures, taken by the browser tests that show
//! them (`tests/browser.rs`) with `STREAMTREE_UPDATE_SCREENSHOT=1`: the sales dashboard,
//! ready (`docs/dashboard.png`), and the served gallery after Cancel and Retry
//! (`docs/screenshot.png`).

use std::path::Path;
use std::time::SystemTime;

use crate::util::{cargo, exec, project_root};

/// The tests that write the pictures, and what each writes under `docs/`.
const SHOTS: [(&str, &str); 2] = [
    (
        "sales_dashboard_ready_screenshot_in_headless_chromium",
        "dashboard.png",
    ),
    ("demo_page_live_in_headless_chromium", "screenshot.png"),
];

pub fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!("`screenshot` takes no arguments, got `{arg}`"));
    }
    let started = SystemTime::now();
    let mut test = cargo();
    test.args(["test", "-p", "streamtree-tests", "--test", "browser", "--"])
        .args(SHOTS.map(|(name, _)| name))
        .args(["--exact", "--test-threads=1"])
        .env("STREAMTREE_UPDATE_SCREENSHOT", "1")
        // A skipped test would write nothing and still pass.
        .env_remove("STREAMTREE_SKIP_BROWSER");
    exec(&mut test)?;
    for (_, file) in SHOTS {
        let path = project_root().join("docs").join(file);
        if !written_since(&path, started) {
            return Err(format!("{} was not written", path.display()));
        }
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Whether `path` was modified at or after `since`.
fn written_since(path: &Path, since: SystemTime) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|at| at >= since)
}

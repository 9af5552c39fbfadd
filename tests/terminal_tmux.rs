//! The interactive terminal as a person uses it: the demo gallery in a real terminal
//! (tmux, on a private socket), Tab to the long job's Cancel button, Enter, see
//! "Cancelled.", quit with `q`, and the shell prompt comes back clean (the exit status,
//! the terminal settings as before, the cursor shown).
//!
//! tmux is an external process, so the test polls its screen (`capture-pane`) with a
//! deadline for each step. Without tmux the test fails with a message saying how to
//! install it, unless `STREAMTREE_SKIP_TMUX=1`.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one step may take on a slow CI machine.
const STEP: Duration = Duration::from_secs(20);

/// A tmux server on its own socket, killed when dropped (also when the test fails).
struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run tmux")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "gallery"]).stdout)
            .into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "gallery"];
        args.extend_from_slice(keys);
        let out = self.cmd(&args);
        assert!(out.status.success(), "tmux send-keys {keys:?}: {out:?}");
    }

    /// Polls the screen until `ok` holds, or fails after [`STEP`] saying what was awaited.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + STEP;
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

/// The lines of the long job's card (from its heading to the card's bottom border).
fn long_job_card(screen: &str) -> Option<String> {
    let lines: Vec<&str> = screen.lines().collect();
    let start = lines.iter().position(|l| l.contains("│ Long job"))?;
    let end = start + lines[start..].iter().position(|l| l.contains('└'))?;
    Some(lines[start..end].join("\n"))
}

/// Builds the gallery example and returns its path, via cargo's JSON artifact messages.
fn gallery() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut child = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--package",
            "streamtree-examples",
            "--example",
            "gallery",
            "--message-format=json",
        ])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stdout(Stdio::piped())
        .spawn()
        .expect("run cargo build");
    let stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout));
    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for cargo build") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("building the gallery example took over 10 minutes");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "cargo build --example gallery failed");
    let out = reader.join().expect("reader").expect("cargo output");
    out.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["target"]["name"] == "gallery")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo reported no gallery executable")
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[test]
fn tab_to_cancel_press_enter_quit_and_the_prompt_comes_back_clean() {
    if Command::new("tmux").arg("-V").output().is_err() {
        if std::env::var("STREAMTREE_SKIP_TMUX").is_ok_and(|v| v == "1") {
            eprintln!("skipped: tmux is not installed and STREAMTREE_SKIP_TMUX=1");
            return;
        }
        panic!(
            "this test drives the gallery in tmux: install it (`apt-get install -y tmux`, as \
             .ci/run does) or set STREAMTREE_SKIP_TMUX=1 to skip it"
        );
    }
    let bin = gallery();
    let tmux = Tmux {
        socket: format!("streamtree-test-{}", std::process::id()),
    };
    // The terminal settings before and after must match: raw mode is off again.
    let script = format!(
        "before=$(stty -g); {}; rc=$?; [ \"$(stty -g)\" = \"$before\" ] && echo TTY-RESTORED; \
         echo DONE-$rc; exec sleep 600",
        shell_quote(bin.to_str().expect("utf-8 path"))
    );
    // Tall enough for the whole gallery (about 170 lines): the card's heading never
    // scrolls out of the captured pane while the test looks for it.
    let out = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "gallery",
        "-x",
        "150",
        "-y",
        "250",
        "sh",
        "-c",
        &script,
    ]);
    assert!(out.status.success(), "tmux new-session: {out:?}");

    // The long job takes 3 s; should it end before Cancel is pressed (a slow machine),
    // Retry starts it again, as a person would.
    let mut cancelled = false;
    for _attempt in 0..3 {
        tmux.wait_for("the long job with its Cancel button", |s| {
            long_job_card(s).is_some_and(|c| c.contains("Cancel ]") || c.contains(">Cancel<"))
                || long_job_card(s).is_some_and(|c| c.contains("Finished all"))
        });
        // Tab until the long job's Cancel (or, if it finished, its Retry) has focus.
        let mut target = None;
        for _ in 0..12 {
            let screen = tmux.screen();
            let card = long_job_card(&screen).unwrap_or_default();
            if card.contains("[>Cancel<]") {
                target = Some("cancel");
                break;
            }
            if card.contains("[>Retry<]") {
                target = Some("retry");
                break;
            }
            let focused = screen.matches("[>").count();
            tmux.keys(&["Tab"]);
            // Wait for the focus to move (or the page to change) before looking again.
            let before = screen.clone();
            tmux.wait_for("the screen to answer Tab", |s| {
                s != before || (focused == 0 && s.contains("[>"))
            });
        }
        let target = target.expect("Tab never reached the long job's buttons");
        tmux.keys(&["Enter"]);
        if target == "retry" {
            continue;
        }
        let screen = tmux.wait_for("the long job to end after Cancel", |s| {
            long_job_card(s).is_some_and(|c| c.contains("Cancelled.") || c.contains("Finished all"))
        });
        if long_job_card(&screen).is_some_and(|c| c.contains("Cancelled.")) {
            cancelled = true;
            break;
        }
    }
    assert!(
        cancelled,
        "the long job never showed Cancelled. after Enter on Cancel"
    );

    tmux.keys(&["q"]);
    let screen = tmux.wait_for("the shell after `q`", |s| s.contains("DONE-"));
    assert!(
        screen.lines().any(|l| l == "DONE-0"),
        "exit status 0, at column 0:\n{screen}"
    );
    assert!(
        screen.lines().any(|l| l == "TTY-RESTORED"),
        "terminal settings restored (raw mode off):\n{screen}"
    );
    let cursor = tmux.cmd(&["display-message", "-p", "-t", "gallery", "#{cursor_flag}"]);
    assert_eq!(
        String::from_utf8_lossy(&cursor.stdout).trim(),
        "1",
        "the cursor is shown again"
    );
}

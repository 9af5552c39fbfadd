//! Unit tests of the terminal runner: screen output, the loop, keys fed through a channel.

use super::screen::physical_lines;
use super::*;
use crate::asyncio::{set_task_progress, submit};
use crate::elements::{Button, HStack, ProgressBar, Text, VStack};
use crate::loading::match_task;
use crate::session::state::session_state;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex};

#[test]
fn wrapped_lines_count() {
    assert_eq!(physical_lines("ab\ncdef\n", 2), 3);
    assert_eq!(physical_lines("\n\n", 10), 2);
    // Reverse video takes no room.
    assert_eq!(physical_lines("\u{1b}[7m[>Go<]\u{1b}[27m\n", 6), 1);
}

#[test]
fn redraw_mode_moves_back_over_the_last_frame_and_restores_cursor() {
    let mut out = Vec::new();
    {
        let mut screen = Screen::new(&mut out, Mode::Redraw).unwrap();
        screen.draw("a\nb\n", 1).unwrap();
        screen.draw("c\n", 2).unwrap();
    }
    let s = String::from_utf8(out).unwrap();
    assert!(s.starts_with("\u{1b}[?25l"), "cursor hidden first: {s:?}");
    assert!(s.contains("\u{1b}[2A"), "moved up two lines: {s:?}");
    // Raw mode does not return the carriage on `\n`: lines end in `\r\n`.
    assert!(s.contains("a\r\nb\r\n"), "lines end in CR LF: {s:?}");
    assert!(s.ends_with("\u{1b}[?25h"), "cursor shown at the end: {s:?}");
}

#[test]
fn reruns_on_each_change_and_stops_when_settled() {
    // The worker waits at each gate, so every step is a distinct, observed state.
    let (step_tx, step_rx) = channel::<()>();
    let step_rx = Arc::new(Mutex::new(step_rx));
    let frames_seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let session = Session::builder().max_workers(1).build();
    let (drawn_tx, drawn_rx) = channel::<()>();
    let gate = step_rx.clone();
    let app = move || {
        let gate = gate.clone();
        let h = submit("job", move || {
            let rx = gate.lock().unwrap();
            rx.recv().unwrap();
            set_task_progress("job", 0.5);
            rx.recv().unwrap();
            7
        });
        match_task(&h)
            .loading_with(|p| match p {
                Some(p) => ProgressBar(p),
                None => Text("waiting"),
            })
            .ready(|n| Text(format!("done {n}")))
            .into()
    };
    // A writer that reports each frame, so the test releases the next step only
    // after the runner has drawn the current one.
    struct Probe(Arc<Mutex<Vec<String>>>, std::sync::mpsc::Sender<()>);
    impl Write for Probe {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            let s = String::from_utf8_lossy(b).into_owned();
            let body = s.split_once('\n').map_or("", |(_, rest)| rest);
            self.0.lock().unwrap().push(body.to_owned());
            let _ = self.1.send(());
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let seen = frames_seen.clone();
    let runner = std::thread::spawn(move || {
        terminal(app)
            .session(session)
            .run_to(&mut Probe(seen, drawn_tx), Mode::Frames)
            .unwrap()
    });
    drawn_rx.recv().unwrap();
    step_tx.send(()).unwrap();
    drawn_rx.recv().unwrap();
    step_tx.send(()).unwrap();
    let report = runner.join().unwrap();
    assert_eq!(
        *frames_seen.lock().unwrap(),
        ["waiting\n", "[##########..........] 50%\n", "done 7\n"]
    );
    assert_eq!(report.frames, 3);
    assert!(!report.interrupted);
}

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// Keys queued before the run are read in order, each answered by a rerun: Tab focuses
/// the first button, Tab again the second, Enter presses it, `q` quits. The page has a
/// button, so without `q` the run would not end although no task is running.
#[test]
fn keys_move_focus_press_the_focused_button_and_quit() {
    let app = || {
        let count = session_state("count", || 0);
        let bump = count.clone();
        VStack([
            Text(format!("count {}", count.get())),
            HStack([
                Button("Noop").key("noop"),
                Button("Add")
                    .key("add")
                    .on_click(move || bump.update(|n| *n += 1)),
            ]),
        ])
    };
    let (tx, rx) = crossbeam_channel::unbounded();
    for k in [
        KeyCode::Tab,
        KeyCode::Tab,
        KeyCode::Enter,
        KeyCode::Char('q'),
    ] {
        tx.send(key(k)).unwrap();
    }
    let mut out = Vec::new();
    let report = terminal(app)
        .run_inner(&mut out, Mode::Frames, &never(), Some(&rx))
        .unwrap();
    let out = String::from_utf8(out).unwrap();
    let frames: Vec<&str> = out.split("=== frame ").skip(1).collect();
    assert_eq!(frames.len(), 4, "{out}");
    assert!(frames[0].contains("count 0\n[ Noop ]  [ Add ]"), "{out}");
    assert!(frames[1].contains("[>Noop<]  [ Add ]"), "{out}");
    assert!(frames[2].contains("count 0\n[ Noop ]  [>Add<]"), "{out}");
    assert!(frames[3].contains("count 1\n[ Noop ]  [>Add<]"), "{out}");
    assert!(report.interrupted, "q stopped the run");
}

/// With keys but nothing to press, the run still ends when the page settles.
#[test]
fn with_keys_but_no_button_the_run_ends_when_settled() {
    let (_tx, rx) = crossbeam_channel::unbounded::<Event>();
    let mut out = Vec::new();
    let report = terminal(|| Text("nothing to press"))
        .run_inner(&mut out, Mode::Frames, &never(), Some(&rx))
        .unwrap();
    assert_eq!((report.frames, report.interrupted), (1, false));
}

/// Without a TTY: one line per status change (not per progress tick), then the final frame.
#[test]
fn final_mode_prints_status_changes_and_the_settled_frame() {
    let (step_tx, step_rx) = crossbeam_channel::unbounded::<()>();
    let session = Session::builder().max_workers(1).build();
    let app = move || {
        let rx = step_rx.clone();
        let h = submit("job", move || {
            for i in 0..3 {
                // Bounded: a failing test does not strand the worker.
                rx.recv_timeout(std::time::Duration::from_secs(10))
                    .expect("the test never let the job go on");
                set_task_progress("job", f64::from(i) / 3.0);
            }
            7
        });
        match_task(&h)
            .loading_with(|p| match p {
                Some(p) => ProgressBar(p),
                None => Text("waiting"),
            })
            .ready(|n| Text(format!("done {n}")))
            .into()
    };
    for _ in 0..3 {
        step_tx.send(()).unwrap();
    }
    let mut out = Vec::new();
    let report = terminal(app)
        .session(session)
        .run_to(&mut out, Mode::Final)
        .unwrap();
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    // The job may be seen pending, running or already done at the first rerun; each
    // status it is seen in prints once, in order, and it ends done.
    let statuses: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("task job: "))
        .collect();
    assert!(!statuses.is_empty() && statuses.len() <= 3, "{out}");
    assert_eq!(statuses.last(), Some(&"done"), "{out}");
    let mut dedup = statuses.clone();
    dedup.dedup();
    assert_eq!(dedup, statuses, "one line per change: {out}");
    assert_eq!(lines.last(), Some(&"done 7"), "{out}");
    assert!(!out.contains('#'), "no progress frames: {out}");
    assert_eq!(report.frames, 1);
}

/// A key that means nothing costs no rerun.
#[test]
fn unbound_keys_do_not_rerun() {
    let (tx, rx) = crossbeam_channel::unbounded();
    for k in [KeyCode::Char('x'), KeyCode::Left, KeyCode::Char('q')] {
        tx.send(key(k)).unwrap();
    }
    let report = terminal(|| Button("Go"))
        .run_inner(&mut Vec::new(), Mode::Frames, &never(), Some(&rx))
        .unwrap();
    assert_eq!((report.reruns, report.interrupted), (1, true));
}

/// A panic while drawing (here the writer's own) still shows the cursor again: the
/// screen's drop guard runs while unwinding.
#[test]
fn a_panic_mid_run_still_restores_the_cursor() {
    struct PanicsOnce(Vec<u8>, bool);
    impl Write for PanicsOnce {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            if !self.1 && b.windows(2).any(|w| w == b"hi") {
                self.1 = true;
                panic!("the terminal went away");
            }
            self.0.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut out = PanicsOnce(Vec::new(), false);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        terminal(|| Text("hi")).run_to(&mut out, Mode::Redraw)
    }));
    assert!(result.is_err(), "the writer panicked");
    let s = String::from_utf8(out.0).unwrap();
    assert!(s.starts_with("\u{1b}[?25l"), "cursor hidden first: {s:?}");
    assert!(
        s.ends_with("\u{1b}[?25h"),
        "cursor shown after the panic: {s:?}"
    );
}

/// Runs `app` with `keys` queued (then `q`, unless the last key is already a quit) and
/// returns the frames.
fn frames_after(app: impl Fn() -> Element + 'static, keys: &[Event]) -> Vec<String> {
    let (tx, rx) = crossbeam_channel::unbounded();
    for k in keys {
        tx.send(*k).unwrap();
    }
    tx.send(Event::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )))
    .unwrap();
    let mut out = Vec::new();
    let report = terminal(app)
        .run_inner(&mut out, Mode::Frames, &never(), Some(&rx))
        .unwrap();
    assert!(report.interrupted, "Ctrl-C stopped the run");
    let out = String::from_utf8(out).unwrap();
    out.split("=== frame ")
        .skip(1)
        .map(|f| f.split_once('\n').map_or("", |(_, body)| body).to_owned())
        .collect()
}

fn chars(s: &str) -> Vec<Event> {
    s.chars().map(|c| key(KeyCode::Char(c))).collect()
}

/// Tab reaches a text input; typing (with `q` and `t` as letters) edits a buffer shown
/// with a caret, Backspace deletes, Enter commits through `set_input`, and the app reads
/// the new value. Tab then moves on to the button.
#[test]
fn typing_into_a_text_input_commits_the_value() {
    let app = || {
        let name = crate::session::input::TextInput("Name").key("name");
        let shown = format!("hello {}", name.value());
        VStack([name.into(), Text(shown), Button("Go").key("go")])
    };
    let mut keys = vec![key(KeyCode::Tab)];
    keys.extend(chars("qtx"));
    keys.push(key(KeyCode::Backspace));
    keys.push(key(KeyCode::Enter));
    keys.push(key(KeyCode::Tab));
    let frames = frames_after(app, &keys);
    let last = frames.last().unwrap();
    assert!(
        frames.iter().any(|f| f.contains("> Name: [qtx▏")),
        "the buffer shows with a caret: {frames:#?}"
    );
    assert!(last.contains("hello qt"), "committed: {frames:#?}");
    assert!(
        last.contains("Name: [qt ") && last.contains("[>Go<]"),
        "{last}"
    );
}

/// Left / Right change a focused select at once, stopping at the ends.
#[test]
fn arrows_change_a_select() {
    let app = || {
        let days = crate::session::input::Select("Days", [7, 30, 90]).key("days");
        let shown = format!("chosen {}", days.value());
        VStack([days.into(), Text(shown)])
    };
    let frames = frames_after(
        app,
        &[
            key(KeyCode::Tab),
            key(KeyCode::Right),
            key(KeyCode::Right),
            key(KeyCode::Right),
            key(KeyCode::Left),
        ],
    );
    let chosen: Vec<&str> = frames
        .iter()
        .filter_map(|f| f.lines().find_map(|l| l.strip_prefix("chosen ")))
        .collect();
    assert_eq!(chosen.first(), Some(&"7"), "{frames:#?}");
    assert_eq!(chosen.last(), Some(&"30"), "{frames:#?}");
    assert!(chosen.contains(&"90"), "{frames:#?}");
    assert!(
        frames.last().unwrap().contains("> Days: [30 ▾]"),
        "{frames:#?}"
    );
}

/// A value the input refuses leaves the old one and shows why; Esc cancels an edit.
#[test]
fn a_refused_number_shows_the_error_and_keeps_the_old_value() {
    let app = || {
        let age = crate::session::input::NumberInput::<i64>("Age")
            .key("age")
            .min(0)
            .max(120);
        let shown = format!("age {}", age.value());
        VStack([age.into(), Text(shown)])
    };
    let mut keys = vec![key(KeyCode::Tab), key(KeyCode::Backspace)];
    keys.extend(chars("500"));
    keys.push(key(KeyCode::Enter));
    let frames = frames_after(app, &keys);
    let last = frames.last().unwrap();
    assert!(last.contains("age 0"), "old value kept: {last}");
    assert!(last.contains("> Age: [0 "), "old value shown: {last}");
    let error = last.lines().last().unwrap();
    assert!(error.starts_with("! ") && error.contains("500"), "{last}");

    // Esc drops the buffer without committing.
    let mut keys = vec![key(KeyCode::Tab)];
    keys.extend(chars("7"));
    keys.push(key(KeyCode::Esc));
    let frames = frames_after(app, &keys);
    assert!(frames.iter().any(|f| f.contains("[07▏")), "{frames:#?}");
    let last = frames.last().unwrap();
    assert!(
        last.contains("> Age: [0 ") && last.contains("age 0"),
        "{last}"
    );
}

/// Space toggles a focused checkbox; `t` shows the task inspector, whose Cancel button
/// joins the focus list: pressing it cancels the running task, and the page says so.
#[test]
fn t_shows_the_inspector_and_its_cancel_button_works() {
    let app = move || {
        let h = crate::asyncio::submit_fallible_with(
            "slow",
            |ctx: &crate::asyncio::TaskContext<'_>| {
                // Holds until cancelled (bounded, so a failing test frees the worker).
                if ctx.wait_cancelled(std::time::Duration::from_secs(10)) {
                    Err(crate::asyncio::Cancelled)
                } else {
                    Ok(1)
                }
            },
        );
        let agree = crate::session::input::Checkbox("Agree").key("agree");
        let shown = format!("agree {}", agree.value());
        VStack([
            agree.into(),
            Text(shown),
            match_task(&h)
                .loading(Text("working"))
                .ready(|n| Text(format!("done {n}")))
                .cancelled(Text("Cancelled."))
                .into(),
        ])
    };
    // Frames reach the test as they are written.
    struct Probe(crossbeam_channel::Sender<String>);
    impl Write for Probe {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            let _ = self.0.send(String::from_utf8_lossy(b).into_owned());
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let (keys_tx, keys_rx) = crossbeam_channel::unbounded();
    for k in [
        KeyCode::Tab,
        KeyCode::Char(' '),
        KeyCode::Char('t'),
        KeyCode::Tab,
        KeyCode::Enter,
    ] {
        keys_tx.send(key(k)).unwrap();
    }
    let (out_tx, out_rx) = crossbeam_channel::unbounded();
    let runner = std::thread::spawn(move || {
        terminal(app)
            .run_inner(&mut Probe(out_tx), Mode::Frames, &never(), Some(&keys_rx))
            .unwrap()
    });
    let mut out = String::new();
    while !out.contains("Cancelled.") {
        match out_rx.recv_timeout(std::time::Duration::from_secs(10)) {
            Ok(s) => out.push_str(&s),
            Err(e) => panic!("no \"Cancelled.\" ({e}): {out}"),
        }
    }
    keys_tx
        .send(Event::Key(KeyEvent::new(
            KeyCode::Char('c'),
            KeyModifiers::CONTROL,
        )))
        .unwrap();
    assert!(runner.join().unwrap().interrupted);
    assert!(out.contains("agree true"), "Space toggled: {out}");
    let inspector = out
        .split("=== frame ")
        .find(|f| f.contains("Tasks (1)") && f.contains("[>Cancel<]"))
        .unwrap_or_else(|| panic!("the inspector with Cancel focused: {out}"));
    assert!(inspector.contains("slow"), "{inspector}");
}

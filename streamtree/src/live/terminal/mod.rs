//! The terminal runner: reruns the app whenever its session's tasks change and shows
//! each rerun in the readable text format ([`crate::render::readable`]).
//!
//! On an interactive terminal (standard input and output both TTYs) it redraws in place
//! and takes keys: Tab / Shift-Tab move focus among the page's enabled buttons and inputs
//! (`focus.rs`), Enter or Space presses the focused button (through [`Session::click`],
//! then a rerun); typing edits a focused text or number input in an edit buffer that
//! Enter or Tab commits through [`Session::set_input`] (a refused value leaves the old one
//! and shows the error under the page), Esc cancels it; Left / Right change a select or
//! slider and Space a checkbox at once; `t` shows or hides the task inspector
//! ([`with_task_inspector`], whose buttons join the focus list); `q` (unless typed into
//! an input) or Ctrl-C quits. Without
//! a TTY it prints one line per task status change and the settled final frame
//! ([`Mode::Final`]), or every distinct frame with [`Terminal::frames`].
//!
//! Invariants:
//! - the runner subscribes before its first rerun, so no change between a rerun and the
//!   next wait is lost (the subscription keeps one pending notification);
//! - it returns on its own only after a rerun that began with every task settled and
//!   during which no task was submitted or changed, so the last frame shows the settled
//!   state; while keys are read and the page has anything to press, it waits for `q`;
//! - an edit buffer belongs to the focused input: it ends (committed, refused or
//!   cancelled) before focus moves, and is dropped if its input leaves the page;
//! - redraws on task changes are coalesced: at most `max_redraws_per_second`, extra
//!   notifications inside the interval fold into the next rerun; a key is answered at once;
//! - the terminal is restored (raw mode off, cursor shown) on return and on panic (drop
//!   guards: `RawMode`, `Screen`), and the key reader thread is joined.

mod focus;
mod keys;
mod screen;
mod status;

use std::io::{self, IsTerminal, Write};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, never, select};
use crossterm::event::Event;

use self::focus::{Focus, Focusable, arrow_value, focusables};
use self::keys::{Action, KeyReader, RawMode, action};
use self::screen::Screen;
use self::status::StatusLog;
use crate::element::Element;
use crate::live::inspector::with_task_inspector;
use crate::render::readable::{self, Style};
use crate::session::Session;

/// How frames reach the output.
///
/// # Example
/// ```
/// use streamtree::live::Mode;
/// assert_ne!(Mode::Redraw, Mode::Frames);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Redraw in place (cursor movement): for an interactive terminal.
    Redraw,
    /// Print each distinct frame once under a `=== frame N ===` line: for logs and CI
    /// when every step matters.
    Frames,
    /// Print one line per task status change (`task <key>: running`), then the final
    /// frame: the default without a TTY.
    Final,
}

/// What a run did, for callers and tests.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let report = streamtree::live::terminal(|| Text("hi"))
///     .run_to(&mut Vec::new(), streamtree::live::Mode::Frames)
///     .unwrap();
/// assert_eq!((report.reruns, report.frames, report.interrupted), (1, 1, false));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TerminalReport {
    /// Reruns performed.
    pub reruns: usize,
    /// Distinct frames written.
    pub frames: usize,
    /// True when Ctrl-C (or `q` on an interactive terminal) stopped the run.
    pub interrupted: bool,
}

/// A terminal runner, configured by its methods and started by [`run`](Terminal::run).
///
/// # Example
/// ```
/// use std::time::Duration;
/// use streamtree::prelude::*;
///
/// let app = || {
///     let h = submit("answer", || 42);
///     match_task(&h).loading(Text("Loading…")).ready(|n| Text(format!("Ready: {n}"))).into()
/// };
/// let mut out = Vec::new();
/// streamtree::live::terminal(app).run_to(&mut out, streamtree::live::Mode::Frames).unwrap();
/// let out = String::from_utf8(out).unwrap();
/// assert!(out.ends_with("Ready: 42\n"), "{out}");
/// ```
#[must_use = "a Terminal does nothing until `.run()`"]
pub struct Terminal {
    root: Box<dyn Fn() -> Element>,
    session: Option<Session>,
    follow: bool,
    frames: bool,
    min_interval: Duration,
}

/// A terminal runner for `root` in a new session: reruns on every task change until all
/// tasks have settled.
///
/// # Example
/// ```
/// let runner = streamtree::live::terminal(|| streamtree::elements::Text("x")).follow(false);
/// # drop(runner);
/// ```
pub fn terminal(root: impl Fn() -> Element + 'static) -> Terminal {
    Terminal {
        root: Box::new(root),
        session: None,
        follow: false,
        frames: false,
        min_interval: Duration::from_secs(1) / 30,
    }
}

impl Terminal {
    /// Runs in `session` instead of a new one (for example one with a private pool).
    ///
    /// # Example
    /// ```
    /// let t = streamtree::live::terminal(streamtree::Element::empty).session(streamtree::Session::new());
    /// # drop(t);
    /// ```
    pub fn session(mut self, session: Session) -> Self {
        self.session = Some(session);
        self
    }

    /// Keeps running after every task has settled, until Ctrl-C.
    ///
    /// # Example
    /// ```
    /// let t = streamtree::live::terminal(streamtree::Element::empty).follow(true);
    /// # drop(t);
    /// ```
    pub fn follow(mut self, follow: bool) -> Self {
        self.follow = follow;
        self
    }

    /// Without a TTY, prints every distinct frame ([`Mode::Frames`]) instead of the task
    /// status changes and the final frame ([`Mode::Final`]).
    ///
    /// # Example
    /// ```
    /// let t = streamtree::live::terminal(streamtree::Element::empty).frames(true);
    /// # drop(t);
    /// ```
    pub fn frames(mut self, frames: bool) -> Self {
        self.frames = frames;
        self
    }

    /// Caps redraws per second (default 30; at least 1).
    ///
    /// # Example
    /// ```
    /// let t = streamtree::live::terminal(streamtree::Element::empty).max_redraws_per_second(10);
    /// # drop(t);
    /// ```
    pub fn max_redraws_per_second(mut self, n: u32) -> Self {
        self.min_interval = Duration::from_secs(1) / n.max(1);
        self
    }

    /// Runs on standard output. On an interactive terminal it redraws in place and takes
    /// keys (Tab / Shift-Tab focus, Enter or Space press, typing and arrows edit inputs,
    /// `t` toggles the task inspector, `q` or Ctrl-C quit), and while the page has a
    /// button or input it runs until quit. Otherwise it prints task status changes
    /// and the final frame (or every frame, see [`frames`](Terminal::frames)). The
    /// terminal is restored on return and on panic.
    ///
    /// # Errors
    /// When writing to standard output or switching the terminal mode fails.
    ///
    /// # Example
    /// ```no_run
    /// streamtree::live::terminal(|| streamtree::elements::Text("hello")).run().unwrap();
    /// ```
    pub fn run(self) -> io::Result<TerminalReport> {
        let stdout = io::stdout();
        let stop = ctrl_c().cloned().unwrap_or_else(never);
        if !stdout.is_terminal() {
            let mode = if self.frames {
                Mode::Frames
            } else {
                Mode::Final
            };
            return self.run_inner(&mut stdout.lock(), mode, &stop, None);
        }
        if !io::stdin().is_terminal() {
            return self.run_inner(&mut stdout.lock(), Mode::Redraw, &stop, None);
        }
        // Declared in this order so they drop in reverse: the reader stops before raw
        // mode goes off, and the screen (inside) shows the cursor before both.
        let _raw = RawMode::enable()?;
        let reader = KeyReader::spawn()?;
        self.run_inner(
            &mut stdout.lock(),
            Mode::Redraw,
            &stop,
            Some(&reader.events),
        )
    }

    /// Runs writing to `out` in the given mode (no Ctrl-C handling): for tests and for
    /// embedding.
    ///
    /// # Errors
    /// When writing to `out` fails.
    ///
    /// # Example
    /// ```
    /// let mut out = Vec::new();
    /// streamtree::live::terminal(|| streamtree::elements::Text("x"))
    ///     .run_to(&mut out, streamtree::live::Mode::Frames)
    ///     .unwrap();
    /// assert_eq!(String::from_utf8(out).unwrap(), "=== frame 1 ===\nx\n");
    /// ```
    pub fn run_to(self, out: &mut impl Write, mode: Mode) -> io::Result<TerminalReport> {
        self.run_inner(out, mode, &never(), None)
    }

    /// The loop. `keys`, when given, are terminal events (an interactive terminal, or a
    /// test's channel): with them, a page with anything to press keeps the run going
    /// until `q`.
    fn run_inner(
        self,
        out: &mut impl Write,
        mode: Mode,
        stop: &Receiver<()>,
        keys: Option<&Receiver<Event>>,
    ) -> io::Result<TerminalReport> {
        let session = self.session.clone().unwrap_or_default();
        let changes = session.subscribe();
        let no_keys = never();
        let mut events = keys.unwrap_or(&no_keys);
        let mut keys_live = keys.is_some();
        let mut screen = Screen::new(out, mode)?;
        let mut focus = Focus::default();
        let mut log = StatusLog::default();
        let mut report = TerminalReport {
            reruns: 0,
            frames: 0,
            interrupted: false,
        };
        let mut last_frame = None::<String>;
        // The focused input's edit buffer (address, text), the last refusal to show, and
        // whether the task inspector is shown.
        let mut edit = None::<(String, String)>;
        let mut error = None::<String>;
        let mut inspector = false;
        loop {
            // Forget changes this rerun is about to show, so any left afterwards are news.
            while changes.try_recv() {}
            let settled_before = session.wait_idle(Duration::ZERO);
            let tree = session.rerun(|| with_task_inspector((self.root)(), inspector));
            report.reruns += 1;
            if keys_live {
                focus.update(focusables(&tree));
            }
            if edit.as_ref().map(|(a, _)| a.as_str()) != focus.current().map(Focusable::address) {
                edit = None;
            }
            let style = Style {
                width: screen.width(),
                focused: focus.current().map(Focusable::address),
                editing: edit.as_ref().map(|(_, text)| text.as_str()),
                ansi: mode == Mode::Redraw,
            };
            let mut frame = readable::render_with(&tree, &style);
            drop(tree);
            if let Some(e) = &error {
                frame.push_str(&format!("! {e}\n"));
            }
            if mode == Mode::Final {
                for line in log.changes(&session) {
                    screen.note(&line)?;
                }
            }
            if last_frame.as_ref() != Some(&frame) {
                report.frames += usize::from(screen.draw(&frame, report.frames + 1)?);
                last_frame = Some(frame);
            }
            let drawn_at = Instant::now();
            let awaits_keys = keys_live && !focus.is_empty();
            if !self.follow && !awaits_keys && session.wait_idle(Duration::ZERO) {
                // Final only if the rerun began settled (a task that settled during it may
                // have been drawn before it finished) and submitted or changed nothing.
                if settled_before && !changes.try_recv() {
                    report.frames += usize::from(screen.finish()?);
                    return Ok(report);
                }
                continue;
            }
            // Block until a task changes, a key arrives, or Ctrl-C.
            // Keys that mean nothing are skipped here, so they cost no rerun.
            let key = loop {
                let key = select! {
                    recv(changes.receiver()) -> _ => None,
                    recv(events) -> ev => match ev {
                        Ok(ev) => Some(command(action(&ev), focus.current(), edit.is_some())),
                        Err(_) => {
                            // The reader stopped (the terminal went away): no more keys.
                            events = &no_keys;
                            keys_live = false;
                            Some(Command::Redraw)
                        }
                    },
                    recv(stop) -> _ => Some(Command::Quit),
                };
                if key != Some(Command::Ignore) {
                    break key;
                }
            };
            let Some(key) = key else {
                self.coalesce(&changes, stop, drawn_at, &mut screen, &mut report)?;
                if report.interrupted {
                    return Ok(report);
                }
                continue;
            };
            // A key is answered at once: act, then rerun and draw the new focus or state.
            if key != Command::Redraw {
                error = None;
            }
            match key {
                Command::Quit => {
                    report.interrupted = true;
                    report.frames += usize::from(screen.finish()?);
                    return Ok(report);
                }
                Command::Next | Command::Prev => {
                    // Tab away commits; a refused value keeps focus on its input.
                    if let Some((address, text)) = edit.take() {
                        error = session
                            .set_input(&address, &text)
                            .err()
                            .map(|e| e.to_string());
                    }
                    if error.is_none() {
                        if key == Command::Next {
                            focus.next();
                        } else {
                            focus.prev();
                        }
                    }
                }
                // A disabled or vanished button, or a panicking handler (contained by
                // the session), leaves the page as it is: the rerun shows it.
                Command::Press(address) => drop(session.click(&address)),
                Command::Set(address, value) => {
                    error = session
                        .set_input(&address, &value)
                        .err()
                        .map(|e| e.to_string());
                }
                Command::Type(c) => {
                    if let Some(text) = edit_buffer(&mut edit, focus.current()) {
                        text.push(c);
                    }
                }
                Command::Backspace => {
                    if let Some(text) = edit_buffer(&mut edit, focus.current()) {
                        text.pop();
                    }
                }
                Command::Commit => {
                    if let Some((address, text)) = edit.take() {
                        error = session
                            .set_input(&address, &text)
                            .err()
                            .map(|e| e.to_string());
                    }
                }
                Command::CancelEdit => edit = None,
                Command::ToggleInspector => inspector = !inspector,
                Command::Redraw | Command::Ignore => {}
            }
        }
    }

    /// Folds further task changes until the redraw interval since `drawn_at` has passed;
    /// Ctrl-C meanwhile finishes the screen and marks the report interrupted.
    fn coalesce(
        &self,
        changes: &crate::runtime::Subscription,
        stop: &Receiver<()>,
        drawn_at: Instant,
        screen: &mut Screen<'_, impl Write>,
        report: &mut TerminalReport,
    ) -> io::Result<()> {
        let due = drawn_at + self.min_interval;
        while let Some(left) = due.checked_duration_since(Instant::now()) {
            select! {
                recv(changes.receiver()) -> _ => {}
                recv(stop) -> _ => {
                    report.interrupted = true;
                    report.frames += usize::from(screen.finish()?);
                    return Ok(());
                }
                default(left) => break,
            }
        }
        Ok(())
    }
}

/// What a key does, given what has focus and whether an edit is under way.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Command {
    Quit,
    Next,
    Prev,
    /// Press the button at this address.
    Press(String),
    /// Set the input at this address to this text at once (arrows, checkbox).
    Set(String, String),
    /// Type into the focused text or number input.
    Type(char),
    Backspace,
    /// Commit the edit buffer.
    Commit,
    CancelEdit,
    ToggleInspector,
    Redraw,
    /// Nothing: costs no rerun.
    Ignore,
}

/// The meaning of `key` with `focused` in focus: a text or number input takes printable
/// keys as text (so `q` and `t` are letters there), other items take them as commands.
fn command(key: Action, focused: Option<&Focusable>, editing: bool) -> Command {
    use crate::element::input::InputKind;
    let text = focused.is_some_and(Focusable::takes_text);
    let input = match focused {
        Some(Focusable::Input(node)) => Some(&**node),
        _ => None,
    };
    match key {
        Action::Quit => Command::Quit,
        Action::Next => Command::Next,
        Action::Prev => Command::Prev,
        Action::Redraw => Command::Redraw,
        Action::Ignore => Command::Ignore,
        Action::Char(c) if text => Command::Type(c),
        Action::Backspace if text => Command::Backspace,
        Action::Enter if text && editing => Command::Commit,
        Action::Cancel if editing => Command::CancelEdit,
        Action::Char('q') => Command::Quit,
        Action::Char('t') => Command::ToggleInspector,
        Action::Char(' ') | Action::Enter => match (focused, input) {
            (Some(Focusable::Button { address }), _) => Command::Press(address.to_string()),
            (_, Some(node)) if node.kind == InputKind::Checkbox => {
                let flipped = if node.value == "true" {
                    "false"
                } else {
                    "true"
                };
                Command::Set(node.key.to_string(), flipped.to_owned())
            }
            _ => Command::Ignore,
        },
        Action::Left | Action::Right => input
            .and_then(|node| {
                arrow_value(node, key == Action::Right)
                    .map(|v| Command::Set(node.key.to_string(), v))
            })
            .unwrap_or(Command::Ignore),
        Action::Char(_) | Action::Backspace | Action::Cancel => Command::Ignore,
    }
}

/// The edit buffer of the focused input, started from the value it shows; `None` when no
/// input has focus.
fn edit_buffer<'e>(
    edit: &'e mut Option<(String, String)>,
    focused: Option<&Focusable>,
) -> Option<&'e mut String> {
    let Some(Focusable::Input(node)) = focused else {
        return None;
    };
    Some(
        &mut edit
            .get_or_insert_with(|| (node.key.to_string(), node.value.clone()))
            .1,
    )
}

/// Ctrl-C as a channel, installed once per process; `None` when the app installed its own
/// handler first.
fn ctrl_c() -> Option<&'static Receiver<()>> {
    static CTRL_C: OnceLock<Option<Receiver<()>>> = OnceLock::new();
    CTRL_C
        .get_or_init(|| {
            let (tx, rx) = crossbeam_channel::unbounded();
            ctrlc::set_handler(move || {
                let _ = tx.send(());
            })
            .ok()
            .map(|()| rx)
        })
        .as_ref()
}

#[cfg(test)]
mod tests;

//! The terminal runner: reruns the app whenever its session's tasks change and shows
//! each rerun's text output.
//!
//! Invariants:
//! - the runner subscribes before its first rerun, so no change between a rerun and the
//!   next wait is lost (the subscription keeps one pending notification);
//! - it returns only after a rerun that began with every task settled and during which no
//!   task was submitted or changed, so the last frame shows the settled state;
//! - redraws are coalesced: at most `max_redraws_per_second`, extra notifications inside
//!   the interval fold into the next rerun;
//! - the terminal is restored (cursor shown) on return, on panic (a drop guard) and on
//!   Ctrl-C (the handler stops the loop, and the guard runs).

use std::io::{self, IsTerminal, Write};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, never, select};
use crossterm::{cursor, queue, terminal as term};

use crate::element::Element;
use crate::render::text;
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
    /// Print each distinct frame once under a `=== frame N ===` line: for logs and CI.
    Frames,
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
    /// True when Ctrl-C stopped the run.
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

    /// Runs on standard output: redrawing in place on a TTY, printing distinct frames
    /// otherwise. Ctrl-C stops it and restores the terminal.
    ///
    /// # Errors
    /// When writing to standard output fails.
    ///
    /// # Example
    /// ```no_run
    /// streamtree::live::terminal(|| streamtree::elements::Text("hello")).run().unwrap();
    /// ```
    pub fn run(self) -> io::Result<TerminalReport> {
        let stdout = io::stdout();
        let mode = if stdout.is_terminal() {
            Mode::Redraw
        } else {
            Mode::Frames
        };
        let stop = ctrl_c().cloned().unwrap_or_else(never);
        self.run_inner(&mut stdout.lock(), mode, &stop)
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
        self.run_inner(out, mode, &never())
    }

    fn run_inner(
        self,
        out: &mut impl Write,
        mode: Mode,
        stop: &Receiver<()>,
    ) -> io::Result<TerminalReport> {
        let session = self.session.clone().unwrap_or_default();
        let changes = session.subscribe();
        let mut screen = Screen::new(out, mode)?;
        let mut report = TerminalReport {
            reruns: 0,
            frames: 0,
            interrupted: false,
        };
        let mut last_frame = None::<String>;
        loop {
            // Forget changes this rerun is about to show, so any left afterwards are news.
            while changes.try_recv() {}
            let settled_before = session.wait_idle(Duration::ZERO);
            let tree = session.rerun(&*self.root);
            report.reruns += 1;
            let frame = text::render(&tree);
            if last_frame.as_ref() != Some(&frame) {
                report.frames += 1;
                screen.draw(&frame, report.frames)?;
                last_frame = Some(frame);
            }
            let drawn_at = Instant::now();
            if !self.follow && session.wait_idle(Duration::ZERO) {
                // Final only if the rerun began settled (a task that settled during it may
                // have been drawn before it finished) and submitted or changed nothing.
                if settled_before && !changes.try_recv() {
                    return Ok(report);
                }
                continue;
            }
            // Block until a task changes (or Ctrl-C).
            select! {
                recv(changes.receiver()) -> _ => {}
                recv(stop) -> _ => {
                    report.interrupted = true;
                    return Ok(report);
                }
            }
            // Coalesce: fold further changes until the redraw interval has passed.
            let due = drawn_at + self.min_interval;
            while let Some(left) = due.checked_duration_since(Instant::now()) {
                select! {
                    recv(changes.receiver()) -> _ => {}
                    recv(stop) -> _ => {
                        report.interrupted = true;
                        return Ok(report);
                    }
                    default(left) => break,
                }
            }
        }
    }
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

/// The output side: draws frames and restores the terminal when dropped.
struct Screen<'w, W: Write> {
    out: &'w mut W,
    mode: Mode,
    /// Physical lines the last frame took (redraw mode), to move back over them.
    lines: u16,
}

impl<'w, W: Write> Screen<'w, W> {
    fn new(out: &'w mut W, mode: Mode) -> io::Result<Self> {
        if mode == Mode::Redraw {
            queue!(out, cursor::Hide)?;
        }
        Ok(Screen {
            out,
            mode,
            lines: 0,
        })
    }

    fn draw(&mut self, frame: &str, n: usize) -> io::Result<()> {
        match self.mode {
            Mode::Frames => {
                // One write per frame, so a line-buffered reader never sees half of one.
                self.out
                    .write_all(format!("=== frame {n} ===\n{frame}").as_bytes())?;
            }
            Mode::Redraw => {
                let (width, height) = term::size().unwrap_or((80, 24));
                if self.lines >= height {
                    // The last frame scrolled off the top: the cursor cannot move back
                    // over it, so repaint the visible screen instead.
                    queue!(
                        self.out,
                        cursor::MoveTo(0, 0),
                        term::Clear(term::ClearType::All)
                    )?;
                } else {
                    if self.lines > 0 {
                        queue!(self.out, cursor::MoveUp(self.lines))?;
                    }
                    queue!(
                        self.out,
                        cursor::MoveToColumn(0),
                        term::Clear(term::ClearType::FromCursorDown)
                    )?;
                }
                let width = usize::from(width.max(1));
                self.lines = physical_lines(frame, width);
                self.out.write_all(frame.as_bytes())?;
            }
        }
        self.out.flush()
    }
}

impl<W: Write> Drop for Screen<'_, W> {
    fn drop(&mut self) {
        if self.mode == Mode::Redraw {
            let _ = queue!(self.out, cursor::Show);
            let _ = self.out.flush();
        }
    }
}

/// Rows `frame` occupies on a terminal `width` columns wide (long lines wrap).
fn physical_lines(frame: &str, width: usize) -> u16 {
    let rows: usize = frame
        .lines()
        .map(|l| l.chars().count().div_ceil(width).max(1))
        .sum();
    u16::try_from(rows).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asyncio::{set_task_progress, submit};
    use crate::elements::{ProgressBar, Text};
    use crate::loading::match_task;
    use std::sync::mpsc::channel;
    use std::sync::{Arc, Mutex};

    #[test]
    fn wrapped_lines_count() {
        assert_eq!(physical_lines("ab\ncdef\n", 2), 3);
        assert_eq!(physical_lines("\n\n", 10), 2);
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
}

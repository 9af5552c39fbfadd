//! Keys on an interactive terminal: raw mode, a reader thread, and what each key means.
//!
//! Invariants:
//! - raw mode is on exactly while a [`RawMode`] guard lives; dropping it (on return or
//!   while unwinding from a panic) turns it off;
//! - the reader thread stops within one poll interval of its [`KeyReader`] being dropped,
//!   and the drop joins it, so no thread reads the terminal after the runner returns.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::Receiver;
use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::terminal;

/// How long the reader waits for a key before checking whether it should stop: bounds how
/// long dropping a [`KeyReader`] takes.
const POLL: Duration = Duration::from_millis(50);

/// What a key is, before the runner gives it a meaning by what has focus (a `q` typed
/// into a text input is a letter, elsewhere it quits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Ctrl-C: stop and restore the terminal, whatever has focus.
    Quit,
    /// Tab: focus the next item.
    Next,
    /// Shift-Tab: focus the previous item.
    Prev,
    /// Enter: press the focused button, commit an edit.
    Enter,
    /// A printable character (`q` quits, `t` toggles the inspector, Space presses or
    /// toggles, unless a text or number input has focus).
    Char(char),
    /// Backspace: delete the last character of an edit.
    Backspace,
    /// Esc: cancel an edit.
    Cancel,
    /// Left arrow: previous option or step.
    Left,
    /// Right arrow: next option or step.
    Right,
    /// A resize: redraw at the new width.
    Redraw,
    /// Anything else.
    Ignore,
}

/// The key a terminal event is.
pub(crate) fn action(ev: &Event) -> Action {
    match ev {
        Event::Key(KeyEvent {
            code,
            modifiers,
            kind: KeyEventKind::Press | KeyEventKind::Repeat,
            ..
        }) => match code {
            KeyCode::Char('c') if modifiers.contains(KeyModifiers::CONTROL) => Action::Quit,
            _ if modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => Action::Ignore,
            KeyCode::Char(c) => Action::Char(*c),
            KeyCode::Tab if modifiers.contains(KeyModifiers::SHIFT) => Action::Prev,
            KeyCode::Tab => Action::Next,
            KeyCode::BackTab => Action::Prev,
            KeyCode::Enter => Action::Enter,
            KeyCode::Backspace => Action::Backspace,
            KeyCode::Esc => Action::Cancel,
            KeyCode::Left => Action::Left,
            KeyCode::Right => Action::Right,
            _ => Action::Ignore,
        },
        Event::Resize(..) => Action::Redraw,
        _ => Action::Ignore,
    }
}

/// Raw mode while it lives (keys arrive one by one, unechoed; Ctrl-C is a key).
pub(crate) struct RawMode(());

impl RawMode {
    pub(crate) fn enable() -> io::Result<RawMode> {
        terminal::enable_raw_mode()?;
        Ok(RawMode(()))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = terminal::disable_raw_mode();
    }
}

/// A thread that reads terminal events into a channel until dropped.
pub(crate) struct KeyReader {
    pub(crate) events: Receiver<Event>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl KeyReader {
    pub(crate) fn spawn() -> io::Result<KeyReader> {
        let (tx, events) = crossbeam_channel::unbounded();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("streamtree-keys".into())
            .spawn(move || {
                // Polling with a timeout, not a blocking read, so the drop can stop it.
                while !flag.load(Ordering::Acquire) {
                    match event::poll(POLL) {
                        Ok(true) => match event::read() {
                            Ok(ev) => {
                                if tx.send(ev).is_err() {
                                    return;
                                }
                            }
                            Err(_) => return,
                        },
                        Ok(false) => {}
                        Err(_) => return,
                    }
                }
            })?;
        Ok(KeyReader {
            events,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for KeyReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Event {
        Event::Key(KeyEvent::new(code, modifiers))
    }

    #[test]
    fn keys_map_to_actions() {
        let none = KeyModifiers::NONE;
        assert_eq!(action(&key(KeyCode::Tab, none)), Action::Next);
        assert_eq!(
            action(&key(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Action::Prev
        );
        assert_eq!(action(&key(KeyCode::Enter, none)), Action::Enter);
        assert_eq!(action(&key(KeyCode::Char(' '), none)), Action::Char(' '));
        assert_eq!(action(&key(KeyCode::Char('q'), none)), Action::Char('q'));
        assert_eq!(action(&key(KeyCode::Left, none)), Action::Left);
        assert_eq!(action(&key(KeyCode::Esc, none)), Action::Cancel);
        assert_eq!(
            action(&key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Action::Quit
        );
        assert_eq!(
            action(&key(KeyCode::Char('x'), KeyModifiers::ALT)),
            Action::Ignore
        );
        assert_eq!(action(&Event::Resize(80, 24)), Action::Redraw);
    }
}

//! The output side of the terminal runner: draws frames in the chosen [`Mode`] and
//! restores the terminal (cursor shown) when dropped, including while unwinding.

use std::io::{self, Write};

use crossterm::{cursor, queue, terminal as term};

use super::Mode;
use crate::render::readable;

/// Columns for frames that do not go to a terminal.
const PLAIN_WIDTH: usize = 80;

pub(crate) struct Screen<'w, W: Write> {
    out: &'w mut W,
    mode: Mode,
    /// Physical lines the last frame took (redraw mode), to move back over them.
    lines: u16,
    /// The frame to print at the end ([`Mode::Final`]).
    pending: Option<String>,
}

impl<'w, W: Write> Screen<'w, W> {
    pub(crate) fn new(out: &'w mut W, mode: Mode) -> io::Result<Self> {
        if mode == Mode::Redraw {
            queue!(out, cursor::Hide)?;
        }
        Ok(Screen {
            out,
            mode,
            lines: 0,
            pending: None,
        })
    }

    /// Columns to lay frames out in: the terminal's when redrawing in place.
    pub(crate) fn width(&self) -> usize {
        match self.mode {
            Mode::Redraw => term::size().map_or(PLAIN_WIDTH, |(w, _)| usize::from(w.max(1))),
            Mode::Frames | Mode::Final => PLAIN_WIDTH,
        }
    }

    /// Shows a new frame (numbered `n` in [`Mode::Frames`]); in [`Mode::Final`] keeps it
    /// for [`finish`](Screen::finish). Returns whether anything was written.
    pub(crate) fn draw(&mut self, frame: &str, n: usize) -> io::Result<bool> {
        match self.mode {
            Mode::Final => {
                self.pending = Some(frame.to_owned());
                return Ok(false);
            }
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
                // `\r\n`: in raw mode a bare `\n` moves down without returning.
                self.out.write_all(frame.replace('\n', "\r\n").as_bytes())?;
            }
        }
        self.out.flush()?;
        Ok(true)
    }

    /// A line beside the frames (a task status change in [`Mode::Final`]).
    pub(crate) fn note(&mut self, line: &str) -> io::Result<()> {
        self.out.write_all(format!("{line}\n").as_bytes())?;
        self.out.flush()
    }

    /// Prints the kept frame ([`Mode::Final`]); returns whether it wrote one.
    pub(crate) fn finish(&mut self) -> io::Result<bool> {
        match self.pending.take() {
            Some(frame) => {
                self.out.write_all(frame.as_bytes())?;
                self.out.flush()?;
                Ok(true)
            }
            None => Ok(false),
        }
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

/// Rows `frame` occupies on a terminal `width` columns wide (long lines wrap; ANSI
/// styles take no room).
pub(crate) fn physical_lines(frame: &str, width: usize) -> u16 {
    let rows: usize = frame
        .lines()
        .map(|l| readable::width(l).div_ceil(width).max(1))
        .sum();
    u16::try_from(rows).unwrap_or(u16::MAX)
}

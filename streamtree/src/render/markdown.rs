//! CommonMark for both backends, with GFM tables and strikethrough: which URLs are safe,
//! and Markdown as plain text (tables laid out as `Table` lays them out).

use pulldown_cmark::{Alignment, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::element::Align;
use crate::render::table;

/// The extensions both backends parse: GFM tables and `~~strikethrough~~`.
fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// True when `url` is relative or uses http, https or mailto. Browsers ignore ASCII
/// whitespace and control characters inside a scheme (`java\tscript:`), so those are
/// skipped before the scheme is read.
pub(crate) fn is_safe_url(url: &str) -> bool {
    let cleaned: String = url
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
        .collect();
    match cleaned.find([':', '/', '?', '#']) {
        Some(i) if cleaned.as_bytes()[i] == b':' => {
            let scheme = cleaned[..i].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto")
        }
        _ => true,
    }
}

/// The parser events with the safety rules applied: raw HTML becomes text, and links or
/// images with unsafe URLs are unwrapped to their text.
pub(crate) fn safe_events(source: &str, allow_html: bool) -> impl Iterator<Item = Event<'_>> {
    // One entry per open link/image: whether its start tag was kept.
    let mut open: Vec<bool> = Vec::new();
    Parser::new_ext(source, options()).filter_map(move |event| {
        if allow_html {
            return Some(event);
        }
        match event {
            Event::Html(html) | Event::InlineHtml(html) => Some(Event::Text(html)),
            Event::Start(Tag::Link { ref dest_url, .. })
            | Event::Start(Tag::Image { ref dest_url, .. }) => {
                let keep = is_safe_url(dest_url);
                open.push(keep);
                keep.then_some(event)
            }
            Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => {
                open.pop().unwrap_or(true).then_some(event)
            }
            other => Some(other),
        }
    })
}

/// Markdown as readable plain text lines: emphasis markers dropped, headings underlined,
/// list items marked `-` or `n.`, code indented, link targets in parentheses.
pub(crate) fn to_text_lines(source: &str, allow_html: bool) -> Vec<String> {
    let mut w = TextWriter::default();
    for event in safe_events(source, allow_html) {
        w.event(event);
    }
    w.flush();
    while w.lines.last().is_some_and(|l| l.is_empty()) {
        w.lines.pop();
    }
    w.lines
}

#[derive(Default)]
struct TextWriter {
    lines: Vec<String>,
    line: String,
    /// Open lists: the next number for ordered ones.
    lists: Vec<Option<u64>>,
    quote_depth: usize,
    in_code: bool,
    /// Heading level being written, to underline it on close.
    heading: Option<HeadingLevel>,
    /// Target of each open link/image, printed after its text.
    links: Vec<String>,
    blank_before_next: bool,
    /// The GFM table being read: its cells are collected, then laid out at its end.
    table: Option<TextTable>,
}

#[derive(Default)]
struct TextTable {
    align: Vec<Align>,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    row: Vec<String>,
    cell: String,
}

impl TextTable {
    fn lines(self) -> Vec<String> {
        let rows: Vec<&[String]> = self.rows.iter().map(Vec::as_slice).collect();
        let columns = rows
            .iter()
            .map(|r| r.len())
            .chain([self.header.len()])
            .max()
            .unwrap_or(0);
        let align = |i: usize| self.align.get(i).copied().unwrap_or_default();
        let max = crate::element::DEFAULT_MAX_CELL_WIDTH;
        table::text_lines(&self.header, &rows, columns, &align, max)
    }
}

impl TextWriter {
    fn prefix(&self) -> String {
        let mut p = "> ".repeat(self.quote_depth);
        p.push_str(&"  ".repeat(self.lists.len().saturating_sub(1)));
        p
    }

    fn start_block(&mut self) {
        if self.blank_before_next && !self.lines.is_empty() {
            self.lines.push(self.prefix().trim_end().to_owned());
        }
        self.blank_before_next = false;
    }

    fn flush(&mut self) {
        if !self.line.is_empty() {
            let text = std::mem::take(&mut self.line);
            self.lines.push(text.trim_end().to_owned());
        }
    }

    fn push_text(&mut self, text: &str) {
        if let Some(t) = &mut self.table {
            t.cell.push_str(text);
            return;
        }
        if self.line.is_empty() {
            self.start_block();
            let mut prefix = self.prefix();
            if !self.lists.is_empty() {
                prefix.push_str("  ");
            }
            self.line.push_str(&prefix);
        }
        self.line.push_str(text);
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(Tag::Table(align)) => {
                self.flush();
                self.start_block();
                let align = align
                    .iter()
                    .map(|a| match a {
                        Alignment::Right => Align::Right,
                        Alignment::Center => Align::Center,
                        Alignment::Left | Alignment::None => Align::Left,
                    })
                    .collect();
                self.table = Some(TextTable {
                    align,
                    ..TextTable::default()
                });
            }
            Event::End(TagEnd::Table) => {
                if let Some(t) = self.table.take() {
                    let prefix = self.prefix();
                    for l in t.lines() {
                        self.lines
                            .push(format!("{prefix}{l}").trim_end().to_owned());
                    }
                }
                self.blank_before_next = true;
            }
            Event::End(TagEnd::TableHead) => {
                if let Some(t) = &mut self.table {
                    t.header = std::mem::take(&mut t.row);
                }
            }
            Event::End(TagEnd::TableRow) => {
                if let Some(t) = &mut self.table {
                    let row = std::mem::take(&mut t.row);
                    t.rows.push(row);
                }
            }
            Event::End(TagEnd::TableCell) => {
                if let Some(t) = &mut self.table {
                    let cell = std::mem::take(&mut t.cell);
                    t.row.push(cell.trim().to_owned());
                }
            }
            // Kept as written: without the marks, struck text would read as current.
            Event::Start(Tag::Strikethrough) | Event::End(TagEnd::Strikethrough) => {
                self.push_text("~~");
            }
            Event::Start(Tag::Heading { level, .. }) => self.heading = Some(level),
            Event::End(TagEnd::Heading(_)) => {
                let level = self.heading.take();
                let width = self.line.trim_start().chars().count();
                self.flush();
                let rule = if level == Some(HeadingLevel::H1) {
                    '='
                } else {
                    '-'
                };
                let mut underline = self.prefix();
                underline.extend(std::iter::repeat_n(rule, width));
                self.lines.push(underline);
                self.blank_before_next = true;
            }
            Event::End(TagEnd::Paragraph) => {
                self.flush();
                self.blank_before_next = true;
            }
            Event::Start(Tag::List(first)) => {
                self.flush();
                if self.lists.is_empty() {
                    self.start_block();
                }
                self.lists.push(first);
            }
            Event::End(TagEnd::List(_)) => {
                self.flush();
                self.lists.pop();
                self.blank_before_next = self.lists.is_empty();
            }
            Event::Start(Tag::Item) => {
                self.flush();
                self.blank_before_next = false;
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        *n += 1;
                        format!("{}. ", *n - 1)
                    }
                    _ => "- ".to_owned(),
                };
                self.start_block();
                self.line = self.prefix() + &marker;
            }
            Event::End(TagEnd::Item) => {
                self.flush();
                self.blank_before_next = false;
            }
            Event::Start(Tag::BlockQuote(_)) => {
                self.flush();
                self.start_block();
                self.quote_depth += 1;
            }
            Event::End(TagEnd::BlockQuote(_)) => {
                self.flush();
                self.quote_depth -= 1;
                self.blank_before_next = true;
            }
            Event::Start(Tag::CodeBlock(_)) => {
                self.flush();
                self.start_block();
                self.in_code = true;
            }
            Event::End(TagEnd::CodeBlock) => {
                self.in_code = false;
                self.blank_before_next = true;
            }
            Event::Start(Tag::Link { dest_url, .. }) => self.links.push(dest_url.to_string()),
            Event::End(TagEnd::Link) => {
                if let Some(url) = self.links.pop() {
                    self.push_text(&format!(" ({url})"));
                }
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                self.links.push(dest_url.to_string());
                self.push_text("[image: ");
            }
            Event::End(TagEnd::Image) => {
                if let Some(url) = self.links.pop() {
                    self.push_text(&format!("] ({url})"));
                }
            }
            Event::Text(text) if self.in_code => {
                let prefix = self.prefix() + "    ";
                for line in text.lines() {
                    self.lines
                        .push(format!("{prefix}{line}").trim_end().to_owned());
                }
            }
            Event::Text(text) | Event::Code(text) | Event::Html(text) | Event::InlineHtml(text) => {
                // Raw HTML arrives here only with `unsafe_allow_html`: as text it is harmless.
                for (i, part) in text.split('\n').enumerate() {
                    if i > 0 {
                        self.flush();
                    }
                    if !part.is_empty() {
                        self.push_text(part);
                    }
                }
            }
            Event::SoftBreak => self.push_text(" "),
            Event::HardBreak => self.flush(),
            Event::Rule => {
                self.flush();
                self.start_block();
                self.lines.push(self.prefix() + "----");
                self.blank_before_next = true;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_schemes() {
        for ok in [
            "https://a.b",
            "http://x",
            "mailto:a@b",
            "/rel",
            "rel/x:y",
            "#top",
            "?q=1:2",
            "",
        ] {
            assert!(is_safe_url(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:x",
            "java\tscript:x",
            " javascript:x",
            "data:text/html,x",
            "vbscript:x",
        ] {
            assert!(!is_safe_url(bad), "{bad}");
        }
    }

    #[test]
    fn text_lines() {
        let md = "# Title\n\nSome *em* and **strong** text.\n\n- one\n- two\n  1. a\n  2. b\n\n> quoted\n\n    code\n\n[link](https://x.y) [bad](javascript:x)";
        assert_eq!(
            to_text_lines(md, false),
            [
                "Title",
                "=====",
                "",
                "Some em and strong text.",
                "",
                "- one",
                "- two",
                "  1. a",
                "  2. b",
                "",
                "> quoted",
                "",
                "    code",
                "",
                "link (https://x.y) bad",
            ]
        );
    }
}

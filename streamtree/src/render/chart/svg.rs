//! A chart as an HTML `<figure>` holding inline SVG: caption, axes with nice ticks, the
//! series, an HTML legend and a note on skipped points. No script, no external file.
//!
//! Every label goes through [`escape`]; coordinates are written with one decimal, so the
//! same chart gives the same bytes. Colours come from [`PALETTE`] as presentation
//! attributes (the SVG stays readable if copied out of the page); everything else is
//! styled by `render/style.css` (`.st-chart*`). Text widths are estimated at 7 px a
//! character (12 px labels), which only decides margins and how many x labels fit.

use std::fmt::Write as _;

use super::{Prepared, Scale, XAxis};
use crate::element::{ChartKind, ChartNode};
use crate::render::html::escape;

/// Estimated width of one label character, in px.
const CHAR_W: f64 = 7.0;

/// Writes the inside of a chart's `<figure>`.
pub(crate) fn figure(out: &mut String, chart: &ChartNode) {
    let p = Prepared::new(chart);
    if let Some(t) = &chart.title {
        out.push_str("<figcaption class=\"st-chart-title\">");
        escape(out, t);
        out.push_str("</figcaption>");
    }
    if p.is_empty() {
        out.push_str("<p class=\"st-chart-empty\">No data</p>");
    } else {
        svg(out, &p);
    }
    if !p.series.is_empty() {
        out.push_str("<ul class=\"st-chart-legend\">");
        for s in &p.series {
            let _ = write!(
                out,
                "<li><svg class=\"st-chart-swatch\" width=\"10\" height=\"10\" \
                 aria-hidden=\"true\"><rect width=\"10\" height=\"10\" fill=\"{}\"/></svg>",
                s.colour
            );
            escape(out, s.name);
            out.push_str("</li>");
        }
        out.push_str("</ul>");
    }
    if let Some(note) = p.skipped_note() {
        out.push_str("<p class=\"st-chart-note\">");
        escape(out, &note);
        out.push_str("</p>");
    }
}

/// A coordinate with one decimal; never `-0.0`.
fn c(v: f64) -> String {
    let s = format!("{v:.1}");
    if s == "-0.0" { "0.0".to_owned() } else { s }
}

/// `text` cut to `max` characters, the last one an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// The plot area and how data maps into it.
struct Frame {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    y: Scale,
}

impl Frame {
    fn y(&self, v: f64) -> f64 {
        self.bottom - self.y.fraction(v) * (self.bottom - self.top)
    }
    fn width(&self) -> f64 {
        self.right - self.left
    }
}

fn svg(out: &mut String, p: &Prepared<'_>) {
    let chart = p.chart;
    let (w, h) = (f64::from(chart.size.0), f64::from(chart.size.1));
    let (lo, hi) = p.y_range();
    let y = Scale::new(lo, hi, 5);
    let y_labels: Vec<(f64, String)> = y.ticks().map(|t| (t, y.label(t))).collect();
    let widest = y_labels.iter().map(|(_, l)| l.chars().count()).max();
    let y_label_room = if chart.y_label.is_some() { 18.0 } else { 0.0 };
    let left = (12.0 + CHAR_W * widest.unwrap_or(1) as f64 + y_label_room).min(w / 3.0);
    let x_label_room = if chart.x_label.is_some() { 18.0 } else { 0.0 };
    let f = Frame {
        left,
        right: w - 16.0,
        top: 10.0,
        bottom: h - 28.0 - x_label_room,
        y,
    };
    let description = p.description();
    let _ = writeln!(
        out,
        "<svg class=\"st-chart-svg\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" \
         role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        chart.size.0,
        chart.size.1,
        chart.size.0,
        chart.size.1,
        escaped(&description)
    );
    let _ = writeln!(out, "<title>{}</title>", escaped(&description));
    out.push_str("<g class=\"st-chart-grid\">\n");
    for (t, _) in &y_labels {
        let yy = c(f.y(*t));
        let _ = writeln!(
            out,
            "<line x1=\"{}\" y1=\"{yy}\" x2=\"{}\" y2=\"{yy}\"/>",
            c(f.left),
            c(f.right)
        );
    }
    out.push_str("</g>\n<g class=\"st-chart-ticks\">\n");
    for (t, label) in &y_labels {
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" dy=\"0.32em\" text-anchor=\"end\">{}</text>",
            c(f.left - 6.0),
            c(f.y(*t)),
            escaped(label)
        );
    }
    let x_at = x_ticks(out, p, &f);
    out.push_str("</g>\n");
    let _ = writeln!(
        out,
        "<path class=\"st-chart-axis\" fill=\"none\" d=\"M{} {}V{}H{}\"/>",
        c(f.left),
        c(f.top),
        c(f.bottom),
        c(f.right)
    );
    match chart.kind {
        ChartKind::Line => lines(out, p, &f, &x_at),
        ChartKind::Bar => bars(out, p, &f),
    }
    if let Some(l) = &chart.x_label {
        let _ = writeln!(
            out,
            "<text class=\"st-chart-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            c((f.left + f.right) / 2.0),
            c(h - 8.0),
            escaped(l)
        );
    }
    if let Some(l) = &chart.y_label {
        // Rotated a quarter turn: x runs up the page, so the centre is at -y.
        let _ = writeln!(
            out,
            "<text class=\"st-chart-label\" transform=\"rotate(-90)\" x=\"{}\" y=\"14.0\" \
             text-anchor=\"middle\">{}</text>",
            c(-(f.top + f.bottom) / 2.0),
            escaped(l)
        );
    }
    out.push_str("</svg>");
}

fn escaped(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    escape(&mut s, text);
    s
}

/// How x positions map to pixels, decided while writing the x tick labels.
enum XMap {
    Numbers(Scale),
    Bands(f64),
}

/// Writes the x tick labels and returns the x mapping.
fn x_ticks(out: &mut String, p: &Prepared<'_>, f: &Frame) -> XMap {
    let label_y = c(f.bottom + 18.0);
    match &p.x {
        XAxis::Numbers => {
            let (lo, hi) = p
                .series
                .iter()
                .flat_map(|s| &s.points)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(x, _)| {
                    (lo.min(x), hi.max(x))
                });
            let target = (f.width() / 100.0).clamp(2.0, 10.0) as u32;
            let scale = Scale::new(lo, hi, target);
            for t in scale.ticks() {
                let _ = writeln!(
                    out,
                    "<text x=\"{}\" y=\"{label_y}\" text-anchor=\"middle\">{}</text>",
                    c(f.left + scale.fraction(t) * f.width()),
                    escaped(&scale.label(t))
                );
            }
            XMap::Numbers(scale)
        }
        XAxis::Categories(names) => {
            let band = f.width() / names.len().max(1) as f64;
            // Show every `every`-th label so that labels of ~8 characters do not collide.
            let fit = (f.width() / (8.0 * CHAR_W)).max(1.0) as usize;
            let every = names.len().div_ceil(fit).max(1);
            let room = ((band * every as f64) / CHAR_W).max(3.0) as usize;
            for (i, name) in names.iter().enumerate().step_by(every) {
                let _ = writeln!(
                    out,
                    "<text x=\"{}\" y=\"{label_y}\" text-anchor=\"middle\">{}</text>",
                    c(f.left + (i as f64 + 0.5) * band),
                    escaped(&shorten(name, room))
                );
            }
            XMap::Bands(band)
        }
    }
}

fn lines(out: &mut String, p: &Prepared<'_>, f: &Frame, x_at: &XMap) {
    let x = |v: f64| match x_at {
        XMap::Numbers(s) => f.left + s.fraction(v) * f.width(),
        XMap::Bands(band) => f.left + (v + 0.5) * band,
    };
    for s in &p.series {
        match s.points.as_slice() {
            [] => {}
            [(px, py)] => {
                let _ = writeln!(
                    out,
                    "<circle class=\"st-chart-dot\" cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{}\"/>",
                    c(x(*px)),
                    c(f.y(*py)),
                    s.colour
                );
            }
            points => {
                let _ = write!(
                    out,
                    "<polyline class=\"st-chart-line\" fill=\"none\" stroke=\"{}\" points=\"",
                    s.colour
                );
                for (i, (px, py)) in points.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    let _ = write!(out, "{},{}", c(x(*px)), c(f.y(*py)));
                }
                out.push_str("\"/>\n");
            }
        }
    }
}

fn bars(out: &mut String, p: &Prepared<'_>, f: &Frame) {
    let XAxis::Categories(names) = &p.x else {
        debug_assert!(false, "a bar chart's x axis is always categories");
        return;
    };
    if f.y.lo < 0.0 {
        let zero = c(f.y(0.0));
        let _ = writeln!(
            out,
            "<line class=\"st-chart-zero\" x1=\"{}\" y1=\"{zero}\" x2=\"{}\" y2=\"{zero}\"/>",
            c(f.left),
            c(f.right)
        );
    }
    let band = f.width() / names.len().max(1) as f64;
    let bar = band * 0.8 / p.series.len().max(1) as f64;
    for (k, s) in p.series.iter().enumerate() {
        for &(i, v) in &s.points {
            let top = f.y(v.max(0.0));
            let bottom = f.y(v.min(0.0));
            let _ = writeln!(
                out,
                "<rect class=\"st-chart-bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" \
                 fill=\"{}\"><title>{}, {}: {}</title></rect>",
                c(f.left + i * band + band * 0.1 + k as f64 * bar),
                c(top),
                c(bar),
                c(bottom - top),
                s.colour,
                escaped(s.name),
                escaped(&names[i as usize]),
                escaped(&super::format_number(v))
            );
        }
    }
}

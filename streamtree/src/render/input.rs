//! Input widgets in both backends.
//!
//! HTML: native controls with a `<label for>`; the control's `id` comes from the key
//! (`element::input::html_id`: safe characters only, distinct per key) and its `name` is
//! `in.<key>`, so the live server's page-wide form posts every input. A checkbox is
//! preceded by a hidden `false` of the same name (a form posts nothing for an unticked
//! box; the server takes the last value of a name).
//!
//! Text, one line each (the value padded to 12 columns in brackets):
//!
//! ```text
//! Name: [Grace       ]
//! Count: [3           ] 1..=10 step 1
//! Days: 7 ├────●───────────────┤ 1..=30
//! Region: [EU ▾]
//! [x] Agree
//! ```
//!
//! A number field shows the bounds the app set (`1..`, `..=10`, `1..=10`) and a step
//! other than 1; a slider's track is 20 cells with `●` at the value. A disabled input
//! ends in ` (disabled)`.

use std::fmt::Write as _;

use unicode_width::UnicodeWidthStr;

use crate::element::Element;
use crate::element::input::{Bounds, InputKind, InputNode, html_id};
use crate::render::html::{escape, key_attr};

/// Minimum width, in columns, of a bracketed value in the text backend.
const FIELD: usize = 12;
/// Cells in a text slider's track.
const TRACK: usize = 20;

pub(crate) fn html(out: &mut String, el: &Element, input: &InputNode) {
    let id = html_id(&input.key);
    let class = match input.kind {
        InputKind::Checkbox => "st-input st-checkbox",
        InputKind::Slider { .. } => "st-input st-slider",
        _ => "st-input",
    };
    let _ = write!(out, "<div class=\"{class}\"");
    key_attr(out, el);
    out.push('>');
    if !matches!(input.kind, InputKind::Checkbox) {
        label(out, &id, input);
    }
    match &input.kind {
        InputKind::Text {
            max_chars,
            placeholder,
        } => {
            open_input(out, &id, "text", input);
            if let Some(p) = placeholder {
                out.push_str(" placeholder=\"");
                escape(out, p);
                out.push('"');
            }
            if let Some(n) = max_chars {
                let _ = write!(out, " maxlength=\"{n}\"");
            }
            close_input(out, input);
        }
        InputKind::Number {
            bounds,
            shown_min,
            shown_max,
        } => {
            open_input(out, &id, "number", input);
            range_attrs(out, bounds, *shown_min, *shown_max);
            close_input(out, input);
        }
        InputKind::Slider { bounds } => {
            out.push_str("<div class=\"st-slider-row\">");
            open_input(out, &id, "range", input);
            range_attrs(out, bounds, true, true);
            close_input(out, input);
            let _ = write!(out, "<output for=\"{id}\">");
            escape(out, &input.value);
            out.push_str("</output></div>");
        }
        InputKind::Select { options } => {
            let _ = write!(out, "<select class=\"st-field\" id=\"{id}\" name=\"in.");
            escape(out, &input.key);
            out.push('"');
            if input.disabled {
                out.push_str(" disabled");
            }
            out.push('>');
            for o in options {
                out.push_str("<option value=\"");
                escape(out, o);
                out.push('"');
                if o.as_str() == input.value {
                    out.push_str(" selected");
                }
                out.push('>');
                escape(out, o);
                out.push_str("</option>");
            }
            out.push_str("</select>");
        }
        InputKind::Checkbox => {
            // Posted when the box is unticked; a ticked box's `true` comes after it.
            out.push_str("<input type=\"hidden\" name=\"in.");
            escape(out, &input.key);
            out.push_str("\" value=\"false\"");
            if input.disabled {
                out.push_str(" disabled");
            }
            out.push('>');
            let _ = write!(
                out,
                "<input class=\"st-field\" id=\"{id}\" type=\"checkbox\" name=\"in."
            );
            escape(out, &input.key);
            out.push_str("\" value=\"true\"");
            if input.value == "true" {
                out.push_str(" checked");
            }
            if input.disabled {
                out.push_str(" disabled");
            }
            out.push('>');
            label(out, &id, input);
        }
    }
    out.push_str("</div>");
}

fn label(out: &mut String, id: &str, input: &InputNode) {
    let _ = write!(out, "<label for=\"{id}\">");
    escape(out, &input.label);
    out.push_str("</label>");
}

fn open_input(out: &mut String, id: &str, ty: &str, input: &InputNode) {
    let _ = write!(
        out,
        "<input class=\"st-field\" id=\"{id}\" type=\"{ty}\" name=\"in."
    );
    escape(out, &input.key);
    out.push_str("\" value=\"");
    escape(out, &input.value);
    out.push('"');
}

fn close_input(out: &mut String, input: &InputNode) {
    if input.disabled {
        out.push_str(" disabled");
    }
    out.push('>');
}

fn range_attrs(out: &mut String, bounds: &Bounds, min: bool, max: bool) {
    match bounds {
        Bounds::Int {
            min: lo,
            max: hi,
            step,
            ..
        } => {
            if min {
                let _ = write!(out, " min=\"{lo}\"");
            }
            if max {
                let _ = write!(out, " max=\"{hi}\"");
            }
            let _ = write!(out, " step=\"{step}\"");
        }
        Bounds::Float {
            min: lo,
            max: hi,
            step,
            ..
        } => {
            if min {
                let _ = write!(out, " min=\"{lo}\"");
            }
            if max {
                let _ = write!(out, " max=\"{hi}\"");
            }
            match step {
                Some(s) => {
                    let _ = write!(out, " step=\"{s}\"");
                }
                None => out.push_str(" step=\"any\""),
            }
        }
    }
}

/// The one text line of an input.
pub(crate) fn text(input: &InputNode) -> String {
    let mut line = match &input.kind {
        InputKind::Text { .. } => format!("{}: {}", input.label, field(&input.value)),
        InputKind::Number {
            bounds,
            shown_min,
            shown_max,
        } => {
            let mut line = format!("{}: {}", input.label, field(&input.value));
            let (lo, hi, step) = parts(bounds);
            match (shown_min, shown_max) {
                (true, true) => {
                    let _ = write!(line, " {lo}..={hi}");
                }
                (true, false) => {
                    let _ = write!(line, " {lo}..");
                }
                (false, true) => {
                    let _ = write!(line, " ..={hi}");
                }
                (false, false) => {}
            }
            if let Some(step) = step.filter(|s| s != "1") {
                let _ = write!(line, " step {step}");
            }
            line
        }
        InputKind::Slider { bounds } => {
            let (lo, hi, _) = parts(bounds);
            format!(
                "{}: {} ├{}┤ {lo}..={hi}",
                input.label,
                input.value,
                track(bounds, &input.value)
            )
        }
        InputKind::Select { .. } => format!("{}: [{} ▾]", input.label, input.value),
        InputKind::Checkbox => {
            let mark = if input.value == "true" { 'x' } else { ' ' };
            format!("[{mark}] {}", input.label)
        }
    };
    if input.disabled {
        line.push_str(" (disabled)");
    }
    line
}

/// `[value]`, padded to [`FIELD`] columns.
fn field(value: &str) -> String {
    let pad = FIELD.saturating_sub(value.width());
    format!("[{value}{}]", " ".repeat(pad))
}

/// Min, max and step as text.
fn parts(bounds: &Bounds) -> (String, String, Option<String>) {
    match bounds {
        Bounds::Int { min, max, step, .. } => {
            (min.to_string(), max.to_string(), Some(step.to_string()))
        }
        Bounds::Float { min, max, step, .. } => (
            min.to_string(),
            max.to_string(),
            step.map(|s| s.to_string()),
        ),
    }
}

/// The slider track: [`TRACK`] cells with `●` where `value` sits.
fn track(bounds: &Bounds, value: &str) -> String {
    let (lo, hi) = match bounds {
        Bounds::Int { min, max, .. } => (*min as f64, *max as f64),
        Bounds::Float { min, max, .. } => (*min, *max),
    };
    let v: f64 = value.parse().unwrap_or(lo);
    let fraction = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
    let at = (fraction.clamp(0.0, 1.0) * (TRACK - 1) as f64).round() as usize;
    format!("{}●{}", "─".repeat(at), "─".repeat(TRACK - 1 - at))
}

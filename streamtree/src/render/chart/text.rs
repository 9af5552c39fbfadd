//! A chart in the text backend: a heading line (`LineChart "title"`), then
//!
//! - `x: .., y: ..` when axis labels are set;
//! - line charts: one line per series, `name  ▁▃█▅  min 1 max 9`: a sparkline of at most
//!   [`SPARK`] cells (longer series are averaged into buckets), scaled to the series' own
//!   min and max (all-equal values sit at mid height, `▄`);
//! - bar charts: one line per category and series, `cat  name  ███▌ 7`: a bar of `█` in
//!   eighths, scaled so the largest magnitude fills [`BAR`] cells (negative values draw
//!   `░` in whole cells);
//! - `name  (no points)` for an empty series, `(no data)` when there is no series, and
//!   `(N points skipped: NaN or infinite)` when points were left out.
//!
//! Names and categories are padded to a common width in characters.

use super::{Prepared, XAxis, format_number};
use crate::element::{ChartKind, ChartNode};

/// Most cells in a sparkline.
pub(crate) const SPARK: usize = 48;
/// Cells in the longest bar.
pub(crate) const BAR: usize = 24;

const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const EIGHTHS: [char; 7] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/// The heading: the kind, then the title quoted.
pub(crate) fn heading(chart: &ChartNode) -> String {
    match &chart.title {
        Some(t) => format!("{} {:?}", chart.kind.name(), t.as_str()),
        None => chart.kind.name().to_owned(),
    }
}

/// The lines under the heading.
pub(crate) fn body(chart: &ChartNode) -> Vec<String> {
    let p = Prepared::new(chart);
    let mut out = Vec::new();
    let labels: Vec<String> = [("x", &chart.x_label), ("y", &chart.y_label)]
        .into_iter()
        .filter_map(|(axis, l)| l.as_ref().map(|l| format!("{axis}: {l}")))
        .collect();
    if !labels.is_empty() {
        out.push(labels.join(", "));
    }
    if p.series.is_empty() {
        out.push("(no data)".to_owned());
    }
    let name_w = p
        .series
        .iter()
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(0);
    match (&p.x, chart.kind) {
        (XAxis::Categories(names), ChartKind::Bar) if !p.is_empty() => {
            bars(&p, names, name_w, &mut out);
        }
        _ => {
            for s in &p.series {
                let name = pad(s.name, name_w);
                if s.points.is_empty() {
                    out.push(format!("{name}  (no points)"));
                } else {
                    let ys: Vec<f64> = s.points.iter().map(|&(_, y)| y).collect();
                    let (min, max) = min_max(&ys);
                    out.push(format!(
                        "{name}  {}  min {} max {}",
                        sparkline(&ys, min, max),
                        format_number(min),
                        format_number(max)
                    ));
                }
            }
        }
    }
    if let Some(note) = p.skipped_note() {
        out.push(format!("({note})"));
    }
    out
}

fn bars(p: &Prepared<'_>, categories: &[String], name_w: usize, out: &mut Vec<String>) {
    let cat_w = categories
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0);
    let biggest = p
        .series
        .iter()
        .flat_map(|s| &s.points)
        .fold(0.0f64, |m, &(_, y)| m.max(y.abs()));
    for (i, category) in categories.iter().enumerate() {
        let mut first = true;
        for s in &p.series {
            for &(_, y) in s.points.iter().filter(|&&(x, _)| x as usize == i) {
                let cat = if first { category.as_str() } else { "" };
                first = false;
                let mut bar = bar(y, biggest);
                if !bar.is_empty() {
                    bar.push(' ');
                }
                out.push(format!(
                    "{}  {}  {bar}{}",
                    pad(cat, cat_w),
                    pad(s.name, name_w),
                    format_number(y)
                ));
            }
        }
    }
    // Series with no drawable point still show, so every name appears.
    for s in p.series.iter().filter(|s| s.points.is_empty()) {
        out.push(format!(
            "{}  {}  (no points)",
            pad("", cat_w),
            pad(s.name, name_w)
        ));
    }
}

fn pad(text: &str, width: usize) -> String {
    let mut s = text.to_owned();
    s.extend(std::iter::repeat_n(
        ' ',
        width.saturating_sub(text.chars().count()),
    ));
    s
}

fn min_max(ys: &[f64]) -> (f64, f64) {
    ys.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &y| {
            (lo.min(y), hi.max(y))
        })
}

/// One cell per value, or per bucket mean when there are more than [`SPARK`] values.
fn sparkline(ys: &[f64], min: f64, max: f64) -> String {
    let cells: Vec<f64> = if ys.len() <= SPARK {
        ys.to_vec()
    } else {
        (0..SPARK)
            .map(|j| {
                let bucket = &ys[j * ys.len() / SPARK..(j + 1) * ys.len() / SPARK];
                bucket.iter().map(|y| y / bucket.len() as f64).sum()
            })
            .collect()
    };
    cells
        .iter()
        .map(|&y| {
            if max <= min {
                LEVELS[3]
            } else {
                // Halved so that spans near f64::MAX do not overflow.
                let f = (y / 2.0 - min / 2.0) / (max / 2.0 - min / 2.0);
                LEVELS[((f * 7.0).round() as usize).min(7)]
            }
        })
        .collect()
}

/// `|y|` as a share of `biggest`, in `█` and eighths (`░` cells when negative).
fn bar(y: f64, biggest: f64) -> String {
    if biggest <= 0.0 {
        return String::new();
    }
    let cells = (y.abs() / biggest).min(1.0) * BAR as f64;
    if y < 0.0 {
        return "░".repeat(cells.round() as usize);
    }
    let mut full = cells.floor() as usize;
    let mut eighths = ((cells - cells.floor()) * 8.0).round() as usize;
    if eighths == 8 {
        full += 1;
        eighths = 0;
    }
    let mut s = "█".repeat(full);
    if eighths > 0 {
        s.push(EIGHTHS[eighths - 1]);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_use_eighths() {
        assert_eq!(bar(10.0, 10.0), "█".repeat(BAR));
        assert_eq!(bar(0.5, 8.0), "█▌");
        assert_eq!(bar(-4.0, 8.0), "░".repeat(12));
        assert_eq!(bar(0.0, 0.0), "");
    }

    #[test]
    fn sparklines_average_long_series() {
        let ys: Vec<f64> = (0..96).map(f64::from).collect();
        let s = sparkline(&ys, 0.0, 95.0);
        assert_eq!(s.chars().count(), SPARK);
        assert!(s.starts_with('▁') && s.ends_with('█'));
        assert_eq!(sparkline(&[2.0, 2.0], 2.0, 2.0), "▄▄");
    }
}

//! Charts, shared by both backends: which points are drawable, where the x values go,
//! "nice" axis scales (steps of 1, 2 or 5 × 10^k), and fixed number formatting so output
//! is byte-for-byte stable. `svg.rs` writes inline SVG for the HTML backend, `text.rs` the
//! sparkline / bar form.
//!
//! Hand-written rather than plotters' SVG backend, which was tried (plotters 0.3.7 with
//! only `svg_backend`, `line_series` and `ab_glyph`: 9 crates, about 7 s to build at
//! `-j1`). What it writes is worse for us:
//! - any text (tick labels, caption, legend) needs font metrics: with `ab_glyph` it fails
//!   (`FontUnavailable`) until a TTF file is embedded and registered; the `ttf` feature
//!   measures with the machine's fonts instead, so layout, and snapshots, differ between
//!   machines, and it needs fontconfig;
//! - every element repeats its style inline (`opacity`, `stroke`, `stroke-width`, font
//!   family), so nothing follows `render/style.css`; a labelless 640 × 320 line chart with
//!   its default mesh is 18.6 KB (about 200 grid lines), where ours with labels is ~2 KB;
//! - coordinates are rounded to whole pixels, text goes through its own escaper rather
//!   than our one [`escape`](crate::render::html::escape), and there is no hook for
//!   `role="img"` or `<title>`.
//!
//! The writer here is a few hundred lines, pure, deterministic (one-decimal coordinates,
//! fixed tick decimals), leaves text layout to the browser, and is styled by the page.

pub(crate) mod svg;
pub(crate) mod text;

use std::collections::HashMap;

use crate::element::{ChartKind, ChartNode, XValue};

/// Series colours, in order, repeating after the last (Vega's "tableau10").
pub(crate) const PALETTE: [&str; 10] = [
    "#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#eeca3b", "#b279a2", "#ff9da6",
    "#9d755d", "#bab0ac",
];

/// Magnitudes beyond this are clamped when scaling, so spans never overflow to infinity.
const LIMIT: f64 = 1e300;

/// What the x positions of [`Prepared::series`] mean.
pub(crate) enum XAxis {
    /// Positions are numbers on a numeric axis (line charts with numeric x).
    Numbers,
    /// Position `i` is category `i` (category x, or a bar chart's distinct numbers).
    Categories(Vec<String>),
}

/// One series with its drawable points as `(x position, y)`, in drawing order.
pub(crate) struct Points<'a> {
    pub(crate) name: &'a str,
    pub(crate) colour: &'static str,
    pub(crate) points: Vec<(f64, f64)>,
}

/// A chart ready to draw: finite points only, x mapped, the number skipped noted.
pub(crate) struct Prepared<'a> {
    pub(crate) chart: &'a ChartNode,
    pub(crate) x: XAxis,
    pub(crate) series: Vec<Points<'a>>,
    /// Points left out because x or y was NaN or infinite.
    pub(crate) skipped: usize,
}

impl<'a> Prepared<'a> {
    pub(crate) fn new(chart: &'a ChartNode) -> Prepared<'a> {
        let mut skipped = 0;
        let finite = |(x, y): &(XValue, f64)| {
            y.is_finite() && !matches!(x, XValue::Number(n) if !n.is_finite())
        };
        for s in &chart.series {
            skipped += s.points().iter().filter(|p| !finite(p)).count();
        }
        let numeric = chart
            .series
            .iter()
            .flat_map(|s| s.points())
            .all(|(x, _)| matches!(x, XValue::Number(_)));
        // Category labels in order of first appearance, or the sorted distinct numbers
        // of a bar chart; `None` for a numeric line chart.
        let categories: Option<Vec<String>> = if !numeric {
            let mut seen: Vec<String> = Vec::new();
            let mut known = std::collections::HashSet::new();
            for (x, _) in chart.series.iter().flat_map(|s| s.points()) {
                if let XValue::Category(c) = x
                    && known.insert(c.as_str())
                {
                    seen.push(c.to_string());
                }
            }
            Some(seen)
        } else if chart.kind == ChartKind::Bar {
            let mut xs: Vec<f64> = chart
                .series
                .iter()
                .flat_map(|s| s.points().iter().filter(|p| finite(p)))
                .filter_map(|(x, _)| match x {
                    XValue::Number(n) => Some(*n),
                    XValue::Category(_) => None,
                })
                .collect();
            xs.sort_by(f64::total_cmp);
            // Distinct numbers that print alike (1.00001, 1.000012) share one category.
            let mut labels: Vec<String> = xs.into_iter().map(format_number).collect();
            labels.dedup();
            Some(labels)
        } else {
            None
        };
        let index: HashMap<&str, usize> = categories
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        let position = |x: &XValue| -> f64 {
            match (x, &categories) {
                (XValue::Number(n), None) => *n,
                (XValue::Number(n), Some(_)) => index[format_number(*n).as_str()] as f64,
                (XValue::Category(c), _) => index[c.as_str()] as f64,
            }
        };
        let series = chart
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut points: Vec<(f64, f64)> = s
                    .points()
                    .iter()
                    .filter(|p| finite(p))
                    .map(|(x, y)| (position(x), *y))
                    .collect();
                if categories.is_none() {
                    // A line joins its points left to right.
                    points.sort_by(|a, b| a.0.total_cmp(&b.0));
                }
                Points {
                    name: s.name(),
                    colour: PALETTE[i % PALETTE.len()],
                    points,
                }
            })
            .collect();
        Prepared {
            chart,
            x: categories.map_or(XAxis::Numbers, XAxis::Categories),
            series,
            skipped,
        }
    }

    /// True when no point can be drawn.
    pub(crate) fn is_empty(&self) -> bool {
        self.series.iter().all(|s| s.points.is_empty())
    }

    /// The smallest and largest y drawn (0 included for bar charts, which grow from 0).
    pub(crate) fn y_range(&self) -> (f64, f64) {
        let start = if self.chart.kind == ChartKind::Bar {
            (0.0, 0.0)
        } else {
            (f64::INFINITY, f64::NEG_INFINITY)
        };
        self.series
            .iter()
            .flat_map(|s| &s.points)
            .fold(start, |(lo, hi), &(_, y)| (lo.min(y), hi.max(y)))
    }

    /// The sentence saying how many points were left out, if any.
    pub(crate) fn skipped_note(&self) -> Option<String> {
        match self.skipped {
            0 => None,
            1 => Some("1 point skipped: NaN or infinite".to_owned()),
            n => Some(format!("{n} points skipped: NaN or infinite")),
        }
    }

    /// What the chart shows, for screen readers: its title, or its kind and series names.
    pub(crate) fn description(&self) -> String {
        if let Some(t) = &self.chart.title {
            return t.to_string();
        }
        let kind = match self.chart.kind {
            ChartKind::Line => "Line chart",
            ChartKind::Bar => "Bar chart",
        };
        let names: Vec<&str> = self.series.iter().map(|s| s.name).collect();
        if names.is_empty() {
            kind.to_owned()
        } else {
            format!("{kind} of {}", names.join(", "))
        }
    }
}

/// An axis from `lo` to `hi` in steps of 1, 2 or 5 × 10^k, covering the data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scale {
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    pub(crate) step: f64,
    /// Decimals that show every tick exactly (0 for whole steps).
    decimals: usize,
}

impl Scale {
    /// A scale with about `target` steps covering `min..=max` (finite, `min <= max`). An
    /// empty range is widened by 10% of its value (or by 1 around zero).
    pub(crate) fn new(min: f64, max: f64, target: u32) -> Scale {
        debug_assert!(min <= max, "a scale's range runs upwards");
        let (mut min, mut max) = (min.clamp(-LIMIT, LIMIT), max.clamp(-LIMIT, LIMIT));
        let target = f64::from(target.max(1));
        let mut raw = max / target - min / target;
        if !raw.is_normal() {
            let pad = min.abs() * 0.1;
            let pad = if pad.is_normal() { pad } else { 1.0 };
            (min, max) = (min - pad, max + pad);
            raw = max / target - min / target;
        }
        let mut exp = raw.log10().floor() as i32;
        // Slightly shrunk so that rounding noise (1.1 - 0.9 > 0.2) does not pick the next
        // step up.
        let norm = raw / 10f64.powi(exp) * (1.0 - 1e-9);
        let factor = match norm {
            n if n <= 1.0 => 1.0,
            n if n <= 2.0 => 2.0,
            n if n <= 5.0 => 5.0,
            _ => {
                exp += 1;
                1.0
            }
        };
        let step = factor * 10f64.powi(exp);
        let scale = Scale {
            lo: (min / step).floor() * step,
            hi: (max / step).ceil() * step,
            step,
            decimals: usize::try_from(-exp).unwrap_or(0),
        };
        debug_assert!(
            scale.steps() <= 4 * target as usize + 4,
            "a nice scale has about `target` steps"
        );
        scale
    }

    fn steps(&self) -> usize {
        (self.hi / self.step - self.lo / self.step).round() as usize
    }

    /// The tick values, `lo` to `hi` inclusive.
    pub(crate) fn ticks(&self) -> impl Iterator<Item = f64> + '_ {
        (0..=self.steps()).map(|i| self.lo + i as f64 * self.step)
    }

    /// Where `v` falls between `lo` (0) and `hi` (1), clamped to the axis.
    pub(crate) fn fraction(&self, v: f64) -> f64 {
        let v = v.clamp(self.lo, self.hi);
        // Halved so that spans near f64::MAX do not overflow.
        (v / 2.0 - self.lo / 2.0) / (self.hi / 2.0 - self.lo / 2.0)
    }

    /// A tick's label: fixed decimals from the step, so 0.1 + 0.2 shows as `0.3`.
    pub(crate) fn label(&self, v: f64) -> String {
        if self.step >= 1e15 || self.decimals > 12 {
            return format_number(v);
        }
        let s = format!("{v:.*}", self.decimals);
        // `-0.0` rounds to "-0" (or "-0.00"): a tick at zero reads `0`.
        if s.starts_with('-') && s[1..].bytes().all(|b| b == b'0' || b == b'.') {
            s[1..].to_owned()
        } else {
            s
        }
    }
}

/// A value for people: whole numbers without decimals, others to at most 4 decimals
/// (trailing zeros dropped), very large or small magnitudes in exponent form.
pub(crate) fn format_number(v: f64) -> String {
    let a = v.abs();
    if v == v.trunc() && a < 1e15 {
        // Whole and in range, so the cast is exact; `-0.0` becomes `0`.
        return format!("{}", v as i64);
    }
    if !(1e-4..1e15).contains(&a) {
        return format!("{v:e}");
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticks(min: f64, max: f64) -> Vec<String> {
        let s = Scale::new(min, max, 5);
        s.ticks().map(|t| s.label(t)).collect()
    }

    #[test]
    fn scales_step_by_one_two_or_five() {
        assert_eq!(ticks(0.0, 10.0), ["0", "2", "4", "6", "8", "10"]);
        assert_eq!(ticks(3.0, 97.0), ["0", "20", "40", "60", "80", "100"]);
        assert_eq!(ticks(-7.0, 3.0), ["-8", "-6", "-4", "-2", "0", "2", "4"]);
        assert_eq!(ticks(0.1, 0.3), ["0.10", "0.15", "0.20", "0.25", "0.30"]);
        assert_eq!(ticks(0.0, 1.0), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        assert_eq!(
            ticks(1000.0, 25000.0),
            ["0", "5000", "10000", "15000", "20000", "25000"]
        );
    }

    #[test]
    fn empty_ranges_are_widened() {
        assert_eq!(
            ticks(5.0, 5.0),
            ["4.4", "4.6", "4.8", "5.0", "5.2", "5.4", "5.6"]
        );
        assert_eq!(ticks(0.0, 0.0), ["-1.0", "-0.5", "0.0", "0.5", "1.0"]);
        let huge = Scale::new(f64::MAX, f64::MAX, 5);
        assert!(huge.lo.is_finite() && huge.hi.is_finite() && huge.lo < huge.hi);
        assert_eq!(huge.fraction(f64::MAX), 1.0);
    }

    #[test]
    fn bar_numbers_that_print_alike_share_a_category() {
        use crate::elements::{BarChart, Series};
        let chart = BarChart([Series::new(
            "s",
            [(1.00001, 1.0), (1.000012, 2.0), (2.0, 3.0)],
        )]);
        let crate::element::Node::Chart(c) = &chart.node else {
            panic!("not a chart: {chart:?}");
        };
        let p = Prepared::new(c);
        assert!(matches!(&p.x, XAxis::Categories(names) if names == &["1", "2"]));
        assert_eq!(p.series[0].points, [(0.0, 1.0), (0.0, 2.0), (1.0, 3.0)]);
    }

    #[test]
    fn numbers_format_stably() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(1.0 / 3.0), "0.3333");
        assert_eq!(format_number(1e20), "1e20");
        assert_eq!(format_number(0.00001), "1e-5");
    }
}

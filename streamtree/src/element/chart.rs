//! Chart data: [`LineChart`] and [`BarChart`] hold named [`Series`] of `(x, y)` points as
//! plain values; `render/chart/` turns them into SVG or text.
//!
//! The x values of one chart are either all numbers or all categories ([`XValue`]); a
//! chart that mixes them is an error box from the start, so renderers only see one kind.
//! Points whose x or y is NaN or infinite are kept here and skipped (and counted) by the
//! renderers, which say how many they left out.

use crate::element::{Element, Node, Str};

/// Default drawing size of a chart's SVG, in CSS pixels (it scales down to fit).
pub(crate) const DEFAULT_SIZE: (u32, u32) = (640, 320);
/// Sizes outside this range are clamped: small enough to stay legible, big enough to draw.
pub(crate) const SIZE_RANGE: std::ops::RangeInclusive<u32> = 160..=4000;

/// Line or bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChartKind {
    Line,
    Bar,
}

impl ChartKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ChartKind::Line => "LineChart",
            ChartKind::Bar => "BarChart",
        }
    }
}

/// A chart's payload, boxed in [`Node::Chart`].
pub(crate) struct ChartNode {
    pub(crate) kind: ChartKind,
    pub(crate) series: Vec<Series>,
    pub(crate) title: Option<Str>,
    pub(crate) x_label: Option<Str>,
    pub(crate) y_label: Option<Str>,
    /// Width and height in CSS pixels, within [`SIZE_RANGE`].
    pub(crate) size: (u32, u32),
}

/// An x value of a chart point: a number, or a category name.
///
/// Numbers convert from the primitive number types (`i64`, `u64` and `usize` through
/// `as f64`, so exactly only up to 2^53), categories from strings. A line chart places
/// numbers on a numeric axis and categories evenly, in order of first appearance; a bar
/// chart draws one group of bars per category, or per distinct number (sorted).
///
/// # Example
/// ```
/// use streamtree::elements::XValue;
/// assert_eq!(XValue::from(3), XValue::Number(3.0));
/// assert_eq!(XValue::from("Q1"), XValue::Category("Q1".into()));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum XValue {
    /// A position on a numeric axis.
    Number(f64),
    /// A named category.
    Category(Str),
}

macro_rules! x_from_number {
    ($($t:ty),*) => {$(
        impl From<$t> for XValue {
            #[allow(clippy::cast_lossless, clippy::cast_precision_loss)]
            fn from(x: $t) -> XValue {
                XValue::Number(x as f64)
            }
        }
    )*};
}
x_from_number!(f64, f32, i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

macro_rules! x_from_text {
    ($($t:ty),*) => {$(
        impl From<$t> for XValue {
            fn from(x: $t) -> XValue {
                XValue::Category(x.into())
            }
        }
    )*};
}
x_from_text!(&str, String, &String, Str);

/// One named series of `(x, y)` points for a [`LineChart`] or [`BarChart`].
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let eu = Series::new("EU", [(1, 3.0), (2, 5.0), (3, 4.0)]);
/// assert_eq!(eu.name(), "EU");
/// let q = Series::new("Sales", [("Q1", 10), ("Q2", 12)]);
/// assert_eq!(q.points()[1].1, 12.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    name: Str,
    points: Vec<(XValue, f64)>,
}

impl Series {
    /// A series named `name` from `(x, y)` pairs, in the order given. `x` is a number or a
    /// category (see [`XValue`]); `y` is any number that converts to `f64` losslessly
    /// (write `as f64` for `i64`). NaN and infinite values are kept and skipped when drawn.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Series::new("temp", [(0.0, 12.5), (0.5, f64::NAN)]);
    /// assert_eq!(s.points().len(), 2);
    /// ```
    pub fn new<X, Y>(name: impl Into<Str>, points: impl IntoIterator<Item = (X, Y)>) -> Series
    where
        X: Into<XValue>,
        Y: Into<f64>,
    {
        Series {
            name: name.into(),
            points: points
                .into_iter()
                .map(|(x, y)| (x.into(), y.into()))
                .collect(),
        }
    }

    /// A series from `y` values alone, at x = 0, 1, 2, ...
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let s = Series::from_values("load", [0.5, 0.75]);
    /// assert_eq!(s.points()[1], (XValue::Number(1.0), 0.75));
    /// ```
    pub fn from_values<Y: Into<f64>>(
        name: impl Into<Str>,
        values: impl IntoIterator<Item = Y>,
    ) -> Series {
        Series::new(name, values.into_iter().enumerate())
    }

    /// The series' name, shown in the legend.
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::elements::Series::from_values("a", [1.0]).name(), "a");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The points as given, non-finite ones included.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// assert!(Series::from_values("a", Vec::<f64>::new()).points().is_empty());
    /// ```
    pub fn points(&self) -> &[(XValue, f64)] {
        &self.points
    }
}

/// A line chart of one or more [`Series`], in inline SVG (HTML) or sparklines (text).
///
/// x values are numbers (a numeric axis, points joined in x order) or categories (placed
/// evenly in order of first appearance). Options: [`Element::title`],
/// [`Element::x_label`], [`Element::y_label`], [`Element::size`]. NaN or infinite points
/// are skipped and the chart says how many; a series with one point draws a dot.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let chart = LineChart([
///     Series::new("EU", [(1, 3.0), (2, 5.0), (3, 4.0)]),
///     Series::new("US", [(1, 2.0), (2, 2.5), (3, 6.0)]),
/// ])
/// .title("Units per day");
/// assert_eq!(
///     render_text(&chart),
///     "LineChart \"Units per day\"\n  EU  ▁█▅  min 3 max 5\n  US  ▁▂█  min 2 max 6\n"
/// );
/// assert!(render_html(&chart).contains(r#"role="img""#));
/// ```
#[allow(non_snake_case)]
pub fn LineChart(series: impl IntoIterator<Item = Series>) -> Element {
    chart(ChartKind::Line, series.into_iter().collect())
}

/// A bar chart of one or more [`Series`]: one group of bars per category (or per distinct
/// numeric x, sorted), one bar per series, growing from zero (so negative values point
/// down). Options as for [`LineChart`]. In text, one line per category and series with a
/// bar of `█` scaled to the largest magnitude (negative values draw `░`).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let chart = BarChart([Series::new("Units", [("Q1", 10), ("Q2", 5)])]);
/// assert_eq!(
///     render_text(&chart),
///     "BarChart\n  Q1  Units  ████████████████████████ 10\n  Q2  Units  ████████████ 5\n"
/// );
/// ```
#[allow(non_snake_case)]
pub fn BarChart(series: impl IntoIterator<Item = Series>) -> Element {
    chart(ChartKind::Bar, series.into_iter().collect())
}

fn chart(kind: ChartKind, series: Vec<Series>) -> Element {
    let first_number = series
        .iter()
        .flat_map(|s| s.points.iter().map(move |p| (s, p)))
        .find(|(_, (x, _))| matches!(x, XValue::Number(_)));
    let first_category = series
        .iter()
        .flat_map(|s| s.points.iter().map(move |p| (s, p)))
        .find_map(|(s, (x, _))| match x {
            XValue::Category(c) => Some((s, c)),
            XValue::Number(_) => None,
        });
    if let (Some(_), Some((s, c))) = (first_number, first_category) {
        return Element::error(format!(
            "`{}` x values must be all numbers or all categories, but series {:?} has \
             category {:?} beside numbers elsewhere",
            kind.name(),
            s.name.as_str(),
            c.as_str()
        ));
    }
    Element::new(Node::Chart(Box::new(ChartNode {
        kind,
        series,
        title: None,
        x_label: None,
        y_label: None,
        size: DEFAULT_SIZE,
    })))
}

impl Element {
    /// Labels a chart's x axis.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let c = LineChart([Series::from_values("a", [1.0, 2.0])]).x_label("day");
    /// assert!(render_html(&c).contains(">day</text>"));
    /// ```
    pub fn x_label(self, label: impl Into<Str>) -> Element {
        self.chart_option("x_label", |c| c.x_label = Some(label.into()))
    }

    /// Labels a chart's y axis.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let c = BarChart([Series::new("a", [("x", 1.0)])]).y_label("units");
    /// assert!(render_text(&c).contains("y: units"));
    /// ```
    pub fn y_label(self, label: impl Into<Str>) -> Element {
        self.chart_option("y_label", |c| c.y_label = Some(label.into()))
    }

    /// Sets a chart's drawing size in CSS pixels (default 640 × 320), each clamped to
    /// 160..=4000. The SVG still shrinks to fit a narrower page.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let c = LineChart([Series::from_values("a", [1.0, 2.0])]).size(400, 200);
    /// assert!(render_html(&c).contains(r#"viewBox="0 0 400 200""#));
    /// ```
    pub fn size(self, width: u32, height: u32) -> Element {
        let clamp = |v: u32| v.clamp(*SIZE_RANGE.start(), *SIZE_RANGE.end());
        self.chart_option("size", |c| c.size = (clamp(width), clamp(height)))
    }

    fn chart_option(mut self, option: &str, set: impl FnOnce(&mut ChartNode)) -> Element {
        match &mut self.node {
            Node::Chart(c) => {
                set(c);
                self
            }
            _ => self.misuse(option, "LineChart` or `BarChart"),
        }
    }
}

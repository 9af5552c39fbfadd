//! `LineChart` and `BarChart`: text and HTML (inline SVG) snapshots of each state and edge
//! case, plus the escaping, accessibility and determinism checks stated outright.

use insta::assert_snapshot;
use streamtree::prelude::*;

/// Writes `<name>_text` and `<name>_html`, and checks both backends are deterministic.
fn snap(name: &str, el: &Element) {
    let (text, html) = (render_text(el), render_html(el));
    assert_eq!(text, render_text(el), "{name}: text output is not stable");
    assert_eq!(html, render_html(el), "{name}: HTML output is not stable");
    assert_snapshot!(format!("{name}_text"), text);
    assert_snapshot!(format!("{name}_html"), html);
}

fn sales() -> [Series; 2] {
    [
        Series::new(
            "EU",
            [(1, 120.0), (2, 135.5), (3, 128.0), (4, 160.0), (5, 171.0)],
        ),
        Series::new(
            "US",
            [(1, 90.0), (2, 110.0), (3, 150.0), (4, 140.0), (5, 155.0)],
        ),
    ]
}

#[test]
fn line_chart_with_two_series() {
    let chart = LineChart(sales())
        .title("Units per day")
        .x_label("day")
        .y_label("units");
    snap("line_two_series", &chart);
    let html = render_html(&chart);
    assert!(html.contains(r#"role="img" aria-label="Units per day""#));
    assert!(html.contains("<title>Units per day</title>"));
    assert!(!html.contains("<script"), "charts need no script");
}

#[test]
fn line_chart_over_categories() {
    let chart = LineChart([Series::new(
        "visits",
        [("Mon", 3.0), ("Tue", 7.0), ("Wed", 5.0), ("Thu", 9.0)],
    )]);
    snap("line_categories", &chart);
}

#[test]
fn bar_chart_grouped_with_negatives() {
    let chart = BarChart([
        Series::new("2024", [("Q1", 12.0), ("Q2", -4.5), ("Q3", 8.0)]),
        Series::new("2025", [("Q1", 15.0), ("Q2", 3.0), ("Q3", -9.0)]),
    ])
    .title("Margin")
    .y_label("%");
    snap("bar_grouped_negative", &chart);
}

#[test]
fn bar_chart_over_numbers_sorts_them() {
    let chart = BarChart([Series::new("count", [(3, 5), (1, 2), (2, 7)])]).size(320, 200);
    snap("bar_numeric_x", &chart);
}

#[test]
fn chart_without_series() {
    snap("no_series", &LineChart([]).title("Nothing yet"));
    assert_eq!(render_text(&BarChart([])), "BarChart\n  (no data)\n");
}

#[test]
fn empty_series_show_as_having_no_points() {
    let empty = || Series::new("empty", Vec::<(f64, f64)>::new());
    snap(
        "empty_series",
        &LineChart([empty(), Series::from_values("full", [1.0, 2.0])]),
    );
    snap("bar_all_empty", &BarChart([empty()]));
}

#[test]
fn one_point_draws_a_dot() {
    let chart = LineChart([Series::new("only", [(2.0, 5.0)])]);
    snap("one_point", &chart);
    assert!(render_html(&chart).contains("<circle class=\"st-chart-dot\""));
}

#[test]
fn equal_values_get_a_widened_axis() {
    snap(
        "all_equal",
        &LineChart([Series::from_values("flat", [3.0, 3.0, 3.0])]),
    );
    snap(
        "all_zero_bars",
        &BarChart([Series::new("zero", [("a", 0.0), ("b", 0.0)])]),
    );
}

#[test]
fn non_finite_points_are_skipped_and_said() {
    let chart = LineChart([Series::new(
        "sensor",
        [
            (0.0, 1.0),
            (1.0, f64::NAN),
            (2.0, 4.0),
            (f64::INFINITY, 2.0),
            (3.0, f64::NEG_INFINITY),
            (4.0, 2.0),
        ],
    )]);
    snap("non_finite", &chart);
    assert!(render_text(&chart).contains("(3 points skipped: NaN or infinite)"));
    let only_nan = BarChart([Series::new("x", [("a", f64::NAN)])]);
    snap("only_non_finite", &only_nan);
}

#[test]
fn negative_line_values() {
    snap(
        "negative_line",
        &LineChart([Series::from_values("temp", [-3.5, -1.0, 0.5, -7.25])]),
    );
}

#[test]
fn long_series_are_averaged_into_a_sparkline() {
    let wave = Series::from_values("wave", (0..200).map(|i| f64::from(i % 50)));
    let text = render_text(&LineChart([wave]));
    assert_snapshot!("long_series_text", text);
}

#[test]
fn hostile_labels_are_escaped() {
    let evil = "<script>alert('x')</script>\"&";
    let chart = BarChart([Series::new(evil, [(evil, 1.0)])])
        .title(evil)
        .x_label(evil)
        .y_label(evil);
    snap("hostile", &chart);
    let html = render_html(&chart);
    assert!(!html.contains("<script"), "a script tag got through");
    assert!(!html.contains("'x'"), "a quote got through unescaped");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;"));
    let line = LineChart([Series::new(evil, [(evil, 1.0), ("b", 2.0)])]);
    assert!(!render_html(&line).contains("<script"));
}

#[test]
fn mixed_x_kinds_are_an_error_in_place() {
    let chart = LineChart([
        Series::new("a", [(1, 1.0)]),
        Series::new("b", [("Jan", 2.0)]),
    ]);
    assert_eq!(
        render_text(&chart),
        "! error: `LineChart` x values must be all numbers or all categories, but series \
         \"b\" has category \"Jan\" beside numbers elsewhere\n"
    );
}

#[test]
fn chart_options_on_other_elements_are_errors() {
    assert_eq!(
        render_text(&Text("a").x_label("x")),
        "! error: `.x_label(..)` applies to `LineChart` or `BarChart`, not to `Text`\n"
    );
    assert_eq!(
        render_text(&Divider().title("t")),
        "! error: `.title(..)` applies to `Page`, `LineChart` or `BarChart`, not to `Divider`\n"
    );
    let sized = LineChart([Series::from_values("a", [1.0, 2.0])]).size(1, 99_999);
    assert!(render_html(&sized).contains(r#"viewBox="0 0 160 4000""#));
}

#[test]
fn charts_in_view_and_in_a_page() {
    let points = vec![(1, 2.0), (2, 4.0)];
    let el = view! {
        VStack {
            LineChart([Series::new("a", points)]).title("In a view").key("chart")
            BarChart([Series::new("b", [("x", 1)])])
        }
    };
    let text = render_text(&el);
    assert_eq!(
        text,
        "VStack\n  LineChart \"In a view\" [chart]\n    a  ▁█  min 2 max 4\n  BarChart\n    \
         x  b  ████████████████████████ 1\n"
    );
    assert!(render_html(&el).contains(r#"<figure class="st-chart" data-st-key="chart">"#));
    let tree = streamtree::render_to_tree(&el);
    assert_eq!(tree.children[0].kind, "LineChart");
    assert_eq!(tree.children[0].text.as_deref(), Some("In a view"));
}

//! Data-display widgets (`Table`, `DataTable`, `Columns`, alerts, `Metric`, `Expander`,
//! GFM Markdown), each pinned as text and HTML snapshots.

#[allow(dead_code)]
#[path = "../streamtree/benches/common/table.rs"]
mod bench_table;

use insta::assert_snapshot;
use serde::Serialize;
use streamtree::prelude::*;

/// Snapshots `el` in both backends as `<name>_text` and `<name>_html` (the helper name
/// `tests/tidy.rs` knows).
fn snap(name: &str, el: &Element) {
    assert_snapshot!(format!("{name}_text"), render_text(el));
    assert_snapshot!(format!("{name}_html"), render_html(el));
}

#[derive(Serialize)]
struct Sale {
    region: &'static str,
    units: u32,
    revenue: f64,
    note: Option<&'static str>,
}

#[derive(Serialize)]
enum Status {
    Open,
}

#[derive(Serialize)]
struct Mixed {
    status: Status,
    tags: Vec<&'static str>,
    pair: (u8, char),
}

#[test]
fn table_display_rows_with_header_and_alignment() {
    let t = Table([
        vec!["EU".to_string(), "1200".into(), "ok".into()],
        vec!["Asia <Pacific>".into(), "80".into(), "late & low".into()],
        vec!["日本".into(), "7".into()],
    ])
    .header(["Region", "Units", "Status"])
    .align([Align::Left, Align::Right, Align::Center]);
    snap("table", &t);
}

#[test]
fn table_without_header_and_empty() {
    snap("table_no_header", &Table([[1, 2, 3], [40, 50, 60]]));
    snap("table_empty", &Table(Vec::<Vec<String>>::new()));
    snap(
        "table_header_only",
        &Table(Vec::<Vec<String>>::new()).header(["a", "b"]),
    );
}

#[test]
fn table_ragged_rows_and_wider_header_pad_with_empty_cells() {
    // Cells are one flat text buffer with end offsets: padding repeats an offset, and a
    // cell after padding must still start where its own text does.
    let rows: Vec<Vec<&str>> = vec![vec!["a"], vec![], vec!["b", "c"], vec!["d"]];
    let t = Table(rows).header(["x", "y", "z"]);
    assert_eq!(
        render_html(&t),
        "<table class=\"st-table\"><thead><tr><th>x</th><th>y</th><th>z</th></tr></thead><tbody>\
         <tr><td>a</td><td></td><td></td></tr>\
         <tr><td></td><td></td><td></td></tr>\
         <tr><td>b</td><td>c</td><td></td></tr>\
         <tr><td>d</td><td></td><td></td></tr></tbody></table>"
    );
    assert_eq!(render_text(&t), "x  y  z\n─  ─  ─\na\n\nb  c\nd\n");
}

#[test]
fn table_long_cells_are_cut_in_text_only() {
    let t = Table([
        ["a very long cell that keeps going", "short"],
        ["日本語のテキスト", "x"],
    ])
    .header(["Description", "S"])
    .max_cell_width(10);
    snap("table_truncated", &t);
    assert!(render_html(&t).contains("a very long cell that keeps going"));
}

#[test]
fn data_table_from_serialize_rows() {
    let t = DataTable([
        Sale {
            region: "EU",
            units: 12,
            revenue: 1250.5,
            note: None,
        },
        Sale {
            region: "Asia",
            units: 7,
            revenue: 99.0,
            note: Some("new <market>"),
        },
    ])
    .align([Align::Left, Align::Right, Align::Right]);
    snap("data_table", &t);
}

#[test]
fn data_table_columns_by_first_appearance() {
    // Maps: columns by key, a later key adds a column, missing cells are empty.
    let rows: Vec<std::collections::BTreeMap<&str, i32>> = vec![
        [("a", 1), ("b", 2)].into_iter().collect(),
        [("b", 3), ("c", 4)].into_iter().collect(),
    ];
    assert_eq!(
        render_text(&DataTable(rows)),
        "a  b  c\n─  ─  ─\n1  2\n   3  4\n"
    );
    // Tuples: positional columns; nested values compact; unit variants by name.
    assert_eq!(render_text(&DataTable([(1, "x")])), "0  1\n─  ─\n1  x\n");
    let mixed = DataTable([Mixed {
        status: Status::Open,
        tags: vec!["a", "b"],
        pair: (1, 'z'),
    }]);
    assert_eq!(
        render_text(&mixed),
        "status  tags    pair\n──────  ──────  ──────\nOpen    [a, b]  (1, z)\n"
    );
    // Plain values: one `value` column.
    assert_eq!(render_text(&DataTable([1, 2])), "value\n─────\n1\n2\n");
}

#[test]
fn data_table_serialize_error_is_shown_in_place() {
    struct Fails;
    impl Serialize for Fails {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("no can do"))
        }
    }
    assert_eq!(
        render_text(&DataTable([Fails])),
        "! error: `DataTable` row 0 did not serialize: no can do\n"
    );
}

#[test]
fn table_options_on_other_elements_are_errors() {
    assert_eq!(
        render_text(&Text("x").header(["a"])),
        "! error: `.header(..)` applies to `Table`, not to `Text`\n"
    );
}

#[test]
fn table_10k_rows_renders_every_row() {
    let t = Table((0..10_000).map(|r| [r, r * 2, r * 3])).header(["a", "b", "c"]);
    let html = render_html(&t);
    assert_eq!(html.matches("<tr>").count(), 10_001);
    assert_eq!(render_text(&t).lines().count(), 10_002);
}

#[test]
fn table_10k_benchmark_markup_matches_maud() {
    // The benchmark compares like with like only if both sides write the same bytes.
    let rows = bench_table::table_10k_rows();
    let maud = bench_table::maud_table_10k(&rows);
    assert_eq!(render_html(&bench_table::table_10k(&rows)), maud);
    assert_eq!(render_html(&bench_table::table_10k_str(&rows)), maud);
}

#[test]
fn columns_side_by_side_and_stacked() {
    let cols = || {
        Columns([
            VStack([Text("left"), Metric("Units", 80)]),
            Card([Text("middle")]),
            Text("right"),
        ])
        .widths([2, 1, 1])
        .key("row")
    };
    snap("columns", &cols());
    snap("columns_stacked", &cols().text_width(30));
    // Equal widths by default.
    assert!(render_html(&Columns(["a", "b"])).starts_with(
        r#"<div class="st-columns" style="grid-template-columns:minmax(0,1fr) minmax(0,1fr)">"#
    ));
}

#[test]
fn columns_width_mistakes_are_errors() {
    assert_eq!(
        render_text(&Columns(["a", "b"]).widths([1])),
        "! error: `Columns` has 2 columns but `.widths(..)` gave 1 weights\n"
    );
    assert!(
        render_text(&Columns(["a"]).widths([0]))
            .starts_with("! error: `Columns` weight 0 is not a positive number")
    );
    assert!(
        render_text(&Columns(["a"]).widths([f64::NAN]))
            .starts_with("! error: `Columns` weight NaN is not a positive number")
    );
}

#[test]
fn alerts_beside_error_box() {
    let alerts = VStack([
        Info("Data refreshed at 12:00"),
        Success("Saved <3 rows>"),
        Warning("Stale data:\nlast refresh failed"),
        ErrorBox("disk full"),
    ]);
    snap("alerts", &alerts);
}

#[test]
fn metric_with_and_without_delta() {
    let metrics = VStack([
        Metric("Revenue", "€1,200"),
        Metric("Units", 80).delta("+5%"),
        Metric("Returns", 3).delta(-2),
        Metric("Churn <%>", "1.5%").delta("−0.3 pts"),
    ]);
    snap("metrics", &metrics);
}

#[test]
fn expander_closed_open_and_nested() {
    let e = Expander(
        "Details <raw>",
        [
            Text("inside"),
            Expander("Nested", [Button("Go").key("go")]).expanded(true),
        ],
    )
    .key("details");
    snap("expander", &e);
}

#[test]
fn containers_resolve_components_and_buttons_inside() {
    // Components inside `Columns` and `Expander` run on rerun; buttons inside are clickable.
    let clicks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = clicks.clone();
    let app = move || {
        let seen = seen.clone();
        Page([
            Columns([streamtree_tests::Greeting("Ada".to_string()), Text("x")]),
            Expander(
                "More",
                [Button("Hit").key("hit").on_click(move || {
                    seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                })],
            ),
        ])
    };
    let mut t = AppTest::new(app);
    let text = t.run().text();
    assert!(text.contains("Hello, Ada!"), "{text}");
    t.click("hit")
        .expect("the button inside the expander is clickable");
    assert_eq!(clicks.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn markdown_gfm_table_and_strikethrough() {
    let md = Markdown(
        "Sales by region, ~~draft~~ final:\n\n\
         | Region | Units | Note |\n\
         |:-------|------:|:----:|\n\
         | EU | 1200 | *ok* |\n\
         | 日本 | 7 | `new` |\n\
         | Asia | 80 | [more](https://example.com/a) |\n\n\
         After the table.",
    );
    snap("markdown_gfm", &md);
}

#[test]
fn markdown_tables_keep_the_safety_rules() {
    let md = Markdown(
        "| a | b |\n|---|---|\n| <script>alert(1)</script> | [x](javascript:alert(1)) |\n| <img src=x onerror=alert(1)> | ![i](data:text/html,x) |",
    );
    let html = render_html(&md);
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
    assert!(!html.contains("data:text"), "{html}");
    snap("markdown_gfm_hostile", &md);
}

#[test]
fn view_accepts_the_display_widgets() {
    let regions = ["EU", "Asia"];
    let app = move || {
        view! {
            Page {
                Columns {
                    Metric("Units", 80).delta("+5%")
                    Metric("Returns", 3).delta(-1)
                }.widths([1, 1]).key("metrics")
                Table(regions.iter().map(|r| [*r, "1"])).header(["Region", "Units"])
                DataTable([Sale { region: "EU", units: 1, revenue: 2.5, note: None }])
                Info("refreshed")
                Success("saved")
                Warning("stale")
                Expander("Details", [view! {
                    for r in regions { Text(r) }
                    Markdown("~~old~~\n\n| a |\n|---|\n| b |")
                }])
            }.title("Dashboard")
        }
    };
    let mut t = AppTest::new(app);
    snap("view_dashboard", t.run().element());
}

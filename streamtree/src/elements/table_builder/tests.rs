//! Every cell path of `TableBuilder`: the text it writes, its escaping when rendered, and
//! equality with the `Table` (`Display`) path.

use std::borrow::Cow;
use std::fmt::Display;

use super::*;
use crate::elements::{Align, Table};
use crate::render::{html::fragment, text};

/// The cells of a one-row table, as stored.
fn cells(t: &TableBuilder) -> Vec<&str> {
    let mut start = 0;
    t.ends
        .iter()
        .map(|&end| {
            let cell = &t.text[start..end];
            start = end;
            cell
        })
        .collect()
}

/// `value`'s cell text, through `cell`.
fn cell_text(value: impl IntoCell) -> String {
    let mut t = TableBuilder::new();
    t.row().cell(value);
    cells(&t).concat()
}

/// The HTML of a one-cell table holding `value`.
fn one_cell_html(value: impl IntoCell) -> String {
    let mut t = TableBuilder::new();
    t.row().cell(value);
    fragment(&t.build())
}

const NASTY: &str = r#"<a href="x">Tom & 'Jerry'</a>"#;
const ESCAPED: &str = "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;";

fn td(inner: &str) -> String {
    format!("<table class=\"st-table\"><tbody><tr><td>{inner}</td></tr></tbody></table>")
}

#[test]
fn every_string_path_is_escaped_when_rendered() {
    let want = td(ESCAPED);
    let owned = NASTY.to_string();
    assert_eq!(one_cell_html(NASTY), want, "&str");
    assert_eq!(one_cell_html(&owned), want, "&String");
    assert_eq!(one_cell_html(owned.clone()), want, "String");
    assert_eq!(one_cell_html(Str::from(NASTY)), want, "Str");
    assert_eq!(one_cell_html(Cow::Borrowed(NASTY)), want, "Cow");
    assert_eq!(one_cell_html(Some(NASTY)), want, "Option");
    let nested: &&&str = &&NASTY;
    assert_eq!(one_cell_html(nested), want, "&&&str");
    assert_eq!(one_cell_html(format_args!("{NASTY}")), want, "format_args!");
    assert_eq!(
        one_cell_html(format_args!(r#"<a href="x">Tom & 'Jerry'</a>"#)),
        want,
        "format_args! of a literal"
    );
    let mut t = TableBuilder::new();
    t.row().display(NASTY);
    assert_eq!(fragment(&t.build()), want, "display");
    for (c, escaped) in [
        ('<', "&lt;"),
        ('>', "&gt;"),
        ('&', "&amp;"),
        ('"', "&quot;"),
        ('\'', "&#39;"),
    ] {
        assert_eq!(one_cell_html(c), td(escaped), "char {c}");
    }
}

#[test]
fn only_the_cells_that_need_it_are_escaped() {
    let mut t = TableBuilder::new();
    t.row().cell("a<b").cell(1);
    t.row().cell("plain").cell("&");
    assert_eq!(
        fragment(&t.build()),
        "<table class=\"st-table\"><tbody><tr><td>a&lt;b</td><td>1</td></tr>\
         <tr><td>plain</td><td>&amp;</td></tr></tbody></table>"
    );
}

#[test]
fn unicode_cells_are_kept_whole_and_aligned_by_width() {
    let mut t = TableBuilder::new();
    t.row().cell("日本語").cell('é').cell("🦀");
    t.row().cell("x").cell("ab").cell("c");
    let t = t.build();
    assert_eq!(
        fragment(&t),
        "<table class=\"st-table\"><tbody><tr><td>日本語</td><td>é</td><td>🦀</td></tr>\
         <tr><td>x</td><td>ab</td><td>c</td></tr></tbody></table>"
    );
    assert_eq!(text::render(&t), "日本語  é   🦀\nx       ab  c\n");
}

#[test]
fn empty_cells_rows_and_tables() {
    let mut t = TableBuilder::new();
    t.row().cell("").cell(None::<u8>).cell("z");
    t.row();
    t.row().cell(Some(7));
    assert_eq!(cells(&t), ["", "", "z", "7"]);
    let t = t.build();
    assert_eq!(
        fragment(&t),
        "<table class=\"st-table\"><tbody><tr><td></td><td></td><td>z</td></tr>\
         <tr><td></td><td></td><td></td></tr><tr><td>7</td><td></td><td></td></tr>\
         </tbody></table>"
    );
    assert_eq!(
        fragment(&TableBuilder::new().build()),
        fragment(&Table([[""; 0]; 0]))
    );
    assert_eq!(
        text::render(&TableBuilder::with_capacity(10).build()),
        "(empty table)\n"
    );
}

#[test]
fn integers_format_as_display() {
    fn check<T: IntoCell + Display + Copy>(values: &[T]) {
        for &v in values {
            assert_eq!(cell_text(v), v.to_string());
        }
    }
    check(&[0u8, 9, 10, u8::MAX]);
    check(&[0u16, u16::MAX]);
    check(&[0u32, 99, 100, u32::MAX]);
    check(&[0u64, u64::MAX]);
    check(&[0u128, u128::MAX]);
    check(&[0usize, 12_345, usize::MAX]);
    check(&[i8::MIN, -1, 0, i8::MAX]);
    check(&[i16::MIN, i16::MAX]);
    check(&[i32::MIN, -7, i32::MAX]);
    check(&[i64::MIN, i64::MAX]);
    check(&[i128::MIN, i128::MAX]);
    check(&[isize::MIN, isize::MAX]);
}

#[test]
fn floats_format_as_display() {
    let f64s = [
        0.0,
        -0.0,
        1.0,
        -1.5,
        0.1 + 0.2,
        1e20,
        1e-7,
        123_456.789,
        f64::MAX,
        f64::MIN_POSITIVE,
        f64::EPSILON,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    for v in f64s {
        assert_eq!(cell_text(v), v.to_string());
        assert_eq!(cell_text(v as f32), (v as f32).to_string());
    }
    // A spread of bit patterns, deterministic.
    let mut bits = 0x9E37_79B9_7F4A_7C15_u64;
    for _ in 0..1000 {
        bits = bits
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let v = f64::from_bits(bits);
        assert_eq!(cell_text(v), v.to_string());
        let w = f32::from_bits((bits >> 32) as u32);
        assert_eq!(cell_text(w), w.to_string());
    }
}

#[test]
fn other_cells_format_as_display() {
    assert_eq!(cell_text(true), "true");
    assert_eq!(cell_text(false), "false");
    assert_eq!(cell_text('✓'), "✓");
    assert_eq!(cell_text(format_args!("{}-{}", 1, "a")), "1-a");
    let mut t = TableBuilder::new();
    t.row()
        .display(std::net::Ipv4Addr::LOCALHOST)
        .display(2.5f64)
        .display("s");
    assert_eq!(cells(&t), ["127.0.0.1", "2.5", "s"]);
}

#[test]
fn a_builder_makes_the_table_that_table_makes() {
    let rows: Vec<(usize, String, f64)> = (0..50)
        .map(|i| {
            (
                i * 37,
                format!("n{i}<{}", "é".repeat(i % 3)),
                i as f64 / 8.0,
            )
        })
        .collect();
    let mut b = TableBuilder::with_capacity(10);
    for (n, s, x) in &rows {
        b.row().cell(n).cell(s).cell(x);
    }
    // One ragged row at the end, padded as `Table` pads it.
    b.row().cell("last");
    let built = b
        .build()
        .header(["n", "s", "x", "extra"])
        .align([Align::Right, Align::Center]);
    let mut strs: Vec<Vec<String>> = rows
        .iter()
        .map(|(n, s, x)| vec![n.to_string(), s.clone(), x.to_string()])
        .collect();
    strs.push(vec!["last".to_string()]);
    let table = Table(strs)
        .header(["n", "s", "x", "extra"])
        .align([Align::Right, Align::Center]);
    assert_eq!(fragment(&built), fragment(&table));
    assert_eq!(text::render(&built), text::render(&table));
    assert_eq!(
        fragment(&Element::from(TableBuilder::new())),
        fragment(&Table([[""; 0]; 0]))
    );
}

#[test]
fn custom_cells_append_only() {
    struct Money(i64);
    impl IntoCell for Money {
        fn write_cell(&self, out: &mut CellText<'_>) {
            out.push('$');
            self.0.write_cell(out);
            let _ = fmt::Write::write_str(out, ".00");
        }
    }
    let mut t = TableBuilder::new();
    t.row().cell("a").cell(Money(-5)).cell("b");
    assert_eq!(cells(&t), ["a", "$-5.00", "b"]);
}

#[test]
fn rows_of_any_lengths_pad_as_table_pads_them() {
    let shapes: [&[usize]; 5] = [&[1, 2, 1], &[2, 2, 0, 2], &[0, 0, 0], &[3], &[2, 2, 2, 3]];
    for shape in shapes {
        let mut b = TableBuilder::with_capacity(2);
        let mut rows = Vec::new();
        for (r, &n) in shape.iter().enumerate() {
            let row: Vec<String> = (0..n).map(|c| format!("{r}.{c}")).collect();
            let mut w = b.row();
            for cell in &row {
                w = w.cell(cell);
            }
            rows.push(row);
        }
        let (built, table) = (b.build(), Table(rows));
        assert_eq!(fragment(&built), fragment(&table), "{shape:?}");
        assert_eq!(text::render(&built), text::render(&table), "{shape:?}");
    }
}

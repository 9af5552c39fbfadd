//! Input widgets (`TextInput`, `NumberInput`, `Slider`, `Select`, `Checkbox`): every
//! input in its states (default, set, disabled, hostile text, misconfigured) as text and
//! HTML snapshots, and `AppTest::set_input` / `InputHandle` behaviour: typed reads in the
//! same rerun, refused values that change nothing, values kept while not rendered.

use insta::assert_snapshot;
use streamtree::Resolved;
use streamtree::inputs::InputErrorKind;
use streamtree::prelude::*;

/// Snapshots `el` in both backends as `<name>_text` and `<name>_html` (the helper name
/// `tests/tidy.rs` knows).
fn snap(name: &str, el: &Element) {
    assert_snapshot!(format!("{name}_text"), render_text(el));
    assert_snapshot!(format!("{name}_html"), render_html(el));
}

/// One rerun of `app` in a fresh session, after `set` (key, text) changes.
fn rendered(app: fn() -> Element, set: &[(&str, &str)]) -> Resolved {
    let session = Session::new();
    session.rerun(app);
    for (key, text) in set {
        session.set_input(key, text).unwrap();
    }
    session.rerun(app)
}

fn all_inputs() -> Element {
    VStack([
        Element::from(TextInput("Name").key("name").placeholder("e.g. Ada")),
        NumberInput::<i64>("Count")
            .key("count")
            .min(1)
            .max(10)
            .into(),
        NumberInput::<f64>("Rate").key("rate").step(0.5).into(),
        Slider("Days", 1..=30).key("days").default(7).into(),
        Slider("Share", 0.0..=1.0).key("share").into(),
        Select("Region", ["EU", "US", "Asia"]).key("region").into(),
        Checkbox("Agree").key("agree").into(),
    ])
}

#[test]
fn every_input_at_its_default() {
    snap("defaults", &rendered(all_inputs, &[]));
}

#[test]
fn every_input_after_a_change() {
    let set = [
        ("name", "Grace Hopper"),
        ("count", "4"),
        ("rate", "-2.5"),
        ("days", "30"),
        ("share", "0.25"),
        ("region", "Asia"),
        ("agree", "on"),
    ];
    snap("changed", &rendered(all_inputs, &set));
}

#[test]
fn every_input_disabled() {
    let app = || {
        VStack([
            Element::from(TextInput("Name").disabled(true)),
            NumberInput::<u8>("Count").disabled(true).into(),
            Slider("Days", 1..=30).disabled(true).into(),
            Select("Region", ["EU"]).disabled(true).into(),
            Checkbox("Agree").default(true).disabled(true).into(),
        ])
    };
    snap("disabled", &rendered(app, &[]));
}

#[test]
fn hostile_labels_keys_and_values_are_escaped() {
    let app = || {
        VStack([
            Element::from(TextInput("<b>Name</b>").key("a\"b <c>")),
            Select("Pick & go", ["<script>", "x\"y"]).key("k'ey").into(),
            Checkbox("<i>ok</i>").key("c c").into(),
        ])
    };
    let el = rendered(app, &[("a\"b <c>", "\"><script>alert(1)</script>")]);
    snap("hostile", &el);
    assert!(!render_html(&el).contains("<script>"));
}

#[test]
// The reversed range is the mistake under test.
#[allow(clippy::reversed_empty_ranges)]
fn misconfigured_inputs_show_an_error_naming_the_mistake() {
    let app = || {
        VStack([
            Element::from(Slider("Days", 30..=1)),
            Slider("Step", 0..=10).step(0).into(),
            NumberInput("Count").min(1).max(10).default(20).into(),
            NumberInput("Even").min(0).step(2).default(3).into(),
            Select("Region", Vec::<&str>::new()).into(),
            Select("Region 2", ["EU", "US"]).default("Mars").into(),
            Select("Twice", ["EU", "EU"]).into(),
            TextInput("Code").max_chars(2).default("abc").into(),
            TextInput("").into(),
            VStack([Element::from(Checkbox("Agree")), Checkbox("Agree").into()]),
        ])
    };
    snap("errors", &rendered(app, &[]));
}

/// The dashboard's pattern: the inputs feed the same rerun's output.
fn dashboard() -> Element {
    let region = Select("Region", ["EU", "US"]).key("region");
    let days = Slider("Days", 1..=30).key("days").default(7);
    let (r, d) = (region.value(), days.value());
    view! { VStack { {region} {days} Text(format!("{r} over {d} days")) } }
}

#[test]
fn values_are_typed_and_read_in_the_same_rerun() {
    let mut app = AppTest::new(dashboard);
    assert!(app.run().text().ends_with("EU over 7 days\n"));
    app.set_input("region", "US").unwrap();
    assert!(app.text().ends_with("US over 7 days\n"), "{}", app.text());
    app.set_input("days", " 14 ").unwrap();
    assert_eq!(
        app.text(),
        "VStack\n  Region: [US ▾]\n  Days: 14 ├─────────●──────────┤ 1..=30\n  US over 14 days\n"
    );
    // Survives plain reruns.
    assert!(app.run().text().ends_with("US over 14 days\n"));
}

#[test]
fn refused_values_change_nothing_and_name_key_and_value() {
    let mut app = AppTest::new(|| {
        VStack([
            Element::from(
                NumberInput::<i64>("Count")
                    .key("count")
                    .min(0)
                    .max(10)
                    .step(2),
            ),
            Select("Region", ["EU", "US"]).key("region").into(),
            Checkbox("Agree").key("agree").into(),
            TextInput("Code").key("code").max_chars(3).into(),
            Slider("Off", 0..=1).key("off").disabled(true).into(),
        ])
    });
    let before = app.run().text();
    let cases = [
        ("count", "ten", "input `count`: `ten` is not a whole number"),
        ("count", "12", "input `count`: `12` is outside 0..=10"),
        (
            "count",
            "3",
            "input `count`: `3` is not 0 plus a multiple of the step 2",
        ),
        (
            "region",
            "Mars",
            "input `region`: `Mars` is not one of the options EU, US",
        ),
        (
            "agree",
            "maybe",
            "input `agree`: `maybe` is not a checkbox value (true/false or on/off)",
        ),
        (
            "code",
            "abcd",
            "input `code`: `abcd` is longer than 3 characters",
        ),
        ("off", "1", "input `off` is disabled: `1` was not applied"),
        (
            "nope",
            "1",
            "no input with key `nope` in the last rerun (value `1`)",
        ),
    ];
    for (key, value, message) in cases {
        let err = app.set_input(key, value).unwrap_err();
        assert_eq!(err.to_string(), message);
        assert_eq!((err.key.as_str(), err.value.as_str()), (key, value));
    }
    assert_eq!(
        app.text(),
        before,
        "no refused value reran or changed the page"
    );
    assert_eq!(app.run().text(), before, "and none was stored");
    // All or nothing: one bad value keeps the good one out too.
    let err = app
        .session()
        .set_inputs([("count", "4"), ("region", "Mars")])
        .unwrap_err();
    assert_eq!(err.key, "region");
    assert_eq!(app.run().text(), before);
}

#[test]
fn a_widget_not_rendered_keeps_its_value() {
    let mut app = AppTest::new(|| {
        let show = session_state("show", || true);
        let shown = show.get();
        let region = Select("Region", ["EU", "US"]).key("region");
        let value = region.value();
        VStack([
            if shown {
                region.into()
            } else {
                Element::empty()
            },
            Text(format!("region {value}")),
            Button("Toggle")
                .key("toggle")
                .on_click(move || show.update(|s| *s = !*s)),
        ])
    });
    app.run();
    app.set_input("region", "US").unwrap();
    assert!(!app.click("toggle").unwrap().text().contains("Region:"));
    assert!(app.text().contains("region US"));
    let err = app.set_input("region", "EU").unwrap_err();
    assert_eq!(
        err.kind,
        InputErrorKind::UnknownKey,
        "not rendered: no address"
    );
    assert!(
        app.click("toggle")
            .unwrap()
            .text()
            .contains("Region: [US ▾]")
    );
}

#[test]
fn a_value_that_no_longer_fits_shows_the_default() {
    let mut app = AppTest::new(|| {
        let wide = session_state("wide", || true);
        let max = if wide.get() { 30 } else { 10 };
        let days = Slider("Days", 1..=max).key("days");
        let d = days.value();
        VStack([
            days.into(),
            Text(format!("{d} days")),
            Button("Narrow")
                .key("narrow")
                .on_click(move || wide.set(false)),
        ])
    });
    app.run();
    app.set_input("days", "20").unwrap();
    assert!(app.text().contains("20 days"));
    assert!(app.click("narrow").unwrap().text().contains("1 days"));
}

#[test]
fn handles_set_typed_values_checked_like_posts() {
    let mut app = AppTest::new(|| {
        let days = NumberInput::<u32>("Days").key("days").max(30).default(7);
        let (set, bad) = (days.handle(), days.handle());
        let d = days.value();
        VStack([
            days.into(),
            Text(format!("{d} days")),
            Button("Month")
                .key("month")
                .on_click(move || set.set(30).unwrap()),
            Button("Too far")
                .key("far")
                .on_click(move || assert!(bad.set(31).is_err())),
        ])
    });
    app.run();
    assert!(app.click("month").unwrap().text().contains("30 days"));
    assert!(app.click("far").unwrap().text().contains("30 days"));
}

#[test]
fn a_handle_of_another_kind_is_refused() {
    let session = Session::new();
    let text = session.enter(|| TextInput("Shared").handle());
    session.rerun(|| Checkbox("Shared").into());
    let err = text.set("x".to_string()).unwrap_err();
    assert_eq!(
        err.kind,
        InputErrorKind::WrongKind {
            expected: "TextInput",
            found: "Checkbox"
        }
    );
    assert_eq!(
        err.to_string(),
        "input `Shared`: a Checkbox holds this key, not a TextInput (value `x`)"
    );
}

#[test]
fn view_accepts_inputs_like_any_element() {
    let mut app = AppTest::new(|| {
        let agree = Checkbox("Agree").key("agree").default(true);
        view! {
            Card {
                TextInput("Name").key("name").default("Ada")
                NumberInput::<u8>("Age").key("age").max(120).default(36)
                Select("Region", ["EU", "US"]).key("region")
                {agree}
            }
        }
    });
    assert_eq!(
        app.run().text(),
        "Card\n  Name: [Ada         ]\n  Age: [36          ] ..=120\n  Region: [EU ▾]\n  [x] Agree\n"
    );
}

#[test]
fn f32_inputs_step_by_the_numbers_written() {
    let mut app = AppTest::new(|| {
        let share = Slider("Share", 0.0f32..=1.0).key("share").step(0.05);
        let s = share.value();
        VStack([share.into(), Text(format!("{s}"))])
    });
    app.run();
    assert!(render_html(app.element()).contains(r#"min="0" max="1" step="0.05""#));
    assert!(
        app.set_input("share", "0.35")
            .unwrap()
            .text()
            .ends_with("\n  0.35\n")
    );
    assert!(app.set_input("share", "0.36").is_err());
}

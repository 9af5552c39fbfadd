//! The five input builders. Each is a plain value until it becomes an [`Element`]; its
//! options are methods, and the shared ones (`key`, `disabled`, `value`, `handle`) come
//! from `common!`.
#![allow(non_snake_case)]

use std::fmt::Display;

use super::number::{Number, bounds};
use super::{InputHandle, Widget, common, element, handle, value};
use crate::element::input::InputKind;
use crate::element::{Element, Str};

/// A single-line text field; its value is a `String` (default empty).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let name: Element = TextInput("Name").default("Grace").into();
/// # let name = Session::new().rerun(move || name);
/// assert_eq!(render_text(&name), "Name: [Grace       ]\n");
/// ```
#[derive(Clone, Debug)]
pub struct TextInput {
    label: Str,
    key: Option<Str>,
    default: String,
    placeholder: Option<Str>,
    max_chars: Option<usize>,
    disabled: bool,
}

/// Starts a [`TextInput`](struct@TextInput) labelled `label`.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// Session::new().enter(|| assert_eq!(TextInput("Name").value(), ""));
/// ```
pub fn TextInput(label: impl Into<Str>) -> TextInput {
    TextInput {
        label: label.into(),
        key: None,
        default: String::new(),
        placeholder: None,
        max_chars: None,
        disabled: false,
    }
}

impl TextInput {
    /// The value until one is set.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// Session::new().enter(|| assert_eq!(TextInput("Name").default("Ada").value(), "Ada"));
    /// ```
    pub fn default(mut self, text: impl Into<String>) -> Self {
        self.default = text.into();
        self
    }

    /// A hint shown in the empty field (HTML only).
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let el = Session::new().rerun(|| TextInput("Name").placeholder("e.g. Ada").into());
    /// assert!(render_html(&el).contains(r#"placeholder="e.g. Ada""#));
    /// ```
    pub fn placeholder(mut self, text: impl Into<Str>) -> Self {
        self.placeholder = Some(text.into());
        self
    }

    /// Refuses values longer than `n` characters.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let mut app = AppTest::new(|| TextInput("Code").max_chars(3).into());
    /// app.run();
    /// assert!(app.set_input("Code", "abcd").is_err());
    /// ```
    pub fn max_chars(mut self, n: usize) -> Self {
        self.max_chars = Some(n);
        self
    }
}

common!(TextInput, String, "TextInput(\"Name\")");

impl Widget for TextInput {
    type Value = String;
    fn label(&self) -> &Str {
        &self.label
    }
    fn given_key(&self) -> Option<&Str> {
        self.key.as_ref()
    }
    fn disabled(&self) -> bool {
        self.disabled
    }
    fn kind(&self) -> Result<InputKind, String> {
        Ok(InputKind::Text {
            max_chars: self.max_chars,
            placeholder: self.placeholder.clone(),
        })
    }
    fn default_value(&self) -> String {
        self.default.clone()
    }
    fn encode(&self, value: &String) -> String {
        value.clone()
    }
    fn decode(&self, text: &str) -> Option<String> {
        Some(text.to_owned())
    }
}

/// A number field; `NumberInput::<i64>` gives an `i64`, `NumberInput::<f64>` an `f64`
/// (any [`Number`]). Unbounded unless `.min`/`.max` are given; whole-number types step by
/// 1, floats take any value unless `.step` is given. The default is 0 (or `min` when 0 is
/// below it).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let el: Element = NumberInput("Count").min(1).max(10).default(3).into();
/// # let el = Session::new().rerun(move || el);
/// assert_eq!(render_text(&el), "Count: [3           ] 1..=10\n");
/// ```
#[derive(Clone, Debug)]
pub struct NumberInput<T> {
    label: Str,
    key: Option<Str>,
    default: Option<T>,
    min: Option<T>,
    max: Option<T>,
    step: Option<T>,
    disabled: bool,
}

/// Starts a [`NumberInput`](struct@NumberInput) labelled `label`; the number type comes from the other
/// options, the reader, or a turbofish.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// Session::new().enter(|| assert_eq!(NumberInput::<f64>("Rate").value(), 0.0));
/// ```
pub fn NumberInput<T: Number>(label: impl Into<Str>) -> NumberInput<T> {
    NumberInput {
        label: label.into(),
        key: None,
        default: None,
        min: None,
        max: None,
        step: None,
        disabled: false,
    }
}

impl<T: Number> NumberInput<T> {
    /// The smallest value allowed.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// Session::new().enter(|| assert_eq!(NumberInput("N").min(5).value(), 5));
    /// ```
    pub fn min(mut self, min: T) -> Self {
        self.min = Some(min);
        self
    }

    /// The largest value allowed.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// Session::new().enter(|| assert_eq!(NumberInput("N").max(-5).value(), -5));
    /// ```
    pub fn max(mut self, max: T) -> Self {
        self.max = Some(max);
        self
    }

    /// Values must be `min` (or 0 without one) plus a whole number of steps.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let mut app = AppTest::new(|| NumberInput("N").step(0.5).into());
    /// app.run();
    /// assert!(app.set_input("N", "1.5").is_ok());
    /// assert!(app.set_input("N", "1.25").is_err());
    /// ```
    pub fn step(mut self, step: T) -> Self {
        self.step = Some(step);
        self
    }

    /// The value until one is set.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// Session::new().enter(|| assert_eq!(NumberInput("N").default(7u32).value(), 7));
    /// ```
    pub fn default(mut self, value: T) -> Self {
        self.default = Some(value);
        self
    }
}

common!(NumberInput<T: Number>, T, "NumberInput::<i64>(\"Count\")");

impl<T: Number> Widget for NumberInput<T> {
    type Value = T;
    fn label(&self) -> &Str {
        &self.label
    }
    fn given_key(&self) -> Option<&Str> {
        self.key.as_ref()
    }
    fn disabled(&self) -> bool {
        self.disabled
    }
    fn kind(&self) -> Result<InputKind, String> {
        let (lo, hi) = T::LIMITS;
        let step = self.step.or(T::INTEGER.then_some(T::SLIDER_STEP));
        let min = self.min.unwrap_or(lo);
        // Without a min, steps count from 0.
        let base = self.min.unwrap_or(T::ZERO);
        Ok(InputKind::Number {
            bounds: bounds(min, self.max.unwrap_or(hi), step, base)
                .map_err(|e| format!("`NumberInput` `{}`: {e}", self.label))?,
            shown_min: self.min.is_some(),
            shown_max: self.max.is_some(),
        })
    }
    fn default_value(&self) -> T {
        self.default.unwrap_or_else(|| match (self.min, self.max) {
            (Some(min), _) if min > T::ZERO => min,
            (_, Some(max)) if max < T::ZERO => max,
            _ => T::ZERO,
        })
    }
    fn encode(&self, value: &T) -> String {
        value.to_string()
    }
    fn decode(&self, text: &str) -> Option<T> {
        text.parse().ok()
    }
}

/// A slider over `min..=max`; gives the range's number type. Steps by 1 (0.01 for
/// floats) unless `.step` is given; the default is `min`.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let el: Element = Slider("Days", 1..=30).default(7).into();
/// # let el = Session::new().rerun(move || el);
/// assert_eq!(render_text(&el), "Days: 7 ├────●───────────────┤ 1..=30\n");
/// ```
#[derive(Clone, Debug)]
pub struct Slider<T> {
    label: Str,
    key: Option<Str>,
    min: T,
    max: T,
    default: Option<T>,
    step: Option<T>,
    disabled: bool,
}

/// Starts a [`Slider`](struct@Slider) labelled `label` over the inclusive `range`.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// Session::new().enter(|| assert_eq!(Slider("Share", 0.0..=1.0).value(), 0.0));
/// ```
pub fn Slider<T: Number>(label: impl Into<Str>, range: std::ops::RangeInclusive<T>) -> Slider<T> {
    let (min, max) = range.into_inner();
    Slider {
        label: label.into(),
        key: None,
        min,
        max,
        default: None,
        step: None,
        disabled: false,
    }
}

impl<T: Number> Slider<T> {
    /// Values are `min` plus a whole number of steps.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// let mut app = AppTest::new(|| Slider("N", 0..=10).step(5).into());
    /// app.run();
    /// assert!(app.set_input("N", "5").is_ok());
    /// assert!(app.set_input("N", "4").is_err());
    /// ```
    pub fn step(mut self, step: T) -> Self {
        self.step = Some(step);
        self
    }

    /// The value until one is set.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// Session::new().enter(|| assert_eq!(Slider("N", 0..=10).default(4).value(), 4));
    /// ```
    pub fn default(mut self, value: T) -> Self {
        self.default = Some(value);
        self
    }
}

common!(Slider<T: Number>, T, "Slider(\"Days\", 1..=30)");

impl<T: Number> Widget for Slider<T> {
    type Value = T;
    fn label(&self) -> &Str {
        &self.label
    }
    fn given_key(&self) -> Option<&Str> {
        self.key.as_ref()
    }
    fn disabled(&self) -> bool {
        self.disabled
    }
    fn kind(&self) -> Result<InputKind, String> {
        let step = Some(self.step.unwrap_or(T::SLIDER_STEP));
        Ok(InputKind::Slider {
            bounds: bounds(self.min, self.max, step, self.min)
                .map_err(|e| format!("`Slider` `{}`: {e}", self.label))?,
        })
    }
    fn default_value(&self) -> T {
        self.default.unwrap_or(self.min)
    }
    fn encode(&self, value: &T) -> String {
        value.to_string()
    }
    fn decode(&self, text: &str) -> Option<T> {
        text.parse().ok()
    }
}

#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a `Select` option",
    label = "not printable, cloneable and `Send + Sync + 'static`",
    note = "a `Select` shows and posts each option as its `Display` text"
)]
/// A value a [`Select`](struct@Select) can offer: anything printable, cloneable and shareable across
/// threads. The printed text is what the page shows and a form posts.
///
/// # Example
/// ```
/// use streamtree::inputs::SelectOption;
/// fn offer<T: SelectOption>(_: &[T]) {}
/// offer(&["EU", "US"]);
/// offer(&[7, 30, 90]);
/// ```
pub trait SelectOption: Display + Clone + Send + Sync + 'static {}
impl<T: Display + Clone + Send + Sync + 'static> SelectOption for T {}

/// One of listed options, shown by their `Display` text (which must be distinct); gives
/// the option itself. The default is the first option.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let el: Element = Select("Region", ["EU", "US"]).default("US").into();
/// # let el = Session::new().rerun(move || el);
/// assert_eq!(render_text(&el), "Region: [US ▾]\n");
/// ```
#[derive(Clone, Debug)]
pub struct Select<T> {
    label: Str,
    key: Option<Str>,
    options: Vec<T>,
    default: Option<T>,
    disabled: bool,
}

/// Starts a [`Select`](struct@Select) labelled `label` offering `options`.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// Session::new().enter(|| assert_eq!(Select("Days", [7, 30]).value(), 7));
/// ```
pub fn Select<T: SelectOption>(
    label: impl Into<Str>,
    options: impl IntoIterator<Item = T>,
) -> Select<T> {
    Select {
        label: label.into(),
        key: None,
        options: options.into_iter().collect(),
        default: None,
        disabled: false,
    }
}

impl<T: SelectOption> Select<T> {
    /// The option chosen until one is set; it must be one of the options.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// Session::new().enter(|| assert_eq!(Select("R", ["EU", "US"]).default("US").value(), "US"));
    /// ```
    pub fn default(mut self, option: T) -> Self {
        self.default = Some(option);
        self
    }
}

common!(Select<T: SelectOption>, T, "Select(\"Region\", [\"EU\", \"US\"])");

impl<T: SelectOption> Widget for Select<T> {
    type Value = T;
    fn label(&self) -> &Str {
        &self.label
    }
    fn given_key(&self) -> Option<&Str> {
        self.key.as_ref()
    }
    fn disabled(&self) -> bool {
        self.disabled
    }
    fn kind(&self) -> Result<InputKind, String> {
        if self.options.is_empty() && self.default.is_none() {
            return Err(format!("`Select` `{}` has no options", self.label));
        }
        let mut options: Vec<Str> = Vec::with_capacity(self.options.len());
        for o in &self.options {
            let text = Str::from(format_args!("{o}"));
            if options.contains(&text) {
                return Err(format!(
                    "`Select` `{}` has two options shown as `{text}`: options must print distinctly",
                    self.label
                ));
            }
            options.push(text);
        }
        Ok(InputKind::Select { options })
    }
    /// # Panics
    /// For a `Select` with no options and no default (its error box says so).
    fn default_value(&self) -> T {
        match (&self.default, self.options.first()) {
            (Some(d), _) => d.clone(),
            (None, Some(first)) => first.clone(),
            (None, None) => panic!(
                "`Select` `{}` has no options and no default: it has no value to give",
                self.label
            ),
        }
    }
    fn encode(&self, value: &T) -> String {
        value.to_string()
    }
    fn decode(&self, text: &str) -> Option<T> {
        self.options.iter().find(|o| o.to_string() == text).cloned()
    }
}

/// A checkbox; its value is a `bool` (default `false`).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let el: Element = Checkbox("Agree").default(true).into();
/// # let el = Session::new().rerun(move || el);
/// assert_eq!(render_text(&el), "[x] Agree\n");
/// ```
#[derive(Clone, Debug)]
pub struct Checkbox {
    label: Str,
    key: Option<Str>,
    default: bool,
    disabled: bool,
}

/// Starts a [`Checkbox`](struct@Checkbox) labelled `label`.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// Session::new().enter(|| assert!(!Checkbox("Agree").value()));
/// ```
pub fn Checkbox(label: impl Into<Str>) -> Checkbox {
    Checkbox {
        label: label.into(),
        key: None,
        default: false,
        disabled: false,
    }
}

impl Checkbox {
    /// Whether it starts ticked.
    ///
    /// # Example
    /// ```
    /// use streamtree::prelude::*;
    /// Session::new().enter(|| assert!(Checkbox("Agree").default(true).value()));
    /// ```
    pub fn default(mut self, ticked: bool) -> Self {
        self.default = ticked;
        self
    }
}

common!(Checkbox, bool, "Checkbox(\"Agree\")");

impl Widget for Checkbox {
    type Value = bool;
    fn label(&self) -> &Str {
        &self.label
    }
    fn given_key(&self) -> Option<&Str> {
        self.key.as_ref()
    }
    fn disabled(&self) -> bool {
        self.disabled
    }
    fn kind(&self) -> Result<InputKind, String> {
        Ok(InputKind::Checkbox)
    }
    fn default_value(&self) -> bool {
        self.default
    }
    fn encode(&self, value: &bool) -> String {
        value.to_string()
    }
    fn decode(&self, text: &str) -> Option<bool> {
        text.parse().ok()
    }
}

//! Input widgets as plain data (`InputNode`, boxed in `Node::Input`): what a widget is,
//! its constraints and the value it shows, and the one validation every change goes
//! through ([`InputNode::parse`]): a form post, `AppTest::set_input`, a typed handle.
//!
//! Values travel as text, the way a form posts them; `parse` turns text into the
//! canonical text stored in the session (`" 7"` → `"7"`, `"on"` → `"true"`), or says
//! why not. The builders that read values live in the session layer
//! (`crate::session::input`), since reading needs the session.

use std::fmt;

use crate::element::Str;

/// The number constraints of a `NumberInput` or `Slider`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Bounds {
    /// Whole numbers; `step` is at least 1; `min <= max`; steps count from `base`.
    Int {
        min: i128,
        max: i128,
        step: i128,
        base: i128,
    },
    /// Finite numbers; `step`, when set, is positive; `min <= max`; steps count from
    /// `base`.
    Float {
        min: f64,
        max: f64,
        step: Option<f64>,
        base: f64,
    },
}

/// What kind of input, with its kind's constraints.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum InputKind {
    Text {
        max_chars: Option<usize>,
        placeholder: Option<Str>,
    },
    Number {
        bounds: Bounds,
        /// Whether the app set `min` / `max` (shown); otherwise the type's limits apply.
        shown_min: bool,
        shown_max: bool,
    },
    Slider {
        bounds: Bounds,
    },
    /// The options as their text (each distinct).
    Select {
        options: Vec<Str>,
    },
    Checkbox,
}

impl InputKind {
    /// The constructor's name: `"TextInput"`, `"Slider"`, ...
    pub(crate) fn name(&self) -> &'static str {
        match self {
            InputKind::Text { .. } => "TextInput",
            InputKind::Number { .. } => "NumberInput",
            InputKind::Slider { .. } => "Slider",
            InputKind::Select { .. } => "Select",
            InputKind::Checkbox => "Checkbox",
        }
    }
}

/// One rendered input: label, key (its address), current value as canonical text.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct InputNode {
    pub(crate) kind: InputKind,
    pub(crate) label: Str,
    /// The input's address: its key, or its label when it has none.
    pub(crate) key: Str,
    /// The current value, canonical text (what [`InputNode::parse`] returns).
    pub(crate) value: String,
    pub(crate) disabled: bool,
}

impl InputNode {
    /// Checks `text` against this input and returns the canonical text to store, or why
    /// it is refused. Pure: changes nothing.
    pub(crate) fn parse(&self, text: &str) -> Result<String, InputErrorKind> {
        if self.disabled {
            return Err(InputErrorKind::Disabled);
        }
        self.parse_enabled(text)
    }

    /// [`parse`](Self::parse) without the disabled check: is `text` a value this input
    /// can show (the stored value still fits after the app changed the constraints)?
    pub(crate) fn parse_enabled(&self, text: &str) -> Result<String, InputErrorKind> {
        match &self.kind {
            InputKind::Text { max_chars, .. } => match max_chars {
                Some(max) if text.chars().count() > *max => {
                    Err(InputErrorKind::TooLong { max_chars: *max })
                }
                _ => Ok(text.to_owned()),
            },
            InputKind::Number { bounds, .. } | InputKind::Slider { bounds } => {
                parse_number(bounds, text.trim())
            }
            InputKind::Select { options } => {
                if options.iter().any(|o| o.as_str() == text) {
                    Ok(text.to_owned())
                } else {
                    Err(InputErrorKind::NotAnOption {
                        options: options.iter().map(|o| o.to_string()).collect(),
                    })
                }
            }
            InputKind::Checkbox => match text.trim() {
                "true" | "on" => Ok("true".to_owned()),
                "false" | "off" => Ok("false".to_owned()),
                _ => Err(InputErrorKind::NotABool),
            },
        }
    }
}

fn parse_number(bounds: &Bounds, text: &str) -> Result<String, InputErrorKind> {
    match *bounds {
        Bounds::Int {
            min,
            max,
            step,
            base,
        } => {
            let v: i128 = text
                .parse()
                .map_err(|_| InputErrorKind::NotANumber { whole: true })?;
            if v < min || v > max {
                return Err(InputErrorKind::OutOfRange {
                    min: min.to_string(),
                    max: max.to_string(),
                });
            }
            if (v - base) % step != 0 {
                return Err(InputErrorKind::StepMismatch {
                    step: step.to_string(),
                    base: base.to_string(),
                });
            }
            Ok(v.to_string())
        }
        Bounds::Float {
            min,
            max,
            step,
            base,
        } => {
            let v: f64 = text
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or(InputErrorKind::NotANumber { whole: false })?;
            if v < min || v > max {
                return Err(InputErrorKind::OutOfRange {
                    min: min.to_string(),
                    max: max.to_string(),
                });
            }
            if let Some(step) = step
                && !on_step(v, base, step)
            {
                return Err(InputErrorKind::StepMismatch {
                    step: step.to_string(),
                    base: base.to_string(),
                });
            }
            // `-0` and `0` are one value.
            Ok((v + 0.0).to_string())
        }
    }
}

/// Whether `v` is `base` plus a whole number of `step`s, up to float rounding.
pub(crate) fn on_step(v: f64, base: f64, step: f64) -> bool {
    let k = (v - base) / step;
    (k - k.round()).abs() <= 1e-9 * k.abs().max(1.0)
}

/// Why a value was refused; see [`InputError`].
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// use streamtree::inputs::InputErrorKind;
/// let mut app = AppTest::new(|| Checkbox("Agree").into());
/// app.run();
/// let err = app.set_input("Agree", "maybe").unwrap_err();
/// assert_eq!(err.kind, InputErrorKind::NotABool);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputErrorKind {
    /// The last rerun rendered no input with this key.
    UnknownKey,
    /// The input is disabled.
    Disabled,
    /// Not a (finite) number; `whole` when the input takes whole numbers only.
    NotANumber {
        /// True for integer inputs.
        whole: bool,
    },
    /// Outside `min..=max`.
    OutOfRange {
        /// The smallest value allowed.
        min: String,
        /// The largest value allowed.
        max: String,
    },
    /// Not `base` plus a whole number of `step`s.
    StepMismatch {
        /// The step.
        step: String,
        /// Where steps count from (the minimum).
        base: String,
    },
    /// Not one of a `Select`'s options.
    NotAnOption {
        /// The options, as text.
        options: Vec<String>,
    },
    /// A checkbox takes `true`/`false` (or `on`/`off`).
    NotABool,
    /// Longer than a `TextInput`'s `max_chars`.
    TooLong {
        /// The limit, in characters.
        max_chars: usize,
    },
    /// The widget a typed handle came from is misconfigured (the reason, as its error
    /// box shows it).
    Misconfigured {
        /// What is wrong.
        reason: String,
    },
    /// A typed handle of one kind of input was used on a key another kind now holds.
    WrongKind {
        /// The handle's input kind (`"Slider"`, ...).
        expected: &'static str,
        /// The kind that holds the key.
        found: &'static str,
    },
}

/// A value an input refused; nothing changed. Names the input's key and the value.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// let mut app = AppTest::new(|| Slider("Days", 1..=30).key("days").into());
/// app.run();
/// let err = app.set_input("days", "40").unwrap_err();
/// assert_eq!(err.to_string(), "input `days`: `40` is outside 1..=30");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InputError {
    /// The input's key.
    pub key: String,
    /// The value as given.
    pub value: String,
    /// Why it was refused.
    pub kind: InputErrorKind,
}

impl InputError {
    pub(crate) fn new(key: &str, value: &str, kind: InputErrorKind) -> InputError {
        InputError {
            key: key.to_owned(),
            value: value.to_owned(),
            kind,
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let InputError { key, value, kind } = self;
        match kind {
            InputErrorKind::UnknownKey => {
                write!(
                    f,
                    "no input with key `{key}` in the last rerun (value `{value}`)"
                )
            }
            InputErrorKind::Disabled => {
                write!(f, "input `{key}` is disabled: `{value}` was not applied")
            }
            InputErrorKind::NotANumber { whole: true } => {
                write!(f, "input `{key}`: `{value}` is not a whole number")
            }
            InputErrorKind::NotANumber { whole: false } => {
                write!(f, "input `{key}`: `{value}` is not a number")
            }
            InputErrorKind::OutOfRange { min, max } => {
                write!(f, "input `{key}`: `{value}` is outside {min}..={max}")
            }
            InputErrorKind::StepMismatch { step, base } => write!(
                f,
                "input `{key}`: `{value}` is not {base} plus a multiple of the step {step}"
            ),
            InputErrorKind::NotAnOption { options } => write!(
                f,
                "input `{key}`: `{value}` is not one of the options {}",
                options.join(", ")
            ),
            InputErrorKind::NotABool => write!(
                f,
                "input `{key}`: `{value}` is not a checkbox value (true/false or on/off)"
            ),
            InputErrorKind::TooLong { max_chars } => write!(
                f,
                "input `{key}`: `{value}` is longer than {max_chars} characters"
            ),
            InputErrorKind::Misconfigured { reason } => {
                write!(f, "input `{key}`: `{value}` not applied: {reason}")
            }
            InputErrorKind::WrongKind { expected, found } => write!(
                f,
                "input `{key}`: a {found} holds this key, not a {expected} (value `{value}`)"
            ),
        }
    }
}

impl std::error::Error for InputError {}

/// The HTML `id` of the input with `key`: `st-in-` then the key with every byte other
/// than ASCII letters, digits and `-` written as `_` and two hex digits, so distinct keys
/// give distinct ids made of safe characters only.
pub(crate) fn html_id(key: &str) -> String {
    let mut id = String::with_capacity(6 + key.len());
    id.push_str("st-in-");
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            id.push(b as char);
        } else {
            id.push_str(&format!("_{b:02x}"));
        }
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(bounds: Bounds) -> InputNode {
        InputNode {
            kind: InputKind::Slider { bounds },
            label: "n".into(),
            key: "n".into(),
            value: String::new(),
            disabled: false,
        }
    }

    #[test]
    fn numbers_parse_to_canonical_text_or_say_why_not() {
        let int = num(Bounds::Int {
            min: 1,
            max: 30,
            step: 3,
            base: 1,
        });
        assert_eq!(int.parse(" 7 "), Ok("7".into()));
        assert_eq!(
            int.parse("7.0"),
            Err(InputErrorKind::NotANumber { whole: true })
        );
        assert!(matches!(
            int.parse("31"),
            Err(InputErrorKind::OutOfRange { .. })
        ));
        assert!(matches!(
            int.parse("6"),
            Err(InputErrorKind::StepMismatch { .. })
        ));
        let float = num(Bounds::Float {
            min: 0.0,
            max: 1.0,
            step: Some(0.1),
            base: 0.0,
        });
        assert_eq!(float.parse("0.3"), Ok("0.3".into()));
        assert_eq!(float.parse("-0"), Ok("0".into()));
        assert!(matches!(
            float.parse("NaN"),
            Err(InputErrorKind::NotANumber { whole: false })
        ));
        assert!(matches!(
            float.parse("0.35"),
            Err(InputErrorKind::StepMismatch { .. })
        ));
    }

    #[test]
    fn ids_are_safe_and_distinct() {
        assert_eq!(html_id("region"), "st-in-region");
        assert_eq!(html_id("a b\"<"), "st-in-a_20b_22_3c");
        assert_ne!(html_id("a_20"), html_id("a "));
    }
}

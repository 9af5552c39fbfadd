//! [`Number`]: the value types of `NumberInput` and `Slider` (sealed).

use std::fmt::Display;
use std::str::FromStr;

use crate::element::input::Bounds;

mod sealed {
    #[doc(hidden)]
    pub trait Sealed {}
}

#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a number type for `NumberInput` or `Slider`",
    label = "not a number type",
    note = "use one of i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64"
)]
/// A number type a [`NumberInput`](struct@super::NumberInput) or [`Slider`](struct@super::Slider) gives:
/// `i8`..`i64`, `isize`, `u8`..`u64`, `usize`, `f32`, `f64`. Sealed.
///
/// # Example
/// ```
/// use streamtree::prelude::*;
/// use streamtree::inputs::Number;
/// fn pick<T: Number>(label: &str, max: T) -> Element { NumberInput::<T>(label).max(max).into() }
/// let _ = Session::new().rerun(|| pick("Count", 9u8));
/// ```
pub trait Number:
    Copy + PartialOrd + Display + FromStr + Send + Sync + 'static + sealed::Sealed
{
    /// True for whole-number types.
    #[doc(hidden)]
    const INTEGER: bool;
    /// The type's smallest and largest values.
    #[doc(hidden)]
    const LIMITS: (Self, Self);
    /// The step a `Slider` uses unless told: 1, or 0.01 for floats.
    #[doc(hidden)]
    const SLIDER_STEP: Self;
    /// Zero, the default of an unbounded `NumberInput`.
    #[doc(hidden)]
    const ZERO: Self;
    /// The value as a whole number (integer types only).
    #[doc(hidden)]
    fn to_i128(self) -> i128;
    /// The value as a float.
    #[doc(hidden)]
    fn to_f64(self) -> f64;
}

macro_rules! int {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Number for $t {
            const INTEGER: bool = true;
            const LIMITS: (Self, Self) = (<$t>::MIN, <$t>::MAX);
            const SLIDER_STEP: Self = 1;
            const ZERO: Self = 0;
            fn to_i128(self) -> i128 { self as i128 }
            fn to_f64(self) -> f64 { self as f64 }
        }
    )*};
}
int!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

macro_rules! float {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Number for $t {
            const INTEGER: bool = false;
            const LIMITS: (Self, Self) = (<$t>::MIN, <$t>::MAX);
            const SLIDER_STEP: Self = 0.01;
            const ZERO: Self = 0.0;
            fn to_i128(self) -> i128 { self as i128 }
            // Through the shortest text, so `0.1f32` is the `0.1` a user wrote, not
            // `0.10000000149011612` (which the page would show and step by).
            fn to_f64(self) -> f64 { self.to_string().parse().unwrap_or(self as f64) }
        }
    )*};
}
float!(f32, f64);

/// The bounds for `min..=max` with `step` counted from `base`, or what is wrong with them.
pub(super) fn bounds<T: Number>(
    min: T,
    max: T,
    step: Option<T>,
    base: T,
) -> Result<Bounds, String> {
    if T::INTEGER {
        let (lo, hi) = (min.to_i128(), max.to_i128());
        let step = step.map_or(1, T::to_i128);
        if lo > hi {
            return Err(format!("min {min} is above max {max}"));
        }
        if step < 1 {
            return Err(format!("step {step} is not positive"));
        }
        Ok(Bounds::Int {
            min: lo,
            max: hi,
            step,
            base: base.to_i128(),
        })
    } else {
        let (lo, hi) = (min.to_f64(), max.to_f64());
        if !(lo.is_finite() && hi.is_finite()) {
            return Err(format!("min {min} and max {max} must be finite"));
        }
        if lo > hi {
            return Err(format!("min {min} is above max {max}"));
        }
        let step = step.map(T::to_f64);
        if let Some(s) = step
            && !(s.is_finite() && s > 0.0)
        {
            return Err(format!("step {s} is not a positive number"));
        }
        Ok(Bounds::Float {
            min: lo,
            max: hi,
            step,
            base: base.to_f64(),
        })
    }
}

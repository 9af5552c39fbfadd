//! [`Str`]: the tree's string type, inline up to 24 bytes.

use std::borrow::Cow;
use std::fmt;

use compact_str::CompactString;

/// A string stored in the tree: inline up to 24 bytes, heap-allocated beyond.
///
/// Every constructor that takes text accepts anything string-like (`&str`, `String`,
/// `&String`, `Cow<str>`, `Box<str>`, `char`) through `Into<Str>`.
///
/// # Example
/// ```
/// use streamtree::Str;
/// let s: Str = "hello".into();
/// assert_eq!(s.as_str(), "hello");
/// assert_eq!(Str::from(String::from("x")), Str::from('x'));
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Str(CompactString);

impl Str {
    /// The text as a `&str`.
    ///
    /// # Example
    /// ```
    /// assert_eq!(streamtree::Str::from("a").as_str(), "a");
    /// ```
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl std::ops::Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl std::borrow::Borrow<str> for Str {
    fn borrow(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl serde::Serialize for Str {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Self {
        Str(CompactString::new(s))
    }
}
impl From<&mut str> for Str {
    fn from(s: &mut str) -> Self {
        Str(CompactString::new(&*s))
    }
}
impl From<String> for Str {
    fn from(s: String) -> Self {
        Str(CompactString::from(s))
    }
}
impl From<&String> for Str {
    fn from(s: &String) -> Self {
        Str(CompactString::new(s))
    }
}
impl From<Box<str>> for Str {
    fn from(s: Box<str>) -> Self {
        Str(CompactString::from(s))
    }
}
impl From<Cow<'_, str>> for Str {
    fn from(s: Cow<'_, str>) -> Self {
        Str(CompactString::from(s))
    }
}
impl From<char> for Str {
    fn from(c: char) -> Self {
        Str(CompactString::new(c.encode_utf8(&mut [0; 4])))
    }
}
/// Formats straight into the string, without a temporary `String`:
/// `Text(format_args!("{row},{col}"))`.
impl From<fmt::Arguments<'_>> for Str {
    fn from(args: fmt::Arguments<'_>) -> Self {
        if let Some(s) = args.as_str() {
            return Str(CompactString::new(s));
        }
        thread_local! {
            /// Scratch space: formatting into a warm `String` then copying the (usually
            /// inline) result beats growing a fresh string piece by piece.
            static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut buf) => {
                buf.clear();
                let _ = fmt::Write::write_fmt(&mut *buf, args);
                Str(CompactString::new(buf.as_str()))
            }
            // Re-entered from a `Display` impl that itself builds a `Str`.
            Err(_) => Str(CompactString::from(fmt::format(args))),
        })
    }
}
macro_rules! from_integer {
    ($($t:ty)*) => {$(
        /// Decimal digits, formatted with `itoa` (no `core::fmt`).
        impl From<$t> for Str {
            // Inlined: returned through memory, the inline string stalls the caller's
            // copy of it (a store-forwarding miss per cell).
            #[inline]
            fn from(n: $t) -> Self {
                Str(CompactString::new(itoa::Buffer::new().format(n)))
            }
        }
    )*};
}
from_integer!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize);

impl From<&Str> for Str {
    fn from(s: &Str) -> Self {
        s.clone()
    }
}
impl From<Str> for String {
    fn from(s: Str) -> Self {
        s.0.into_string()
    }
}

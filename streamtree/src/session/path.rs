//! The render path of the component body running on this thread.
//!
//! A path is the `/`-joined segments of the enclosing component calls, such as
//! `/Dashboard#0/Counter[clicks]`: each call's name, then its key in brackets or its
//! position among the unkeyed calls of the same component in its scope. In a key (and a
//! name), `\`, `/`, `#`, `[` and `]` are escaped with a `\`, and control characters as
//! Rust writes them (`\n`, `\u{1b}`), so no key can spell another segment.
//!
//! That text is for people, and names a component by its bare name. State is keyed by a
//! second path built beside it, the lookup path, which names each component by identity:
//! its name together with the type of its body closure. That type differs between
//! same-named components in two modules and between instances of a generic component, so
//! they never share a slot.
//!
//! Both live in a thread-local because bodies run on the rerun's thread; the guard
//! restores them on every exit, including unwinding.

use std::any::TypeId;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{LazyLock, Mutex, PoisonError};

struct Paths {
    /// What [`current`] returns: names and escaped keys.
    display: String,
    /// What state is keyed by: identity numbers (see [`number`]) and escaped keys.
    lookup: String,
}

thread_local! {
    static PATH: RefCell<Paths> = const {
        RefCell::new(Paths { display: String::new(), lookup: String::new() })
    };
}

/// Component identities seen by this process, numbered in order of first use.
/// - a number stands for one identity for the life of the process: entries are never
///   removed or renumbered (there is one per component fn and generic instance, a bounded
///   set);
/// - locked only for one lookup or insert, never while user code runs.
static IDENTITIES: LazyLock<Mutex<HashMap<(TypeId, &'static str), u32>>> =
    LazyLock::new(Mutex::default);

/// The number standing for the component `name` whose body closure has type `body`.
fn number(body: TypeId, name: &'static str) -> u32 {
    let mut ids = IDENTITIES.lock().unwrap_or_else(PoisonError::into_inner);
    let next = u32::try_from(ids.len()).expect("fewer than 2^32 component types");
    *ids.entry((body, name)).or_insert(next)
}

/// Where a component call sits in its scope.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Place<'a> {
    /// The key set with `.key(..)`.
    Key(&'a str),
    /// The position among the unkeyed calls of the same component in the scope.
    Position(u32),
}

/// Restores both paths to their lengths before a segment was pushed.
struct Truncate {
    display: usize,
    lookup: usize,
}

impl Drop for Truncate {
    fn drop(&mut self) {
        PATH.with(|p| {
            let mut p = p.borrow_mut();
            p.display.truncate(self.display);
            p.lookup.truncate(self.lookup);
        });
    }
}

/// Runs `f` with the segment of the component `name`, whose body closure has type
/// `body`, at `place` appended to this thread's render path.
pub(crate) fn with_component<R>(
    name: &'static str,
    body: TypeId,
    place: Place<'_>,
    f: impl FnOnce() -> R,
) -> R {
    let number = number(body, name);
    let _restore = PATH.with(|p| {
        let mut p = p.borrow_mut();
        let p = &mut *p;
        let restore = Truncate {
            display: p.display.len(),
            lookup: p.lookup.len(),
        };
        p.display.push('/');
        escape_into(&mut p.display, name);
        // Writing to a `String` cannot fail.
        let _ = write!(p.lookup, "/{number}");
        for out in [&mut p.display, &mut p.lookup] {
            match place {
                Place::Key(key) => {
                    out.push('[');
                    escape_into(out, key);
                    out.push(']');
                }
                Place::Position(n) => {
                    let _ = write!(out, "#{n}");
                }
            }
        }
        restore
    });
    f()
}

/// Appends `text` with the path's delimiters and `\` escaped by a `\`, and control
/// characters escaped as in Rust, so that distinct texts stay distinct and never end a
/// segment early.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' | '/' | '#' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
}

/// The render path of the component body running on this thread (`""` at the root).
///
/// # Example
/// ```
/// use streamtree::prelude::*;
///
/// #[component]
/// fn Where() -> Element {
///     Text(streamtree::session::render_path())
/// }
///
/// let app = || VStack([Where().key("a"), Where(), Where().key("b]/Where#0")]);
/// assert_eq!(
///     AppTest::new(app).run().text(),
///     "VStack\n  /Where[a]\n  /Where#0\n  /Where[b\\]\\/Where\\#0]\n"
/// );
/// ```
pub fn current() -> String {
    PATH.with(|p| p.borrow().display.clone())
}

/// The lookup path of the component body running on this thread (`""` at the root): what
/// component state is keyed by.
pub(crate) fn lookup() -> String {
    PATH.with(|p| p.borrow().lookup.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str) -> String {
        let mut out = String::new();
        escape_into(&mut out, text);
        out
    }

    /// Reads one escaped key back up to its closing `]`; `None` if it is malformed.
    fn unescape(text: &str) -> Option<(String, &str)> {
        let mut out = String::new();
        let mut chars = text.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                ']' => return Some((out, &text[i + 1..])),
                '\\' => match chars.next()?.1 {
                    c @ ('\\' | '/' | '#' | '[' | ']') => out.push(c),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'u' => {
                        let rest = &text[chars.next()?.0..];
                        let end = rest.find('}')?;
                        out.push(char::from_u32(
                            u32::from_str_radix(&rest[1..end], 16).ok()?,
                        )?);
                        chars.nth(end - 1)?;
                    }
                    _ => return None,
                },
                '/' | '#' | '[' => return None,
                c => out.push(c),
            }
        }
        None
    }

    #[test]
    fn escapes_delimiters_backslash_and_controls() {
        assert_eq!(escaped("plain key"), "plain key");
        assert_eq!(escaped(r"x]/B#0"), r"x\]\/B\#0");
        assert_eq!(escaped(r"a\]"), r"a\\\]");
        assert_eq!(escaped("[\n\t\u{1b}"), r"\[\n\t\u{1b}");
    }

    #[test]
    fn every_hostile_key_reads_back_as_itself_and_ends_at_its_bracket() {
        let keys = [
            "",
            "]",
            r"\",
            r"\]",
            r"\\]",
            "x]/B#0",
            "x]/B[y",
            "a/b",
            "#0",
            "[",
            "][",
            "\n",
            r"\n",
            "\u{0}",
            r"\u{0}",
            "é∂",
            "a]b\\c/d#e[f",
        ];
        for key in keys {
            let segment = format!("{}]/Next#0", escaped(key));
            assert_eq!(
                unescape(&segment),
                Some((key.to_owned(), "/Next#0")),
                "key {key:?} escaped as {segment:?}"
            );
        }
    }

    #[test]
    fn same_name_different_body_type_shares_display_not_lookup() {
        let seen = |body| {
            with_component("Card", body, Place::Key("k"), || {
                with_component("Row", TypeId::of::<u8>(), Place::Position(0), || {
                    (current(), lookup())
                })
            })
        };
        let (a, a_lookup) = seen(TypeId::of::<i32>());
        let (b, b_lookup) = seen(TypeId::of::<String>());
        assert_eq!(a, "/Card[k]/Row#0");
        assert_eq!(a, b);
        assert_ne!(a_lookup, b_lookup);
        assert_eq!((a, a_lookup), seen(TypeId::of::<i32>()), "stable");
        assert_eq!((current(), lookup()), (String::new(), String::new()));
    }

    #[test]
    fn a_key_cannot_forge_a_lookup_path() {
        let (a, b) = (TypeId::of::<u8>(), TypeId::of::<u16>());
        let nested = with_component("A", a, Place::Key("x"), || {
            with_component("B", b, Place::Key("y"), lookup)
        });
        // `/<A>[x]/<B>[y]`: the key that would spell it unescaped is `x]/<B>[y`.
        let forged_key = &nested[nested.find('[').unwrap() + 1..nested.len() - 1];
        assert!(forged_key.starts_with("x]/"), "{forged_key}");
        let forged = with_component("A", a, Place::Key(forged_key), lookup);
        assert_ne!(forged, nested);
    }

    #[test]
    fn paths_are_restored_after_a_panic() {
        let result = std::panic::catch_unwind(|| {
            with_component("Boom", TypeId::of::<()>(), Place::Position(3), || {
                assert_eq!(current(), "/Boom#3");
                panic!("boom")
            })
        });
        assert!(result.is_err());
        assert_eq!((current(), lookup()), (String::new(), String::new()));
    }
}

//! The render path of the component body running on this thread.
//!
//! A path is the `/`-joined segments of the enclosing component calls, such as
//! `/Dashboard#0/Counter[clicks]`. It lives in a thread-local because bodies run on the
//! rerun's thread; the guard restores it on every exit, including unwinding.

use std::cell::RefCell;

thread_local! {
    static PATH: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Restores the path to its length before a segment was pushed.
struct Truncate(usize);

impl Drop for Truncate {
    fn drop(&mut self) {
        PATH.with(|p| p.borrow_mut().truncate(self.0));
    }
}

/// Runs `f` with `/segment` appended to this thread's render path.
pub(crate) fn with_segment<R>(segment: &str, f: impl FnOnce() -> R) -> R {
    let before = PATH.with(|p| {
        let mut p = p.borrow_mut();
        let len = p.len();
        p.push('/');
        p.push_str(segment);
        len
    });
    let _restore = Truncate(before);
    f()
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
/// let app = || VStack([Where().key("a"), Where()]);
/// assert_eq!(AppTest::new(app).run().text(), "VStack\n  /Where[a]\n  /Where#0\n");
/// ```
pub fn current() -> String {
    PATH.with(|p| p.borrow().clone())
}

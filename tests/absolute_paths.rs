//! `#[component]` and `view!` output name everything by absolute path: this crate has no prelude
//! and imports nothing, and still compiles (as maud's `tests/absolute_paths.rs`).
#![no_implicit_prelude]

extern crate std;
extern crate streamtree;

/// A plain prop.
#[::streamtree::component]
fn Greeting(name: ::std::string::String) -> ::streamtree::Element {
    ::streamtree::elements::Text(::std::format!("Hello, {name}!"))
}

/// Pattern, `mut`, `_`, generic and `impl Trait` props: every binding the macro generates.
#[::streamtree::component]
fn Sum<T>(
    (a, b): (i32, i32),
    mut n: i32,
    _: (),
    extra: T,
    label: impl ::core::convert::Into<::streamtree::Str> + ::core::marker::Send + 'static,
) -> ::streamtree::prelude::Element
where
    T: ::core::convert::Into<i32> + ::core::marker::Send + 'static,
{
    n += extra.into();
    ::streamtree::elements::Fragment([
        ::streamtree::elements::Text(label),
        ::streamtree::elements::Text(::std::format!("{}", a + b + n)),
    ])
}

#[::core::prelude::v1::test]
fn expands_without_prelude() {
    let tree = ::streamtree::elements::VStack([
        Greeting(::std::borrow::ToOwned::to_owned("Ada")),
        Sum((1, 2), 3, (), 4_i8, "sum"),
    ]);
    let tree = ::streamtree::Session::new().rerun(|| tree);
    ::std::assert_eq!(
        ::streamtree::render_text(&tree),
        "VStack\n  Hello, Ada!\n  sum\n  10\n"
    );
}

/// Every `view!` construct, none of which may rely on the prelude.
fn every_node(names: &[&'static str], maybe: ::core::option::Option<i32>) -> ::streamtree::Element {
    ::streamtree::view! {
        ::streamtree::elements::Page {
            "literal"
            Greeting(::std::borrow::ToOwned::to_owned("Grace")).key("g")
            ::streamtree::elements::Card {}
            {maybe.map(::streamtree::elements::Text)}
            {..::core::iter::Iterator::map(names.iter(), |n| *n)}
            for n in names { ::streamtree::elements::Text(*n) }
            for _n in names {}
            if maybe.is_some() { "some" }
            if let ::core::option::Option::Some(n) = maybe { ::streamtree::elements::Text(n) } else { "none" }
            match maybe { ::core::option::Option::Some(_) => { "matched" } _ => {} }
        }.title("All")
    }
}

#[::core::prelude::v1::test]
fn view_expands_without_prelude() {
    let tree = ::streamtree::Session::new()
        .rerun(|| every_node(&["a", "b"], ::core::option::Option::Some(7)));
    ::std::assert_eq!(
        ::streamtree::render_text(&tree),
        "Page \"All\"\n  literal\n  Hello, Grace!\n  Card\n  7\n  a\n  b\n  a\n  b\n  some\n  7\n  matched\n"
    );
}

/// `match_task` and `match_task_many` nodes, also without the prelude.
fn tasks(
    one: &::streamtree::asyncio::TaskHandle<i32>,
    two: &::streamtree::asyncio::TaskHandle<i32>,
) -> ::streamtree::Element {
    ::streamtree::view! {
        match_task(one) {
            loading(_progress) => { "loading" }
            ready(n) => { ::streamtree::elements::Text(n) }
            error => { "failed" }
            cancelled => { "cancelled" }
        }
        match_task_many((one, two)) { ready((a, b)) => { ::streamtree::elements::Text(a + b) } }
    }
}

#[::core::prelude::v1::test]
fn match_task_expands_without_prelude() {
    let session = ::streamtree::Session::new();
    let (one, two) = session.enter(|| {
        (
            ::streamtree::asyncio::submit("one", || 1),
            ::streamtree::asyncio::submit("two", || 2),
        )
    });
    ::std::assert!(session.wait_idle(::core::time::Duration::from_secs(10)));
    let tree = session.enter(|| tasks(&one, &two));
    ::std::assert_eq!(::streamtree::render_text(&tree), "1\n3\n");
}

::streamtree::job! {
    /// `job!` output names everything by absolute path too.
    pub Doubled("doubled") = |_, n: &u32| -> Result<u32, ::std::string::String> {
        ::core::result::Result::Ok(n * 2)
    }
}

#[test]
fn job_macro_output_needs_no_prelude() {
    ::std::assert_eq!(<Doubled as ::streamtree::jobs::Job>::NAME, "doubled");
    let ctx_free = <Doubled as ::streamtree::jobs::Job>::run;
    let _: fn(
        &::streamtree::asyncio::TaskContext,
        &u32,
    ) -> ::core::result::Result<u32, ::std::string::String> = ctx_free;
}

//! `#[component]` output names everything by absolute path: this crate has no prelude
//! and imports nothing, and still compiles (as maud's `tests/absolute_paths.rs`).
#![no_implicit_prelude]

extern crate std;
extern crate streamtree;

/// A plain prop.
#[::streamtree::component]
fn Greeting(name: ::std::string::String) -> ::streamtree::Element {
    ::streamtree::elements::Text(::std::format!("Hello, {name}!"))
}

/// Pattern, `mut`, generic and `impl Trait` props: every binding the macro generates.
#[::streamtree::component]
fn Sum<T>(
    (a, b): (i32, i32),
    mut n: i32,
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
        Sum((1, 2), 3, 4_i8, "sum"),
    ]);
    ::std::assert_eq!(
        ::streamtree::render_text(&tree),
        "VStack\n  Hello, Ada!\n  sum\n  10\n"
    );
}

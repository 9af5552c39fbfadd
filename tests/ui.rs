//! Compile-fail cases: one user mistake per `ui/*.rs`, its diagnostics in the `.stderr`
//! beside it. Bless with `TRYBUILD=overwrite cargo test -p streamtree-tests --test ui` and
//! read the diff; the toolchain is pinned so the text is stable.

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("ui/*.rs");
}

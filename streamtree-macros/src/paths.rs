//! The one path macro output uses to reach the runtime crate.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;

/// `::streamtree::__private`, spanned at `span` so that a trait-bound error on an item
/// called through it points at the user's tokens.
pub(crate) fn private(span: Span) -> TokenStream {
    quote_spanned!(span=> ::streamtree::__private)
}

//! `view!`: parse the node tree, validate it, expand it to one `Element` expression.
//!
//! On error the macro expands to the `compile_error!`s and an empty element, so the
//! surrounding code still type-checks and the user sees only the real mistakes.

mod ast;
mod expand;
mod names;
mod parse;
mod validate;

use proc_macro2::{Span, TokenStream};
use quote::quote;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let checked = syn::parse2::<ast::View>(input).and_then(|view| {
        validate::view(&view)?;
        Ok(view)
    });
    match checked {
        Ok(view) => expand::view(view),
        Err(err) => fallback(err),
    }
}

fn fallback(err: syn::Error) -> TokenStream {
    let errors = err.to_compile_error();
    let private = crate::paths::private(Span::call_site());
    quote!({ #errors #private::Element::empty() })
}

//! `#[component]`: parse the fn, validate it, expand it to a deferred component call.
//!
//! On error the original fn is emitted next to the `compile_error!`s, so callers still
//! type-check and the user sees the macro's errors, not a cascade.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let checked = parse::component(args, item.clone()).and_then(|component| {
        validate::component(&component)?;
        Ok(component)
    });
    match checked {
        Ok(component) => expand::component(component),
        Err(err) => fallback(item, err),
    }
}

/// The original item, with two changes so that it type-checks where a valid component
/// would: a missing return type becomes `-> Element` (its body builds one), and `const`
/// is dropped (element constructors are not `const`). Other rejected qualifiers are kept.
fn fallback(item: TokenStream, err: syn::Error) -> TokenStream {
    let errors = err.to_compile_error();
    let Ok(mut f) = syn::parse2::<syn::ItemFn>(item.clone()) else {
        return quote!(#errors #item);
    };
    if let syn::ReturnType::Default = f.sig.output {
        let private = crate::paths::private(proc_macro2::Span::call_site());
        f.sig.output = syn::parse_quote!(-> #private::Element);
    }
    f.sig.constness = None;
    quote!(#errors #f)
}

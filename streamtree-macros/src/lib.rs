//! Procedural macros of `streamtree`. Internal crate: use `streamtree`, which re-exports
//! them.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;

/// PLACEHOLDER until the structured macro lands.
#[proc_macro_attribute]
pub fn component(_args: TokenStream, item: TokenStream) -> TokenStream {
    let f = syn::parse_macro_input!(item as syn::ItemFn);
    let attrs = &f.attrs;
    let vis = &f.vis;
    let sig = &f.sig;
    let name = sig.ident.to_string();
    let body = &f.block;
    quote::quote!(
        #(#attrs)*
        #[allow(non_snake_case)]
        #vis #sig {
            ::streamtree::__private::component(#name, move || -> ::streamtree::__private::Element #body)
        }
    )
    .into()
}

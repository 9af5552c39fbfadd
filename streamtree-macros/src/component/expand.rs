//! [`Component`] → the generated fn. Validation already passed, so this cannot fail.
//!
//! ```text
//! #[component] fn Greeting((a, b): (i32, i32), name: String) -> Element { body }
//! ```
//! becomes
//! ```text
//! #[allow(non_snake_case)]
//! fn Greeting(prop0: (i32, i32), name: String) -> Element {
//!     ::streamtree::__private::assert_prop(&prop0);  // located at `(i32, i32)`
//!     ::streamtree::__private::assert_prop(&name);   // located at `String`
//!     ::streamtree::__private::component("Greeting", move || -> ::streamtree::__private::Element {
//!         let (a, b) = prop0;
//!         body
//!     })
//! }
//! ```

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{AttrStyle, FnArg, Ident, Pat, PatIdent, PatType, Type};

use super::parse::Component;
use crate::paths;

pub(crate) fn component(c: Component) -> TokenStream {
    let private = paths::private(Span::call_site());
    let name = c.sig.ident.unraw().to_string();
    let mut sig = c.sig;
    let mut checks = Vec::new();
    let mut unpack = Vec::new();
    sig.inputs = c
        .props
        .into_iter()
        .enumerate()
        .map(|(i, prop)| {
            let (ident, rebind) = bind(i, &prop);
            checks.push(assert_prop(&ident, &prop.ty));
            unpack.extend(rebind);
            FnArg::Typed(PatType {
                pat: Box::new(Pat::Ident(PatIdent {
                    attrs: Vec::new(),
                    by_ref: None,
                    mutability: None,
                    ident,
                    subpat: None,
                })),
                ..prop
            })
        })
        .collect();
    // Inner attributes (`#![allow(..)]` in the body) apply to the fn, so they move onto it.
    let attrs = c.attrs.into_iter().map(|mut attr| {
        attr.style = AttrStyle::Outer;
        attr
    });
    let vis = c.vis;
    let stmts = c.body.stmts;
    quote! {
        #(#attrs)*
        #[allow(non_snake_case)]
        #vis #sig {
            #(#checks)*
            #private::component(#name, move || -> #private::Element {
                #(#unpack)*
                #(#stmts)*
            })
        }
    }
}

/// `::streamtree::__private::assert_prop(&ident);` located at the prop's type: its first
/// tokens at the type's first token, its last at the type's last, so that rustc, which
/// joins a call's tokens, underlines exactly the type when the bound fails.
fn assert_prop(ident: &Ident, ty: &Type) -> TokenStream {
    let first = ty.span();
    let last = ty
        .to_token_stream()
        .into_iter()
        .last()
        .map_or(first, |t| t.span());
    let private = paths::private(first);
    let mut arg = ident.clone();
    arg.set_span(ident.span().located_at(last));
    let amp = quote_spanned!(first=> &);
    quote_spanned!(last=> #private::assert_prop(#amp #arg);)
}

/// The identifier a prop gets in the generated signature, and the statement that binds
/// the user's pattern from it inside the body, if one is needed.
///
/// A plain `name` keeps its identifier, so rustdoc shows it. `mut name` becomes `name`
/// rebound as `let mut name = name;`. Any other pattern gets a fresh `propN` (mixed-site,
/// so it cannot clash with the user's names) and is destructured inside the body.
fn bind(index: usize, prop: &PatType) -> (Ident, Option<TokenStream>) {
    if let Pat::Ident(p) = &*prop.pat
        && p.by_ref.is_none()
        && p.subpat.is_none()
    {
        let ident = p.ident.clone();
        let rebind = p.mutability.map(|m| quote!(let #m #ident = #ident;));
        return (ident, rebind);
    }
    let ident = format_ident!("prop{}", index, span = Span::mixed_site());
    let pat = &prop.pat;
    (ident.clone(), Some(quote!(let #pat = #ident;)))
}

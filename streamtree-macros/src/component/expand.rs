//! [`Component`] → the generated fn. Validation already passed, so this cannot fail.
//!
//! ```text
//! #[component] fn Greeting((a, b): (i32, i32), _: Guard, name: String) -> Element { body }
//! ```
//! becomes
//! ```text
//! #[allow(non_snake_case)]
//! fn Greeting(prop0: (i32, i32), prop1: Guard, name: String) -> Element {
//!     ::streamtree::__private::assert_prop(&prop0);  // located at `(i32, i32)`
//!     ::streamtree::__private::assert_prop(&prop1);  // located at `Guard`
//!     ::streamtree::__private::assert_prop(&name);   // located at `String`
//!     let props = (prop0, prop1, name);
//!     ::streamtree::__private::component("Greeting", move || -> Element {
//!         let props = props;
//!         let (a, b) = props.0;
//!         let _ = props.1;
//!         let name = props.2;
//!         body
//!     })
//! }
//! ```
//!
//! Why the tuple: a `move` closure captures only the places its body uses (edition 2021
//! disjoint capture), so a prop bound to `_`, an unused prop or an unused field would be
//! dropped when the element is built. `let props = props;` moves the whole tuple in, and
//! what the patterns leave in it is dropped when the body returns, as a plain fn drops
//! its arguments. The user's patterns then bind plain locals of the body, so borrowing
//! one in a non-`move` closure gets rustc's own "use the `move` keyword" error.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{AttrStyle, FnArg, Ident, Index, Pat, PatIdent, PatType, ReturnType, Type};

use super::parse::Component;
use crate::paths;

pub(crate) fn component(c: Component) -> TokenStream {
    let private = paths::private(Span::call_site());
    let name = c.sig.ident.unraw().to_string();
    let mut sig = c.sig;
    // Mixed-site: the user's code can neither see nor shadow it.
    let props = Ident::new("props", Span::mixed_site());
    let idents: Vec<Ident> = c.props.iter().enumerate().map(param).collect();
    let checks = idents
        .iter()
        .zip(&c.props)
        .map(|(i, p)| assert_prop(i, &p.ty));
    let unpack = c.props.iter().enumerate().map(|(i, prop)| {
        let (attrs, pat, index) = (&prop.attrs, &prop.pat, Index::from(i));
        quote!(#(#attrs)* let #pat = #props.#index;)
    });
    let (hold, take) = if c.props.is_empty() {
        (None, None)
    } else {
        (
            Some(quote!(let #props = (#(#idents,)*);)),
            Some(quote!(let #props = #props;)),
        )
    };
    let unpack: Vec<TokenStream> = unpack.collect();
    let checks: Vec<TokenStream> = checks.collect();
    sig.inputs = idents
        .into_iter()
        .zip(c.props)
        .map(|(ident, prop)| {
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
    // The user's own return type, so a body of the wrong type is reported against it, as
    // in a plain fn (validation made sure it names `Element`).
    let output = match &sig.output {
        ReturnType::Type(_, ty) => ty.to_token_stream(),
        ReturnType::Default => quote!(#private::Element),
    };
    let vis = c.vis;
    let stmts = c.body.stmts;
    quote! {
        #(#attrs)*
        #[allow(non_snake_case)]
        #vis #sig {
            #(#checks)*
            #hold
            #private::component(#name, move || -> #output {
                #take
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

/// The identifier a prop gets in the generated signature. A plain `name` or `mut name`
/// keeps its identifier, so rustdoc shows it; any other pattern gets a fresh `propN`
/// (mixed-site, so it cannot clash with the user's names). The body binds the user's
/// pattern either way.
fn param((index, prop): (usize, &PatType)) -> Ident {
    match &*prop.pat {
        Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.clone(),
        _ => format_ident!("prop{}", index, span = Span::mixed_site()),
    }
}

//! The rules a `#[component]` fn must follow. Reads the [`Component`], never changes it;
//! every broken rule adds one error at the user's tokens, and all are reported together.

use syn::{Lifetime, ReturnType, Type};

use super::parse::Component;
use crate::errors::Errors;

pub(crate) fn component(c: &Component) -> syn::Result<()> {
    let mut errors = Errors::default();
    if !c.args.is_empty() {
        errors.add(
            &c.args,
            "`#[component]` takes no arguments: remove them and write `#[component]`; \
             to key a call, write `.key(\"k\")` on the `Element` it returns",
        );
    }
    let sig = &c.sig;
    if let Some(t) = &sig.constness {
        errors.add(
            t,
            "`#[component]` functions cannot be `const`: the body runs deferred at render time; \
             remove `const`",
        );
    }
    if let Some(t) = &sig.asyncness {
        errors.add(
            t,
            "`#[component]` functions cannot be `async`: the body already runs deferred at \
             render time; start background work with `streamtree::asyncio::submit`",
        );
    }
    if let Some(t) = &sig.unsafety {
        errors.add(
            t,
            "`#[component]` functions cannot be `unsafe`: the body runs at render time, where \
             no caller can uphold a safety contract; remove `unsafe` and use an `unsafe` block \
             inside the body",
        );
    }
    if let Some(abi) = &sig.abi {
        errors.add(
            abi,
            "`#[component]` functions cannot declare an ABI: components are called from Rust \
             only; remove the `extern` qualifier",
        );
    }
    if let Some(v) = &sig.variadic {
        errors.add(
            v,
            "`#[component]` functions cannot be variadic: take the values as one prop, such as \
             a `Vec<T>`",
        );
    }
    if let Some(r) = &c.receiver {
        errors.add(
            r,
            "`#[component]` functions cannot take `self`: a component is a free function of \
             its props; move it out of the `impl` block and pass the value as a prop",
        );
    }
    for prop in &c.props {
        if let Type::Reference(r) = &*prop.ty
            && !r.lifetime.as_ref().is_some_and(is_static)
        {
            errors.add(
                r,
                "`#[component]` props cannot borrow: the body runs later, at render time; take \
                 an owned type such as `String` or `Vec<T>`, or an `Arc<T>` to share",
            );
        }
    }
    match &sig.output {
        ReturnType::Default => errors.add(
            // `(..)`: where `-> Element` belongs.
            sig.paren_token.span.join(),
            "`#[component]` functions must return `Element`: add `-> Element` after the \
             parameters",
        ),
        ReturnType::Type(_, ty) if !is_element(ty) => errors.add(
            ty,
            "`#[component]` functions must return `Element`: change the return type to \
             `Element` and build the value with an element such as `Text(..)`",
        ),
        ReturnType::Type(..) => {}
    }
    errors.finish()
}

fn is_static(lifetime: &Lifetime) -> bool {
    lifetime.ident == "static"
}

/// `Element`, `streamtree::Element` or `streamtree::prelude::Element`, optionally with a
/// leading `::`. The type itself is checked by rustc; this only catches a wrong name early.
fn is_element(ty: &Type) -> bool {
    let path = match ty {
        Type::Group(g) => return is_element(&g.elem),
        Type::Paren(p) => return is_element(&p.elem),
        Type::Path(p) if p.qself.is_none() => &p.path,
        _ => return false,
    };
    if path.segments.iter().any(|s| !s.arguments.is_none()) {
        return false;
    }
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    match names.join("::").as_str() {
        "Element" => path.leading_colon.is_none(),
        "streamtree::Element" | "streamtree::prelude::Element" => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(args: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> Vec<String> {
        let c = super::super::parse::component(args, item).unwrap();
        match component(&c) {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn accepts_every_spelling_of_element() {
        for ty in [
            quote::quote!(Element),
            quote::quote!(streamtree::Element),
            quote::quote!(::streamtree::Element),
            quote::quote!(streamtree::prelude::Element),
            quote::quote!(::streamtree::prelude::Element),
        ] {
            let item = quote::quote!(fn A(n: u8, s: &'static str) -> #ty { todo() });
            assert_eq!(check(quote::quote!(), item), Vec::<String>::new(), "{ty}");
        }
    }

    #[test]
    fn rejects_other_return_types() {
        for ty in [
            quote::quote!(::Element),
            quote::quote!(other::Element),
            quote::quote!(Element<u8>),
            quote::quote!(impl Into<Element>),
        ] {
            let item = quote::quote!(fn A() -> #ty { todo() });
            assert_eq!(check(quote::quote!(), item).len(), 1, "{ty}");
        }
    }

    #[test]
    fn rejects_variadics_with_the_abi() {
        let item = quote::quote!(
            extern "C" fn A(n: i32, ...) -> Element {
                todo()
            }
        );
        let errors = check(quote::quote!(), item);
        assert_eq!(errors.len(), 2);
        assert!(errors[1].starts_with("`#[component]` functions cannot be variadic"));
    }
}

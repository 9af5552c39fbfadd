//! Attribute arguments and the fn item → [`Component`]. Parsing only splits the item up;
//! every rule lives in `validate`.

use proc_macro2::TokenStream;
use syn::{Attribute, Block, FnArg, Item, PatType, Receiver, Signature, Visibility};

/// A `#[component]` fn as written. Every field keeps the user's tokens and spans.
pub(crate) struct Component {
    /// The tokens inside `#[component(..)]`; none are accepted.
    pub(crate) args: TokenStream,
    /// Outer attributes, doc comments included; they stay on the generated fn.
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    /// The signature as written. `expand` replaces its inputs with the bound props.
    pub(crate) sig: Signature,
    /// A `self` parameter, which is an error.
    pub(crate) receiver: Option<Receiver>,
    /// The typed parameters, in order.
    pub(crate) props: Vec<PatType>,
    pub(crate) body: Block,
}

pub(crate) fn component(args: TokenStream, item: TokenStream) -> syn::Result<Component> {
    let f = match syn::parse2::<Item>(item)? {
        Item::Fn(f) => f,
        other => {
            return Err(syn::Error::new_spanned(
                other,
                "`#[component]` applies to a function: `fn Name(prop: Type) -> Element { .. }`",
            ));
        }
    };
    let mut receiver = None;
    let mut props = Vec::new();
    for input in &f.sig.inputs {
        match input {
            FnArg::Receiver(r) => receiver = Some(r.clone()),
            FnArg::Typed(p) => props.push(p.clone()),
        }
    }
    Ok(Component {
        args,
        attrs: f.attrs,
        vis: f.vis,
        sig: f.sig,
        receiver,
        props,
        body: *f.block,
    })
}

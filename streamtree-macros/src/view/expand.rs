//! [`View`] → one `Element` expression. Validation already passed, so this cannot fail.
//!
//! ```text
//! view! { Page { "hi" {name} for n in ns { Greeting(n) } }.title("T") }
//! ```
//! becomes (with `p` = `::streamtree::__private`)
//! ```text
//! p::child(p::Page([                       // `child` located at the user's node,
//!     p::Text("hi"),                       // so a type error points there
//!     p::child(name),
//!     {
//!         let mut children: p::Vec<p::Element> = p::Vec::new();
//!         for n in ns { children.push(p::child(Greeting(n))); }
//!         p::Fragment(children)
//!     },
//! ]).title("T"))
//! ```
//! `if` without `else` gains `else { p::Element::empty() }`; several nodes in one body
//! become a `Fragment`; `match_task` becomes a builder chain ended by `Element::from`
//! (see `Ctx::task`).

use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::{Expr, Ident, Stmt};

use super::ast::{self, Block, Call, Else, For, If, Match, Node, Splice, Task, TaskKind, View};
use crate::paths;

pub(crate) fn view(view: View) -> TokenStream {
    let ctx = Ctx {
        private: paths::private(Span::call_site()),
        children: format_ident!("children", span = Span::mixed_site()),
    };
    ctx.element(view.nodes)
}

/// What every expansion step shares.
struct Ctx {
    /// `::streamtree::__private`, for code that stands for no user token.
    private: TokenStream,
    /// The vector a `for` loop collects into: mixed-site, so no user name can clash.
    children: Ident,
}

impl Ctx {
    /// Nodes as one `Element`: empty, the only node, or a `Fragment` of them.
    fn element(&self, nodes: Vec<Node>) -> TokenStream {
        let p = &self.private;
        let mut nodes = nodes.into_iter();
        match (nodes.next(), nodes.len()) {
            (None, _) => quote!(#p::Element::empty()),
            (Some(only), 0) => self.node(only),
            (Some(first), _) => {
                let children = std::iter::once(first).chain(nodes).map(|n| self.node(n));
                quote!(#p::Fragment([#(#children),*]))
            }
        }
    }

    /// A block's nodes as one `Element`, in braces at the user's braces.
    fn body(&self, block: Block) -> TokenStream {
        let span = block.brace.span.join();
        group(Delimiter::Brace, self.element(block.nodes), span)
    }

    fn node(&self, node: Node) -> TokenStream {
        match node {
            Node::Text(lit) => {
                let p = paths::private(lit.span());
                quote_spanned!(lit.span()=> #p::Text(#lit))
            }
            Node::Splice(s) => self.splice(s),
            Node::Call(c) => self.call(c),
            Node::If(i) => self.if_(i),
            Node::For(f) => self.for_(f),
            Node::Match(m) => self.match_(m),
            Node::Task(t) => self.task(t),
        }
    }

    /// `{value}` → `child(value)`, `{..iter}` → `children(iter)`, located at the value.
    fn splice(&self, s: Splice) -> TokenStream {
        let stmts = &s.stmts;
        let ends = ast::ends(&quote!(#(#stmts)*));
        let function = if s.spread.is_some() {
            "children"
        } else {
            "child"
        };
        let value = match &s.stmts[..] {
            [Stmt::Expr(expr, None)] => expr.to_token_stream(),
            stmts => group(Delimiter::Brace, quote!(#(#stmts)*), s.brace.span.join()),
        };
        convert(function, value, ends)
    }

    /// The call as written, children passed as one array argument, then the chain;
    /// all of it through `child(..)` located at the call.
    fn call(&self, c: Call) -> TokenStream {
        let ends = ast::ends(&c);
        let Call {
            path,
            args,
            children,
            chain,
        } = c;
        let args = match (args, children) {
            (Some(args), _) => args.to_token_stream(),
            (None, Some(block)) => {
                let span = block.brace.span.join();
                group(Delimiter::Parenthesis, self.array(block.nodes), span)
            }
            // A bare path never passes validation; expanding it as written is harmless.
            (None, None) => TokenStream::new(),
        };
        convert("child", quote!(#path #args #(#chain)*), ends)
    }

    /// Nodes as `[Element; N]`, the children argument of `Name { .. }`.
    fn array(&self, nodes: Vec<Node>) -> TokenStream {
        let p = &self.private;
        if nodes.is_empty() {
            return quote!(::core::convert::identity::<[#p::Element; 0]>([]));
        }
        let children = nodes.into_iter().map(|n| self.node(n));
        quote!([#(#children),*])
    }

    fn if_(&self, i: If) -> TokenStream {
        let If {
            if_token,
            cond,
            then,
            otherwise,
        } = i;
        let then = self.body(then);
        let otherwise = match otherwise {
            Some((else_token, Else::If(next))) => {
                let next = self.if_(*next);
                quote!(#else_token #next)
            }
            Some((else_token, Else::Block(block))) => {
                let block = self.body(block);
                quote!(#else_token #block)
            }
            None => {
                let p = &self.private;
                quote!(else { #p::Element::empty() })
            }
        };
        quote!(#if_token #cond #then #otherwise)
    }

    /// A real `for` loop, so `?`, `break` and borrows in the body work as in plain Rust;
    /// each iteration's nodes are pushed flat into one `Fragment`.
    fn for_(&self, f: For) -> TokenStream {
        let For {
            for_token,
            pat,
            in_token,
            expr,
            body,
        } = f;
        let p = &self.private;
        let span = body.brace.span.join();
        if body.nodes.is_empty() {
            return quote!({ #for_token #pat #in_token #expr {} #p::Element::empty() });
        }
        let children = &self.children;
        let pushes = body.nodes.into_iter().map(|n| {
            let child = self.node(n);
            quote!(#children.push(#child);)
        });
        let body = group(Delimiter::Brace, quote!(#(#pushes)*), span);
        quote!({
            let mut #children: #p::Vec<#p::Element> = #p::Vec::new();
            #for_token #pat #in_token #expr #body
            #p::Fragment(#children)
        })
    }

    fn match_(&self, m: Match) -> TokenStream {
        let Match {
            match_token,
            expr,
            brace,
            arms,
        } = m;
        let arms = arms.into_iter().map(|arm| {
            let pat = arm.pat;
            let guard = arm.guard.map(|(if_token, guard)| quote!(#if_token #guard));
            let arrow = arm.arrow;
            let body = self.body(arm.body);
            let comma = arm.comma;
            quote!(#pat #guard #arrow #body #comma)
        });
        let arms = group(Delimiter::Brace, quote!(#(#arms)*), brace.span.join());
        quote!(#match_token #expr #arms)
    }

    /// `Element::from(match_task(&(h)).delay(d).loading(..).ready(|v| ..) ..)`: options
    /// first, then the arms in the user's order; each method is located at its option's
    /// or arm's name. `ready(v, refreshing)` becomes `ready_with(|v, refreshing| ..)`. Only `ready`, `error` and
    /// `loading(p)` bodies are closures; `loading` and `cancelled` bodies are built eagerly,
    /// as the runtime's builder takes them.
    fn task(&self, t: Task) -> TokenStream {
        let p = &self.private;
        let (first, last) = ast::ends(&t.handles);
        let at_keyword = paths::private(t.keyword.span());
        let start = match t.kind {
            TaskKind::One => {
                let handle = t.handles;
                let handle = quote_spanned!(first=> &(#handle));
                let function = Ident::new("match_task", t.keyword.span());
                quote!(#at_keyword::#function(#handle))
            }
            TaskKind::Many => {
                let handles = handle_refs(t.handles);
                let function = Ident::new("match_task_many", t.keyword.span());
                let args = group(Delimiter::Parenthesis, handles, last);
                quote!(#at_keyword::#function #args)
            }
        };
        let options = t.options.into_iter().map(|option| {
            // `delay` is the only option `validate` lets through.
            let method = option.name;
            let value = option.value;
            let at_name = paths::private(method.span());
            quote_spanned!(method.span()=> .#method(#at_name::#method(#value)))
        });
        let calls = t.arms.into_iter().map(|arm| {
            let name = arm.name.to_string();
            let span = arm.name.span();
            let body = self.element(arm.body.nodes);
            let pats = arm.binding.map(|(_, pats)| pats);
            let (method, arg) = match (name.as_str(), pats) {
                ("loading", None) | ("cancelled", _) => (name.as_str(), body),
                ("loading", Some(pats)) => ("loading_with", quote!(|#pats| #body)),
                ("ready", Some(pats)) if pats.len() == 2 => ("ready_with", quote!(|#pats| #body)),
                (_, Some(pats)) => (name.as_str(), quote!(|#pats| #body)),
                (_, None) => (name.as_str(), quote!(|_| #body)),
            };
            let method = Ident::new(method, span);
            quote_spanned!(span=> .#method(#arg))
        });
        let calls: Vec<TokenStream> = options.chain(calls).collect();
        // Fully qualified: `From` may not be in scope (`#![no_implicit_prelude]`).
        quote!(<#p::Element as ::core::convert::From<_>>::from(#start #(#calls)*))
    }
}

/// `match_task_many`'s argument: a tuple expression lends each member,
/// `(lend(&(a)), lend(&(b)),)`, where `lend` coerces `&a` to `&TaskHandle<T>` (so `a` may
/// be a handle or a reference to one); anything else (`&hs`, `&hs[..]`, a tuple variable
/// of references) is passed as written.
fn handle_refs(handles: Expr) -> TokenStream {
    match handles {
        Expr::Tuple(tuple) => {
            let refs = tuple.elems.iter().map(|e| {
                let ends = ast::ends(e);
                let amp = quote_spanned!(ends.0=> &);
                convert("lend", quote!(#amp(#e)), ends)
            });
            let span = tuple.paren_token.span.join();
            group(Delimiter::Parenthesis, quote!(#(#refs,)*), span)
        }
        other => other.to_token_stream(),
    }
}

/// `::streamtree::__private::function(value)`, its path at the node's first token and
/// its parentheses at the last, so rustc underlines exactly the node when a bound fails.
fn convert(function: &str, value: TokenStream, (first, last): (Span, Span)) -> TokenStream {
    let p = paths::private(first);
    let function = Ident::new(function, first);
    let args = group(Delimiter::Parenthesis, value, last);
    quote!(#p::#function #args)
}

fn group(delimiter: Delimiter, tokens: TokenStream, span: Span) -> TokenStream {
    let mut group = Group::new(delimiter, tokens);
    group.set_span(span);
    group.into_token_stream()
}

//! The `view!` tree as written: plain data that keeps every token, so `validate` can point
//! errors at the user's code and `expand` can place generated calls at it. `ToTokens`
//! prints a node back as the user wrote it (used for error spans and node extents).

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, TokenStreamExt};
use syn::punctuated::Punctuated;
use syn::{AngleBracketedGenericArguments, Expr, ExprPath, Ident, LitStr, Pat, Stmt, Token, token};

/// The whole input: zero or more top-level nodes.
pub(crate) struct View {
    pub(crate) nodes: Vec<Node>,
}

/// `{ node* }`: the children of a named node or the body of a control node.
pub(crate) struct Block {
    pub(crate) brace: token::Brace,
    pub(crate) nodes: Vec<Node>,
}

pub(crate) enum Node {
    /// `"text"`: a `Text` element.
    Text(LitStr),
    /// `{expr}` or `{..iter}`: a Rust block whose value is the child (or children).
    Splice(Splice),
    /// `Name(args)`, `Name { .. }` or a bare `Name`, with a method chain.
    Call(Call),
    If(If),
    For(For),
    Match(Match),
    /// `match_task(..) { .. }` or `match_task_many(..) { .. }`.
    Task(Task),
}

pub(crate) struct Splice {
    pub(crate) brace: token::Brace,
    /// `..`: the expression is an iterator of children.
    pub(crate) spread: Option<Token![..]>,
    /// Usually one expression; statements before it are allowed, as in any Rust block.
    pub(crate) stmts: Vec<Stmt>,
}

/// A function or component call. At most one of `args` and `children` is set; a call
/// with neither (a bare path) is an error found by `validate`.
pub(crate) struct Call {
    pub(crate) path: ExprPath,
    pub(crate) args: Option<Args>,
    pub(crate) children: Option<Block>,
    pub(crate) chain: Vec<Method>,
}

/// `( expr, .. )`.
pub(crate) struct Args {
    pub(crate) paren: token::Paren,
    pub(crate) exprs: Punctuated<Expr, Token![,]>,
}

/// `.name::<T>(args)` in a chain of options.
pub(crate) struct Method {
    pub(crate) dot: Token![.],
    pub(crate) name: Ident,
    pub(crate) turbofish: Option<AngleBracketedGenericArguments>,
    pub(crate) args: Args,
}

pub(crate) struct If {
    pub(crate) if_token: Token![if],
    /// Any condition, `let` patterns and chains included.
    pub(crate) cond: Expr,
    pub(crate) then: Block,
    pub(crate) otherwise: Option<(Token![else], Else)>,
}

pub(crate) enum Else {
    If(Box<If>),
    Block(Block),
}

pub(crate) struct For {
    pub(crate) for_token: Token![for],
    pub(crate) pat: Pat,
    pub(crate) in_token: Token![in],
    pub(crate) expr: Expr,
    pub(crate) body: Block,
}

pub(crate) struct Match {
    pub(crate) match_token: Token![match],
    pub(crate) expr: Expr,
    pub(crate) brace: token::Brace,
    pub(crate) arms: Vec<Arm>,
}

/// `pat if guard => { .. },`
pub(crate) struct Arm {
    pub(crate) pat: Pat,
    pub(crate) guard: Option<(Token![if], Expr)>,
    pub(crate) arrow: Token![=>],
    pub(crate) body: Block,
    pub(crate) comma: Option<Token![,]>,
}

pub(crate) struct Task {
    /// `match_task` or `match_task_many`.
    pub(crate) keyword: Ident,
    pub(crate) kind: TaskKind,
    pub(crate) paren: token::Paren,
    pub(crate) handles: Expr,
    /// `, name = value` after the handles, in the user's order; names unchecked until
    /// `validate`.
    pub(crate) options: Vec<TaskOption>,
    pub(crate) brace: token::Brace,
    pub(crate) arms: Vec<TaskArm>,
}

/// `name = value` in `match_task(h, name = value)`.
pub(crate) struct TaskOption {
    pub(crate) comma: Token![,],
    pub(crate) name: Ident,
    pub(crate) eq: Token![=],
    pub(crate) value: Expr,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskKind {
    /// `match_task(handle)`: one handle, taken by reference.
    One,
    /// `match_task_many(handles)`: a tuple of handles (each taken by reference) or a slice.
    Many,
}

/// `name(bindings) => { .. },` — the name is any identifier, and the bindings any
/// number of patterns (at least one), until `validate` checks them.
pub(crate) struct TaskArm {
    pub(crate) name: Ident,
    pub(crate) binding: Option<(token::Paren, Punctuated<Pat, Token![,]>)>,
    pub(crate) arrow: Token![=>],
    pub(crate) body: Block,
    pub(crate) comma: Option<Token![,]>,
}

/// The spans of a node's first and last tokens: rustc underlines from one to the other
/// when generated tokens start at the first and end at the second.
pub(crate) fn ends(tokens: &impl ToTokens) -> (Span, Span) {
    let mut iter = tokens.to_token_stream().into_iter();
    let first = iter.next().map_or_else(Span::call_site, |t| t.span());
    let last = iter.last().map_or(first, |t| t.span());
    (first, last)
}

impl ToTokens for Block {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.brace.surround(tokens, |t| t.append_all(&self.nodes));
    }
}

impl ToTokens for Node {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Node::Text(lit) => lit.to_tokens(tokens),
            Node::Splice(s) => s.to_tokens(tokens),
            Node::Call(c) => c.to_tokens(tokens),
            Node::If(i) => i.to_tokens(tokens),
            Node::For(f) => f.to_tokens(tokens),
            Node::Match(m) => m.to_tokens(tokens),
            Node::Task(t) => t.to_tokens(tokens),
        }
    }
}

impl ToTokens for Splice {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.brace.surround(tokens, |t| {
            self.spread.to_tokens(t);
            t.append_all(&self.stmts);
        });
    }
}

impl ToTokens for Call {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.path.to_tokens(tokens);
        self.args.to_tokens(tokens);
        self.children.to_tokens(tokens);
        tokens.append_all(&self.chain);
    }
}

impl ToTokens for Args {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.paren.surround(tokens, |t| self.exprs.to_tokens(t));
    }
}

impl ToTokens for Method {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.dot.to_tokens(tokens);
        self.name.to_tokens(tokens);
        self.turbofish.to_tokens(tokens);
        self.args.to_tokens(tokens);
    }
}

impl ToTokens for If {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.if_token.to_tokens(tokens);
        self.cond.to_tokens(tokens);
        self.then.to_tokens(tokens);
        if let Some((else_token, otherwise)) = &self.otherwise {
            else_token.to_tokens(tokens);
            match otherwise {
                Else::If(i) => i.to_tokens(tokens),
                Else::Block(b) => b.to_tokens(tokens),
            }
        }
    }
}

impl ToTokens for For {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.for_token.to_tokens(tokens);
        self.pat.to_tokens(tokens);
        self.in_token.to_tokens(tokens);
        self.expr.to_tokens(tokens);
        self.body.to_tokens(tokens);
    }
}

impl ToTokens for Match {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.match_token.to_tokens(tokens);
        self.expr.to_tokens(tokens);
        self.brace.surround(tokens, |t| t.append_all(&self.arms));
    }
}

impl ToTokens for Arm {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.pat.to_tokens(tokens);
        if let Some((if_token, guard)) = &self.guard {
            if_token.to_tokens(tokens);
            guard.to_tokens(tokens);
        }
        self.arrow.to_tokens(tokens);
        self.body.to_tokens(tokens);
        self.comma.to_tokens(tokens);
    }
}

impl ToTokens for Task {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.keyword.to_tokens(tokens);
        self.paren.surround(tokens, |t| {
            self.handles.to_tokens(t);
            t.append_all(&self.options);
        });
        self.brace.surround(tokens, |t| t.append_all(&self.arms));
    }
}

impl ToTokens for TaskOption {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.comma.to_tokens(tokens);
        self.name.to_tokens(tokens);
        self.eq.to_tokens(tokens);
        self.value.to_tokens(tokens);
    }
}

impl ToTokens for TaskArm {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.name.to_tokens(tokens);
        if let Some((paren, pat)) = &self.binding {
            paren.surround(tokens, |t| pat.to_tokens(t));
        }
        self.arrow.to_tokens(tokens);
        self.body.to_tokens(tokens);
        self.comma.to_tokens(tokens);
    }
}

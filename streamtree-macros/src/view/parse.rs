//! Tokens → [`View`]. The grammar of `view!`:
//!
//! ```text
//! view      := node*
//! node      := STRING                          "hi"             → Text("hi")
//!            | '{' stmts '}'                   {expr}           splice: a value Into<Element>
//!            | '{' '..' stmts '}'              {..iter}         spread: an iterator of them
//!            | path args chain*                Button("Go").key("go")
//!            | path block chain*               Page { .. }.title("T")
//!            | 'if' cond block ('else' 'if' cond block)* ('else' block)?
//!            | 'for' pat 'in' expr block
//!            | 'match' expr '{' (pat ('if' expr)? '=>' block ','?)* '}'
//!            | task '(' expr (',' option)* ','? ')' '{' task_arm* '}'
//! task      := 'match_task' | 'match_task_many'
//! option    := 'delay' '=' expr                 delay = Duration::from_millis(200)
//! task_arm  := 'loading' ('(' pat ')')? '=>' block ','?          pat: the progress
//!            | 'ready' '(' pat (',' pat)? ')' '=>' block ','?    value, refreshing: bool
//!            | 'error' ('(' pat ')')? '=>' block ','?            pat: the message
//!            | 'cancelled' '=>' block ','?
//! args      := '(' (expr ','?)* ')'
//! chain     := '.' IDENT ('::' '<' generics '>')? args
//! block     := '{' node* '}'
//! ```
//!
//! One rule settles what `{` means: right after a path it opens that node's children;
//! anywhere else it opens a splice. So `Text("a") {x}` is a text and a splice, and a
//! method chain always comes last, after the children: `Card { .. }.key("k")`.
//!
//! ```text
//! Page {
//!     "Names"
//!     for n in names { Greeting(n) }
//!     if names.is_empty() { Markdown("*nobody*") }
//!     Button("Go").key("go")
//! }.title("Demo")
//! ```
//!
//! `match_task` options are `name = value` after the handle, since a chain after its
//! arms would sit far from the keyword. `delay = d` (a `Duration`) shows nothing for the
//! first `d` of an unfinished task instead of the loading arm; `ready(v, refreshing)`
//! also binds whether the value shown is being refreshed (a `bool`):
//!
//! ```text
//! match_task(sales, delay = Duration::from_millis(200)) {
//!     loading => { Spinner() }
//!     ready(rows, refreshing) => { Table(rows) if refreshing { "updating…" } }
//!     error(e) => { ErrorBox(e) }
//! }
//! ```
//!
//! Parsing only recognises shapes. Which arms `match_task` takes and which paths are
//! bare are `validate`'s rules; a syntax error stops at the first mistake.

use proc_macro2::Delimiter;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{
    AngleBracketedGenericArguments, Error, Expr, Ident, LitStr, Pat, Result, Token, braced,
    parenthesized, token,
};

use super::ast::{Args, Arm, Block, Call, Else, For, If, Match, Method, Node, Splice, Task};
use super::ast::{TaskArm, TaskKind, TaskOption, View};
use super::names;

impl Parse for View {
    fn parse(input: ParseStream) -> Result<View> {
        Ok(View {
            nodes: nodes(input)?,
        })
    }
}

fn nodes(input: ParseStream) -> Result<Vec<Node>> {
    let mut nodes = Vec::new();
    while !input.is_empty() {
        nodes.push(input.parse()?);
    }
    Ok(nodes)
}

impl Parse for Block {
    fn parse(input: ParseStream) -> Result<Block> {
        let content;
        let brace = braced!(content in input);
        Ok(Block {
            brace,
            nodes: nodes(&content)?,
        })
    }
}

impl Parse for Node {
    fn parse(input: ParseStream) -> Result<Node> {
        let node = if input.peek(LitStr) {
            Node::Text(input.parse()?)
        } else if input.peek(token::Brace) {
            Node::Splice(input.parse()?)
        } else if input.peek(Token![if]) {
            Node::If(input.parse()?)
        } else if input.peek(Token![for]) {
            Node::For(input.parse()?)
        } else if input.peek(Token![match]) {
            Node::Match(input.parse()?)
        } else if task_kind(input).is_some() {
            Node::Task(input.parse()?)
        } else if starts_path(input) {
            // A call parses its own chain.
            return Ok(Node::Call(input.parse()?));
        } else {
            return Err(unexpected(input));
        };
        reject_chain(input, &node)?;
        Ok(node)
    }
}

fn starts_path(input: ParseStream) -> bool {
    input.peek(Ident)
        || input.peek(Token![::])
        || input.peek(Token![<])
        || input.peek(Token![self])
        || input.peek(Token![Self])
        || input.peek(Token![super])
        || input.peek(Token![crate])
}

/// `match_task(` or `match_task_many(`: the keyword followed by its handle.
fn task_kind(input: ParseStream) -> Option<TaskKind> {
    let (ident, rest) = input.cursor().ident()?;
    rest.group(Delimiter::Parenthesis)?;
    if ident == names::MATCH_TASK {
        Some(TaskKind::One)
    } else if ident == names::MATCH_TASK_MANY {
        Some(TaskKind::Many)
    } else {
        None
    }
}

/// The error for a token that cannot start a node, with a hint for Rust syntax that
/// `view!` does not take.
fn unexpected(input: ParseStream) -> Error {
    if input.peek(Token![else]) {
        input.error("`else` without `if`: it belongs right after an `if { .. }` block")
    } else if input.peek(Token![while]) || input.peek(Token![loop]) {
        input.error("`view!` has no `while` or `loop`: iterate with `for pat in iter { .. }`")
    } else if input.peek(Token![let]) {
        input.error(
            "`view!` has no `let`: bind the value before the macro, or inside a `{ .. }` splice",
        )
    } else if input.peek(syn::Lit) {
        input.error("only string literals become text: show other values with `Text(..)`")
    } else {
        input.error(
            "expected a node: a string literal, a call such as `Text(..)`, `Name { .. }`, \
             a `{ .. }` splice, `if`, `for`, `match` or `match_task`",
        )
    }
}

/// Only calls take options; a chain after anything else is an error at the chain.
fn reject_chain(input: ParseStream, node: &Node) -> Result<()> {
    if !peek_method(input) {
        return Ok(());
    }
    let at = input.span();
    let chain = chain(input)?;
    if let Node::Task(t) = node {
        let keyword = &t.keyword;
        let message = format!(
            "`{keyword}` takes options inside its parentheses, after the handle: \
             `{keyword}(handle, delay = ..) {{ .. }}`"
        );
        return Err(Error::new_spanned(quote!(#(#chain)*), message));
    }
    let message = match node {
        Node::Text(_) => {
            "a method chain cannot follow a string literal: make it a call, `Text(\"..\").key(..)`"
        }
        Node::Splice(_) => {
            "a method chain cannot follow a `{ .. }` splice: put it inside, `{value.key(..)}`"
        }
        _ => {
            "a method chain cannot follow a control node: wrap the node, \
             `Fragment { .. }.key(..)`"
        }
    };
    Err(if chain.is_empty() {
        Error::new(at, message)
    } else {
        Error::new_spanned(quote!(#(#chain)*), message)
    })
}

fn peek_method(input: ParseStream) -> bool {
    input.peek(Token![.]) && !input.peek(Token![..])
}

fn chain(input: ParseStream) -> Result<Vec<Method>> {
    let mut chain = Vec::new();
    while peek_method(input) {
        chain.push(input.parse()?);
    }
    Ok(chain)
}

impl Parse for Splice {
    fn parse(input: ParseStream) -> Result<Splice> {
        let content;
        let brace = braced!(content in input);
        if content.is_empty() {
            return Err(Error::new(
                brace.span.join(),
                "empty splice `{}`: put a value inside, or remove it",
            ));
        }
        let spread = if content.peek(Token![..]) && !content.peek(Token![..=]) {
            Some(content.parse()?)
        } else {
            None
        };
        Ok(Splice {
            brace,
            spread,
            stmts: content.call(syn::Block::parse_within)?,
        })
    }
}

impl Parse for Call {
    fn parse(input: ParseStream) -> Result<Call> {
        let path: syn::ExprPath = input.parse()?;
        let args: Option<Args> = if input.peek(token::Paren) {
            Some(input.parse()?)
        } else {
            None
        };
        let children = if args.is_none() && input.peek(token::Brace) {
            Some(input.parse()?)
        } else {
            None
        };
        if children.is_none() {
            reject_keyword_typo(input, &path, args.is_some())?;
        }
        let chain = chain(input)?;
        if args.is_none() && children.is_none() && !chain.is_empty() && input.peek(token::Brace) {
            let first = &chain[0].name;
            let path = &path.path;
            let name = quote!(#path).to_string().replace(' ', "");
            return Err(Error::new_spanned(
                quote!(#(#chain)*),
                format!(
                    "the method chain goes after the children: write `{name} {{ .. }}.{first}(..)`; \
                     `{{` right after `{name}` opens its children"
                ),
            ));
        }
        Ok(Call {
            path,
            args,
            children,
            chain,
        })
    }
}

/// `fro x in xs { .. }` or `match_tsk(h) { .. }`: a name one typo away from a keyword,
/// followed by what that keyword takes, is reported as the typo rather than as whatever
/// the following tokens fail to parse as.
fn reject_keyword_typo(input: ParseStream, path: &syn::ExprPath, has_args: bool) -> Result<()> {
    let Some(ident) = path.path.get_ident() else {
        return Ok(());
    };
    let looks_like_keyword = if has_args {
        input.peek(token::Brace)
    } else {
        !input.is_empty() && !input.peek(LitStr) && !input.peek(Token![.])
    };
    let candidates: &[&str] = if has_args {
        &[names::MATCH_TASK, names::MATCH_TASK_MANY]
    } else {
        &names::KEYWORDS[..3]
    };
    match names::suggest(&ident.to_string(), candidates) {
        Some(keyword) if looks_like_keyword && path.qself.is_none() => Err(Error::new_spanned(
            ident,
            format!("unknown keyword `{ident}`: did you mean `{keyword}`?"),
        )),
        _ => Ok(()),
    }
}

impl Parse for Args {
    fn parse(input: ParseStream) -> Result<Args> {
        let content;
        let paren = parenthesized!(content in input);
        Ok(Args {
            paren,
            exprs: content.parse_terminated(Expr::parse, Token![,])?,
        })
    }
}

impl Parse for Method {
    fn parse(input: ParseStream) -> Result<Method> {
        let dot = input.parse()?;
        let name: Ident = input.parse()?;
        let turbofish = if input.peek(Token![::]) {
            Some(AngleBracketedGenericArguments::parse_turbofish(input)?)
        } else {
            None
        };
        if !input.peek(token::Paren) {
            return Err(Error::new_spanned(
                &name,
                format!(
                    "expected `(` after `.{name}`: options are method calls, such as `.key(\"k\")`"
                ),
            ));
        }
        Ok(Method {
            dot,
            name,
            turbofish,
            args: input.parse()?,
        })
    }
}

impl Parse for If {
    fn parse(input: ParseStream) -> Result<If> {
        let if_token = input.parse()?;
        let cond = Expr::parse_without_eager_brace(input)?;
        let then = body(input, "if")?;
        let otherwise = if input.peek(Token![else]) {
            let else_token = input.parse()?;
            let otherwise = if input.peek(Token![if]) {
                Else::If(Box::new(input.parse()?))
            } else {
                Else::Block(body(input, "else")?)
            };
            Some((else_token, otherwise))
        } else {
            None
        };
        Ok(If {
            if_token,
            cond,
            then,
            otherwise,
        })
    }
}

impl Parse for For {
    fn parse(input: ParseStream) -> Result<For> {
        Ok(For {
            for_token: input.parse()?,
            pat: Pat::parse_multi_with_leading_vert(input)?,
            in_token: input.parse()?,
            expr: Expr::parse_without_eager_brace(input)?,
            body: body(input, "for")?,
        })
    }
}

impl Parse for Match {
    fn parse(input: ParseStream) -> Result<Match> {
        let match_token = input.parse()?;
        let expr = Expr::parse_without_eager_brace(input)?;
        let content;
        let brace = braced!(content in input);
        let mut arms = Vec::new();
        while !content.is_empty() {
            arms.push(content.parse()?);
        }
        Ok(Match {
            match_token,
            expr,
            brace,
            arms,
        })
    }
}

impl Parse for Arm {
    fn parse(input: ParseStream) -> Result<Arm> {
        let pat = Pat::parse_multi_with_leading_vert(input)?;
        let guard = if input.peek(Token![if]) {
            Some((input.parse()?, input.parse()?))
        } else {
            None
        };
        Ok(Arm {
            pat,
            guard,
            arrow: input.parse()?,
            body: body(input, "match")?,
            comma: input.parse()?,
        })
    }
}

impl Parse for Task {
    fn parse(input: ParseStream) -> Result<Task> {
        let kind = task_kind(input).unwrap_or(TaskKind::One);
        let keyword: Ident = input.parse()?;
        let content;
        let paren = parenthesized!(content in input);
        let usage = match kind {
            TaskKind::One => {
                "`match_task` takes one task handle, then options: `match_task(handle) { .. }` \
                 or `match_task(handle, delay = ..) { .. }`"
            }
            TaskKind::Many => {
                "`match_task_many` takes one tuple of handles or a slice, then options: \
                 `match_task_many((a, b)) { .. }` or `match_task_many(&handles[..]) { .. }`"
            }
        };
        if content.is_empty() {
            return Err(Error::new(paren.span.join(), usage));
        }
        let handles = content.parse()?;
        let mut options = Vec::new();
        while !content.is_empty() {
            let comma: Token![,] = content.parse()?;
            if content.is_empty() {
                break;
            }
            if !(content.peek(Ident) && content.peek2(Token![=]) && !content.peek2(Token![==])) {
                // Point at what follows the handle: another handle, or a malformed option.
                let rest: proc_macro2::TokenStream = content.parse()?;
                return Err(Error::new_spanned(rest, usage));
            }
            options.push(TaskOption {
                comma,
                name: content.parse()?,
                eq: content.parse()?,
                value: content.parse()?,
            });
        }
        let arms_content;
        let brace = braced!(arms_content in input);
        let mut arms = Vec::new();
        while !arms_content.is_empty() {
            arms.push(arms_content.parse()?);
        }
        Ok(Task {
            keyword,
            kind,
            paren,
            handles,
            options,
            brace,
            arms,
        })
    }
}

impl Parse for TaskArm {
    fn parse(input: ParseStream) -> Result<TaskArm> {
        let name: Ident = input.parse()?;
        let binding = if input.peek(token::Paren) {
            let content;
            let paren = parenthesized!(content in input);
            if content.is_empty() {
                return Err(Error::new(
                    paren.span.join(),
                    format!("empty `()`: bind a pattern, such as `{name}(value)`, or remove them"),
                ));
            }
            let pats = content.parse_terminated(Pat::parse_single, Token![,])?;
            Some((paren, pats))
        } else {
            None
        };
        if input.peek(Token![if]) {
            return Err(input.error(
                "`match_task` arms take no `if` guard: branch inside the arm's body instead",
            ));
        }
        Ok(TaskArm {
            name,
            binding,
            arrow: input.parse()?,
            body: body(input, "match_task")?,
            comma: input.parse()?,
        })
    }
}

/// The `{ .. }` block after a control keyword or arm, with an error that says so.
fn body(input: ParseStream, after: &str) -> Result<Block> {
    if input.peek(token::Brace) {
        return input.parse();
    }
    let what = match after {
        "match" | "match_task" => format!("the body of a `{after}` arm"),
        _ => format!("the body of `{after}`"),
    };
    Err(input.error(format!(
        "expected `{{`: {what} is a `{{ .. }}` block of nodes, such as `{{ Text(..) }}`"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(tokens: proc_macro2::TokenStream) -> Result<View> {
        syn::parse2(tokens)
    }

    fn error(tokens: proc_macro2::TokenStream) -> String {
        match parse(tokens) {
            Ok(_) => panic!("expected a parse error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn parses_every_node() {
        let view = parse(quote! {
            "text"
            {value}
            {..iter}
            {let x = 1; Text(x)}
            Greeting("a").key("k")
            Card { Text("in") }.key("c")
            path::to::Thing::<u8>()
            if let Some(x) = y { "a" } else if z { "b" } else { "c" }
            for (i, n) in names.iter().enumerate() { Text(n) }
            match v { Some(x) if x > 1 => { "big" }, _ => { "small" } }
            match_task(h) { loading => { "l" } ready(n) => { "r" }, }
            match_task_many((a, b)) { ready((x, y)) => { "r" } }
            match_task(h, delay = Duration::from_millis(200),) { ready(v, refreshing) => {} }
        })
        .unwrap();
        assert_eq!(view.nodes.len(), 13);
        assert!(
            matches!(&view.nodes[12], Node::Task(t) if t.options.len() == 1
            && t.arms[0].binding.as_ref().is_some_and(|(_, pats)| pats.len() == 2))
        );
        assert!(matches!(&view.nodes[6], Node::Call(c) if c.args.is_some()));
        assert!(matches!(&view.nodes[11], Node::Task(t) if t.kind == TaskKind::Many));
    }

    #[test]
    fn brace_after_call_args_is_a_splice() {
        let view = parse(quote!(Text("a") { x })).unwrap();
        assert_eq!(view.nodes.len(), 2);
    }

    #[test]
    fn rejects_misplaced_syntax() {
        assert!(error(quote!(Card.key("k") { "x" })).starts_with("the method chain goes after"));
        assert!(error(quote!("a".key("k"))).contains("string literal"));
        assert!(error(quote!({ x }.key("k"))).contains("splice"));
        assert!(error(quote!(for x in y {}.key("k"))).contains("control node"));
        assert!(error(quote!(fro x in xs { "a" })).contains("did you mean `for`"));
        assert!(error(quote!(match_tsk(h) { ready(x) => {} })).contains("`match_task`"));
        assert!(error(quote!(match_task_many(a, b) {})).contains("one tuple"));
        assert!(error(quote!(match_task(h, d) {})).contains("then options"));
        assert!(error(quote!(match_task(h) {}.delay(d))).contains("inside its parentheses"));
        assert!(error(quote!(match_task(h) { ready() => {} })).starts_with("empty `()`"));
        assert!(
            error(quote!(match x {
                _ => "a",
            }))
            .contains("`match` arm")
        );
        assert!(error(quote!(Page {}.title)).contains("expected `(` after `.title`"));
        assert!(error(quote!({})).starts_with("empty splice"));
        assert!(error(quote!(42)).starts_with("only string literals"));
    }
}

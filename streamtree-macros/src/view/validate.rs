//! The rules a parsed `view!` must follow. Reads the [`View`], never changes it; every
//! broken rule adds one error at the user's tokens, and all are reported together.

use syn::punctuated::Punctuated;
use syn::{Ident, Pat, Token};

use super::ast::{Block, Call, Else, If, Node, Task, TaskKind, View};
use super::names::{self, Binding};
use crate::errors::Errors;

pub(crate) fn view(view: &View) -> syn::Result<()> {
    let mut errors = Errors::default();
    nodes(&view.nodes, &mut errors);
    errors.finish()
}

fn nodes(nodes: &[Node], errors: &mut Errors) {
    for node in nodes {
        match node {
            Node::Text(_) | Node::Splice(_) => {}
            Node::Call(c) => call(c, errors),
            Node::If(i) => if_(i, errors),
            Node::For(f) => block(&f.body, errors),
            Node::Match(m) => m.arms.iter().for_each(|arm| block(&arm.body, errors)),
            Node::Task(t) => task(t, errors),
        }
    }
}

fn block(block: &Block, errors: &mut Errors) {
    nodes(&block.nodes, errors);
}

fn call(c: &Call, errors: &mut Errors) {
    if let Some(children) = &c.children {
        block(children, errors);
    } else if c.args.is_none() {
        let path = &c.path;
        let name = quote::quote!(#path).to_string().replace(' ', "");
        errors.add(
            path,
            &format!(
                "`{name}` alone is not a node: splice a value as `{{{name}}}`, call a function \
                 as `{name}(..)`, or give children as `{name} {{ .. }}`"
            ),
        );
    }
}

fn if_(i: &If, errors: &mut Errors) {
    block(&i.then, errors);
    match &i.otherwise {
        Some((_, Else::If(next))) => if_(next, errors),
        Some((_, Else::Block(b))) => block(b, errors),
        None => {}
    }
}

/// Every arm is known, appears once, and binds only what it may; `ready` is present.
fn task(t: &Task, errors: &mut Errors) {
    let keyword = match t.kind {
        TaskKind::One => names::MATCH_TASK,
        TaskKind::Many => names::MATCH_TASK_MANY,
    };
    options(t, keyword, errors);
    let known: Vec<&str> = names::ARMS.iter().map(|(name, ..)| *name).collect();
    let mut seen: Vec<&Ident> = Vec::new();
    let mut ready_misspelled = false;
    for arm in &t.arms {
        let name = arm.name.to_string();
        let Some((binding, binds)) = names::arm(&name) else {
            let hint = match names::suggest(&name, &known) {
                Some(s) => {
                    ready_misspelled |= s == "ready";
                    format!("did you mean `{s}`? ")
                }
                None => String::new(),
            };
            errors.add(
                &arm.name,
                &format!(
                    "unknown `{keyword}` arm `{name}`: {hint}the arms are `loading`, \
                     `ready(value)`, `error(message)` and `cancelled`"
                ),
            );
            continue;
        };
        if seen.iter().any(|s| **s == name) {
            errors.add(
                &arm.name,
                &format!(
                    "duplicate `{name}` arm in `{keyword}`: each arm appears once; remove this one"
                ),
            );
        } else {
            seen.push(&arm.name);
        }
        match (binding, &arm.binding) {
            (Binding::Forbidden, Some((_, pat))) => errors.add(
                pat,
                &format!("the `{name}` arm binds nothing: write `{name} => {{ .. }}`"),
            ),
            (Binding::Required, None) => errors.add(
                &arm.name,
                &format!(
                    "the `{name}` arm binds the task's value: write `{name}(value) => {{ .. }}`, \
                     or `{name}(_)` to ignore it"
                ),
            ),
            _ => {}
        }
        if let Some((_, pats)) = &arm.binding {
            extra_patterns(&name, binds, pats, errors);
        }
        block(&arm.body, errors);
    }
    if !ready_misspelled && !seen.iter().any(|s| *s == "ready") {
        errors.add(
            &t.keyword,
            &format!(
                "`{keyword}` has no `ready` arm: add `ready(value) => {{ .. }}` to show the \
                 finished task's value"
            ),
        );
    }
}

/// Each option is known and given once.
fn options(t: &Task, keyword: &str, errors: &mut Errors) {
    let mut seen: Vec<&Ident> = Vec::new();
    for option in &t.options {
        let name = option.name.to_string();
        if !names::OPTIONS.contains(&name.as_str()) {
            let hint = names::suggest(&name, names::OPTIONS)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            errors.add(
                &option.name,
                &format!(
                    "unknown `{keyword}` option `{name}`: {hint}the only option is \
                     `delay = <Duration>`, which hides the loading arm for that long"
                ),
            );
        } else if seen.iter().any(|s| **s == name) {
            errors.add(
                &option.name,
                &format!("`{name}` is given twice in `{keyword}`: remove this one"),
            );
        } else {
            seen.push(&option.name);
        }
    }
}

/// Patterns beyond what the arm binds (`binds`, in order) are reported together.
fn extra_patterns(
    name: &str,
    binds: &[&str],
    pats: &Punctuated<Pat, Token![,]>,
    errors: &mut Errors,
) {
    if binds.is_empty() || pats.len() <= binds.len() {
        // An arm that binds nothing is reported as such, above.
        return;
    }
    let extra: Vec<&Pat> = pats.iter().skip(binds.len()).collect();
    let message = match binds {
        [one] => format!("the `{name}` arm binds one pattern, the {one}: write `{name}({one})`"),
        _ => format!(
            "the `{name}` arm binds at most {} patterns: `{name}({})`",
            binds.len(),
            binds.join(", ")
        ),
    };
    errors.add(&quote::quote!(#(#extra),*), &message);
}

#[cfg(test)]
mod tests {
    use quote::quote;

    fn errors(tokens: proc_macro2::TokenStream) -> Vec<String> {
        let view = syn::parse2(tokens).unwrap();
        match super::view(&view) {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn accepts_every_arm() {
        let ok = errors(quote! {
            match_task(h) {
                loading(p) => { "l" }
                ready(v) => { "r" }
                error(e) => { "e" }
                cancelled => { "c" }
            }
            match_task_many((a, b)) { loading => {} ready(_) => {} error => {} }
        });
        assert_eq!(ok, Vec::<String>::new());
    }

    #[test]
    fn reports_every_arm_mistake_at_once() {
        let errs = errors(quote! {
            VStack {
                match_task(h) {
                    redy(v) => {}
                    loading => {}
                    loading(p) => {}
                    cancelled(x) => {}
                }
                match_task_many(hs) { ready => { name } }
            }
        });
        assert_eq!(errs.len(), 5, "{errs:#?}");
        assert!(errs[0].contains("did you mean `ready`?"));
        assert!(errs[1].starts_with("duplicate `loading` arm"));
        assert!(errs[2].starts_with("the `cancelled` arm binds nothing"));
        assert!(errs[3].starts_with("the `ready` arm binds the task's value"));
        assert!(errs[4].starts_with("`name` alone is not a node"));
    }

    #[test]
    fn checks_options_and_binding_counts() {
        let ok = errors(quote! {
            match_task(h, delay = d) { ready(v, refreshing) => {} }
            match_task_many(hs, delay = d) { ready(vs, _) => {} }
        });
        assert_eq!(ok, Vec::<String>::new());
        let errs = errors(quote! {
            match_task(h, dealy = d, delay = d, delay = e) {
                ready(v, r, extra) => {}
                loading(p, q) => {}
            }
        });
        assert_eq!(errs.len(), 4, "{errs:#?}");
        assert!(errs[0].contains("unknown `match_task` option `dealy`: did you mean `delay`?"));
        assert!(errs[1].starts_with("`delay` is given twice"));
        assert!(errs[2].contains("at most 2 patterns: `ready(value, refreshing)`"));
        assert!(errs[3].contains("one pattern, the progress"));
    }

    #[test]
    fn requires_ready() {
        let errs = errors(quote!(match_task(h) { loading => {} }));
        assert_eq!(errs.len(), 1);
        assert!(errs[0].starts_with("`match_task` has no `ready` arm"));
    }
}

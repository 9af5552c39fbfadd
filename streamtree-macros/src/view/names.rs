//! The fixed words of `view!`: control keywords and `match_task` arms, and the "did you
//! mean" lookup that turns a near miss into a hint.

/// Words that open a control node; a bare identifier close to one is reported as a typo.
pub(crate) const KEYWORDS: &[&str] = &["for", "if", "match", "match_task", "match_task_many"];

/// `match_task` / `match_task_many` keywords, as written by the user.
pub(crate) const MATCH_TASK: &str = "match_task";
pub(crate) const MATCH_TASK_MANY: &str = "match_task_many";

/// What a `match_task` arm may bind: nothing, something, or either.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Binding {
    Forbidden,
    Required,
    Optional,
}

/// Every `match_task` arm, in the order the docs list them, with its binding rule and
/// what its patterns bind, in order (so their number is the most it takes).
pub(crate) const ARMS: &[(&str, Binding, &[&str])] = &[
    ("loading", Binding::Optional, &["progress"]),
    ("ready", Binding::Required, &["value", "refreshing"]),
    ("error", Binding::Optional, &["message"]),
    ("cancelled", Binding::Forbidden, &[]),
];

/// The rule for arm `name` and what its patterns bind, if it is an arm.
pub(crate) fn arm(name: &str) -> Option<(Binding, &'static [&'static str])> {
    ARMS.iter()
        .find(|(n, ..)| *n == name)
        .map(|&(_, b, binds)| (b, binds))
}

/// `match_task` / `match_task_many` options (`name = value` after the handles).
pub(crate) const OPTIONS: &[&str] = &["delay"];

/// The candidate `word` most likely misspells: within one edit (a swap of neighbours counts
/// as one) for short candidates, two for longer ones. Single letters never match, so a
/// variable `i` is not taken for `if`.
pub(crate) fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    if word.chars().count() < 2 {
        return None;
    }
    candidates
        .iter()
        .map(|c| (distance(word, c), *c))
        .filter(|&(d, c)| d > 0 && d <= if c.len() <= 3 { 1 } else { 2 })
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of
/// adjacent characters each cost one.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        let arms: Vec<&str> = ARMS.iter().map(|(n, ..)| *n).collect();
        assert_eq!(suggest("redy", &arms), Some("ready"));
        assert_eq!(
            suggest("cancelled", &arms),
            None,
            "an exact match is no typo"
        );
        assert_eq!(suggest("canceled", &arms), Some("cancelled"));
        assert_eq!(suggest("lodaing", &arms), Some("loading"));
        assert_eq!(suggest("done", &arms), None);
        assert_eq!(suggest("fro", KEYWORDS), Some("for"));
        assert_eq!(suggest("fi", KEYWORDS), Some("if"));
        assert_eq!(suggest("mtach", KEYWORDS), Some("match"));
        assert_eq!(suggest("match_tsk", KEYWORDS), Some("match_task"));
        assert_eq!(suggest("i", KEYWORDS), None);
        assert_eq!(suggest("name", KEYWORDS), None);
        assert_eq!(suggest("dealy", OPTIONS), Some("delay"));
        assert_eq!(suggest("timeout", OPTIONS), None);
    }
}

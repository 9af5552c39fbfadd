//! Repository checks that `cargo xtask ci` relies on, as tests (rust-analyzer's tidy):
//! no pending or orphaned insta snapshots, and ARCHITECTURE.md names only real paths.

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Snapshot names written by one test file: `assert_*snapshot!("name", ..)` calls, and
/// calls of a local `snap("name", ..)` helper, which writes `name_text` and `name_html`.
fn snapshot_names(source: &str) -> Vec<String> {
    let mut names = literal_args(source, "snapshot!(");
    for name in literal_args(source, "snap(\"") {
        names.push(format!("{name}_text"));
        names.push(format!("{name}_html"));
    }
    names
}

/// The string literals that open the argument lists of `call` in `source`.
fn literal_args(source: &str, call: &str) -> Vec<String> {
    let call = call.trim_end_matches('"');
    let mut names = Vec::new();
    for (i, _) in source.match_indices(call) {
        let rest = &source[i + call.len()..];
        let rest = rest.trim_start();
        if let Some(rest) = rest.strip_prefix('"')
            && let Some(end) = rest.find('"')
        {
            names.push(rest[..end].to_string());
        }
    }
    names
}

#[test]
fn snapshots_are_reviewed_and_referenced() {
    let dir = root().join("tests/snapshots");
    let mut expected = Vec::new();
    for entry in fs::read_dir(root().join("tests")).unwrap() {
        let path = entry.unwrap().path();
        // This file mentions the macro name itself; it writes no snapshots.
        if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("tidy.rs") {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            for name in snapshot_names(&fs::read_to_string(&path).unwrap()) {
                expected.push(format!("{stem}__{name}.snap"));
            }
        }
    }
    let mut problems = Vec::new();
    for entry in fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".snap.new") || name.ends_with(".pending-snap") {
            problems.push(format!("pending snapshot {name}: run `cargo insta review`"));
        } else if !expected.contains(&name) {
            problems.push(format!(
                "orphaned snapshot {name}: no test writes it; delete it"
            ));
        }
    }
    for name in &expected {
        if !dir.join(name).exists() {
            problems.push(format!(
                "missing snapshot {name}: run the test and `cargo insta review`"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn architecture_names_only_existing_paths() {
    let text = fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let mut missing = Vec::new();
    for part in text.split('`').skip(1).step_by(2) {
        let looks_like_path = part.contains('/')
            && !part.contains(' ')
            && !part.starts_with("::")
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c));
        if looks_like_path && !root().join(part).exists() {
            missing.push(part.to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {missing:?}"
    );
}

/// Public items of the runtime crate whose doc comment has no example.
fn items_without_examples(dir: &Path, out: &mut Vec<String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            items_without_examples(&path, out);
            continue;
        }
        // `__private` is hidden and only for macro output.
        if path.extension().is_none_or(|e| e != "rs") || path.ends_with("private.rs") {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let item = line.trim_start();
            // Unit-test modules sit at the end of a file: nothing public after them.
            if item.starts_with("#[cfg(test)]") {
                break;
            }
            let is_item = [
                "pub fn ",
                "pub struct ",
                "pub enum ",
                "pub trait ",
                "pub type ",
                "pub const ",
            ]
            .iter()
            .any(|p| item.starts_with(p));
            if !is_item {
                continue;
            }
            let doc: Vec<&str> = lines[..i]
                .iter()
                .rev()
                .map(|l| l.trim_start())
                .take_while(|l| l.starts_with("///") || l.starts_with("#["))
                .collect();
            let hidden = doc
                .iter()
                .any(|l| l.starts_with("#[doc(hidden)]") || l.starts_with("#[cfg(doctest)]"));
            if !hidden && !doc.iter().any(|l| l.starts_with("/// ```")) {
                let rel = path.strip_prefix(root()).unwrap().display();
                out.push(format!(
                    "{rel}:{}: {}",
                    i + 1,
                    item.trim_end_matches(['{', ' '])
                ));
            }
        }
    }
}

#[test]
fn every_public_item_has_an_example() {
    let mut missing = Vec::new();
    items_without_examples(&root().join("streamtree/src"), &mut missing);
    assert!(
        missing.is_empty(),
        "public items without a `# Example` doctest (add one to the doc comment):\n{}",
        missing.join("\n")
    );
}

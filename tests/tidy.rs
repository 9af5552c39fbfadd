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

/// The layers of `streamtree/src`, lowest first (ARCHITECTURE.md shows the same ladder):
/// each entry is a layer's name and the files and folders (relative to `src/`) it holds.
/// `lib.rs` and `private.rs` are facades over every layer and belong to none.
const LADDER: &[(&str, &[&str])] = &[
    (
        "runtime",
        &["runtime/", "asyncio.rs", "jobs/", "worker.rs", "worker/"],
    ),
    (
        "element",
        &[
            "element/",
            "elements.rs",
            "elements/",
            "loading.rs",
            "loading/",
        ],
    ),
    ("session", &["session/"]),
    ("render", &["render/", "tree.rs"]),
    ("live and testing", &["live/", "testing.rs"]),
];

/// Edges that break the ladder today and are being removed by work in flight, as
/// (file, module it names). The test fails once an edge is gone, so the entry is deleted
/// with it.
const LADDER_EXCEPTIONS: &[(&str, &str)] = &[];

/// The layer (index into `LADDER`) of a path relative to `src/`, or of a top-level
/// module named in `crate::<module>`.
fn layer_of(rel: &str) -> Option<usize> {
    LADDER.iter().position(|(_, parts)| {
        parts.iter().any(|p| match p.strip_suffix('/') {
            Some(dir) => rel == dir || rel.starts_with(p),
            None => rel == *p || rel == p.trim_end_matches(".rs"),
        })
    })
}

/// The layer of what `crate::<name>` names: a module, or an item `lib.rs` re-exports
/// from one (`pub use session::{Session, ..}` puts `Session` in the session layer).
fn layer_of_name(name: &str, lib: &str) -> Option<usize> {
    if let Some(layer) = layer_of(name) {
        return Some(layer);
    }
    for line in lib.lines() {
        let Some(rest) = line.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, items)) = rest.split_once("::") else {
            continue;
        };
        let exported = items
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .any(|item| item == name);
        if exported {
            return layer_of(module);
        }
    }
    None
}

/// Every `crate::<module>` a file's code names (comments and `#[cfg(test)]` modules
/// excluded: docs may point anywhere, and unit tests may observe through higher layers).
fn crate_modules_named(source: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = source.lines().collect();
    let mut named = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let code = lines[i].trim_start();
        if code.starts_with("#[cfg(test)]") || code.starts_with("#[cfg(all(test") {
            // `mod tests;` declarations are skipped; an inline test module ends the file.
            if lines
                .get(i + 1)
                .is_some_and(|l| l.trim_end().ends_with(';'))
            {
                i += 1;
                continue;
            }
            break;
        }
        if code.starts_with("//") {
            i += 1;
            continue;
        }
        for (at, _) in code.match_indices("crate::") {
            // Also catches `$crate::`, the macro form of the same path.
            named.push((i + 1, leading_ident(&code[at + "crate::".len()..])));
        }
        // `use crate::{a::.., b::{..}}`, on one line or several, names each `a`, `b`.
        if let Some(at) = code.find("crate::{") {
            let start = i + 1;
            let mut group = String::new();
            let mut rest = &code[at + "crate::{".len()..];
            let mut depth = 1;
            loop {
                for c in rest.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    if depth == 0 {
                        break;
                    }
                    // Keep only the top level: `b::{x, y}` leaves `b::`.
                    if depth == 1 && c != '}' {
                        group.push(c);
                    }
                }
                if depth == 0 || i + 1 >= lines.len() {
                    break;
                }
                i += 1;
                group.push(' ');
                rest = lines[i].trim();
            }
            for part in group.split(',') {
                named.push((start, leading_ident(part.trim())));
            }
        }
        i += 1;
    }
    named
}

/// The identifier `text` starts with.
fn leading_ident(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn layers_form_a_ladder() {
    let src = root().join("streamtree/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let lib = fs::read_to_string(src.join("lib.rs")).unwrap();
    let mut problems = Vec::new();
    let mut used_exceptions = Vec::new();
    for path in files {
        let rel = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel == "lib.rs" || rel == "private.rs" {
            continue;
        }
        // Test-only files sit beside the module they test.
        if rel.ends_with("/tests.rs") || rel.ends_with("/loom.rs") {
            continue;
        }
        let Some(own) = layer_of(&rel) else {
            problems.push(format!(
                "streamtree/src/{rel} is in no layer: add it to `LADDER` in tests/tidy.rs \
                 and to the ladder in ARCHITECTURE.md"
            ));
            continue;
        };
        for (line, module) in crate_modules_named(&fs::read_to_string(&path).unwrap()) {
            let Some(named) = layer_of_name(&module, &lib) else {
                continue;
            };
            if named <= own {
                continue;
            }
            if LADDER_EXCEPTIONS.contains(&(rel.as_str(), module.as_str())) {
                used_exceptions.push((rel.clone(), module));
                continue;
            }
            problems.push(format!(
                "streamtree/src/{rel}:{line}: the {} layer names `crate::{module}`, which is \
                 in the higher {} layer; move what it needs down (or invert the call: the \
                 higher layer passes it in), as ARCHITECTURE.md's ladder says",
                LADDER[own].0, LADDER[named].0
            ));
        }
    }
    for (file, module) in LADDER_EXCEPTIONS {
        if !used_exceptions
            .iter()
            .any(|(f, m)| f == file && m == module)
        {
            problems.push(format!(
                "streamtree/src/{file} no longer names `crate::{module}`: delete its entry \
                 from `LADDER_EXCEPTIONS` in tests/tidy.rs"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

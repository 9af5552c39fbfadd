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

/// Snapshot names used by `assert_*snapshot!("name", ..)` calls in one test file.
fn snapshot_names(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (i, _) in source.match_indices("snapshot!(") {
        let rest = &source[i + "snapshot!(".len()..];
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

//! Checks the dependency invariants of docs/ARCHITECTURE.md against `cargo metadata`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

fn workspace_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// crate → allowed workspace dependencies, from the doc's dependency table.
fn allowed_from_doc() -> BTreeMap<String, BTreeSet<String>> {
    let doc = std::fs::read_to_string(workspace_root().join("docs/ARCHITECTURE.md")).unwrap();
    let table = doc
        .split("## Dependency table")
        .nth(1)
        .expect("doc has a dependency table");
    table
        .lines()
        .filter(|l| l.starts_with('|') && !l.contains("---") && !l.contains("may depend on"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let allowed = cells[1]
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
            (cells[0].to_owned(), allowed)
        })
        .collect()
}

#[test]
fn crates_depend_only_on_what_the_architecture_allows() {
    let allowed = allowed_from_doc();
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let members: BTreeSet<String> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(members.len() >= 4);
    for package in packages {
        let name = package["name"].as_str().unwrap();
        let permitted = allowed.get(name).unwrap_or_else(|| {
            panic!("crate `{name}` is missing from the dependency table in docs/ARCHITECTURE.md")
        });
        for dep in package["dependencies"].as_array().unwrap() {
            let dep_name = dep["name"].as_str().unwrap();
            let is_normal = dep["kind"].is_null();
            if is_normal && members.contains(dep_name) {
                assert!(
                    permitted.contains(dep_name),
                    "`{name}` depends on `{dep_name}`, which docs/ARCHITECTURE.md does not allow"
                );
            }
        }
    }
}

#[test]
fn every_crate_has_a_codemap_entry() {
    let doc = std::fs::read_to_string(workspace_root().join("docs/ARCHITECTURE.md")).unwrap();
    for entry in std::fs::read_dir(workspace_root().join("crates")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            doc.contains(&format!("**`{name}`**")),
            "docs/ARCHITECTURE.md has no codemap entry for `{name}`"
        );
    }
}

//! The reviewed snapshots in `snapshots/`: the monitoring plan of the example
//! registry, and every artefact rendered from each fixture registry in
//! `xtask/tests/fixtures/`, so template changes show up even where the example
//! registry does not exercise them.
//!
//! The insta test (`xtask/tests/snapshots.rs`) writes and reviews them;
//! `cargo xtask check` compares them here, in process, with the same texts, and
//! rejects snapshot files nothing produces.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::write::diff;
use crate::{Failure, generate};

pub const DIR: &str = "snapshots";
pub const FIXTURES: &str = "xtask/tests/fixtures";

/// The fixture registries (each a folder of YAML files), sorted.
pub fn fixtures(root: &Path) -> Result<Vec<(String, PathBuf)>, Failure> {
    let dir = root.join(FIXTURES);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| Failure::Io(format!("cannot read {}: {e}", dir.display())))?
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    out.sort();
    Ok(out)
}

/// Every snapshot by name (the file is `snapshots/<name>.snap`) with its text.
pub fn expected(root: &Path) -> Result<Vec<(String, String)>, Failure> {
    let plan = generate(&root.join("registry"), &root.join("templates"))?.plan;
    expected_with_plan(root, plan)
}

/// The snapshots, given the example registry's plan (check has rendered it already).
pub fn expected_with_plan(root: &Path, plan: String) -> Result<Vec<(String, String)>, Failure> {
    let templates = root.join("templates");
    let mut snaps = vec![("plan".to_owned(), plan)];
    for (name, dir) in fixtures(root)? {
        let g = generate(&dir, &templates)?;
        let mut text = format!("=== plan ===\n{}", g.plan);
        for o in &g.outputs {
            let _ = write!(text, "\n=== {} ===\n{}", o.path, o.contents);
        }
        snaps.push((format!("fixture-{name}"), text));
    }
    Ok(snaps)
}

/// The body of an insta `.snap` file: what follows its `---` header.
pub fn snap_body(file: &str) -> Option<&str> {
    let rest = file.strip_prefix("---\n")?;
    let end = rest.find("\n---\n")?;
    Some(&rest[end + 5..])
}

/// Differences between the snapshot files and what the code produces now.
pub fn check(root: &Path, plan: String) -> Result<Vec<(String, String)>, Failure> {
    let dir = root.join(DIR);
    let mut drift = Vec::new();
    let expected = expected_with_plan(root, plan)?;
    for (name, text) in &expected {
        let path = format!("{DIR}/{name}.snap");
        let on_disk = std::fs::read_to_string(dir.join(format!("{name}.snap"))).ok();
        let body = on_disk.as_deref().and_then(snap_body);
        // insta trims trailing newlines when it stores a snapshot.
        if body.map(str::trim_end) != Some(text.trim_end()) {
            drift.push((path.clone(), diff(&path, body, text)));
        }
    }
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let mut unreferenced: Vec<String> = entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|f| !expected.iter().any(|(n, _)| *f == format!("{n}.snap")))
            .collect();
        unreferenced.sort();
        for f in unreferenced {
            drift.push((
                format!("{DIR}/{f}"),
                "unreferenced snapshot: nothing produces it; delete it\n".into(),
            ));
        }
    }
    Ok(drift)
}

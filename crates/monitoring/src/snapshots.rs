//! The reviewed snapshots in `xtask/snapshots/`: the monitoring plan of the project's
//! registry, and the plan and every artefact rendered from each fixture
//! registry in `fixtures/` (`fixture-<name>/<artefact>.snap`, one
//! file each), so template changes show up even where the project's registry
//! does not exercise them.
//!
//! `cargo xtask gen` writes them with the rest (one command brings everything up
//! to date) and `cargo xtask check` compares them; a reviewer reads their diff.
//! The folder has a manifest of its own, like the output folder: gen deletes
//! only a snapshot it wrote and no longer produces, never a person's file.

use std::path::{Path, PathBuf};

use crate::output::{Format, GENERATED_BY, Output};
use crate::{Failure, generate};

pub const DIR: &str = "xtask/snapshots";
pub const FIXTURES: &str = "fixtures";
const EXT: &str = ".snap";

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

/// A snapshot in insta's file format (YAML front matter, then the body), so
/// `cargo insta review`, `accept` and `pending-snapshots` work on them; the
/// description says where it comes from and that gen writes it.
fn snapshot(path: String, from: &str, body: &str) -> Output {
    let description = serde_json::to_string(&format!(
        "{GENERATED_BY} from {from}; do not edit (cargo xtask gen writes it, cargo insta accept takes a pending one)"
    ))
    .unwrap_or_default();
    Output {
        path,
        format: Format::Text,
        contents: format!(
            "---\nsource: crates/monitoring/src/snapshots.rs\ndescription: {description}\n---\n{}\n",
            body.trim_end_matches('\n')
        ),
    }
}

/// Every snapshot as an output with a path relative to `xtask/snapshots/`, given
/// the example registry's plan (gen and check have rendered it already).
pub fn outputs(root: &Path, plan: &str) -> Result<Vec<Output>, Failure> {
    let templates = root.join("templates");
    let mut snaps = vec![snapshot(
        format!("plan{EXT}"),
        "registry/ (the monitoring plan)",
        plan,
    )];
    // One snapshot per artefact of each fixture, so a diff's hunk says which
    // file of which fixture a template change touched.
    for (name, dir) in fixtures(root)? {
        let g = generate(&dir, &templates)?;
        snaps.push(snapshot(
            format!("fixture-{name}/plan{EXT}"),
            &format!("{FIXTURES}/{name}/ (the monitoring plan)"),
            &g.plan,
        ));
        for o in &g.outputs {
            snaps.push(snapshot(
                format!("fixture-{name}/{}{EXT}", o.path),
                &format!("{FIXTURES}/{name}/ ({})", o.path),
                &o.contents,
            ));
        }
    }
    Ok(snaps)
}

/// insta's name for a snapshot waiting for review beside `<name>.snap`.
const PENDING: &str = ".new";

/// Check: each stale snapshot's expected text as `<name>.snap.new`, insta's
/// pending snapshot, for `cargo insta review` or `cargo insta accept` (the
/// only files check writes; ignored by git, never drift). Returns their paths.
pub fn write_pending(
    dir: &Path,
    expected: &[Output],
    stale: &[String],
) -> Result<Vec<String>, Failure> {
    let mut written = Vec::new();
    for o in expected.iter().filter(|o| stale.contains(&o.path)) {
        let path = dir.join(format!("{}{PENDING}", o.path));
        crate::write::write_atomic(&path, o.contents.as_bytes())?;
        written.push(format!("{DIR}/{}{PENDING}", o.path));
    }
    Ok(written)
}

/// Gen: a pending snapshot that says exactly what gen now wrote has been
/// taken; it goes (any other pending file is a person's and stays).
pub fn drop_taken(dir: &Path, written: &[Output]) -> Result<(), Failure> {
    for o in written {
        let path = dir.join(format!("{}{PENDING}", o.path));
        crate::write::remove_if_same(&path, o.contents.as_bytes())?;
    }
    Ok(())
}

//! The reviewed snapshots in `snapshots/`: the monitoring plan of the example
//! registry, and every artefact rendered from each fixture registry in
//! `xtask/tests/fixtures/`, so template changes show up even where the example
//! registry does not exercise them.
//!
//! `cargo xtask gen` writes them with the rest (one command brings everything up
//! to date) and `cargo xtask check` compares them; a reviewer reads their diff.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::output::{Format, Output};
use crate::{Failure, generate};

pub const DIR: &str = "snapshots";
pub const FIXTURES: &str = "xtask/tests/fixtures";
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

/// Every snapshot as an output with a path relative to the project root, given
/// the example registry's plan (gen and check have rendered it already).
pub fn outputs(root: &Path, plan: &str) -> Result<Vec<Output>, Failure> {
    let templates = root.join("templates");
    let mut snaps = vec![Output::new(
        format!("{DIR}/plan{EXT}"),
        Format::Text,
        "registry/ (the monitoring plan)",
        plan,
    )];
    for (name, dir) in fixtures(root)? {
        let g = generate(&dir, &templates)?;
        let mut text = format!("=== plan ===\n{}", g.plan);
        for o in &g.outputs {
            let _ = write!(text, "\n=== {} ===\n{}", o.path, o.contents);
        }
        snaps.push(Output::new(
            format!("{DIR}/fixture-{name}{EXT}"),
            Format::Text,
            &format!("{FIXTURES}/{name}/ (every artefact)"),
            &text,
        ));
    }
    Ok(snaps)
}

/// What is in `snapshots/` besides the expected snapshots.
#[derive(Debug, Default)]
pub struct Others {
    /// `*.snap` files nothing produces any more: gen deletes them.
    pub stale: Vec<String>,
    /// Leftovers of review tools (`*.snap.new`, `*.pending-snap`): never drift;
    /// gen deletes them.
    pub leftovers: Vec<String>,
}

pub fn others(root: &Path, expected: &[Output]) -> Others {
    let mut o = Others::default();
    let Ok(entries) = std::fs::read_dir(root.join(DIR)) else {
        return o;
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let path = format!("{DIR}/{name}");
        if name.ends_with(".snap.new") || name.ends_with(".pending-snap") {
            o.leftovers.push(path);
        } else if name.ends_with(EXT) && !expected.iter().any(|e| e.path == path) {
            o.stale.push(path);
        }
    }
    o
}

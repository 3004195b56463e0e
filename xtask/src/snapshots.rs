//! The reviewed snapshots in `snapshots/`: the monitoring plan of the project's
//! registry, and the plan and every artefact rendered from each fixture
//! registry in `xtask/tests/fixtures/` (`fixture-<name>/<artefact>.snap`, one
//! file each), so template changes show up even where the project's registry
//! does not exercise them.
//!
//! `cargo xtask gen` writes them with the rest (one command brings everything up
//! to date) and `cargo xtask check` compares them; a reviewer reads their diff.
//! The folder has a manifest of its own, like the output folder: gen deletes
//! only a snapshot it wrote and no longer produces, never a person's file.

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

/// Every snapshot as an output with a path relative to `snapshots/`, given
/// the example registry's plan (gen and check have rendered it already).
pub fn outputs(root: &Path, plan: &str) -> Result<Vec<Output>, Failure> {
    let templates = root.join("templates");
    let mut snaps = vec![Output::new(
        format!("plan{EXT}"),
        Format::Text,
        "registry/ (the monitoring plan)",
        plan,
    )];
    // One snapshot per artefact of each fixture, so a diff's hunk says which
    // file of which fixture a template change touched.
    for (name, dir) in fixtures(root)? {
        let g = generate(&dir, &templates)?;
        snaps.push(Output::new(
            format!("fixture-{name}/plan{EXT}"),
            Format::Text,
            &format!("{FIXTURES}/{name}/ (the monitoring plan)"),
            &g.plan,
        ));
        for o in &g.outputs {
            snaps.push(Output::new(
                format!("fixture-{name}/{}{EXT}", o.path),
                Format::Text,
                &format!("{FIXTURES}/{name}/ ({})", o.path),
                &o.contents,
            ));
        }
    }
    Ok(snaps)
}

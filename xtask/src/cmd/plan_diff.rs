//! `cargo xtask plan-diff BASE`: what the change from the plan snapshot BASE
//! (the base branch's `xtask/snapshots/plan.snap`) to the current one does to
//! monitoring, as markdown appended to `$GITHUB_STEP_SUMMARY` (a pull
//! request's job summary) or printed when that is not set.

use std::io::Write as _;
use std::path::Path;

use crate::{Failure, outln, project_root};
use monitoring::snapshots;

/// The plan snapshot's header line, which names no monitoring.
fn body(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("# "))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn run(base: &Path) -> Result<bool, Failure> {
    let read = |p: &Path| {
        std::fs::read_to_string(p)
            .map_err(|e| Failure::Io(format!("cannot read {}: {e}", p.display())))
    };
    // An empty base (a new repository, a base branch without the snapshot)
    // makes everything new.
    let before = read(base)?;
    let current = project_root().join(snapshots::DIR).join("plan.snap");
    let after = read(&current)?;
    let text = monitoring::plan_diff::summary(&body(&before), &body(&after))
        .unwrap_or_else(|| "### What this change does to monitoring\n\nNothing: the monitoring plan is unchanged.\n".into());
    match std::env::var_os("GITHUB_STEP_SUMMARY") {
        Some(file) => {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&file)
                .map_err(|e| {
                    Failure::Io(format!(
                        "cannot open $GITHUB_STEP_SUMMARY ({}): {e}",
                        Path::new(&file).display()
                    ))
                })?;
            writeln!(f, "{text}")
                .map_err(|e| Failure::Io(format!("cannot write $GITHUB_STEP_SUMMARY: {e}")))?;
            outln!("plan-diff: the summary is in the job summary ($GITHUB_STEP_SUMMARY)");
        }
        None => outln!("{}", text.trim_end()),
    }
    Ok(true)
}

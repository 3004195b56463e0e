//! `cargo xtask discover`: what runs (kubectl, docker over ssh) against the registry.

use std::path::Path;
use std::time::Duration;

use crate::cmd::generate::Folders;
use crate::discover;
use crate::flags::Paths;
use crate::{Failure, outln};

pub fn run(
    paths: &Paths,
    inventory: Option<&Path>,
    strict: bool,
    timeout_seconds: u64,
) -> Result<bool, Failure> {
    let f = Folders::resolve(paths);
    let (registry, _, _) = monitoring::load(&f.registry, &f.templates)?;
    let inventory = match inventory {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Failure::Io(format!("cannot read {}: {e}", file.display())))?;
            discover::from_file(&text, &discover::docker_hosts(&registry))
                .map_err(|e| Failure::Io(format!("{}: {e}", file.display())))?
        }
        None => discover::live(&registry, Duration::from_secs(timeout_seconds)),
    };
    let report = discover::reconcile(&registry, &inventory);
    for (place, error) in &report.unreachable {
        let level = if strict { "error" } else { "warning" };
        outln!("{level}: cannot list {place}: {error}");
    }
    if report.unregistered.is_empty() {
        outln!("running and registered: every workload found is in the registry or ignored");
    } else {
        outln!(
            "running but not in the registry ({}):",
            report.unregistered.len()
        );
        for w in &report.unregistered {
            outln!("  {}", w.label());
        }
    }
    if !report.not_running.is_empty() {
        outln!(
            "warning: in the registry but not running ({}):",
            report.not_running.len()
        );
        for s in &report.not_running {
            outln!("  {s}");
        }
    }
    if !report.ignored.is_empty() {
        outln!(
            "ignored by settings.discovery.ignore ({}):",
            report.ignored.len()
        );
        for w in &report.ignored {
            outln!("  {}", w.label());
        }
    }
    let failed = !report.unregistered.is_empty() || (strict && !report.unreachable.is_empty());
    if !report.unregistered.is_empty() {
        outln!("\nadd them to the registry (or to settings.discovery.ignore)");
    }
    Ok(!failed)
}

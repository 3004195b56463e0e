//! The SLO peer, slokit (a Sloth-compatible generator on crates.io), pinned
//! and installed on demand into `target/peers/` (ignored, and removed with
//! `cargo clean`), for the comparison test and the bench.

use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) const SLOKIT_VERSION: &str = "1.9.0";

/// slokit's binary, installed from crates.io with `cargo install` when it is
/// not there yet (about three minutes on two cores).
pub fn slokit(project_root: &Path) -> Result<PathBuf, String> {
    let dir = project_root
        .join("target/peers")
        .join(format!("slokit-{SLOKIT_VERSION}"));
    let bin = dir.join("bin/slokit");
    if bin.is_file() {
        return Ok(bin);
    }
    // One install at a time: the tests that need it run side by side (and
    // the bench may too); the others wait, then find it installed.
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let lock_path = dir.with_extension("lock");
    let lock = std::fs::File::create(&lock_path)
        .map_err(|e| format!("cannot create {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
    if bin.is_file() {
        return Ok(bin);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "install",
            "--quiet",
            "slokit",
            "--version",
            SLOKIT_VERSION,
            "--root",
        ])
        .arg(&dir)
        .output()
        .map_err(|e| format!("cannot run cargo install: {e}"))?;
    if !out.status.success() || !bin.is_file() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last: Vec<&str> = err.lines().rev().take(5).collect();
        return Err(format!(
            "installing slokit {SLOKIT_VERSION} from crates.io failed: {}",
            last.into_iter().rev().collect::<Vec<_>>().join("\n")
        ));
    }
    Ok(bin)
}

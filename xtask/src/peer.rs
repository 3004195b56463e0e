//! The peers, pinned and installed on demand into `target/peers/` (ignored,
//! and removed with `cargo clean`): the SLO peer slokit (a Sloth-compatible
//! generator on crates.io), for the comparison test and the bench, and the
//! design document's Python generator, for the bench.

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

/// The design document's Python generator (PyYAML with libyaml, Jinja2),
/// pinned, in a virtual environment under `target/peers/`.
pub(crate) const DESIGN_PEER_PACKAGES: [&str; 2] = ["PyYAML==6.0.3", "Jinja2==3.1.6"];

/// The Python of that environment and the peer script written beside it,
/// created with `python3 -m venv` and pip from PyPI when missing.
pub fn design_peer(project_root: &Path) -> Result<(PathBuf, PathBuf), String> {
    let dir = project_root.join("target/peers/design-python");
    let python = dir.join("bin/python");
    let script = dir.join("design_peer.py");
    let run = |cmd: &mut Command| -> Result<(), String> {
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        let err = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "{cmd:?} failed: {}",
            err.lines().last().unwrap_or("")
        ))
    };
    if !python.is_file() {
        run(Command::new("python3").args(["-m", "venv"]).arg(&dir))?;
    }
    let check = Command::new(&python)
        .args(["-c", "import yaml, jinja2; assert yaml.__with_libyaml__"])
        .output();
    if !check.is_ok_and(|o| o.status.success()) {
        run(Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(DESIGN_PEER_PACKAGES))?;
    }
    std::fs::write(&script, include_str!("cmd/bench/design_peer.py"))
        .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    Ok((python, script))
}

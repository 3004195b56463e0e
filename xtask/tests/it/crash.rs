//! Crash safety: gen killed with SIGKILL at many moments while it writes a
//! large registry's output never leaves a torn file (each is wholly old or
//! wholly new); check then reports the drift and a new gen repairs it.

use crate::common::*;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Instant;

fn outputs(reg: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    let g = monitoring::generate(reg, &root().join("templates")).unwrap_or_else(|e| panic!("{e}"));
    g.outputs
        .into_iter()
        .map(|o| (o.path, o.contents.into_bytes()))
        .collect()
}

#[test]
fn killed_gen_never_leaves_a_torn_file() {
    let t = TempDir::new("crash");
    let (old_reg, new_reg, out) = (t.join("old"), t.join("new"), t.join("out"));
    std::fs::create_dir_all(&old_reg).unwrap();
    std::fs::create_dir_all(&new_reg).unwrap();
    let old_text = xtask::cmd::bench::synthetic_registry(600);
    std::fs::write(old_reg.join("r.yaml"), &old_text).unwrap();
    // Every rule file changes: another threshold, another `for`.
    let new_text = old_text
        .replace("threshold: 0.8", "threshold: 0.7")
        .replace(
            "alerts: [runner_offline]",
            "alerts: [{name: runner_offline, for: 7m}]",
        );
    std::fs::write(new_reg.join("r.yaml"), &new_text).unwrap();
    let (old, new) = (outputs(&old_reg), outputs(&new_reg));

    // `xtask <cmd>` on a registry and the shared output folder.
    let command = |cmd: &str, reg: &std::path::Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
        c.args([
            cmd,
            "--registry",
            &reg.to_string_lossy(),
            "--out",
            &out.to_string_lossy(),
        ]);
        c.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        c
    };
    let run_gen = |reg: &std::path::Path| command("gen", reg).output().unwrap();
    let check = |reg: &std::path::Path| command("check", reg).output().unwrap();
    assert!(run_gen(&old_reg).status.success());
    let start = Instant::now();
    assert!(run_gen(&new_reg).status.success());
    let full = start.elapsed();
    assert!(run_gen(&old_reg).status.success());

    let mut kills = 0;
    for i in 0..12u32 {
        let delay = full.mul_f64(f64::from(i) / 12.0);
        let mut child = command("gen", &new_reg).spawn().unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            kills += 1;
        }
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait();
        for (path, bytes) in tree(&out) {
            let leaf = path.rsplit('/').next().unwrap();
            if leaf.starts_with('.') && leaf.ends_with(".tmp") || leaf == monitoring::write::LOCK {
                continue; // a temporary file or the lock, never an output
            }
            let whole = old.get(&path) == Some(&bytes) || new.get(&path) == Some(&bytes);
            assert!(whole, "{path} is torn after a kill at {delay:?}");
        }
        // Back to the old state for the next round, so every kill lands mid-write.
        assert!(run_gen(&old_reg).status.success());
    }
    assert!(
        kills >= 6,
        "only {kills} runs were killed mid-way; the registry is too small for this machine"
    );

    // A last kill mid-way, then check sees the drift and gen repairs it.
    let mut child = command("gen", &new_reg).spawn().unwrap();
    std::thread::sleep(full / 2);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        check(&new_reg).status.code(),
        Some(1),
        "check must report the half-done state"
    );
    assert!(run_gen(&new_reg).status.success());
    let c = check(&new_reg);
    assert_eq!(c.status.code(), Some(0), "{}", text(&c));
    assert!(
        !tree(&out).iter().any(|(p, _)| p.ends_with(".tmp")),
        "temporary files left behind"
    );
}

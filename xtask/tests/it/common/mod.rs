//! Helpers shared by the integration tests: temporary folders, running the
//! xtask binary, and requiring external tools.
#![allow(dead_code)]

pub mod openapi;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

pub fn root() -> PathBuf {
    xtask::project_root()
}

/// A fresh folder under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("xtask-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs the xtask binary with `args`.
pub fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("run xtask")
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs promtool with `args` (in `cwd`, else here); fails the test with
/// `what` and promtool's output unless it succeeds.
pub fn promtool_ok<S: AsRef<std::ffi::OsStr>>(
    args: impl IntoIterator<Item = S>,
    cwd: Option<&Path>,
    what: &str,
) {
    let mut c = Command::new("promtool");
    c.args(args);
    if let Some(dir) = cwd {
        c.current_dir(dir);
    }
    let out = c.output().expect("run promtool");
    assert!(out.status.success(), "{what}: promtool: {}", text(&out));
}

/// Whether `tool` can run. Missing, it fails the test under `CI=true` and
/// prints a SKIP line otherwise.
pub fn require_tool(tool: &str, package: &str) -> bool {
    let found = Command::new(tool).arg("--version").output().is_ok();
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "{tool} is missing under CI=true: .ci/run must install the Debian package {package}"
            );
        }
        eprintln!(
            "SKIP: {tool} not found (install the Debian package {package}); this check runs in CI"
        );
    }
    found
}

/// Every file under `dir` as (relative path, bytes), sorted; none when `dir`
/// does not exist (a registry without k8s services has no `kubernetes/`).
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    if !dir.exists() {
        return out;
    }
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read(entry.path()).unwrap()));
        }
    }
    out
}

/// The tests' own copy of the example registry: tests that check facts about
/// one registry read it, so `registry/` is the team's to change.
pub fn example() -> PathBuf {
    root().join("xtask/example")
}

/// The example's YAML files copied into `to` (not its README).
pub fn copy_example(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(example()).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "yaml") {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
}

/// Whether an output path is a Prometheus config: `prometheus/prometheus.yml`,
/// or with `settings.prometheus.shards` one `prometheus/shard-N.prometheus.yml` each.
pub fn is_prometheus_config(path: &str) -> bool {
    path.strip_prefix("prometheus/")
        .is_some_and(|f| !f.contains('/') && f.ends_with("prometheus.yml"))
}

/// Every registry the tests render: the project's own (whatever it holds)
/// and each fixture.
pub fn registries() -> Vec<PathBuf> {
    let mut dirs = vec![root().join("registry")];
    dirs.extend(
        monitoring::snapshots::fixtures(&root())
            .unwrap()
            .into_iter()
            .map(|(_, d)| d),
    );
    dirs
}

/// Runs `xtask gen` for `reg` into a fresh folder.
pub fn gen_into(reg: &Path) -> TempDir {
    let t = TempDir::new("gen");
    let out = xtask(&[
        "gen",
        "--registry",
        &reg.to_string_lossy(),
        "--out",
        &t.0.to_string_lossy(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    t
}

/// `xtask <cmd> --registry REG --out OUT`.
pub fn on(cmd: &str, reg: &Path, out: &Path) -> Output {
    xtask(&[
        cmd,
        "--registry",
        &reg.to_string_lossy(),
        "--out",
        &out.to_string_lossy(),
    ])
}

/// slokit, the SLO peer, installed into `target/peers/` on first use. Where it
/// cannot be installed (offline) the check is skipped visibly, and fails under
/// `CI=true`.
pub fn require_slokit() -> Option<PathBuf> {
    match xtask::peer::slokit(&root()) {
        Ok(bin) => Some(bin),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("slokit is needed under CI=true: {e}")
        }
        Err(e) => {
            eprintln!("SKIP: {e}; this check runs in CI");
            None
        }
    }
}

/// A registry of one service, `api`, with one 99.9 % endpoint `GET /x`
/// (`endpoint` adds fields to it) and `settings` (indented lines).
pub fn one_slo_registry(settings: &str, endpoint: &str) -> TempDir {
    let t = TempDir::new("slo-reg");
    std::fs::write(
        t.join("r.yaml"),
        format!(
            "services:
  - name: api
    type: docker
    host: 127.0.0.1
    port: 8080
    monitoring: {{prometheus: true}}
    owner: team-a
api_endpoints:
  - path: /x
    method: GET
    service: api
    slo_availability: 99.9
{endpoint}teams:
  team-a: {{webhook_url: \"http://127.0.0.1:9095/a\"}}
defaults:
  runbook_base_url: http://127.0.0.1/runbooks
settings:
{settings}"
        ),
    )
    .unwrap();
    t
}

/// The example's `teams.yaml` with `settings.prometheus` set to `value` (its
/// own `prometheus:` line, the retention, dropped: a key appears once).
pub fn with_prometheus_settings(teams_yaml: &str, value: &str) -> String {
    let kept: String = teams_yaml
        .lines()
        .filter(|l| !l.starts_with("  prometheus: "))
        .map(|l| format!("{l}\n"))
        .collect();
    let patched = kept.replacen(
        "\nsettings:\n",
        &format!("\nsettings:\n  prometheus: {value}\n"),
        1,
    );
    assert_ne!(
        patched, kept,
        "the example's teams.yaml has a settings section"
    );
    patched
}

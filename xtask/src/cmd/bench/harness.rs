//! What every bench figure is measured with: runs of the binary `cargo
//! xtask` runs (with its peak memory), medians, scratch registries.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Set in a child run: print the peak resident memory at exit.
pub const PEAK_ENV: &str = "XTASK_REPORT_PEAK_MEMORY";

/// Peak resident memory of this process in kB (Linux), for `PEAK_ENV`.
pub fn peak_memory_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

pub(super) struct Measure {
    pub(super) median: Duration,
    pub(super) peak_kb: u64,
}

pub(super) fn run_xtask(args: &[&str]) -> Result<(Duration, u64), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let start = Instant::now();
    let out = Command::new(exe)
        .args(args)
        .env(PEAK_ENV, "1")
        .output()
        .map_err(|e| e.to_string())?;
    let took = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "xtask {} failed: {}",
            args.join(" "),
            stderr.lines().rev().take(5).collect::<Vec<_>>().join(" | ")
        ));
    }
    let peak = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak memory: "))
        .and_then(|v| v.trim_end_matches(" kB").parse().ok())
        .unwrap_or(0);
    Ok((took, peak))
}

pub(super) fn measure(
    runs: usize,
    mut f: impl FnMut() -> Result<(Duration, u64), String>,
) -> Result<Measure, String> {
    let mut times = Vec::new();
    let mut peak = 0;
    for _ in 0..runs {
        let (t, p) = f()?;
        times.push(t);
        peak = peak.max(p);
    }
    times.sort();
    Ok(Measure {
        median: times[times.len() / 2],
        peak_kb: peak,
    })
}

pub(super) fn tree_size(dir: &Path) -> (usize, u64) {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .fold((0, 0), |(n, b), e| {
            (n + 1, b + e.metadata().map(|m| m.len()).unwrap_or(0))
        })
}

pub(super) fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for e in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let target = to.join(e.path().strip_prefix(from).unwrap_or(e.path()));
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&target)?;
        } else {
            std::fs::copy(e.path(), &target)?;
        }
    }
    Ok(())
}

pub(super) fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

pub(super) fn write_registry(dir: &Path, yaml: &str) -> Result<(String, String), String> {
    let reg = dir.join("registry");
    std::fs::create_dir_all(&reg).map_err(|e| e.to_string())?;
    std::fs::write(reg.join("synthetic.yaml"), yaml).map_err(|e| e.to_string())?;
    Ok((
        reg.to_string_lossy().into_owned(),
        dir.join("generated").to_string_lossy().into_owned(),
    ))
}

/// One gen from an empty folder: the full write, as in a fresh clone.
pub(super) fn fresh_gen(r: &str, o: &str) -> Result<(Duration, u64), String> {
    let _ = std::fs::remove_dir_all(o);
    run_xtask(&["gen", "--registry", r, "--out", o])
}

pub(super) fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// A registry of `n` services with every service type, `n / 10` pages and
/// `n / 10` API endpoints, on loopback only.
pub fn synthetic_registry(n: usize) -> String {
    synthetic_registry_with(n, n / 10)
}

/// The same with `endpoints` API endpoints (served by the first service).
pub fn synthetic_registry_with(n: usize, endpoints: usize) -> String {
    let teams = 20;
    let mut y = String::from("services:\n");
    for i in 0..n {
        let owner = format!("team-{:02}", i % teams);
        let port = 1024 + (i % 60_000);
        match i % 3 {
            0 => {
                let _ = writeln!(
                    y,
                    "  - name: svc-{i:05}\n    type: k8s-deployment\n    namespace: ns-{:02}\n    port: {port}\n    health_endpoint: /health\n    monitoring: {{prometheus: true, sentry: true, otel: {}}}\n    alerts: [pod_crash, high_error_rate, {{name: memory_high, threshold: 0.8}}, service_down]\n    owner: {owner}",
                    i % 7,
                    i % 2 == 0
                );
            }
            1 => {
                let health = if i % 2 == 0 { "/health" } else { "pg_isready" };
                let _ = writeln!(
                    y,
                    "  - name: svc-{i:05}\n    type: docker\n    host: 127.0.0.1\n    port: {port}\n    health_endpoint: {health}\n    monitoring: {{prometheus: true}}\n    alerts: [service_down, memory_high, storage_full]\n    owner: {owner}"
                );
            }
            _ => {
                let _ = writeln!(
                    y,
                    "  - name: svc-{i:05}\n    type: systemd\n    host: 127.0.0.1\n    service_name: unit-{i}.service\n    monitoring: {{prometheus: true}}\n    alerts: [runner_offline]\n    owner: {owner}"
                );
            }
        }
    }
    y.push_str("pages:\n");
    for i in 0..n / 10 {
        let _ = writeln!(
            y,
            "  - path: /page/{i}\n    name: Page {i}\n    monitoring: {{sentry_session: true, web_vitals: {}}}\n    alerts: [slow_page_load, js_error]",
            i % 2 == 0
        );
    }
    y.push_str("api_endpoints:\n");
    for i in 0..endpoints {
        let _ = writeln!(
            y,
            "  - path: /api/v1/thing-{i}/{{id}}\n    method: GET\n    slo_latency_ms: {}\n    slo_availability: 99.9",
            100 + (i % 5) * 100
        );
    }
    y.push_str("teams:\n");
    for t in 0..teams {
        let _ = writeln!(y, "  team-{t:02}: {{}}");
    }
    y.push_str(
        "defaults:\n  page_owner: team-00\n  page_service: svc-00000\n  api_service: svc-00000\n  runbook_base_url: http://127.0.0.1/runbooks\nsettings:\n  pages_base_url: http://127.0.0.1:8080\n  alertmanager:\n    default_webhook_url: http://127.0.0.1:9095/default\n",
    );
    y
}

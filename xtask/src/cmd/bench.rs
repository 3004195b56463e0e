//! `cargo xtask bench`: gen and check on synthetic registries of 100, 1,000 and
//! 10,000 services (every service type, pages, endpoints with SLOs, loopback
//! hosts), through the binary `cargo xtask` runs. Prints the median wall time,
//! the peak memory (the child's own high-water mark), the output size, the
//! 10k/1k ratio and the floor: copying the same output tree.

use crate::outln;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Set in a child run: print the peak resident memory at exit.
pub const PEAK_ENV: &str = "XTASK_REPORT_PEAK_MEMORY";

const SIZES: [usize; 3] = [100, 1_000, 10_000];
const RUNS: usize = 5;

/// A registry of `n` services with every service type, `n / 10` pages and
/// `n / 10` API endpoints, on loopback only.
pub fn synthetic_registry(n: usize) -> String {
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
    for i in 0..n / 10 {
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

/// Peak resident memory of this process in kB (Linux), for `PEAK_ENV`.
pub fn peak_memory_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

struct Measure {
    median: Duration,
    peak_kb: u64,
}

fn run_xtask(args: &[&str]) -> Result<(Duration, u64), String> {
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

fn measure(
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

fn tree_size(dir: &Path) -> (usize, u64) {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .fold((0, 0), |(n, b), e| {
            (n + 1, b + e.metadata().map(|m| m.len()).unwrap_or(0))
        })
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
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

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

pub fn run() -> Result<(), String> {
    // XTASK_BENCH_DIR keeps the synthetic registries and outputs there, for profiling.
    let keep = std::env::var_os("XTASK_BENCH_DIR").map(PathBuf::from);
    let tmp: PathBuf = keep.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("xtask-bench-{}", std::process::id()))
    });
    let _ = std::fs::remove_dir_all(&tmp);
    let result = bench(&tmp);
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

fn bench(tmp: &Path) -> Result<(), String> {
    outln!(
        "machine: {} cores, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::consts::ARCH
    );
    outln!(
        "{:>8} {:>10} {:>10} {:>10} {:>10} {:>8} {:>10} {:>10}",
        "services",
        "gen",
        "check",
        "floor",
        "gen/floor",
        "files",
        "MB",
        "peak MB"
    );
    let mut gen_times = Vec::new();
    let mut worst_peak = 0;
    for n in SIZES {
        let dir = tmp.join(format!("n{n}"));
        let reg = dir.join("registry");
        std::fs::create_dir_all(&reg).map_err(|e| e.to_string())?;
        std::fs::write(reg.join("synthetic.yaml"), synthetic_registry(n))
            .map_err(|e| e.to_string())?;
        let out = dir.join("generated");
        let (r, o) = (
            reg.to_string_lossy().into_owned(),
            out.to_string_lossy().into_owned(),
        );
        // gen from an empty folder each time: the full write, as in a fresh clone.
        let generated = measure(RUNS, || {
            let _ = std::fs::remove_dir_all(&out);
            run_xtask(&["gen", "--registry", &r, "--out", &o])
        })?;
        let check = measure(RUNS, || {
            run_xtask(&["check", "--registry", &r, "--out", &o])
        })?;
        let (files, bytes) = tree_size(&out);
        let copy_to = dir.join("copy");
        let floor = measure(RUNS, || {
            let _ = std::fs::remove_dir_all(&copy_to);
            let start = Instant::now();
            copy_tree(&out, &copy_to).map_err(|e| e.to_string())?;
            Ok((start.elapsed(), 0))
        })?;
        let peak = generated.peak_kb.max(check.peak_kb);
        worst_peak = worst_peak.max(peak);
        outln!(
            "{n:>8} {:>10} {:>10} {:>10} {:>10.2} {files:>8} {:>10.1} {:>10.1}",
            ms(generated.median),
            ms(check.median),
            ms(floor.median),
            generated.median.as_secs_f64() / floor.median.as_secs_f64().max(1e-9),
            bytes as f64 / 1e6,
            peak as f64 / 1024.0
        );
        gen_times.push((n, generated.median, check.median, floor.median));
    }
    let by = |n: usize| gen_times.iter().find(|g| g.0 == n).copied();
    if let (Some(k1), Some(k10)) = (by(1_000), by(10_000)) {
        outln!(
            "10k/1k: gen {:.2}, check {:.2}",
            k10.1.as_secs_f64() / k1.1.as_secs_f64(),
            k10.2.as_secs_f64() / k1.2.as_secs_f64()
        );
        outln!(
            "targets: gen 10k <= 1 s: {}; gen <= 2.5x floor: {}; check 10k <= 0.5 s: {}; peak <= 200 MB: {}",
            k10.1 <= Duration::from_secs(1),
            k10.1.as_secs_f64() <= 2.5 * k10.3.as_secs_f64(),
            k10.2 <= Duration::from_millis(500),
            worst_peak <= 200 * 1024
        );
    }
    let root = crate::project_root();
    let warm = measure(RUNS, || {
        run_xtask(&[
            "check",
            "--registry",
            &root.join("registry").to_string_lossy(),
            "--out",
            &root.join("generated").to_string_lossy(),
        ])
    })?;
    outln!(
        "warm check of the example registry: {} (target <= 50 ms)",
        ms(warm.median)
    );
    Ok(())
}

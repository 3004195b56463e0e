//! `cargo xtask bench`: gen and check on synthetic registries of 100, 1,000 and
//! 10,000 services (every service type, pages, endpoints with SLOs, loopback
//! hosts, rule files per owner team), through the binary `cargo xtask` runs.
//! Prints the median wall time, the peak memory (the child's own high-water
//! mark), the output size per service and the floor (copying the same output
//! tree); then 10,000 services with 10,000 endpoints and 100,000 services once
//! each, the SLO slice against slokit (installed into `target/peers/`), warm
//! gen and check of the example, and the cold build, each with its target.

mod harness;
mod versus;

use harness::{
    Measure, copy_tree, fresh_gen, measure, ms, run_xtask, tree_size, verdict, write_registry,
};
pub use harness::{PEAK_ENV, peak_memory_kb, synthetic_registry, synthetic_registry_with};

use crate::outln;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const SIZES: [usize; 3] = [100, 1_000, 10_000];
const RUNS: usize = 5;

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

/// The bench's registry: rule files grouped by owner team, as a registry of
/// thousands of services sets (`settings.prometheus.group_by`).
fn bench_registry(n: usize, endpoints: usize) -> String {
    synthetic_registry_with(n, endpoints)
        .replace("settings:\n", "settings:\n  prometheus: {group_by: team}\n")
}

struct Row {
    n: usize,
    generated: Measure,
    check: Measure,
    floor: Duration,
    files: usize,
    bytes: u64,
}

fn bench(tmp: &Path) -> Result<(), String> {
    outln!(
        "machine: {} cores, {}; median of {RUNS} runs unless said; targets of the scale issue",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::consts::ARCH
    );
    outln!(
        "{:>8} {:>9} {:>9} {:>9} {:>9} {:>7} {:>8} {:>8} {:>9} {:>9}",
        "services",
        "gen",
        "check",
        "floor",
        "gen/floor",
        "files",
        "MB",
        "peak MB",
        "KB/svc",
        "files/svc"
    );
    let mut rows = Vec::new();
    for n in SIZES {
        let dir = tmp.join(format!("n{n}"));
        let (r, o) = write_registry(&dir, &bench_registry(n, n / 10))?;
        let generated = measure(RUNS, || fresh_gen(&r, &o))?;
        let check = measure(RUNS, || {
            run_xtask(&["check", "--registry", &r, "--out", &o])
        })?;
        let (files, bytes) = tree_size(Path::new(&o));
        let copy_to = dir.join("copy");
        let floor = measure(RUNS, || {
            let _ = std::fs::remove_dir_all(&copy_to);
            let start = Instant::now();
            copy_tree(Path::new(&o), &copy_to).map_err(|e| e.to_string())?;
            Ok((start.elapsed(), 0))
        })?;
        outln!(
            "{n:>8} {:>9} {:>9} {:>9} {:>9.2} {files:>7} {:>8.1} {:>8.1} {:>9.1} {:>9.2}",
            ms(generated.median),
            ms(check.median),
            ms(floor.median),
            generated.median.as_secs_f64() / floor.median.as_secs_f64().max(1e-9),
            bytes as f64 / 1e6,
            generated.peak_kb.max(check.peak_kb) as f64 / 1024.0,
            bytes as f64 / 1024.0 / n as f64,
            files as f64 / n as f64,
        );
        rows.push(Row {
            n,
            generated,
            check,
            floor: floor.median,
            files,
            bytes,
        });
    }
    verdicts(&rows);
    versus::run(tmp)?;
    memory(tmp)?;
    slo_slice(tmp)?;
    warm_example(tmp)?;
    cold_build(tmp)
}

/// The scale targets, from the 1k and 10k rows.
fn verdicts(rows: &[Row]) {
    let row = |n: usize| rows.iter().find(|r| r.n == n);
    if let (Some(k1), Some(k10)) = (row(1_000), row(10_000)) {
        let secs = |d: Duration| d.as_secs_f64();
        let g1 = secs(k1.generated.median) / secs(k1.floor);
        let g10 = secs(k10.generated.median) / secs(k10.floor);
        outln!(
            "gen / floor: {g1:.2} at 1k, {g10:.2} at 10k (target <= 1.5): {}",
            verdict(g1 <= 1.5 && g10 <= 1.5)
        );
        let ratio = secs(k10.generated.median) / secs(k1.generated.median);
        outln!(
            "gen 10k / 1k: {ratio:.2} (target <= 10.5): {}",
            verdict(ratio <= 10.5)
        );
        let cg = secs(k10.check.median) / secs(k10.generated.median);
        outln!(
            "check / gen at 10k: {cg:.2} (target <= 0.5): {}",
            verdict(cg <= 0.5)
        );
        let kb = k10.bytes as f64 / 1024.0 / k10.n as f64;
        let per = k10.files as f64 / k10.n as f64;
        outln!(
            "output per service at 10k: {kb:.1} KB (target <= 6): {}; {per:.2} files (target <= 1.5): {}",
            verdict(kb <= 6.0),
            verdict(per <= 1.5)
        );
    }
}

/// Memory: 10,000 services with 10,000 endpoints; 100,000 services (one run each).
fn memory(tmp: &Path) -> Result<(), String> {
    let dir = tmp.join("n10k-e10k");
    let (r, o) = write_registry(&dir, &bench_registry(10_000, 10_000))?;
    let (t, peak) = fresh_gen(&r, &o)?;
    outln!(
        "10,000 services + 10,000 endpoints: gen {}, peak {:.0} MB (target <= 250): {}",
        ms(t),
        peak as f64 / 1024.0,
        verdict(peak <= 250 * 1024)
    );
    let _ = std::fs::remove_dir_all(&dir);
    let dir = tmp.join("n100k");
    let (r, o) = write_registry(&dir, &bench_registry(100_000, 10_000))?;
    let (t, peak) = fresh_gen(&r, &o)?;
    let (check, _) = run_xtask(&["check", "--registry", &r, "--out", &o])?;
    let (files, bytes) = tree_size(Path::new(&o));
    outln!(
        "100,000 services: gen {} (target <= 10 s): {}, check {}, {files} files, {:.0} MB, peak {:.0} MB (target <= 500): {}",
        ms(t),
        verdict(t <= Duration::from_secs(10)),
        ms(check),
        bytes as f64 / 1e6,
        peak as f64 / 1024.0,
        verdict(peak <= 500 * 1024)
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The SLO slice against slokit: the same error SLOs (N endpoints of one
/// service) through our gen and through slokit's release build.
fn slo_slice(tmp: &Path) -> Result<(), String> {
    let slokit = match crate::peer::slokit(&crate::project_root()) {
        Ok(b) => b,
        Err(e) => {
            outln!("SLO slice against slokit: skipped, slokit is missing ({e})");
            return Ok(());
        }
    };
    for n in [1_000, 10_000] {
        let dir = tmp.join(format!("slo{n}"));
        let mut y = String::from(
            "services:\n  - name: api\n    type: docker\n    host: 127.0.0.1\n    port: 8080\n    monitoring: {prometheus: true}\n    owner: team-a\napi_endpoints:\n",
        );
        let mut spec = String::from(
            "version: \"prometheus/v1\"\nservice: \"api\"\nlabels:\n  owner: \"team-a\"\nslos:\n",
        );
        for i in 0..n {
            let _ = writeln!(
                y,
                "  - path: /e-{i}\n    method: GET\n    service: api\n    slo_availability: 99.9"
            );
            let sel = format!("service=\"api\",method=\"GET\",path=\"/e-{i}\"");
            let _ = writeln!(
                spec,
                "  - name: \"e-{i}\"\n    objective: 99.9\n    sli:\n      events:\n        error_query: sum(rate(http_requests_total{{{sel},status=~\"5..\"}}[{{{{.window}}}}]))\n        total_query: sum(rate(http_requests_total{{{sel}}}[{{{{.window}}}}]))\n    alerting:\n      name: Burn\n      page_alert:\n        labels: {{severity: critical}}\n      ticket_alert:\n        labels: {{severity: warning}}"
            );
        }
        y.push_str("teams:\n  team-a: {webhook_url: \"http://127.0.0.1:9095/a\"}\ndefaults:\n  runbook_base_url: http://127.0.0.1/runbooks\n");
        let (r, o) = write_registry(&dir, &y)?;
        let ours = measure(3, || fresh_gen(&r, &o))?;
        let spec_file = dir.join("spec.yml");
        std::fs::write(&spec_file, spec).map_err(|e| e.to_string())?;
        let rules = dir.join("slokit.rules.yml");
        let theirs = measure(3, || {
            let start = Instant::now();
            let out = Command::new(&slokit)
                .arg("generate")
                .arg("-i")
                .arg(&spec_file)
                .arg("-o")
                .arg(&rules)
                .output()
                .map_err(|e| e.to_string())?;
            if !out.status.success() {
                return Err(String::from_utf8_lossy(&out.stderr).into_owned());
            }
            Ok((start.elapsed(), 0))
        })?;
        let speedup = theirs.median.as_secs_f64() / ours.median.as_secs_f64();
        outln!(
            "SLO slice, {n} endpoints: gen {} (peak {:.0} MB) vs slokit {} {}: {speedup:.2}x (target >= 2): {}",
            ms(ours.median),
            ours.peak_kb as f64 / 1024.0,
            ms(theirs.median),
            crate::peer::SLOKIT_VERSION,
            verdict(speedup >= 2.0)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// gen and check of the example registry when nothing changed.
fn warm_example(tmp: &Path) -> Result<(), String> {
    let root = crate::project_root();
    let reg = root.join("registry").to_string_lossy().into_owned();
    let out = tmp.join("example").to_string_lossy().into_owned();
    run_xtask(&["gen", "--registry", &reg, "--out", &out])?;
    let warm_gen = measure(RUNS, || {
        run_xtask(&["gen", "--registry", &reg, "--out", &out])
    })?;
    let warm_check = measure(RUNS, || {
        run_xtask(&["check", "--registry", &reg, "--out", &out])
    })?;
    outln!(
        "warm gen / check of the example registry: {} / {} (target <= 50 ms): {}",
        ms(warm_gen.median),
        ms(warm_check.median),
        verdict(warm_gen.median.max(warm_check.median) <= Duration::from_millis(50))
    );
    Ok(())
}

/// `cargo build -p xtask` into an empty target folder.
fn cold_build(tmp: &Path) -> Result<(), String> {
    let target = tmp.join("cold-target");
    let _ = std::fs::remove_dir_all(&target);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let start = Instant::now();
    let out = Command::new(cargo)
        .args(["build", "--quiet", "-p", "xtask"])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(crate::project_root())
        .output()
        .map_err(|e| e.to_string())?;
    let took = start.elapsed();
    let _ = std::fs::remove_dir_all(&target);
    if !out.status.success() {
        return Err(format!(
            "cold build failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    outln!(
        "cold build of the xtask: {:.0} s (target <= 60 s): {}",
        took.as_secs_f64(),
        verdict(took <= Duration::from_secs(60))
    );
    Ok(())
}

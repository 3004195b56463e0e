//! The whole-registry figures of the speed issue: gen against the design
//! document's Python generator (the peer) at 1,000 and 10,000 services, with
//! the default settings (a file per service) and with `group_by: team`, on
//! the project's disk and on tmpfs; then, at 10,000 services with the default
//! settings on tmpfs, load and validate throughput, check against gen, a warm
//! gen after one service changed, and the floor (read the registry bytes,
//! write the output bytes).

use super::harness::{
    Measure, fresh_gen, measure, ms, run_xtask, synthetic_registry, verdict, write_registry,
};
use crate::outln;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 3;

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// One run of the peer from an empty folder.
fn peer_gen(
    peer: &(PathBuf, PathBuf),
    r: &str,
    o: &str,
    group_by: &str,
) -> Result<(Duration, u64), String> {
    let _ = std::fs::remove_dir_all(o);
    let start = Instant::now();
    let out = Command::new(&peer.0)
        .arg(&peer.1)
        .args([r, o, group_by])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "the design peer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok((start.elapsed(), 0))
}

/// The registry of `n` services with rule files per `group_by`.
fn registry(n: usize, group_by: &str) -> String {
    let y = synthetic_registry(n);
    if group_by == "team" {
        y.replace("settings:\n", "settings:\n  prometheus: {group_by: team}\n")
    } else {
        y
    }
}

pub(super) fn run(disk: &Path) -> Result<(), String> {
    let peer = crate::peer::design_peer(&crate::project_root());
    if let Err(e) = &peer {
        outln!("design peer: missing ({e}); gen alone below");
    }
    let shm = Path::new("/dev/shm");
    let tmpfs = shm
        .is_dir()
        .then(|| shm.join(format!("xtask-bench-{}", std::process::id())));
    outln!(
        "{:>7} {:>8} {:>8} {:>9} {:>9} {:>9} {:>7}",
        "on",
        "services",
        "group_by",
        "gen",
        "peer",
        "peer/gen",
        "peak MB"
    );
    let mut at_10k = None;
    for (fs, base) in [
        ("disk", Some(disk.join("versus"))),
        ("tmpfs", tmpfs.clone()),
    ] {
        let Some(base) = base else {
            outln!("tmpfs: no /dev/shm here");
            continue;
        };
        for n in [1_000, 10_000] {
            for group_by in ["service", "team"] {
                let dir = base.join(format!("n{n}-{group_by}"));
                let (r, o) = write_registry(&dir, &registry(n, group_by))?;
                let ours = measure(RUNS, || fresh_gen(&r, &o))?;
                let theirs = match &peer {
                    Ok(p) => Some(measure(RUNS, || {
                        peer_gen(p, &r, &dir.join("peer").to_string_lossy(), group_by)
                    })?),
                    Err(_) => None,
                };
                outln!(
                    "{fs:>7} {n:>8} {group_by:>8} {:>9} {:>9} {:>9} {:>7.0}",
                    ms(ours.median),
                    theirs.as_ref().map_or("-".into(), |t| ms(t.median)),
                    theirs.as_ref().map_or("-".into(), |t| format!(
                        "{:.2}",
                        secs(t.median) / secs(ours.median)
                    )),
                    ours.peak_kb as f64 / 1024.0
                );
                if fs == "tmpfs" && n == 10_000 && group_by == "service" {
                    at_10k = Some((dir.clone(), r.clone(), o.clone(), ours, theirs));
                } else {
                    let _ = std::fs::remove_dir_all(&dir);
                }
            }
        }
    }
    if let Some((dir, r, o, ours, theirs)) = at_10k {
        targets(&dir, &r, &o, &ours, theirs.as_ref())?;
    }
    if let Some(t) = tmpfs {
        let _ = std::fs::remove_dir_all(t);
    }
    Ok(())
}

/// The targets at 10,000 services, default settings, on tmpfs.
fn targets(
    dir: &Path,
    r: &str,
    o: &str,
    ours: &Measure,
    theirs: Option<&Measure>,
) -> Result<(), String> {
    let g = secs(ours.median);
    let speedup = theirs.map(|t| secs(t.median) / g);
    outln!(
        "gen of 10,000 services (tmpfs): {} (target <= 1000 ms): {}; {} the peer (target >= 4x): {}",
        ms(ours.median),
        verdict(g <= 1.0),
        speedup.map_or("no peer to compare with".into(), |s| format!(
            "{s:.2}x faster than"
        )),
        speedup.map_or("MISSED (no peer)", |s| verdict(s >= 4.0))
    );
    let bytes = std::fs::metadata(Path::new(r).join("synthetic.yaml")).map_or(0, |m| m.len());
    let load = load_and_validate(r, &dir.join("timed"))?;
    let rate = bytes as f64 / 1e6 / secs(load);
    outln!(
        "load and validate: {:.1} MB in {} = {rate:.1} MB/s (target >= 20 MB/s, <= 150 ms): {}",
        bytes as f64 / 1e6,
        ms(load),
        verdict(rate >= 20.0 && load <= Duration::from_millis(150))
    );
    let check = measure(RUNS, || run_xtask(&["check", "--registry", r, "--out", o]))?;
    let cg = secs(check.median) / g;
    outln!(
        "check / gen (check answered from the record of that gen): {} / {} = {cg:.2} (target <= 0.3): {}",
        ms(check.median),
        ms(ours.median),
        verdict(cg <= 0.3)
    );
    // On a fresh clone (CI) there is no record of a gen: check renders
    // everything, as `--verbose` makes it do here.
    let full = measure(RUNS, || {
        run_xtask(&["check", "--verbose", "--registry", r, "--out", o])
    })?;
    outln!(
        "check rendering everything (no record of the last gen, as on a fresh clone; or --verbose): {} = {:.2} of gen",
        ms(full.median),
        secs(full.median) / g
    );
    let warm = warm_after_one_change(r, o)?;
    outln!(
        "warm gen after one service of 10,000 changed: {} (target <= 300 ms): {}",
        ms(warm),
        verdict(warm <= Duration::from_millis(300))
    );
    let floor = floor(r, o, &dir.join("floor"))?;
    let gf = g / secs(floor);
    outln!(
        "floor (read the registry, write the output's bytes): {}; gen / floor {gf:.2} (target <= 3): {}",
        ms(floor),
        verdict(gf <= 3.0)
    );
    Ok(())
}

/// gen's own figure for its first phase (`XTASK_TIMINGS`).
fn load_and_validate(r: &str, o: &Path) -> Result<Duration, String> {
    let out = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .args(["gen", "--registry", r, "--out"])
        .arg(o)
        .env("XTASK_TIMINGS", "1")
        .output()
        .map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(o);
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("timing: load and validate: "))
        .and_then(|l| l.split(" ms").next()?.parse::<f64>().ok())
        .map(|v| Duration::from_secs_f64(v / 1000.0))
        .ok_or_else(|| "gen printed no load-and-validate timing".into())
}

/// One service's port changed, then gen over the output of the unchanged
/// registry (the median of three such changes); the registry is restored.
fn warm_after_one_change(r: &str, o: &str) -> Result<Duration, String> {
    let file = Path::new(r).join("synthetic.yaml");
    let original = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
    let mut times = Vec::new();
    for port in ["65001", "65002", "65003"] {
        let changed = original.replacen("    port: 1025\n", &format!("    port: {port}\n"), 1);
        std::fs::write(&file, changed).map_err(|e| e.to_string())?;
        times.push(run_xtask(&["gen", "--registry", r, "--out", o])?.0);
    }
    std::fs::write(&file, original).map_err(|e| e.to_string())?;
    run_xtask(&["gen", "--registry", r, "--out", o])?;
    times.sort();
    Ok(times[1])
}

/// The least work gen must do: read the registry's bytes and write the
/// output's bytes (held in memory beforehand) as files.
fn floor(r: &str, o: &str, to: &Path) -> Result<Duration, String> {
    let files: Vec<(PathBuf, Vec<u8>)> = walkdir::WalkDir::new(o)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(o).unwrap_or(e.path()).to_owned();
            std::fs::read(e.path()).map(|b| (rel, b))
        })
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let m = measure(RUNS, || {
        let _ = std::fs::remove_dir_all(to);
        let start = Instant::now();
        let registry =
            std::fs::read(Path::new(r).join("synthetic.yaml")).map_err(|e| e.to_string())?;
        std::hint::black_box(&registry);
        for (rel, bytes) in &files {
            let path = to.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
        }
        Ok((start.elapsed(), 0))
    })?;
    let _ = std::fs::remove_dir_all(to);
    Ok(m.median)
}

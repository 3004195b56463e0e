//! The alert templates against a real exporter, not against the series they
//! declare themselves: Debian's postgres_exporter scrapes a real PostgreSQL on
//! loopback, and every metric and label the postgres alerts read must be in
//! its output. (node_exporter's systemd collector needs a running systemd,
//! which a CI container lacks; cAdvisor and kube-state-metrics are not in
//! Debian: their names are checked against their published lists in
//! `dead_alerts.rs`.) The pool-exhaustion alert is also driven: it must fire in
//! a real Prometheus; and PostgreSQL dies behind its running exporter, which
//! must fire the baseline PostgresDown (`pg_up == 0`), not TargetDown.

use crate::common::*;

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

/// `f` until it gives a value, for at most a minute.
fn wait_until<T>(mut f: impl FnMut() -> Option<T>) -> Option<T> {
    for _ in 0..600 {
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
    // Processes of root own their /proc/self.
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

/// PostgreSQL and postgres_exporter on free loopback ports, stopped on drop.
struct Postgres {
    _exporter: Kill,
    /// `None` once stopped.
    server: Option<Kill>,
    data: PathBuf,
    bin: PathBuf,
    port: u16,
    exporter: String,
    /// The exporter's first `/metrics` once it reaches the database.
    metrics: String,
}

impl Postgres {
    fn start(t: &TempDir, max_connections: u32) -> Postgres {
        let bin = postgres_bin().expect("PostgreSQL's programs under /usr/lib/postgresql");
        let data = t.join("data");
        std::fs::create_dir_all(&data).unwrap();
        let _ = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(t.path())
            .status();
        let init = as_postgres(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "--no-sync"])
            .output()
            .unwrap();
        assert!(init.status.success(), "initdb: {}", text(&init));
        let port = xtask::cmd::e2e::free_port().unwrap();
        let server = Kill(
            as_postgres(&bin.join("postgres"))
                .arg("-D")
                .arg(&data)
                .args(["-p", &port.to_string(), "-k"])
                .arg(&data)
                .args([
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    &format!("max_connections={max_connections}"),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let exporter = format!("127.0.0.1:{}", xtask::cmd::e2e::free_port().unwrap());
        let exporter_process = Kill(
            Command::new("prometheus-postgres-exporter")
                .arg(format!("--web.listen-address={exporter}"))
                .env(
                    "DATA_SOURCE_NAME",
                    format!("postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=disable"),
                )
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        // Up once the exporter reaches the database.
        let metrics = wait_until(|| get(&exporter, "/metrics").filter(|m| m.contains("pg_up 1")))
            .expect("postgres_exporter never reported pg_up 1");
        Postgres {
            _exporter: exporter_process,
            server: Some(server),
            data,
            bin,
            port,
            exporter,
            metrics,
        }
    }
}

impl Postgres {
    /// Stops the server at once, as a crash would (`runuser` is the process
    /// spawned as root: killing it leaves PostgreSQL running).
    fn stop_server(&mut self) {
        if self.server.take().is_some() {
            let _ = as_postgres(&self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&self.data)
                .args(["-m", "immediate", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop_server();
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
    let t = TempDir::new("pg");
    let pg = Postgres::start(&t, 100);
    let real = exposition(&pg.metrics);

    // Every postgres alert of the fixture's database, as generated.
    let g = monitoring::generate(
        &root().join("fixtures/every-kind"),
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

/// Prometheus running the generated config against the real exporter of
/// `pg`, for a registry of one database `db` with `alerts` (YAML list). A
/// 5 s scrape: with PostgreSQL gone the exporter takes about 2 s to answer
/// `pg_up 0` (it retries the connection), past a 1 s scrape's timeout.
fn prometheus_for(t: &TempDir, pg: &Postgres, alerts: &str) -> (Kill, String) {
    let (_, exporter_port) = pg.exporter.rsplit_once(':').unwrap();
    let reg = t.join("reg");
    std::fs::create_dir_all(&reg).unwrap();
    std::fs::write(
        reg.join("r.yaml"),
        format!(
            "services:\n  - name: db\n    type: docker\n    host: 127.0.0.1\n    port: {}\n    health_endpoint: pg_isready\n    owner: t\n    monitoring: {{prometheus: true}}\n    metrics: {{port: {exporter_port}}}\n    alerts: {alerts}\n\
             settings:\n  scrape_interval: 5s\n  evaluation_interval: 1s\n  alertmanager: {{default_webhook_url: 'http://127.0.0.1:1/x'}}\n",
            pg.port
        ),
    )
    .unwrap();
    prometheus_on(t, &reg)
}

/// Prometheus running the config gen writes for the registry `reg`.
fn prometheus_on(t: &TempDir, reg: &Path) -> (Kill, String) {
    let out = t.join("out");
    let o = on("gen", reg, &out);
    assert!(o.status.success(), "{}", text(&o));
    let prom = format!("127.0.0.1:{}", xtask::cmd::e2e::free_port().unwrap());
    let process = Kill(
        Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                out.join("prometheus/prometheus.yml").display()
            ))
            .arg(format!("--storage.tsdb.path={}", t.join("tsdb").display()))
            .arg(format!("--web.listen-address={prom}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    (process, prom)
}

/// Waits until Prometheus answers `query` (URL-encoded) with the value 1.
fn scraped_one(prom: &str, query: &str) -> bool {
    wait_until(|| {
        let (_, body) =
            xtask::cmd::e2e::http("GET", prom, &format!("/api/v1/query?query={query}"), "").ok()?;
        body.contains("\"1\"]").then_some(())
    })
    .is_some()
}

/// The firing alerts of that name in Prometheus, as their label sets.
fn firing(prom: &str, alert: &str) -> Option<Vec<serde_json::Value>> {
    let q = format!(
        "/api/v1/query?query=ALERTS%7Balertname%3D%22{alert}%22%2Calertstate%3D%22firing%22%7D"
    );
    let (_, body) = xtask::cmd::e2e::http("GET", prom, &q, "").ok()?;
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    Some(
        v["data"]["result"]
            .as_array()?
            .iter()
            .map(|r| r["metric"].clone())
            .collect(),
    )
}

/// The outage drill on the real programs: PostgreSQL dies behind a running
/// postgres_exporter, so its `/metrics` still answers (no TargetDown) and only
/// `pg_up` says so; the baseline PostgresDown (shortened `for`) fires in a real
/// Prometheus, labelled for the database's owner.
#[test]
#[cfg_attr(
    not(all(has_postgres_exporter, has_postgres, has_prometheus)),
    ignore = "postgres_exporter, PostgreSQL or Prometheus not found (`.ci/run --install-only` installs them)"
)]
fn postgres_down_fires_when_postgresql_dies_behind_its_exporter() {
    let t = TempDir::new("pg-down");
    let mut pg = Postgres::start(&t, 20);
    let (_prometheus, prom) = prometheus_for(
        &t,
        &pg,
        "[{name: postgres_down, for: 1s}, {name: target_down, for: 1s}]",
    );
    assert!(
        scraped_one(&prom, "pg_up%7Bservice%3D%22db%22%7D"),
        "Prometheus never saw pg_up 1 of db"
    );
    assert_eq!(
        firing(&prom, "PostgresDown"),
        Some(vec![]),
        "fired while PostgreSQL runs"
    );
    pg.stop_server();
    let fired = wait_until(|| firing(&prom, "PostgresDown").filter(|f| !f.is_empty()))
        .unwrap_or_else(|| {
            let up = xtask::cmd::e2e::http("GET", &prom, "/api/v1/query?query=up", "");
            panic!("PostgresDown never fired with PostgreSQL dead; up: {up:?}")
        });
    assert_eq!(fired[0]["owner"], "t", "{fired:?}");
    assert_eq!(fired[0]["service"], "db", "{fired:?}");
    assert_eq!(fired[0]["severity"], "critical", "{fired:?}");
    // The exporter itself still answers: it is the database, not the scrape.
    assert_eq!(
        firing(&prom, "TargetDown"),
        Some(vec![]),
        "TargetDown fired: the exporter is up"
    );
}

/// The condition, driven for real: with PostgreSQL at `max_connections = 10`,
/// eight idle sessions push the pool past the alert's threshold, and the
/// generated ConnectionPoolExhausted rule fires in a real Prometheus scraping
/// the real exporter through the generated config.
#[test]
#[cfg_attr(
    not(all(has_postgres_exporter, has_postgres, has_prometheus)),
    ignore = "postgres_exporter, PostgreSQL or Prometheus not found (`.ci/run --install-only` installs them)"
)]
fn connection_pool_exhausted_fires_when_the_pool_is_full() {
    let t = TempDir::new("pg-fire");
    let pg = Postgres::start(&t, 10);
    let (_prometheus, prom) = prometheus_for(
        &t,
        &pg,
        "[{name: connection_pool_exhausted, for: 1s, threshold: 0.7}]",
    );
    let firing = |prom: &str| firing(prom, "ConnectionPoolExhausted").map(|f| !f.is_empty());
    // Scraped, and quiet with an idle pool.
    let up = wait_until(|| {
        let (_, body) = xtask::cmd::e2e::http(
            "GET",
            &prom,
            "/api/v1/query?query=pg_settings_max_connections%7Bservice%3D%22db%22%7D",
            "",
        )
        .ok()?;
        body.contains("\"10\"").then_some(())
    });
    assert!(
        up.is_some(),
        "Prometheus never scraped the exporter through the generated job"
    );
    assert_eq!(firing(&prom), Some(false), "fired with an idle pool");
    // Eight sessions that hold their connection.
    let psql = pg.bin.join("psql");
    let sessions: Vec<Kill> = (0..8)
        .map(|_| {
            Kill(
                Command::new(&psql)
                    .args([
                        "-h",
                        "127.0.0.1",
                        "-p",
                        &pg.port.to_string(),
                        "-U",
                        "postgres",
                        "-c",
                        "select pg_sleep(60)",
                    ])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap(),
            )
        })
        .collect();
    let fired = wait_until(|| firing(&prom).filter(|f| *f));
    drop(sessions);
    assert!(
        fired.is_some(),
        "ConnectionPoolExhausted never fired with 8 of 10 connections in use"
    );
}

/// The same drill for Redis: redis-server dies behind a running
/// redis_exporter, and the baseline RedisDown (`redis_up == 0`) fires in a
/// real Prometheus for the cache's owner.
#[test]
#[cfg_attr(
    not(all(has_redis_exporter, has_redis, has_prometheus)),
    ignore = "redis_exporter, redis-server or Prometheus not found (Debian packages prometheus-redis-exporter, redis-server, prometheus; `.ci/run --install-only` installs them)"
)]
fn redis_down_fires_when_redis_dies_behind_its_exporter() {
    if !require_tool("redis-server", "redis-server")
        || !require_tool("prometheus-redis-exporter", "prometheus-redis-exporter")
    {
        return;
    }
    let t = TempDir::new("redis-down");
    let port = xtask::cmd::e2e::free_port().unwrap();
    let mut server = Some(Kill(
        Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(t.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    ));
    let exporter = format!("127.0.0.1:{}", xtask::cmd::e2e::free_port().unwrap());
    let _exporter = Kill(
        Command::new("prometheus-redis-exporter")
            .arg(format!("--redis.addr=redis://127.0.0.1:{port}"))
            .arg(format!("--web.listen-address={exporter}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(
        wait_until(|| get(&exporter, "/metrics").filter(|m| m.contains("redis_up 1"))).is_some(),
        "redis_exporter never reported redis_up 1"
    );
    let (_, exporter_port) = exporter.rsplit_once(':').unwrap();
    let reg = t.join("reg");
    std::fs::create_dir_all(&reg).unwrap();
    std::fs::write(
        reg.join("r.yaml"),
        format!(
            "services:\n  - name: cache\n    type: docker\n    host: 127.0.0.1\n    port: {port}\n    health_endpoint: redis-cli ping\n    owner: t\n    monitoring: {{prometheus: true}}\n    metrics: {{port: {exporter_port}}}\n    alerts: [{{name: redis_down, for: 1s}}]\n\
             settings:\n  scrape_interval: 5s\n  evaluation_interval: 1s\n  alertmanager: {{default_webhook_url: 'http://127.0.0.1:1/x'}}\n"
        ),
    )
    .unwrap();
    let (_prometheus, prom) = prometheus_on(&t, &reg);
    assert!(
        scraped_one(&prom, "redis_up%7Bservice%3D%22cache%22%7D"),
        "Prometheus never saw redis_up 1 of cache"
    );
    assert_eq!(
        firing(&prom, "RedisDown"),
        Some(vec![]),
        "fired while Redis runs"
    );
    server.take(); // redis-server killed
    let fired = wait_until(|| firing(&prom, "RedisDown").filter(|f| !f.is_empty()))
        .expect("RedisDown never fired with Redis dead");
    assert_eq!(fired[0]["owner"], "t", "{fired:?}");
    assert_eq!(fired[0]["severity"], "critical", "{fired:?}");
}

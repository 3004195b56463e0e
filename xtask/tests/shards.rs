//! Past one Prometheus (`settings.prometheus.shards`): each shard's config
//! passes promtool, carries its `shard` external label, and a real Prometheus
//! running it scrapes only its share of the services, the shares together
//! being all of them; with a real blackbox_exporter and Alertmanager, an
//! alert from each shard arrives, labelled with its shard.

mod common;
use common::*;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

fn registry(by: &str) -> TempDir {
    registry_at(by, 9, 9)
}

/// With the Blackbox exporter and Alertmanager at these loopback ports.
fn registry_at(by: &str, blackbox: u16, alertmanager: u16) -> TempDir {
    let t = TempDir::new("shards");
    let mut y = String::from("services:\n");
    for i in 0..12 {
        // Closed loopback ports: every target is scraped (and down).
        y.push_str(&format!(
            "  - name: s{i}\n    type: docker\n    host: 127.0.0.1\n    port: {}\n    health_endpoint: /health\n    monitoring: {{prometheus: true}}\n    alerts: [{{name: service_down, for: 1s}}]\n    owner: team-{}\n",
            1 + i,
            i % 4
        ));
    }
    y.push_str("teams:\n");
    for t in 0..4 {
        y.push_str(&format!(
            "  team-{t}: {{webhook_url: \"http://127.0.0.1:9/{t}\"}}\n"
        ));
    }
    y.push_str(&format!(
        "defaults:\n  runbook_base_url: http://127.0.0.1/runbooks\nsettings:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n  blackbox_address: 127.0.0.1:{blackbox}\n  alertmanager_address: 127.0.0.1:{alertmanager}\n  prometheus:\n    shards: {{count: 2, by: {by}}}\n"
    ));
    std::fs::write(t.join("r.yaml"), y).unwrap();
    t
}

/// A server on loopback, stopped when dropped.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(program: &str, args: &[String], dir: &std::path::Path) -> Server {
    Server(
        std::process::Command::new(program)
            .args(args)
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e}")),
    )
}

fn prometheus(
    config: &std::path::Path,
    dir: &std::path::Path,
    port: u16,
    data: &TempDir,
) -> Server {
    start(
        "prometheus",
        &[
            format!("--config.file={}", config.display()),
            format!("--storage.tsdb.path={}", data.path().display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
        ],
        dir,
    )
}

/// The services whose targets a running Prometheus with `config` scrapes.
fn scraped(config: &std::path::Path, dir: &std::path::Path) -> BTreeSet<String> {
    let port = xtask::cmd::e2e::free_port().unwrap();
    let data = TempDir::new("shard-data");
    let _server = prometheus(config, dir, port, &data);
    let addr = format!("127.0.0.1:{port}");
    let query = "/api/v1/query?query=group%20by%20(service%2C%20job)%20(up%7Bservice!%3D%22%22%7D)";
    let start = Instant::now();
    let mut seen = BTreeSet::new();
    // Every job of a shard is scraped within a few 1 s intervals of start-up.
    while start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_secs(1));
        if let Ok((200, body)) = xtask::cmd::e2e::http("GET", &addr, query, "") {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            seen = v["data"]["result"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["metric"]["service"].as_str().unwrap().to_owned())
                .collect();
            if start.elapsed() > Duration::from_secs(12) {
                break;
            }
        }
    }
    seen
}

/// Services down on both shards: each shard's ServiceDown reaches the one
/// Alertmanager, carrying the shard's external label.
#[test]
#[cfg_attr(
    not(all(has_prometheus, has_alertmanager, has_blackbox)),
    ignore = "prometheus, prometheus-alertmanager or prometheus-blackbox-exporter not found (`.ci/run --install-only` installs them)"
)]
fn an_alert_from_each_shard_reaches_alertmanager() {
    if !require_tool("prometheus", "prometheus")
        || !require_tool("prometheus-alertmanager", "prometheus-alertmanager")
        || !require_tool(
            "prometheus-blackbox-exporter",
            "prometheus-blackbox-exporter",
        )
    {
        return;
    }
    let free = || xtask::cmd::e2e::free_port().unwrap();
    let (bb, am) = (free(), free());
    let reg = registry_at("hash", bb, am);
    let out = gen_into(reg.path());
    let data = TempDir::new("shard-servers");
    let _blackbox = start(
        "prometheus-blackbox-exporter",
        &[
            format!(
                "--config.file={}",
                out.join("blackbox/blackbox.yml").display()
            ),
            format!("--web.listen-address=127.0.0.1:{bb}"),
        ],
        data.path(),
    );
    let _alertmanager = start(
        "prometheus-alertmanager",
        &[
            format!(
                "--config.file={}",
                out.join("alertmanager/alertmanager.yml").display()
            ),
            format!("--storage.path={}", data.join("am").display()),
            format!("--web.listen-address=127.0.0.1:{am}"),
            "--cluster.listen-address=".into(),
        ],
        data.path(),
    );
    let prom = out.join("prometheus");
    let stores = [TempDir::new("shard-0"), TempDir::new("shard-1")];
    let _shards: Vec<Server> = (0..2)
        .map(|i| {
            prometheus(
                &prom.join(format!("shard-{i}.prometheus.yml")),
                &prom,
                free(),
                &stores[i],
            )
        })
        .collect();
    let addr = format!("127.0.0.1:{am}");
    let start = Instant::now();
    let mut shards_seen = BTreeSet::new();
    while start.elapsed() < Duration::from_secs(60) && shards_seen.len() < 2 {
        std::thread::sleep(Duration::from_secs(1));
        if let Some(body) = get_http10(&addr, "/api/v2/alerts") {
            let alerts: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            shards_seen = alerts
                .as_array()
                .into_iter()
                .flatten()
                .filter(|a| a["labels"]["alertname"] == "ServiceDown")
                .filter_map(|a| a["labels"]["shard"].as_str().map(str::to_owned))
                .collect();
        }
    }
    assert_eq!(
        shards_seen,
        BTreeSet::from(["0".to_owned(), "1".to_owned()]),
        "ServiceDown from both shards within 60 s"
    );
}

#[test]
#[cfg_attr(
    not(all(has_promtool, has_prometheus)),
    ignore = "promtool or prometheus not found (Debian package prometheus; `.ci/run --install-only` installs it)"
)]
fn each_shard_scrapes_its_share_and_together_all() {
    if !require_tool("promtool", "prometheus") {
        return;
    }
    for by in ["hash", "team"] {
        let reg = registry(by);
        let out = gen_into(reg.path());
        let prom = out.join("prometheus");
        assert!(
            !prom.join("prometheus.yml").exists(),
            "{by}: one config per shard instead"
        );
        let mut shares = Vec::new();
        for i in 0..2 {
            let config = prom.join(format!("shard-{i}.prometheus.yml"));
            let text = std::fs::read_to_string(&config).unwrap();
            assert!(
                text.contains(&format!("shard: '{i}'")),
                "{by}: external label"
            );
            let check = std::process::Command::new("promtool")
                .args(["check", "config", &config.to_string_lossy()])
                .output()
                .unwrap();
            assert!(
                check.status.success(),
                "{by} shard {i}: {}",
                text_of(&check)
            );
            shares.push(scraped(&config, &prom));
        }
        let all: BTreeSet<String> = (0..12).map(|i| format!("s{i}")).collect();
        assert!(shares[0].is_disjoint(&shares[1]), "{by}: {shares:?}");
        assert_eq!(&shares[0] | &shares[1], all, "{by}: {shares:?}");
        assert!(
            !shares[0].is_empty() && !shares[1].is_empty(),
            "{by}: {shares:?}"
        );
        if by == "team" {
            // A team is whole on one shard, so its alerts see all its series.
            for share in &shares {
                let teams: BTreeSet<usize> = share
                    .iter()
                    .map(|s| s[1..].parse::<usize>().unwrap() % 4)
                    .collect();
                for t in teams {
                    let members = (0..12).filter(|i| i % 4 == t).map(|i| format!("s{i}"));
                    assert!(
                        members.into_iter().all(|m| share.contains(&m)),
                        "team-{t} split"
                    );
                }
            }
        }
    }
}

/// A GET over HTTP/1.0: the whole body, never chunked.
fn get_http10(addr: &str, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    let (head, body) = resp.split_once("\r\n\r\n")?;
    head.contains(" 200 ").then(|| body.to_owned())
}

fn text_of(o: &std::process::Output) -> String {
    text(o)
}

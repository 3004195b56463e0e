//! Past one Prometheus (`settings.prometheus.shards`): each shard's config
//! passes promtool, carries its `shard` external label, and a real Prometheus
//! running it scrapes only its share of the services, the shares together
//! being all of them, teams whole. That an alert from each shard reaches
//! Alertmanager is a step of `cargo xtask e2e` (its test: `e2e.rs`).

use crate::common::*;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

fn registry(by: &str) -> TempDir {
    let (blackbox, alertmanager) = (9, 9);
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
            promtool_ok(
                ["check".as_ref(), "config".as_ref(), config.as_os_str()],
                None,
                &format!("{by} shard {i}"),
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

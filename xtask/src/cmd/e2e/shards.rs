//! Steps 8 and 9, past one Prometheus: the fixture's services split over two
//! shards (`settings.prometheus.shards`, hashmod of the service), a real
//! Prometheus per shard. Each must scrape only its own share, the shares
//! together all; every service is down, and ServiceDown from each shard must
//! reach the owner's receiver carrying the `shard` of the Prometheus that
//! scrapes that service.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::stack::{
    DELIVERY_TIMEOUT, Process, exporter_and_alertmanager, free_port, generate_fixture, http,
    listen, percent, prometheus, received, step, wait_for,
};
use crate::outln;

const SERVICES: usize = 8;

/// Services on closed loopback ports, so every one is down.
fn registry(blackbox: u16, alertmanager: u16, hook: u16, closed: u16) -> String {
    let mut y =
        String::from("# End-to-end fixture: two shards, every target on loopback.\nservices:\n");
    for i in 0..SERVICES {
        y.push_str(&format!(
            "  - name: shard-s{i}\n    type: docker\n    host: 127.0.0.1\n    port: {closed}\n    health_endpoint: /health\n    monitoring: {{prometheus: true}}\n    alerts: [{{name: service_down, for: 1s}}]\n    owner: e2e-team\n"
        ));
    }
    y.push_str(&format!(
        "teams:
  e2e-team:
    webhook_url: http://127.0.0.1:{hook}/e2e-team
defaults:
  runbook_base_url: http://127.0.0.1/runbooks
settings:
  scrape_interval: 1s
  evaluation_interval: 1s
  blackbox_address: 127.0.0.1:{blackbox}
  alertmanager_address: 127.0.0.1:{alertmanager}
  prometheus:
    shards: {{count: 2, by: hash}}
  alertmanager:
    default_webhook_url: http://127.0.0.1:{hook}/default
    group_wait: 1s
    group_interval: 1s
    repeat_interval: 1h
"
    ));
    y
}

pub(super) fn scenario(tmp: &Path) -> Result<(), String> {
    let tmp = tmp.join("shards");
    let (bb, am, hook, closed) = (free_port()?, free_port()?, free_port()?, free_port()?);
    let proms = [free_port()?, free_port()?];
    step(
        14,
        "two shards (hashmod of the service), a Prometheus each: each scrapes only its own services, together all",
    );
    let out = generate_fixture(&tmp, &registry(bb, am, hook, closed), 14)?;
    let (_quit, inbox) = listen(hook)?;
    let _procs = programs(&tmp, &out, bb, am, proms)?;

    let owner = shard_of_each_service(&proms)?;
    let share = |i: &str| owner.values().filter(|s| *s == i).count();
    outln!(
        "shard 0 scrapes {} services, shard 1 {}; none twice",
        share("0"),
        share("1")
    );

    step(
        15,
        "every service is down: ServiceDown from each shard reaches the owner's receiver, labelled with its shard",
    );
    let from_shards = || {
        let mut shards = BTreeSet::new();
        for (path, status, labels, _) in received(&inbox) {
            if path != "/e2e-team" || status != "firing" || labels["alertname"] != "ServiceDown" {
                continue;
            }
            let (Some(service), Some(shard)) =
                (labels["service"].as_str(), labels["shard"].as_str())
            else {
                continue;
            };
            if owner.get(service).map(String::as_str) != Some(shard) {
                return Some(Err(format!(
                    "step 15: ServiceDown of {service} came from shard {shard}, which does not scrape it"
                )));
            }
            shards.insert(shard.to_owned());
        }
        (shards.len() == 2).then_some(Ok(()))
    };
    let (result, delivered) = wait_for(
        "step 15: ServiceDown from both shards delivered",
        DELIVERY_TIMEOUT,
        from_shards,
    )?;
    result?;
    outln!(
        "ServiceDown from both shards delivered in {} s",
        delivered.as_secs()
    );
    Ok(())
}

/// Service to the shard that scrapes it: each service by exactly one shard,
/// every service by some shard.
fn shard_of_each_service(proms: &[u16]) -> Result<BTreeMap<String, String>, String> {
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    for (i, port) in proms.iter().enumerate() {
        let addr = format!("127.0.0.1:{port}");
        // Every job of a shard is scraped within a few 1 s intervals.
        let ((), _) = wait_for(
            &format!("step 14: shard {i} scraping"),
            Duration::from_secs(30),
            || scraped(&addr).filter(|s| !s.is_empty()).map(drop),
        )?;
        std::thread::sleep(Duration::from_secs(3));
        for service in scraped(&addr).unwrap_or_default() {
            if let Some(other) = owner.insert(service.clone(), i.to_string()) {
                return Err(format!(
                    "step 14: {service} is scraped by shard {other} and shard {i}"
                ));
            }
        }
    }
    let all: BTreeSet<String> = (0..SERVICES).map(|i| format!("shard-s{i}")).collect();
    let seen: BTreeSet<String> = owner.keys().cloned().collect();
    if seen != all {
        return Err(format!(
            "step 14: the shards together scrape {seen:?}, not all {SERVICES} services"
        ));
    }
    Ok(owner)
}

/// The services a shard's Prometheus scrapes (its `up` series with a service).
fn scraped(addr: &str) -> Option<BTreeSet<String>> {
    let q = percent("group by (service) (up{service!=\"\"})");
    let (_, body) = http("GET", addr, &format!("/api/v1/query?query={q}"), "").ok()?;
    let v: Value = serde_json::from_str(&body).ok()?;
    Some(
        v["data"]["result"]
            .as_array()?
            .iter()
            .filter_map(|r| r["metric"]["service"].as_str().map(str::to_owned))
            .collect(),
    )
}

/// blackbox_exporter, Alertmanager and a Prometheus per shard config.
fn programs(
    tmp: &Path,
    out: &Path,
    blackbox: u16,
    alertmanager: u16,
    proms: [u16; 2],
) -> Result<Vec<Process>, String> {
    let mut procs = exporter_and_alertmanager(tmp, out, blackbox, alertmanager)?;
    for (i, port) in proms.iter().enumerate() {
        let config = out.join(format!("prometheus/shard-{i}.prometheus.yml"));
        procs.push(prometheus(tmp, &config, &format!("-{i}"), *port)?);
    }
    Ok(procs)
}

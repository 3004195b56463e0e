//! Step 16, through the engines users run instead of Prometheus: single-node
//! VictoriaMetrics scrapes with the generated `prometheus/scrape.yml` (its
//! strict parsing refuses `prometheus.yml`), vmalert evaluates the generated
//! rule files against it (each group at its own `interval:`), and the
//! generated Alertmanager delivers: a service on a closed port must reach its
//! owner's receiver as ServiceDown.

use std::path::Path;

use super::stack::{
    DELIVERY_TIMEOUT, Process, exporter_and_alertmanager, free_port, generate_fixture, listen,
    received, spawn, step, wait_for,
};
use crate::outln;

/// One service on a closed loopback port: down from the start.
fn registry(blackbox: u16, alertmanager: u16, hook: u16, closed: u16) -> String {
    format!(
        "# End-to-end fixture: VictoriaMetrics and vmalert, every target on loopback.
services:
  - name: vm-s
    type: docker
    host: 127.0.0.1
    port: {closed}
    health_endpoint: /health
    alerts: [{{name: service_down, for: 1s}}]
    owner: vm-team
teams:
  vm-team:
    webhook_url: http://127.0.0.1:{hook}/vm-team
defaults:
  platform_owner: vm-team
  runbook_base_url: http://127.0.0.1/runbooks
settings:
  scrape_interval: 1s
  evaluation_interval: 1s
  blackbox_address: 127.0.0.1:{blackbox}
  alertmanager_address: 127.0.0.1:{alertmanager}
  alertmanager:
    group_wait: 1s
    group_interval: 1s
    repeat_interval: 1h
"
    )
}

pub(super) fn scenario(tmp: &Path) -> Result<(), String> {
    let tmp = tmp.join("victoria");
    let (bb, am, hook, closed, vm, vmalert) = (
        free_port()?,
        free_port()?,
        free_port()?,
        free_port()?,
        free_port()?,
        free_port()?,
    );
    step(
        16,
        "VictoriaMetrics scrapes (scrape.yml), vmalert evaluates the rule files: ServiceDown reaches the owner's receiver",
    );
    let out = generate_fixture(&tmp, &registry(bb, am, hook, closed), 16)?;
    let (_quit, inbox) = listen(hook)?;
    let _procs = programs(&tmp, &out, (bb, am, vm, vmalert))?;
    let delivered = || {
        received(&inbox)
            .into_iter()
            .any(|(path, status, labels, _)| {
                path == "/vm-team"
                    && status == "firing"
                    && labels["alertname"] == "ServiceDown"
                    && labels["service"] == "vm-s"
            })
    };
    let ((), took) = wait_for(
        "step 16: ServiceDown through VictoriaMetrics and vmalert delivered",
        DELIVERY_TIMEOUT,
        || delivered().then_some(()),
    )?;
    outln!(
        "ServiceDown through VictoriaMetrics and vmalert delivered in {} s",
        took.as_secs()
    );
    Ok(())
}

/// blackbox_exporter, Alertmanager, VictoriaMetrics and vmalert.
fn programs(
    tmp: &Path,
    out: &Path,
    (bb, am, vm, vmalert): (u16, u16, u16, u16),
) -> Result<Vec<Process>, String> {
    let s = |p: &Path| p.to_string_lossy().into_owned();
    let mut procs = exporter_and_alertmanager(tmp, out, bb, am)?;
    procs.push(spawn(
        "victoria-metrics",
        &[
            format!(
                "-promscrape.config={}",
                s(&out.join("prometheus/scrape.yml"))
            ),
            format!("-storageDataPath={}", s(&tmp.join("vm-data"))),
            format!("-httpListenAddr=127.0.0.1:{vm}"),
            "-retentionPeriod=1d".into(),
            // Answer vmalert's queries with the samples just scraped (30 s
            // behind by default).
            "-search.latencyOffset=1s".into(),
        ],
        &tmp.join("victoria-metrics.log"),
    )?);
    procs.push(spawn(
        "vmalert",
        &[
            format!("-rule={}", s(&out.join("prometheus/rules/*.rules.yml"))),
            format!("-datasource.url=http://127.0.0.1:{vm}"),
            format!("-notifier.url=http://127.0.0.1:{am}"),
            format!("-httpListenAddr=127.0.0.1:{vmalert}"),
            "-evaluationInterval=1s".into(),
        ],
        &tmp.join("vmalert.log"),
    )?);
    Ok(procs)
}

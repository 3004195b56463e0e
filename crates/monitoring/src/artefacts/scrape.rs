//! Prometheus' own configuration for docker and systemd services, the Blackbox
//! exporter's modules and the file_sd target files of its probes. k8s services
//! are left to the operator resources (`kubernetes`): they have no host.

use std::collections::BTreeMap;

use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::emit::Emit;
use crate::error::Failure;
use crate::error::RenderError;
use crate::output::{Format, Output};
use crate::plan::Plan;
use crate::templates::Renderer;
use registry::settings::Shards;
use registry::syntax::fnv1a;
use registry::{Probe, Registry, ServiceType};

#[derive(Serialize)]
struct Job<'a> {
    service: &'a str,
    owner: &'a str,
    /// Lets a down host's alert inhibit the service's.
    host: Option<&'a str>,
    address: &'a str,
    path: &'a str,
}

#[derive(Serialize)]
pub(crate) struct Target {
    pub target: String,
    pub labels: BTreeMap<&'static str, String>,
}

pub use crate::plan::jobs::BLACKBOX_JOBS;

/// Probe targets of docker and systemd services and of pages, by job.
pub(crate) fn probe_targets(reg: &Registry) -> BTreeMap<&'static str, Vec<Target>> {
    let mut by_job: BTreeMap<&'static str, Vec<Target>> = BLACKBOX_JOBS
        .iter()
        .map(|(j, _, _)| (*j, Vec::new()))
        .collect();
    let mut add = |job: &'static str, target: &str, labels: BTreeMap<&'static str, String>| {
        by_job.entry(job).or_default().push(Target {
            target: target.to_owned(),
            labels,
        });
    };
    for s in reg
        .services
        .iter()
        .filter(|s| s.kind != ServiceType::K8sDeployment)
    {
        let mut labels = BTreeMap::from([("service", s.name.clone()), ("owner", s.owner.clone())]);
        if let Some(h) = &s.host {
            labels.insert("host", h.clone());
        }
        match &s.probe {
            Probe::Http { url } => add("blackbox-http", url, labels),
            Probe::Tcp { address, .. } => add("blackbox-tcp", address, labels),
            Probe::None { .. } => {}
        }
    }
    for p in &reg.pages {
        if let Some(url) = &p.probe_url {
            let labels = BTreeMap::from([
                ("service", p.service.clone()),
                ("owner", p.owner.clone()),
                ("page", p.path.clone()),
            ]);
            add("blackbox-pages", url, labels);
        }
    }
    by_job
}

/// A job of one exporter on many hosts: its name and `host:port` targets.
#[derive(Serialize)]
pub(crate) struct HostJob {
    pub job: &'static str,
    pub targets: Vec<(String, String)>,
}

/// One job per host exporter, one target per host: node_exporter on every
/// docker and systemd host, cAdvisor on every docker host. Each target carries
/// `host`, which the alert expressions select on (with the container or unit).
pub(crate) fn host_jobs(reg: &Registry) -> Vec<HostJob> {
    let hosts = |kinds: &[ServiceType]| -> std::collections::BTreeSet<&str> {
        reg.services
            .iter()
            .filter(|s| kinds.contains(&s.kind))
            .filter_map(|s| s.host.as_deref())
            .collect()
    };
    let st = &reg.settings;
    [
        (
            "node_exporter",
            hosts(&[ServiceType::Docker, ServiceType::Systemd]),
            st.node_exporter_port,
        ),
        ("cadvisor", hosts(&[ServiceType::Docker]), st.cadvisor_port),
    ]
    .into_iter()
    .filter(|(_, hosts, _)| !hosts.is_empty())
    .map(|(job, hosts, port)| HostJob {
        job,
        targets: hosts
            .into_iter()
            .map(|h| (h.to_owned(), format!("{h}:{port}")))
            .collect(),
    })
    .collect()
}

/// One Prometheus of a split: which targets it keeps.
#[derive(Debug, Serialize)]
pub(crate) struct Shard {
    pub index: u32,
    pub count: u32,
    pub by: String,
    /// With `by: team`, the owner teams it scrapes, as an anchored regex
    /// (empty: none).
    pub owners: String,
}

/// The shard an owner team goes to whole with `shards: {by: team}`: its
/// name's FNV-1a hash modulo the count.
pub(crate) fn team_shard(owner: &str, count: u32) -> u32 {
    (fnv1a(owner.as_bytes()) % u64::from(count)) as u32
}

/// The shards of a split; with `by: team` each owner team goes whole to the
/// shard its name's FNV-1a hash picks, so its alerts see all its series.
pub(crate) fn shards_of(reg: &Registry, shards: &Shards) -> Vec<Shard> {
    let owners: std::collections::BTreeSet<&str> = reg
        .services
        .iter()
        .map(|s| s.owner.as_str())
        .chain(reg.pages.iter().map(|p| p.owner.as_str()))
        .collect();
    (0..shards.count)
        .map(|index| Shard {
            index,
            count: shards.count,
            by: shards.by.clone(),
            owners: owners
                .iter()
                .filter(|o| team_shard(o, shards.count) == index)
                .map(|o| o.replace('.', "\\."))
                .collect::<Vec<_>>()
                .join("|"),
        })
        .collect()
}

pub(crate) fn outputs(r: &Renderer, p: &Plan, emit: &mut Emit) -> Result<(), Failure> {
    emit(files(r, p.registry)?)
}

/// A job per scraped docker or systemd service.
fn service_jobs(reg: &Registry) -> Vec<Job<'_>> {
    reg.services
        .iter()
        .filter_map(|s| {
            s.scrape.as_ref().map(|sc| Job {
                service: &s.name,
                owner: &s.owner,
                host: s.host.as_deref(),
                address: &sc.address,
                path: &sc.path,
            })
        })
        .collect()
}

pub(crate) fn files(r: &Renderer, reg: &Registry) -> Result<Vec<Output>, RenderError> {
    let source = reg.source();
    let jobs = service_jobs(reg);
    let blackbox: Vec<_> = BLACKBOX_JOBS
        .iter()
        .map(|(job, module, file)| {
            BTreeMap::from([("job", *job), ("module", *module), ("file", *file)])
        })
        .collect();
    let settings = &reg.settings;
    let hosts = host_jobs(reg);
    let render = |shard: Option<Shard>, scrape_only: bool| {
        r.render(
            "prometheus/prometheus.yml.j2",
            context! {
                settings => Serde(settings), jobs => Serde(&jobs), blackbox => Serde(&blackbox), hosts => Serde(&hosts), shard => Serde(&shard),
                monitoring => context! { prometheus => crate::plan::jobs::PROMETHEUS_JOB, alertmanager => crate::plan::jobs::ALERTMANAGER_JOB },
                scrape_only,
            },
        )
    };
    let config = |shard: Option<Shard>| render(shard, false);
    // The same scrape jobs without rule files and alerting, which
    // VictoriaMetrics and vmagent refuse under their strict parsing (vmalert
    // loads the rule files and sends to Alertmanager instead).
    let mut out = vec![Output::new(
        "prometheus/scrape.yml",
        Format::Yaml,
        &source,
        &render(None, true)?,
    )];
    match &settings.prometheus.shards {
        None => out.push(Output::new(
            "prometheus/prometheus.yml",
            Format::Yaml,
            &source,
            &config(None)?,
        )),
        Some(shards) => {
            for shard in shards_of(reg, shards) {
                let path = format!("prometheus/shard-{}.prometheus.yml", shard.index);
                out.push(Output::new(
                    path,
                    Format::Yaml,
                    &source,
                    &config(Some(shard))?,
                ));
            }
        }
    }
    for (job, targets) in probe_targets(reg) {
        let file = BLACKBOX_JOBS
            .iter()
            .find(|(j, _, _)| *j == job)
            .map(|(_, _, f)| *f)
            .unwrap_or_default();
        let body = r.render(
            "prometheus/targets.yml.j2",
            context! { targets => Serde(&targets) },
        )?;
        out.push(Output::new(
            format!("prometheus/{file}"),
            Format::Yaml,
            &source,
            &body,
        ));
    }
    out.push(blackbox_modules(r)?);
    Ok(out)
}

/// The Blackbox modules, with the probe timeouts validation bounds the
/// probe-duration thresholds by.
fn blackbox_modules(r: &Renderer) -> Result<Output, RenderError> {
    let ctx = context! {
        // `5`, not `5.0`: Prometheus' durations take no decimals.
        probe_timeout => registry::catalogue::PROBE_TIMEOUT_SECONDS.to_string(),
        page_probe_timeout => registry::catalogue::PAGE_PROBE_TIMEOUT_SECONDS.to_string(),
    };
    Ok(Output::new(
        "blackbox/blackbox.yml",
        Format::Yaml,
        "templates/blackbox/blackbox.yml.j2",
        &r.render("blackbox/blackbox.yml.j2", ctx)?,
    ))
}

//! The monitoring plan: a compact, readable summary of what the registry turns
//! into (per service: owner, probe, alerts with severity). It is kept as a
//! snapshot so a reviewer sees what a registry change does to alerting.

use std::collections::BTreeMap;

use minijinja::context;
use minijinja::value::Serde;

use crate::error::RenderError;
use crate::plan::Plan;
use crate::templates::Renderer;
use registry::catalogue::Exporter;
use registry::{Probe, Service, ServiceType};

pub(crate) const TEMPLATE: &str = "plan.txt.j2";

/// Which job scrapes the series an alert of `s` reads, for the plan: a reviewer
/// sees for each alert which exporter and which job feed it.
fn fed_by(s: &Service, exporter: &str) -> String {
    let k8s = s.kind == ServiceType::K8sDeployment;
    match Exporter::of(exporter) {
        Some(Exporter::Blackbox) if k8s => "Probe resource".into(),
        Some(Exporter::Blackbox) => match s.probe {
            Probe::Tcp { .. } => "job blackbox-tcp".into(),
            _ => "job blackbox-http".into(),
        },
        Some(Exporter::NodeExporter) => "job node_exporter".into(),
        Some(Exporter::Cadvisor) if k8s => "the cluster (kubelet)".into(),
        Some(Exporter::Cadvisor) => "job cadvisor".into(),
        Some(Exporter::KubeStateMetrics) => "the cluster".into(),
        Some(Exporter::Application | Exporter::BesideService) if k8s => "ServiceMonitor".into(),
        Some(Exporter::Application | Exporter::BesideService) => format!("job {}", s.name),
        Some(Exporter::Monitoring) => "its own job".into(),
        None => "unknown".into(),
    }
}

/// The platform's rule files (hosts and prober, the cluster's prober, the
/// monitoring's own), or none.
fn platform_files(p: &Plan) -> Option<String> {
    let files: Vec<String> = [
        (
            &p.rules.platform,
            crate::plan::delivery::platform(p.registry),
        ),
        (
            &p.rules.cluster_prober,
            crate::plan::delivery::cluster_platform(p.registry),
        ),
        (
            &p.rules.monitoring,
            crate::plan::delivery::monitoring(p.registry),
        ),
    ]
    .into_iter()
    .filter(|(g, _)| g.is_some())
    .map(|(_, at)| format!("prometheus/{}/{}.rules.yml", at.dir("rules"), at.stem))
    .collect();
    (!files.is_empty()).then(|| files.join(", "))
}

pub(crate) fn render(r: &Renderer, p: &Plan) -> Result<String, RenderError> {
    let (reg, rules, slo, dashboards) = (p.registry, &p.rules, &p.slo, &p.dashboards);
    let fed: BTreeMap<&str, BTreeMap<&str, String>> = reg
        .services
        .iter()
        .filter_map(|s| {
            let group = rules.services.get(&s.name)?;
            Some((
                s.name.as_str(),
                group
                    .rules
                    .iter()
                    .map(|r| (r.name.as_str(), fed_by(s, &r.exporter)))
                    .collect(),
            ))
        })
        .collect();
    // Who evaluates each service's rules, and from which file.
    let delivered: BTreeMap<&str, String> = reg
        .services
        .iter()
        .filter(|s| rules.services.contains_key(&s.name))
        .map(|s| {
            let p = crate::plan::delivery::service(reg, &s.name, &s.owner);
            let file = format!("prometheus/{}/{}.rules.yml", p.dir("rules"), p.stem);
            let by = match (p.cluster_only, p.resource) {
                (false, false) => "loaded by prometheus.yml".to_owned(),
                (true, _) => format!("delivered as PrometheusRule {}.rules", p.stem),
                (false, true) => format!(
                    "loaded by prometheus.yml and delivered as PrometheusRule {}.rules",
                    p.stem
                ),
            };
            (s.name.as_str(), format!("{file}, {by}"))
        })
        .collect();
    // With `shards: {by: team}` each owner team's shard (as scrape.rs splits them).
    let team_shard: BTreeMap<&str, u32> = match &reg.settings.prometheus.shards {
        Some(sh) if sh.by == "team" => reg
            .services
            .iter()
            .map(|s| {
                (
                    s.owner.as_str(),
                    super::scrape::team_shard(&s.owner, sh.count),
                )
            })
            .collect(),
        _ => BTreeMap::new(),
    };
    r.render(
        TEMPLATE,
        context! {
            team_shard => Serde(&team_shard),
            delivered => Serde(&delivered),
            fed => Serde(&fed),
            services => Serde(&reg.services),
            pages => Serde(&reg.pages),
            endpoints => Serde(&reg.endpoints),
            objectives => Serde(&reg.objectives),
            teams => Serde(&reg.teams),
            service_rules => Serde(&rules.services),
            page_rules => Serde(&rules.pages),
            page_app_rules => Serde(&rules.page_apps),
            platform => Serde(&reg.platform),
            platform_rules => platform_files(p),
            slo_plans => Serde(&slo.plans),
            routes => Serde(&super::alertmanager::team_routes(reg)),
            default_webhook => reg.settings.alertmanager.default_webhook_url.clone(),
            dashboards => Serde(&dashboards.iter().map(|(_, d)| (&d.uid, &d.title)).collect::<Vec<_>>()),
            settings => Serde(&reg.settings),
        },
    )
}

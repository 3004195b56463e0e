//! prometheus-operator resources for `kubectl apply -f generated/kubernetes/`:
//! a ServiceMonitor per k8s service with `prometheus: true` (scoped to its
//! namespace and `app` label), a Probe per k8s service with an HTTP health path
//! (through its in-cluster DNS name), and a PrometheusRule per rule file stem
//! whose groups the operator's Prometheus evaluates (`settings.prometheus.rules`).
//! With `group_by: team` a team's ServiceMonitors and Probes share a file each.

use std::collections::{BTreeMap, BTreeSet};

use minijinja::context;
use minijinja::value::{Serde, Value};

use super::emit::Emit;
use crate::error::Failure;
use crate::error::RenderError;
use crate::output::{Format, Output};
use crate::parallel::par_map;
use crate::plan::Plan;
use crate::plan::rule::Group;
use crate::templates::Renderer;
use registry::settings::GroupBy;
use registry::{Probe, Service, ServiceType};

pub(crate) const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "cargo-xtask-gen");

/// The Secret with the Alertmanager the operator's Prometheus also sends to.
const ALERTMANAGERS_SECRET: &str = "kubernetes/_alertmanagers.secret.yaml";

/// Resources handed on per this many services, so 100,000 services' are
/// never all held.
const PART: usize = 2048;

/// PrometheusRules (each a service's or team's rules) rendered per part.
const RULES_PART: usize = 16;

pub(crate) fn outputs(r: &Renderer, p: &Plan, emit: &mut Emit) -> Result<(), Failure> {
    let reg = p.registry;
    let settings = &reg.settings;
    let mut labels = settings.kubernetes.labels.clone();
    labels.insert(MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned());
    // Converted once: a template value is shared, not copied, per resource.
    let (settings, labels) = (Value::from(Serde(settings)), Value::from(Serde(&labels)));
    // With team grouping, a team's ServiceMonitors and Probes are one
    // multi-document file each (kubectl applies every document): two files per
    // team instead of two per service, handed on a team at a time.
    let by_team = reg.settings.prometheus.group_by == GroupBy::Team;
    let k8s: Vec<&Service> = reg
        .services
        .iter()
        .filter(|s| s.kind == ServiceType::K8sDeployment)
        .collect();
    let render = |s: &&Service| resources(r, s, &settings, &labels);
    if by_team {
        per_team(&k8s, &render, emit)?;
    } else {
        per_service(&k8s, &render, emit)?;
    }
    let mut out = Vec::new();
    prometheus_rules(r, p, (&settings, &labels), &mut out, emit)?;
    emit(out)
}

/// A (kind, YAML document) list per service.
type Resources<'r> =
    dyn Fn(&&Service) -> Result<Vec<(&'static str, String)>, RenderError> + Sync + 'r;

/// A file per resource, handed on `PART` services at a time.
fn per_service(k8s: &[&Service], render: &Resources, emit: &mut Emit) -> Result<(), Failure> {
    for part in k8s.chunks(PART) {
        let mut out = Vec::new();
        for (s, docs) in part.iter().zip(par_map(part, render)?) {
            let source = format!("{} (service {})", s.source, s.name);
            for (kind, body) in docs {
                let path = format!("kubernetes/{}.{kind}.yaml", s.name);
                out.push(Output::new(path, Format::Yaml, &source, &body));
            }
        }
        emit(out)?;
    }
    Ok(())
}

/// A multi-document file per team and kind, handed on a team at a time.
fn per_team(k8s: &[&Service], render: &Resources, emit: &mut Emit) -> Result<(), Failure> {
    let mut teams: BTreeMap<&str, Vec<&Service>> = BTreeMap::new();
    for s in k8s {
        teams.entry(&s.owner).or_default().push(s);
    }
    for (team, services) in teams {
        let mut docs: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for resources in par_map(&services, render)? {
            for (kind, body) in resources {
                docs.entry(kind).or_default().push(body);
            }
        }
        let files: BTreeSet<&str> = services.iter().map(|s| s.source.as_str()).collect();
        let files: Vec<&str> = files.into_iter().collect();
        let source = format!("{} (team {team})", files.join(", "));
        let bundles = docs.into_iter().map(|(kind, docs)| {
            let path = format!("kubernetes/{team}.{kind}s.yaml");
            Output::new(path, Format::Yaml, &source, &docs.join("---\n"))
        });
        emit(bundles.collect())?;
    }
    Ok(())
}

/// One PrometheusRule per file stem (a service or a team) whose groups the
/// operator's Prometheus evaluates (see `delivery`): its alerts and SLOs.
fn prometheus_rules(
    r: &Renderer,
    p: &Plan,
    (settings, labels): (&Value, &Value),
    out: &mut Vec<Output>,
    emit: &mut Emit,
) -> Result<(), Failure> {
    let reg = p.registry;
    let mut by_stem: BTreeMap<String, (Vec<&Group>, Vec<String>)> = BTreeMap::new();
    let placed = crate::plan::alerts::by_placement(reg, &p.rules)
        .into_iter()
        .chain(crate::plan::slo::by_placement(reg, &p.slo));
    for (at, (groups, sources)) in placed.filter(|(at, _)| at.resource) {
        let e = by_stem.entry(at.stem).or_default();
        e.0.extend(groups);
        for s in sources {
            if !e.1.contains(&s) {
                e.1.push(s);
            }
        }
    }
    // The cluster's Prometheus evaluates these groups and sends to its own
    // Alertmanager, whose routes are not the generated ones: the Secret its
    // `additionalAlertManagerConfigs` names sends them to the generated one too.
    if let (Some(address), false) = (
        &reg.settings.kubernetes.alertmanager_address,
        by_stem.is_empty(),
    ) {
        let ctx = context! { address, settings => settings.clone(), labels => labels.clone() };
        out.push(Output::new(
            ALERTMANAGERS_SECRET,
            Format::Yaml,
            &reg.source(),
            &r.render("kubernetes/alertmanagers.secret.yaml.j2", ctx)?,
        ));
    }
    let by_stem: Vec<_> = by_stem.into_iter().collect();
    // A service's or team's rules each: rendered a few at a time on all
    // cores, each part handed on before the next.
    for part in by_stem.chunks(RULES_PART) {
        emit(std::mem::take(out))?;
        let rendered = par_map(part, |(stem, (groups, sources))| {
            // `<stem>.rules` never equals `pages.rules`: stems are names or `_pages`.
            let name = format!("{}.rules", stem.trim_start_matches('_'));
            let ctx = context! { name, groups => Serde(groups), interval => &reg.settings.evaluation_interval, settings => settings.clone(), labels => labels.clone() };
            let body = r.render("kubernetes/prometheusrule.yaml.j2", ctx)?;
            // Each resource names only the files it derives from, so adding a
            // registry file does not rewrite every resource.
            let path = format!("kubernetes/{stem}.prometheusrule.yaml");
            Ok(Output::new(path, Format::Yaml, &sources.join("; "), &body))
        })?;
        out.extend(rendered);
    }
    Ok(())
}

/// A k8s service's ServiceMonitor (with `prometheus: true`) and Probe (with
/// an HTTP health path), as (kind, YAML document).
fn resources(
    r: &Renderer,
    s: &Service,
    settings: &Value,
    labels: &Value,
) -> Result<Vec<(&'static str, String)>, RenderError> {
    let ctx = context! { service => Serde(s), settings => settings.clone(), labels => labels.clone(), job => crate::plan::jobs::CLUSTER_PROBE_JOB };
    let mut out = Vec::new();
    if s.monitoring.prometheus {
        out.push((
            "servicemonitor",
            r.render("kubernetes/servicemonitor.yaml.j2", ctx.clone())?,
        ));
    }
    if matches!(s.probe, Probe::Http { .. }) {
        out.push(("probe", r.render("kubernetes/probe.yaml.j2", ctx)?));
    }
    Ok(out)
}

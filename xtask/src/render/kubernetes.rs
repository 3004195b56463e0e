//! prometheus-operator resources for `kubectl apply -f generated/kubernetes/`:
//! a ServiceMonitor per k8s service with `prometheus: true` (scoped to its
//! namespace and `app` label), a Probe per k8s service with an HTTP health path
//! (through its in-cluster DNS name), and a PrometheusRule per service wrapping
//! the same groups as the plain rule files (pages in `_pages.prometheusrule.yaml`).

use std::collections::BTreeMap;

use minijinja::context;
use minijinja::value::Serde;

use super::Renderer;
use super::alert_rules::Rules;
use super::rule_file::Group;
use super::slo::Slo;
use crate::output::{Format, Output};
use crate::registry::UNASSIGNED;
use crate::registry::{Probe, Registry, ServiceType};

pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "cargo-xtask-gen");

pub fn outputs(
    r: &Renderer,
    reg: &Registry,
    rules: &Rules,
    slo: &Slo,
) -> Result<Vec<Output>, String> {
    let settings = &reg.settings;
    let mut labels = settings.kubernetes.labels.clone();
    labels.insert(MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned());
    let mut out = Vec::new();
    for s in reg
        .services
        .iter()
        .filter(|s| s.kind == ServiceType::K8sDeployment)
    {
        let ctx =
            context! { service => Serde(s), settings => Serde(settings), labels => Serde(&labels) };
        let source = format!("{} (service {})", s.source, s.name);
        if s.monitoring.prometheus {
            let body = r.render("kubernetes/servicemonitor.yaml.j2", ctx.clone())?;
            out.push(Output::new(
                format!("kubernetes/{}.servicemonitor.yaml", s.name),
                Format::Yaml,
                &source,
                &body,
            ));
        }
        if matches!(s.probe, Probe::Http { .. }) {
            let body = r.render("kubernetes/probe.yaml.j2", ctx)?;
            out.push(Output::new(
                format!("kubernetes/{}.probe.yaml", s.name),
                Format::Yaml,
                &source,
                &body,
            ));
        }
    }
    // One PrometheusRule per service: its alerts and its endpoints' SLO rules.
    let mut by_service: BTreeMap<&str, Vec<&Group>> = BTreeMap::new();
    for (name, g) in &rules.services {
        by_service.entry(name).or_default().push(g);
    }
    for (name, groups) in &slo.files {
        by_service.entry(name).or_default().extend(groups);
    }
    // Each resource names only the files it derives from, so adding a registry
    // file does not rewrite every resource.
    let mut sources: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in &reg.services {
        sources.entry(&s.name).or_default().push(&s.source);
    }
    for e in &reg.endpoints {
        let service = e.service.as_deref().unwrap_or(UNASSIGNED);
        sources.entry(service).or_default().push(&e.source);
    }
    for (name, groups) in by_service {
        let mut files = sources.remove(name).unwrap_or_default();
        files.sort_unstable();
        files.dedup();
        let source = format!("{} (service {name})", files.join(", "));
        // `<service>.rules` never equals `pages`, so the names stay unique.
        let ctx = context! { name => format!("{name}.rules"), groups => Serde(&groups), settings => Serde(settings), labels => Serde(&labels) };
        let body = r.render("kubernetes/prometheusrule.yaml.j2", ctx)?;
        out.push(Output::new(
            format!("kubernetes/{name}.prometheusrule.yaml"),
            Format::Yaml,
            &source,
            &body,
        ));
    }
    if !rules.pages.is_empty() {
        let mut files: Vec<&str> = reg.pages.iter().map(|p| p.source.as_str()).collect();
        files.sort_unstable();
        files.dedup();
        let source = format!("{} (pages)", files.join(", "));
        let groups: Vec<&Group> = rules.pages.values().collect();
        let ctx = context! { name => "pages", groups => Serde(&groups), settings => Serde(settings), labels => Serde(&labels) };
        let body = r.render("kubernetes/prometheusrule.yaml.j2", ctx)?;
        out.push(Output::new(
            "kubernetes/_pages.prometheusrule.yaml",
            Format::Yaml,
            &source,
            &body,
        ));
    }
    Ok(out)
}

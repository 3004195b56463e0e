//! prometheus-operator resources for `kubectl apply -f generated/kubernetes/`:
//! a ServiceMonitor per k8s service with `prometheus: true` (scoped to its
//! namespace and `app` label), a Probe per k8s service with an HTTP health path
//! (through its in-cluster DNS name), and a PrometheusRule per rule file stem
//! whose groups the operator's Prometheus evaluates (`settings.prometheus.rules`).

use std::collections::BTreeMap;

use minijinja::context;
use minijinja::value::{Serde, Value};

use super::Renderer;
use super::alert_rules::Rules;
use super::rule_file::Group;
use super::slo::Slo;
use crate::output::{Format, Output};
use crate::registry::{Probe, Registry, ServiceType};

pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "cargo-xtask-gen");

/// Resources handed on per this many services, so 100,000 services' are
/// never all held.
const PART: usize = 2048;

pub fn outputs(
    r: &Renderer,
    reg: &Registry,
    rules: &Rules,
    slo: &Slo,
    emit: &mut super::Emit,
) -> Result<(), String> {
    let settings = &reg.settings;
    let mut labels = settings.kubernetes.labels.clone();
    labels.insert(MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned());
    // Converted once: a template value is shared, not copied, per resource.
    let (settings, labels) = (Value::from(Serde(settings)), Value::from(Serde(&labels)));
    let mut out = Vec::new();
    for s in reg
        .services
        .iter()
        .filter(|s| s.kind == ServiceType::K8sDeployment)
    {
        if out.len() >= PART {
            emit(std::mem::take(&mut out))?;
        }
        let ctx = context! { service => Serde(s), settings => settings.clone(), labels => labels.clone() };
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
    // One PrometheusRule per file stem (a service or a team) whose groups the
    // operator's Prometheus evaluates (see `delivery`): its alerts and SLOs.
    let mut by_stem: BTreeMap<String, (Vec<&Group>, Vec<String>)> = BTreeMap::new();
    let placed = super::alert_rules::by_placement(reg, rules)
        .into_iter()
        .chain(super::slo::by_placement(reg, slo));
    for (p, (groups, sources)) in placed.filter(|(p, _)| p.resource) {
        let e = by_stem.entry(p.stem).or_default();
        e.0.extend(groups);
        for s in sources {
            if !e.1.contains(&s) {
                e.1.push(s);
            }
        }
    }
    for (stem, (groups, sources)) in by_stem {
        // Each resource names only the files it derives from, so adding a
        // registry file does not rewrite every resource.
        let source = sources.join("; ");
        // `<stem>.rules` never equals `pages.rules`: stems are names or `_pages`.
        let name = format!("{}.rules", stem.trim_start_matches('_'));
        let ctx = context! { name, groups => Serde(&groups), settings => settings.clone(), labels => labels.clone() };
        let body = r.render("kubernetes/prometheusrule.yaml.j2", ctx)?;
        // Each is a team's or service's rules: handed on one at a time.
        emit(std::mem::take(&mut out))?;
        out.push(Output::new(
            format!("kubernetes/{stem}.prometheusrule.yaml"),
            Format::Yaml,
            &source,
            &body,
        ));
    }
    emit(out)
}

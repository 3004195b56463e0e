//! Where each rule group goes (`settings.prometheus`): its file's stem (the
//! service, or the owner team), and who evaluates it. Groups the stand-alone
//! Prometheus loads sit in `rules/` and `slo/`; groups only the operator's
//! Prometheus evaluates (as a PrometheusRule) sit in `rules/cluster/` and
//! `slo/cluster/`, where no `rule_files` glob reaches them and the unit tests
//! still run against them.

use std::collections::BTreeMap;

use crate::plan::rule::Group;
use registry::settings::{GroupBy, RuleDelivery};
use registry::{Registry, ServiceType, UNASSIGNED};

/// File stem of the pages' rule file.
pub(crate) const PAGES_STEM: &str = "_pages";
/// File stem (and group name) of the hosts' and the prober's rules.
pub(crate) const PLATFORM_STEM: &str = "_platform";
/// File stem (and group name) of the rules over the generated Prometheus and
/// Alertmanager themselves.
pub(crate) const MONITORING_STEM: &str = "_monitoring";

/// Each placement's groups, with the registry files they come from.
pub(crate) type Placed<'a> = BTreeMap<Placement, (Vec<&'a Group>, Vec<String>)>;

/// Where one rule group is delivered.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Placement {
    /// `rules/` or `rules/cluster/` (and `slo/…`): whether the stand-alone
    /// Prometheus loads it.
    pub cluster_only: bool,
    /// The file stem: a service, `_pages`, or an owner team.
    pub stem: String,
    /// Whether a PrometheusRule carries it.
    pub resource: bool,
}

impl Placement {
    /// The folder under `prometheus/` of a rule file of `kind` (`rules`, `slo`).
    pub(crate) fn dir(&self, kind: &str) -> String {
        if self.cluster_only {
            format!("{kind}/cluster")
        } else {
            kind.to_owned()
        }
    }
}

/// The placement of a service's groups (alert rules and SLOs); `service` may
/// be `unassigned` (SLOs of endpoints without one).
pub(crate) fn service(reg: &Registry, service: &str, owner: &str) -> Placement {
    let k8s = is_k8s(reg, service);
    let stem = match reg.settings.prometheus.group_by {
        GroupBy::Service => service.to_owned(),
        GroupBy::Team => owner.to_owned(),
    };
    placed(reg, stem, k8s)
}

/// The placement of the pages' group: probed by the stand-alone Prometheus.
pub(crate) fn pages(reg: &Registry) -> Placement {
    placed(reg, PAGES_STEM.to_owned(), false)
}

/// The placement of the pages' rules over their serving service's metrics:
/// evaluated where that service is scraped.
pub(crate) fn page_apps(reg: &Registry, service: &str) -> Placement {
    placed(reg, PAGES_STEM.to_owned(), is_k8s(reg, service))
}

/// Whether the service is a k8s deployment, whose rules the cluster evaluates.
fn is_k8s(reg: &Registry, service: &str) -> bool {
    reg.service(service)
        .is_some_and(|s| s.kind == ServiceType::K8sDeployment)
}

/// The placement of the platform's group: the stand-alone Prometheus scrapes
/// the hosts and runs the file-listed probes; a registry of k8s services only
/// has its probes run by the cluster's Prometheus.
pub(crate) fn platform(reg: &Registry) -> Placement {
    let cluster = reg
        .services
        .iter()
        .all(|s| s.kind == ServiceType::K8sDeployment)
        && reg.pages.iter().all(|p| p.probe_url.is_none());
    placed(reg, PLATFORM_STEM.to_owned(), cluster)
}

/// The placement of the monitoring's own group: the stand-alone Prometheus
/// scrapes itself and the generated Alertmanager, whatever the services are.
pub(crate) fn monitoring(reg: &Registry) -> Placement {
    placed(reg, MONITORING_STEM.to_owned(), false)
}

/// Where the cluster's share of the platform's rules goes (its prober's).
pub(crate) fn cluster_platform(reg: &Registry) -> Placement {
    placed(reg, PLATFORM_STEM.to_owned(), true)
}

fn placed(reg: &Registry, stem: String, k8s: bool) -> Placement {
    let (files, resource) = match reg.settings.prometheus.rules {
        RuleDelivery::Auto => (!k8s, k8s),
        RuleDelivery::Files => (true, false),
        RuleDelivery::Resources => (false, true),
        RuleDelivery::Both => (true, true),
    };
    Placement {
        cluster_only: !files,
        stem,
        resource,
    }
}

/// The owner of a service (for team grouping), `unassigned` when unknown.
pub(crate) fn owner_of<'a>(reg: &'a Registry, service: &str) -> &'a str {
    reg.service(service)
        .map_or(UNASSIGNED, |s| s.owner.as_str())
}

/// Adds where a service's groups (its SLOs' when `slos`) come from to a
/// file's sources: the file and the service, or with team grouping the file
/// and the team once, so a team's header stays one line however many
/// services it has.
pub(crate) fn add_source(
    reg: &Registry,
    sources: &mut Vec<String>,
    file: &str,
    slos: bool,
    (service, owner): (&str, &str),
) {
    let of = if slos { "SLOs of " } else { "" };
    let source = match reg.settings.prometheus.group_by {
        GroupBy::Service if slos => format!("{file} (SLOs of {service})"),
        GroupBy::Service => format!("{file} (service {service})"),
        GroupBy::Team => format!("{file} ({of}team {owner})"),
    };
    if !sources.contains(&source) {
        sources.push(source);
    }
}

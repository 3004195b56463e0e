//! What no registry file lists but every service depends on: the hosts of
//! docker and systemd services, and the Blackbox prober. Their failure modes
//! come from the same catalogue; their alerts belong to `defaults.platform_owner`.

use std::collections::{BTreeMap, BTreeSet};

use super::alerts::modes;
use super::checker::Cx;
use crate::catalogue::{Need, TargetKind};
use crate::failure_modes::Facts;
use crate::{Host, Page, Platform, Service, ServiceType, UNASSIGNED, Watched};

/// `defaults.platform_alerts`, checked as a service's list: the hosts' and
/// the prober's.
fn overrides(cx: &mut Cx) -> (Vec<crate::AlertUse>, Vec<crate::AlertUse>) {
    let Some((fi, d)) = cx.defaults else {
        return (Vec::new(), Vec::new());
    };
    let src = &cx.sources[fi];
    let catalogue = cx.c.catalogue;
    let of_prober = |a: &&serde_saphyr::Spanned<crate::model::AlertRef>| {
        catalogue
            .alerts
            .get(&a.value.name.value)
            .is_some_and(|t| t.applies_to.contains(&TargetKind::Prober))
    };
    let list = d.value.platform_alerts.iter().enumerate();
    let field = "defaults.platform_alerts";
    let host = cx.c.listed(
        src,
        list.clone().filter(|(_, a)| !of_prober(a)),
        field,
        TargetKind::Host,
        &|n| n == Need::Host,
    );
    let prober = cx.c.listed(
        src,
        list.filter(|(_, a)| of_prober(a)),
        field,
        TargetKind::Prober,
        &|_| true,
    );
    (host, prober)
}

pub(super) fn check(cx: &mut Cx, services: &[Service], pages: &[Page]) -> Platform {
    let mut on_host: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for s in services
        .iter()
        .filter(|s| s.kind != ServiceType::K8sDeployment)
    {
        if let Some(h) = &s.host {
            on_host
                .entry(h)
                .or_default()
                .insert(format!("{} ({})", s.name, s.owner));
        }
    }
    let facts = Facts {
        health_command: None,
        https: false,
    };
    // node_exporter runs on every docker and systemd host (`host_exporters`).
    let has = |n: Need| n == Need::Host;
    let none = BTreeMap::new();
    let (host_alerts, prober_alerts) = overrides(cx);
    let hosts = on_host
        .into_iter()
        .map(|(name, services)| {
            let (added, modes) = modes(
                cx.c.catalogue,
                TargetKind::Host,
                &facts,
                &has,
                None,
                &host_alerts,
                &none,
            );
            let alerts = host_alerts.iter().cloned().chain(added).collect();
            Host {
                name: name.to_owned(),
                services: services.into_iter().collect(),
                alerts,
                modes,
            }
        })
        .collect::<Vec<_>>();
    let probed =
        services.iter().any(|s| s.probe.exists()) || pages.iter().any(|p| p.probe_url.is_some());
    let prober = probed.then(|| {
        let (added, modes) = modes(
            cx.c.catalogue,
            TargetKind::Prober,
            &facts,
            &|_| true,
            None,
            &prober_alerts,
            &none,
        );
        let alerts = prober_alerts.iter().cloned().chain(added).collect();
        Watched { alerts, modes }
    });
    let owner = cx.default(|d| &d.platform_owner);
    if owner.is_none() && (!hosts.is_empty() || prober.is_some()) {
        cx.c.missing(
            cx.sources,
            "defaults.platform_owner",
            "no platform owner: the alerts of hosts and of the prober are labelled owner=\"unassigned\" and go to the default receiver",
            "set `defaults: {platform_owner: <team>}`, the team that runs the hosts and the monitoring",
        );
    }
    Platform {
        owner: owner.unwrap_or_else(|| UNASSIGNED.to_owned()),
        hosts,
        prober,
    }
}

//! What no registry file lists but every service depends on: the hosts of
//! docker and systemd services, the Blackbox prober, and the Prometheus and
//! Alertmanager every alert goes through. Their failure modes come from the
//! same catalogue; their alerts belong to `defaults.platform_owner`.

use std::collections::{BTreeMap, BTreeSet};

use super::alerts::modes;
use super::checker::Cx;
use crate::catalogue::{Need, TargetKind};
use crate::failure_modes::Facts;
use crate::{Host, Page, Platform, Service, ServiceType, UNASSIGNED, Watched};

/// The platform's alerts by what they watch.
struct Overrides {
    host: Vec<crate::AlertUse>,
    prober: Vec<crate::AlertUse>,
    monitoring: Vec<crate::AlertUse>,
}

/// `defaults.platform_alerts`, checked as a service's list: the hosts', the
/// prober's and the monitoring's, each by the kind its alert applies to.
fn overrides(cx: &mut Cx, heartbeat: bool) -> Overrides {
    let Some((fi, d)) = cx.defaults else {
        return Overrides {
            host: Vec::new(),
            prober: Vec::new(),
            monitoring: Vec::new(),
        };
    };
    let src = &cx.sources[fi];
    let catalogue = cx.c.catalogue;
    let kind_of = |a: &serde_saphyr::Spanned<crate::model::AlertRef>| {
        let applies = |k| {
            catalogue
                .alerts
                .get(&a.value.name.value)
                .is_some_and(|t| t.applies_to.contains(&k))
        };
        [TargetKind::Prober, TargetKind::Monitoring]
            .into_iter()
            .find(|k| applies(*k))
            .unwrap_or(TargetKind::Host)
    };
    let list = d.value.platform_alerts.iter().enumerate();
    let field = "defaults.platform_alerts";
    let mut of = |kind: TargetKind, has: &dyn Fn(Need) -> bool| {
        cx.c.listed(
            src,
            list.clone().filter(|(_, a)| kind_of(a) == kind),
            field,
            kind,
            has,
        )
    };
    Overrides {
        host: of(TargetKind::Host, &|n| n == Need::Host),
        prober: of(TargetKind::Prober, &|_| true),
        monitoring: of(TargetKind::Monitoring, &|n| {
            n != Need::Heartbeat || heartbeat
        }),
    }
}

/// Each docker and systemd host, with its services and the host alerts.
fn hosts(cx: &Cx, services: &[Service], host_alerts: &[crate::AlertUse]) -> Vec<Host> {
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
    on_host
        .into_iter()
        .map(|(name, services)| {
            // node_exporter runs on every docker and systemd host (`host_exporters`).
            let (added, modes) = modes(
                cx.c.catalogue,
                TargetKind::Host,
                &facts,
                &|n| n == Need::Host,
                None,
                host_alerts,
                &BTreeMap::new(),
            );
            Host {
                name: name.to_owned(),
                services: services.into_iter().collect(),
                alerts: host_alerts.iter().cloned().chain(added).collect(),
                modes,
            }
        })
        .collect()
}

pub(super) fn check(cx: &mut Cx, services: &[Service], pages: &[Page]) -> Platform {
    let facts = Facts {
        health_command: None,
        https: false,
    };
    let none = BTreeMap::new();
    let heartbeat = cx.settings.alertmanager.heartbeat.is_some();
    let Overrides {
        host: host_alerts,
        prober: prober_alerts,
        monitoring: monitoring_alerts,
    } = overrides(cx, heartbeat);
    let hosts = hosts(cx, services, &host_alerts);
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
    let registered = !services.is_empty() || !pages.is_empty();
    let monitoring = monitoring(cx, registered, heartbeat, monitoring_alerts);
    let owner = cx.default(|d| &d.platform_owner);
    if owner.is_none() {
        cx.c.missing(
            cx.sources,
            "defaults.platform_owner",
            "no platform owner: the alerts of hosts, of the prober and of Prometheus and Alertmanager themselves are labelled owner=\"unassigned\" and go to the default receiver",
            "set `defaults: {platform_owner: <team>}`, the team that runs the hosts and the monitoring",
        );
    }
    Platform {
        owner: owner.unwrap_or_else(|| UNASSIGNED.to_owned()),
        hosts,
        prober,
        monitoring,
    }
}

/// The generated Prometheus and Alertmanager, watched once anything is
/// registered (an empty registry delivers nothing).
fn monitoring(
    cx: &mut Cx,
    registered: bool,
    heartbeat: bool,
    listed: Vec<crate::AlertUse>,
) -> Watched {
    if !registered {
        return Watched {
            alerts: Vec::new(),
            modes: Vec::new(),
        };
    }
    let facts = Facts {
        health_command: None,
        https: false,
    };
    let (added, modes) = modes(
        cx.c.catalogue,
        TargetKind::Monitoring,
        &facts,
        &|n| n == Need::Heartbeat && heartbeat,
        None,
        &listed,
        &BTreeMap::new(),
    );
    let watched = Watched {
        alerts: listed.into_iter().chain(added).collect(),
        modes,
    };
    warn_silent(cx, &watched);
    watched
}

/// Undetected modes of the monitoring itself (no dead man's switch, most
/// often): one warning, at `settings:` where there is one.
fn warn_silent(cx: &mut Cx, monitoring: &Watched) {
    let undetected: Vec<&str> = monitoring
        .modes
        .iter()
        .filter(|m| !m.detected())
        .map(|m| m.mode.as_str())
        .collect();
    if undetected.is_empty() {
        return;
    }
    let field = "settings.alertmanager.heartbeat";
    let message = format!(
        "no alert detects {} of Prometheus and Alertmanager themselves: if either stops, nothing says so",
        undetected.join(", ")
    );
    let help = "set `settings: {alertmanager: {heartbeat: {url: …}}}`, a dead man's switch outside the monitored system (a heartbeat check of your paging service, or a healthchecks-style URL) that pages when the Watchdog's pings stop";
    match cx.settings_at {
        Some((fi, at)) => cx.c.warn(
            &cx.sources[fi],
            at,
            "monitoring without a heartbeat",
            field.into(),
            message,
            help,
        ),
        None => cx.c.missing(cx.sources, field, &message, help),
    }
}

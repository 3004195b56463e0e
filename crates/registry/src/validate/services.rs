//! Services: names unique across files, an owner, the fields each type needs
//! (namespace; host; unit) and no others, ports, the health check and the
//! metrics endpoint; then their alerts.

use serde_saphyr::Spanned;

use super::alerts::Entry;
use super::checker::{Checker, Cx, check_url};
use crate::catalogue::Need;
use crate::diagnostics::Diagnostic;
use crate::diagnostics::shown;
use crate::failure_modes::Facts;
use crate::source::SourceFile;
use crate::syntax::{is_hostname, is_unit_name};
use crate::{Probe, Scrape, Service, ServiceMonitoring, ServiceType, model, url};

pub(super) fn check_all(cx: &mut Cx) -> Vec<Service> {
    let (sources, files) = (cx.sources, cx.files);
    let mut services = Vec::new();
    for (fi, file) in files.iter().enumerate() {
        let src = &sources[fi];
        for (i, s) in file.services.iter().enumerate() {
            let field = format!("services[{i}]");
            let Some(svc) = check_service(cx, src, &s.value, &field) else {
                continue;
            };
            match cx.services.get(&svc.name) {
                Some(first) => cx.c.error(
                    src,
                    &s.value.name,
                    format!("{field}.name"),
                    format!("service {} is already defined at {first}", shown(&svc.name)),
                    "service names must be unique across all registry files",
                ),
                None => {
                    let here = format!("{}:{}", src.name, s.referenced.line());
                    cx.services.insert(svc.name.clone(), here);
                    if svc.monitoring.prometheus
                        && (svc.kind == ServiceType::K8sDeployment || svc.scrape.is_some())
                    {
                        cx.scraped.insert(svc.name.clone());
                    }
                    services.push(svc);
                }
            }
        }
    }
    services
}

/// A docker container's health check that nothing can probe (no port).
fn unprobed_docker_health(
    c: &mut Checker,
    src: &SourceFile,
    svc: &model::Service,
    field: &str,
    probe: &Probe,
) {
    if let (Some(h), Probe::None { reason }) = (&svc.health_endpoint, probe)
        && svc.kind.value == ServiceType::Docker
    {
        c.error(
            src,
            h,
            format!("{field}.health_endpoint"),
            format!("the health check cannot be probed: {reason}"),
            "add `port:` (and `host:`) so the health check can be probed",
        );
    }
}

/// The owner team, which must exist: alerts are routed by it.
fn owner(cx: &mut Cx, src: &SourceFile, svc: &model::Service, field: &str) -> String {
    match &svc.owner {
        Some(o) => {
            cx.check_owner(src, o, format!("{field}.owner"));
            o.value.clone()
        }
        None => {
            cx.c.error(
                src,
                &svc.name,
                format!("{field}.owner"),
                format!("service {} has no owner", shown(&svc.name.value)),
                "add `owner: <team>`: alerts are routed by owner",
            );
            String::new()
        }
    }
}

/// An HTTP path or a command, without control characters or secrets.
fn health_endpoint(c: &mut Checker, src: &SourceFile, svc: &model::Service, field: &str) {
    if let Some(h) = &svc.health_endpoint
        && (h.value.trim().is_empty() || h.value.chars().any(char::is_control))
    {
        c.error(
            src,
            h,
            format!("{field}.health_endpoint"),
            "the health check is empty or has control characters".into(),
            "write an HTTP path such as /health, or a command such as pg_isready",
        );
    } else if let Some(h) = &svc.health_endpoint
        && let Some((message, help)) = url::path_problem(&h.value)
    {
        c.error(src, h, format!("{field}.health_endpoint"), message, help);
    }
}

fn check_service(
    cx: &mut Cx,
    src: &SourceFile,
    svc: &model::Service,
    field: &str,
) -> Option<Service> {
    let before = cx.c.diags.len();
    let kind = svc.kind.value;
    cx.c.name(src, &svc.name, format!("{field}.name"), "service name");
    if let Some(u) = &svc.runbook_url {
        check_url(
            &mut cx.c,
            src,
            u,
            &format!("{field}.runbook_url"),
            url::Use::Link,
        );
    }
    let owner = owner(cx, src, svc, field);
    let provides = &cx.settings.kubernetes.provides;
    let c = &mut cx.c;
    let port = port(
        c,
        src,
        svc.port.as_ref(),
        &format!("{field}.port"),
        "use the TCP port the service listens on",
    );
    // An invalid port is reported once, not again as a missing one.
    let bad_port = svc.port.is_some() && port.is_none();
    placement(c, src, svc, field);
    health_endpoint(c, src, svc, field);
    let probe = probe_for(svc, kind, port);
    let (metrics_port, metrics_path) = metrics(c, src, svc, field, port);
    let scrape = scrape(c, src, svc, field, metrics_port, &metrics_path, bad_port);
    if !bad_port {
        unprobed_docker_health(c, src, svc, field, &probe);
    }
    let scraped =
        svc.monitoring.prometheus && (kind == ServiceType::K8sDeployment || scrape.is_some());
    let (alerts, modes) = alerts(c, src, svc, field, (&probe, scraped, provides));
    if c.diags[before..].iter().any(Diagnostic::is_error) {
        return None;
    }
    Some(Service {
        name: svc.name.value.clone(),
        kind,
        namespace: svc.namespace.as_ref().map(|s| s.value.clone()),
        host: svc.host.as_ref().map(|s| s.value.clone()),
        port,
        health_endpoint: svc.health_endpoint.as_ref().map(|s| s.value.clone()),
        unit: svc.service_name.as_ref().map(|s| s.value.clone()),
        monitoring: ServiceMonitoring {
            prometheus: svc.monitoring.prometheus,
            sentry: svc.monitoring.sentry,
            otel: svc.monitoring.otel,
            langfuse: svc.monitoring.langfuse,
        },
        alerts,
        modes,
        owner,
        description: svc.description.clone(),
        runbook_url: svc.runbook_url.as_ref().map(|u| u.value.clone()),
        source: src.name.clone(),
        probe,
        scrape,
        metrics_port,
        metrics_path,
    })
}

/// The service's alerts and failure modes, from what it has: its probe,
/// whether it is scraped, what the cluster provides.
fn alerts(
    c: &mut Checker,
    src: &SourceFile,
    svc: &model::Service,
    field: &str,
    (probe, scraped, provides): (&Probe, bool, &[String]),
) -> (Vec<crate::AlertUse>, Vec<crate::failure_modes::ModeCheck>) {
    let has = |n: Need| match n {
        Need::Probe => probe.exists(),
        Need::Host => svc.host.is_some(),
        Need::Unit => svc.service_name.is_some(),
        Need::Scrape => scraped,
        Need::ExporterPort => {
            scraped && svc.metrics.as_ref().is_some_and(|m| m.value.port.is_some())
        }
        Need::KubeStateMetrics => provides.iter().any(|p| p == "kube-state-metrics"),
        Need::Kubelet => provides.iter().any(|p| p == "cadvisor"),
        Need::Heartbeat => false,
    };
    let facts = Facts {
        health_command: match probe {
            Probe::Tcp { command, .. } => Some(command.as_str()),
            _ => None,
        },
        https: matches!(probe, Probe::Http { url } if url.starts_with("https://")),
    };
    let entry = Entry {
        kind: svc.kind.value.into(),
        has: &has,
        facts,
        host: svc.host.as_ref().map(|h| h.value.as_str()),
        opt_out: svc.opt_out.as_ref(),
        at: &svc.name,
    };
    c.alerts(src, &svc.alerts, field, &entry)
}

/// A TCP port in 1–65535.
fn port(
    c: &mut Checker,
    src: &SourceFile,
    p: Option<&Spanned<i64>>,
    field: &str,
    help: &str,
) -> Option<u16> {
    let p = p?;
    if !(1..=65535).contains(&p.value) {
        c.error(
            src,
            p,
            field.to_owned(),
            format!("port {} is outside 1-65535", p.value),
            help,
        );
        return None;
    }
    u16::try_from(p.value).ok()
}

/// Each type's own fields are present and valid; the other types' are absent.
fn placement(c: &mut Checker, src: &SourceFile, svc: &model::Service, field: &str) {
    let kind = svc.kind.value;
    let misplaced = |c: &mut Checker, present: bool, what: &str, only: &str| {
        if present {
            c.error(
                src,
                &svc.kind,
                format!("{field}.{what}"),
                format!("`{what}` does not apply to a {kind} service"),
                format!("`{what}` is for {only} services; remove it"),
            );
        }
    };
    let name = shown(&svc.name.value);
    match kind {
        ServiceType::K8sDeployment => {
            match &svc.namespace {
                None => c.error(
                    src,
                    &svc.kind,
                    format!("{field}.namespace"),
                    format!("k8s service {name} has no namespace"),
                    "add `namespace:`: probes and scrapes are scoped to it",
                ),
                Some(ns) => c.name(src, ns, format!("{field}.namespace"), "namespace"),
            }
            misplaced(c, svc.host.is_some(), "host", "docker and systemd");
            misplaced(c, svc.service_name.is_some(), "service_name", "systemd");
        }
        ServiceType::Docker | ServiceType::Systemd => {
            match &svc.host {
                None => c.error(
                    src,
                    &svc.kind,
                    format!("{field}.host"),
                    format!("{kind} service {name} has no host"),
                    "add `host:` with the machine's name or address",
                ),
                Some(h) if !is_hostname(&h.value) => c.error(
                    src,
                    h,
                    format!("{field}.host"),
                    format!(
                        "host {} is not a host name or IPv4 address",
                        shown(&h.value)
                    ),
                    "write a name such as db1.example.org or an address such as 10.0.0.5",
                ),
                Some(_) => {}
            }
            misplaced(c, svc.namespace.is_some(), "namespace", "k8s-deployment");
            if kind == ServiceType::Docker {
                misplaced(c, svc.service_name.is_some(), "service_name", "systemd");
            }
        }
    }
    if kind == ServiceType::Systemd {
        match &svc.service_name {
            None => c.error(
                src,
                &svc.kind,
                format!("{field}.service_name"),
                format!("systemd service {name} has no unit"),
                "add `service_name:` with the unit, such as nginx.service",
            ),
            Some(u) if !is_unit_name(&u.value) => c.error(
                src,
                u,
                format!("{field}.service_name"),
                format!("{} is not a systemd unit name", shown(&u.value)),
                "unit names use letters, digits and :_.@-\\",
            ),
            Some(_) => {}
        }
    }
}

/// Where `/metrics` is: `metrics.port` (an exporter beside the service), else
/// the service's own port. (Host metrics come from the per-host jobs.)
fn metrics(
    c: &mut Checker,
    src: &SourceFile,
    svc: &model::Service,
    field: &str,
    port: Option<u16>,
) -> (Option<u16>, String) {
    let m = svc.metrics.as_ref().map(|m| &m.value);
    let metrics_port = match m.and_then(|m| m.port.as_ref()) {
        Some(p) => self::port(
            c,
            src,
            Some(p),
            &format!("{field}.metrics.port"),
            "use the port of /metrics",
        ),
        None => port,
    };
    let path = match m.and_then(|m| m.path.as_ref()) {
        Some(p)
            if !p.value.starts_with('/')
                || p.value.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            c.error(
                src,
                p,
                format!("{field}.metrics.path"),
                format!("metrics path {} is not a URL path", shown(&p.value)),
                "write it as /metrics",
            );
            "/metrics".to_owned()
        }
        Some(p) => {
            if let Some((message, help)) = url::path_problem(&p.value) {
                c.error(src, p, format!("{field}.metrics.path"), message, help);
            }
            p.value.clone()
        }
        None => "/metrics".to_owned(),
    };
    (metrics_port, path)
}

/// The scrape target of a docker or systemd service with `prometheus: true`
/// (k8s services are scraped through prometheus-operator resources).
fn scrape(
    c: &mut Checker,
    src: &SourceFile,
    svc: &model::Service,
    field: &str,
    metrics_port: Option<u16>,
    path: &str,
    bad_port: bool,
) -> Option<Scrape> {
    match (
        svc.kind.value,
        svc.monitoring.prometheus,
        &svc.host,
        metrics_port,
    ) {
        (ServiceType::K8sDeployment, _, _, _) | (_, false, _, _) => None,
        // A unit without a port of its own: its host's node_exporter job covers it.
        (ServiceType::Systemd, true, _, None) => None,
        (_, true, Some(h), Some(p)) => Some(Scrape {
            address: format!("{}:{p}", h.value),
            path: path.to_owned(),
        }),
        (_, true, _, None) if bad_port => None,
        (_, true, _, None) => {
            c.error(
                src,
                &svc.kind,
                format!("{field}.metrics"),
                format!(
                    "service {} has `prometheus: true` but no port to scrape",
                    shown(&svc.name.value)
                ),
                "add `port:` or `metrics: {port: …}` (the exporter's port)",
            );
            None
        }
        (_, true, None, _) => None, // reported as a missing host
    }
}

/// Derives the external health probe. A path is probed over HTTP; a command
/// (`redis-cli ping`, `pg_isready`) cannot be run by Blackbox, so the port is
/// probed over TCP instead; a path without a port is an exec probe inside the
/// container, which nothing outside can run.
fn probe_for(svc: &model::Service, kind: ServiceType, port: Option<u16>) -> Probe {
    let Some(health) = &svc.health_endpoint else {
        return Probe::None {
            reason: "no health_endpoint".into(),
        };
    };
    let health = health.value.trim();
    let is_path = health.starts_with('/');
    let host = match kind {
        // In-cluster service DNS: a k8s service has no host of its own.
        ServiceType::K8sDeployment => svc
            .namespace
            .as_ref()
            .map(|ns| format!("{}.{}.svc", svc.name.value, ns.value)),
        _ => svc.host.as_ref().map(|h| h.value.clone()),
    };
    match (host, port, is_path) {
        (Some(host), Some(port), true) => Probe::Http {
            url: format!("http://{host}:{port}{health}"),
        },
        (Some(host), Some(port), false) => Probe::Tcp {
            address: format!("{host}:{port}"),
            command: health.to_owned(),
        },
        (_, None, true) if kind == ServiceType::K8sDeployment => Probe::None {
            reason: format!("exec probe {health} has no port; the kubelet runs it inside the pod"),
        },
        (None, _, _) => Probe::None {
            reason: "no host".into(),
        },
        (_, None, _) => Probe::None {
            reason: "no port".into(),
        },
    }
}

//! Stack settings with their documented defaults, and the SLO arithmetic that
//! depends on them (burn-rate tiers, latency buckets).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_saphyr::Spanned;

use super::model;
use super::url;
use crate::burn_rate::{DEFAULT_BUCKETS, TIERS};
use crate::diagnostics::{Diagnostic, shown};
use crate::source::SourceFile;
use crate::syntax::{duration_hours, is_duration, is_host_port, is_valid_name};

#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub scrape_interval: String,
    pub evaluation_interval: String,
    pub blackbox_address: String,
    pub alertmanager_address: String,
    pub pages_base_url: Option<String>,
    /// The applications' buckets plus every SLO latency threshold, sorted.
    pub latency_buckets_seconds: Vec<f64>,
    pub slo_period: String,
    pub slo_period_hours: f64,
    /// Tier name to its `for`.
    pub burn_rate_for: BTreeMap<String, String>,
    pub kubernetes: Kubernetes,
    pub alertmanager: Alertmanager,
    pub grafana: Grafana,
    /// Ignore patterns of `cargo xtask discover`.
    pub discovery_ignore: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Alertmanager {
    pub default_webhook_url: Option<String>,
    pub default_webhook_credentials_file: Option<String>,
    pub group_wait: String,
    pub group_interval: String,
    pub repeat_interval: String,
    pub unknown_owners_to_default: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Grafana {
    pub dashboards_path: String,
    pub folder: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Kubernetes {
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub blackbox_prober: String,
    pub metrics_port_name: String,
}

pub fn resolve(
    src_and_settings: Option<(&SourceFile, &Spanned<model::Settings>)>,
    diags: &mut Vec<Diagnostic>,
) -> Settings {
    let empty = model::Settings::default();
    let (src, s) = match src_and_settings {
        Some((src, s)) => (Some(src), &s.value),
        None => (None, &empty),
    };
    let mut err =
        |at: &serde_saphyr::Location, field: &str, msg: String, help: &str| {
            if let Some(src) = src {
                diags.push(src.diag(
                    Diagnostic::error(src.pos(at), format!("settings.{field}"), msg).help(help),
                ));
            }
        };
    let duration =
        |v: &Option<Spanned<String>>,
         field: &str,
         default: &str,
         err: &mut dyn FnMut(&serde_saphyr::Location, &str, String, &str)| match v {
            Some(d) if !is_duration(&d.value) => {
                err(
                    &d.referenced,
                    field,
                    format!("{} is not a Prometheus duration", shown(&d.value)),
                    "write a duration such as 15s or 1m",
                );
                default.to_owned()
            }
            Some(d) => d.value.clone(),
            None => default.to_owned(),
        };
    let scrape_interval = duration(&s.scrape_interval, "scrape_interval", "15s", &mut err);
    let evaluation_interval = duration(
        &s.evaluation_interval,
        "evaluation_interval",
        "15s",
        &mut err,
    );
    let slo_period = duration(&s.slo_period, "slo_period", "30d", &mut err);
    let slo_period_hours = duration_hours(&slo_period).unwrap_or(720.0);
    let address =
        |v: &Option<Spanned<String>>,
         field: &str,
         default: &str,
         err: &mut dyn FnMut(&serde_saphyr::Location, &str, String, &str)| match v {
            Some(a) if !is_host_port(&a.value) => {
                err(
                    &a.referenced,
                    field,
                    format!("{} is not host:port", shown(&a.value)),
                    "write it as host:port, such as 127.0.0.1:9115",
                );
                default.to_owned()
            }
            Some(a) => a.value.clone(),
            None => default.to_owned(),
        };
    let blackbox_address = address(
        &s.blackbox_address,
        "blackbox_address",
        "127.0.0.1:9115",
        &mut err,
    );
    let alertmanager_address = address(
        &s.alertmanager_address,
        "alertmanager_address",
        "127.0.0.1:9093",
        &mut err,
    );
    let pages_base_url = match &s.pages_base_url {
        Some(u) => match url::problem(&u.value, url::Use::ProbeTarget) {
            Some((message, help)) => {
                err(&u.referenced, "pages_base_url", message, &help);
                None
            }
            None => Some(u.value.trim_end_matches('/').to_owned()),
        },
        None => None,
    };
    let latency_buckets_seconds = match &s.latency_buckets_seconds {
        Some(b) if b.value.is_empty() || b.value.iter().any(|x| !(x.is_finite() && *x > 0.0)) => {
            err(
                &b.referenced,
                "latency_buckets_seconds",
                "buckets must be a non-empty list of positive numbers".into(),
                "such as [0.1, 0.5, 1, 5]",
            );
            DEFAULT_BUCKETS.to_vec()
        }
        Some(b) => b.value.clone(),
        None => DEFAULT_BUCKETS.to_vec(),
    };
    let mut burn_rate_for: BTreeMap<String, String> = TIERS
        .iter()
        .map(|t| (t.name.to_owned(), t.default_for.to_owned()))
        .collect();
    if let Some(m) = &s.burn_rate_for {
        for (k, v) in &m.value {
            if !burn_rate_for.contains_key(k) {
                err(
                    &m.referenced,
                    "burn_rate_for",
                    format!("unknown burn-rate tier {}", shown(k)),
                    "tiers are fast, medium, slow and long",
                );
            } else if !is_duration(v) {
                err(
                    &m.referenced,
                    "burn_rate_for",
                    format!("{} is not a Prometheus duration", shown(v)),
                    "write a duration such as 2m",
                );
            } else {
                burn_rate_for.insert(k.clone(), v.clone());
            }
        }
    }
    let k = s.kubernetes.as_ref().map(|k| &k.value);
    let kubernetes = Kubernetes {
        namespace: k
            .and_then(|k| k.namespace.as_ref())
            .map_or_else(|| "monitoring".to_owned(), |n| n.value.clone()),
        labels: k
            .map(|k| {
                k.labels
                    .iter()
                    .map(|(key, v)| (key.value.clone(), v.value.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        blackbox_prober: k.and_then(|k| k.blackbox_prober.as_ref()).map_or_else(
            || "blackbox-exporter.monitoring.svc:9115".to_owned(),
            |n| n.value.clone(),
        ),
        metrics_port_name: k
            .and_then(|k| k.metrics_port_name.as_ref())
            .map_or_else(|| "metrics".to_owned(), |n| n.value.clone()),
    };
    if let Some(k) = s.kubernetes.as_ref() {
        check_kubernetes(&k.value, &mut err);
    }
    if let Some(k) = s.kubernetes.as_ref()
        && let Some(ns) = &k.value.namespace
        && !is_valid_name(&ns.value)
    {
        err(
            &ns.referenced,
            "kubernetes.namespace",
            format!("{} is not a valid namespace", shown(&ns.value)),
            "use lowercase letters, digits and `-`",
        );
    }
    let am = s.alertmanager.as_ref().map(|a| &a.value);
    let am_duration =
        |f: fn(&model::AlertmanagerSettings) -> &Option<Spanned<String>>,
         name: &str,
         default: &str,
         err: &mut dyn FnMut(&serde_saphyr::Location, &str, String, &str)| match am {
            Some(a) => duration(f(a), &format!("alertmanager.{name}"), default, err),
            None => default.to_owned(),
        };
    let group_wait = am_duration(|a| &a.group_wait, "group_wait", "30s", &mut err);
    let group_interval = am_duration(|a| &a.group_interval, "group_interval", "5m", &mut err);
    let repeat_interval = am_duration(|a| &a.repeat_interval, "repeat_interval", "4h", &mut err);
    let default_webhook_url = match am.and_then(|a| a.default_webhook_url.as_ref()) {
        Some(u) => match url::problem(&u.value, url::Use::DefaultWebhook) {
            Some((message, help)) => {
                err(
                    &u.referenced,
                    "alertmanager.default_webhook_url",
                    message,
                    &help,
                );
                None
            }
            None => Some(u.value.clone()),
        },
        None => None,
    };
    let alertmanager = Alertmanager {
        default_webhook_url,
        default_webhook_credentials_file: am
            .and_then(|a| a.default_webhook_credentials_file.clone()),
        group_wait,
        group_interval,
        repeat_interval,
        unknown_owners_to_default: am.is_some_and(|a| a.unknown_owners_to_default),
    };
    let g = s.grafana.as_ref().map(|g| &g.value);
    let grafana = Grafana {
        dashboards_path: g
            .and_then(|g| g.dashboards_path.clone())
            .unwrap_or_else(|| "/var/lib/grafana/dashboards/monitoring-as-code".into()),
        folder: g
            .and_then(|g| g.folder.clone())
            .unwrap_or_else(|| "Monitoring as code".into()),
    };
    let discovery_ignore = s
        .discovery
        .as_ref()
        .map(|d| d.value.ignore.clone())
        .unwrap_or_default();
    Settings {
        discovery_ignore,
        alertmanager,
        grafana,
        scrape_interval,
        evaluation_interval,
        blackbox_address,
        alertmanager_address,
        pages_base_url,
        latency_buckets_seconds,
        slo_period,
        slo_period_hours,
        burn_rate_for,
        kubernetes,
    }
}

/// Kubernetes grammars the API server would enforce at apply time, checked
/// here so the mistake points at the registry: label keys and values, the
/// metrics port's name, the Blackbox prober's address.
fn check_kubernetes(
    k: &model::KubernetesSettings,
    err: &mut dyn FnMut(&serde_saphyr::Location, &str, String, &str),
) {
    let mut labels: Vec<_> = k.labels.iter().collect();
    labels.sort_by(|a, b| a.0.value.cmp(&b.0.value));
    for (key, value) in labels {
        let field = format!("kubernetes.labels.{}", key.value);
        if !is_label_key(&key.value) {
            err(
                &key.referenced,
                &field,
                format!(
                    "label name {} is not a Kubernetes label key",
                    shown(&key.value)
                ),
                "a label key is an optional DNS prefix and `/`, then up to 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit",
            );
        }
        if !(value.value.is_empty() || is_label_name(&value.value)) {
            err(
                &value.referenced,
                &field,
                format!(
                    "label value {} is not a Kubernetes label value",
                    shown(&value.value)
                ),
                "a label value is empty or up to 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit",
            );
        }
    }
    if let Some(p) = &k.metrics_port_name
        && !is_port_name(&p.value)
    {
        err(
            &p.referenced,
            "kubernetes.metrics_port_name",
            format!(
                "port name {} is not a Kubernetes port name",
                shown(&p.value)
            ),
            "a port name is up to 15 lowercase letters, digits and `-`, with at least one letter, such as `metrics`",
        );
    }
    if let Some(p) = &k.blackbox_prober
        && !is_host_port(&p.value)
    {
        err(
            &p.referenced,
            "kubernetes.blackbox_prober",
            format!("{} is not host:port", shown(&p.value)),
            "write the Blackbox exporter's in-cluster address as host:port, such as blackbox-exporter.monitoring.svc:9115",
        );
    }
}

/// A label name: 1–63 characters of `[A-Za-z0-9._-]`, alphanumeric at both ends.
fn is_label_name(s: &str) -> bool {
    let edge = |c: char| c.is_ascii_alphanumeric();
    (1..=63).contains(&s.len())
        && s.chars().all(|c| edge(c) || matches!(c, '-' | '_' | '.'))
        && s.starts_with(edge)
        && s.ends_with(edge)
}

/// `[prefix/]name`: the prefix a DNS subdomain of at most 253 characters.
fn is_label_key(s: &str) -> bool {
    match s.split_once('/') {
        Some((prefix, name)) => {
            prefix.len() <= 253 && prefix.split('.').all(is_valid_name) && is_label_name(name)
        }
        None => is_label_name(s),
    }
}

/// An IANA service name, as container and Service port names must be.
fn is_port_name(s: &str) -> bool {
    (1..=15).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && s.chars().any(|c| c.is_ascii_lowercase())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

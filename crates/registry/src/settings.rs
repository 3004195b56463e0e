//! Stack settings with their documented defaults, and the SLO arithmetic that
//! depends on them (burn-rate tiers, latency buckets).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_saphyr::Spanned;

use super::model;
use super::url;
use crate::burn_rate::{self, DEFAULT_BUCKETS, TIERS};
use crate::diagnostics::{Diagnostic, shown};
use crate::sli::HttpMetrics;
use crate::source::SourceFile;
use crate::syntax::{duration_hours, is_duration, is_host_port, is_metric_name, is_valid_name};

/// Every dimension: its key (for `settings.coverage_dimensions`) and title.
pub const COVERAGE_DIMENSIONS: [(&str, &str); 9] = [
    ("prometheus", "Prometheus metrics"),
    ("sentry", "Sentry errors"),
    ("otel", "OpenTelemetry traces"),
    ("langfuse", "Langfuse LLM traces"),
    ("alerts", "Alert rules"),
    ("page_sentry_session", "Sentry sessions"),
    ("page_web_vitals", "Web vitals"),
    ("api_slo", "SLO defined"),
    ("failure_modes", "Failure modes detected"),
];

#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub scrape_interval: String,
    pub evaluation_interval: String,
    pub blackbox_address: String,
    pub alertmanager_address: String,
    pub prometheus_address: String,
    pub pages_base_url: Option<String>,
    /// The applications' buckets plus every SLO latency threshold, sorted.
    pub latency_buckets_seconds: Vec<f64>,
    /// Whether the registry states the applications' buckets (else the
    /// defaults, to which each SLO threshold is added).
    pub latency_buckets_declared: bool,
    pub slo_period: String,
    pub slo_period_hours: f64,
    /// Tier name to its `for`.
    pub burn_rate_for: BTreeMap<String, String>,
    pub slo: SloConfig,
    pub prometheus: PrometheusConfig,
    pub kubernetes: Kubernetes,
    pub alertmanager: Alertmanager,
    pub grafana: Grafana,
    /// Ignore patterns of `cargo xtask discover`.
    pub discovery_ignore: Vec<String>,
    /// node_exporter's port on every docker and systemd host.
    pub node_exporter_port: u16,
    /// cAdvisor's port on every docker host.
    pub cadvisor_port: u16,
    /// The coverage floor of `cargo xtask coverage` (CI), in percent.
    pub coverage_min: Option<f64>,
    /// The coverage dimensions counted, by key (`COVERAGE_DIMENSIONS`).
    pub coverage_dimensions: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PrometheusConfig {
    pub rules: RuleDelivery,
    pub group_by: GroupBy,
    pub shards: Option<Shards>,
    pub ruler: Ruler,
    /// `--storage.tsdb.retention.time` of the Prometheus that evaluates the
    /// SLO rules (Prometheus' default, 15d, unless said).
    pub retention: String,
}

/// Rule files for a remote ruler, beside those Prometheus loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ruler {
    None,
    /// Grafana Mimir's (and Cortex's) layout: `mimir/<team>.rules.yml`, one
    /// namespace per owner team, for `mimirtool rules load`.
    Mimir,
}

/// Scraping split over `count` Prometheus servers, each with the external
/// label `shard`, by hashmod of the service or by owner team.
#[derive(Debug, Clone, Serialize)]
pub struct Shards {
    pub count: u32,
    /// `hash` or `team`.
    pub by: String,
}

/// Who evaluates a rule group: the stand-alone Prometheus of
/// `prometheus/prometheus.yml` (rule files), the operator's (PrometheusRule
/// resources), or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleDelivery {
    /// Where the target's metrics are scraped: k8s services by the operator.
    Auto,
    Files,
    Resources,
    Both,
}

/// What one rule file (and its tests and PrometheusRule) holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Service,
    /// An owner team: a file per team, for CODEOWNERS and ruler namespaces.
    Team,
}

#[derive(Debug, Clone, Serialize)]
pub struct SloConfig {
    /// The HTTP metrics endpoint SLIs read.
    pub metrics: HttpMetrics,
    /// How burn-rate alerts are shaped.
    pub alerts: AlertShape,
    /// The bad events a burn-rate alert needs in its short window (0: none).
    pub min_bad_events: f64,
    /// The severity of the "error budget exhausted" alert, when wanted.
    pub budget_exhausted_alert: Option<String>,
}

/// An alert per burn-rate tier, or Sloth's page (fast or medium) and ticket
/// (slow or long).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertShape {
    Tiers,
    PageTicket,
}

#[derive(Debug, Clone, Serialize)]
pub struct Alertmanager {
    pub default_webhook_url: Option<String>,
    pub default_webhook_credentials_file: Option<String>,
    pub group_wait: String,
    pub group_interval: String,
    pub repeat_interval: String,
    pub unknown_owners_to_default: bool,
    pub smtp: Option<Smtp>,
    pub automation_webhook_url: Option<String>,
    pub automation_webhook_credentials_file: Option<String>,
    pub heartbeat: Option<Heartbeat>,
}

/// The dead man's switch the Watchdog reaches (see `model::Heartbeat`).
#[derive(Debug, Clone, Serialize)]
pub struct Heartbeat {
    pub url: String,
    pub credentials_file: Option<String>,
    pub repeat_interval: String,
    /// A quarter of `repeat_interval`, as Alertmanager spells it: the route
    /// flushes that often, so a ping leaves every `repeat_interval` plus at
    /// most a quarter of it. With the two equal, Alertmanager repeats only on
    /// every second flush: a ping every twice `repeat_interval`.
    pub group_interval: String,
}

/// The mail server of `email` channels. `from` is a Go template to
/// Alertmanager: kept literal by the template (`gotmpl`).
#[derive(Debug, Clone, Serialize)]
pub struct Smtp {
    pub smarthost: String,
    pub from: String,
    pub auth_username: Option<String>,
    pub auth_password_file: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Grafana {
    pub dashboards_path: String,
    pub folder: String,
    /// Without a trailing `/`; none: alerts carry no dashboard link.
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Kubernetes {
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub blackbox_prober: String,
    pub metrics_port_name: String,
    pub provides: Vec<String>,
    /// Where the operator's Prometheus sends alerts besides its own
    /// Alertmanager: the generated one (none: the cluster's alerts reach
    /// only the cluster's Alertmanager).
    pub alertmanager_address: Option<String>,
}

/// The Alertmanager version the receivers are written for: the one CI checks
/// every generated config with (Debian bookworm's).
pub(crate) const ALERTMANAGER_VERSION: &str = "0.25";

/// Bad events a burn-rate alert needs in its short window by default: a
/// probe-fed endpoint (4 requests a minute) does not page on one or two 5xx,
/// and an endpoint that fails all its requests, however few, still pages
/// within its fast tier's five minutes.
const DEFAULT_MIN_BAD_EVENTS: f64 = 3.0;

/// What a cluster's monitoring stack may provide.
pub(crate) const CLUSTER_PROVIDES: [&str; 2] = ["kube-state-metrics", "cadvisor"];

/// Reports a settings problem at its position (settings without a file are
/// the defaults and have none), and reads values with their defaults.
struct Resolver<'a> {
    src: Option<&'a SourceFile>,
    diags: &'a mut Vec<Diagnostic>,
}

impl Resolver<'_> {
    fn err(&mut self, at: &serde_saphyr::Location, field: &str, msg: String, help: &str) {
        if let Some(src) = self.src {
            self.diags.push(
                src.diag(
                    Diagnostic::error(src.pos(at), format!("settings.{field}"), msg).help(help),
                ),
            );
        }
    }

    fn duration(&mut self, v: &Option<Spanned<String>>, field: &str, default: &str) -> String {
        match v {
            Some(d) if !is_duration(&d.value) => {
                self.err(
                    &d.referenced,
                    field,
                    format!("{} is not a Prometheus duration", shown(&d.value)),
                    "write a duration such as 15s or 1m",
                );
                default.to_owned()
            }
            Some(d) => d.value.clone(),
            None => default.to_owned(),
        }
    }

    /// A duration that must be longer than zero: Prometheus runs a zero
    /// scrape or evaluation interval as its own default, Alertmanager refuses a
    /// zero group or repeat interval.
    fn period(&mut self, v: &Option<Spanned<String>>, field: &str, default: &str) -> String {
        let value = self.duration(v, field, default);
        match v {
            Some(d) if duration_hours(&value) == Some(0.0) => {
                self.err(
                    &d.referenced,
                    field,
                    format!(
                        "{} is zero, and this period must be longer than that",
                        shown(&d.value)
                    ),
                    &format!("write a positive duration, such as {default} (the default)"),
                );
                default.to_owned()
            }
            _ => value,
        }
    }

    fn address(&mut self, v: &Option<Spanned<String>>, field: &str, default: &str) -> String {
        match v {
            Some(a) if !is_host_port(&a.value) => {
                self.err(
                    &a.referenced,
                    field,
                    format!("{} is not host:port", shown(&a.value)),
                    "write it as host:port, such as 127.0.0.1:9115",
                );
                default.to_owned()
            }
            Some(a) => a.value.clone(),
            None => default.to_owned(),
        }
    }

    /// One of `options` (the first is the default), else an error naming
    /// `what` with `help`, and the default.
    fn choice<T: Copy>(
        &mut self,
        v: Option<&Spanned<String>>,
        field: &str,
        options: &[(&str, T)],
        what: &str,
        help: &str,
    ) -> T {
        let Some(v) = v else { return options[0].1 };
        match options.iter().find(|(name, _)| *name == v.value) {
            Some((_, t)) => *t,
            None => {
                self.err(
                    &v.referenced,
                    field,
                    format!("{what} {}", shown(&v.value)),
                    help,
                );
                options[0].1
            }
        }
    }

    fn port(&mut self, v: Option<&Spanned<i64>>, field: &str, default: u16) -> u16 {
        match v {
            Some(p) => u16::try_from(p.value)
                .ok()
                .filter(|p| *p > 0)
                .unwrap_or_else(|| {
                    self.err(
                        &p.referenced,
                        field,
                        format!("port {} is outside 1-65535", p.value),
                        "use the port the exporter listens on",
                    );
                    default
                }),
            None => default,
        }
    }

    /// A `*_file` field: a path, never the secret itself (see `url::file_problem`).
    fn file(&mut self, v: Option<&Spanned<String>>, field: &str) -> Option<String> {
        let f = v?;
        match url::file_problem(&f.value) {
            Some((message, help)) => {
                self.err(&f.referenced, field, message, &help);
                None
            }
            None => Some(f.value.clone()),
        }
    }

    fn smtp(&mut self, smtp: Option<&Spanned<model::Smtp>>) -> Option<Smtp> {
        let s = &smtp?.value;
        if let Some((message, help)) = url::smarthost_problem(&s.smarthost.value) {
            self.err(
                &s.smarthost.referenced,
                "alertmanager.smtp.smarthost",
                message,
                &help,
            );
        }
        Some(Smtp {
            smarthost: s.smarthost.value.clone(),
            from: s.from.value.clone(),
            auth_username: s.auth_username.as_ref().map(|u| u.value.clone()),
            auth_password_file: self.file(
                s.auth_password_file.as_ref(),
                "alertmanager.smtp.auth_password_file",
            ),
        })
    }

    /// A URL without a secret (see `url::problem`), or none.
    fn url(
        &mut self,
        v: Option<&Spanned<String>>,
        field: &str,
        purpose: url::Use,
    ) -> Option<String> {
        let u = v?;
        match url::problem(&u.value, purpose) {
            Some((message, help)) => {
                self.err(&u.referenced, field, message, &help);
                None
            }
            None => Some(u.value.clone()),
        }
    }

    fn buckets(&mut self, v: &Option<Spanned<Vec<f64>>>) -> Vec<f64> {
        match v {
            Some(b)
                if b.value.is_empty() || b.value.iter().any(|x| !(x.is_finite() && *x > 0.0)) =>
            {
                self.err(
                    &b.referenced,
                    "latency_buckets_seconds",
                    "buckets must be a non-empty list of positive numbers".into(),
                    "such as [0.1, 0.5, 1, 5]",
                );
                DEFAULT_BUCKETS.to_vec()
            }
            Some(b) => b.value.clone(),
            None => DEFAULT_BUCKETS.to_vec(),
        }
    }

    /// Each tier's `for`: the tier's default unless the registry sets it.
    fn burn_rate_for(
        &mut self,
        v: &Option<Spanned<BTreeMap<String, String>>>,
    ) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = TIERS
            .iter()
            .map(|t| (t.name.to_owned(), t.default_for.to_owned()))
            .collect();
        let Some(m) = v else { return out };
        for (k, v) in &m.value {
            if !out.contains_key(k) {
                self.err(
                    &m.referenced,
                    "burn_rate_for",
                    format!("unknown burn-rate tier {}", shown(k)),
                    "tiers are fast, medium, slow and long",
                );
            } else if !is_duration(v) {
                self.err(
                    &m.referenced,
                    "burn_rate_for",
                    format!("{} is not a Prometheus duration", shown(v)),
                    "write a duration such as 2m",
                );
            } else {
                out.insert(k.clone(), v.clone());
            }
        }
        out
    }

    /// `settings.slo`: a metrics preset with names overridden, the alert shape,
    /// and the budget-exhausted alert's severity.
    /// The SLI's metric names: a preset, then names overridden one by one.
    fn slo_metrics(&mut self, m: Option<&model::HttpMetricsSettings>) -> HttpMetrics {
        let preset = m.and_then(|m| m.preset.as_ref());
        let mut metrics = HttpMetrics::preset("middleware").expect("the default preset exists");
        if let Some(p) = preset {
            match HttpMetrics::preset(&p.value) {
                Some(named) => metrics = named,
                None => self.err(
                    &p.referenced,
                    "slo.metrics.preset",
                    format!("unknown metrics preset {}", shown(&p.value)),
                    &format!(
                        "use one of {}, or name the metrics one by one",
                        HttpMetrics::preset_names().join(", ")
                    ),
                ),
            }
        }
        if let Some(m) = m {
            let fields: [(&Option<Spanned<String>>, &str, &mut String, bool); 5] = [
                (&m.requests, "requests", &mut metrics.requests, false),
                (&m.duration, "duration", &mut metrics.duration, false),
                (
                    &m.method_label,
                    "method_label",
                    &mut metrics.method_label,
                    true,
                ),
                (
                    &m.route_label,
                    "route_label",
                    &mut metrics.route_label,
                    true,
                ),
                (
                    &m.status_label,
                    "status_label",
                    &mut metrics.status_label,
                    true,
                ),
            ];
            let mut overridden = false;
            for (v, name, slot, label) in fields {
                let Some(v) = v else { continue };
                overridden = true;
                if is_metric_name(&v.value, label) {
                    *slot = v.value.clone();
                } else {
                    let what = if label { "label" } else { "metric" };
                    self.err(
                        &v.referenced,
                        &format!("slo.metrics.{name}"),
                        format!("{} is not a Prometheus {what} name", shown(&v.value)),
                        "letters, digits and `_`, not starting with a digit",
                    );
                }
            }
            if overridden {
                metrics.preset = format!("{} (with names overridden)", metrics.preset);
            }
        }
        metrics
    }

    fn slo(&mut self, s: Option<&model::SloSettings>) -> SloConfig {
        let none = model::SloSettings::default();
        let s = s.unwrap_or(&none);
        let metrics = self.slo_metrics(s.metrics.as_ref().map(|m| &m.value));
        let alerts = self.choice(
            s.alerts.as_ref(),
            "slo.alerts",
            &[("page_ticket", AlertShape::PageTicket), ("tiers", AlertShape::Tiers)],
            "unknown alert shape",
            "use `tiers` (an alert per burn-rate tier) or `page_ticket` (page = fast or medium, ticket = slow or long, as Sloth)",
        );
        let budget_exhausted_alert = s.budget_exhausted_alert.as_ref().and_then(|b| {
            if ["warning", "critical"].contains(&b.value.as_str()) {
                Some(b.value.clone())
            } else {
                self.err(
                    &b.referenced,
                    "slo.budget_exhausted_alert",
                    format!("{} is not a severity", shown(&b.value)),
                    "write `warning` or `critical`, or leave it out for no alert",
                );
                None
            }
        });
        let min_bad_events = match &s.min_bad_events {
            Some(m) if m.value < 0.0 || !m.value.is_finite() => {
                self.err(
                    &m.referenced,
                    "slo.min_bad_events",
                    format!("min_bad_events {} is not a count", m.value),
                    "write how many bad events an alert's short window needs (3 by default, 0 for none)",
                );
                DEFAULT_MIN_BAD_EVENTS
            }
            Some(m) => m.value,
            None => DEFAULT_MIN_BAD_EVENTS,
        };
        SloConfig {
            metrics,
            alerts,
            min_bad_events,
            budget_exhausted_alert,
        }
    }

    fn prometheus(&mut self, p: Option<&model::PrometheusSettings>) -> PrometheusConfig {
        let none = model::PrometheusSettings::default();
        let p = p.unwrap_or(&none);
        let rules = self.choice(
            p.rules.as_ref(),
            "prometheus.rules",
            &[
                ("auto", RuleDelivery::Auto),
                ("files", RuleDelivery::Files),
                ("resources", RuleDelivery::Resources),
                ("both", RuleDelivery::Both),
            ],
            "unknown rule delivery",
            "use auto (PrometheusRule for k8s services, rule files for the rest), files, resources or both",
        );
        let group_by = self.choice(
            p.group_by.as_ref(),
            "prometheus.group_by",
            &[("service", GroupBy::Service), ("team", GroupBy::Team)],
            "rule files cannot be grouped by",
            "use service (a file per service) or team (a file per owner team)",
        );
        let shards = p.shards.as_ref().and_then(|sh| {
            let by = self.choice(
                sh.value.by.as_ref(),
                "prometheus.shards.by",
                &[("hash", "hash"), ("team", "team")],
                "cannot shard by",
                "use hash (hashmod of the service) or team (each owner team on one shard)",
            );
            let count = sh.value.count.value;
            if !(2..=64).contains(&count) {
                self.err(
                    &sh.value.count.referenced,
                    "prometheus.shards.count",
                    format!("{count} shards: a split needs 2 to 64"),
                    "leave `shards` out for one Prometheus",
                );
                return None;
            }
            Some(Shards {
                count: count as u32,
                by: by.to_owned(),
            })
        });
        let ruler = self.choice(
            p.ruler.as_ref(),
            "prometheus.ruler",
            &[("none", Ruler::None), ("mimir", Ruler::Mimir)],
            "unknown ruler layout",
            "use mimir (a namespace per owner team, for Grafana Mimir or Cortex) or leave `ruler` out",
        );
        let retention = self.period(&p.retention, "prometheus.retention", "15d");
        PrometheusConfig {
            rules,
            group_by,
            shards,
            ruler,
            retention,
        }
    }

    fn kubernetes(&mut self, k: Option<&model::KubernetesSettings>) -> Kubernetes {
        if let Some(k) = k {
            check_kubernetes(k, &mut |at, field, msg, help| {
                self.err(at, field, msg, help)
            });
        }
        let text = |f: fn(&model::KubernetesSettings) -> &Option<Spanned<String>>,
                    default: &str| {
            k.and_then(|k| f(k).as_ref())
                .map_or_else(|| default.to_owned(), |v| v.value.clone())
        };
        Kubernetes {
            namespace: text(|k| &k.namespace, "monitoring"),
            labels: k
                .map(|k| {
                    k.labels
                        .iter()
                        .map(|(key, v)| (key.value.clone(), v.value.clone()))
                        .collect()
                })
                .unwrap_or_default(),
            blackbox_prober: text(
                |k| &k.blackbox_prober,
                "blackbox-exporter.monitoring.svc:9115",
            ),
            metrics_port_name: text(|k| &k.metrics_port_name, "metrics"),
            provides: k.and_then(|k| k.provides.as_ref()).map_or_else(
                || CLUSTER_PROVIDES.map(str::to_owned).to_vec(),
                |p| p.value.clone(),
            ),
            alertmanager_address: k
                .and_then(|k| k.alertmanager_address.as_ref())
                .map(|a| self.address(&Some(a.clone()), "kubernetes.alertmanager_address", ""))
                .filter(|a| !a.is_empty()),
        }
    }

    fn alertmanager(&mut self, am: Option<&model::AlertmanagerSettings>) -> Alertmanager {
        let none = model::AlertmanagerSettings::default();
        let a = am.unwrap_or(&none);
        if let Some(v) = &a.version
            && v.value != ALERTMANAGER_VERSION
        {
            self.err(
                &v.referenced,
                "alertmanager.version",
                format!("Alertmanager {} is not a version this tool writes for: receivers (and which secrets they can read from files) differ by version, and only {ALERTMANAGER_VERSION} is checked by amtool in CI", shown(&v.value)),
                &format!("set `version: \"{ALERTMANAGER_VERSION}\"` or remove it"),
            );
        }
        Alertmanager {
            default_webhook_url: self.url(
                a.default_webhook_url.as_ref(),
                "alertmanager.default_webhook_url",
                url::Use::DefaultWebhook,
            ),
            default_webhook_credentials_file: self.file(
                a.default_webhook_credentials_file.as_ref(),
                "alertmanager.default_webhook_credentials_file",
            ),
            group_wait: self.duration(&a.group_wait, "alertmanager.group_wait", "30s"),
            group_interval: self.period(&a.group_interval, "alertmanager.group_interval", "5m"),
            repeat_interval: self.period(&a.repeat_interval, "alertmanager.repeat_interval", "4h"),
            unknown_owners_to_default: a.unknown_owners_to_default,
            smtp: self.smtp(a.smtp.as_ref()),
            automation_webhook_url: self.url(
                a.automation_webhook_url.as_ref(),
                "alertmanager.automation_webhook_url",
                url::Use::DefaultWebhook,
            ),
            automation_webhook_credentials_file: self.file(
                a.automation_webhook_credentials_file.as_ref(),
                "alertmanager.automation_webhook_credentials_file",
            ),
            heartbeat: a.heartbeat.as_ref().and_then(|h| self.heartbeat(&h.value)),
        }
    }

    fn heartbeat(&mut self, h: &model::Heartbeat) -> Option<Heartbeat> {
        let url = self.url(
            Some(&h.url),
            "alertmanager.heartbeat.url",
            url::Use::DefaultWebhook,
        );
        let credentials_file = self.file(
            h.credentials_file.as_ref(),
            "alertmanager.heartbeat.credentials_file",
        );
        let repeat_interval = self.period(
            &h.repeat_interval,
            "alertmanager.heartbeat.repeat_interval",
            "1m",
        );
        let group_interval = quarter(&repeat_interval);
        Some(Heartbeat {
            url: url?,
            credentials_file,
            repeat_interval,
            group_interval,
        })
    }
}

/// A quarter of a Prometheus duration, in milliseconds below ten seconds
/// and in seconds above (Alertmanager reads both).
fn quarter(period: &str) -> String {
    let ms =
        (crate::syntax::duration_hours(period).unwrap_or(0.0) * 3_600_000.0 / 4.0).round() as u64;
    match ms.max(1) {
        ms if ms < 10_000 => format!("{ms}ms"),
        ms => format!("{}s", ms / 1000),
    }
}

/// The stack settings with their documented defaults, every problem reported.
pub(crate) fn resolve(
    src_and_settings: Option<(&SourceFile, &Spanned<model::Settings>)>,
    diags: &mut Vec<Diagnostic>,
) -> Settings {
    let empty = model::Settings::default();
    let (src, s) = match src_and_settings {
        Some((src, s)) => (Some(src), &s.value),
        None => (None, &empty),
    };
    let mut r = Resolver { src, diags };
    let scrape_interval = r.period(&s.scrape_interval, "scrape_interval", "15s");
    let evaluation_interval = r.period(&s.evaluation_interval, "evaluation_interval", "15s");
    let slo_period = r.period(&s.slo_period, "slo_period", "30d");
    let slo_period_hours = r.slo_period_hours(s.slo_period.as_ref(), &slo_period);
    let slo = r.slo(s.slo.as_ref().map(|s| &s.value));
    let prometheus = r.prometheus(s.prometheus.as_ref().map(|p| &p.value));
    let [blackbox_address, alertmanager_address, prometheus_address] = [
        (&s.blackbox_address, "blackbox_address", "127.0.0.1:9115"),
        (
            &s.alertmanager_address,
            "alertmanager_address",
            "127.0.0.1:9093",
        ),
        (
            &s.prometheus_address,
            "prometheus_address",
            "127.0.0.1:9090",
        ),
    ]
    .map(|(v, field, default)| r.address(v, field, default));
    let pages_base_url = r
        .url(
            s.pages_base_url.as_ref(),
            "pages_base_url",
            url::Use::ProbeTarget,
        )
        .map(|u| u.trim_end_matches('/').to_owned());
    let latency_buckets_seconds = r.buckets(&s.latency_buckets_seconds);
    let latency_buckets_declared = s.latency_buckets_seconds.is_some();
    let burn_rate_for = r.burn_rate_for(&s.burn_rate_for);
    let kubernetes = r.kubernetes(s.kubernetes.as_ref().map(|k| &k.value));
    let alertmanager = r.alertmanager(s.alertmanager.as_ref().map(|a| &a.value));
    let grafana = r.grafana(s.grafana.as_ref().map(|g| &g.value));
    let discovery_ignore = s
        .discovery
        .as_ref()
        .map(|d| d.value.ignore.clone())
        .unwrap_or_default();
    let (node_exporter_port, cadvisor_port) =
        r.host_exporter_ports(s.host_exporters.as_ref().map(|h| &h.value));
    let coverage_min = r.coverage_min(s.coverage_min.as_ref());
    let coverage_dimensions = r.coverage_dimensions(s.coverage_dimensions.as_ref());
    Settings {
        coverage_dimensions,
        coverage_min,
        node_exporter_port,
        cadvisor_port,
        discovery_ignore,
        alertmanager,
        grafana,
        scrape_interval,
        evaluation_interval,
        blackbox_address,
        alertmanager_address,
        prometheus_address,
        pages_base_url,
        latency_buckets_seconds,
        latency_buckets_declared,
        slo_period,
        slo_period_hours,
        burn_rate_for,
        slo,
        prometheus,
        kubernetes,
    }
}

impl Resolver<'_> {
    /// The ports of node_exporter and cAdvisor on every docker and systemd host.
    fn host_exporter_ports(&mut self, he: Option<&model::HostExporters>) -> (u16, u16) {
        let node = self.port(
            he.and_then(|h| h.node_exporter.as_ref()),
            "host_exporters.node_exporter",
            9100,
        );
        let cadvisor = self.port(
            he.and_then(|h| h.cadvisor.as_ref()),
            "host_exporters.cadvisor",
            8080,
        );
        (node, cadvisor)
    }

    /// The SLO period in hours; a period without a window catalogue is refused.
    fn slo_period_hours(&mut self, given: Option<&Spanned<String>>, period: &str) -> f64 {
        let mut slo_period_hours = duration_hours(period).unwrap_or(720.0);
        if let Some(p) = given
            && !burn_rate::has_catalogue(slo_period_hours)
        {
            self.err(
                &p.referenced,
                "slo_period",
                format!(
                    "the SLO period {} has no burn-rate window catalogue",
                    shown(&p.value)
                ),
                &format!(
                    "use one of {}: their windows and budget shares are known",
                    burn_rate::catalogue_periods()
                ),
            );
            slo_period_hours = 720.0;
        }
        slo_period_hours
    }

    fn coverage_min(&mut self, given: Option<&Spanned<f64>>) -> Option<f64> {
        given.and_then(|m| {
            if (0.0..=100.0).contains(&m.value) {
                Some(m.value)
            } else {
                self.err(
                    &m.referenced,
                    "coverage_min",
                    format!("coverage_min {} is not a percentage", m.value),
                    "write a number from 0 to 100, such as 70",
                );
                None
            }
        })
    }

    /// The dimensions counted: all unless the registry names some.
    fn coverage_dimensions(&mut self, given: Option<&Spanned<Vec<String>>>) -> Vec<String> {
        let all = || COVERAGE_DIMENSIONS.map(|(k, _)| k.to_owned()).to_vec();
        match given {
            None => all(),
            Some(d) => match d
                .value
                .iter()
                .find(|k| !COVERAGE_DIMENSIONS.iter().any(|(key, _)| key == k))
            {
                Some(bad) => {
                    let keys: Vec<&str> = COVERAGE_DIMENSIONS.iter().map(|(k, _)| *k).collect();
                    let hint = match crate::diagnostics::did_you_mean(bad, keys.iter().copied()) {
                        Some(close) => format!(
                            "did you mean `{close}`? the dimensions: {}",
                            keys.join(", ")
                        ),
                        None => format!("the dimensions: {}", keys.join(", ")),
                    };
                    self.err(
                        &d.referenced,
                        "coverage_dimensions",
                        format!("there is no coverage dimension {}", shown(bad)),
                        &hint,
                    );
                    all()
                }
                None => d.value.clone(),
            },
        }
    }
}

impl Resolver<'_> {
    fn grafana(&mut self, g: Option<&model::GrafanaSettings>) -> Grafana {
        let url = self
            .url(
                g.and_then(|g| g.url.as_ref()),
                "grafana.url",
                url::Use::Link,
            )
            .map(|u| u.trim_end_matches('/').to_owned());
        Grafana { url, ..grafana(g) }
    }
}

fn grafana(g: Option<&model::GrafanaSettings>) -> Grafana {
    Grafana {
        dashboards_path: g
            .and_then(|g| g.dashboards_path.clone())
            .unwrap_or_else(|| "/var/lib/grafana/dashboards/monitoring-as-code".into()),
        folder: g
            .and_then(|g| g.folder.clone())
            .unwrap_or_else(|| "Monitoring as code".into()),
        url: None,
    }
}

/// Kubernetes grammars the API server would enforce at apply time, checked
/// here so the mistake points at the registry: label keys and values, the
/// metrics port's name, the Blackbox prober's address.
fn check_kubernetes(
    k: &model::KubernetesSettings,
    err: &mut dyn FnMut(&serde_saphyr::Location, &str, String, &str),
) {
    if let Some(ns) = &k.namespace
        && !is_valid_name(&ns.value)
    {
        err(
            &ns.referenced,
            "kubernetes.namespace",
            format!("{} is not a valid namespace", shown(&ns.value)),
            "use lowercase letters, digits and `-`",
        );
    }
    if let Some(p) = &k.provides {
        for name in p
            .value
            .iter()
            .filter(|n| !CLUSTER_PROVIDES.contains(&n.as_str()))
        {
            err(
                &p.referenced,
                "kubernetes.provides",
                format!("{} is not something a cluster provides here", shown(name)),
                "list any of: kube-state-metrics, cadvisor",
            );
        }
    }
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

//! The registry file format, as teams write it.
//!
//! Every struct denies unknown fields so a typo is an error, not a silently ignored
//! key. Fields beyond the design document's format are optional, so files in that
//! format keep loading. Values that validation must point at are `Spanned`.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_saphyr::{Location, Spanned};

/// One `*.yaml` file of the registry folder. All sections are optional; the
/// registry is the merge of every file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryFile {
    #[serde(default)]
    pub services: Vec<Spanned<Service>>,
    #[serde(default)]
    pub pages: Vec<Spanned<Page>>,
    #[serde(default)]
    pub api_endpoints: Vec<Spanned<ApiEndpoint>>,
    /// SLOs over any events (raw queries), by name.
    #[serde(default)]
    pub slos: Vec<Spanned<Slo>>,
    /// Owner teams, by name. Used for alert routing.
    #[serde(default)]
    pub teams: BTreeMap<String, Spanned<Team>>,
    /// Registry-wide defaults; at most one file may set them.
    pub defaults: Option<Spanned<Defaults>>,
    /// How the monitoring stack runs; at most one file may set them.
    pub settings: Option<Spanned<Settings>>,
}

/// Settings of the generated monitoring stack. Every field is optional; the
/// defaults are documented in the README.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub scrape_interval: Option<Spanned<String>>,
    pub evaluation_interval: Option<Spanned<String>>,
    /// `host:port` of the Blackbox exporter that Prometheus asks to probe.
    pub blackbox_address: Option<Spanned<String>>,
    /// `host:port` of Alertmanager.
    pub alertmanager_address: Option<Spanned<String>>,
    /// Where the stand-alone Prometheus listens, for its own scrape job.
    pub prometheus_address: Option<Spanned<String>>,
    /// Base URL that page paths are appended to for synthetic page probes.
    pub pages_base_url: Option<Spanned<String>>,
    /// Ports of the exporters every docker and systemd host runs:
    /// `{node_exporter: 9100, cadvisor: 8080}` (cAdvisor on docker hosts).
    pub host_exporters: Option<Spanned<HostExporters>>,
    /// The coverage floor (percent) `cargo xtask coverage` enforces without `--min`.
    pub coverage_min: Option<Spanned<f64>>,
    /// The coverage dimensions this registry counts (default: all of them).
    pub coverage_dimensions: Option<Spanned<Vec<String>>>,
    /// The histogram buckets the applications use; SLO thresholds are added.
    pub latency_buckets_seconds: Option<Spanned<Vec<f64>>>,
    /// The SLO period, such as `30d` or `28d`.
    pub slo_period: Option<Spanned<String>>,
    /// `for` of each burn-rate tier.
    pub burn_rate_for: Option<Spanned<BTreeMap<String, String>>>,
    /// Where SLIs come from and how SLO alerts are shaped.
    pub slo: Option<Spanned<SloSettings>>,
    /// How rule groups are delivered and into which files they go.
    pub prometheus: Option<Spanned<PrometheusSettings>>,
    /// Where PrometheusRule, ServiceMonitor and Probe resources go.
    pub kubernetes: Option<Spanned<KubernetesSettings>>,
    pub alertmanager: Option<Spanned<AlertmanagerSettings>>,
    pub grafana: Option<Spanned<GrafanaSettings>>,
    pub discovery: Option<Spanned<DiscoverySettings>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusSettings {
    /// `auto` (default: a PrometheusRule for k8s services, whose metrics the
    /// operator's Prometheus scrapes; rule files for the rest), `files`,
    /// `resources` or `both`.
    pub rules: Option<Spanned<String>>,
    /// `service` (default: a rule file per service) or `team` (per owner team).
    pub group_by: Option<Spanned<String>>,
    /// Split scraping over several Prometheus servers: `{count: 2, by: hash}`.
    pub shards: Option<Spanned<ShardSettings>>,
    /// `mimir`: also write the rules as one Mimir/Cortex ruler namespace per owner team.
    pub ruler: Option<Spanned<String>>,
    /// How long Prometheus keeps its samples (`--storage.tsdb.retention.time`,
    /// default 15d): the SLO period's figures need that much history.
    pub retention: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardSettings {
    pub count: Spanned<i64>,
    /// `hash` (default: hashmod of the service) or `team` (each owner team whole on one shard).
    pub by: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloSettings {
    /// The HTTP metrics the applications export: `{preset: opentelemetry}`,
    /// with any name overridden.
    pub metrics: Option<Spanned<HttpMetricsSettings>>,
    /// `tiers` (an alert per burn-rate tier) or `page_ticket` (Sloth's two:
    /// page = fast or medium, ticket = slow or long).
    pub alerts: Option<Spanned<String>>,
    /// The bad events a burn-rate alert needs in its short window before it
    /// fires (default 3, 0 for none): one stray error never pages.
    pub min_bad_events: Option<Spanned<f64>>,
    /// The severity of an alert when the period's error budget is spent
    /// (`warning` or `critical`); none without it.
    pub budget_exhausted_alert: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpMetricsSettings {
    /// `middleware` (default), `opentelemetry` or `micrometer`.
    pub preset: Option<Spanned<String>>,
    pub requests: Option<Spanned<String>>,
    pub duration: Option<Spanned<String>>,
    pub method_label: Option<Spanned<String>>,
    pub route_label: Option<Spanned<String>>,
    pub status_label: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoverySettings {
    /// Workloads and containers that need no registry entry: glob patterns
    /// (`*` matches anything) against the name or `namespace/name`.
    #[serde(default)]
    pub ignore: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertmanagerSettings {
    /// The receiver of teams without a webhook, and of alerts whose owner has no route.
    pub default_webhook_url: Option<Spanned<String>>,
    /// A file with the bearer token the default webhook needs.
    pub default_webhook_credentials_file: Option<Spanned<String>>,
    pub group_wait: Option<Spanned<String>>,
    pub group_interval: Option<Spanned<String>>,
    pub repeat_interval: Option<Spanned<String>>,
    /// `true`: an owner missing from `teams:` routes to the default receiver
    /// instead of being an error.
    #[serde(default)]
    pub unknown_owners_to_default: bool,
    /// The mail server, for `email` channels.
    pub smtp: Option<Spanned<Smtp>>,
    /// The Alertmanager version the config is written for (its receiver
    /// options differ by version): only the one CI tests, "0.25".
    pub version: Option<Spanned<String>>,
    /// The automation loop's webhook (the design's `/api/v1/webhooks/alertmanager`):
    /// alerts with an `auto_repair` action reach it too (`continue: true`).
    pub automation_webhook_url: Option<Spanned<String>>,
    /// A file with the bearer token the automation webhook needs.
    pub automation_webhook_credentials_file: Option<Spanned<String>>,
    /// The dead man's switch the Watchdog pings: a service outside the
    /// monitored system that pages when the pings stop.
    pub heartbeat: Option<Spanned<Heartbeat>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    pub url: Spanned<String>,
    /// A file with the bearer token the switch needs.
    pub credentials_file: Option<Spanned<String>>,
    /// How often the Watchdog is sent (default 1m): shorter than the
    /// switch's own grace period.
    pub repeat_interval: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrafanaSettings {
    /// Where Grafana reads the dashboard files (the provisioning file points there).
    pub dashboards_path: Option<String>,
    pub folder: Option<String>,
    /// Grafana's address as the on-call opens it: each alert then links to
    /// its target's dashboard (`dashboard_url`).
    pub url: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesSettings {
    pub namespace: Option<Spanned<String>>,
    /// Labels on every resource, such as the `release` the operator selects.
    /// (A hash map because positions make keys unordered; sorted when checked.)
    #[serde(default)]
    pub labels: std::collections::HashMap<Spanned<String>, Spanned<String>>,
    /// In-cluster `host:port` of the Blackbox exporter, for `Probe` resources.
    pub blackbox_prober: Option<Spanned<String>>,
    /// Name of the port, on the k8s Service, that serves `/metrics`.
    pub metrics_port_name: Option<Spanned<String>>,
    /// What the cluster's monitoring stack scrapes itself (kube-prometheus
    /// does both): `kube-state-metrics`, `cadvisor` (the kubelet's).
    pub provides: Option<Spanned<Vec<String>>>,
    /// The generated Alertmanager as the operator's Prometheus reaches it
    /// (`host:port`): the cluster's alerts are sent there too.
    pub alertmanager_address: Option<Spanned<String>>,
}

/// Where the service's metrics are scraped.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    /// Port of `/metrics` (an exporter beside the service, or the service itself).
    pub port: Option<Spanned<i64>>,
    pub path: Option<Spanned<String>>,
}

/// An availability objective: a percentage, or a preset name.
#[derive(Debug, Clone)]
pub enum Availability {
    Percent(f64),
    Preset(String),
}

impl<'de> Deserialize<'de> for Availability {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Availability;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a percentage such as 99.9, or a preset: critical, high, low")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Availability, E> {
                Ok(Availability::Percent(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Availability, E> {
                Ok(Availability::Percent(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Availability, E> {
                Ok(Availability::Percent(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Availability, E> {
                Ok(Availability::Preset(v.to_owned()))
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
pub enum ServiceType {
    #[serde(rename = "k8s-deployment")]
    K8sDeployment,
    #[serde(rename = "docker")]
    Docker,
    #[serde(rename = "systemd")]
    Systemd,
}

impl ServiceType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::K8sDeployment => "k8s-deployment",
            Self::Docker => "docker",
            Self::Systemd => "systemd",
        }
    }
}

impl fmt::Display for ServiceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub name: Spanned<String>,
    #[serde(rename = "type")]
    pub kind: Spanned<ServiceType>,
    /// Kubernetes namespace (k8s-deployment only).
    pub namespace: Option<Spanned<String>>,
    /// Host name or address (docker and systemd).
    pub host: Option<Spanned<String>>,
    /// Kept wide so an out-of-range port gets our own error with a hint.
    pub port: Option<Spanned<i64>>,
    /// An HTTP path (`/health`), a command (`pg_isready`) or an exec-probe file.
    pub health_endpoint: Option<Spanned<String>>,
    /// The systemd unit (systemd only).
    pub service_name: Option<Spanned<String>>,
    #[serde(default)]
    pub monitoring: ServiceMonitoring,
    /// Where `/metrics` is, when not on `port` (docker) or node_exporter (systemd).
    pub metrics: Option<Spanned<Metrics>>,
    #[serde(default)]
    pub alerts: Vec<Spanned<AlertRef>>,
    /// Failure modes (`templates/failure_modes.yaml`) left unwatched, each
    /// with the reason: `{not_exporting: "serves no metrics"}`.
    pub opt_out: Option<Spanned<BTreeMap<String, String>>>,
    pub owner: Option<Spanned<String>>,
    pub description: Option<String>,
    pub runbook_url: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceMonitoring {
    #[serde(default)]
    pub prometheus: bool,
    #[serde(default)]
    pub sentry: bool,
    #[serde(default)]
    pub otel: bool,
    #[serde(default)]
    pub langfuse: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    pub path: Spanned<String>,
    pub name: String,
    #[serde(default)]
    pub monitoring: PageMonitoring,
    #[serde(default)]
    pub alerts: Vec<Spanned<AlertRef>>,
    /// Failure modes left unwatched, each with the reason (as on services).
    pub opt_out: Option<Spanned<BTreeMap<String, String>>>,
    /// Owner team; falls back to `defaults.page_owner`.
    pub owner: Option<Spanned<String>>,
    /// The service that serves the page; falls back to `defaults.page_service`.
    pub service: Option<Spanned<String>>,
    /// A description for generated documentation.
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageMonitoring {
    #[serde(default)]
    pub sentry_session: bool,
    #[serde(default)]
    pub web_vitals: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiEndpoint {
    pub path: Spanned<String>,
    pub method: Spanned<String>,
    #[serde(default)]
    pub critical: bool,
    pub slo_latency_ms: Option<Spanned<f64>>,
    pub slo_availability: Option<Spanned<Availability>>,
    /// Requests per second below which burn-rate alerts stay quiet.
    pub min_request_rate: Option<Spanned<f64>>,
    /// The burn-rate tiers that alert (default: all of fast, medium, slow, long).
    pub burn_rate_tiers: Option<Spanned<Vec<String>>>,
    /// The service that serves the endpoint; falls back to `defaults.api_service`.
    pub service: Option<Spanned<String>>,
    pub owner: Option<Spanned<String>>,
    /// Raw queries instead of the HTTP metrics of `settings.slo.metrics`.
    pub sli: Option<Spanned<SliQueries>>,
    /// Failure modes (`errors`, `latency`) its SLO leaves unwatched, each with
    /// the reason: `{latency: "a batch upload: only availability matters"}`.
    pub opt_out: Option<Spanned<BTreeMap<String, String>>>,
}

/// Bad and total events over `{{.window}}`, as Sloth writes them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SliQueries {
    pub error_query: Spanned<String>,
    pub total_query: Spanned<String>,
    /// Requests slower than the latency objective (with `slo_latency_ms`).
    pub slow_query: Option<Spanned<String>>,
}

/// An SLO over any events, not an API endpoint's (such as one imported from
/// Sloth or OpenSLO).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    pub name: Spanned<String>,
    pub service: Spanned<String>,
    pub owner: Option<Spanned<String>>,
    pub description: Option<String>,
    pub slo_availability: Spanned<Availability>,
    pub sli: Spanned<SliQueries>,
    pub min_request_rate: Option<Spanned<f64>>,
    pub burn_rate_tiers: Option<Spanned<Vec<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    /// Alertmanager webhook for this team's alerts (no secrets in it).
    pub webhook_url: Option<Spanned<String>>,
    /// Webhook for the team's critical alerts; defaults to `webhook_url`.
    pub paging_webhook_url: Option<Spanned<String>>,
    /// A file with the bearer token the webhook needs, so secrets stay out of
    /// generated files.
    pub webhook_credentials_file: Option<Spanned<String>>,
    /// A file holding a Slack incoming-webhook URL (which is itself a secret):
    /// the team's alerts also go to Slack, through Alertmanager's `api_url_file`.
    pub slack_api_url_file: Option<Spanned<String>>,
    /// More channels for all of the team's alerts.
    #[serde(default)]
    pub notify: Vec<Spanned<Channel>>,
    /// More channels for the team's critical alerts only.
    #[serde(default)]
    pub page: Vec<Spanned<Channel>>,
}

/// A notification channel: `- pagerduty: {routing_key_file: …}`. Secrets only
/// through the `*_file` options Alertmanager 0.25 has; kinds whose secret it
/// can only take inline are accepted here to be refused with a reason.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Channel {
    Slack(SlackChannel),
    Pagerduty(PagerdutyChannel),
    Opsgenie(OpsgenieChannel),
    Email(EmailChannel),
    Webex(WebexChannel),
    Victorops(VictoropsChannel),
    Telegram(serde::de::IgnoredAny),
    Discord(serde::de::IgnoredAny),
    Msteams(serde::de::IgnoredAny),
    Wechat(serde::de::IgnoredAny),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackChannel {
    pub api_url_file: Spanned<String>,
    pub channel: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagerdutyChannel {
    pub routing_key_file: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpsgenieChannel {
    pub api_key_file: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailChannel {
    pub to: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebexChannel {
    pub room_id: Spanned<String>,
    pub credentials_file: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VictoropsChannel {
    pub api_key_file: Spanned<String>,
    pub routing_key: Spanned<String>,
}

/// The mail server of `email` channels.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    /// `host:port`.
    pub smarthost: Spanned<String>,
    pub from: Spanned<String>,
    pub auth_username: Option<Spanned<String>>,
    pub auth_password_file: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Owner of pages and endpoints that name none.
    pub page_owner: Option<Spanned<String>>,
    pub page_service: Option<Spanned<String>>,
    pub api_owner: Option<Spanned<String>>,
    pub api_service: Option<Spanned<String>>,
    /// Owner of the platform's own alerts: hosts, host exporters, the prober.
    pub platform_owner: Option<Spanned<String>>,
    /// Overrides of the platform's alerts (`{name: prober_down, for: 30s}`),
    /// as on a service's `alerts:`.
    #[serde(default)]
    pub platform_alerts: Vec<Spanned<AlertRef>>,
    /// Prefix for `runbook_url` annotations: `<base>/<alert name>`.
    pub runbook_base_url: Option<Spanned<String>>,
}

/// An entry of an `alerts:` list: a catalogue name, or a name with overrides
/// (`{name: memory_high, severity: critical, for: 10m, threshold: 0.85}`).
#[derive(Debug)]
pub struct AlertRef {
    pub name: Spanned<String>,
    pub severity: Option<Spanned<String>>,
    pub for_: Option<Spanned<String>>,
    pub threshold: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertOverride {
    name: Spanned<String>,
    severity: Option<Spanned<String>>,
    #[serde(rename = "for")]
    for_: Option<Spanned<String>>,
    threshold: Option<Spanned<f64>>,
}

// Hand-written rather than `untagged`, which would turn every mistake inside an
// override into "data did not match any variant" and lose the locations.
impl<'de> Deserialize<'de> for AlertRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RefVisitor;
        impl<'de> Visitor<'de> for RefVisitor {
            type Value = AlertRef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an alert name or a map {name, severity, for, threshold}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AlertRef, E> {
                // Location is filled in from the enclosing `Spanned` by the loader.
                Ok(AlertRef {
                    name: Spanned::new(v.to_owned(), Location::UNKNOWN, Location::UNKNOWN),
                    severity: None,
                    for_: None,
                    threshold: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<AlertRef, A::Error> {
                let o = AlertOverride::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(AlertRef {
                    name: o.name,
                    severity: o.severity,
                    for_: o.for_,
                    threshold: o.threshold,
                })
            }
        }
        deserializer.deserialize_any(RefVisitor)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostExporters {
    pub node_exporter: Option<Spanned<i64>>,
    pub cadvisor: Option<Spanned<i64>>,
}

//! The service registry: loading (`load`), the file format (`model`), and
//! validation into the checked model below (`validate`), which everything
//! downstream renders from.

pub mod channels;
pub mod load;
pub mod model;
pub mod settings;
pub mod url;
pub mod validate;
pub mod wording;

use std::collections::BTreeMap;

use serde::Serialize;

pub use model::ServiceType;

/// The owner or service label used when the registry names none (with a warning).
pub const UNASSIGNED: &str = "unassigned";

/// A registry that passed validation. Lists are sorted (services by name, pages
/// by path, endpoints by path and method) so output never depends on file order.
#[derive(Debug, Serialize)]
pub struct Registry {
    pub services: Vec<Service>,
    pub pages: Vec<Page>,
    pub endpoints: Vec<Endpoint>,
    pub teams: BTreeMap<String, Team>,
    pub runbook_base_url: Option<String>,
    pub settings: settings::Settings,
    /// The registry files, as `<folder>/<file>`, for headers.
    pub files: Vec<String>,
    /// The file that holds `settings:`, if one does (for the headers of files
    /// that derive from settings alone).
    pub settings_file: Option<String>,
    /// Hash of the registry files' contents (see `validate::content_hash`).
    pub content_hash: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub name: String,
    /// Serialised as `k8s-deployment`, `docker` or `systemd`.
    pub kind: ServiceType,
    pub namespace: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub health_endpoint: Option<String>,
    /// The systemd unit.
    pub unit: Option<String>,
    pub monitoring: ServiceMonitoring,
    pub alerts: Vec<AlertUse>,
    pub owner: String,
    pub description: Option<String>,
    pub runbook_url: Option<String>,
    /// The registry file that defines the service.
    pub source: String,
    pub probe: Probe,
    /// Where Prometheus scrapes `/metrics` (docker and systemd with `prometheus: true`).
    pub scrape: Option<Scrape>,
    /// Port of `/metrics` on a k8s service, when known.
    pub metrics_port: Option<u16>,
    pub metrics_path: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scrape {
    /// `host:port`.
    pub address: String,
    pub path: String,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct ServiceMonitoring {
    pub prometheus: bool,
    pub sentry: bool,
    pub otel: bool,
    pub langfuse: bool,
}

/// How a service's health is checked from outside, derived from its type,
/// `health_endpoint`, host and port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Probe {
    /// A Blackbox HTTP probe of this URL.
    Http { url: String },
    /// A Blackbox TCP connect to `host:port`, for health checks that are commands
    /// (`redis-cli ping`, `pg_isready`) rather than HTTP paths.
    Tcp { address: String, command: String },
    /// No external probe, and why.
    None { reason: String },
}

impl Probe {
    pub fn exists(&self) -> bool {
        !matches!(self, Probe::None { .. })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Page {
    pub path: String,
    pub name: String,
    pub sentry_session: bool,
    pub web_vitals: bool,
    pub alerts: Vec<AlertUse>,
    pub owner: String,
    pub service: String,
    pub source: String,
    /// The synthetic probe's URL, when `settings.pages_base_url` is set.
    pub probe_url: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    pub path: String,
    pub method: String,
    pub critical: bool,
    pub slo_latency_ms: Option<f64>,
    /// Resolved from a percentage or a preset.
    pub slo_availability: Option<f64>,
    pub service: Option<String>,
    pub owner: Option<String>,
    pub source: String,
    pub min_request_rate: Option<f64>,
    /// The burn-rate tiers that alert.
    pub tiers: Vec<String>,
}

impl Endpoint {
    /// The share of requests allowed to fail (or be slow): 1 - availability.
    pub fn error_budget(&self) -> Option<f64> {
        self.slo_availability
            .map(|a| ((100.0 - a) / 100.0 * 1e9).round() / 1e9)
    }

    pub fn latency_seconds(&self) -> Option<f64> {
        self.slo_latency_ms.map(|ms| ms / 1000.0)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Team {
    pub webhook_url: Option<String>,
    pub paging_webhook_url: Option<String>,
    pub webhook_credentials_file: Option<String>,
    pub slack_api_url_file: Option<String>,
    /// Channels for all of the team's alerts, and for its critical ones.
    pub notify: Vec<channels::ChannelConfig>,
    pub page: Vec<channels::ChannelConfig>,
}

/// An alert attached to a service or page, with the registry's overrides.
#[derive(Debug, Clone, Serialize)]
pub struct AlertUse {
    pub name: String,
    pub severity: Option<String>,
    #[serde(rename = "for")]
    pub for_: Option<String>,
    pub threshold: Option<f64>,
}

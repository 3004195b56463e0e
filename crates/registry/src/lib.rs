//! The service registry, the first layer: loading (`load`), the file format
//! (`model`), and validation into the checked model below (`validate`), which
//! the monitoring layer plans and renders from. It knows nothing of templates
//! or artefacts; the leaves it holds (`source`, `diagnostics`, `syntax`, `sli`,
//! `burn_rate`, `catalogue`) are what both later layers speak.

// Diagnostics are returned on the cold error path only; their size does not matter.
#![allow(clippy::result_large_err)]

pub mod burn_rate;
pub mod catalogue;
pub mod channels;
pub mod diagnostics;
pub mod failure_modes;
pub mod load;
pub mod model;
pub mod settings;
pub mod sli;
pub mod source;
pub mod syntax;
pub mod target_kind;
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
    /// Every SLO: the endpoints' (sorted as they are), then `slos:` by service and name.
    pub objectives: Vec<Objective>,
    pub teams: BTreeMap<String, Team>,
    /// Hosts and the prober, which every service depends on.
    pub platform: Platform,
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

impl Registry {
    /// How the header of a file derived from the whole registry names its
    /// source: the folder (`registry/`), not each file, so adding a registry
    /// file leaves those headers as they are.
    pub fn source(&self) -> String {
        self.files
            .first()
            .and_then(|f| f.split_once('/'))
            .map_or_else(|| "the registry".to_owned(), |(dir, _)| format!("{dir}/"))
    }

    /// The service of that name (services are sorted by name).
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services
            .binary_search_by(|s| s.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.services[i])
    }
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
    /// Listed alerts, then the baseline alerts of its failure modes.
    pub alerts: Vec<AlertUse>,
    /// How it stands against each of its failure modes.
    pub modes: Vec<failure_modes::ModeCheck>,
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
    pub(crate) fn exists(&self) -> bool {
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
    pub modes: Vec<failure_modes::ModeCheck>,
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
    /// Raw queries that replace the HTTP metrics for its SLIs.
    pub queries: Option<crate::sli::Queries>,
    /// How its SLO stands against the endpoint's failure modes.
    pub modes: Vec<failure_modes::ModeCheck>,
}

/// One SLO the rules, dashboards and plan are built for: an API endpoint's, or
/// one of `slos:` (raw queries, such as an imported Sloth SLO).
#[derive(Debug, Clone, Serialize)]
pub struct Objective {
    /// `GET /path`, or the SLO's name.
    pub key: String,
    /// The labels that tell it apart on every series and alert: `service` (when
    /// known) with `method` and `path`, or with `slo_name`.
    pub labels: BTreeMap<String, String>,
    pub service: Option<String>,
    pub owner: Option<String>,
    /// Percent.
    pub availability: f64,
    pub latency_ms: Option<f64>,
    pub events: Events,
    pub min_request_rate: Option<f64>,
    pub tiers: Vec<String>,
    pub source: String,
    pub description: Option<String>,
}

/// Where an objective's events come from.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Events {
    /// The HTTP metrics of `settings.slo.metrics`, for this route.
    Http {
        method: String,
        path: String,
    },
    Queries(crate::sli::Queries),
}

impl Objective {
    /// The share of events allowed to be bad: 1 - availability.
    pub fn error_budget(&self) -> f64 {
        ((100.0 - self.availability) / 100.0 * 1e9).round() / 1e9
    }

    pub fn latency_seconds(&self) -> Option<f64> {
        self.latency_ms.map(|ms| ms / 1000.0)
    }

    /// An endpoint's SLO, if it has one.
    pub fn of_endpoint(ep: &Endpoint) -> Option<Objective> {
        let availability = ep.slo_availability?;
        let mut labels = BTreeMap::from([
            ("method".to_owned(), ep.method.clone()),
            ("path".to_owned(), ep.path.clone()),
        ]);
        if let Some(s) = &ep.service {
            labels.insert("service".into(), s.clone());
        }
        Some(Objective {
            key: format!("{} {}", ep.method, ep.path),
            labels,
            service: ep.service.clone(),
            owner: ep.owner.clone(),
            availability,
            latency_ms: ep.slo_latency_ms,
            events: match &ep.queries {
                Some(q) => Events::Queries(q.clone()),
                None => Events::Http {
                    method: ep.method.clone(),
                    path: ep.path.clone(),
                },
            },
            min_request_rate: ep.min_request_rate,
            tiers: ep.tiers.clone(),
            source: ep.source.clone(),
            description: None,
        })
    }
}

impl Endpoint {
    /// The share of requests allowed to fail (or be slow): 1 - availability.
    pub fn error_budget(&self) -> Option<f64> {
        self.slo_availability
            .map(|a| ((100.0 - a) / 100.0 * 1e9).round() / 1e9)
    }

    pub(crate) fn latency_seconds(&self) -> Option<f64> {
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

/// What the platform runs for the services: their hosts and the prober.
#[derive(Debug, Serialize)]
pub struct Platform {
    /// The owner label of their alerts: `defaults.platform_owner`, else `unassigned`.
    pub owner: String,
    /// Each docker and systemd host, by name.
    pub hosts: Vec<Host>,
    /// The Blackbox prober, when anything is probed.
    pub prober: Option<Watched>,
    /// The generated Prometheus and Alertmanager themselves.
    pub monitoring: Watched,
}

#[derive(Debug, Serialize)]
pub struct Host {
    pub name: String,
    /// Its services, as `name (owner)`, for the alert's description.
    pub services: Vec<String>,
    pub alerts: Vec<AlertUse>,
    pub modes: Vec<failure_modes::ModeCheck>,
}

/// Something watched by its failure modes alone.
#[derive(Debug, Serialize)]
pub struct Watched {
    pub alerts: Vec<AlertUse>,
    pub modes: Vec<failure_modes::ModeCheck>,
}

/// An alert attached to a service or page, with the registry's overrides.
#[derive(Debug, Clone, Serialize)]
pub struct AlertUse {
    pub name: String,
    pub severity: Option<String>,
    #[serde(rename = "for")]
    pub for_: Option<String>,
    pub threshold: Option<f64>,
    /// Added by a failure mode, not listed in the registry.
    pub baseline: bool,
}

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
    /// Owner teams, by name. Used for alert routing.
    #[serde(default)]
    pub teams: BTreeMap<String, Spanned<Team>>,
    /// Registry-wide defaults; at most one file may set them.
    pub defaults: Option<Spanned<Defaults>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub enum ServiceType {
    #[serde(rename = "k8s-deployment")]
    K8sDeployment,
    #[serde(rename = "docker")]
    Docker,
    #[serde(rename = "systemd")]
    Systemd,
}

impl ServiceType {
    pub const ALL: [ServiceType; 3] = [Self::K8sDeployment, Self::Docker, Self::Systemd];

    pub fn as_str(self) -> &'static str {
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
    #[serde(default)]
    pub alerts: Vec<Spanned<AlertRef>>,
    pub owner: Option<Spanned<String>>,
    pub description: Option<String>,
    pub runbook_url: Option<String>,
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
    /// Owner team; falls back to `defaults.page_owner`.
    pub owner: Option<Spanned<String>>,
    /// The service that serves the page; falls back to `defaults.page_service`.
    pub service: Option<Spanned<String>>,
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
    pub slo_availability: Option<Spanned<f64>>,
    /// The service that serves the endpoint; falls back to `defaults.api_service`.
    pub service: Option<Spanned<String>>,
    pub owner: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    /// Alertmanager webhook for this team's alerts.
    pub webhook_url: Option<String>,
    /// A file holding the webhook URL, so secrets stay out of generated files.
    pub webhook_url_file: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Owner of pages and endpoints that name none.
    pub page_owner: Option<Spanned<String>>,
    pub page_service: Option<Spanned<String>>,
    pub api_owner: Option<Spanned<String>>,
    pub api_service: Option<Spanned<String>>,
    /// Prefix for `runbook_url` annotations: `<base>/<alert name>`.
    pub runbook_base_url: Option<String>,
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

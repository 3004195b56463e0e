//! What an alert, or a failure mode, is for: the kinds of registered things
//! (services by type, pages, endpoints) and the platform under them (hosts,
//! the prober). A leaf: both catalogues speak it.

use serde::{Deserialize, Serialize};

use crate::model::ServiceType;

/// What an alert can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
pub enum TargetKind {
    #[serde(rename = "k8s-deployment")]
    K8sDeployment,
    #[serde(rename = "docker")]
    Docker,
    #[serde(rename = "systemd")]
    Systemd,
    #[serde(rename = "page")]
    Page,
    /// A docker or systemd host, seen through its services' targets and
    /// node_exporter (a platform alert, owned by `defaults.platform_owner`).
    #[serde(rename = "host")]
    Host,
    /// The blackbox_exporter that runs every probe (a platform alert).
    #[serde(rename = "prober")]
    Prober,
    /// An API endpoint: only failure modes name it (its SLO rules catch them).
    #[serde(rename = "endpoint")]
    Endpoint,
    /// The generated Prometheus and Alertmanager, through which every alert
    /// goes (a platform alert).
    #[serde(rename = "monitoring")]
    Monitoring,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::K8sDeployment => "k8s-deployment",
            Self::Docker => "docker",
            Self::Systemd => "systemd",
            Self::Page => "page",
            Self::Host => "host",
            Self::Prober => "prober",
            Self::Endpoint => "endpoint",
            Self::Monitoring => "monitoring",
        }
    }
}

impl From<ServiceType> for TargetKind {
    fn from(t: ServiceType) -> Self {
        match t {
            ServiceType::K8sDeployment => Self::K8sDeployment,
            ServiceType::Docker => Self::Docker,
            ServiceType::Systemd => Self::Systemd,
        }
    }
}

//! The names of the probe jobs, which the scrape configs and operator
//! resources write and the alerts select: the prober's own alert must see
//! exactly the probes of the Prometheus that evaluates it.

/// A Blackbox job of the stand-alone Prometheus: its name, module and target
/// file (relative to prometheus.yml).
pub const BLACKBOX_JOBS: [(&str, &str, &str); 3] = [
    ("blackbox-http", "http_2xx", "targets/blackbox-http.yml"),
    ("blackbox-tcp", "tcp_connect", "targets/blackbox-tcp.yml"),
    ("blackbox-pages", "http_page", "targets/blackbox-pages.yml"),
];

/// The job of the k8s services' Probes, apart from the stand-alone ones.
pub(crate) const CLUSTER_PROBE_JOB: &str = "blackbox-cluster";

/// The jobs of the stand-alone Prometheus that scrape it and the generated
/// Alertmanager (named apart from any service's job).
pub(crate) const PROMETHEUS_JOB: &str = "monitoring-prometheus";
pub(crate) const ALERTMANAGER_JOB: &str = "monitoring-alertmanager";

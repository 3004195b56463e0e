//! The artefacts: one module per kind of file, each rendering its files from
//! the plan through the templates, all in one table (`GENERATORS`).

pub(crate) mod alert_rules;
pub(crate) mod alertmanager;
pub mod code;
pub mod coverage;
pub mod emit;
pub mod grafana;
pub(crate) mod kubernetes;
pub(crate) mod plan_snapshot;
pub(crate) mod rule_tests;
pub(crate) mod ruler;
pub mod scrape;
pub(crate) mod slo;

pub use emit::{Emit, Generator};

/// Every artefact, in one table: what it writes, and its generator. A new
/// artefact is a module of `artefacts/` and a line here.
pub(crate) const GENERATORS: &[(&str, Generator)] = &[
    (
        "Prometheus alert rules and their unit tests",
        alert_rules::outputs,
    ),
    (
        "SLO recording and burn-rate rules and their unit tests",
        slo::outputs,
    ),
    (
        "Prometheus config, scrape targets and Blackbox modules",
        scrape::outputs,
    ),
    (
        "Alertmanager routes, receivers and inhibitions",
        alertmanager::outputs,
    ),
    ("prometheus-operator resources", kubernetes::outputs),
    (
        "Mimir/Cortex ruler namespaces, one per owner team",
        ruler::outputs,
    ),
    ("the coverage report", coverage::outputs),
    ("Grafana dashboards and provisioning", grafana::outputs),
    (
        "known pages and endpoints for Rust and TypeScript",
        code::outputs,
    ),
];

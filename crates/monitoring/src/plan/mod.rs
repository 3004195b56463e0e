//! The monitoring plan: everything derived once from the checked registry
//! (alert rules, SLO rules, coverage, dashboards) that the artefacts render
//! and the plan snapshot shows.

pub mod alerts;
pub mod burn;
pub mod coverage;
pub mod dashboards;
pub mod delivery;
pub mod rule;
pub mod rule_tests;
pub mod slo;
pub mod slo_shared;

use registry::Registry;

/// What every generator reads: the checked registry and what is derived from
/// it once (alert rules, SLOs, coverage, dashboards), shared by several
/// artefacts and by the plan snapshot.
pub struct Plan<'a> {
    pub registry: &'a Registry,
    pub rules: &'a alerts::Rules,
    pub slo: &'a slo::Slo,
    pub coverage: &'a coverage::Coverage,
    pub dashboards: &'a [(String, dashboards::Dashboard)],
}

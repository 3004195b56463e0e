//! The monitoring plan: everything derived once from the checked registry
//! (alert rules, SLO rules, coverage, dashboards) that the artefacts render
//! and the plan snapshot shows.

pub(crate) mod alerts;
pub(crate) mod burn;
pub mod coverage;
pub mod dashboards;
pub mod delivery;
pub mod jobs;
pub mod rule;
pub mod rule_tests;
pub mod slo;
pub mod slo_shared;

use crate::error::RenderError;
use crate::templates::Renderer;
use registry::Registry;
use registry::catalogue::Catalogue;

/// What every generator reads: the checked registry and what is derived from
/// it once (alert rules, SLOs, coverage, dashboards), shared by several
/// artefacts and by the plan snapshot.
pub struct Plan<'a> {
    pub registry: &'a Registry,
    pub rules: alerts::Rules,
    pub slo: slo::Slo,
    pub coverage: coverage::Coverage,
    pub dashboards: Vec<(String, dashboards::Dashboard)>,
}

impl<'a> Plan<'a> {
    /// Plans the monitoring of `registry`. The alert expressions are the
    /// catalogue's templates rendered per target, hence the renderer.
    pub fn build(
        r: &Renderer,
        catalogue: &Catalogue,
        registry: &'a Registry,
    ) -> Result<Plan<'a>, RenderError> {
        let rules = alerts::build(r, catalogue, registry)?;
        let slo = slo::build(registry);
        let coverage = coverage::compute(registry);
        let dashboards = dashboards::dashboards(registry, &coverage);
        Ok(Plan {
            registry,
            rules,
            slo,
            coverage,
            dashboards,
        })
    }
}

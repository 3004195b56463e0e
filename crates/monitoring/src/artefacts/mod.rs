//! The artefacts: one module per kind of file, each rendering its files from
//! the plan through the templates, all in one table (`GENERATORS`).

pub mod alert_rules;
pub mod alertmanager;
pub mod code;
pub mod coverage;
pub mod grafana;
pub mod kubernetes;
pub mod plan_snapshot;
pub mod rule_tests;
pub mod ruler;
pub mod scrape;
pub mod slo;

use crate::output::Output;
use crate::parallel::par_map;
use crate::plan::Plan;
use crate::templates::Renderer;

/// Where a generator hands its files as they are rendered: all at once, or a
/// large artefact (a rule file and its tests per team) a few at a time.
pub type Emit<'e> = dyn FnMut(Vec<Output>) -> Result<(), String> + 'e;

/// A generator: renders the files of one artefact into `Emit`.
pub type Generator = fn(&Renderer, &Plan, &mut Emit) -> Result<(), String>;

/// How many rule files (with their tests) are rendered before they are
/// handed on: enough to keep every core busy.
const PART: usize = 16;

/// Every artefact, in one table: what it writes, and its generator. A new
/// artefact is a module of `artefacts/` and a line here.
pub const GENERATORS: &[(&str, Generator)] = &[
    (
        "Prometheus alert rules and their unit tests",
        |r, p, emit| alert_rules::outputs(r, p.registry, p.rules, emit),
    ),
    (
        "SLO recording and burn-rate rules and their unit tests",
        |r, p, emit| slo::outputs(r, p.registry, p.slo, emit),
    ),
    (
        "Prometheus config, scrape targets and Blackbox modules",
        |r, p, emit| emit(scrape::outputs(r, p.registry)?),
    ),
    (
        "Alertmanager routes, receivers and inhibitions",
        |r, p, emit| emit(alertmanager::outputs(r, p.registry)?),
    ),
    ("prometheus-operator resources", |r, p, emit| {
        kubernetes::outputs(r, p.registry, p.rules, p.slo, emit)
    }),
    (
        "Mimir/Cortex ruler namespaces, one per owner team",
        |r, p, emit| emit(ruler::outputs(r, p.registry, p.rules, p.slo)?),
    ),
    ("the coverage report", |r, p, emit| {
        emit(coverage::outputs(r, p.registry, p.coverage)?)
    }),
    ("Grafana dashboards and provisioning", |r, p, emit| {
        emit(grafana::outputs(r, p.registry, p.dashboards)?)
    }),
    (
        "known pages and endpoints for Rust and TypeScript",
        |r, p, emit| emit(code::outputs(r, p.registry)?),
    ),
];

/// Renders `items` a part at a time on all cores, handing each part's files
/// on before the next: a team's rule file and tests per item.
pub fn par_emit<T: Sync>(
    items: &[T],
    emit: &mut Emit,
    f: impl Fn(&T) -> Result<[Output; 2], String> + Sync,
) -> Result<(), String> {
    for part in items.chunks(PART) {
        emit(par_map(part, &f)?.into_iter().flatten().collect())?;
    }
    Ok(())
}

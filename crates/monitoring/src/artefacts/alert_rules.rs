//! The alert rule files and their promtool tests, rendered from the planned
//! rules (`plan::alerts`), a team or a service per file.

use super::emit::Emit;
use super::rule_tests;
use crate::error::Failure;
use crate::plan::Plan;
use crate::plan::alerts::by_placement;
use crate::templates::Renderer;

pub(crate) fn outputs(r: &Renderer, p: &Plan, emit: &mut Emit) -> Result<(), Failure> {
    let (reg, rules) = (p.registry, &p.rules);
    let placed: Vec<_> = by_placement(reg, rules).into_iter().collect();
    super::emit::par_emit(&placed, emit, |(p, (groups, sources))| {
        rule_tests::with_tests(
            r,
            &p.dir("rules"),
            &p.stem,
            groups,
            &crate::plan::rule_tests::cases(groups)?,
            &sources.join("; "),
            &reg.settings.evaluation_interval,
        )
    })
}

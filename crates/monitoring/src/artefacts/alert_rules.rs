//! The alert rule files and their promtool tests, rendered from the planned
//! rules (`plan::alerts`), a team or a service per file.

use super::rule_tests;
use crate::plan::alerts::{Rules, by_placement};
use crate::templates::Renderer;
use registry::Registry;

pub fn outputs(
    r: &Renderer,
    reg: &Registry,
    rules: &Rules,
    emit: &mut super::Emit,
) -> Result<(), String> {
    let placed: Vec<_> = by_placement(reg, rules).into_iter().collect();
    super::par_emit(&placed, emit, |(p, (groups, sources))| {
        rule_tests::with_tests(
            r,
            &p.dir("rules"),
            &p.stem,
            groups,
            &crate::plan::rule_tests::cases(groups)?,
            &sources.join("; "),
        )
    })
}

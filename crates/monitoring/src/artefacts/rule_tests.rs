//! A rule file's promtool unit tests, rendered from the planned cases.

use minijinja::context;
use minijinja::value::Serde;

use crate::error::RenderError;
use crate::output::{Format, Output};
use crate::plan::rule::{Group, TEMPLATE as RULES_TEMPLATE};
use crate::plan::rule_tests::Case;
use crate::templates::Renderer;

pub(crate) const TEMPLATE: &str = "prometheus/rules.test.yml.j2";

pub(crate) fn render(r: &Renderer, rule_file: &str, cases: &[Case]) -> Result<String, RenderError> {
    r.render(TEMPLATE, context! { rule_file, cases => Serde(cases) })
}

/// A rule file under `prometheus/{dir}/{stem}.rules.yml` and its unit tests
/// under `prometheus/tests/{dir}/…`, where the alert rules' `rules` is left
/// out (`rules/cluster` → `tests/cluster`, `slo` → `tests/slo`).
pub(crate) fn with_tests(
    r: &Renderer,
    dir: &str,
    stem: &str,
    groups: &[&Group],
    cases: &[Case],
    source: &str,
    interval: &str,
) -> Result<[Output; 2], RenderError> {
    let body = r.render(
        RULES_TEMPLATE,
        context! { groups => Serde(groups), interval },
    )?;
    let tests_dir = match dir.strip_prefix("rules") {
        Some(rest) => format!("tests{rest}"),
        None => format!("tests/{dir}"),
    };
    let up = "../".repeat(tests_dir.split('/').count());
    let test = render(r, &format!("{up}{dir}/{stem}.rules.yml"), cases)?;
    Ok([
        Output::new(
            format!("prometheus/{dir}/{stem}.rules.yml"),
            Format::Yaml,
            source,
            &body,
        ),
        Output::new(
            format!("prometheus/{tests_dir}/{stem}.test.yml"),
            Format::Yaml,
            source,
            &test,
        ),
    ])
}

//! `coverage.md` and `coverage.json`: the coverage report, checked in.

use minijinja::context;
use minijinja::value::Serde;

use super::emit::Emit;
use crate::error::Failure;
use crate::error::RenderError;
use crate::output::{Format, Output};
use crate::plan::Plan;
use crate::plan::coverage::Coverage;
use crate::templates::Renderer;
use registry::Registry;

pub fn markdown(r: &Renderer, coverage: &Coverage) -> Result<String, RenderError> {
    r.render(
        "coverage/coverage.md.j2",
        context! { coverage => Serde(coverage) },
    )
}

pub fn json(r: &Renderer, coverage: &Coverage) -> Result<String, RenderError> {
    r.render(
        "coverage/coverage.json.j2",
        context! { coverage => Serde(coverage) },
    )
}

pub(crate) fn outputs(r: &Renderer, p: &Plan, emit: &mut Emit) -> Result<(), Failure> {
    emit(files(r, p.registry, &p.coverage)?)
}

pub(crate) fn files(
    r: &Renderer,
    reg: &Registry,
    coverage: &Coverage,
) -> Result<Vec<Output>, RenderError> {
    let source = reg.source();
    Ok(vec![
        Output::new(
            "coverage.md",
            Format::Markdown,
            &source,
            &markdown(r, coverage)?,
        ),
        Output::new("coverage.json", Format::Json, &source, &json(r, coverage)?),
    ])
}

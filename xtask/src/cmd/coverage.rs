//! `cargo xtask coverage`: the coverage report, with an optional minimum.

use crate::cmd::generate::Folders;
use crate::flags::{Paths, ReportFormat};
use crate::{Failure, errln, term};
use monitoring::artefacts;
use monitoring::templates::Renderer;

pub fn run(paths: &Paths, format: ReportFormat, min: Option<f64>) -> Result<bool, Failure> {
    let f = Folders::resolve(paths);
    let (registry, catalogue, _) = monitoring::load(&f.registry, &f.templates)?;
    let cov = monitoring::plan::coverage::compute(&registry);
    let renderer = Renderer::new(&f.templates, &catalogue)?;
    let text = match format {
        ReportFormat::Markdown => artefacts::coverage::markdown(&renderer, &cov),
        ReportFormat::Json => artefacts::coverage::json(&renderer, &cov),
    }?;
    term::out(format_args!("{text}"));
    // CI runs it without `--min`: the registry's floor applies.
    let min = min.or(registry.settings.coverage_min);
    match (min, cov.overall) {
        (Some(min), Some(overall)) if overall < min => {
            errln!("coverage {overall} % is below the minimum of {min} %");
            Ok(false)
        }
        _ => Ok(true),
    }
}

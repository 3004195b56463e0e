//! The Grafana dashboards (planned in `plan::dashboards`) as JSON, and their
//! provisioning.

use minijinja::context;
use minijinja::value::Serde;

use super::emit::Emit;
use crate::error::Failure;
use crate::error::RenderError;
use crate::output::{Format, Output};
use crate::plan::Plan;
use crate::plan::dashboards::Dashboard;
use crate::templates::Renderer;
use registry::Registry;

pub(crate) fn outputs(r: &Renderer, p: &Plan, emit: &mut Emit) -> Result<(), Failure> {
    emit(files(r, p.registry, &p.dashboards)?)
}

pub fn files(
    r: &Renderer,
    reg: &Registry,
    dashboards: &[(String, Dashboard)],
) -> Result<Vec<Output>, RenderError> {
    let source = reg.source();
    let mut out = Vec::new();
    for (file, d) in dashboards {
        let body = r.render(
            "grafana/dashboard.json.j2",
            context! { dashboard => Serde(d) },
        )?;
        out.push(Output::new(
            format!("grafana/dashboards/{file}.json"),
            Format::Json,
            &source,
            &body,
        ));
    }
    let body = r.render(
        "grafana/provisioning.yaml.j2",
        context! { settings => Serde(&reg.settings.grafana) },
    )?;
    // It derives from `settings.grafana` alone, so adding a service leaves it be.
    let settings_source = match &reg.settings_file {
        Some(f) => format!("{f} (settings.grafana)"),
        None => "the default settings".to_owned(),
    };
    out.push(Output::new(
        "grafana/provisioning/dashboards.yaml",
        Format::Yaml,
        &settings_source,
        &body,
    ));
    Ok(out)
}

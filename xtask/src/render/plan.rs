//! The monitoring plan: a compact, readable summary of what the registry turns
//! into (per service: owner, probe, alerts with severity). It is kept as a
//! snapshot so a reviewer sees what a registry change does to alerting.

use minijinja::context;
use minijinja::value::Serde;

use super::Renderer;
use super::alert_rules::Rules;
use super::grafana::Dashboard;
use super::slo::Slo;
use crate::registry::Registry;

pub const TEMPLATE: &str = "plan.txt.j2";

pub fn render(
    r: &Renderer,
    reg: &Registry,
    rules: &Rules,
    slo: &Slo,
    dashboards: &[(String, Dashboard)],
) -> Result<String, String> {
    r.render(
        TEMPLATE,
        context! {
            services => Serde(&reg.services),
            pages => Serde(&reg.pages),
            endpoints => Serde(&reg.endpoints),
            teams => Serde(&reg.teams),
            service_rules => Serde(&rules.services),
            page_rules => Serde(&rules.pages),
            slo_plans => Serde(&slo.plans),
            routes => Serde(&super::alertmanager::team_routes(reg)),
            default_webhook => reg.settings.alertmanager.default_webhook_url.clone(),
            dashboards => Serde(&dashboards.iter().map(|(_, d)| (&d.uid, &d.title)).collect::<Vec<_>>()),
            settings => Serde(&reg.settings),
        },
    )
}

//! The rules in Grafana Mimir's ruler layout (Cortex reads the same files):
//! `mimir/<team>.rules.yml`, one namespace per owner team, each holding every
//! group of the team's services, pages and SLOs, for `mimirtool rules load`
//! (or `rules sync`). The groups are the rule files' own; the unit tests in
//! `prometheus/tests/` cover them.

use std::collections::{BTreeMap, BTreeSet};

use minijinja::context;
use minijinja::value::Serde;

use super::emit::Emit;
use crate::error::Failure;
use crate::error::RenderError;
use crate::output::{Format, Output};
use crate::plan::Plan;
use crate::plan::alerts::Rules;
use crate::plan::rule::Group;
use crate::plan::slo::Slo;
use crate::templates::Renderer;
use registry::settings::Ruler;
use registry::{Registry, UNASSIGNED};

pub(crate) fn outputs(r: &Renderer, p: &Plan, emit: &mut Emit) -> Result<(), Failure> {
    emit(files(r, p.registry, &p.rules, &p.slo)?)
}

pub(crate) fn files(
    r: &Renderer,
    reg: &Registry,
    rules: &Rules,
    slo: &Slo,
) -> Result<Vec<Output>, RenderError> {
    if reg.settings.prometheus.ruler == Ruler::None {
        return Ok(Vec::new());
    }
    // (team, group, registry file) of every group.
    let mut owned: Vec<(&str, &Group, &str)> = Vec::new();
    for s in &reg.services {
        if let Some(g) = rules.services.get(&s.name) {
            owned.push((&s.owner, g, &s.source));
        }
    }
    for p in &reg.pages {
        for g in [rules.pages.get(&p.path), rules.page_apps.get(&p.path)]
            .into_iter()
            .flatten()
        {
            owned.push((&p.owner, g, &p.source));
        }
    }
    for g in [&rules.platform, &rules.cluster_prober, &rules.monitoring]
        .into_iter()
        .flatten()
    {
        owned.push((&reg.platform.owner, g, ""));
    }
    // An SLO's own group belongs to the objective's owner; a service's shared
    // SLO rules to the service's.
    let mut slo_owner: BTreeMap<String, (&str, &str)> = BTreeMap::new();
    for o in &reg.objectives {
        let service_owner =
            crate::plan::delivery::owner_of(reg, o.service.as_deref().unwrap_or(UNASSIGNED));
        let own = o.owner.as_deref().unwrap_or(service_owner);
        slo_owner.insert(crate::plan::slo::group_name(o), (own, &o.source));
        slo_owner
            .entry(crate::plan::slo_shared::group_name(o.service.as_deref()))
            .or_insert((service_owner, &o.source));
    }
    for g in slo.files.values().flatten() {
        let (team, source) = slo_owner.get(&g.name).copied().unwrap_or((UNASSIGNED, ""));
        owned.push((team, g, source));
    }
    let mut teams: BTreeMap<&str, (Vec<&Group>, BTreeSet<&str>)> = BTreeMap::new();
    for (team, group, source) in owned {
        let e = teams.entry(team).or_default();
        e.0.push(group);
        if !source.is_empty() {
            e.1.insert(source);
        }
    }
    let mut out = Vec::new();
    for (team, (groups, sources)) in teams {
        let sources: Vec<&str> = sources.into_iter().collect();
        let body = r.render(
            "mimir/namespace.yml.j2",
            context! { namespace => team, groups => Serde(&groups), interval => &reg.settings.evaluation_interval },
        )?;
        out.push(Output::new(
            format!("mimir/{team}.rules.yml"),
            Format::Yaml,
            &sources.join(", "),
            &body,
        ));
    }
    Ok(out)
}

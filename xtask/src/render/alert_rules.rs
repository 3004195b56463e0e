//! Prometheus alert rules: one rule group per service (one file each, so a large
//! registry does not produce one giant file) and one group per page.

use std::collections::BTreeMap;

use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::{Renderer, filters};
use crate::catalogue::{AlertTemplate, Catalogue};
use crate::output::{Format, Output};
use crate::registry::{AlertUse, Page, Registry, Service};

pub const TEMPLATE: &str = "prometheus/rules.yml.j2";

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// The catalogue entry, such as `service_down`.
    pub name: String,
    pub exporter: String,
    pub alert: String,
    pub expr: String,
    #[serde(rename = "for")]
    pub for_: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

impl Rule {
    pub fn severity(&self) -> &str {
        &self.labels["severity"]
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub name: String,
    pub rules: Vec<Rule>,
}

/// What an alert expression is rendered for: a service or a page.
#[derive(Serialize)]
#[serde(untagged)]
enum Target<'a> {
    Service(&'a Service),
    Page {
        kind: &'static str,
        path: &'a str,
        name: &'a str,
        service: &'a str,
        owner: &'a str,
    },
}

pub struct Rules {
    /// Service name to its group.
    pub services: BTreeMap<String, Group>,
    /// Page path to its group.
    pub pages: BTreeMap<String, Group>,
}

pub fn build(r: &Renderer, catalogue: &Catalogue, reg: &Registry) -> Result<Rules, String> {
    let mut services = BTreeMap::new();
    for s in &reg.services {
        let labels = [("service", s.name.as_str()), ("owner", s.owner.as_str())];
        let rules = rules_for(
            r,
            catalogue,
            reg,
            &Target::Service(s),
            &s.alerts,
            &labels,
            s.runbook_url.as_deref(),
        )?;
        if !rules.is_empty() {
            services.insert(
                s.name.clone(),
                Group {
                    name: s.name.clone(),
                    rules,
                },
            );
        }
    }
    let mut pages = BTreeMap::new();
    for p in &reg.pages {
        let Page {
            path,
            name,
            service,
            owner,
            ..
        } = p;
        let target = Target::Page {
            kind: "page",
            path,
            name,
            service,
            owner,
        };
        let labels = [
            ("service", service.as_str()),
            ("owner", owner.as_str()),
            ("page", path.as_str()),
        ];
        let rules = rules_for(r, catalogue, reg, &target, &p.alerts, &labels, None)?;
        if !rules.is_empty() {
            pages.insert(
                path.clone(),
                Group {
                    name: format!("page {path}"),
                    rules,
                },
            );
        }
    }
    Ok(Rules { services, pages })
}

fn rules_for(
    r: &Renderer,
    catalogue: &Catalogue,
    reg: &Registry,
    target: &Target,
    alerts: &[AlertUse],
    labels: &[(&str, &str)],
    runbook_url: Option<&str>,
) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    for a in alerts {
        // Validation has checked every name against the catalogue.
        let t: &AlertTemplate = &catalogue.alerts[&a.name];
        let severity = a
            .severity
            .clone()
            .unwrap_or_else(|| t.severity.value.clone());
        let for_ = a.for_.clone().unwrap_or_else(|| t.for_.value.clone());
        let threshold = a.threshold.or(t.threshold).map(number);
        let ctx =
            context! { target => Serde(target), threshold, for => &for_, severity => &severity };
        let field = |f: &str| -> Result<String, String> {
            let name = Catalogue::template_name(&a.name, f);
            let text = r.render(&name, ctx.clone())?.trim().to_owned();
            if text.is_empty() {
                return Err(format!("template {name} rendered nothing"));
            }
            Ok(text)
        };
        // One line: PromQL ignores the line breaks, and reviewers read it unescaped.
        // Registry strings cannot hold a raw line break: `promql` escapes them.
        let expr = field("expr")?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        // Prometheus expands rule label values as Go templates too.
        let mut rule_labels: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), filters::gotmpl_str(v)))
            .collect();
        rule_labels.insert("severity".into(), severity);
        let mut annotations = BTreeMap::from([
            ("summary".to_owned(), field("summary")?),
            ("description".to_owned(), field("description")?),
            ("auto_repair".to_owned(), t.auto_repair.clone()),
        ]);
        let runbook = runbook_url.map(str::to_owned).or_else(|| {
            reg.runbook_base_url
                .as_ref()
                .map(|b| format!("{}/{}", b.trim_end_matches('/'), a.name))
        });
        if let Some(url) = runbook {
            annotations.insert("runbook_url".into(), url);
        }
        rules.push(Rule {
            name: a.name.clone(),
            exporter: t.exporter.clone(),
            alert: t.alert.value.clone(),
            expr,
            for_,
            labels: rule_labels,
            annotations,
        });
    }
    Ok(rules)
}

/// A threshold as written: `3`, not `3.0`.
fn number(x: f64) -> minijinja::Value {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        minijinja::Value::from(x as i64)
    } else {
        minijinja::Value::from(x)
    }
}

pub fn outputs(r: &Renderer, reg: &Registry, rules: &Rules) -> Result<Vec<Output>, String> {
    let mut out = Vec::new();
    let by_name: BTreeMap<&str, &Service> =
        reg.services.iter().map(|s| (s.name.as_str(), s)).collect();
    for (name, group) in &rules.services {
        let body = r.render(TEMPLATE, context! { groups => Serde([group]) })?;
        let source = format!("{} (service {name})", by_name[name.as_str()].source);
        out.push(Output::new(
            format!("prometheus/rules/{name}.rules.yml"),
            Format::Yaml,
            &source,
            &body,
        ));
    }
    if !rules.pages.is_empty() {
        let groups: Vec<&Group> = rules.pages.values().collect();
        let body = r.render(TEMPLATE, context! { groups => Serde(groups) })?;
        let mut sources: Vec<&str> = reg.pages.iter().map(|p| p.source.as_str()).collect();
        sources.sort_unstable();
        sources.dedup();
        out.push(Output::new(
            "prometheus/rules/pages.rules.yml",
            Format::Yaml,
            &format!("{} (pages)", sources.join(", ")),
            &body,
        ));
    }
    Ok(out)
}

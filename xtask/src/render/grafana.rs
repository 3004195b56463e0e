//! Grafana dashboards: one overview per owner team, one SLO dashboard, one
//! coverage dashboard, and the provisioning file that loads them. Dashboards
//! are built here as data (ids, positions, queries) and written by one
//! template; every query uses the `datasource` template variable.

use std::collections::BTreeMap;

use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::Renderer;
use super::filters::{error_ratio, promql_str, re_escape};
use super::slo::Sli;
use crate::burn_rate::TIERS;
use crate::coverage::Coverage;
use crate::output::{Format, Output};
use crate::registry::{Registry, Service, ServiceType};
use crate::syntax::fnv1a;

/// The schema version of a current Grafana (11.x / 12.x).
pub const SCHEMA_VERSION: u32 = 41;

#[derive(Debug, Serialize)]
pub struct Dashboard {
    pub uid: String,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub panels: Vec<Panel>,
    pub schema_version: u32,
}

#[derive(Debug, Serialize)]
pub struct Panel {
    pub id: u32,
    /// `row`, `stat`, `timeseries`, `table` or `text`.
    pub kind: &'static str,
    pub title: String,
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    pub unit: &'static str,
    pub targets: Vec<Query>,
    /// Markdown of a text panel.
    pub content: String,
}

impl Panel {
    fn new(
        kind: &'static str,
        title: String,
        w: u32,
        h: u32,
        unit: &'static str,
        targets: Vec<Query>,
    ) -> Panel {
        Panel {
            id: 0,
            kind,
            title,
            x: 0,
            y: 0,
            w,
            h,
            unit,
            targets,
            content: String::new(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Query {
    pub ref_id: String,
    pub expr: String,
    pub legend: String,
    pub instant: bool,
}

/// FNV-1a: a stable hash (the std hasher may change between Rust releases).
/// A dashboard uid from a name: readable, at most 40 characters, and unique
/// (the hash of the full name tells apart names that slug or cut alike).
pub fn uid(prefix: &str, name: &str) -> String {
    let slug: String = format!("{prefix}-{name}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let cut: String = slug.chars().take(31).collect();
    format!(
        "{}-{:08x}",
        cut.trim_end_matches('-'),
        fnv1a(format!("{prefix}/{name}").as_bytes()) as u32
    )
}

/// A PromQL string literal inside a Grafana query. Grafana substitutes
/// `$name`, `${name}` and `[[name]]` anywhere in a query, strings included, so
/// `$`, and `[` before `[`, are written as the PromQL escapes `\x24`, `\x5b`.
fn q(s: &str) -> String {
    let literal = promql_str(s);
    let mut out = String::with_capacity(literal.len());
    let mut chars = literal.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("\\x24"),
            '[' if chars.peek() == Some(&'[') => out.push_str("\\x5b"),
            c => out.push(c),
        }
    }
    out
}

/// Lays panels out left to right, 24 columns wide, and numbers them.
struct Layout {
    panels: Vec<Panel>,
    x: u32,
    y: u32,
    row_h: u32,
}

impl Layout {
    fn new() -> Layout {
        Layout {
            panels: Vec::new(),
            x: 0,
            y: 0,
            row_h: 0,
        }
    }

    fn row(&mut self, title: String) {
        self.newline();
        self.push(Panel::new("row", title, 24, 1, "", vec![]));
    }

    fn newline(&mut self) {
        if self.x > 0 {
            self.y += self.row_h;
            self.x = 0;
            self.row_h = 0;
        }
    }

    /// Places `p` (its id and position are set here).
    fn push(&mut self, mut p: Panel) {
        if self.x + p.w > 24 {
            self.newline();
        }
        p.id = self.panels.len() as u32 + 1;
        (p.x, p.y) = (self.x, self.y);
        self.x += p.w;
        self.row_h = self.row_h.max(p.h);
        self.panels.push(p);
        if self.x >= 24 {
            self.newline();
        }
    }

    fn panel(
        &mut self,
        kind: &'static str,
        title: &str,
        unit: &'static str,
        queries: &[(&str, &str)],
    ) {
        let targets = queries
            .iter()
            .enumerate()
            .map(|(i, (expr, legend))| Query {
                ref_id: ((b'A' + i as u8) as char).to_string(),
                expr: (*expr).to_owned(),
                legend: (*legend).to_owned(),
                instant: kind != "timeseries",
            })
            .collect();
        let w = if kind == "table" { 8 } else { 4 };
        self.push(Panel::new(kind, title.to_owned(), w, 6, unit, targets));
    }
}

fn service_panels(l: &mut Layout, s: &Service) {
    let svc = format!("service={}", q(&s.name));
    l.row(format!("{} ({})", s.name, s.kind));
    if s.probe.exists() {
        l.panel(
            "stat",
            "Probe success",
            "percentunit",
            &[(&format!("min(probe_success{{{svc}, page=\"\"}})"), "up")],
        );
        l.panel(
            "timeseries",
            "Probe latency",
            "s",
            &[(
                &format!("max(probe_duration_seconds{{{svc}, page=\"\"}})"),
                "probe",
            )],
        );
    } else {
        l.panel(
            "stat",
            "Scrape up",
            "percentunit",
            &[(&format!("min(up{{{svc}}})"), "up")],
        );
    }
    l.panel(
        "timeseries",
        "Error rate (5xx share)",
        "percentunit",
        &[(&error_ratio(&svc, "5m"), "5xx")],
    );
    l.panel(
        "timeseries",
        "p95 latency",
        "s",
        &[(&format!("histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{{{svc}}}[5m])))"), "p95")],
    );
    let cadvisor = match s.kind {
        ServiceType::K8sDeployment => s.namespace.as_ref().map(|ns| {
            let pods = format!(
                "{}-[a-z0-9]+-[a-z0-9]+",
                re_escape(&minijinja::Value::from(s.name.as_str())).unwrap_or_default()
            );
            format!(
                "namespace={}, pod=~{}, container!=\"\", container!=\"POD\"",
                q(ns),
                q(&pods)
            )
        }),
        ServiceType::Docker => Some(format!("name={}", q(&s.name))),
        ServiceType::Systemd => None,
    };
    if let Some(sel) = cadvisor {
        l.panel(
            "timeseries",
            "Memory (working set)",
            "bytes",
            &[(
                &format!("sum(container_memory_working_set_bytes{{{sel}}})"),
                "memory",
            )],
        );
    }
    l.panel(
        "table",
        "Firing alerts",
        "",
        &[(
            &format!("ALERTS{{{svc}, alertstate=\"firing\"}}"),
            "{{alertname}}",
        )],
    );
}

pub fn team_dashboards(reg: &Registry) -> BTreeMap<String, Dashboard> {
    let mut by_owner: BTreeMap<&str, Vec<&Service>> = BTreeMap::new();
    for s in &reg.services {
        by_owner.entry(&s.owner).or_default().push(s);
    }
    by_owner
        .into_iter()
        .map(|(owner, services)| {
            let mut l = Layout::new();
            for s in services {
                service_panels(&mut l, s);
            }
            let d = Dashboard {
                uid: uid("team", owner),
                title: format!("{owner}: services"),
                description: format!("Health, latency, errors, memory and firing alerts of the services owned by {owner}."),
                tags: vec!["monitoring-as-code".into(), format!("owner:{owner}")],
                panels: l.panels,
                schema_version: SCHEMA_VERSION,
            };
            (owner.to_owned(), d)
        })
        .collect()
}

pub fn slo_dashboard(reg: &Registry) -> Dashboard {
    let mut l = Layout::new();
    let period = &reg.settings.slo_period;
    for ep in reg
        .endpoints
        .iter()
        .filter(|e| e.slo_availability.is_some())
    {
        let budget = ep.error_budget().unwrap_or(1.0);
        let mut sel = vec![
            format!("method={}", q(&ep.method)),
            format!("path={}", q(&ep.path)),
        ];
        if let Some(s) = &ep.service {
            sel.push(format!("service={}", q(s)));
        }
        let sel = sel.join(", ");
        l.row(format!(
            "{} {} ({}% over {period})",
            ep.method,
            ep.path,
            ep.slo_availability.unwrap_or_default()
        ));
        // The SLIs this endpoint has, each with its SLI, budget and burn-rate panels.
        let mut slis = vec![(Sli::Errors, "Availability")];
        if ep.slo_latency_ms.is_some() {
            slis.push((Sli::Latency, "Latency"));
        }
        for (sli, what) in slis {
            let ratio = |w: &str| format!("{}{{{sel}}}", sli.record(w));
            let sli_expr = format!("1 - avg_over_time({}[{period}])", ratio("1h"));
            l.panel(
                "stat",
                &format!("{what} SLI"),
                "percentunit",
                &[(&sli_expr, "SLI")],
            );
            let budget_expr = format!("1 - avg_over_time({}[{period}]) / {budget}", ratio("1h"));
            l.panel(
                "stat",
                &format!("{what} error budget remaining"),
                "percentunit",
                &[(&budget_expr, "budget")],
            );
            let burn: Vec<(String, String)> = TIERS
                .iter()
                .map(|t| {
                    (
                        format!("{} / {budget}", ratio(t.long)),
                        format!("{} ({})", t.long, t.name),
                    )
                })
                .collect();
            let burn_refs: Vec<(&str, &str)> =
                burn.iter().map(|(e, n)| (e.as_str(), n.as_str())).collect();
            l.panel(
                "timeseries",
                &format!("{what} budget burn rate"),
                "none",
                &burn_refs,
            );
        }
    }
    Dashboard {
        uid: uid("slo", "api-endpoints"),
        title: "API endpoint SLOs".into(),
        description: format!(
            "SLIs, error budget remaining and burn rates over the four alerting windows; SLO period {period}."
        ),
        tags: vec!["monitoring-as-code".into(), "slo".into()],
        panels: l.panels,
        schema_version: SCHEMA_VERSION,
    }
}

/// The coverage report's numbers, as constant queries, and its gaps as text.
pub fn coverage_dashboard(coverage: &Coverage) -> Dashboard {
    let mut l = Layout::new();
    l.row("Coverage by dimension (from the service registry)".into());
    for d in &coverage.dimensions {
        // vector(NaN) shows "No data" for an empty (n/a) dimension.
        let value = d
            .percent
            .map_or_else(|| "NaN".to_owned(), |p| format!("{}", p / 100.0));
        l.panel(
            "stat",
            &format!("{} ({})", d.title, d.group),
            "percentunit",
            &[(&format!("vector({value})"), d.status)],
        );
    }
    let overall = coverage
        .overall
        .map_or_else(|| "NaN".to_owned(), |p| format!("{}", p / 100.0));
    l.panel(
        "stat",
        "Overall",
        "percentunit",
        &[(&format!("vector({overall})"), coverage.overall_status)],
    );
    let mut text = String::from("Not covered:\n\n");
    for d in coverage
        .dimensions
        .iter()
        .filter(|d| !d.not_covered.is_empty())
    {
        text.push_str(&format!(
            "- **{}** ({}): {}\n",
            d.title,
            d.group,
            d.not_covered.join(", ")
        ));
    }
    l.newline();
    l.push(Panel {
        content: text,
        ..Panel::new("text", "Not covered".into(), 24, 8, "", vec![])
    });
    Dashboard {
        uid: uid("coverage", "registry"),
        title: "Monitoring coverage".into(),
        description: "The coverage report of the service registry: >= 90 % good, >= 70 % warning."
            .into(),
        tags: vec!["monitoring-as-code".into(), "coverage".into()],
        panels: l.panels,
        schema_version: SCHEMA_VERSION,
    }
}

/// Every dashboard with its file stem: one per owner team, SLO, coverage.
pub fn dashboards(reg: &Registry, coverage: &Coverage) -> Vec<(String, Dashboard)> {
    let mut dashboards: Vec<(String, Dashboard)> = team_dashboards(reg)
        .into_iter()
        .map(|(o, d)| (format!("team-{o}"), d))
        .collect();
    dashboards.push(("slo".into(), slo_dashboard(reg)));
    dashboards.push(("coverage".into(), coverage_dashboard(coverage)));
    dashboards
}

pub fn outputs(
    r: &Renderer,
    reg: &Registry,
    dashboards: &[(String, Dashboard)],
) -> Result<Vec<Output>, String> {
    let source = reg.files.join(", ");
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

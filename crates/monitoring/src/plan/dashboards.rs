//! Grafana dashboards: one overview per owner team, one SLO dashboard, one
//! coverage dashboard, and the provisioning file that loads them. Dashboards
//! are built here as data (ids, positions, queries) and written by one
//! template; every query uses the `datasource` template variable.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::plan::coverage::Coverage;
use crate::templates::filters::{md_code_str, promql_str};
use registry::Registry;
use registry::burn_rate::{TIERS, factor};
use registry::syntax::{fnv1a, slug};

/// The tag every generated dashboard carries: each links to the others by it
/// (team, SLO and coverage dashboards, from any of them).
pub(crate) const TAG: &str = "monitoring-as-code";

/// The schema version of a current Grafana (11.x / 12.x).
pub(crate) const SCHEMA_VERSION: u32 = 41;

#[derive(Debug, Serialize)]
pub struct Dashboard {
    pub uid: String,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    /// Query variables after the data source's.
    pub variables: Vec<Variable>,
    pub panels: Vec<Panel>,
    pub schema_version: u32,
}

/// A query variable over the data source: multi-valued, `All` by default.
#[derive(Debug, Serialize)]
pub struct Variable {
    pub name: &'static str,
    pub label: &'static str,
    pub query: String,
}

impl Variable {
    fn query(name: &'static str, label: &'static str, query: String) -> Variable {
        Variable { name, label, query }
    }
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
    /// The variable a row repeats for.
    pub repeat: Option<&'static str>,
    /// Colour steps from the lowest value up (`None`: below every step), so
    /// that what pages is red at a glance.
    pub thresholds: Vec<(Option<f64>, &'static str)>,
    /// The runbook of the alert the panel watches (`defaults.runbook_base_url`).
    pub runbook: Option<String>,
}

/// 1 (up, all probes succeed) is green, anything less red.
const UP_IS_GREEN: &[(Option<f64>, &str)] = &[(None, "red"), (Some(1.0), "green")];
/// A spent budget (0 or below) is red, the last quarter orange.
const BUDGET: &[(Option<f64>, &str)] =
    &[(None, "red"), (Some(0.0), "orange"), (Some(0.25), "green")];
/// A burn rate above 1 spends the budget before the period ends.
const BURN: &[(Option<f64>, &str)] = &[(None, "green"), (Some(1.0), "red")];
/// Anything down or burning is red; none is green.
const NONE_IS_GREEN: &[(Option<f64>, &str)] = &[(None, "green"), (Some(1.0), "red")];

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
            repeat: None,
            thresholds: Vec::new(),
            runbook: None,
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

/// A dashboard uid from a name: readable, at most 40 characters, and unique
/// (the hash of the full name tells apart names that slug or cut alike).
pub fn uid(prefix: &str, name: &str) -> String {
    let slug = slug(&format!("{prefix}-{name}"));
    let cut: String = slug.chars().take(31).collect();
    format!(
        "{}-{:08x}",
        cut.trim_end_matches('-'),
        fnv1a(format!("{prefix}/{name}").as_bytes()) as u32
    )
}

/// The SLO dashboard's uid, which SLO alerts link to.
pub(crate) fn slo_uid() -> String {
    uid("slo", "api-endpoints")
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

    fn row(&mut self, title: String, repeat: Option<&'static str>) {
        self.newline();
        self.push(Panel {
            repeat,
            ..Panel::new("row", title, 24, 1, "", vec![])
        });
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

    /// Links the last panel pushed to the runbook of `alert` (under the
    /// registry's runbook base URL, as the alerts link it).
    fn runbook(&mut self, reg: &Registry, alert: &str) {
        if let (Some(p), Some(base)) = (self.panels.last_mut(), &reg.runbook_base_url) {
            p.runbook = Some(format!("{}/{alert}", base.trim_end_matches('/')));
        }
    }

    /// Colours the last panel pushed.
    fn colour(&mut self, steps: &[(Option<f64>, &'static str)]) {
        if let Some(p) = self.panels.last_mut() {
            p.thresholds = steps.to_vec();
        }
    }

    fn panel(
        &mut self,
        kind: &'static str,
        title: &str,
        unit: &'static str,
        queries: &[(&str, &str)],
    ) {
        let w = if kind == "table" { 8 } else { 4 };
        self.panel_w(kind, title, unit, w, queries);
    }

    fn panel_w(
        &mut self,
        kind: &'static str,
        title: &str,
        unit: &'static str,
        w: u32,
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
        self.push(Panel::new(kind, title.to_owned(), w, 6, unit, targets));
    }
}

/// The team's services, picked by the `service` variable from the `up`
/// series their scrape and probe jobs write (with the `owner` label), one
/// repeated row each: the dashboard is the same size for 1 or 100,000 services.
pub(crate) fn team_dashboards(reg: &Registry) -> BTreeMap<String, Dashboard> {
    let m = &reg.settings.slo.metrics;
    let owners: std::collections::BTreeSet<&str> =
        reg.services.iter().map(|s| s.owner.as_str()).collect();
    owners
        .into_iter()
        .map(|owner| {
            let own = format!("owner={}", q(owner));
            let svc = r#"service=~"$service""#;
            let mut l = Layout::new();
            l.row("Team".into(), None);
            l.panel_w(
                "stat",
                "Targets up",
                "none",
                12,
                &[
                    (&format!("count(up{{{own}}} == 1) or vector(0)"), "up"),
                    (&format!("count(up{{{own}}} == 0) or vector(0)"), "down"),
                ],
            );
            l.panel_w(
                "table",
                "Firing alerts",
                "",
                12,
                &[(&format!("ALERTS{{{own}, alertstate=\"firing\"}}"), "{{service}} {{alertname}}")],
            );
            l.row("$service".into(), Some("service"));
            l.panel("stat", "Probe success", "percentunit", &[(&format!("min(probe_success{{{svc}, page=\"\"}})"), "probe")]);
            l.colour(UP_IS_GREEN);
            l.runbook(reg, "service_down");
            l.panel("stat", "Scrape up", "percentunit", &[(&format!("min(up{{{svc}, job!~\"blackbox.*\"}})"), "up")]);
            l.colour(UP_IS_GREEN);
            l.runbook(reg, "target_down");
            let errors = format!(
                "sum(rate({r}{{{svc}, {st}=~\"5..\"}}[$__rate_interval])) / sum(rate({r}{{{svc}}}[$__rate_interval]))",
                r = m.requests,
                st = m.status_label
            );
            l.panel("timeseries", "Error rate (5xx share)", "percentunit", &[(&errors, "5xx")]);
            l.runbook(reg, "high_error_rate");
            let p95 = format!(
                "histogram_quantile(0.95, sum by (le) (rate({}_bucket{{{svc}}}[$__rate_interval])))",
                m.duration
            );
            l.panel("timeseries", "p95 latency", "s", &[(&p95, "p95")]);
            l.runbook(reg, "slow_response");
            // cAdvisor names docker containers by name and k8s pods by the deployment.
            l.panel(
                "timeseries",
                "Memory (working set)",
                "bytes",
                &[
                    (r#"sum(container_memory_working_set_bytes{name=~"$service"})"#, "container"),
                    (r#"sum(container_memory_working_set_bytes{pod=~"($service)-[a-z0-9]+-[a-z0-9]+", container!="", container!="POD"})"#, "pods"),
                ],
            );
            l.runbook(reg, "memory_high");
            l.panel("table", "Firing alerts", "", &[(&format!("ALERTS{{{svc}, alertstate=\"firing\"}}"), "{{alertname}}")]);
            let d = Dashboard {
                uid: uid("team", owner),
                title: format!("{owner}: services"),
                description: format!("Health, latency, errors, memory and firing alerts of the services owned by {owner}, a row per service picked in `service`."),
                tags: vec![TAG.into(), format!("owner:{owner}")],
                variables: vec![Variable::query(
                    "service",
                    "Service",
                    format!("label_values(up{{{own}}}, service)"),
                )],
                panels: l.panels,
                schema_version: SCHEMA_VERSION,
            };
            (owner.to_owned(), d)
        })
        .collect()
}

/// The SLO board's burn-rate row: how many burn faster than 1x, and how fast.
/// The burn rates the page watches: each paging tier's long window over the
/// budget, with the tier's factor as a red line (above it, with the short
/// window too, the page fires).
fn paging_burn_row(l: &mut Layout, reg: &Registry, sel: &str, legend: &str) {
    let st = &reg.settings;
    l.row(
        "Burn rate over the paging windows (the red line pages)".into(),
        None,
    );
    for tier in TIERS.iter().filter(|t| t.action == "page") {
        let f = factor(tier, st.slo_period_hours);
        // Every SLI's ratio over the window, over the budget of the same labels.
        let expr = format!(
            "{{__name__=~\"slo:sli_(error|latency):ratio_rate{w}\", {sel}}} / ignoring(__name__) slo:error_budget:ratio{{{sel}}}",
            w = tier.long
        );
        l.panel_w(
            "timeseries",
            &format!(
                "{} tier: burn rate over {} (pages above {f}x)",
                tier.name, tier.long
            ),
            "none",
            12,
            &[(&expr, legend)],
        );
        l.colour(&[(None, "green"), (Some(f), "red")]);
        l.runbook(reg, "slo_error");
    }
}

fn burn_rate_row(l: &mut Layout, sel: &str, legend: &str) {
    l.row(
        "Burn rate (1 spends the budget exactly over the period)".into(),
        None,
    );
    l.panel_w(
        "stat",
        "SLOs burning faster than 1x now",
        "none",
        6,
        &[(
            &format!("count(slo:current_burn_rate:ratio{{{sel}}} > 1) or vector(0)"),
            "SLOs",
        )],
    );
    l.colour(NONE_IS_GREEN);
    l.panel_w(
        "timeseries",
        "Current burn rate (5m)",
        "none",
        9,
        &[(&format!("slo:current_burn_rate:ratio{{{sel}}}"), legend)],
    );
    l.colour(BURN);
    l.panel_w(
        "timeseries",
        "Period burn rate",
        "none",
        9,
        &[(&format!("slo:period_burn_rate:ratio{{{sel}}}"), legend)],
    );
    l.colour(BURN);
}

/// Every SLO, from the metadata and info series alone (the registry is not
/// read): the dashboard is the same size for 1 or 100,000 SLOs, and shows
/// SLOs of any origin, endpoint or imported.
pub(crate) fn slo_dashboard(reg: &Registry) -> Dashboard {
    let period = &reg.settings.slo_period;
    let sel = r#"service=~"$service", slo=~"$slo""#;
    let legend = "{{service}} {{method}} {{path}}{{slo_name}} ({{slo}})";
    let mut l = Layout::new();
    l.row(format!("Error budget over {period}"), None);
    l.panel_w(
        "bargauge",
        "Error budget remaining",
        "percentunit",
        12,
        &[(
            &format!("slo:period_error_budget_remaining:ratio{{{sel}}}"),
            legend,
        )],
    );
    l.colour(BUDGET);
    l.panel_w(
        "table",
        "Objectives",
        "",
        12,
        &[(&format!("slo_info{{{sel}}}"), legend)],
    );
    paging_burn_row(&mut l, reg, sel, legend);
    burn_rate_row(&mut l, sel, legend);
    l.panel_w(
        "timeseries",
        "Error budget remaining over time",
        "percentunit",
        24,
        &[(
            &format!("slo:period_error_budget_remaining:ratio{{{sel}}}"),
            legend,
        )],
    );
    l.colour(BUDGET);
    Dashboard {
        uid: slo_uid(),
        title: "SLOs".into(),
        description: format!(
            "Error budget remaining and burn rates of every SLO, from the `slo:*` metadata series; SLO period {period}."
        ),
        tags: vec![TAG.into(), "slo".into()],
        variables: vec![
            Variable::query(
                "service",
                "Service",
                "label_values(slo_info, service)".into(),
            ),
            Variable::query(
                "slo",
                "SLI",
                r#"label_values(slo_info{service=~"$service"}, slo)"#.into(),
            ),
        ],
        panels: l.panels,
        schema_version: SCHEMA_VERSION,
    }
}

/// The coverage report's numbers, as constant queries, and its gaps as text.
/// Gaps a dimension's row of the coverage dashboard names.
const NOT_COVERED_SHOWN: usize = 5;

pub(crate) fn coverage_dashboard(coverage: &Coverage) -> Dashboard {
    let mut l = Layout::new();
    l.row(
        "Coverage by dimension (from the service registry)".into(),
        None,
    );
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
    // A row per dimension with a gap: how many, and the first few by name,
    // so the panel is the same size at 10 services or 100,000; the full
    // list is the coverage report's (`cargo xtask coverage`).
    let mut text =
        String::from("| dimension | not covered | the first of them |\n|---|---:|---|\n");
    for d in coverage
        .dimensions
        .iter()
        .filter(|d| !d.not_covered.is_empty())
    {
        // Registry names are data: code spans, never links or HTML.
        let names: Vec<String> = d
            .not_covered
            .iter()
            .take(NOT_COVERED_SHOWN)
            .map(|n| md_code_str(n).replace('|', "\\|"))
            .collect();
        let more = d.not_covered.len().saturating_sub(NOT_COVERED_SHOWN);
        let more = if more > 0 {
            format!(" … and {more} more")
        } else {
            String::new()
        };
        text.push_str(&format!(
            "| {} ({}) | {} | {}{more} |\n",
            d.title,
            d.group,
            d.not_covered.len(),
            names.join(", ")
        ));
    }
    text.push_str("\nEvery gap: generated/coverage.md, or `cargo xtask coverage`.\n");
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
        tags: vec![TAG.into(), "coverage".into()],
        variables: vec![],
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

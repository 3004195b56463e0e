//! SLO rules, after the Google SRE workbook's multiwindow, multi-burn-rate
//! alerts: recording rules for the error ratio (bad / all events) and the
//! latency SLI (share slower than the objective) over every window; burn-rate
//! alerts per tier or as Sloth's page and ticket, with factors from the
//! period's window catalogue; and the metadata series (objective, budget,
//! period, burn rates, budget remaining, `slo_info`) dashboards and alerts
//! select SLOs by.
//!
//! Files: `prometheus/slo/<service>.rules.yml` (one group per SLO) and their
//! generated unit tests in `prometheus/tests/slo/<service>.test.yml`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::plan::burn::{
    BUDGET_EXHAUSTED_FOR, BurnText, Links, Sli, TierPlan, bad_events_floor, budget_rule, burn_rule,
    human_duration,
};
use crate::plan::delivery::{self, Placed};
use crate::plan::rule::{Group, Record, Rule, RuleTest};
use crate::plan::slo_shared;
use crate::templates::filters::{gotmpl_str, promql_str as q};
use registry::UNASSIGNED;
use registry::burn_rate::{TIERS, WINDOWS, factor, le_regex};
use registry::settings::{AlertShape, Settings};
use registry::sli::{HttpMetrics, with_window};
use registry::{Events, Objective, Registry};

/// What the plan shows of an SLO.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectivePlan {
    pub budget_percent: f64,
    /// How long a full outage takes to spend the period's budget.
    pub budget_outage: String,
    pub slis: Vec<&'static str>,
    pub tiers: Vec<TierPlan>,
    /// The alerts, as `SLOErrorBudgetBurn page (fast+medium)`.
    pub alerts: Vec<String>,
    /// Where the events come from: the metrics preset, or `raw queries`.
    pub events: String,
    /// Whether unit tests are generated (not for raw queries: their series are the user's).
    pub tested: bool,
}

pub struct Slo {
    /// Service (or `unassigned`) to its groups, one per SLO.
    pub files: BTreeMap<String, Vec<Group>>,
    /// An objective's key to its plan.
    pub plans: BTreeMap<String, ObjectivePlan>,
}

/// The group name of an objective's rules.
pub fn group_name(o: &Objective) -> String {
    format!("slo {}", o.key)
}

/// The burn-rate tiers of an objective, with their factors and `for`. A
/// tier that would need an error ratio above 100 % (a fast tier on a 90 %
/// objective) can never fire: it gets no rule (validation warns).
fn tier_plans(st: &Settings, o: &Objective) -> Vec<TierPlan> {
    let budget = (100.0 - o.availability) / 100.0;
    TIERS
        .iter()
        .filter(|t| o.tiers.iter().any(|n| n == t.name))
        .filter(|t| budget * factor(t, st.slo_period_hours) < 1.0)
        .map(|tier| TierPlan {
            tier: tier.name,
            factor: factor(tier, st.slo_period_hours),
            long: tier.long,
            short: tier.short,
            severity: if tier.action == "page" {
                "critical"
            } else {
                "warning"
            },
            for_: st.burn_rate_for[tier.name].clone(),
        })
        .collect()
}

/// The tiers each alert covers: one tier each, or page and ticket.
fn shaped(st: &Settings, tiers: &[TierPlan]) -> Vec<Vec<TierPlan>> {
    match st.slo.alerts {
        AlertShape::Tiers => tiers.iter().map(|t| vec![t.clone()]).collect(),
        AlertShape::PageTicket => ["critical", "warning"]
            .iter()
            .map(|sev| {
                tiers
                    .iter()
                    .filter(|t| t.severity == *sev)
                    .cloned()
                    .collect::<Vec<_>>()
            })
            .filter(|v| !v.is_empty())
            .collect(),
    }
}

/// The plan's alert lines beyond the tier lines: page and ticket alerts, and
/// the budget-exhausted alert.
fn alert_lines(st: &Settings, tiers: &[TierPlan], slis: &[Sli]) -> Vec<String> {
    let mut lines = Vec::new();
    for sli in slis {
        if st.slo.alerts == AlertShape::PageTicket {
            for t in shaped(st, tiers) {
                let names: Vec<&str> = t.iter().map(|t| t.tier).collect();
                lines.push(format!(
                    "{} {} ({}), for {}",
                    sli.alert(),
                    t[0].severity,
                    names.join("+"),
                    t[0].for_
                ));
            }
        }
        if let Some(severity) = &st.slo.budget_exhausted_alert {
            lines.push(format!(
                "SLOErrorBudgetExhausted {severity} ({} budget), for {BUDGET_EXHAUSTED_FOR}",
                sli.name()
            ));
        }
    }
    lines
}

pub(crate) fn build(reg: &Registry) -> Slo {
    let st = &reg.settings;
    let mut files: BTreeMap<String, Vec<Group>> = BTreeMap::new();
    let mut plans = BTreeMap::new();
    // Service to its endpoints that share rules (see `slo_shared`).
    let mut sharing: BTreeMap<Option<&str>, Vec<&Objective>> = BTreeMap::new();
    for o in &reg.objectives {
        let e = ObjectiveSlo::new(reg, o);
        let tiers = tier_plans(st, o);
        let shares = slo_shared::shares(reg, o);
        plans.insert(o.key.clone(), objective_plan(st, o, &e, &tiers, shares));
        if shares {
            sharing.entry(o.service.as_deref()).or_default().push(o);
            continue;
        }
        let mut rules = Vec::new();
        for sli in &e.slis {
            for t in shaped(st, &tiers) {
                rules.push(e.rule(st, &t, *sli));
            }
            if let Some(severity) = &st.slo.budget_exhausted_alert {
                rules.push(e.budget_exhausted(severity, *sli));
            }
        }
        let mut records = e.records();
        records.extend(e.metadata(st));
        files.entry(e.service.clone()).or_default().push(Group {
            name: group_name(o),
            records,
            rules,
        });
    }
    for (service, objectives) in sharing {
        files
            .entry(service.unwrap_or(UNASSIGNED).to_owned())
            .or_default()
            .push(shared_group(reg, service, objectives));
    }
    Slo { files, plans }
}

/// What the plan snapshot says of an objective.
fn objective_plan(
    st: &Settings,
    o: &Objective,
    e: &ObjectiveSlo,
    tiers: &[TierPlan],
    shares: bool,
) -> ObjectivePlan {
    ObjectivePlan {
        budget_percent: (e.budget * 100.0 * 1e6).round() / 1e6,
        budget_outage: human_duration(e.budget * st.slo_period_hours * 3600.0),
        slis: e.slis.iter().map(|s| s.name()).collect(),
        alerts: alert_lines(st, tiers, &e.slis),
        tiers: tiers.to_vec(),
        events: match &o.events {
            Events::Http { .. } if shares => format!(
                "{} metrics, rules shared with the service's other endpoints",
                st.slo.metrics.preset
            ),
            Events::Http { .. } => format!("{} metrics", st.slo.metrics.preset),
            Events::Queries(_) => "raw queries".into(),
        },
        tested: matches!(o.events, Events::Http { .. }),
    }
}

/// The rule group a service's endpoints share (see `slo_shared`).
fn shared_group(reg: &Registry, service: Option<&str>, objectives: Vec<&Objective>) -> Group {
    let st = &reg.settings;
    let serving = service.and_then(|s| reg.service(s));
    let links = Links::of(reg, serving);
    let shared = slo_shared::Shared {
        service,
        owner: serving.map_or_else(|| UNASSIGNED.to_owned(), |s| s.owner.clone()),
        links,
        metrics: &st.slo.metrics,
        objectives,
    };
    let exporter = format!(
        "application ({}, {})",
        st.slo.metrics.requests, st.slo.metrics.duration
    );
    let tiers = tier_plans(st, shared.objectives[0]);
    let mut slis = vec![Sli::Errors];
    if shared.objectives.iter().any(|o| o.latency_ms.is_some()) {
        slis.push(Sli::Latency);
    }
    let mut rules = Vec::new();
    for sli in slis {
        for t in shaped(st, &tiers) {
            rules.push(shared.rule(st, &t, sli, &exporter));
        }
        if let Some(severity) = &st.slo.budget_exhausted_alert {
            rules.push(shared.budget_exhausted(severity, sli, &exporter));
        }
    }
    Group {
        name: slo_shared::group_name(service),
        records: shared.records(st),
        rules,
    }
}

/// One objective with what its recording and alerting rules share.
struct ObjectiveSlo<'a> {
    o: &'a Objective,
    metrics: &'a HttpMetrics,
    service: String,
    owner: String,
    budget: f64,
    slis: Vec<Sli>,
    /// The runbook and dashboard its alerts link to.
    links: Links,
}

impl<'a> ObjectiveSlo<'a> {
    fn new(reg: &'a Registry, o: &'a Objective) -> Self {
        let service = o.service.clone().unwrap_or_else(|| UNASSIGNED.to_owned());
        let serving = o.service.as_deref().and_then(|s| reg.service(s));
        let owner = o
            .owner
            .clone()
            .or_else(|| serving.map(|s| s.owner.clone()))
            .unwrap_or_else(|| UNASSIGNED.to_owned());
        let links = Links::of(reg, serving);
        let mut slis = vec![Sli::Errors];
        if o.latency_ms.is_some() {
            slis.push(Sli::Latency);
        }
        ObjectiveSlo {
            o,
            metrics: &reg.settings.slo.metrics,
            service,
            owner,
            budget: o.error_budget(),
            slis,
            links,
        }
    }

    /// Bad and total events per second over `w`.
    fn events(&self, sli: Sli, w: &str) -> (String, String) {
        match &self.o.events {
            Events::Http { method, path } => {
                let sel = http_selector(self.metrics, self.o.service.as_deref(), method, path);
                http_events(self.metrics, sli, &sel, self.o.latency_seconds(), w)
            }
            Events::Queries(q) => {
                let bad = match sli {
                    Sli::Errors => &q.error,
                    Sli::Latency => q.slow.as_ref().unwrap_or(&q.error),
                };
                (
                    format!("({})", with_window(bad, w)),
                    format!("({})", with_window(&q.total, w)),
                )
            }
        }
    }

    /// The share of bad events over `w`.
    fn ratio(&self, sli: Sli, w: &str) -> String {
        let (bad, total) = self.events(sli, w);
        match (&self.o.events, sli) {
            // Kept as the share of fast requests taken from 1, so a route
            // whose histogram has no slow bucket yet still reads 0.
            (Events::Http { method, path }, Sli::Latency) => {
                let sel = http_selector(self.metrics, self.o.service.as_deref(), method, path);
                let le = le_regex(self.o.latency_seconds().unwrap_or(1.0));
                format!(
                    "1 - sum(rate({d}_bucket{{{sel}, le=~{}}}[{w}])) / {total}",
                    q(&le),
                    d = self.metrics.duration
                )
            }
            _ => format!("{bad} / {total}"),
        }
    }

    fn sli_labels(&self, sli: Sli) -> BTreeMap<String, String> {
        let mut labels = self.o.labels.clone();
        labels.insert("slo".into(), sli.name().into());
        labels
    }

    /// Each SLI's ratio over every window the tiers use, and its bad and
    /// total events over 5 minutes (the period figures add those up).
    fn records(&self) -> Vec<Record> {
        let mut records = Vec::new();
        for sli in &self.slis {
            for w in WINDOWS {
                records.push(Record {
                    record: sli.record(w),
                    expr: self.ratio(*sli, w),
                    labels: self.sli_labels(*sli).into(),
                });
            }
            let (bad, total) = self.events(*sli, "5m");
            records.push(Record {
                record: "slo:bad_events:rate5m".into(),
                expr: bad,
                labels: self.sli_labels(*sli).into(),
            });
            records.push(Record {
                record: "slo:events:rate5m".into(),
                expr: total,
                labels: self.sli_labels(*sli).into(),
            });
        }
        records
    }

    /// The metadata series of each SLI, named as Sloth names them so its
    /// dashboards read them too: objective, budget, period, current and period
    /// burn rate, budget remaining, and `slo_info`. The period figures weigh
    /// by traffic (bad events over all events of the period), so idle hours
    /// count for nothing instead of turning the period's figure into NaN.
    fn metadata(&self, st: &Settings) -> Vec<Record> {
        let period = &st.slo_period;
        let days = (st.slo_period_hours / 24.0 * 1e6).round() / 1e6;
        let objective = ((1.0 - self.budget) * 1e9).round() / 1e9;
        let budget = self.budget;
        let mut out = Vec::new();
        for sli in &self.slis {
            let labels = self.sli_labels(*sli);
            let sel = label_selector(&labels);
            let record = |name: &str, expr: String| Record {
                record: name.to_owned(),
                expr,
                labels: labels.clone().into(),
            };
            out.push(record(
                "slo:objective:ratio",
                format!("vector({objective})"),
            ));
            out.push(record(
                "slo:error_budget:ratio",
                format!("vector({budget})"),
            ));
            out.push(record("slo:time_period:days", format!("vector({days})")));
            out.push(record(
                "slo:current_burn_rate:ratio",
                format!("{}{{{sel}}} / {budget}", sli.record("5m")),
            ));
            out.push(record(
                "slo:period_burn_rate:ratio",
                format!(
                    "sum_over_time(slo:bad_events:rate5m{{{sel}}}[{period}]) / sum_over_time(slo:events:rate5m{{{sel}}}[{period}]) / {budget}"
                ),
            ));
            out.push(record(
                "slo:period_error_budget_remaining:ratio",
                format!("1 - slo:period_burn_rate:ratio{{{sel}}}"),
            ));
            let mut info = labels.clone();
            info.insert("owner".into(), self.owner.clone());
            info.insert("objective".into(), format!("{}", self.o.availability));
            info.insert("period".into(), period.clone());
            info.insert(
                "events".into(),
                match &self.o.events {
                    Events::Http { .. } => self.metrics.preset.clone(),
                    Events::Queries(_) => "queries".into(),
                },
            );
            if let Some(ms) = self.o.latency_ms {
                info.insert("latency_ms".into(), format!("{ms}"));
            }
            out.push(Record {
                record: "slo_info".into(),
                expr: "vector(1)".into(),
                labels: info.into(),
            });
        }
        out
    }

    fn alert_labels(&self, severity: &str, sli: Sli) -> BTreeMap<String, String> {
        let mut labels: BTreeMap<String, String> = self
            .o
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), gotmpl_str(v)))
            .collect();
        for (k, v) in [
            ("service", self.service.as_str()),
            ("owner", self.owner.as_str()),
            ("severity", severity),
            ("slo", sli.name()),
        ] {
            labels.insert(k.to_owned(), gotmpl_str(v));
        }
        labels
    }

    fn what(&self, sli: Sli) -> String {
        match sli {
            Sli::Errors => match self.o.events {
                Events::Http { .. } => "failing (5xx)".to_owned(),
                Events::Queries(_) => "bad (the SLO's error query)".to_owned(),
            },
            Sli::Latency => format!("slower than {} ms", self.o.latency_ms.unwrap_or_default()),
        }
    }

    /// The burn-rate alert of one SLI over `tiers` (one tier, or a page or
    /// ticket's two): for any of them, both windows above its factor times
    /// the budget (and enough traffic, when `min_request_rate` is set), with
    /// at least `slo.min_bad_events` bad events in the short window.
    fn rule(&self, st: &Settings, tiers: &[TierPlan], sli: Sli) -> Rule {
        let (o, budget) = (self.o, self.budget);
        let record_sel = &label_selector(&self.sli_labels(sli));
        let branches: Vec<String> = tiers
            .iter()
            .map(|tier| {
                let threshold = format!("({} * {budget})", tier.factor);
                let mut expr = format!(
                    "{}{{{record_sel}}} > {threshold} and {}{{{record_sel}}} > {threshold}",
                    sli.record(tier.long),
                    sli.record(tier.short)
                );
                if let Some(min) = o.min_request_rate {
                    let (_, total) = self.events(sli, tier.long);
                    expr = format!("{expr} and on() {total} > {min}");
                }
                if let Some(floor) = bad_events_floor(st, tier) {
                    let (bad, _) = self.events(sli, tier.short);
                    expr = format!("{expr} and on() {bad} {floor}");
                }
                expr
            })
            .collect();
        let mut labels = self.alert_labels(tiers[0].severity, sli);
        burn_rule(
            st,
            tiers,
            sli,
            &branches,
            BurnText {
                subject: gotmpl_str(&o.key),
                what: self.what(sli),
                budget: format!(
                    "the error budget of {budget} ({}% availability)",
                    o.availability
                ),
            },
            &mut labels,
            &self.links,
            self.exporter(),
            self.rule_test(),
        )
    }

    /// Fires when the period's budget is spent (traffic-weighted, so it holds
    /// through idle hours).
    fn budget_exhausted(&self, severity: &str, sli: Sli) -> Rule {
        budget_rule(
            sli,
            BurnText {
                subject: gotmpl_str(&self.o.key),
                what: self.what(sli),
                budget: format!(
                    "the error budget of {} ({}% availability)",
                    self.budget, self.o.availability
                ),
            },
            &label_selector(&self.sli_labels(sli)),
            self.alert_labels(severity, sli),
            &self.links,
            self.exporter(),
            self.rule_test(),
        )
    }

    fn exporter(&self) -> String {
        match &self.o.events {
            Events::Http { .. } => format!(
                "application ({}, {})",
                self.metrics.requests, self.metrics.duration
            ),
            Events::Queries(_) => "application (the SLO's queries)".into(),
        }
    }

    fn rule_test(&self) -> RuleTest {
        RuleTest {
            labels: self.o.labels.clone(),
            ..RuleTest::default()
        }
    }
}

/// `{k="v", …}` contents for labels, quoted for PromQL.
fn label_selector(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={}", q(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A route's requests in the applications' metrics: by service (when known),
/// method and route, under the label names of the metrics preset.
pub(crate) fn http_selector(
    m: &HttpMetrics,
    service: Option<&str>,
    method: &str,
    path: &str,
) -> String {
    let mut parts = Vec::new();
    if let Some(s) = service {
        parts.push(format!("service={}", q(s)));
    }
    parts.push(format!("{}={}", m.method_label, q(method)));
    parts.push(format!("{}={}", m.route_label, q(path)));
    parts.join(", ")
}

/// Bad and total requests per second of an HTTP route over `w`.
fn http_events(
    m: &HttpMetrics,
    sli: Sli,
    sel: &str,
    latency_seconds: Option<f64>,
    w: &str,
) -> (String, String) {
    match sli {
        Sli::Errors => (
            format!(
                "sum(rate({}{{{sel}, {}=~\"5..\"}}[{w}]))",
                m.requests, m.status_label
            ),
            format!("sum(rate({}{{{sel}}}[{w}]))", m.requests),
        ),
        Sli::Latency => {
            let le = le_regex(latency_seconds.unwrap_or(1.0));
            let total = format!("sum(rate({}_count{{{sel}}}[{w}]))", m.duration);
            (
                format!(
                    "({total} - sum(rate({}_bucket{{{sel}, le=~{}}}[{w}])))",
                    m.duration,
                    q(&le)
                ),
                total,
            )
        }
    }
}

/// Each placement's SLO groups (see `delivery`), with the registry files
/// they come from.
pub(crate) fn by_placement<'a>(reg: &Registry, slo: &'a Slo) -> Placed<'a> {
    let mut out = Placed::new();
    let mut by_service: BTreeMap<&str, std::collections::BTreeSet<&str>> = BTreeMap::new();
    for o in &reg.objectives {
        by_service
            .entry(o.service.as_deref().unwrap_or(UNASSIGNED))
            .or_default()
            .insert(o.source.as_str());
    }
    for (service, groups) in &slo.files {
        let sources: Vec<&str> = by_service
            .get(service.as_str())
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        let owner = delivery::owner_of(reg, service);
        let e = out
            .entry(delivery::service(reg, service, owner))
            .or_default();
        e.0.extend(groups);
        delivery::add_source(reg, &mut e.1, &sources.join(", "), true, (service, owner));
    }
    out
}

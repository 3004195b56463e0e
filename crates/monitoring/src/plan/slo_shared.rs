//! The SLO rules all HTTP endpoints of one service share: each window's SLI
//! ratio is one recording rule over every route of the service (`sum by
//! (method, path)`), the burn rates and budget figures are one rule joined
//! with each endpoint's `slo:error_budget:ratio` (so are its objective and
//! period), and each burn-rate alert is one rule for all of them. An endpoint
//! adds two series per SLI (its budget and `slo_info`): the rules grow by a
//! few lines per endpoint, and Prometheus evaluates a constant number of
//! queries per service.
//!
//! Endpoints with their own tiers, `min_request_rate` or owner keep rules of
//! their own (`slo::ObjectiveSlo`). Every series the shared rules record
//! carries `slo_rules="shared"`, and they read only such series: the budget of
//! an endpoint with rules of its own, under the same `service`, never joins
//! the shared alerts (which would bypass its traffic floor and tiers and page
//! the service's team instead of its owner), and its SLI series are not
//! recorded twice under one label set.

use std::collections::{BTreeMap, BTreeSet};

use super::burn::{BurnText, Links, Sli, TierPlan, budget_rule, burn_rule};
use crate::plan::rule::{Pairs, Record, Rule, RuleTest};
use crate::templates::filters::{gotmpl_str, promql_str as q};
use registry::burn_rate::{WINDOWS, le_regex};
use registry::settings::Settings;
use registry::sli::HttpMetrics;
use registry::{Objective, Registry, UNASSIGNED};

/// The labels a shared rule joins an endpoint's series on (and all that a
/// one-to-one `on (…)` keeps of them).
pub(crate) const JOIN: &str = "service, method, path, slo, latency_le, slo_rules";

/// The label (and value) on every series the shared rules record.
const SHARED: (&str, &str) = ("slo_rules", "shared");

/// Whether an objective can use the shared rules.
pub(crate) fn shares(reg: &Registry, o: &Objective) -> bool {
    let serving_owner = o
        .service
        .as_ref()
        .and_then(|s| reg.service(s))
        .map(|s| s.owner.as_str());
    matches!(o.events, registry::Events::Http { .. })
        && o.min_request_rate.is_none()
        && o.tiers.len() == registry::burn_rate::TIERS.len()
        && (o.owner.is_none() || o.owner.as_deref() == serving_owner)
}

/// The labels of an endpoint's series for one SLI: its own, the SLI, and for
/// latency the threshold (`le`) its ratio is read at.
pub(crate) fn series_labels(o: &Objective, sli: Sli) -> BTreeMap<String, String> {
    let mut labels = o.labels.clone();
    labels.insert("slo".into(), sli.name().into());
    labels.insert(SHARED.0.into(), SHARED.1.into());
    if let (Sli::Latency, Some(s)) = (sli, o.latency_seconds()) {
        labels.insert("latency_le".into(), format!("{s}"));
    }
    labels
}

/// What the shared rules of one service need.
pub(super) struct Shared<'a> {
    pub(super) service: Option<&'a str>,
    pub(super) owner: String,
    pub(super) links: Links,
    pub(super) metrics: &'a HttpMetrics,
    pub(super) objectives: Vec<&'a Objective>,
}

impl Shared<'_> {
    /// The application's series of the service: `service="S"`, or
    /// `service=""` (no such label) for endpoints without one.
    fn metric_sel(&self) -> String {
        format!("service={}", q(self.service.unwrap_or("")))
    }

    /// The series these rules record (see the module's comment).
    fn sel(&self) -> String {
        format!("{}, {}={}", self.metric_sel(), SHARED.0, q(SHARED.1))
    }

    fn service_labels(&self, sli: Sli) -> BTreeMap<String, String> {
        let mut l = BTreeMap::from([
            ("slo".to_owned(), sli.name().to_owned()),
            (SHARED.0.to_owned(), SHARED.1.to_owned()),
        ]);
        if let Some(s) = self.service {
            l.insert("service".into(), s.to_owned());
        }
        l
    }

    /// `sum by (method, path)` of a per-series expression, with the metrics'
    /// own label names renamed to `method` and `path` first.
    fn by_route(&self, inner: String) -> String {
        let m = self.metrics;
        let mut e = inner;
        for (to, from) in [("method", &m.method_label), ("path", &m.route_label)] {
            if from != to {
                e = format!("label_replace({e}, \"{to}\", \"$1\", \"{from}\", \"(.*)\")");
            }
        }
        format!("sum by (method, path) ({e})")
    }

    /// Bad and total requests per second of every route over `w`.
    fn events(&self, sli: Sli, le: Option<f64>, w: &str) -> (String, String) {
        let (m, sel) = (self.metrics, self.metric_sel());
        match sli {
            Sli::Errors => (
                self.by_route(format!(
                    "rate({}{{{sel}, {}=~\"5..\"}}[{w}])",
                    m.requests, m.status_label
                )),
                self.by_route(format!("rate({}{{{sel}}}[{w}])", m.requests)),
            ),
            Sli::Latency => {
                let total = self.by_route(format!("rate({}_count{{{sel}}}[{w}])", m.duration));
                let fast = self.by_route(format!(
                    "rate({}_bucket{{{sel}, le=~{}}}[{w}])",
                    m.duration,
                    q(&le_regex(le.unwrap_or(1.0)))
                ));
                (format!("({total} - {fast})"), total)
            }
        }
    }

    /// The SLIs present, latency once per threshold.
    fn slis(&self) -> Vec<(Sli, Option<f64>)> {
        let thresholds: BTreeSet<u64> = self
            .objectives
            .iter()
            .filter_map(|o| o.latency_seconds())
            .map(f64::to_bits)
            .collect();
        let mut out = vec![(Sli::Errors, None)];
        out.extend(
            thresholds
                .into_iter()
                .map(|b| (Sli::Latency, Some(f64::from_bits(b)))),
        );
        out
    }

    /// The budgets first: the ratios are recorded only for their routes.
    pub(crate) fn records(&self, st: &Settings) -> Vec<Record> {
        let mut out = self.budget_records(st);
        out.extend(self.ratio_records());
        out.extend(self.metadata_records(st));
        out
    }

    /// Each SLI's error ratio over every window, and its 5m event rates, for
    /// the routes of these endpoints only (an endpoint with rules of its own
    /// records its route's).
    fn ratio_records(&self) -> Vec<Record> {
        let mut out = Vec::new();
        for (sli, le) in self.slis() {
            let mut labels = self.service_labels(sli);
            let mut budget = format!("{}, slo={}", self.sel(), q(sli.name()));
            if let Some(le) = le {
                labels.insert("latency_le".into(), format!("{le}"));
                budget.push_str(&format!(", latency_le={}", q(&format!("{le}"))));
            }
            let ours = format!("and on(method, path) slo:error_budget:ratio{{{budget}}}");
            let record = |record: String, expr: String| Record {
                record,
                expr: format!("{expr} {ours}"),
                labels: labels.clone().into(),
            };
            for w in WINDOWS {
                let (bad, total) = self.events(sli, le, w);
                out.push(record(sli.record(w), format!("{bad} / {total}")));
            }
            let (bad, total) = self.events(sli, le, "5m");
            out.push(record("slo:bad_events:rate5m".into(), bad));
            out.push(record("slo:events:rate5m".into(), total));
        }
        out
    }

    /// Each endpoint's budget and `slo_info`, under its own labels.
    fn budget_records(&self, st: &Settings) -> Vec<Record> {
        let mut out = Vec::new();
        for o in &self.objectives {
            let budget = o.error_budget();
            let mut slis = vec![Sli::Errors];
            if o.latency_ms.is_some() {
                slis.push(Sli::Latency);
            }
            for sli in slis {
                let labels = series_labels(o, sli);
                let record = |name: &str, expr: String, labels: BTreeMap<String, String>| Record {
                    record: name.to_owned(),
                    expr,
                    labels: labels.into(),
                };
                out.push(record(
                    "slo:error_budget:ratio",
                    format!("vector({budget})"),
                    labels.clone(),
                ));
                let mut info = labels;
                info.insert("owner".into(), self.owner.clone());
                info.insert("objective".into(), format!("{}", o.availability));
                info.insert("period".into(), st.slo_period.clone());
                info.insert("events".into(), self.metrics.preset.clone());
                if let Some(ms) = o.latency_ms {
                    info.insert("latency_ms".into(), format!("{ms}"));
                }
                out.push(record("slo_info", "vector(1)".into(), info));
            }
        }
        out
    }

    /// The objective, period, burn rates and budget remaining of every
    /// endpoint at once, from its budget.
    fn metadata_records(&self, st: &Settings) -> Vec<Record> {
        let mut out = Vec::new();
        let sel = self.sel();
        let budget = format!("slo:error_budget:ratio{{{sel}}}");
        let days = (st.slo_period_hours / 24.0 * 1e6).round() / 1e6;
        out.push(Record {
            record: "slo:objective:ratio".into(),
            expr: format!("1 - {budget}"),
            labels: Pairs::default(),
        });
        out.push(Record {
            record: "slo:time_period:days".into(),
            expr: format!("{budget} * 0 + {days}"),
            labels: Pairs::default(),
        });
        let kinds: BTreeSet<&'static str> = self.slis().iter().map(|(s, _)| s.name()).collect();
        for sli in [Sli::Errors, Sli::Latency]
            .into_iter()
            .filter(|s| kinds.contains(s.name()))
        {
            out.push(Record {
                record: "slo:current_burn_rate:ratio".into(),
                expr: format!("{}{{{sel}}} / on({JOIN}) {budget}", sli.record("5m")),
                labels: BTreeMap::from([("slo".to_owned(), sli.name().to_owned())]).into(),
            });
        }
        let period = &st.slo_period;
        out.push(Record {
            record: "slo:period_burn_rate:ratio".into(),
            expr: format!(
                "(sum_over_time(slo:bad_events:rate5m{{{sel}}}[{period}]) / sum_over_time(slo:events:rate5m{{{sel}}}[{period}])) / on({JOIN}) {budget}"
            ),
            labels: Pairs::default(),
        });
        out.push(Record {
            record: "slo:period_error_budget_remaining:ratio".into(),
            expr: format!("1 - slo:period_burn_rate:ratio{{{sel}}}"),
            labels: Pairs::default(),
        });
        out
    }

    fn labels(&self, severity: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("owner".to_owned(), gotmpl_str(&self.owner)),
            ("severity".to_owned(), severity.to_owned()),
        ])
    }

    /// The burn-rate alert of one SLI over `tiers`, for every endpoint of the
    /// service: both windows above the factor times the endpoint's budget.
    pub(crate) fn rule(&self, st: &Settings, tiers: &[TierPlan], sli: Sli, exporter: &str) -> Rule {
        let sel = self.sel();
        let slo = q(sli.name());
        let branches: Vec<String> = tiers
            .iter()
            .map(|t| {
                let threshold = format!("({} * slo:error_budget:ratio{{{sel}, slo={slo}}})", t.factor);
                let burn = format!(
                    "{}{{{sel}}} > on({JOIN}) {threshold} and on({JOIN}) {}{{{sel}}} > on({JOIN}) {threshold}",
                    sli.record(t.long),
                    sli.record(t.short)
                );
                match super::burn::bad_events_floor(st, t) {
                    // The bad events as ratio times traffic: one expression
                    // for every latency threshold the endpoints use.
                    Some(floor) => {
                        let (_, total) = self.events(sli, None, t.short);
                        format!(
                            "{burn} and on({JOIN}) ({}{{{sel}}} * on(method, path) group_left() {total}) {floor}",
                            sli.record(t.short)
                        )
                    }
                    None => burn,
                }
            })
            .collect();
        burn_rule(
            st,
            tiers,
            sli,
            &branches,
            BurnText {
                subject: "{{ $labels.method }} {{ $labels.path }}".into(),
                what: what(sli),
                budget: "the endpoint's error budget".into(),
            },
            &mut self.labels(tiers[0].severity),
            &self.links,
            exporter.to_owned(),
            RuleTest::default(),
        )
    }

    /// The service's endpoints whose period budget is spent.
    pub(crate) fn budget_exhausted(&self, severity: &str, sli: Sli, exporter: &str) -> Rule {
        budget_rule(
            sli,
            BurnText {
                subject: "{{ $labels.method }} {{ $labels.path }}".into(),
                what: what(sli),
                budget: "the endpoint's error budget".into(),
            },
            &format!("{}, slo={}", self.sel(), q(sli.name())),
            self.labels(severity),
            &self.links,
            exporter.to_owned(),
            RuleTest::default(),
        )
    }
}

/// Which requests are bad, for the alerts of all endpoints.
fn what(sli: Sli) -> String {
    match sli {
        Sli::Errors => "failing (5xx)".to_owned(),
        Sli::Latency => "slower than its objective".to_owned(),
    }
}

/// The group name of a service's shared SLO rules.
pub fn group_name(service: Option<&str>) -> String {
    format!("slo of service {}", service.unwrap_or(UNASSIGNED))
}

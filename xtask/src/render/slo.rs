//! SLO rules for API endpoints, after the Google SRE workbook's multiwindow,
//! multi-burn-rate alerts: recording rules for the error ratio (5xx / all) and
//! the latency SLI (share slower than the objective) over every window, and
//! four burn-rate tiers per SLI whose factors follow from the SLO period.
//!
//! Files: `prometheus/slo/<service>.rules.yml` (one group per endpoint) and
//! their generated unit tests in `prometheus/tests/slo/<service>.test.yml`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Renderer;
use super::filters::{error_ratio, gotmpl_str, promql_str as q};
use super::rule_file::{Group, Record, Rule, RuleTest, Series};
use super::rule_tests::{self, Case};
use crate::burn_rate::{TIERS, WINDOWS, factor, le_regex};
use crate::output::Output;
use crate::registry::UNASSIGNED;
use crate::registry::settings::Settings;
use crate::registry::{Endpoint, Registry};
use crate::syntax::duration_hours;

/// The two SLIs: what counts as a bad request.
#[derive(Debug, Clone, Copy)]
pub enum Sli {
    Errors,
    Latency,
}

impl Sli {
    pub fn name(self) -> &'static str {
        match self {
            Sli::Errors => "error",
            Sli::Latency => "latency",
        }
    }

    pub fn record(self, window: &str) -> String {
        match self {
            Sli::Errors => format!("endpoint:http_requests_errors:ratio_rate{window}"),
            Sli::Latency => format!("endpoint:http_requests_slow:ratio_rate{window}"),
        }
    }

    fn alert(self) -> &'static str {
        match self {
            Sli::Errors => "SLOErrorBudgetBurn",
            Sli::Latency => "SLOLatencyBudgetBurn",
        }
    }
}

/// One burn-rate tier of one endpoint, for the plan.
#[derive(Debug, Clone, Serialize)]
pub struct TierPlan {
    pub tier: &'static str,
    pub factor: f64,
    pub long: &'static str,
    pub short: &'static str,
    pub severity: &'static str,
    #[serde(rename = "for")]
    pub for_: String,
}

/// What the plan shows of an endpoint's SLO.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointPlan {
    pub method: String,
    pub path: String,
    pub budget_percent: f64,
    /// How long a full outage takes to spend the period's budget.
    pub budget_outage: String,
    pub slis: Vec<&'static str>,
    pub tiers: Vec<TierPlan>,
}

pub struct Slo {
    /// Service (or `unassigned`) to its groups, one per endpoint.
    pub files: BTreeMap<String, Vec<Group>>,
    /// `METHOD path` to its plan.
    pub plans: BTreeMap<String, EndpointPlan>,
}

fn human_duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

pub fn build(reg: &Registry) -> Slo {
    let st = &reg.settings;
    let mut files: BTreeMap<String, Vec<Group>> = BTreeMap::new();
    let mut plans = BTreeMap::new();
    for ep in reg
        .endpoints
        .iter()
        .filter(|e| e.slo_availability.is_some())
    {
        let e = EndpointSlo::new(reg, ep);
        let records = e.records();
        let mut rules = Vec::new();
        let mut tier_plans = Vec::new();
        for tier in TIERS
            .iter()
            .filter(|t| ep.tiers.iter().any(|n| n == t.name))
        {
            let plan = TierPlan {
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
            };
            rules.extend(e.slis.iter().map(|sli| e.rule(st, &plan, *sli)));
            tier_plans.push(plan);
        }
        let key = format!("{} {}", ep.method, ep.path);
        plans.insert(
            key.clone(),
            EndpointPlan {
                method: ep.method.clone(),
                path: ep.path.clone(),
                budget_percent: (e.budget * 100.0 * 1e6).round() / 1e6,
                budget_outage: human_duration(e.budget * st.slo_period_hours * 3600.0),
                slis: e.slis.iter().map(|s| s.name()).collect(),
                tiers: tier_plans,
            },
        );
        files.entry(e.service.clone()).or_default().push(Group {
            name: format!("slo {key}"),
            records,
            rules,
        });
    }
    Slo { files, plans }
}

/// One endpoint's objective, with what its recording and alerting rules share.
struct EndpointSlo<'a> {
    ep: &'a Endpoint,
    service: String,
    owner: String,
    budget: f64,
    slis: Vec<Sli>,
    /// The endpoint's requests in `http_requests_total`.
    sel: String,
    /// The labels of its recorded ratios, and a selector for them.
    record_labels: BTreeMap<String, String>,
    record_sel: String,
    /// The serving service's `runbook_url`, else `defaults.runbook_base_url`.
    runbook: Runbook,
}

/// Where an SLO alert's runbook is: the service's own page, or one page per
/// SLI under the registry's runbook base URL (`<base>/slo_errors`).
enum Runbook {
    Service(String),
    Base(String),
    None,
}

impl<'a> EndpointSlo<'a> {
    fn new(reg: &Registry, ep: &'a Endpoint) -> Self {
        let service = ep.service.clone().unwrap_or_else(|| UNASSIGNED.to_owned());
        let serving = reg
            .services
            .iter()
            .find(|s| Some(&s.name) == ep.service.as_ref());
        let owner = ep
            .owner
            .clone()
            .or_else(|| serving.map(|s| s.owner.clone()))
            .unwrap_or_else(|| UNASSIGNED.to_owned());
        let runbook = match (
            serving.and_then(|s| s.runbook_url.clone()),
            &reg.runbook_base_url,
        ) {
            (Some(url), _) => Runbook::Service(url),
            (None, Some(base)) => Runbook::Base(base.trim_end_matches('/').to_owned()),
            (None, None) => Runbook::None,
        };
        let mut slis = vec![Sli::Errors];
        if ep.slo_latency_ms.is_some() {
            slis.push(Sli::Latency);
        }
        let mut record_labels = BTreeMap::from([
            ("method".to_owned(), ep.method.clone()),
            ("path".to_owned(), ep.path.clone()),
        ]);
        if let Some(s) = &ep.service {
            record_labels.insert("service".into(), s.clone());
        }
        let record_sel = record_labels
            .iter()
            .map(|(k, v)| format!("{k}={}", q(v)))
            .collect::<Vec<_>>()
            .join(", ");
        EndpointSlo {
            ep,
            service,
            owner,
            budget: ep.error_budget().unwrap_or(0.0),
            slis,
            sel: selector(ep),
            record_labels,
            record_sel,
            runbook,
        }
    }

    /// Each SLI's ratio over every window the tiers use.
    fn records(&self) -> Vec<Record> {
        let mut records = Vec::new();
        for sli in &self.slis {
            for w in WINDOWS {
                records.push(Record {
                    record: sli.record(w),
                    expr: sli_expr(*sli, self.ep, &self.sel, w),
                    labels: self.record_labels.clone(),
                });
            }
        }
        records
    }

    /// The burn-rate alert of one SLI in one tier: both windows above the factor
    /// times the budget (and enough traffic, when `min_request_rate` is set).
    fn rule(&self, st: &Settings, tier: &TierPlan, sli: Sli) -> Rule {
        let (ep, f, budget, record_sel) = (self.ep, tier.factor, self.budget, &self.record_sel);
        let threshold = format!("({f} * {budget})");
        let mut expr = format!(
            "{}{{{record_sel}}} > {threshold} and {}{{{record_sel}}} > {threshold}",
            sli.record(tier.long),
            sli.record(tier.short)
        );
        if let Some(min) = ep.min_request_rate {
            expr = format!(
                "{expr} and on() sum(rate(http_requests_total{{{}}}[{}])) > {min}",
                self.sel, tier.long
            );
        }
        let labels: BTreeMap<String, String> = [
            ("service", self.service.as_str()),
            ("owner", self.owner.as_str()),
            ("severity", tier.severity),
            ("burnrate_tier", tier.tier),
            ("slo", sli.name()),
            ("method", ep.method.as_str()),
            ("path", ep.path.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), gotmpl_str(v)))
        .collect();
        let what = match sli {
            Sli::Errors => "failing (5xx)".to_owned(),
            Sli::Latency => format!("slower than {} ms", ep.slo_latency_ms.unwrap_or_default()),
        };
        let path = gotmpl_str(&ep.path);
        let lasts = human_duration(st.slo_period_hours * 3600.0 / f);
        let mut annotations = BTreeMap::from([
            (
                "summary".to_owned(),
                format!(
                    "{} {path}: {} budget burning {f}x ({} tier)",
                    ep.method,
                    sli.name(),
                    tier.tier
                ),
            ),
            (
                "description".to_owned(),
                format!(
                    "The share of requests {what} over the last {} and {} is above {f} times the error budget of {budget} ({}% availability); at this rate the {} budget is gone in {lasts}.",
                    tier.long,
                    tier.short,
                    ep.slo_availability.unwrap_or_default(),
                    st.slo_period
                ),
            ),
            ("auto_repair".to_owned(), "none".to_owned()),
        ]);
        let runbook = match &self.runbook {
            Runbook::Service(url) => Some(url.clone()),
            Runbook::Base(base) => Some(format!("{base}/slo_{}", sli.name())),
            Runbook::None => None,
        };
        if let Some(url) = runbook {
            // Prometheus expands annotations as Go templates: the URL is data.
            annotations.insert("runbook_url".to_owned(), gotmpl_str(&url));
        }
        Rule {
            name: format!("slo_{}_{}", sli.name(), tier.tier),
            exporter: "application (http_requests_total, http_request_duration_seconds)".into(),
            alert: sli.alert().into(),
            expr,
            for_: tier.for_.clone(),
            labels,
            annotations,
            test: RuleTest {
                firing: vec![],
                healthy: vec![],
                other_firing: vec![],
                labels: self.record_labels.clone(),
            },
        }
    }
}

/// The endpoint's requests: by service (when known), method and route.
fn selector(ep: &Endpoint) -> String {
    let mut parts = Vec::new();
    if let Some(s) = &ep.service {
        parts.push(format!("service={}", q(s)));
    }
    parts.push(format!("method={}", q(&ep.method)));
    parts.push(format!("path={}", q(&ep.path)));
    parts.join(", ")
}

fn sli_expr(sli: Sli, ep: &Endpoint, sel: &str, w: &str) -> String {
    match sli {
        Sli::Errors => error_ratio(sel, w),
        Sli::Latency => {
            let le = le_regex(ep.latency_seconds().unwrap_or(1.0));
            format!(
                "1 - sum(rate(http_request_duration_seconds_bucket{{{sel}, le=~{}}}[{w}])) / sum(rate(http_request_duration_seconds_count{{{sel}}}[{w}]))",
                q(&le)
            )
        }
    }
}

/// Unit tests: every SLI of every endpoint burns its whole budget (all
/// requests bad), stays quiet when all are good, and ignores another route.
fn cases(by_group: &BTreeMap<String, &Endpoint>, groups: &[Group]) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    for g in groups {
        let Some(ep) = by_group.get(&g.name) else {
            continue;
        };
        for sli in [Sli::Errors, Sli::Latency] {
            let rules: Vec<&Rule> = g.rules.iter().filter(|r| r.alert == sli.alert()).collect();
            if rules.is_empty() {
                continue;
            }
            let fors: Vec<u64> = rules
                .iter()
                .map(|r| (duration_hours(&r.for_).unwrap_or(0.0) * 60.0).ceil() as u64)
                .collect();
            // Bad from minute 1, an alert fires once its `for` has passed; pick
            // a time that is not within a minute of any tier's edge.
            let mut t = fors.iter().min().copied().unwrap_or(0) + 10;
            while fors.iter().any(|f| *f + 3 >= t && *f <= t + 1) {
                t += 1;
            }
            let minutes = t;
            let firing: Vec<&Rule> = rules
                .iter()
                .zip(&fors)
                .filter(|(_, f)| **f + 2 <= t)
                .map(|(r, _)| *r)
                .collect();
            let per_minute = (ep.min_request_rate.unwrap_or(0.0) * 600.0)
                .ceil()
                .max(60.0);
            let series = |path: &str, bad: bool| -> Vec<Series> {
                let mut e = (*ep).clone();
                e.path = path.to_owned();
                let sel = selector(&e);
                match sli {
                    Sli::Errors => vec![
                        Series {
                            series: format!("http_requests_total{{{sel}, status=\"500\"}}"),
                            values: if bad {
                                format!("0+{per_minute}")
                            } else {
                                "0".into()
                            },
                        },
                        Series {
                            series: format!("http_requests_total{{{sel}, status=\"200\"}}"),
                            values: if bad {
                                "0".into()
                            } else {
                                format!("0+{per_minute}")
                            },
                        },
                    ],
                    Sli::Latency => {
                        let le = format!("{}", ep.latency_seconds().unwrap_or(1.0));
                        vec![
                            Series {
                                series: format!(
                                    "http_request_duration_seconds_bucket{{{sel}, le={}}}",
                                    q(&le)
                                ),
                                values: if bad {
                                    "0".into()
                                } else {
                                    format!("0+{per_minute}")
                                },
                            },
                            Series {
                                series: format!("http_request_duration_seconds_count{{{sel}}}"),
                                values: format!("0+{per_minute}"),
                            },
                            // The latency SLI needs traffic that min_request_rate counts, too.
                            Series {
                                series: format!("http_requests_total{{{sel}, status=\"200\"}}"),
                                values: format!("0+{per_minute}"),
                            },
                        ]
                    }
                }
            };
            let alertname = sli.alert().to_owned();
            let eval_time = format!("{minutes}m");
            let expected = firing
                .iter()
                .map(|r| rule_tests::expected(r, &r.test.labels))
                .collect::<Result<Vec<_>, _>>()?;
            let route = format!("{} {}", ep.method, ep.path);
            cases.push(Case {
                title: format!(
                    "{alertname} of {route}: all requests bad fires the tiers past their `for`"
                ),
                alertname: alertname.clone(),
                eval_time: eval_time.clone(),
                input: rule_tests::with_count(&series(&ep.path, true), minutes),
                expected,
            });
            cases.push(Case {
                title: format!("{alertname} of {route}: all requests good stays quiet"),
                alertname: alertname.clone(),
                eval_time: eval_time.clone(),
                input: rule_tests::with_count(&series(&ep.path, false), minutes),
                expected: vec![],
            });
            cases.push(Case {
                title: format!("{alertname} of {route}: another route's failures stay out"),
                alertname,
                eval_time,
                input: rule_tests::with_count(&series("/zz-other-route", true), minutes),
                expected: vec![],
            });
        }
    }
    Ok(cases)
}

pub fn outputs(r: &Renderer, reg: &Registry, slo: &Slo) -> Result<Vec<Output>, String> {
    // Group name to its endpoint, built once for all files.
    let by_group: BTreeMap<String, &Endpoint> = reg
        .endpoints
        .iter()
        .map(|e| (format!("slo {} {}", e.method, e.path), e))
        .collect();
    let mut out = Vec::new();
    for (service, groups) in &slo.files {
        let mut sources: Vec<&str> = reg
            .endpoints
            .iter()
            .filter(|e| e.service.as_deref().unwrap_or(UNASSIGNED) == service)
            .map(|e| e.source.as_str())
            .collect();
        sources.sort_unstable();
        sources.dedup();
        let source = format!("{} (API endpoints of {service})", sources.join(", "));
        let cases = cases(&by_group, groups)?;
        let groups: Vec<&Group> = groups.iter().collect();
        out.extend(rule_tests::with_tests(
            r, "slo", service, &groups, &cases, &source,
        )?);
    }
    Ok(out)
}

//! The SLO rule files and their promtool tests, rendered from the planned
//! SLO rules (`plan::slo`): the test series that make each burn-rate tier fire.

use std::collections::BTreeMap;

use super::emit::Emit;
use super::rule_tests;
use crate::error::Failure;
use crate::error::RenderError;
use crate::plan::Plan;
use crate::plan::burn::Sli;
use crate::plan::rule::{Group, Rule, Series};
use crate::plan::rule_tests::Case;
use crate::plan::slo::{by_placement, group_name, http_selector};
use crate::plan::slo_shared;
use crate::templates::Renderer;
use crate::templates::filters::promql_str as q;
use registry::sli::HttpMetrics;
use registry::syntax::duration_hours;
use registry::{Events, Objective};

/// The input series of a unit test: every request of `path` bad or good, at
/// `per_minute` requests a minute, in the applications' metric names.
fn test_series(
    m: &HttpMetrics,
    o: &Objective,
    sli: Sli,
    path: &str,
    bad: bool,
    per_minute: f64,
) -> Vec<Series> {
    let Events::Http { method, .. } = &o.events else {
        return vec![];
    };
    let sel = http_selector(m, o.service.as_deref(), method, path);
    let rate = |on: bool| {
        if on {
            format!("0+{per_minute}")
        } else {
            "0".into()
        }
    };
    let status = |code: &str| format!("{}=\"{code}\"", m.status_label);
    // OpenTelemetry and Micrometer count requests with the histogram's `_count`.
    let count = format!("{}_count", m.duration);
    match sli {
        Sli::Errors => vec![
            Series {
                series: format!("{}{{{sel}, {}}}", m.requests, status("500")),
                values: rate(bad),
            },
            Series {
                series: format!("{}{{{sel}, {}}}", m.requests, status("200")),
                values: rate(!bad),
            },
        ],
        Sli::Latency => {
            let le = format!("{}", o.latency_seconds().unwrap_or(1.0));
            let mut series = vec![
                Series {
                    series: format!(
                        "{}_bucket{{{sel}, {}, le={}}}",
                        m.duration,
                        status("200"),
                        q(&le)
                    ),
                    values: rate(!bad),
                },
                Series {
                    series: format!("{count}{{{sel}, {}}}", status("200")),
                    values: rate(true),
                },
            ];
            // The traffic that min_request_rate counts, when it is another metric.
            if m.requests != count {
                series.push(Series {
                    series: format!("{}{{{sel}, {}}}", m.requests, status("200")),
                    values: rate(true),
                });
            }
            series
        }
    }
}

/// Unit tests: every SLI of every objective over HTTP metrics burns its whole
/// budget (all requests bad), stays quiet when all are good, and ignores
/// another route. Objectives over raw queries get none: their series are the
/// user's, which the plan says.
fn cases(
    m: &HttpMetrics,
    by_group: &BTreeMap<String, Vec<(&Objective, bool)>>,
    groups: &[&Group],
) -> Result<Vec<Case>, RenderError> {
    let mut cases = Vec::new();
    let tested = groups.iter().flat_map(|g| {
        by_group
            .get(&g.name)
            .into_iter()
            .flatten()
            .map(move |o| (g, o))
    });
    for (g, (o, shared)) in tested {
        if !matches!(o.events, Events::Http { .. }) {
            continue;
        }
        for sli in [Sli::Errors, Sli::Latency] {
            if sli == Sli::Latency && o.latency_ms.is_none() {
                continue;
            }
            let prefix = format!("slo_{}_", sli.name());
            let rules: Vec<&Rule> = g
                .rules
                .iter()
                .filter(|r| r.name.starts_with(&prefix))
                .collect();
            // What the alerts keep from the series they fire on.
            let series_labels = |r: &Rule| {
                if *shared {
                    slo_shared::series_labels(o, sli)
                } else {
                    r.test
                        .as_ref()
                        .map(|t| t.labels.clone())
                        .unwrap_or_default()
                }
            };
            if rules.is_empty() {
                continue;
            }
            let fors: Vec<u64> = rules
                .iter()
                .map(|r| (duration_hours(&r.for_).unwrap_or(0.0) * 60.0).ceil() as u64)
                .collect();
            let minutes = eval_minute(&fors);
            let firing: Vec<&Rule> = rules
                .iter()
                .zip(&fors)
                .filter(|(_, f)| **f + 2 <= minutes)
                .map(|(r, _)| *r)
                .collect();
            let per_minute = (o.min_request_rate.unwrap_or(0.0) * 600.0).ceil().max(60.0);
            let Events::Http { path, .. } = &o.events else {
                continue;
            };
            let series = |p: &str, bad: bool| test_series(m, o, sli, p, bad, per_minute);
            let route = &o.key;
            let mut alertnames: Vec<&str> = rules.iter().map(|r| r.alert.as_str()).collect();
            alertnames.dedup();
            for alertname in alertnames {
                let by_route =
                    |own: bool, bad: bool| series(if own { path } else { "/zz-other-route" }, bad);
                cases.extend(alert_cases(
                    alertname,
                    route,
                    minutes,
                    &firing,
                    &series_labels,
                    &by_route,
                )?);
            }
        }
    }
    Ok(cases)
}

pub(crate) fn outputs(r: &Renderer, p: &Plan, emit: &mut Emit) -> Result<(), Failure> {
    let (reg, slo) = (p.registry, &p.slo);
    // Group name to the objectives its tests cover: its own, or for a
    // service's shared rules one endpoint of each objective and latency (the
    // rules are the same for all; only the joined budget differs).
    let mut by_group: BTreeMap<String, Vec<(&Objective, bool)>> = BTreeMap::new();
    for o in &reg.objectives {
        if slo_shared::shares(reg, o) {
            let tested = by_group
                .entry(slo_shared::group_name(o.service.as_deref()))
                .or_default();
            if !tested
                .iter()
                .any(|(t, _)| t.availability == o.availability && t.latency_ms == o.latency_ms)
            {
                tested.push((o, true));
            }
        } else {
            by_group.insert(group_name(o), vec![(o, false)]);
        }
    }
    let placed: Vec<_> = by_placement(reg, slo).into_iter().collect();
    super::emit::par_emit(&placed, emit, |(p, (groups, sources))| {
        let cases = cases(&reg.settings.slo.metrics, &by_group, groups)?;
        rule_tests::with_tests(
            r,
            &p.dir("slo"),
            &p.stem,
            groups,
            &cases,
            &sources.join("; "),
            &reg.settings.evaluation_interval,
        )
    })
}

/// Bad from minute 1, an alert fires once its `for` has passed: the minute
/// to evaluate at, not within a minute of any rule's edge.
fn eval_minute(fors: &[u64]) -> u64 {
    let mut t = fors.iter().min().copied().unwrap_or(0) + 10;
    while fors.iter().any(|f| *f + 3 >= t && *f <= t + 1) {
        t += 1;
    }
    t
}

/// One alert's three cases: all requests bad fires the rules past their
/// `for`, all good stays quiet, another route's failures stay out.
/// `series(own_route, bad)` gives the input series.
fn alert_cases(
    alertname: &str,
    route: &str,
    minutes: u64,
    firing: &[&Rule],
    series_labels: &dyn Fn(&Rule) -> BTreeMap<String, String>,
    series: &dyn Fn(bool, bool) -> Vec<Series>,
) -> Result<[Case; 3], RenderError> {
    let expected = firing
        .iter()
        .filter(|r| r.alert == alertname)
        // Every request bad: the burn alerts' value, the long window's ratio, is 1.
        .map(|r| crate::plan::rule_tests::expected(r, &series_labels(r), Some(1.0)))
        .collect::<Result<Vec<_>, _>>()?;
    let eval_time = format!("{minutes}m");
    let case = |title: String, own: bool, bad: bool, expected: Vec<_>| Case {
        title,
        alertname: alertname.to_owned(),
        eval_time: eval_time.clone(),
        input: crate::plan::rule_tests::with_count(&series(own, bad), minutes),
        expected,
        scoped: None,
    };
    Ok([
        case(
            format!("{alertname} of {route}: all requests bad fires the alerts past their `for`"),
            true,
            true,
            expected,
        ),
        case(
            format!("{alertname} of {route}: all requests good stays quiet"),
            true,
            false,
            vec![],
        ),
        case(
            format!("{alertname} of {route}: another route's failures stay out"),
            false,
            true,
            vec![],
        ),
    ])
}

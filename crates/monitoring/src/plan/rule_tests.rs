//! `promtool test rules` files, generated beside the rule files: for every
//! alert, its firing series must fire it with the expected labels and
//! annotations, and its healthy series and another target's firing series must
//! not. They prove each generated expression means what its name says; rules
//! that differ only in their target's name share one set of cases.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::RenderError;
use crate::plan::rule::{Group, Rule, Series};
use registry::syntax::duration_hours;

#[derive(Debug, Serialize)]
pub(crate) struct Case {
    /// What the case shows, for the comment above it.
    pub title: String,
    pub alertname: String,
    pub eval_time: String,
    pub input: Vec<Series>,
    pub expected: Vec<Expected>,
    /// For a rule with an absent() branch beside others of its name in the
    /// file, the check is on its own ALERTS series (`promql_expr_test`)
    /// instead: those others fire on the case's missing series, and
    /// `alert_rule_test` would see them. The selector, and the series expected (labels as
    /// `{k="v", …}`; none when it must stay quiet).
    pub scoped: Option<Scoped>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Scoped {
    pub expr: String,
    pub expected: Vec<String>,
}

/// A label set in PromQL's notation, values escaped.
fn selector(labels: &BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

/// The check of a case of an absent-type rule: its firing ALERTS series,
/// selected by the rule's own labels.
fn scoped(rule: &Rule, expected: &[Expected]) -> Result<Scoped, RenderError> {
    let mut own = BTreeMap::from([
        ("alertname".to_owned(), rule.alert.clone()),
        ("alertstate".to_owned(), "firing".to_owned()),
    ]);
    for (k, v) in &rule.labels {
        own.insert(k.clone(), expand(v, &BTreeMap::new(), None)?);
    }
    Ok(Scoped {
        expr: format!("ALERTS{}", selector(&own)),
        expected: expected
            .iter()
            .map(|e| {
                let mut all = e.labels.clone();
                all.insert("__name__".into(), "ALERTS".into());
                all.insert("alertname".into(), rule.alert.clone());
                all.insert("alertstate".into(), "firing".into());
                selector(&all)
            })
            .collect(),
    })
}

#[derive(Debug, Serialize)]
pub(crate) struct Expected {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// Minutes of evaluation before checking: the rule's `for` plus ten minutes, so
/// range functions have data and the alert has left pending.
pub(crate) fn eval_minutes(for_: &str) -> u64 {
    (duration_hours(for_).unwrap_or(0.0) * 60.0).ceil() as u64 + 10
}

/// Series values for `minutes` of one-minute samples.
pub(crate) fn with_count(series: &[Series], minutes: u64) -> Vec<Series> {
    series
        .iter()
        .map(|s| Series {
            series: s.series.clone(),
            values: format!("{}x{}", s.values, minutes + 5),
        })
        .collect()
}

/// Expands `{{ $labels.NAME }}`, `{{ $value | humanize }}`,
/// `{{ $value | humanizePercentage }}` and the `{{"{{"}}` escape the way
/// Prometheus will, for the expected annotations. Anything else cannot be
/// predicted, so it is an error, as is `$value` where the test declares none.
pub(crate) fn expand(
    text: &str,
    labels: &BTreeMap<String, String>,
    value: Option<f64>,
) -> Result<String, RenderError> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let end = rest[i..]
            .find("}}")
            .ok_or_else(|| RenderError(format!("unclosed `{{{{` in {text:?}")))?
            + i;
        let inner = rest[i + 2..end].trim();
        let shown = match (inner, value) {
            ("\"{{\"", _) => Some("{{".to_owned()),
            ("$value | humanizePercentage", Some(v)) => Some(format!("{}%", go_g4(v * 100.0))),
            ("$value | humanize", Some(v)) => Some(humanize(v)),
            _ => inner
                .strip_prefix("$labels.")
                .map(|name| labels.get(name).cloned().unwrap_or_default()),
        };
        let Some(shown) = shown else {
            return Err(RenderError(format!(
                "annotation {text:?} uses `{{{{ {inner} }}}}`; the generated rule tests check `$labels.NAME`, and `$value | humanize` or `| humanizePercentage` where the alert's test declares its `value`"
            )));
        };
        out.push_str(&shown);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Go's `%.4g`, as Prometheus' `humanize` and `humanizePercentage` print.
fn go_g4(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let exp = v.abs().log10().floor() as i32;
    if !(-4..4).contains(&exp) {
        let m = v / 10f64.powi(exp);
        let mantissa = trim_zeros(format!("{m:.3}"));
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    trim_zeros(format!("{v:.*}", (3 - exp).max(0) as usize))
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// Prometheus' `humanize`: SI prefixes, four significant digits.
fn humanize(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return go_g4(v);
    }
    let (mut v, mut prefix) = (v, "");
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", go_g4(v))
}

pub(crate) fn expected(
    rule: &Rule,
    series_labels: &BTreeMap<String, String>,
    value: Option<f64>,
) -> Result<Expected, RenderError> {
    let mut labels = series_labels.clone();
    for (k, v) in &rule.labels {
        labels.insert(k.clone(), expand(v, &BTreeMap::new(), None)?);
    }
    let annotations = rule
        .annotations
        .iter()
        .map(|(k, v)| Ok((k.clone(), expand(v, series_labels, value)?)))
        .collect::<Result<_, RenderError>>()?;
    Ok(Expected {
        labels,
        annotations,
    })
}

/// A rule with the names of its target (a service and its systemd unit, a
/// page's path and name) blanked out, hashed: rules of one shape are one
/// template rendered for different targets, so one set of cases proves them
/// all. (A 64-bit hash: among a million rules the odds that two shapes
/// collide, leaving one rule without cases, are below one in ten million.)
pub(crate) fn shape(names: &[&str], rule: &Rule) -> u64 {
    use std::hash::{Hash, Hasher};
    let series = |v: &[Series]| {
        v.iter()
            .map(|s| format!("{} {}", s.series, s.values))
            .collect::<Vec<_>>()
    };
    let text = match &rule.test {
        Some(t) => format!(
            "{}\n{}\n{}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
            rule.alert,
            rule.expr,
            rule.for_,
            rule.labels,
            rule.annotations,
            series(&t.firing),
            series(&t.healthy),
            series(&t.other_firing),
            t.labels,
        ),
        None => return 0,
    };
    let mut names: Vec<&str> = names.iter().copied().filter(|n| !n.is_empty()).collect();
    // Longest first, so a name inside another is not blanked out of it.
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let text = names
        .iter()
        .enumerate()
        .fold(text, |t, (i, n)| t.replace(n, &format!("\0{i}\0")));
    let mut h = std::hash::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// Minutes of healthy samples after a failure before a recovery case checks
/// that the alert has resolved: longer than any range the templates read.
const RECOVERED_MINUTES: u64 = 15;

/// The drill's last act: the firing series for `minutes`, then the healthy
/// values of the same series; only where both are the same series with
/// constant values (a counter's or a trend's values do not splice).
fn recovery(t: &crate::plan::rule::RuleTest, minutes: u64) -> Option<Vec<Series>> {
    let constant = |v: &str| v.parse::<f64>().is_ok();
    if t.firing.len() != t.healthy.len() || t.firing.is_empty() {
        return None;
    }
    t.firing
        .iter()
        .zip(&t.healthy)
        .map(|(f, h)| {
            (f.series == h.series && constant(&f.values) && constant(&h.values)).then(|| Series {
                series: f.series.clone(),
                values: format!(
                    "{}x{minutes} {}x{}",
                    f.values,
                    h.values,
                    RECOVERED_MINUTES + 5
                ),
            })
        })
        .collect()
}

/// Whether the file holds another rule of `rule`'s name with an absent()
/// branch. Alone, `alert_rule_test` sees only it, annotations included;
/// beside others, which fire on the case's missing series, its own ALERTS
/// series are checked.
fn has_namesakes(groups: &[&Group], rule: &Rule) -> bool {
    groups
        .iter()
        .flat_map(|g| &g.rules)
        .filter(|r| r.alert == rule.alert && r.expr.contains("absent("))
        .nth(1)
        .is_some()
}

/// The labels an absent() branch keeps: the series labels that its
/// selector pins with `=` (such as `job="node_exporter"`), read off the
/// rule's expression.
fn absent_labels(rule: &Rule, series: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let Some(i) = rule.expr.find("absent(") else {
        return BTreeMap::new();
    };
    let inner = &rule.expr[i..];
    series
        .iter()
        .filter(|(k, v)| inner.contains(&format!("{k}=\"{v}\"")))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The three cases of every alert rule of `groups` that carries its test
/// data: a rule that equals an earlier one of the file but for its target's
/// names (the same template over another service of the same kind and
/// settings) is proven by that one's cases (`alert_rules::build` drops its
/// data), so a file of a team's 500 services holds a case set per distinct
/// rule, not per service.
/// The case where the target's healthy series keep the rule quiet; an alert
/// with no series at all (the Watchdog) always fires and has none.
fn quiet(rule: &Rule, t: &crate::plan::rule::RuleTest, who: &str, minutes: u64) -> Option<Case> {
    (!(t.firing.is_empty() && t.healthy.is_empty())).then(|| Case {
        title: format!("{} stays quiet while {who} is healthy", rule.alert),
        alertname: rule.alert.clone(),
        eval_time: format!("{minutes}m"),
        input: with_count(&t.healthy, minutes),
        expected: vec![],
        scoped: None,
    })
}

pub(crate) fn cases(groups: &[&Group]) -> Result<Vec<Case>, RenderError> {
    let mut cases = Vec::new();
    for g in groups {
        for rule in &g.rules {
            let Some(t) = &rule.test else {
                continue; // an earlier rule of its shape carries the cases
            };
            let first = cases.len();
            let minutes = eval_minutes(&rule.for_);
            let eval_time = format!("{minutes}m");
            let who = &g.name;
            cases.push(Case {
                title: format!("{} fires for {who}", rule.alert),
                alertname: rule.alert.clone(),
                eval_time: eval_time.clone(),
                input: with_count(&t.firing, minutes),
                expected: vec![
                    expected(rule, &t.labels, t.value)
                        .map_err(|e| RenderError(format!("alert {}: {e}", rule.name)))?,
                ],
                scoped: None,
            });
            cases.extend(quiet(rule, t, who, minutes));
            if let Some(input) = recovery(t, minutes) {
                cases.push(Case {
                    title: format!("{} of {who} resolves once its series recover", rule.alert),
                    alertname: rule.alert.clone(),
                    eval_time: format!("{}m", minutes + RECOVERED_MINUTES),
                    input,
                    expected: vec![],
                    scoped: None,
                });
            }
            // Beside its own healthy series: a rule with an absent() branch
            // would fire without them, proving nothing about selection.
            let beside: Vec<Series> = t.healthy.iter().chain(&t.other_firing).cloned().collect();
            if !t.other_firing.is_empty() {
                cases.push(Case {
                    title: format!("{} of {who} ignores another target's series", rule.alert),
                    alertname: rule.alert.clone(),
                    eval_time: eval_time.clone(),
                    input: with_count(&beside, minutes),
                    expected: vec![],
                    scoped: None,
                });
            }
            if t.absent {
                // Only the rule's own labels: absent() keeps no series' labels
                // but the selector's equality matchers, which the rule sets too.
                cases.push(Case {
                    title: format!("{} fires when {who}'s series are absent", rule.alert),
                    alertname: rule.alert.clone(),
                    eval_time,
                    input: Vec::new(),
                    expected: vec![
                        // absent() is 1.
                        expected(rule, &absent_labels(rule, &t.labels), Some(1.0))
                            .map_err(|e| RenderError(format!("alert {}: {e}", rule.name)))?,
                    ],
                    scoped: None,
                });
                if has_namesakes(groups, rule) {
                    for c in &mut cases[first..] {
                        c.scoped = Some(scoped(rule, &c.expected)?);
                    }
                }
            }
        }
    }
    Ok(cases)
}

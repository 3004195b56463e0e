//! The alert rules, judged by promtool and by what their expressions select.

use crate::common::*;

use monitoring::plan::rule::Rule;

/// The contents of every `{…}` label selector of a PromQL expression, and every
/// metric name used without one.
fn selectors(expr: &str) -> (Vec<String>, Vec<String>) {
    const KEYWORDS: [&str; 26] = [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "and",
        "or",
        "unless",
        "offset",
        "inf",
        "nan",
        "le",
        // Aggregations, which may be followed by `by (…)` before their parenthesis.
        "sum",
        "min",
        "max",
        "avg",
        "count",
        "group",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
        "count_values",
    ];
    let chars: Vec<char> = expr.chars().collect();
    let (mut sels, mut bare) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = chars[i..].iter().find(|c| !c.is_whitespace()).copied();
            if matches!(word.as_str(), "by" | "without" | "on" | "ignoring") {
                // Skip the label list.
                while i < chars.len() && chars[i] != ')' {
                    i += 1;
                }
            } else if next != Some('(') && next != Some('{') && !KEYWORDS.contains(&word.as_str()) {
                bare.push(word);
            }
            continue;
        }
        if c == '"' {
            // A string argument (label_replace's names): not a metric.
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            continue;
        }
        if c == '{' {
            let start = i + 1;
            let mut in_str = false;
            while i < chars.len() {
                match chars[i] {
                    '\\' if in_str => i += 1,
                    '"' => in_str = !in_str,
                    '}' if !in_str => break,
                    _ => {}
                }
                i += 1;
            }
            sels.push(chars[start..i].iter().collect());
        } else if c == '[' {
            // A range or subquery duration: skip.
            while i < chars.len() && chars[i] != ']' {
                i += 1;
            }
        }
        i += 1;
    }
    (sels, bare)
}

/// Each selector of each rule must carry a matcher naming its own target. A
/// metric without the target's labels (the kubelet's volume stats: namespace
/// and claim only) may be scoped by `namespace` alone where the expression
/// keeps only what `and on (…)` joins to a selector scoped to the target.
fn assert_scoped(rule: &Rule, own: &[String], other: &str, namespace: Option<&str>) {
    let (sels, bare) = selectors(&rule.expr);
    assert!(
        bare.is_empty(),
        "{}: metrics without a selector {bare:?} in {}",
        rule.alert,
        rule.expr
    );
    assert!(
        !sels.is_empty(),
        "{}: no selector in {}",
        rule.alert,
        rule.expr
    );
    let joined = rule.expr.split("and on").skip(1).any(|rest| {
        selectors(rest)
            .0
            .first()
            .is_some_and(|s| own.iter().any(|o| s.contains(o.as_str())))
    });
    for sel in sels {
        if joined && namespace.is_some_and(|ns| sel.starts_with(&format!("namespace={ns}"))) {
            continue;
        }
        assert!(
            own.iter().any(|o| sel.contains(o.as_str())),
            "{}: selector {{{sel}}} is not scoped to {own:?}",
            rule.alert
        );
        assert!(
            !sel.contains(&format!("\"{other}\"")),
            "{}: selector {{{sel}}} names another service",
            rule.alert
        );
    }
}

#[test]
fn every_alert_expression_selects_only_its_own_target() {
    let mut checked = 0;
    for reg in registries() {
        let g =
            monitoring::generate(&reg, &root().join("templates")).unwrap_or_else(|e| panic!("{e}"));
        for s in &g.registry.services {
            let Some(group) = g.rules.services.get(&s.name) else {
                continue;
            };
            let other = g
                .registry
                .services
                .iter()
                .find(|o| o.name != s.name)
                .map_or("", |o| o.name.as_str());
            let q = |v: &str| {
                monitoring::templates::filters::promql(&minijinja::Value::from(v)).unwrap()
            };
            let mut own = vec![
                format!("service={}", q(&s.name)),
                format!("name={}", q(&s.name)),
            ];
            let pods =
                monitoring::templates::filters::re_escape(&minijinja::Value::from(s.name.as_str()))
                    .unwrap();
            if let Some(ns) = &s.namespace {
                own = vec![
                    format!("service={}", q(&s.name)),
                    format!(
                        "namespace={}, pod=~\"{}-",
                        q(ns),
                        pods.replace('\\', "\\\\")
                    ),
                    format!("namespace={}, deployment={}", q(ns), q(&s.name)),
                ];
            }
            if let Some(unit) = &s.unit {
                own.push(format!("name={}", q(unit)));
            }
            for rule in &group.rules {
                assert_scoped(rule, &own, other, s.namespace.as_deref().map(q).as_deref());
                checked += 1;
            }
        }
        let q =
            |v: &str| monitoring::templates::filters::promql(&minijinja::Value::from(v)).unwrap();
        // The platform's rules: a host's select its `host`; the prober's,
        // its probe jobs.
        for rule in g
            .rules
            .platform
            .iter()
            .chain(&g.rules.cluster_prober)
            .flat_map(|gr| &gr.rules)
        {
            let own = match rule.labels.get("host") {
                Some(h) => vec![format!("host={}", q(h))],
                None => vec!["job=~".to_owned()],
            };
            assert_scoped(rule, &own, "zz-no-other-host", None);
            checked += 1;
        }
        for p in &g.registry.pages {
            let groups = [g.rules.pages.get(&p.path), g.rules.page_apps.get(&p.path)];
            let own = [format!(
                "page={}",
                monitoring::templates::filters::promql(&minijinja::Value::from(p.path.as_str()))
                    .unwrap()
            )];
            for rule in groups.into_iter().flatten().flat_map(|gr| &gr.rules) {
                assert_scoped(rule, &own, "", None);
                checked += 1;
            }
        }
        for groups in g.slo.files.values() {
            for group in groups {
                // A service's shared SLO rules select its series by service.
                let shared = g.registry.objectives.iter().find(|o| {
                    group.name == monitoring::plan::slo_shared::group_name(o.service.as_deref())
                });
                if let Some(o) = shared {
                    let own = [format!("service={}", q(o.service.as_deref().unwrap_or("")))];
                    for rule in &group.rules {
                        assert_scoped(rule, &own, "zz-no-other-service", None);
                        checked += 1;
                    }
                    continue;
                }
                let o = g
                    .registry
                    .objectives
                    .iter()
                    .find(|o| group.name == monitoring::plan::slo::group_name(o))
                    .expect("objective");
                // Raw queries select what their author wrote; the recorded
                // series they feed carry the objective's labels.
                let own = match &o.events {
                    registry::Events::Http { method, path } => {
                        vec![format!("method={}, path={}", q(method), q(path))]
                    }
                    registry::Events::Queries(_) => o
                        .labels
                        .iter()
                        .map(|(k, v)| format!("{k}={}", q(v)))
                        .collect(),
                };
                for rule in &group.rules {
                    let mut rule = rule.clone();
                    // The author's own queries (the traffic floor over the
                    // long windows, the bad-events floor over the short ones)
                    // are theirs to scope.
                    if let registry::Events::Queries(q) = &o.events {
                        for w in ["1h", "6h", "1d", "3d", "5m", "30m", "2h"] {
                            // The slow query first: it may hold the total.
                            for query in [q.slow.as_ref(), Some(&q.error), Some(&q.total)]
                                .into_iter()
                                .flatten()
                            {
                                let query = registry::sli::with_window(query, w);
                                rule.expr = rule.expr.replace(&query, "vector(1)");
                            }
                        }
                    }
                    assert_scoped(&rule, &own, "", None);
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 40, "only {checked} rules checked");
}

#[test]
fn selector_extraction_sees_unscoped_expressions() {
    // The design document's own expressions: not scoped, so the check must fail them.
    let (sels, bare) = selectors("probe_success == 0");
    assert!(sels.is_empty() && bare == ["probe_success"]);
    let (sels, _) = selectors(
        r#"rate(http_requests_total{status=~"5.."}[5m]) / rate(http_requests_total[5m])"#,
    );
    assert_eq!(sels, [r#"status=~"5..""#]);
    let (_, bare) = selectors(r#"sum by (le) (rate(x{a="}"}[5m]))"#);
    assert!(bare.is_empty(), "{bare:?}");
    // label_replace's string arguments are no metrics; its input still is.
    let (sels, bare) =
        selectors(r#"label_replace(rate(x{a="b"}[5m]), "m", "$1", "y\"z", "(.*)") and w"#);
    assert_eq!(
        (sels, bare),
        (vec![r#"a="b""#.to_owned()], vec!["w".to_owned()])
    );
}

/// Every alert, SLO burn-rate alerts included, links its runbook when the
/// registry sets `defaults.runbook_base_url` (the example does).
#[test]
fn every_alert_has_a_runbook_url() {
    let g = monitoring::generate(&example(), &root().join("templates"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(g.registry.runbook_base_url.is_some());
    let groups = g.rules.services.values().chain(g.rules.pages.values());
    let slo_groups = g.slo.files.values().flatten();
    let mut n = 0;
    for group in groups.chain(slo_groups) {
        for rule in &group.rules {
            n += 1;
            let url = rule.annotations.get("runbook_url");
            assert!(
                url.is_some_and(|u| u.starts_with("https://")),
                "{} in {} has no runbook_url",
                rule.alert,
                group.name
            );
        }
    }
    assert!(n > 20, "only {n} rules");
}

//! API endpoints: unique (method, path) routes and their SLOs (availability as a
//! percentage or preset, latency, burn-rate tiers, minimum request rate).

use std::collections::BTreeMap;

use super::checker::{Cx, HTTP_METHODS, suggest};
use crate::burn_rate::{self, PRESETS, TIERS};
use crate::diagnostics::shown;
use serde_saphyr::Spanned;

use super::alerts::Entry;
use crate::catalogue::{Need, TargetKind};
use crate::failure_modes::{Facts, ModeCheck, Outcome};
use crate::sli::{self, Queries};
use crate::source::SourceFile;
use crate::{Endpoint, model, url};

pub(super) fn check_all(cx: &mut Cx) -> Vec<Endpoint> {
    let (sources, files) = (cx.sources, cx.files);
    let mut endpoints = Vec::new();
    let mut routes: BTreeMap<(String, String), String> = BTreeMap::new();
    for (fi, file) in files.iter().enumerate() {
        let src = &sources[fi];
        for (i, e) in file.api_endpoints.iter().enumerate() {
            let field = format!("api_endpoints[{i}]");
            check_route(cx, src, &e.value, &field, &mut routes);
            endpoints.push(check_endpoint(cx, src, &e.value, &field));
        }
    }
    endpoints
}

/// The path starts with `/`, the method is a known one, and the pair is unique.
fn check_route(
    cx: &mut Cx,
    src: &SourceFile,
    ep: &model::ApiEndpoint,
    field: &str,
    routes: &mut BTreeMap<(String, String), String>,
) {
    if !ep.path.value.starts_with('/') {
        cx.c.error(
            src,
            &ep.path,
            format!("{field}.path"),
            format!(
                "endpoint path {} does not start with `/`",
                shown(&ep.path.value)
            ),
            format!("write it as \"/{}\"", ep.path.value),
        );
    } else if let Some((message, help)) = url::path_problem(&ep.path.value) {
        cx.c.error(src, &ep.path, format!("{field}.path"), message, help);
    }
    let method = &ep.method;
    if !HTTP_METHODS.contains(&method.value.as_str()) {
        let upper = method.value.to_ascii_uppercase();
        let help = if HTTP_METHODS.contains(&upper.as_str()) {
            format!("write it in capitals: \"{upper}\"")
        } else {
            suggest(&upper, HTTP_METHODS, || {
                format!("use one of {}", HTTP_METHODS.join(", "))
            })
        };
        cx.c.error(
            src,
            method,
            format!("{field}.method"),
            format!("unknown HTTP method {}", shown(&method.value)),
            help,
        );
    }
    let key = (ep.path.value.clone(), method.value.clone());
    match routes.get(&key) {
        Some(first) => cx.c.error(
            src,
            &ep.path,
            format!("{field}.path"),
            format!(
                "endpoint {} {} is already defined at {first}",
                method.value, ep.path.value
            ),
            "each (method, path) may appear once",
        ),
        None => {
            routes.insert(key, format!("{}:{}", src.name, ep.path.referenced.line()));
        }
    }
}

fn check_endpoint(cx: &mut Cx, src: &SourceFile, ep: &model::ApiEndpoint, field: &str) -> Endpoint {
    let availability = availability(cx, src, ep.slo_availability.as_ref(), field);
    if let (Some(l), None) = (&ep.slo_latency_ms, availability)
        && ep.slo_availability.is_none()
    {
        cx.c.error(src, l, format!("{field}.slo_latency_ms"), "a latency objective needs `slo_availability`: the share of requests that must be faster".into(), "add slo_availability, such as 99.9 or a preset: critical, high, low");
    }
    let tiers = tiers(cx, src, ep.burn_rate_tiers.as_ref(), field);
    min_request_rate(cx, src, ep.min_request_rate.as_ref(), field);
    let queries = ep
        .sli
        .as_ref()
        .and_then(|q| queries(cx, src, q, field, ep.slo_latency_ms.is_some()));
    if let Some(l) = &ep.slo_latency_ms
        && !(l.value > 0.0 && l.value.is_finite())
    {
        cx.c.error(
            src,
            l,
            format!("{field}.slo_latency_ms"),
            format!("slo_latency_ms {} must be above 0", l.value),
            "write the latency objective in milliseconds, such as 500",
        );
    }
    latency_bucket(cx, src, ep, field, queries.is_some());
    if let Some(o) = &ep.owner {
        cx.check_owner(src, o, format!("{field}.owner"));
    }
    if let Some(s) = &ep.service {
        cx.check_service_ref(src, s, format!("{field}.service"));
    }
    let service = ep
        .service
        .as_ref()
        .map(|s| s.value.clone())
        .or_else(|| cx.default(|d| &d.api_service));
    // Its SLIs select the serving service's HTTP metrics: without one they
    // would select `service=""`, which nothing exports.
    if let (Some(a), None, None) = (&ep.slo_availability, &service, &queries) {
        cx.c.error(
            src,
            a,
            format!("{field}.service"),
            format!(
                "the SLO of {} {} reads its serving service's request metrics, and the endpoint names no service",
                ep.method.value, ep.path.value
            ),
            "set `service:` on the endpoint, or `defaults: {api_service: …}` for all of them",
        );
    }
    let modes = modes(cx, src, ep, field, availability.is_some());
    Endpoint {
        modes,
        path: ep.path.value.clone(),
        method: ep.method.value.clone(),
        critical: ep.critical,
        slo_latency_ms: ep.slo_latency_ms.as_ref().map(|s| s.value),
        slo_availability: availability,
        min_request_rate: ep.min_request_rate.as_ref().map(|r| r.value),
        tiers,
        queries,
        service,
        owner: ep
            .owner
            .as_ref()
            .map(|s| s.value.clone())
            .or_else(|| cx.default(|d| &d.api_owner)),
        source: src.name.clone(),
    }
}

/// The endpoint's failure modes, each caught by its SLO's burn of the error
/// or the latency budget, opted out with a reason, or undetected (warned).
fn modes(
    cx: &mut Cx,
    src: &SourceFile,
    ep: &model::ApiEndpoint,
    field: &str,
    slo: bool,
) -> Vec<ModeCheck> {
    let has = |_: Need| false;
    let entry = Entry {
        kind: TargetKind::Endpoint,
        has: &has,
        facts: Facts {
            health_command: None,
            https: false,
        },
        host: None,
        opt_out: ep.opt_out.as_ref(),
        at: &ep.path,
    };
    let opted = cx.c.opt_out(src, field, &entry);
    let checks: Vec<ModeCheck> =
        cx.c.catalogue
            .modes
            .iter()
            .filter(|m| m.matches(TargetKind::Endpoint, &entry.facts))
            .map(|m| {
                let alert = m.alerts[0].clone();
                let missing = match alert.as_str() {
                    "slo_availability" => (!slo).then_some("it has no SLO (`slo_availability`)"),
                    "slo_latency" => (!slo || ep.slo_latency_ms.is_none())
                        .then_some("it has no latency objective (`slo_latency_ms`)"),
                    _ => Some("its SLO rules raise only the error and latency budget burns"),
                };
                let outcome = match (opted.get(&m.mode.value), missing) {
                    (Some(reason), _) => Outcome::OptedOut {
                        reason: reason.clone(),
                    },
                    (None, None) => Outcome::Detected {
                        alerts: vec![alert],
                        baseline: true,
                    },
                    (None, Some(reason)) => Outcome::NotDetected {
                        reason: reason.into(),
                    },
                };
                ModeCheck {
                    mode: m.mode.value.clone(),
                    title: m.title.clone(),
                    outcome,
                }
            })
            .collect();
    cx.c.warn_undetected(src, field, &entry, &checks);
    checks
}

/// A latency objective over the HTTP histogram counts the requests below a
/// bucket boundary: where the registry states the applications' buckets, a
/// threshold that is not one of them has no series (450 ms between 250 and
/// 500): refused, not silently added.
fn latency_bucket(cx: &mut Cx, src: &SourceFile, ep: &model::ApiEndpoint, field: &str, raw: bool) {
    let Some(l) = &ep.slo_latency_ms else { return };
    let seconds = l.value / 1000.0;
    let buckets = &cx.settings.latency_buckets_seconds;
    if raw || !cx.settings.latency_buckets_declared || !(l.value > 0.0 && l.value.is_finite()) {
        return;
    }
    if !buckets.iter().any(|b| (b - seconds).abs() < 1e-9) {
        let near: Vec<String> = buckets.iter().map(|b| format!("{}", b * 1000.0)).collect();
        cx.c.error(
            src,
            l,
            format!("{field}.slo_latency_ms"),
            format!(
                "slo_latency_ms {} is not a bucket of `settings.latency_buckets_seconds`: the application exports no series for it",
                l.value
            ),
            format!("use one of the buckets ({} ms), or add {seconds} to the application's buckets and to the setting", near.join(", ")),
        );
    }
}

/// The burn-rate tiers that alert: all, or the ones listed.
pub(super) fn tiers(
    cx: &mut Cx,
    src: &SourceFile,
    listed: Option<&Spanned<Vec<String>>>,
    field: &str,
) -> Vec<String> {
    let mut tiers: Vec<String> = TIERS.iter().map(|t| t.name.to_owned()).collect();
    if let Some(t) = listed {
        for name in t.value.iter().filter(|n| !tiers.contains(n)) {
            cx.c.error(
                src,
                t,
                format!("{field}.burn_rate_tiers"),
                format!("unknown burn-rate tier {}", shown(name)),
                "tiers are fast, medium, slow and long",
            );
        }
        tiers.retain(|n| t.value.contains(n));
    }
    tiers
}

pub(super) fn min_request_rate(
    cx: &mut Cx,
    src: &SourceFile,
    r: Option<&Spanned<f64>>,
    field: &str,
) {
    if let Some(r) = r
        && !(r.value >= 0.0 && r.value.is_finite())
    {
        cx.c.error(
            src,
            r,
            format!("{field}.min_request_rate"),
            "min_request_rate must be a number of requests per second, 0 or more".into(),
            "such as 0.1",
        );
    }
}

/// Raw SLI queries: each one well formed, and a slow query exactly when
/// there is a latency objective.
/// The integer of the first `le="<integer>"` a query selects: Prometheus 3
/// normalises classic bucket boundaries to floats (`le="1.0"`).
fn integer_le(query: &str) -> Option<&str> {
    query.match_indices("le=\"").find_map(|(i, m)| {
        let rest = &query[i + m.len()..];
        let end = rest.find('"')?;
        let v = &rest[..end];
        (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())).then_some(v)
    })
}

pub(super) fn queries(
    cx: &mut Cx,
    src: &SourceFile,
    q: &Spanned<model::SliQueries>,
    field: &str,
    latency: bool,
) -> Option<Queries> {
    let v = &q.value;
    let mut ok = true;
    for (name, query) in [
        ("error_query", Some(&v.error_query)),
        ("total_query", Some(&v.total_query)),
        ("slow_query", v.slow_query.as_ref()),
    ] {
        if let Some(query) = query
            && let Some(le) = integer_le(&query.value)
        {
            ok = false;
            cx.c.error(
                src,
                query,
                format!("{field}.sli.{name}"),
                format!("{name} selects the bucket le=\"{le}\", which Prometheus 3 stores as le=\"{le}.0\": the query finds nothing there"),
                format!("match both spellings: le=~\"{le}|{le}\\\\.0\""),
            );
        }
        if let Some(query) = query
            && let Some(problem) = sli::query_problem(&query.value)
        {
            ok = false;
            cx.c.error(
                src,
                query,
                format!("{field}.sli.{name}"),
                format!("{problem}: {}", shown(&query.value)),
                format!(
                    "write a PromQL expression of events per second over `{}`, such as sum(rate(http_requests_total{{code=~\"5..\"}}[{}]))",
                    sli::WINDOW,
                    sli::WINDOW
                ),
            );
        }
    }
    match (&v.slow_query, latency) {
        (None, true) => {
            ok = false;
            cx.c.error(
                src,
                q,
                format!("{field}.sli"),
                "a latency objective with raw queries needs `slow_query`: the requests slower than the objective".into(),
                "add slow_query, or remove slo_latency_ms",
            );
        }
        (Some(s), false) => {
            ok = false;
            cx.c.error(
                src,
                s,
                format!("{field}.sli.slow_query"),
                "`slow_query` without a latency objective is never used".into(),
                "add slo_latency_ms, or remove slow_query",
            );
        }
        _ => {}
    }
    ok.then(|| Queries {
        error: v.error_query.value.trim().to_owned(),
        total: v.total_query.value.trim().to_owned(),
        slow: v.slow_query.as_ref().map(|s| s.value.trim().to_owned()),
    })
}

/// `slo_availability` as a percentage in (0, 100), from a number or a preset,
/// with warnings for objectives the burn-rate alerts cannot serve.
pub(super) fn availability(
    cx: &mut Cx,
    src: &SourceFile,
    at: Option<&Spanned<model::Availability>>,
    field: &str,
) -> Option<f64> {
    let at = at?;
    let f = format!("{field}.slo_availability");
    let a = match &at.value {
        model::Availability::Percent(p) if *p > 0.0 && *p < 100.0 => *p,
        model::Availability::Percent(p) => {
            cx.c.error(
                src,
                at,
                f,
                format!("slo_availability {p} is outside (0, 100)"),
                "write a percentage above 0 and below 100, such as 99.9",
            );
            return None;
        }
        model::Availability::Preset(name) => match PRESETS.iter().find(|(n, _)| n == name) {
            Some((_, p)) => *p,
            None => {
                let names = PRESETS.iter().map(|(n, _)| *n);
                let help = suggest(name, names.clone(), || {
                    format!(
                        "use a percentage or a preset: {}",
                        names.collect::<Vec<_>>().join(", ")
                    )
                });
                cx.c.error(
                    src,
                    at,
                    f,
                    format!("unknown availability preset {}", shown(name)),
                    help,
                );
                return None;
            }
        },
    };
    let (period, hours) = (&cx.settings.slo_period, cx.settings.slo_period_hours);
    let budget = (100.0 - a) / 100.0;
    if budget * burn_rate::factor(&TIERS[0], hours) >= 1.0 {
        cx.c.warn(
            src,
            at,
            "objectives whose fast tier can never fire",
            f.clone(),
            format!(
                "at {a}% the fast burn-rate tier can never fire: it needs an error ratio above 100%, so it gets no rule"
            ),
            "the slower tiers still alert; consider a stricter objective",
        );
    }
    let outage_seconds = budget * hours * 3600.0;
    if outage_seconds < 60.0 {
        cx.c.warn(src, at, "objectives a full outage spends in under a minute", f, format!("at {a}% a full outage spends the whole {period} error budget in {outage_seconds:.0} s"), "alerts cannot fire before the budget is gone; consider 99.99 or less");
    }
    Some(a)
}

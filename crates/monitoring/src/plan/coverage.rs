//! Monitoring coverage per dimension: covered count,
//! total, percentage and status (>= 90 % good, >= 70 % warning, else bad). An
//! empty registry or dimension is "n/a", never a division by zero. The same
//! numbers feed `generated/coverage.{md,json}`, the coverage dashboard and
//! `cargo xtask coverage`.

use serde::Serialize;

use registry::Registry;
use registry::settings::COVERAGE_DIMENSIONS;

pub(crate) const GOOD: f64 = 90.0;
pub(crate) const WARNING: f64 = 70.0;

#[derive(Debug, Clone, Serialize)]
pub struct Dimension {
    /// Stable key, such as `prometheus` or `page_web_vitals`.
    pub key: &'static str,
    pub title: &'static str,
    /// `services`, `pages` or `api_endpoints`.
    pub group: &'static str,
    pub covered: usize,
    pub total: usize,
    /// `None` when the dimension is empty.
    pub percent: Option<f64>,
    /// `good`, `warning`, `bad` or `n/a`.
    pub status: &'static str,
    pub not_covered: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub dimensions: Vec<Dimension>,
    /// Mean of the dimensions that are not n/a.
    pub overall: Option<f64>,
    pub overall_status: &'static str,
}

pub fn status(percent: Option<f64>) -> &'static str {
    match percent {
        None => "n/a",
        Some(p) if p >= GOOD => "good",
        Some(p) if p >= WARNING => "warning",
        Some(_) => "bad",
    }
}

/// Rounded to two decimals so text and JSON agree on every machine.
fn percent(covered: usize, total: usize) -> Option<f64> {
    (total > 0).then(|| (covered as f64 * 10_000.0 / total as f64).round() / 100.0)
}

fn dimension<T>(
    key: &'static str,
    group: &'static str,
    items: &[T],
    name: impl Fn(&T) -> String,
    covered: impl Fn(&T) -> bool,
) -> Dimension {
    let not_covered: Vec<String> = items.iter().filter(|i| !covered(i)).map(name).collect();
    let total = items.len();
    let covered = total - not_covered.len();
    let p = percent(covered, total);
    let title = COVERAGE_DIMENSIONS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(key, |(_, t)| t);
    Dimension {
        key,
        title,
        group,
        covered,
        total,
        percent: p,
        status: status(p),
        not_covered,
    }
}

/// Every (entry, failure mode) of the registry and whether an alert detects
/// it: services, pages, hosts, the prober, and endpoints (by their SLOs). An
/// opted-out mode is not detected; the plan shows the reason.
fn failure_modes(reg: &Registry) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    let mut add = |entry: String, modes: &[registry::failure_modes::ModeCheck]| {
        for m in modes {
            out.push((entry.clone(), m.mode.clone(), m.detected()));
        }
    };
    for s in &reg.services {
        add(format!("service {}", s.name), &s.modes);
    }
    for p in &reg.pages {
        add(format!("page {}", p.path), &p.modes);
    }
    for h in &reg.platform.hosts {
        add(format!("host {}", h.name), &h.modes);
    }
    if let Some(p) = &reg.platform.prober {
        add("prober".to_owned(), &p.modes);
    }
    for e in &reg.endpoints {
        add(format!("endpoint {} {}", e.method, e.path), &e.modes);
    }
    add("monitoring".to_owned(), &reg.platform.monitoring.modes);
    out
}

pub fn compute(reg: &Registry) -> Coverage {
    let s = &reg.services;
    let sname = |x: &registry::Service| x.name.clone();
    let pname = |p: &registry::Page| p.path.clone();
    let dims = vec![
        dimension("prometheus", "services", s, sname, |x| {
            x.monitoring.prometheus
        }),
        dimension("sentry", "services", s, sname, |x| x.monitoring.sentry),
        dimension("otel", "services", s, sname, |x| x.monitoring.otel),
        dimension("langfuse", "services", s, sname, |x| x.monitoring.langfuse),
        dimension("alerts", "services", s, sname, |x| !x.alerts.is_empty()),
        dimension("page_sentry_session", "pages", &reg.pages, pname, |p| {
            p.sentry_session
        }),
        dimension("page_web_vitals", "pages", &reg.pages, pname, |p| {
            p.web_vitals
        }),
        dimension(
            "api_slo",
            "api_endpoints",
            &reg.endpoints,
            |e| format!("{} {}", e.method, e.path),
            |e| e.slo_availability.is_some() || e.slo_latency_ms.is_some(),
        ),
    ];
    let mut dims = dims;
    dims.push(dimension(
        "failure_modes",
        "failure modes",
        &failure_modes(reg),
        |(entry, mode, _)| format!("{entry}: {mode}"),
        |(_, _, detected)| *detected,
    ));
    // Only the dimensions the registry counts (`settings.coverage_dimensions`).
    let dims: Vec<Dimension> = dims
        .into_iter()
        .filter(|d| reg.settings.coverage_dimensions.iter().any(|k| k == d.key))
        .collect();
    let known: Vec<f64> = dims.iter().filter_map(|d| d.percent).collect();
    let overall = (!known.is_empty())
        .then(|| (known.iter().sum::<f64>() / known.len() as f64 * 100.0).round() / 100.0);
    Coverage {
        dimensions: dims,
        overall,
        overall_status: status(overall),
    }
}

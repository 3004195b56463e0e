//! OpenSLO `SLO` documents (v1, and the v1alpha Sloth reads) with ratio
//! metrics: good or bad events over total become `slos:` entries. Threshold
//! SLIs, time windows other than the registry's period and time-slice
//! budgeting are reported as left out.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Import, Imported, name, over_window, text};

pub(crate) fn import(docs: &[(String, Vec<Value>)]) -> Import {
    let mut out = Import::default();
    // Indicators defined once and referenced by name (`indicatorRef`).
    let slis: BTreeMap<&str, &Value> = docs
        .iter()
        .flat_map(|(_, v)| v)
        .filter(|d| text(d, "kind") == Some("SLI"))
        .filter_map(|d| Some((text(d.get("metadata")?, "name")?, d)))
        .collect();
    for (file, values) in docs {
        for doc in values {
            let api = text(doc, "apiVersion").unwrap_or("");
            if !api.starts_with("openslo/") {
                out.skip(
                    file,
                    "a document that is not OpenSLO (`apiVersion: openslo/…`)",
                );
                continue;
            }
            match text(doc, "kind") {
                Some("SLO") => slo(file, doc, &slis, &mut out),
                Some("SLI") => {}
                Some(kind) => out.skip(file, format!("kind {kind} (only SLOs are imported; services, alerts and data sources come from the registry)")),
                None => out.skip(file, "a document without `kind`"),
            }
        }
    }
    out
}

fn slo(file: &str, doc: &Value, slis: &BTreeMap<&str, &Value>, out: &mut Import) {
    let raw_name = doc
        .get("metadata")
        .and_then(|m| text(m, "name"))
        .unwrap_or("unnamed");
    let at = format!("{file}: SLO {raw_name}");
    let Some(spec) = doc.get("spec") else {
        out.left_out.push(format!("{at}: no `spec`, not imported"));
        return;
    };
    let Some(service) = text(spec, "service") else {
        out.left_out
            .push(format!("{at}: no `service`, not imported"));
        return;
    };
    note_windows(spec, &at, out);
    let Some(shared) = shared_ratio(spec, slis, &at, out) else {
        return;
    };
    let objectives: Vec<&Value> = spec
        .get("objectives")
        .and_then(Value::as_array)
        .map(|o| o.iter().collect())
        .unwrap_or_default();
    let several = objectives.len() > 1;
    for (i, o) in objectives.iter().enumerate() {
        let Some(ratio) = shared.or_else(|| o.get("ratioMetrics")) else {
            out.left_out.push(format!(
                "{at}: objective {}: not imported: no ratio metrics",
                i + 1
            ));
            continue;
        };
        let Some(availability) = target(o) else {
            out.left_out.push(format!(
                "{at}: objective {}: no target, not imported",
                i + 1
            ));
            continue;
        };
        let (Some(total), events) = (query(ratio.get("total")), bad_events(ratio)) else {
            out.left_out.push(format!(
                "{at}: objective {}: no total query, not imported",
                i + 1
            ));
            continue;
        };
        let Some(error) = events else {
            out.left_out.push(format!(
                "{at}: objective {}: no good or bad query, not imported",
                i + 1
            ));
            continue;
        };
        let mut slo_name = name(raw_name);
        if several {
            let label = text(o, "displayName").map_or_else(|| format!("{}", i + 1), name);
            slo_name = format!("{slo_name}-{label}");
        }
        out.push(
            file,
            Imported {
                name: slo_name,
                service: name(service),
                owner: None,
                description: text(spec, "description").map(str::to_owned),
                availability,
                error_query: error,
                total_query: over_window(&total),
                tiers: None,
            },
        );
    }
}

/// v1: one indicator's ratio metric for all objectives (`Some(Some(..))`);
/// v1alpha: ratio metrics per objective (`Some(None)`); a threshold SLI
/// cannot be imported (`None`, noted).
fn shared_ratio<'a>(
    spec: &'a Value,
    slis: &BTreeMap<&str, &'a Value>,
    at: &str,
    out: &mut Import,
) -> Option<Option<&'a Value>> {
    let indicator = spec
        .get("indicator")
        .or_else(|| text(spec, "indicatorRef").and_then(|r| slis.get(r).copied()));
    let shared = indicator
        .and_then(|i| i.get("spec"))
        .and_then(|s| s.get("ratioMetric"));
    if indicator.is_some() && shared.is_none() {
        out.left_out.push(format!(
            "{at}: not imported: a threshold SLI (only ratio metrics have events to count)"
        ));
        return None;
    }
    Some(shared)
}

/// What the import does not carry: time windows (one SLO period here) and a
/// budgeting method other than counting events.
fn note_windows(spec: &Value, at: &str, out: &mut Import) {
    for w in spec
        .get("timeWindow")
        .or_else(|| spec.get("timeWindows"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let span = text(w, "duration").map(str::to_owned).unwrap_or_else(|| {
            format!(
                "{}{}",
                w.get("count").and_then(Value::as_u64).unwrap_or(0),
                text(w, "unit").unwrap_or("")
            )
        });
        out.left_out.push(format!(
            "{at}: time window {span} (every SLO here uses settings.slo_period)"
        ));
    }
    if let Some(m) = text(spec, "budgetingMethod").filter(|m| *m != "Occurrences") {
        out.left_out.push(format!(
            "{at}: budgeting method {m} (imported as Occurrences: bad events over all events)"
        ));
    }
}

/// The objective as a percentage: `target` (a ratio) or `targetPercent`.
fn target(o: &Value) -> Option<f64> {
    match (
        o.get("target").and_then(Value::as_f64),
        o.get("targetPercent").and_then(Value::as_f64),
    ) {
        (Some(t), _) => Some((t * 100.0 * 1e9).round() / 1e9),
        (None, p) => p,
    }
}

/// The bad events: `bad` itself, or total minus good.
fn bad_events(ratio: &Value) -> Option<String> {
    if let Some(bad) = query(ratio.get("bad")) {
        return Some(over_window(&bad));
    }
    let good = query(ratio.get("good"))?;
    let total = query(ratio.get("total"))?;
    Some(format!(
        "({}) - ({})",
        over_window(&total),
        over_window(&good)
    ))
}

/// A metric's query: v1 `metricSource.spec.query` (or `promql`), v1alpha `query`.
fn query(m: Option<&Value>) -> Option<String> {
    let m = m?;
    let spec = m.get("metricSource").and_then(|s| s.get("spec"));
    spec.and_then(|s| text(s, "query").or_else(|| text(s, "promql")))
        .or_else(|| text(m, "query"))
        .map(str::to_owned)
}

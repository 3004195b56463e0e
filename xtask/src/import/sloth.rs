//! Sloth's `prometheus/v1` specs (and its `PrometheusServiceLevel` Kubernetes
//! resource): event SLIs become `slos:` entries; raw ratio and plugin SLIs,
//! alert names, labels and annotations are reported as left out.

use serde_json::Value;

use super::{Import, Imported, name, text};

pub(crate) fn import(docs: &[(String, Vec<Value>)]) -> Import {
    let mut out = Import::default();
    for (file, values) in docs {
        for doc in values {
            let spec = match (text(doc, "version"), text(doc, "kind")) {
                (Some("prometheus/v1"), _) => doc,
                (_, Some("PrometheusServiceLevel")) => match doc.get("spec") {
                    Some(s) => s,
                    None => {
                        out.skip(file, "a PrometheusServiceLevel without `spec`");
                        continue;
                    }
                },
                _ => {
                    out.skip(
                        file,
                        "a document that is not a Sloth spec (`version: prometheus/v1`)",
                    );
                    continue;
                }
            };
            spec_slos(file, spec, &mut out);
        }
    }
    out
}

fn spec_slos(file: &str, spec: &Value, out: &mut Import) {
    let Some(service) = text(spec, "service") else {
        out.skip(file, "a spec without `service`");
        return;
    };
    let spec_labels = spec.get("labels");
    for slo in spec
        .get("slos")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let raw_name = text(slo, "name").unwrap_or("unnamed");
        let at = format!("{file}: SLO {raw_name}");
        let Some(objective) = slo.get("objective").and_then(Value::as_f64) else {
            out.left_out
                .push(format!("{at}: no numeric `objective`, not imported"));
            continue;
        };
        let sli = slo.get("sli");
        let events = sli.and_then(|s| s.get("events"));
        let (Some(error), Some(total)) = (
            // The Kubernetes resource spells them in camelCase.
            events.and_then(|e| text(e, "error_query").or_else(|| text(e, "errorQuery"))),
            events.and_then(|e| text(e, "total_query").or_else(|| text(e, "totalQuery"))),
        ) else {
            let kind = if sli.and_then(|s| s.get("raw")).is_some() {
                // Sloth's raw SLI is a ratio, without events.
                "a raw error-ratio SLI (its bad and total events are unknown, so the period figures could not weigh by traffic)"
            } else if sli.and_then(|s| s.get("plugin")).is_some() {
                "a plugin SLI (its queries are made by Sloth at generation time)"
            } else {
                "an SLI without events"
            };
            out.left_out.push(format!("{at}: not imported: {kind}"));
            continue;
        };
        let mut owner = None;
        for labels in [spec_labels, slo.get("labels")].into_iter().flatten() {
            for (k, v) in labels.as_object().into_iter().flatten() {
                let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                if k == "owner" {
                    owner = Some(name(&v));
                } else {
                    out.left_out.push(format!("{at}: label {k}={v} (series and alerts here carry service, owner and the SLO's identity)"));
                }
            }
        }
        let tiers = alerting(&at, slo.get("alerting"), out);
        let slo_name = name(raw_name);
        if slo_name != raw_name {
            out.left_out.push(format!(
                "{at}: renamed to {slo_name} (registry names are lowercase letters, digits and `-`)"
            ));
        }
        out.push(
            file,
            Imported {
                name: slo_name,
                service: name(service),
                owner,
                description: text(slo, "description").map(str::to_owned),
                availability: objective,
                error_query: error.trim().to_owned(),
                total_query: total.trim().to_owned(),
                tiers,
            },
        );
    }
}

/// The tiers that stay: page is fast and medium, ticket slow and long.
fn alerting(at: &str, a: Option<&Value>, out: &mut Import) -> Option<Vec<&'static str>> {
    let a = a?;
    if let Some(n) = text(a, "name") {
        out.left_out.push(format!("{at}: alert name {n} (SLO alerts here are SLOErrorBudgetBurn, told apart by service and slo_name)"));
    }
    for key in ["labels", "annotations"] {
        if a.get(key)
            .and_then(Value::as_object)
            .is_some_and(|m| !m.is_empty())
        {
            out.left_out.push(format!(
                "{at}: alerting {key} (routing here is by owner team)"
            ));
        }
    }
    let disabled = |k: &str| {
        let camel = if k == "page_alert" {
            "pageAlert"
        } else {
            "ticketAlert"
        };
        a.get(k)
            .or_else(|| a.get(camel))
            .and_then(|p| p.get("disable"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let mut tiers = Vec::new();
    if !disabled("page_alert") {
        tiers.extend(["fast", "medium"]);
    }
    if !disabled("ticket_alert") {
        tiers.extend(["slow", "long"]);
    }
    (tiers.len() < 4).then_some(tiers)
}

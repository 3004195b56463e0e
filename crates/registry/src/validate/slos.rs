//! `slos:`: SLOs over raw queries, named per service (what the importers
//! write). They share the endpoints' checks of objective, tiers and queries.

use std::collections::BTreeMap;

use super::checker::Cx;
use super::endpoints::{availability, min_request_rate, queries, tiers};
use crate::diagnostics::shown;
use crate::{Events, Objective};

pub(super) fn check_all(cx: &mut Cx) -> Vec<Objective> {
    let (sources, files) = (cx.sources, cx.files);
    let mut out = Vec::new();
    let mut seen: BTreeMap<(String, String), String> = BTreeMap::new();
    for (fi, file) in files.iter().enumerate() {
        let src = &sources[fi];
        for (i, s) in file.slos.iter().enumerate() {
            let field = format!("slos[{i}]");
            let slo = &s.value;
            cx.c.name(src, &slo.name, format!("{field}.name"), "SLO name");
            cx.check_service_ref(src, &slo.service, format!("{field}.service"));
            if let Some(o) = &slo.owner {
                cx.check_owner(src, o, format!("{field}.owner"));
            }
            let key = (slo.service.value.clone(), slo.name.value.clone());
            let here = format!("{}:{}", src.name, slo.name.referenced.line());
            if let Some(first) = seen.get(&key) {
                cx.c.error(
                    src,
                    &slo.name,
                    format!("{field}.name"),
                    format!(
                        "SLO {} of service {} is already defined at {first}",
                        shown(&slo.name.value),
                        shown(&slo.service.value)
                    ),
                    "each SLO name may appear once per service",
                );
            } else {
                seen.insert(key, here);
            }
            let availability = availability(cx, src, Some(&slo.slo_availability), &field);
            let tiers = tiers(cx, src, slo.burn_rate_tiers.as_ref(), &field);
            min_request_rate(cx, src, slo.min_request_rate.as_ref(), &field);
            let q = queries(cx, src, &slo.sli, &field, false);
            let (Some(availability), Some(q)) = (availability, q) else {
                continue;
            };
            let owner = slo.owner.as_ref().map(|o| o.value.clone());
            out.push(Objective {
                key: format!("{} {}", slo.service.value, slo.name.value),
                labels: BTreeMap::from([
                    ("service".to_owned(), slo.service.value.clone()),
                    ("slo_name".to_owned(), slo.name.value.clone()),
                ]),
                service: Some(slo.service.value.clone()),
                owner,
                availability,
                latency_ms: None,
                events: Events::Queries(q),
                min_request_rate: slo.min_request_rate.as_ref().map(|r| r.value),
                tiers,
                source: src.name.clone(),
                description: slo.description.clone(),
            });
        }
    }
    out
}

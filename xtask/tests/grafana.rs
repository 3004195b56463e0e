//! Grafana dashboards: Grafana's own dashboard schema, unique panel ids, stable
//! short uids, a datasource variable, and queries promtool can parse.

mod common;
use common::openapi::validate_in;
use common::*;

use serde_json::Value;
use std::collections::BTreeSet;

fn dashboards(reg: &std::path::Path) -> Vec<(String, Value)> {
    let g = xtask::generate(reg, &root().join("templates")).unwrap_or_else(|e| panic!("{e}"));
    g.outputs
        .iter()
        .filter(|o| o.path.starts_with("grafana/dashboards/"))
        .map(|o| {
            (
                o.path.clone(),
                serde_json::from_str(&o.contents).unwrap_or_else(|e| panic!("{}: {e}", o.path)),
            )
        })
        .collect()
}

#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus; `.ci/run --install-only` installs it)"
)]
fn dashboards_match_grafanas_schema_and_conventions() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("xtask/tests/data/schemas/grafana-dashboard.jsonschema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut exprs = Vec::new();
    for reg in registries() {
        let ds = dashboards(&reg);
        assert!(ds.len() >= 3, "team, SLO and coverage dashboards expected");
        let mut uids = BTreeSet::new();
        for (path, d) in ds {
            let mut errs = Vec::new();
            validate_in(&schema, &schema, &d, "", &mut errs);
            assert!(
                errs.is_empty(),
                "{path} does not match Grafana's dashboard schema:\n{}",
                errs.join("\n")
            );
            let uid = d["uid"].as_str().unwrap();
            assert!(
                uid.len() <= 40 && uids.insert(uid.to_owned()),
                "{path}: uid {uid} too long or repeated"
            );
            assert!(!d["title"].as_str().unwrap().is_empty());
            assert!(d["schemaVersion"].as_u64().unwrap() >= 39);
            assert_eq!(d["templating"]["list"][0]["type"], "datasource");
            let mut ids = BTreeSet::new();
            for p in d["panels"].as_array().unwrap() {
                assert!(
                    ids.insert(p["id"].as_u64().unwrap()),
                    "{path}: panel id {} repeated",
                    p["id"]
                );
                for t in p["targets"].as_array().into_iter().flatten() {
                    assert_eq!(
                        t["datasource"]["uid"], "${datasource}",
                        "{path}: a fixed datasource"
                    );
                    exprs.push((path.clone(), t["expr"].as_str().unwrap().to_owned()));
                }
            }
        }
    }
    assert!(exprs.len() > 50);
    if require_tool("promtool", "prometheus") {
        // promtool parses every query as a recording rule's expression.
        let t = TempDir::new("grafana-promql");
        let mut rules = String::from("groups:\n  - name: dashboard-queries\n    rules:\n");
        for (i, (_, e)) in exprs.iter().enumerate() {
            rules.push_str(&format!(
                "      - record: dashboard_query_{i}\n        expr: {}\n",
                serde_json::to_string(e).unwrap()
            ));
        }
        std::fs::write(t.join("q.yml"), rules).unwrap();
        let out = std::process::Command::new("promtool")
            .args(["check", "rules", &t.join("q.yml").to_string_lossy()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "a dashboard query does not parse:\n{}",
            text(&out)
        );
    }
}

#[test]
fn uids_stay_short_and_unique_for_long_names() {
    let long_a = format!("{}a", "x".repeat(62));
    let long_b = format!("{}b", "x".repeat(62));
    let (a, b) = (
        xtask::render::grafana::uid("team", &long_a),
        xtask::render::grafana::uid("team", &long_b),
    );
    assert_eq!(long_a.len(), 63);
    assert!(a.len() <= 40 && b.len() <= 40, "{a} {b}");
    assert_ne!(a, b);
    // Names that slug alike stay apart too.
    assert_ne!(
        xtask::render::grafana::uid("team", "a.b"),
        xtask::render::grafana::uid("team", "a-b")
    );
    // And the same name always gives the same uid.
    assert_eq!(
        xtask::render::grafana::uid("team", "backend-team"),
        xtask::render::grafana::uid("team", "backend-team")
    );
}

#[test]
fn schema_validation_rejects_a_wrong_dashboard() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("xtask/tests/data/schemas/grafana-dashboard.jsonschema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let bad = serde_json::json!({"title": "x", "schemaVersion": "41", "annotations": {}, "templating": {}, "tilte": 1});
    let mut errs = Vec::new();
    validate_in(&schema, &schema, &bad, "", &mut errs);
    assert!(errs.iter().any(|e| e.contains("schemaVersion")), "{errs:?}");
    assert!(errs.iter().any(|e| e.contains("tilte")), "{errs:?}");
}

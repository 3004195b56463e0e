//! Grafana dashboards: Grafana's own dashboard schema, unique panel ids, stable
//! short uids, a datasource variable, and queries promtool can parse.

use crate::common::openapi::validate_in;
use crate::common::*;

use serde_json::Value;
use std::collections::BTreeSet;

fn dashboards(reg: &std::path::Path) -> Vec<(String, Value)> {
    let g = monitoring::generate(reg, &root().join("templates")).unwrap_or_else(|e| panic!("{e}"));
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
                serde_json::to_string(&with_sample_values(e)).unwrap()
            ));
        }
        std::fs::write(t.join("q.yml"), rules).unwrap();
        promtool_ok(
            ["check", "rules", "q.yml"],
            Some(t.path()),
            "a dashboard query does not parse",
        );
    }
}

/// A query as Grafana sends it: the variables the dashboards use replaced by
/// values of their kind.
fn with_sample_values(expr: &str) -> String {
    expr.replace("$__rate_interval", "5m")
        .replace("$service", "svc-1")
        .replace("$slo", "error")
}

#[test]
fn sample_values_replace_every_variable() {
    for reg in registries() {
        for (path, d) in dashboards(&reg) {
            let mut vars: Vec<String> = d["templating"]["list"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["name"].as_str().unwrap().to_owned())
                .collect();
            vars.push("__rate_interval".into());
            for p in d["panels"].as_array().unwrap() {
                for t in p["targets"].as_array().into_iter().flatten() {
                    let e = with_sample_values(t["expr"].as_str().unwrap());
                    assert!(!e.contains('$'), "{path}: a variable is left in {e}");
                }
                if let Some(r) = p["repeat"].as_str() {
                    assert!(vars.iter().any(|v| v == r), "{path}: repeats unknown ${r}");
                }
            }
        }
    }
}

/// Dashboards read what the rules record: the SLO dashboard only the SLO
/// metadata and info series, so it shows every SLO whatever its origin.
#[test]
fn the_slo_dashboard_reads_only_the_metadata_series() {
    let ds = dashboards(&example());
    let (_, slo) = ds.iter().find(|(p, _)| p.ends_with("/slo.json")).unwrap();
    let mut n = 0;
    for p in slo["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().into_iter().flatten() {
            let e = t["expr"].as_str().unwrap();
            for name in metric_names(e) {
                n += 1;
                assert!(
                    name.starts_with("slo:") || name == "slo_info",
                    "the SLO dashboard reads {name} in {e}"
                );
            }
        }
    }
    assert!(n >= 5, "{n} series read");
}

/// The metric names a query selects (identifiers right before `{`).
fn metric_names(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = expr.as_bytes();
    for (i, c) in b.iter().enumerate() {
        if *c == b'{' {
            let start = b[..i]
                .iter()
                .rposition(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b':'))
                .map_or(0, |p| p + 1);
            if start < i {
                out.push(expr[start..i].to_owned());
            }
        }
    }
    out
}

/// A registry of `n` services of one team, and `n` API endpoints with SLOs.
fn sized_registry(n: usize) -> TempDir {
    let t = TempDir::new("sized");
    let mut y = String::from("services:\n");
    for i in 0..n {
        y.push_str(&format!("  - name: svc-{i}\n    type: docker\n    host: 127.0.0.1\n    port: {}\n    health_endpoint: /health\n    monitoring: {{prometheus: true}}\n    owner: team-a\n", 1024 + i % 60000));
    }
    y.push_str("api_endpoints:\n");
    for i in 0..n {
        y.push_str(&format!("  - path: /api/e-{i}\n    method: GET\n    slo_availability: 99.9\n    slo_latency_ms: 300\n    service: svc-0\n"));
    }
    y.push_str("teams:\n  team-a: {webhook_url: \"http://127.0.0.1:9095/a\"}\n");
    std::fs::write(t.join("r.yaml"), y).unwrap();
    t
}

fn dashboard_sizes(reg: &std::path::Path) -> std::collections::BTreeMap<String, usize> {
    let templates = root().join("templates");
    let (registry, catalogue, _) =
        monitoring::load(reg, &templates).unwrap_or_else(|e| panic!("{e}"));
    let renderer = monitoring::templates::Renderer::new(&templates, &catalogue).unwrap();
    let coverage = monitoring::plan::coverage::compute(&registry);
    let ds = monitoring::plan::dashboards::dashboards(&registry, &coverage);
    monitoring::artefacts::grafana::files(&renderer, &registry, &ds)
        .unwrap()
        .into_iter()
        .filter(|o| o.path.starts_with("grafana/dashboards/team-") || o.path.ends_with("/slo.json"))
        .map(|o| (o.path, o.contents.len()))
        .collect()
}

/// Grafana cannot use a dashboard with a row per service or per endpoint: the
/// team and SLO dashboards are the same size for 10 and 10,000 of them.
#[test]
fn dashboards_stay_the_same_size_at_any_scale() {
    let small = dashboard_sizes(sized_registry(10).path());
    let large = dashboard_sizes(sized_registry(10_000).path());
    assert_eq!(
        small.keys().collect::<Vec<_>>(),
        large.keys().collect::<Vec<_>>()
    );
    assert_eq!(small.len(), 2, "{small:?}");
    for (path, n) in &small {
        let big = large[path];
        assert!(
            (big as f64) <= (*n as f64) * 1.1,
            "{path}: {n} bytes for 10, {big} bytes for 10,000"
        );
    }
}

#[test]
fn uids_stay_short_and_unique_for_long_names() {
    let long_a = format!("{}a", "x".repeat(62));
    let long_b = format!("{}b", "x".repeat(62));
    let (a, b) = (
        monitoring::plan::dashboards::uid("team", &long_a),
        monitoring::plan::dashboards::uid("team", &long_b),
    );
    assert_eq!(long_a.len(), 63);
    assert!(a.len() <= 40 && b.len() <= 40, "{a} {b}");
    assert_ne!(a, b);
    // Names that slug alike stay apart too.
    assert_ne!(
        monitoring::plan::dashboards::uid("team", "a.b"),
        monitoring::plan::dashboards::uid("team", "a-b")
    );
    // And the same name always gives the same uid.
    assert_eq!(
        monitoring::plan::dashboards::uid("team", "backend-team"),
        monitoring::plan::dashboards::uid("team", "backend-team")
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

/// Every text outside the inline-code spans of a markdown line.
fn outside_code(md: &str) -> String {
    let mut out = String::new();
    let mut rest = md;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let run = rest[start..].len() - rest[start..].trim_start_matches('`').len();
        let fence = &rest[start..start + run];
        let after = &rest[start + run..];
        match after.find(fence) {
            Some(end) => rest = &after[end + run..],
            None => return out + &rest[start..],
        }
    }
    out + rest
}

/// Registry strings in a Grafana text panel are data: a page path shaped as
/// a markdown link or as HTML is shown as code, never rendered.
#[test]
fn registry_strings_in_text_panels_are_code_not_markdown() {
    let t = TempDir::new("markdown");
    let hostile = [
        "/l [x](https://evil.example/login)",
        "/<img src=x onerror=alert(1)>",
        "/``code` ``",
    ];
    let pages: String = hostile
        .iter()
        .enumerate()
        .map(|(i, p)| format!("  - {{path: '{p}', name: p{i}, owner: t}}\n"))
        .collect();
    std::fs::write(
        t.join("r.yaml"),
        format!("pages:\n{pages}teams:\n  t: {{webhook_url: 'http://127.0.0.1:1/t'}}\n"),
    )
    .unwrap();
    let boards = dashboards(t.path());
    let coverage = &boards
        .iter()
        .find(|(n, _)| n.contains("coverage"))
        .unwrap()
        .1;
    let text = coverage["panels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == "text")
        .and_then(|p| p["options"]["content"].as_str())
        .unwrap()
        .to_owned();
    let bare = outside_code(&text);
    for p in hostile {
        assert!(
            text.contains(p.trim_matches('`')),
            "{p} missing from {text}"
        );
    }
    for bad in ["](", "<img", "evil"] {
        assert!(
            !bare.contains(bad),
            "{bad:?} outside a code span in:\n{text}"
        );
    }
}

/// At 3 a.m. a panel's colour is read before its number: what is down, spent
/// or burning is red. Before, no panel set thresholds (Grafana's default is
/// green), so "Probe success" was green at 0 and the budget green at -4900 %;
/// "Targets up" showed a blank, not 0, when none was down.
#[test]
fn what_pages_is_red_at_a_glance_and_zero_is_shown() {
    for reg in registries() {
        for (name, d) in dashboards(&reg) {
            for p in d["panels"].as_array().unwrap() {
                let exprs: Vec<&str> = p["targets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t["expr"].as_str())
                    .collect();
                let reads = |m: &str| exprs.iter().any(|e| e.contains(m));
                let steps = &p["fieldConfig"]["defaults"]["thresholds"]["steps"];
                let colour_at = |v: f64| {
                    steps
                        .as_array()
                        .into_iter()
                        .flatten()
                        .rfind(|s| s["value"].as_f64().is_none_or(|x| x <= v))
                        .and_then(|s| s["color"].as_str())
                        .unwrap_or("green (Grafana's default)")
                        .to_owned()
                };
                let title = p["title"].as_str().unwrap_or("");
                let checks: &[(f64, &str)] =
                    if p["type"] == "stat" && (reads("probe_success") || reads("min(up")) {
                        &[(0.0, "red"), (0.5, "red"), (1.0, "green")]
                    } else if reads("period_error_budget_remaining") {
                        &[(-49.0, "red"), (0.1, "orange"), (0.9, "green")]
                    } else if reads("burn_rate") {
                        &[(0.5, "green"), (14.4, "red")]
                    } else {
                        &[]
                    };
                for (v, want) in checks {
                    assert_eq!(&colour_at(*v), want, "{name}: {title} at {v}");
                }
                for e in exprs.iter().filter(|e| e.starts_with("count(")) {
                    assert!(
                        e.ends_with("or vector(0)"),
                        "{name}: {title}: {e} shows a blank for 0"
                    );
                }
            }
        }
    }
}

/// Each dashboard links to the others (team, SLO, coverage) through the tag
/// they all carry: before, no dashboard linked to anything.
#[test]
fn every_dashboard_links_to_the_others() {
    for reg in registries() {
        let all = dashboards(&reg);
        assert!(all.len() >= 3, "{}", reg.display());
        for (name, d) in &all {
            let link = &d["links"][0];
            assert_eq!(link["type"], "dashboards", "{name}");
            let tag = link["tags"][0].as_str().unwrap();
            for (other, o) in &all {
                let tags: Vec<&str> = o["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|t| t.as_str())
                    .collect();
                assert!(tags.contains(&tag), "{name} does not list {other}");
            }
        }
    }
}

/// Every dashboard type-checks against Grafana's published TypeScript types
/// (`@grafana/schema`'s `Dashboard`, strict, no excess property): a panel
/// field Grafana does not know, or a value of the wrong type, fails. Grafana's
/// enums are read as their string values, as a JSON file spells them.
#[test]
#[cfg_attr(
    not(all(has_tsc, has_grafana_schema)),
    ignore = "tsc or @grafana/schema not found (`.ci/run --install-only` installs them into .tools/node)"
)]
fn dashboards_type_check_against_grafanas_published_types() {
    let modules = root().join(".tools/node/node_modules");
    if !modules.join("@grafana/schema/package.json").is_file() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "@grafana/schema is missing under CI=true: .ci/run installs it into .tools/node"
        );
        eprintln!("SKIP: @grafana/schema not found (run .ci/run --install-only)");
        return;
    }
    let check = |files: &[(String, String)]| {
        let t = TempDir::new("grafana-types");
        std::os::unix::fs::symlink(&modules, t.join("node_modules")).unwrap();
        std::fs::write(
            t.join("tsconfig.json"),
            r#"{"compilerOptions": {"strict": true, "noEmit": true, "module": "nodenext",
  "moduleResolution": "nodenext", "target": "es2022", "skipLibCheck": true}, "include": ["*.ts"]}"#,
        )
        .unwrap();
        for (i, (_, json)) in files.iter().enumerate() {
            std::fs::write(
                t.join(&format!("d{i}.ts")),
                format!(
                    "import type {{ Dashboard }} from '@grafana/schema';\n\
                     type Json<T> = T extends string ? `${{T}}` : T extends object ? {{ [K in keyof T]: Json<T[K]> }} : T;\n\
                     export const d: Json<Dashboard> = {json};\n"
                ),
            )
            .unwrap();
        }
        let out = std::process::Command::new(modules.join(".bin/tsc"))
            .args(["-p", "."])
            .current_dir(t.path())
            .output()
            .unwrap();
        (out.status.success(), text(&out))
    };
    for reg in registries() {
        let g =
            monitoring::generate(&reg, &root().join("templates")).unwrap_or_else(|e| panic!("{e}"));
        let files: Vec<(String, String)> = g
            .outputs
            .iter()
            .filter(|o| o.path.starts_with("grafana/dashboards/"))
            .map(|o| (o.path.clone(), o.contents.clone()))
            .collect();
        assert!(
            files.len() >= 3,
            "{}: team, SLO and coverage dashboards expected",
            reg.display()
        );
        let (ok, out) = check(&files);
        let names: Vec<String> = files
            .iter()
            .enumerate()
            .map(|(i, (p, _))| format!("d{i}.ts = {p}"))
            .collect();
        assert!(
            ok,
            "{}: dashboards against @grafana/schema ({}):\n{out}",
            reg.display(),
            names.join(", ")
        );
        // The check bites: a panel field Grafana does not know fails it.
        let bad = files[0].1.replacen("\"gridPos\"", "\"gridPosition\"", 1);
        assert_ne!(bad, files[0].1);
        let (ok, out) = check(&[(files[0].0.clone(), bad)]);
        assert!(
            !ok && out.contains("gridPosition"),
            "a misspelt panel field passed:\n{out}"
        );
    }
}

/// With `settings.grafana.url`, every alert of a service, a page and an SLO
/// links to a dashboard gen writes, showing that service (and SLI); alerts
/// without a dashboard of their own (hosts, the prober) carry no dead link.
#[test]
fn alerts_link_to_the_dashboard_of_what_fired() {
    let t = TempDir::new("dashboard-links");
    std::fs::write(
        t.join("r.yaml"),
        "services:
  - {name: shop.api, type: docker, host: 127.0.0.1, port: 8080, health_endpoint: /h, owner: team-a, monitoring: {prometheus: true}}
pages:
  - {path: /cart, name: Cart, service: shop.api, owner: team-b}
api_endpoints:
  - {path: /x, method: GET, service: shop.api, slo_availability: 99.9}
teams:
  team-a: {webhook_url: 'http://127.0.0.1:9095/a'}
  team-b: {webhook_url: 'http://127.0.0.1:9095/b'}
defaults: {platform_owner: team-a}
settings:
  pages_base_url: http://127.0.0.1:8081
  grafana: {url: 'https://grafana.example.org/'}
",
    )
    .unwrap();
    let g =
        monitoring::generate(t.path(), &root().join("templates")).unwrap_or_else(|e| panic!("{e}"));
    let uids: BTreeSet<String> = g
        .outputs
        .iter()
        .filter(|o| o.path.starts_with("grafana/dashboards/"))
        .map(|o| {
            serde_json::from_str::<Value>(&o.contents).unwrap()["uid"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let (mut linked, mut unlinked) = (BTreeSet::new(), BTreeSet::new());
    for o in g.outputs.iter().filter(|o| o.path.ends_with(".rules.yml")) {
        let doc: Value = serde_saphyr::from_str(&o.contents).unwrap();
        for group in doc["groups"].as_array().unwrap() {
            for rule in group["rules"].as_array().unwrap() {
                let Some(alert) = rule["alert"].as_str() else {
                    continue;
                };
                let Some(url) = rule["annotations"]["dashboard_url"].as_str() else {
                    unlinked.insert(alert.to_owned());
                    continue;
                };
                let rest = url
                    .strip_prefix("https://grafana.example.org/d/")
                    .unwrap_or_else(|| panic!("{alert}: {url}"));
                let (uid, query) = rest.split_once('?').unwrap();
                assert!(
                    uids.contains(uid),
                    "{alert} links to {uid}, not a generated dashboard"
                );
                assert!(query.starts_with("var-service=shop.api"), "{alert}: {url}");
                if alert.starts_with("SLO") {
                    assert!(
                        query.ends_with("&var-slo=error") || query.ends_with("&var-slo=latency"),
                        "{url}"
                    );
                }
                linked.insert(alert.to_owned());
            }
        }
    }
    for a in [
        "ServiceDown",
        "TargetDown",
        "PageDown",
        "SLOErrorBudgetBurn",
    ] {
        assert!(
            linked.contains(a),
            "{a} has no dashboard link: linked {linked:?}"
        );
    }
    assert!(unlinked.contains("HostDown"), "{unlinked:?}");
}

/// The coverage dashboard is the same size at any scale: a row per
/// dimension with its count and first gaps, not every gap (before, its text
/// panel listed them all: 244 KB at 10,000 services).
#[test]
fn the_coverage_dashboard_does_not_grow_with_the_registry() {
    let size = |n: usize| {
        let t = TempDir::new("coverage-size");
        std::fs::write(t.join("r.yaml"), xtask::cmd::bench::synthetic_registry(n)).unwrap();
        let g = monitoring::generate(t.path(), &root().join("templates"))
            .unwrap_or_else(|e| panic!("{e}"));
        let board = g
            .outputs
            .iter()
            .find(|o| o.path == "grafana/dashboards/coverage.json")
            .expect("the coverage dashboard");
        let d: Value = serde_json::from_str(&board.contents).unwrap();
        let text = d["panels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["type"] == "text")
            .map(|p| p["options"]["content"].as_str().unwrap_or("").to_owned())
            .unwrap_or_default();
        (board.contents.len(), text)
    };
    let (small, _) = size(200);
    let (large, text) = size(2_000);
    assert!(
        large.abs_diff(small) < 200,
        "coverage dashboard: {small} bytes at 200 services, {large} at 2,000"
    );
    // Still says how many are missing, and where the full list is.
    assert!(
        text.contains("… and ") && text.contains("coverage.md"),
        "{text}"
    );
}

/// Panels link the runbook of the alert they watch, the same page the alert
/// links (`defaults.runbook_base_url`): the on-call who opens the graph
/// finds what to do next to it.
#[test]
fn panels_link_the_runbook_of_the_alert_they_watch() {
    let g = monitoring::generate(&example(), &root().join("templates"))
        .unwrap_or_else(|e| panic!("{e}"));
    let base = g
        .registry
        .runbook_base_url
        .clone()
        .expect("the example has a runbook base URL");
    let alert_runbook = g
        .rules
        .services
        .values()
        .flat_map(|gr| &gr.rules)
        .find(|r| r.alert == "ServiceDown")
        .and_then(|r| r.annotations.get("runbook_url").cloned())
        .expect("a ServiceDown with a runbook");
    let mut seen = 0;
    for o in g
        .outputs
        .iter()
        .filter(|o| o.path.starts_with("grafana/dashboards/team-"))
    {
        let d: Value = serde_json::from_str(&o.contents).unwrap();
        let probe = d["panels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["title"] == "Probe success")
            .unwrap_or_else(|| panic!("{}: no probe panel", o.path));
        let url = probe["links"][0]["url"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no runbook link", o.path));
        assert_eq!(url, format!("{}/service_down", base.trim_end_matches('/')));
        if alert_runbook == url {
            seen += 1;
        }
    }
    assert!(
        seen > 0,
        "the panels' runbook is not the alerts' ({alert_runbook})"
    );
}

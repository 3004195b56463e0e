//! `cargo xtask import`: Sloth's and OpenSLO's own examples become registry
//! entries that generate, and the SLIs they generate are Sloth's.

use crate::common::*;

use std::collections::BTreeMap;

use serde_json::Value;

fn data(p: &str) -> std::path::PathBuf {
    root().join("xtask/tests/data/import").join(p)
}

/// `import` into a new registry file beside a service and team for each
/// imported service, then gen; returns the generated SLO rule files.
fn import_and_generate(tool: &str, path: &std::path::Path) -> (TempDir, String) {
    let t = TempDir::new("import");
    let reg = t.join("registry");
    std::fs::create_dir_all(&reg).unwrap();
    let to = reg.join("imported.yaml");
    let out = xtask(&[
        "import",
        tool,
        &path.to_string_lossy(),
        "--to",
        &to.to_string_lossy(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let report = text(&out);
    let imported: Value = serde_saphyr::from_str(&std::fs::read_to_string(&to).unwrap()).unwrap();
    let mut services = BTreeMap::new();
    for s in imported["slos"].as_array().unwrap() {
        services.insert(
            s["service"].as_str().unwrap().to_owned(),
            s["owner"].as_str().map(str::to_owned),
        );
    }
    let mut y = String::from("services:\n");
    let mut teams = vec!["imported-team".to_owned()];
    for (i, (name, owner)) in services.iter().enumerate() {
        let owner = owner.clone().unwrap_or_else(|| "imported-team".into());
        teams.push(owner.clone());
        y.push_str(&format!("  - name: {name}\n    type: docker\n    host: 127.0.0.1\n    port: {}\n    monitoring: {{prometheus: true}}\n    owner: {owner}\n", 8000 + i));
    }
    teams.sort();
    teams.dedup();
    y.push_str("teams:\n");
    for team in teams {
        y.push_str(&format!(
            "  {team}: {{webhook_url: \"http://127.0.0.1:9095/{team}\"}}\n"
        ));
    }
    y.push_str("defaults:\n  runbook_base_url: http://127.0.0.1/runbooks\n");
    std::fs::write(reg.join("services.yaml"), y).unwrap();
    let generated = on("gen", &reg, &t.join("out"));
    assert!(
        generated.status.success(),
        "{}\n{}",
        text(&generated),
        std::fs::read_to_string(&to).unwrap()
    );
    (t, report)
}

/// Record name and a label's value to the expression, whitespace removed.
fn records(file: &str, label: &str) -> BTreeMap<(String, String), String> {
    let v: Value = serde_saphyr::from_str(file).unwrap();
    // Sloth's Kubernetes example holds its groups in a PrometheusRule's spec.
    let v = if v["groups"].is_array() {
        v
    } else {
        v["spec"].clone()
    };
    let mut out = BTreeMap::new();
    for g in v["groups"].as_array().unwrap() {
        for r in g["rules"].as_array().unwrap() {
            if let (Some(rec), Some(l)) = (r["record"].as_str(), r["labels"][label].as_str()) {
                let expr: String = r["expr"].as_str().unwrap().split_whitespace().collect();
                out.insert((rec.to_owned(), l.to_owned()), expr);
            }
        }
    }
    out
}

fn generated_slo_rules(t: &TempDir) -> String {
    let dir = t.join("out/prometheus/slo");
    let mut all = String::from("groups:\n");
    for e in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        all.push_str(text.split_once("groups:\n").unwrap().1);
    }
    all
}

/// Sloth's examples with event SLIs: the SLI ratios we record over every
/// window are the ones Sloth records, and so are the objectives.
#[test]
fn sloth_examples_round_trip() {
    let (t, report) = import_and_generate("sloth", &data("sloth"));
    let ours = records(&generated_slo_rules(&t), "slo_name");
    let mut compared = 0;
    for f in [
        "getting-started.yml",
        "home-wifi.yml",
        "k8s-getting-started.yml",
    ] {
        let theirs = records(
            &std::fs::read_to_string(data("sloth-generated").join(f)).unwrap(),
            "sloth_slo",
        );
        assert!(!theirs.is_empty(), "{f}");
        for ((rec, slo), expr) in &theirs {
            if rec.starts_with("slo:sli_error:ratio_rate") && !rec.ends_with("30d") {
                let mine = ours
                    .get(&(rec.clone(), slo.clone()))
                    .unwrap_or_else(|| panic!("{f}: no {rec} for {slo}"));
                assert_eq!(mine, expr, "{f}: {rec} of {slo}");
                compared += 1;
            }
            if rec == "slo:objective:ratio" {
                let num = |e: &str| -> f64 {
                    e.trim_start_matches("vector(")
                        .trim_end_matches(')')
                        .parse()
                        .unwrap()
                };
                let mine = &ours[&(rec.clone(), slo.clone())];
                assert!(
                    (num(mine) - num(expr)).abs() < 1e-9,
                    "{f}: objective of {slo}: {mine} vs {expr}"
                );
            }
        }
    }
    assert!(compared >= 3 * 7, "{compared} ratios compared");
    // What Sloth has and the registry does not is named, not dropped silently.
    for said in [
        "raw-home-wifi.yml: SLO wifi-client-satisfaction: not imported: a raw error-ratio SLI",
        "alert name MyServiceHighErrorRate",
        "label repo=myorg/myservice",
        "alerting labels",
    ] {
        assert!(
            report.contains(said),
            "the report does not say {said:?}:\n{report}"
        );
    }
}

/// Sloth's OpenSLO example (v1alpha: good over total): the bad events are total
/// minus good, which promtool evaluates to the same ratio Sloth records.
#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus; `.ci/run --install-only` installs it)"
)]
fn openslo_good_over_total_gives_slothss_ratio() {
    if !require_tool("promtool", "prometheus") {
        return;
    }
    let (t, _) = import_and_generate("openslo", &data("sloth/openslo-getting-started.yml"));
    let ours = t.join("out/prometheus/slo/my-service.rules.yml");
    let theirs = data("sloth-generated/openslo-getting-started.yml");
    let test = format!(
        r#"rule_files: [{}, {}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'http_request_duration_seconds_count{{job="myservice", code="500"}}'
        values: '0+3x30'
      - series: 'http_request_duration_seconds_count{{job="myservice", code="200"}}'
        values: '0+97x30'
    promql_expr_test:
      - expr: 'abs(max(slo:sli_error:ratio_rate5m{{slo_name="sloth-slo-my-service"}}) - 0.03) < bool 1e-9'
        eval_time: 20m
        exp_samples: [{{labels: '{{}}', value: 1}}]
      - expr: 'abs(max(slo:sli_error:ratio_rate5m{{slo_name="sloth-slo-my-service"}}) - max(slo:sli_error:ratio_rate5m{{sloth_service="my-service"}})) < bool 1e-12'
        eval_time: 20m
        exp_samples: [{{labels: '{{}}', value: 1}}]
"#,
        serde_json::to_string(&ours.to_string_lossy()).unwrap(),
        serde_json::to_string(&theirs.to_string_lossy()).unwrap()
    );
    std::fs::write(t.join("same.test.yml"), test).unwrap();
    promtool_ok(
        ["test", "rules", "same.test.yml"],
        Some(t.path()),
        "the imported SLO against Sloth's rules",
    );
}

/// OpenSLO's own v1 examples: the ratio SLOs generate (one per objective);
/// the threshold SLO, the time windows and time-slice budgeting are reported.
#[test]
fn openslo_examples_import_with_a_report() {
    let (t, report) = import_and_generate("openslo", &data("openslo"));
    let rules = generated_slo_rules(&t);
    for name in [
        "main-page",
        "service-availability-internal-objective",
        "service-availability-sla",
    ] {
        assert!(
            rules.contains(&format!("slo_name: '{name}'")),
            "{name} missing:\n{report}"
        );
    }
    for said in [
        "SLO search-slo: not imported: a threshold SLI",
        "time window 2w",
        "budgeting method RatioTimeslices",
    ] {
        assert!(
            report.contains(said),
            "the report does not say {said:?}:\n{report}"
        );
    }
}

#[test]
fn nothing_to_import_is_an_error_and_files_are_not_overwritten() {
    let t = TempDir::new("import-none");
    std::fs::write(t.join("x.yaml"), "services: []\n").unwrap();
    let out = xtask(&["import", "sloth", &t.join("x.yaml").to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("not a Sloth spec"), "{}", text(&out));
    let out = xtask(&[
        "import",
        "sloth",
        &data("sloth/getting-started.yml").to_string_lossy(),
        "--to",
        &t.join("x.yaml").to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(t.join("x.yaml")).unwrap(),
        "services: []\n"
    );
}

//! The Prometheus side, judged by the real programs: promtool checks the
//! configuration, every rule file and the spec of every PrometheusRule, and
//! runs the generated rule unit tests; blackbox_exporter checks its modules;
//! the operator resources validate against the CRDs' own schemas.

use crate::common::openapi::{crd_schema, validate};
use crate::common::*;

use serde_json::Value;
use std::path::{Path, PathBuf};

fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    tree(dir)
        .into_iter()
        .filter(|(p, _)| p.ends_with(suffix))
        .map(|(p, _)| dir.join(p))
        .collect()
}

fn run(cmd: &str, args: &[&str], cwd: &Path) -> std::process::Output {
    std::process::Command::new(cmd)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"))
}

#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus; `.ci/run --install-only` installs it)"
)]
fn promtool_accepts_config_rules_and_passes_generated_unit_tests() {
    if !require_tool("promtool", "prometheus") {
        return;
    }
    for reg in registries() {
        let t = gen_into(&reg);
        let prom = t.join("prometheus");
        let configs: Vec<String> = tree(&prom)
            .into_iter()
            .map(|(p, _)| format!("prometheus/{p}"))
            .filter(|p| is_prometheus_config(p))
            .map(|p| p["prometheus/".len()..].to_owned())
            .collect();
        assert!(
            !configs.is_empty(),
            "{}: no Prometheus config",
            reg.display()
        );
        for config in &configs {
            let out = run("promtool", &["check", "config", config], &prom);
            assert!(
                out.status.success(),
                "{}: promtool check config {config}:\n{}",
                reg.display(),
                text(&out)
            );
        }
        let tests = files(&prom.join("tests"), ".test.yml");
        assert!(!tests.is_empty());
        let mut args = vec!["test", "rules"];
        let names: Vec<String> = tests
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        args.extend(names.iter().map(String::as_str));
        let out = run("promtool", &args, &prom);
        assert!(
            out.status.success(),
            "{}: promtool test rules:\n{}",
            reg.display(),
            text(&out)
        );
    }
}

#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus; `.ci/run --install-only` installs it)"
)]
fn a_broken_expression_fails_its_generated_unit_test() {
    if !require_tool("promtool", "prometheus") {
        return;
    }
    let t = gen_into(&example());
    let prom = t.join("prometheus");
    let rules = prom.join("rules/redis.rules.yml");
    let text_before = std::fs::read_to_string(&rules).unwrap();
    assert!(text_before.contains("page=\"\"} == 0"));
    // ServiceDown now fires when the probe succeeds: the test must notice.
    std::fs::write(
        &rules,
        text_before.replace("page=\"\"} == 0", "page=\"\"} == 1"),
    )
    .unwrap();
    let out = run(
        "promtool",
        &["test", "rules", "tests/redis.test.yml"],
        &prom,
    );
    assert!(
        !out.status.success(),
        "the broken rule passed its unit test:\n{}",
        text(&out)
    );
    assert!(text(&out).contains("ServiceDown"), "{}", text(&out));

    // And for an SLO rule: the page's factors (fast and medium) made ten
    // times larger.
    let slo = prom.join("slo/cluster/awoooi-api.rules.yml");
    let s = std::fs::read_to_string(&slo).unwrap();
    std::fs::write(
        &slo,
        s.replace("(14.4 * ", "(144 * ").replace("(6 * ", "(60 * "),
    )
    .unwrap();
    let out = run(
        "promtool",
        &["test", "rules", "tests/slo/cluster/awoooi-api.test.yml"],
        &prom,
    );
    assert!(
        !out.status.success(),
        "the broken SLO rule passed its unit test:\n{}",
        text(&out)
    );
}

/// Every YAML document of a file (a team's ServiceMonitors are one file).
fn yaml_documents(path: &Path) -> Vec<Value> {
    serde_saphyr::from_multiple(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus; `.ci/run --install-only` installs it)"
)]
fn operator_resources_validate_against_their_crds_and_promtool() {
    let schemas = root().join("xtask/tests/data/schemas");
    let schema = |kind: &str| {
        crd_schema(
            &std::fs::read_to_string(
                schemas.join(format!("crd-monitoring.coreos.com_{kind}.yaml")),
            )
            .unwrap(),
        )
    };
    let (rule_schema, probe_schema, sm_schema) = (
        schema("prometheusrules"),
        schema("probes"),
        schema("servicemonitors"),
    );
    let promtool = require_tool("promtool", "prometheus");
    // The example with rule files per team: a team's ServiceMonitors and
    // Probes are one multi-document file each.
    let by_team = TempDir::new("operator-team");
    copy_example(by_team.path());
    let teams = by_team.join("teams.yaml");
    let text_of_teams = std::fs::read_to_string(&teams).unwrap();
    std::fs::write(
        &teams,
        with_prometheus_settings(&text_of_teams, "{group_by: team}"),
    )
    .unwrap();
    let mut checked = 0;
    let mut bundled = 0;
    for reg in registries()
        .iter()
        .map(PathBuf::as_path)
        .chain([by_team.path()])
    {
        let t = gen_into(reg);
        for f in files(&t.join("kubernetes"), ".yaml") {
            let docs = yaml_documents(&f);
            if docs.len() > 1 {
                bundled += 1;
                let name = f.file_name().unwrap().to_string_lossy().into_owned();
                assert!(
                    name.ends_with(".servicemonitors.yaml") || name.ends_with(".probes.yaml"),
                    "{name}: only a team's monitors and probes share a file"
                );
            }
            for v in docs {
                if v["kind"] == "Secret" {
                    alertmanagers_secret(&t, &f, &v, promtool);
                    checked += 1;
                    continue;
                }
                let s = match v["kind"].as_str() {
                    Some("PrometheusRule") => &rule_schema,
                    Some("Probe") => &probe_schema,
                    Some("ServiceMonitor") => &sm_schema,
                    other => panic!("{}: unexpected kind {other:?}", f.display()),
                };
                let mut errs = Vec::new();
                validate(s, &v, "", &mut errs);
                assert!(
                    errs.is_empty(),
                    "{} does not match its CRD:\n{}",
                    f.display(),
                    errs.join("\n")
                );
                assert_eq!(v["apiVersion"], "monitoring.coreos.com/v1");
                if v["kind"] == "PrometheusRule" && promtool {
                    // promtool reads rule files; the spec is one, written as JSON (valid YAML).
                    let spec = t.join("spec.json");
                    std::fs::write(&spec, serde_json::to_string(&v["spec"]).unwrap()).unwrap();
                    let out = run(
                        "promtool",
                        &["check", "rules", &spec.to_string_lossy()],
                        t.path(),
                    );
                    assert!(out.status.success(), "{}: {}", f.display(), text(&out));
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} resources");
    assert!(
        bundled >= 1,
        "the team-grouped example bundles a team's monitors in one file"
    );
}

#[test]
fn crd_validation_rejects_a_wrong_resource() {
    let schemas = root().join("xtask/tests/data/schemas");
    let s = crd_schema(
        &std::fs::read_to_string(schemas.join("crd-monitoring.coreos.com_probes.yaml")).unwrap(),
    );
    let bad: Value = serde_json::json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "Probe", "metadata": {"name": "x"},
        "spec": {"prober": {"url": 5}, "modul": "http_2xx"}});
    let mut errs = Vec::new();
    validate(&s, &bad, "", &mut errs);
    assert!(
        errs.iter().any(|e| e.contains("spec.modul: unknown field")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("spec.prober.url: expected a string")),
        "{errs:?}"
    );
}

#[test]
#[cfg_attr(
    not(has_blackbox),
    ignore = "prometheus-blackbox-exporter not found (Debian package prometheus-blackbox-exporter; `.ci/run --install-only` installs it)"
)]
fn blackbox_exporter_accepts_the_modules_and_every_prober_exists() {
    let t = gen_into(&example());
    let file = t.join("blackbox/blackbox.yml");
    let v = yaml_documents(&file).remove(0);
    let modules = v["modules"].as_object().expect("modules");
    for (name, m) in modules {
        let prober = m["prober"].as_str().unwrap_or_default();
        assert!(
            ["http", "tcp", "icmp", "dns", "grpc"].contains(&prober),
            "module {name}: unknown prober {prober:?}"
        );
    }
    // Every module a probe job or Probe resource names exists.
    for (_, module, _) in monitoring::artefacts::scrape::BLACKBOX_JOBS {
        assert!(modules.contains_key(module), "{module}");
    }
    if require_tool(
        "prometheus-blackbox-exporter",
        "prometheus-blackbox-exporter",
    ) {
        let out = run(
            "prometheus-blackbox-exporter",
            &[
                "--config.check",
                &format!("--config.file={}", file.display()),
            ],
            t.path(),
        );
        assert!(out.status.success(), "{}", text(&out));
    }
}

#[test]
fn example_registry_gets_the_promised_probes_and_slo_alerts() {
    let g = monitoring::generate(&example(), &root().join("templates"))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = |p: &str| {
        g.outputs
            .iter()
            .find(|o| o.path == p)
            .unwrap_or_else(|| panic!("{p} missing"))
            .contents
            .clone()
    };
    // k8s services: never a static host target, probes through cluster DNS.
    let prom = out("prometheus/prometheus.yml")
        + &out("prometheus/targets/blackbox-http.yml")
        + &out("prometheus/targets/blackbox-tcp.yml");
    for s in g
        .registry
        .services
        .iter()
        .filter(|s| s.kind == registry::ServiceType::K8sDeployment)
    {
        assert!(
            !prom.contains(&format!("'{}'", s.name)),
            "{} appears in the static Prometheus config",
            s.name
        );
    }
    assert!(
        out("kubernetes/awoooi-api.probe.yaml")
            .contains("http://awoooi-api.awoooi-prod.svc:8000/api/v1/health")
    );
    assert!(
        !g.outputs
            .iter()
            .any(|o| o.path == "kubernetes/awoooi-worker.probe.yaml"),
        "an exec probe gets no Probe"
    );
    // Commands get TCP probes, paths HTTP probes.
    let tcp = out("prometheus/targets/blackbox-tcp.yml");
    assert!(
        tcp.contains("'192.168.0.188:6380'") && tcp.contains("'192.168.0.188:5432'"),
        "{tcp}"
    );
    assert!(
        out("prometheus/targets/blackbox-http.yml")
            .contains("'http://192.168.0.188:11434/api/tags'")
    );
    assert!(
        out("prometheus/targets/blackbox-pages.yml")
            .contains("'https://awoooi.example.org/authorizations'")
    );
    // The endpoints share their service's rules: four tiers per SLI with the
    // 30-day factors, each over the endpoint's own budget series.
    let slo = out("prometheus/slo/cluster/awoooi-api.rules.yml");
    for sli in ["error", "latency"] {
        for f in [14.4, 6.0, 3.0, 1.0] {
            let needle = format!(
                "({f} * slo:error_budget:ratio{{service=\"awoooi-api\", slo_rules=\"shared\", slo=\"{sli}\"}})"
            );
            // Once for the long window, once for the short.
            assert_eq!(slo.matches(&needle).count(), 2, "{sli} tier {f}");
        }
    }
    let rules: serde_json::Value = serde_saphyr::from_str(&slo).unwrap();
    let records: Vec<&serde_json::Value> = rules["groups"][0]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["record"] == "slo:error_budget:ratio")
        .collect();
    for ep in &g.registry.endpoints {
        let budget = ep.error_budget().unwrap();
        let own = records
            .iter()
            .filter(|r| {
                r["labels"]["method"] == ep.method.as_str()
                    && r["labels"]["path"] == ep.path.as_str()
            })
            .map(|r| r["expr"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>();
        assert_eq!(
            own,
            vec![format!("vector({budget})"); 2],
            "{} {}: the error and latency budgets",
            ep.method,
            ep.path
        );
    }
    // Sloth's page and ticket, the default shape.
    for tier in ["fast+medium", "slow+long"] {
        assert!(slo.contains(&format!("burnrate_tier: '{tier}'")));
    }
}

/// The Secret the operator's Prometheus names in
/// `additionalAlertManagerConfigs`: a core Secret whose key is Prometheus'
/// `alertmanagers` list, which promtool accepts inside a configuration.
fn alertmanagers_secret(t: &TempDir, f: &std::path::Path, v: &Value, promtool: bool) {
    assert_eq!(v["apiVersion"], "v1", "{}", f.display());
    assert_eq!(v["metadata"]["name"], "additional-alertmanager-configs");
    let list = v["stringData"]["alertmanagers.yaml"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: no alertmanagers.yaml key", f.display()));
    if promtool {
        let config = t.join("with-secret.yml");
        let indented: String = list.lines().map(|l| format!("    {l}\n")).collect();
        std::fs::write(&config, format!("alerting:\n  alertmanagers:\n{indented}")).unwrap();
        let out = run(
            "promtool",
            &["check", "config", &config.to_string_lossy()],
            t.path(),
        );
        assert!(out.status.success(), "{}: {}", f.display(), text(&out));
    }
}

/// The labels and annotations of `alert` in `rules` (a rule file), with
/// `$value` shown as `value` and the route `GET /x` as promtool expects them.
fn alert_with_value(rules: &Path, alert: &str, value: &str) -> (Value, Value) {
    let doc: Value = serde_saphyr::from_str(&std::fs::read_to_string(rules).unwrap()).unwrap();
    let rule = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .find(|r| r["alert"] == alert)
        .unwrap_or_else(|| panic!("no {alert} in {}", rules.display()))
        .clone();
    let mut annotations = rule["annotations"].clone();
    for (_, v) in annotations.as_object_mut().unwrap() {
        let s = v
            .as_str()
            .unwrap()
            .replace("{{ $value | humanizePercentage }}", value)
            .replace("{{ $labels.method }}", "GET")
            .replace("{{ $labels.path }}", "/x");
        assert!(!s.contains("{{"), "{alert}: {s}");
        *v = Value::String(s);
    }
    (rule["labels"].clone(), annotations)
}

/// What fired says how bad it is: 2 % of requests failing gives a
/// HighErrorRate whose description says 2 %, 80 % an SLO page that says
/// 80 % (before, "more than 0.01 of the requests" never said either),
/// rendered by promtool's own template engine.
#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus; `.ci/run --install-only` installs it)"
)]
fn notifications_carry_the_current_value() {
    if !require_tool("promtool", "prometheus") {
        return;
    }
    let reg = one_slo_registry("", "");
    let r = reg.join("r.yaml");
    let yaml = std::fs::read_to_string(&r).unwrap();
    std::fs::write(
        &r,
        yaml.replace(
            "    owner: team-a\napi_endpoints:",
            "    alerts: [high_error_rate]\n    owner: team-a\napi_endpoints:",
        ),
    )
    .unwrap();
    let out = gen_into(reg.path());
    let prom = out.join("prometheus");
    let exp = |rules: &str, alert: &str, value: &str| {
        let (labels, annotations) = alert_with_value(&prom.join(rules), alert, value);
        let description = annotations["description"].as_str().unwrap();
        assert!(
            description.contains(&format!("is {value}"))
                || description.contains(&format!("now {value}")),
            "{alert}'s description does not show its value: {description}"
        );
        let mut l = labels.as_object().unwrap().clone();
        l.insert("service".into(), "api".into());
        (alert.to_owned(), Value::Object(l), annotations)
    };
    let high = exp("rules/api.rules.yml", "HighErrorRate", "2%");
    let mut page = exp("slo/api.rules.yml", "SLOErrorBudgetBurn", "80%");
    for (k, v) in [
        ("method", "GET"),
        ("path", "/x"),
        ("slo", "error"),
        ("slo_rules", "shared"),
    ] {
        page.1[k] = v.into();
    }
    let case = |(alert, labels, annotations): (String, Value, Value), bad: u32| {
        serde_json::json!({
            "interval": "1m",
            "input_series": [
                {"series": format!("http_requests_total{{service=\"api\", method=\"GET\", path=\"/x\", status=\"500\"}}"), "values": format!("0+{bad}x30")},
                {"series": format!("http_requests_total{{service=\"api\", method=\"GET\", path=\"/x\", status=\"200\"}}"), "values": format!("0+{}x30", 100 - bad)},
            ],
            "alert_rule_test": [{"eval_time": "20m", "alertname": alert, "exp_alerts": [{"exp_labels": labels, "exp_annotations": annotations}]}],
        })
    };
    let test = serde_json::json!({
        "rule_files": ["rules/api.rules.yml", "slo/api.rules.yml"],
        "evaluation_interval": "1m",
        "tests": [case(high, 2), case(page, 80)],
    });
    std::fs::write(prom.join("value.test.yml"), test.to_string()).unwrap();
    let run = run("promtool", &["test", "rules", "value.test.yml"], &prom);
    assert!(run.status.success(), "{}", text(&run));
}

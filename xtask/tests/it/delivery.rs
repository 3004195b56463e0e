//! Where rule groups go (`settings.prometheus`): under `auto` each group is
//! evaluated by exactly one Prometheus, the one that scrapes its metrics; a
//! file per owner team keeps the file count flat and still passes promtool.

use crate::common::*;

use std::collections::BTreeMap;

fn outputs(reg: &std::path::Path) -> BTreeMap<String, String> {
    monitoring::generate(reg, &root().join("templates"))
        .unwrap_or_else(|e| panic!("{e}"))
        .outputs
        .into_iter()
        .map(|o| (o.path, o.contents))
        .collect()
}

/// Before, every service's rules were both a rule file the stand-alone
/// Prometheus loads and a PrometheusRule: a k8s service's alerts were
/// evaluated twice (once where its metrics never arrive), a docker service's
/// PrometheusRule was dead weight.
#[test]
fn each_group_is_evaluated_once_by_the_prometheus_that_scrapes_it() {
    let reg = example();
    let out = outputs(&reg);
    let g = monitoring::generate(&reg, &root().join("templates")).unwrap();
    let prometheus = &out["prometheus/prometheus.yml"];
    assert!(prometheus.contains("- 'rules/*.rules.yml'"), "{prometheus}");
    let mut k8s = 0;
    for s in &g.registry.services {
        if !g.rules.services.contains_key(&s.name) {
            continue;
        }
        let file = out.contains_key(&format!("prometheus/rules/{}.rules.yml", s.name));
        let cluster = out.contains_key(&format!("prometheus/rules/cluster/{}.rules.yml", s.name));
        let resource = out.contains_key(&format!("kubernetes/{}.prometheusrule.yaml", s.name));
        let is_k8s = s.kind == registry::ServiceType::K8sDeployment;
        k8s += usize::from(is_k8s);
        assert_eq!(
            (file, cluster, resource),
            (!is_k8s, is_k8s, is_k8s),
            "{}: rule file loaded by prometheus.yml, cluster copy, PrometheusRule",
            s.name
        );
        // Its unit tests run against whichever copy it has.
        let tests = if is_k8s { "tests/cluster" } else { "tests" };
        assert!(out.contains_key(&format!("prometheus/{tests}/{}.test.yml", s.name)));
    }
    assert!(k8s >= 2, "the example has k8s services");
}

/// A registry of `n` services over three teams, with every delivery.
fn registry(n: usize, prometheus: &str) -> TempDir {
    let t = TempDir::new("delivery");
    let mut y = String::from("services:\n");
    for i in 0..n {
        let owner = format!("team-{}", i % 3);
        if i % 2 == 0 {
            y.push_str(&format!("  - name: k{i}\n    type: k8s-deployment\n    namespace: ns\n    port: 8080\n    health_endpoint: /health\n    monitoring: {{prometheus: true}}\n    alerts: [pod_crash, high_error_rate, service_down]\n    owner: {owner}\n"));
        } else {
            y.push_str(&format!("  - name: d{i}\n    type: docker\n    host: 127.0.0.1\n    port: {}\n    health_endpoint: /health\n    monitoring: {{prometheus: true}}\n    alerts: [service_down, memory_high]\n    owner: {owner}\n", 8000 + i));
        }
    }
    y.push_str("api_endpoints:\n  - path: /a\n    method: GET\n    slo_availability: 99.9\n    service: k0\n  - path: /b\n    method: GET\n    slo_availability: 99.9\n    service: d1\n");
    y.push_str("teams:\n");
    for t in 0..3 {
        y.push_str(&format!(
            "  team-{t}: {{webhook_url: \"http://127.0.0.1:9095/{t}\"}}\n"
        ));
    }
    y.push_str(&format!("defaults:\n  runbook_base_url: http://127.0.0.1/runbooks\nsettings:\n  prometheus: {prometheus}\n"));
    std::fs::write(t.join("r.yaml"), y).unwrap();
    t
}

#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus; `.ci/run --install-only` installs it)"
)]
fn every_delivery_and_grouping_passes_promtool() {
    if !require_tool("promtool", "prometheus") {
        return;
    }
    for settings in [
        "{group_by: team}",
        "{rules: both}",
        "{rules: files, group_by: team}",
        "{rules: resources}",
    ] {
        let reg = registry(30, settings);
        let out = gen_into(reg.path());
        let files = tree(out.path());
        let tests: Vec<&String> = files
            .iter()
            .map(|(p, _)| p)
            .filter(|p| p.starts_with("prometheus/tests/") && p.ends_with(".test.yml"))
            .collect();
        assert!(!tests.is_empty(), "{settings}");
        let args = ["test".into(), "rules".into()]
            .into_iter()
            .chain(tests.iter().map(|p| out.join(p)));
        promtool_ok::<std::path::PathBuf>(args, None, settings);
        let rule_files = files
            .iter()
            .filter(|(p, _)| p.starts_with("prometheus/") && p.ends_with(".rules.yml"))
            .count();
        let resources = files
            .iter()
            .filter(|(p, _)| p.ends_with(".prometheusrule.yaml"))
            .count();
        if settings.contains("team") {
            // Three teams: alert and SLO files per team (and delivery), not per service.
            assert!(
                rule_files <= 3 * 2 * 2 + 1,
                "{settings}: {rule_files} rule files"
            );
        }
        match settings {
            "{rules: files, group_by: team}" => assert_eq!(resources, 0),
            "{rules: resources}" => assert!(
                !files
                    .iter()
                    .any(|(p, _)| p.starts_with("prometheus/rules/d"))
            ),
            _ => assert!(resources > 0, "{settings}"),
        }
    }
}

/// The example registry with `settings.prometheus` set to `prometheus`.
fn example_with(prometheus: &str) -> TempDir {
    let t = TempDir::new("delivery-example");
    copy_example(t.path());
    let teams = t.join("teams.yaml");
    let text = std::fs::read_to_string(&teams).unwrap();
    std::fs::write(&teams, with_prometheus_settings(&text, prometheus)).unwrap();
    t
}

/// Every rule group of the plain rule files, by name, with its rules as
/// parsed YAML (so layout does not matter).
fn groups_of<'a>(
    files: impl Iterator<Item = (&'a String, &'a String)>,
) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    for (path, text) in files {
        let v: serde_json::Value = serde_saphyr::from_str(text).unwrap();
        for g in v["groups"].as_array().unwrap() {
            let name = g["name"].as_str().unwrap().to_owned();
            let old = out.insert(name.clone(), g["rules"].clone());
            assert!(old.is_none(), "group {name} twice ({path})");
        }
    }
    out
}

/// Grafana Mimir and Cortex load rules per namespace (`mimirtool rules load
/// FILE…`, a file being `namespace:` and `groups:`); owners are the natural
/// namespaces (each team loads and reviews its own). Each owner team gets one
/// file holding every group of its services, pages and SLOs, exactly once,
/// whatever Prometheus would evaluate them otherwise.
#[test]
fn mimir_ruler_layout_has_a_namespace_per_owner_team_with_each_group_once() {
    let reg = example_with("{ruler: mimir}");
    let out = outputs(reg.path());
    let plain = groups_of(out.iter().filter(|(p, _)| {
        (p.starts_with("prometheus/rules/") || p.starts_with("prometheus/slo/"))
            && p.ends_with(".rules.yml")
    }));
    let mimir: Vec<(&String, &String)> = out
        .iter()
        .filter(|(p, _)| p.starts_with("mimir/"))
        .collect();
    assert!(mimir.len() >= 2, "a file per owner team: {:?}", out.keys());
    let mut seen = BTreeMap::new();
    for (path, text) in &mimir {
        let v: serde_json::Value = serde_saphyr::from_str(text).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["groups", "namespace"],
            "{path}: mimirtool's fields only"
        );
        let namespace = v["namespace"].as_str().unwrap();
        assert_eq!(*path, &format!("mimir/{namespace}.rules.yml"));
        for g in v["groups"].as_array().unwrap() {
            let name = g["name"].as_str().unwrap();
            // Mimir refuses a namespace with two groups of one name.
            assert!(
                seen.insert(name.to_owned(), g["rules"].clone()).is_none(),
                "group {name} twice"
            );
            for rule in g["rules"].as_array().unwrap() {
                if let Some(owner) = rule["labels"]["owner"].as_str() {
                    assert_eq!(owner, namespace, "{path}: {name} is another team's");
                }
            }
        }
    }
    assert_eq!(
        seen, plain,
        "the namespaces hold exactly the rule files' groups"
    );
}

#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus; `.ci/run --install-only` installs it)"
)]
fn mimir_namespaces_are_prometheus_rule_files_once_the_namespace_is_set_aside() {
    if !require_tool("promtool", "prometheus") {
        return;
    }
    let reg = example_with("{ruler: mimir, group_by: team}");
    let out = gen_into(reg.path());
    let dir = TempDir::new("mimir-promtool");
    let mut files = Vec::new();
    for (path, bytes) in tree(out.path()) {
        let Some(name) = path.strip_prefix("mimir/") else {
            continue;
        };
        // mimirtool parses the groups with Prometheus's own rule parser.
        let text = String::from_utf8(bytes).unwrap();
        let groups: String = text
            .lines()
            .filter(|l| !l.starts_with("namespace:"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_ne!(groups, text, "{path} names its namespace");
        std::fs::write(dir.join(name), groups).unwrap();
        files.push(dir.join(name));
    }
    assert!(!files.is_empty());
    let args = ["check".into(), "rules".into()].into_iter().chain(files);
    promtool_ok::<std::path::PathBuf>(args, None, "the Mimir namespaces' groups");
}

/// A team's test file used to repeat the three cases of every alert for each
/// of its services (4.6 KB per service at 10,000 services, half the output):
/// now rules that differ only in their service's name share one case set,
/// and a rule that differs in anything else (here a `for` override) keeps
/// its own.
#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus; `.ci/run --install-only` installs it)"
)]
fn a_team_file_tests_each_rule_shape_once() {
    if !require_tool("promtool", "prometheus") {
        return;
    }
    let t = TempDir::new("shapes");
    let mut y = String::from("services:\n");
    for i in 0..40 {
        let crash = if i == 7 {
            "{name: pod_crash, for: 7m}"
        } else {
            "pod_crash"
        };
        y.push_str(&format!("  - name: k{i}\n    type: k8s-deployment\n    namespace: ns\n    port: 8080\n    health_endpoint: /health\n    monitoring: {{prometheus: true}}\n    alerts: [{crash}, high_error_rate, service_down]\n    owner: team-a\n"));
    }
    y.push_str("teams:\n  team-a: {webhook_url: \"http://127.0.0.1:9095/a\"}\ndefaults:\n  runbook_base_url: http://127.0.0.1/runbooks\nsettings:\n  prometheus: {group_by: team}\n");
    std::fs::write(t.join("r.yaml"), y).unwrap();
    let out = gen_into(t.path());
    let rules =
        std::fs::read_to_string(out.join("prometheus/rules/cluster/team-a.rules.yml")).unwrap();
    let tests_file = out.join("prometheus/tests/cluster/team-a.test.yml");
    let tests = std::fs::read_to_string(&tests_file).unwrap();
    // Three listed, five baseline (TargetDown, PodNotReady, ReplicasMismatch,
    // VolumeFull, MemoryHigh) per service.
    assert_eq!(rules.matches("- alert: ").count(), 40 * 8);
    // The header names the team, not each of its 40 services.
    let header = rules.lines().next().unwrap();
    assert!(
        header.contains("(team team-a)") && !header.contains("k39"),
        "{header}"
    );
    // Eight shapes, plus k7's own pod_crash; three cases each, TargetDown's
    // fourth (its series absent), and a recovery for each shape but
    // HighErrorRate's (counters do not splice).
    assert_eq!(
        tests.matches("  - interval: ").count(),
        9 * 3 + 1 + 8,
        "{tests}"
    );
    assert!(
        tests.contains("PodCrashLoopBackOff fires for k7"),
        "{tests}"
    );
    promtool_ok(
        ["test".as_ref(), "rules".as_ref(), tests_file.as_os_str()],
        None,
        "the team's tests",
    );
}

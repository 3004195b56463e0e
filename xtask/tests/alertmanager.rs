//! Alertmanager routing (judged by amtool) and inhibition (evaluated here from
//! the generated inhibit rules, since amtool routes one alert at a time).

mod common;
use common::*;

use serde_json::Value;
use std::collections::BTreeMap;

fn generated_config(reg: &std::path::Path) -> (TempDir, std::path::PathBuf) {
    let t = gen_into(reg);
    let file = t.join("alertmanager/alertmanager.yml");
    (t, file)
}

fn route(config: &std::path::Path, labels: &[&str]) -> String {
    let out = std::process::Command::new("amtool")
        .args([
            "config",
            "routes",
            "test",
            &format!("--config.file={}", config.display()),
        ])
        .args(labels)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
#[cfg_attr(
    not(has_amtool),
    ignore = "amtool not found (Debian package prometheus-alertmanager; `.ci/run --install-only` installs it)"
)]
fn amtool_accepts_the_config_of_every_registry() {
    if !require_tool("amtool", "prometheus-alertmanager") {
        return;
    }
    for reg in registries() {
        let (_t, file) = generated_config(&reg);
        let out = std::process::Command::new("amtool")
            .args(["check-config", &file.to_string_lossy()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}: {}", reg.display(), text(&out));
    }
}

#[test]
#[cfg_attr(
    not(has_amtool),
    ignore = "amtool not found (Debian package prometheus-alertmanager; `.ci/run --install-only` installs it)"
)]
fn alerts_reach_their_owners_receivers() {
    if !require_tool("amtool", "prometheus-alertmanager") {
        return;
    }
    let (_t, file) = generated_config(&root().join("registry"));
    assert_eq!(
        route(
            &file,
            &[
                "owner=backend-team",
                "severity=critical",
                "alertname=ServiceDown"
            ]
        ),
        "backend-team/paging"
    );
    assert_eq!(
        route(
            &file,
            &[
                "owner=backend-team",
                "severity=warning",
                "alertname=HighErrorRate"
            ]
        ),
        "backend-team"
    );
    assert_eq!(
        route(&file, &["owner=frontend-team", "severity=critical"]),
        "frontend-team/paging"
    );
    assert_eq!(
        route(&file, &["owner=unknown-team", "severity=critical"]),
        "_default"
    );
    assert_eq!(route(&file, &["severity=warning"]), "_default");
}

/// One inhibit rule, as Alertmanager evaluates it.
struct Inhibit {
    source: Vec<(String, String, String)>,
    target: Vec<(String, String, String)>,
    equal: Vec<String>,
}

/// Parses `name="v"`, `name!="v"`, `name=~"a|b"`, `name!~"a|b"` (the forms gen writes).
fn matcher(m: &str) -> (String, String, String) {
    for op in ["!~", "=~", "!=", "="] {
        if let Some((n, v)) = m.split_once(op) {
            return (
                n.to_owned(),
                op.to_owned(),
                serde_json::from_str::<String>(v).unwrap(),
            );
        }
    }
    panic!("matcher {m}");
}

fn matches(ms: &[(String, String, String)], labels: &BTreeMap<&str, &str>) -> bool {
    ms.iter().all(|(n, op, v)| {
        let l = labels.get(n.as_str()).copied().unwrap_or("");
        // gen writes regexes that are plain alternations of literals.
        let in_alt = v.split('|').any(|a| a == l);
        match op.as_str() {
            "=" => l == v,
            "!=" => l != v,
            "=~" => in_alt,
            _ => !in_alt,
        }
    })
}

fn inhibited(
    rules: &[Inhibit],
    target: &BTreeMap<&str, &str>,
    firing: &[BTreeMap<&str, &str>],
) -> bool {
    rules.iter().any(|r| {
        matches(&r.target, target)
            && firing.iter().any(|s| {
                s != target
                    && matches(&r.source, s)
                    && r.equal
                        .iter()
                        .all(|e| s.get(e.as_str()) == target.get(e.as_str()))
            })
    })
}

fn labels<'a>(pairs: &[(&'a str, &'a str)]) -> BTreeMap<&'a str, &'a str> {
    pairs.iter().copied().collect()
}

#[test]
fn inhibit_rules_silence_what_they_promise_and_nothing_else() {
    let (_t, file) = generated_config(&root().join("registry"));
    let v: Value = serde_saphyr::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let list = |x: &Value| {
        x.as_array()
            .unwrap()
            .iter()
            .map(|m| matcher(m.as_str().unwrap()))
            .collect::<Vec<_>>()
    };
    let rules: Vec<Inhibit> = v["inhibit_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Inhibit {
            source: list(&r["source_matchers"]),
            target: list(&r["target_matchers"]),
            equal: r["equal"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap().to_owned())
                .collect(),
        })
        .collect();

    let down_a = labels(&[
        ("alertname", "ServiceDown"),
        ("service", "redis"),
        ("severity", "critical"),
    ]);
    let mem_a = labels(&[
        ("alertname", "MemoryHigh"),
        ("service", "redis"),
        ("severity", "warning"),
    ]);
    let mem_b = labels(&[
        ("alertname", "MemoryHigh"),
        ("service", "postgres"),
        ("severity", "warning"),
    ]);
    assert!(
        inhibited(&rules, &mem_a, &[down_a.clone(), mem_a.clone()]),
        "ServiceDown silences the service's other alerts"
    );
    assert!(
        !inhibited(&rules, &mem_b, &[down_a.clone(), mem_b.clone()]),
        "but not another service's"
    );
    assert!(
        !inhibited(&rules, &down_a, std::slice::from_ref(&down_a)),
        "nor itself"
    );

    let crit = labels(&[
        ("alertname", "MemoryHigh"),
        ("service", "redis"),
        ("severity", "critical"),
    ]);
    assert!(
        inhibited(&rules, &mem_a, &[crit.clone(), mem_a.clone()]),
        "critical silences warning of the same alert and service"
    );
    let other_alert_crit = labels(&[
        ("alertname", "SlowQuery"),
        ("service", "redis"),
        ("severity", "critical"),
    ]);
    assert!(
        !inhibited(&rules, &mem_a, &[other_alert_crit]),
        "not of another alert"
    );

    let tier = |t: &'static str, path: &'static str| {
        labels(&[
            ("alertname", "SLOErrorBudgetBurn"),
            ("service", "awoooi-api"),
            ("method", "GET"),
            ("path", path),
            ("burnrate_tier", t),
            (
                "severity",
                if t == "fast" || t == "medium" {
                    "critical"
                } else {
                    "warning"
                },
            ),
        ])
    };
    let firing = [
        tier("fast", "/a"),
        tier("medium", "/a"),
        tier("slow", "/a"),
        tier("long", "/a"),
        tier("medium", "/b"),
    ];
    assert!(
        !inhibited(&rules, &tier("fast", "/a"), &firing),
        "the fastest tier stays"
    );
    for t in ["medium", "slow", "long"] {
        assert!(
            inhibited(&rules, &tier(t, "/a"), &firing),
            "{t} is silenced by the faster tier"
        );
    }
    assert!(
        !inhibited(&rules, &tier("medium", "/b"), &firing),
        "another route's tier is not silenced"
    );
}

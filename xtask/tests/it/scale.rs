//! Large but honest registries generate: no fixed budget breaks them, and the
//! output grows by a few lines per entry. (Speed and memory are measured by
//! `cargo xtask bench`, not here.)

use crate::common::*;

/// One large registry in memory at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn registry(yaml: String) -> TempDir {
    let t = TempDir::new("scale");
    std::fs::write(t.join("r.yaml"), yaml).unwrap();
    t
}

/// Before, the parse-back of the SLO rules of 10,000 endpoints on one service
/// broke the YAML parser's 64 MiB budget and gen failed.
#[test]
fn ten_thousand_endpoints_on_one_service_generate() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut y = String::from(
        "services:\n  - name: api\n    type: docker\n    host: 127.0.0.1\n    port: 8080\n    monitoring: {prometheus: true}\n    owner: team-a\napi_endpoints:\n",
    );
    for i in 0..10_000 {
        y.push_str(&format!(
            "  - path: /api/v1/thing-{i}/{{id}}\n    method: GET\n    service: api\n    slo_availability: 99.9\n    slo_latency_ms: {}\n",
            100 + (i % 5) * 100
        ));
    }
    y.push_str("teams:\n  team-a: {webhook_url: \"http://127.0.0.1:9095/a\"}\ndefaults:\n  runbook_base_url: http://127.0.0.1/runbooks\n");
    let t = registry(y);
    let g =
        monitoring::generate(t.path(), &root().join("templates")).unwrap_or_else(|e| panic!("{e}"));
    let slo = g
        .outputs
        .iter()
        .find(|o| o.path == "prometheus/slo/api.rules.yml")
        .expect("the SLO rules");
    // Four metadata series per SLI and endpoint, about 2 KB; the shared rules
    // are a constant.
    let per_endpoint = slo.contents.len() / 10_000;
    assert!(per_endpoint < 2_500, "{per_endpoint} bytes per endpoint");
    assert_eq!(
        slo.contents
            .matches("record: 'slo:error_budget:ratio'")
            .count(),
        20_000
    );
    assert_eq!(
        slo.contents.matches("- alert: ").count(),
        4,
        "a page and a ticket per SLI"
    );
}

/// 100,000 small services, their rule files grouped by owner team: a few
/// hundred files, whatever the number of services.
#[test]
fn a_hundred_thousand_small_services_generate() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut y = String::from("services:\n");
    for i in 0..100_000 {
        y.push_str(&format!(
            "  - name: s{i}\n    type: docker\n    host: 127.0.0.1\n    port: {}\n    health_endpoint: /health\n    monitoring: {{prometheus: true}}\n    alerts: [service_down]\n    owner: team-{}\n",
            1024 + i % 60_000,
            i % 50
        ));
    }
    y.push_str("teams:\n");
    for t in 0..50 {
        y.push_str(&format!(
            "  team-{t}: {{webhook_url: \"http://127.0.0.1:9095/{t}\"}}\n"
        ));
    }
    y.push_str("defaults:\n  runbook_base_url: http://127.0.0.1/runbooks\nsettings:\n  prometheus: {group_by: team}\n");
    let t = registry(y);
    let g =
        monitoring::generate(t.path(), &root().join("templates")).unwrap_or_else(|e| panic!("{e}"));
    let rule_files = g
        .outputs
        .iter()
        .filter(|o| o.path.starts_with("prometheus/rules/"))
        .count();
    // A rule file per team, the platform's (the hosts and the prober) and
    // the monitoring's own.
    assert_eq!(rule_files, 50 + 2, "a rule file per team");
    assert!(g.outputs.len() < 200, "{} files", g.outputs.len());
    let bytes: usize = g.outputs.iter().map(|o| o.contents.len()).sum();
    assert!(
        bytes / 100_000 < 6 * 1024,
        "{} bytes per service",
        bytes / 100_000
    );
}

//! The engines teams run instead of Prometheus: vmalert evaluates every
//! generated rule file at the registry's evaluation interval (each group
//! carries it), VictoriaMetrics and vmagent scrape with `prometheus/scrape.yml`
//! under their strict parsing, and the SLO period fits the retention.

use crate::common::*;

/// Every rule file gen wrote under `prometheus/`, relative to it.
fn rule_files(out: &std::path::Path) -> Vec<String> {
    let mut files: Vec<String> = tree(&out.join("prometheus"))
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.ends_with(".rules.yml"))
        .collect();
    files.sort();
    files
}

#[test]
#[cfg_attr(
    not(has_vmalert),
    ignore = "vmalert not found (Debian package victoria-metrics; `.ci/run --install-only` installs it)"
)]
fn vmalert_dry_runs_every_rule_file_at_the_evaluation_interval() {
    if !require_tool("vmalert", "victoria-metrics") {
        return;
    }
    for reg in registries() {
        let out = gen_into(&reg);
        let files = rule_files(out.path());
        assert!(!files.is_empty(), "{}", reg.display());
        let run = std::process::Command::new("vmalert")
            .arg("-dryRun")
            .args(files.iter().map(|f| format!("-rule={f}")))
            .current_dir(out.join("prometheus"))
            .output()
            .unwrap();
        assert!(run.status.success(), "{}: {}", reg.display(), text(&run));
        // vmalert evaluates a group without `interval:` once a minute: each
        // carries the interval of the generated Prometheus.
        let config = tree(&out.join("prometheus"))
            .into_iter()
            .find(|(p, _)| p.ends_with("prometheus.yml"))
            .map(|(_, b)| String::from_utf8(b).unwrap())
            .unwrap();
        let interval = config
            .lines()
            .find_map(|l| l.trim().strip_prefix("evaluation_interval: '"))
            .and_then(|v| v.strip_suffix('\''))
            .unwrap();
        for f in &files {
            let body = std::fs::read_to_string(out.join("prometheus").join(f)).unwrap();
            assert_eq!(
                body.matches("  - name: ").count(),
                body.matches(&format!("    interval: '{interval}'")).count(),
                "{f}"
            );
        }
    }
}

#[test]
#[cfg_attr(
    not(has_victoria_metrics),
    ignore = "victoria-metrics not found (Debian package victoria-metrics; `.ci/run --install-only` installs it)"
)]
fn victoria_metrics_accepts_the_scrape_config_and_refuses_prometheus_own() {
    if !require_tool("victoria-metrics", "victoria-metrics") {
        return;
    }
    for reg in registries() {
        let out = gen_into(&reg);
        let dry_run = |config: &str| {
            std::process::Command::new("victoria-metrics")
                .arg(format!("-promscrape.config={config}"))
                .arg("-promscrape.config.dryRun")
                .current_dir(out.join("prometheus"))
                .output()
                .unwrap()
        };
        let ok = dry_run("scrape.yml");
        assert!(ok.status.success(), "{}: {}", reg.display(), text(&ok));
        // Why scrape.yml exists: its strict parsing refuses rule_files and alerting.
        if out.join("prometheus/prometheus.yml").exists() {
            let refused = dry_run("prometheus.yml");
            assert!(!refused.status.success(), "{}", text(&refused));
        }
    }
}

#[test]
fn an_slo_period_longer_than_the_retention_is_warned_once_where_it_applies() {
    let with = |settings: &str, endpoint: &str| {
        let t = TempDir::new("retention");
        std::fs::write(
            t.join("r.yaml"),
            format!(
                "services:\n  - {{name: api, type: docker, host: 127.0.0.1, port: 8080, health_endpoint: /health, monitoring: {{prometheus: true}}, owner: team-a}}\n{endpoint}teams:\n  team-a: {{webhook_url: \"http://127.0.0.1:9095/a\"}}\ndefaults:\n  platform_owner: team-a\nsettings:\n{settings}"
            ),
        )
        .unwrap();
        let out = TempDir::new("retention-out");
        text(&on("gen", t.path(), out.path()))
    };
    let slo = "api_endpoints:\n  - {path: /x, method: GET, service: api, slo_availability: 99.9}\n";
    let said = with("  slo_period: 30d\n", slo);
    assert!(
        said.contains("the SLO period (30d) is longer than Prometheus keeps samples (15d)")
            && said.contains("(settings.prometheus.retention)")
            && said.contains("--storage.tsdb.retention.time=30d"),
        "{said}"
    );
    for (settings, endpoint) in [
        ("  slo_period: 30d\n  prometheus: {retention: 30d}\n", slo),
        ("  slo_period: 14d\n", slo),
        ("  slo_period: 30d\n", ""),
    ] {
        let said = with(settings, endpoint);
        assert!(
            !said.contains("longer than Prometheus keeps"),
            "{settings}{endpoint}: {said}"
        );
    }
}

//! Silence is an alert: the Watchdog always fires and reaches only the dead
//! man's switch; Prometheus' and Alertmanager's own failures (rule failures,
//! alerts that cannot be sent, failed notifications, failed reloads) page the
//! platform owner; without a switch gen says the monitoring's own stop goes
//! unnoticed. Judged by promtool (the generated rules over injected series)
//! and amtool (the routes).

use std::path::Path;

use crate::common::*;

/// A team's service, the platform team, and a dead man's switch.
fn registry(heartbeat: &str) -> String {
    format!(
        r#"services:
  - name: app
    type: docker
    host: 127.0.0.1
    port: 8080
    health_endpoint: /health
    monitoring: {{prometheus: true}}
    owner: team-a
teams:
  team-a: {{webhook_url: "http://127.0.0.1:9095/a", paging_webhook_url: "http://127.0.0.1:9095/a-page"}}
  platform: {{webhook_url: "http://127.0.0.1:9095/p", paging_webhook_url: "http://127.0.0.1:9095/p-page"}}
defaults:
  platform_owner: platform
settings:
  prometheus_address: 127.0.0.1:9090
  alertmanager:
    default_webhook_url: "http://127.0.0.1:9095/default"
{heartbeat}"#
    )
}

const HEARTBEAT: &str =
    "    heartbeat: {url: \"http://127.0.0.1:9095/heartbeat\", repeat_interval: 30s}\n";

fn route(config: &Path, labels: &[&str]) -> String {
    let out = std::process::Command::new("amtool")
        .args(["config", "routes", "test"])
        .arg(format!("--config.file={}", config.display()))
        .args(labels)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The firing alerts of the generated rules after `minutes` of `series`
/// (promtool notation, one sample a minute), as `Name owner severity`.
fn firing(out: &Path, series: &[(&str, &str)], minutes: u32, expected: &[&str]) {
    let mut input = String::new();
    for (s, v) in series {
        input.push_str(&format!("      - series: '{s}'\n        values: '{v}'\n"));
    }
    let mut samples = String::new();
    for e in expected {
        let [name, owner, severity] = e.split(' ').collect::<Vec<_>>()[..] else {
            panic!("{e}: write `Name owner severity`")
        };
        samples.push_str(&format!(
            "          - labels: '{{alertname=\"{name}\", owner=\"{owner}\", severity=\"{severity}\"}}'\n            value: 1\n"
        ));
    }
    let test = format!(
        "rule_files: [rules/_monitoring.rules.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n{input}    promql_expr_test:\n      - expr: 'count by (alertname, owner, severity) (ALERTS{{alertstate=\"firing\"}})'\n        eval_time: {minutes}m\n        exp_samples:\n{samples}"
    );
    std::fs::write(out.join("prometheus/silence.test.yml"), test).unwrap();
    promtool_ok(
        ["test", "rules", "silence.test.yml"],
        Some(&out.join("prometheus")),
        "the monitoring's own alerts",
    );
}

#[test]
#[cfg_attr(
    not(all(has_promtool, has_amtool)),
    ignore = "promtool or amtool not found (Debian packages prometheus, prometheus-alertmanager)"
)]
fn the_watchdog_always_fires_and_reaches_only_the_dead_mans_switch() {
    if !require_tool("promtool", "prometheus") || !require_tool("amtool", "prometheus-alertmanager")
    {
        return;
    }
    let reg = TempDir::new("silence-reg");
    std::fs::write(reg.join("r.yaml"), registry(HEARTBEAT)).unwrap();
    let out = gen_into(reg.path());
    // With nothing else fed, only the Watchdog fires, at every moment.
    firing(out.path(), &[], 1, &["Watchdog platform info"]);
    firing(out.path(), &[], 600, &["Watchdog platform info"]);
    let am = out.join("alertmanager/alertmanager.yml");
    assert_eq!(
        route(
            &am,
            &["alertname=Watchdog", "owner=platform", "severity=info"]
        ),
        "_heartbeat"
    );
    let config = std::fs::read_to_string(&am).unwrap();
    assert!(
        config.contains("      repeat_interval: '30s'")
            && config
                .contains("url: 'http://127.0.0.1:9095/heartbeat'\n        send_resolved: false"),
        "{config}"
    );
    // Prometheus scrapes itself and Alertmanager, where the alerts read.
    let prom = std::fs::read_to_string(out.join("prometheus/prometheus.yml")).unwrap();
    assert!(
        prom.contains("job_name: 'monitoring-prometheus'\n    static_configs:\n      - targets: ['127.0.0.1:9090']")
            && prom.contains("job_name: 'monitoring-alertmanager'"),
        "{prom}"
    );
}

#[test]
#[cfg_attr(
    not(all(has_promtool, has_amtool)),
    ignore = "promtool or amtool not found (Debian packages prometheus, prometheus-alertmanager)"
)]
fn the_monitorings_own_failures_page_the_platform_owner() {
    if !require_tool("promtool", "prometheus") || !require_tool("amtool", "prometheus-alertmanager")
    {
        return;
    }
    let reg = TempDir::new("silence-reg");
    std::fs::write(reg.join("r.yaml"), registry(HEARTBEAT)).unwrap();
    let out = gen_into(reg.path());
    let p = r#"job="monitoring-prometheus", instance="127.0.0.1:9090""#;
    let a = r#"job="monitoring-alertmanager", instance="127.0.0.1:9093""#;
    let healthy = |extra: &[(String, String)]| -> Vec<(String, String)> {
        let mut s = vec![
            (
                format!("prometheus_rule_evaluation_failures_total{{{p}, rule_group=\"g\"}}"),
                "0x60".to_owned(),
            ),
            (
                format!("prometheus_notifications_alertmanagers_discovered{{{p}}}"),
                "1x60".to_owned(),
            ),
            (
                format!("prometheus_notifications_errors_total{{{p}, alertmanager=\"am\"}}"),
                "0x60".to_owned(),
            ),
            (
                format!("prometheus_notifications_sent_total{{{p}, alertmanager=\"am\"}}"),
                "0+10x60".to_owned(),
            ),
            (
                format!("prometheus_config_last_reload_successful{{{p}}}"),
                "1x60".to_owned(),
            ),
            (
                format!("alertmanager_notifications_failed_total{{{a}, integration=\"webhook\"}}"),
                "0x60".to_owned(),
            ),
            (
                format!("alertmanager_notifications_total{{{a}, integration=\"webhook\"}}"),
                "0+10x60".to_owned(),
            ),
            (
                format!("alertmanager_config_last_reload_successful{{{a}}}"),
                "1x60".to_owned(),
            ),
        ];
        for (k, v) in extra {
            let name = k.split('{').next().unwrap();
            s.retain(|(s, _)| !s.starts_with(&format!("{name}{{")));
            s.push((k.clone(), v.clone()));
        }
        s
    };
    let drill = |extra: &[(String, String)], expected: &[&str]| {
        let series = healthy(extra);
        let refs: Vec<(&str, &str)> = series
            .iter()
            .map(|(s, v)| (s.as_str(), v.as_str()))
            .collect();
        let mut all = vec!["Watchdog platform info"];
        all.extend_from_slice(expected);
        firing(out.path(), &refs, 45, &all);
    };
    drill(&[], &[]);
    // A team's webhook refuses half of the notifications.
    drill(
        &[(
            format!("alertmanager_notifications_failed_total{{{a}, integration=\"webhook\"}}"),
            "0+5x60".to_owned(),
        )],
        &["AlertmanagerNotificationsFailing platform critical"],
    );
    // Alertmanager is gone: every send fails.
    drill(
        &[(
            format!("prometheus_notifications_errors_total{{{p}, alertmanager=\"am\"}}"),
            "0+10x60".to_owned(),
        )],
        &["PrometheusAlertmanagerUnreachable platform critical"],
    );
    drill(
        &[(
            format!("prometheus_rule_evaluation_failures_total{{{p}, rule_group=\"g\"}}"),
            "0+1x60".to_owned(),
        )],
        &["PrometheusRuleFailures platform critical"],
    );
    drill(
        &[
            (
                format!("prometheus_config_last_reload_successful{{{p}}}"),
                "0x60".to_owned(),
            ),
            (
                format!("alertmanager_config_last_reload_successful{{{a}}}"),
                "0x60".to_owned(),
            ),
        ],
        &[
            "AlertmanagerConfigReloadFailed platform warning",
            "PrometheusConfigReloadFailed platform warning",
        ],
    );
    // The critical ones page the platform team, not the team whose channel failed.
    let am = out.join("alertmanager/alertmanager.yml");
    assert_eq!(
        route(
            &am,
            &[
                "alertname=AlertmanagerNotificationsFailing",
                "owner=platform",
                "severity=critical",
                "integration=webhook"
            ]
        ),
        "platform/paging"
    );
}

#[test]
fn without_a_dead_mans_switch_gen_warns_and_writes_no_watchdog() {
    let reg = TempDir::new("silence-reg");
    std::fs::write(reg.join("r.yaml"), registry("")).unwrap();
    let out = TempDir::new("silence-out");
    let o = on("gen", reg.path(), out.path());
    let said = text(&o);
    assert!(o.status.success(), "{said}");
    assert!(
        said.contains(
            "no alert detects monitoring_silent of Prometheus and Alertmanager themselves"
        ) && said.contains("r.yaml:15:3 (settings.alertmanager.heartbeat)"),
        "{said}"
    );
    let rules =
        std::fs::read_to_string(out.join("prometheus/rules/_monitoring.rules.yml")).unwrap();
    assert!(
        !rules.contains("Watchdog") && rules.contains("AlertmanagerNotificationsFailing"),
        "{rules}"
    );
    let am = std::fs::read_to_string(out.join("alertmanager/alertmanager.yml")).unwrap();
    assert!(!am.contains("_heartbeat"), "{am}");
    // A heartbeat URL is checked as every URL: no secret in it.
    let (ok, said) = {
        std::fs::write(
            reg.join("r.yaml"),
            registry("    heartbeat: {url: \"https://user:pw@hc.example.org/ping\"}\n"),
        )
        .unwrap();
        let o = on("gen", reg.path(), out.path());
        (o.status.success(), text(&o))
    };
    assert!(!ok && said.contains("alertmanager.heartbeat.url"), "{said}");
}

/// A team notified only through a service the registry monitors hears
/// nothing while that service is down (the example's teams all posted to its
/// API's webhook): gen says so, for all notifications or only the pages,
/// until a channel outside the monitored system is added.
#[test]
fn teams_notified_only_through_a_monitored_service_are_warned() {
    let reg = |teams: &str| {
        format!(
            "services:
  - {{name: api, type: k8s-deployment, namespace: prod, port: 8000, health_endpoint: /health, owner: team-a}}
  - {{name: hooks, type: docker, host: 10.0.0.9, port: 8080, health_endpoint: /health, owner: team-a}}
teams:
{teams}defaults:
  platform_owner: team-a
settings:
  alertmanager:
    heartbeat: {{url: \"https://hb.example.org/ping\"}}
"
        )
    };
    let said = |teams: &str| {
        let t = TempDir::new("self-served");
        std::fs::write(t.join("r.yaml"), reg(teams)).unwrap();
        let out = TempDir::new("self-served-out");
        let o = on("gen", t.path(), out.path());
        assert!(o.status.success(), "{}", text(&o));
        text(&o)
    };
    let all = said("  team-a: {webhook_url: \"http://api.prod.svc:8000/alerts\"}\n");
    assert!(
        all.contains("every notification of team \"team-a\" goes through \"api\", a service this registry monitors"),
        "{all}"
    );
    let pages = said(
        "  team-a: {webhook_url: \"https://chat.example.org/hook\", paging_webhook_url: \"http://10.0.0.9:8080/page\"}\n",
    );
    assert!(
        pages.contains("every page of team \"team-a\" goes through \"hooks\""),
        "{pages}"
    );
    for fine in [
        "  team-a:\n    webhook_url: \"http://api.prod.svc:8000/alerts\"\n    page: [{pagerduty: {routing_key_file: /etc/am/pd}}]\n",
        "  team-a: {webhook_url: \"http://10.0.0.9:9090/other-port\"}\n",
    ] {
        let s = said(fine);
        assert!(
            !s.contains("a service this registry monitors"),
            "{fine}: {s}"
        );
    }
}

/// The operator's Prometheus evaluates the k8s services' groups and sent
/// their alerts only to the cluster's own Alertmanager (kube-prometheus-stack
/// routes everything to `null`): gen says so, and with the generated
/// Alertmanager's address writes the Secret its Prometheus resource names.
#[test]
fn cluster_alerts_reach_the_generated_alertmanager() {
    let reg = |kubernetes: &str| {
        let t = TempDir::new("cluster-am");
        std::fs::write(
            t.join("r.yaml"),
            format!(
                "services:
  - {{name: api, type: k8s-deployment, namespace: prod, port: 8000, health_endpoint: /health, monitoring: {{prometheus: true}}, owner: team-a}}
teams:
  team-a: {{webhook_url: \"https://chat.example.org/a\"}}
defaults:
  platform_owner: team-a
settings:
  alertmanager:
    heartbeat: {{url: \"https://hb.example.org/ping\"}}
{kubernetes}"
            ),
        )
        .unwrap();
        let out = TempDir::new("cluster-am-out");
        let o = on("gen", t.path(), out.path());
        assert!(o.status.success(), "{}", text(&o));
        (text(&o), out)
    };
    let (said, out) = reg("");
    assert!(
        said.contains(
            "sends their alerts to its own Alertmanager, which knows none of the generated routes"
        ) && said.contains("(settings.kubernetes.alertmanager_address)"),
        "{said}"
    );
    assert!(!out.join("kubernetes/_alertmanagers.secret.yaml").exists());
    let (said, out) = reg("  kubernetes: {alertmanager_address: \"10.1.2.3:9093\"}\n");
    assert!(
        !said.contains("knows none of the generated routes"),
        "{said}"
    );
    let secret =
        std::fs::read_to_string(out.join("kubernetes/_alertmanagers.secret.yaml")).unwrap();
    assert!(secret.contains("- targets: ['10.1.2.3:9093']"), "{secret}");
    let manifest = std::fs::read_to_string(out.join("manifest.txt")).unwrap();
    assert!(
        manifest.contains("kubernetes/_alertmanagers.secret.yaml"),
        "{manifest}"
    );
}

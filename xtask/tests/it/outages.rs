//! Outage drills on promtool: a small loopback registry the tests own, its
//! generated rules fed a healthy world, then a failure (a series' value or its
//! absence) injected; the firing alerts are counted by name, owner and
//! severity, so a missing page and a second page for one incident both fail.
//! The registry lists no alert for most entries: what fires is what every new
//! service gets without asking.

use std::path::Path;

use crate::common::*;

const REGISTRY: &str = r#"services:
  - name: app
    type: docker
    host: 127.0.0.1
    port: 8080
    health_endpoint: /health
    monitoring: {prometheus: true}
    owner: team-a
  - name: worker
    type: docker
    host: 127.0.0.1
    port: 8081
    health_endpoint: /health
    monitoring: {prometheus: true}
    alerts: [queue_backlog]
    owner: team-b
  - name: web
    type: k8s-deployment
    namespace: prod
    port: 3000
    health_endpoint: /
    monitoring: {prometheus: true}
    owner: team-b
teams:
  team-a: {webhook_url: "http://127.0.0.1:9095/a"}
  team-b: {webhook_url: "http://127.0.0.1:9095/b"}
  platform: {webhook_url: "http://127.0.0.1:9095/p"}
defaults:
  platform_owner: platform
settings:
  host_exporters: {node_exporter: 9100}
  kubernetes: {provides: [kube-state-metrics, cadvisor]}
"#;

/// The series of the registry above when all is well, by a key a drill
/// replaces: every scrape target's `up`, every probe, kube-state-metrics.
fn healthy() -> Vec<(&'static str, String)> {
    let up = |job: &str, instance: &str, extra: &str| {
        format!(r#"up{{job="{job}", instance="{instance}"{extra}}}"#)
    };
    let svc = |name: &str, owner: &str| {
        format!(r#", service="{name}", owner="{owner}", host="127.0.0.1""#)
    };
    let probe = |name: &str, owner: &str, port: u16| {
        format!(
            r#"{{job="blackbox-http", instance="http://127.0.0.1:{port}/health"{}}}"#,
            svc(name, owner)
        )
    };
    let web = r#"{job="blackbox-cluster", instance="http://web.prod.svc:3000/", service="web", owner="team-b"}"#;
    let ksm = r#"namespace="prod", pod="web-7d9f8b6c5-x2x4z", container="web""#;
    vec![
        ("app up", up("app", "127.0.0.1:8080", &svc("app", "team-a"))),
        ("worker up", up("worker", "127.0.0.1:8081", &svc("worker", "team-b"))),
        ("node up", up("node_exporter", "127.0.0.1:9100", r#", host="127.0.0.1""#)),
        ("app probe", format!("probe_success{}", probe("app", "team-a", 8080))),
        ("app prober", format!("up{}", probe("app", "team-a", 8080))),
        ("worker probe", format!("probe_success{}", probe("worker", "team-b", 8081))),
        ("worker prober", format!("up{}", probe("worker", "team-b", 8081))),
        ("web probe", format!("probe_success{web}")),
        ("web prober", format!("up{web}")),
        ("web up", up("web", "10.0.0.7:3000", r#", service="web", owner="team-b", namespace="prod", pod="web-7d9f8b6c5-x2x4z""#)),
        ("web pending", r#"kube_pod_status_phase{namespace="prod", pod="web-7d9f8b6c5-x2x4z", phase="Pending"}"#.to_owned()),
        ("web waiting", format!(r#"kube_pod_container_status_waiting_reason{{reason="CrashLoopBackOff", {ksm}}}"#)),
        ("web wanted", r#"kube_deployment_spec_replicas{namespace="prod", deployment="web"}"#.to_owned()),
        ("web available", r#"kube_deployment_status_replicas_available{namespace="prod", deployment="web"}"#.to_owned()),
        ("queue a", r#"worker_queue_depth{service="worker", instance="127.0.0.1:8081"}"#.to_owned()),
    ]
}

/// The healthy value of a series: 1 for up, probes and readiness, the
/// replicas wanted, no crash loop, an empty queue.
fn healthy_value(key: &str) -> &'static str {
    match key {
        "web waiting" | "web pending" | "queue a" => "0",
        "web wanted" | "web available" => "2",
        _ => "1",
    }
}

/// One drill: the healthy world for an hour with `inject` replacing some of
/// its series' values (promtool notation over the hour, one sample a
/// minute; `_` leaves a gap) or adding series; at each `(minute, alerts)` the
/// firing alerts are exactly `alerts`, as `Name owner severity`.
fn drill(
    out: &Path,
    what: &str,
    inject: &[(&str, &str)],
    extra: &[(&str, &str)],
    at: &[(u32, &[&str])],
) {
    let mut rule_files: Vec<String> = tree(&out.join("prometheus"))
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.ends_with(".rules.yml"))
        .collect();
    rule_files.sort();
    let mut input = String::new();
    for (key, series) in healthy() {
        let values = inject.iter().find(|(k, _)| *k == key).map_or_else(
            || format!("{}x60", healthy_value(key)),
            |(_, v)| (*v).to_owned(),
        );
        input.push_str(&format!(
            "      - series: '{series}'\n        values: '{values}'\n"
        ));
    }
    for (series, values) in extra {
        input.push_str(&format!(
            "      - series: '{series}'\n        values: '{values}'\n"
        ));
    }
    let mut checks = String::new();
    for (minute, alerts) in at {
        checks.push_str(&format!(
            "      - expr: 'count by (alertname, owner, severity) (ALERTS{{alertstate=\"firing\"}})'\n        eval_time: {minute}m\n        exp_samples:\n"
        ));
        for a in *alerts {
            let [name, owner, severity] = a.split(' ').collect::<Vec<_>>()[..] else {
                panic!("{a}: write `Name owner severity`")
            };
            checks.push_str(&format!(
                "          - labels: '{{alertname=\"{name}\", owner=\"{owner}\", severity=\"{severity}\"}}'\n            value: 1\n"
            ));
        }
    }
    let file = out.join("prometheus/drill.test.yml");
    std::fs::write(
        &file,
        format!(
            "rule_files: {rule_files:?}\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n{input}    promql_expr_test:\n{checks}"
        ),
    )
    .unwrap();
    promtool_ok(
        ["test", "rules", "drill.test.yml"],
        Some(&out.join("prometheus")),
        &format!("drill `{what}`"),
    );
}

/// The registry above and gen's output for it; `None` (a visible skip, a
/// failure under CI) without promtool.
fn generated() -> Option<(TempDir, TempDir)> {
    if !require_tool("promtool", "prometheus") {
        return None;
    }
    let reg = TempDir::new("outage-reg");
    std::fs::write(reg.join("r.yaml"), REGISTRY).unwrap();
    let out = gen_into(reg.path());
    Some((reg, out))
}

#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus)"
)]
fn a_healthy_world_fires_nothing() {
    let Some((_reg, out)) = generated() else {
        return;
    };
    drill(out.path(), "healthy", &[], &[], &[(30, &[]), (59, &[])]);
}

#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus)"
)]
fn a_service_listed_without_alerts_pages_when_its_probe_fails() {
    let Some((_reg, out)) = generated() else {
        return;
    };
    drill(
        out.path(),
        "app's health probe fails from minute 10 to 30",
        &[("app probe", "1x9 0x20 1x30")],
        &[],
        &[(9, &[]), (20, &["ServiceDown team-a critical"]), (40, &[])],
    );
    drill(
        out.path(),
        "k8s web's probe fails",
        &[("web probe", "1x9 0x50")],
        &[],
        &[(20, &["ServiceDown team-b critical"])],
    );
}

#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus)"
)]
fn a_target_that_stops_exporting_fires_target_down() {
    let Some((_reg, out)) = generated() else {
        return;
    };
    drill(
        out.path(),
        "worker's /metrics answers no more",
        &[("worker up", "1x9 0x50")],
        &[],
        &[(9, &[]), (30, &["TargetDown team-b warning"])],
    );
    drill(
        out.path(),
        "worker's scrape job is gone (no `up` at all)",
        &[("worker up", "1x9 _x50")],
        &[],
        &[(40, &["TargetDown team-b warning"])],
    );
}

#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus)"
)]
fn a_dead_prober_is_an_alert_not_a_silent_resolve() {
    let Some((_reg, out)) = generated() else {
        return;
    };
    let gone = "1x9 _x50";
    let down = "1x9 0x50";
    drill(
        out.path(),
        "blackbox_exporter dies: probe results stop, its scrapes fail",
        &[
            ("app probe", gone),
            ("worker probe", gone),
            ("app prober", down),
            ("worker prober", down),
        ],
        &[],
        &[(30, &["ProberDown platform critical"])],
    );
}

#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus)"
)]
fn a_down_host_fires_host_down_and_a_dead_node_exporter_its_own_alert() {
    let Some((_reg, out)) = generated() else {
        return;
    };
    drill(
        out.path(),
        "node_exporter on 127.0.0.1 stops",
        &[("node up", "1x9 0x50")],
        &[],
        &[(30, &["HostExporterDown platform warning"])],
    );
    // Everything on the host fails at once: the host's alert fires, and the
    // services' own alerts fire too, carrying `host` so that Alertmanager's
    // HostDown inhibition (tested in `alertmanager`) leaves one page.
    let down = "1x9 0x50";
    drill(
        out.path(),
        "host 127.0.0.1 goes down",
        &[
            ("node up", down),
            ("app up", down),
            ("worker up", down),
            ("app probe", down),
            ("worker probe", down),
        ],
        &[],
        &[(
            30,
            &[
                "HostDown platform critical",
                "HostExporterDown platform warning",
                "ServiceDown team-a critical",
                "ServiceDown team-b critical",
                "TargetDown team-a warning",
                "TargetDown team-b warning",
            ],
        )],
    );
    let rules = text_of(&out.path().join("prometheus/rules"));
    assert!(
        rules.contains("host: '127.0.0.1'"),
        "the services' rules carry their host, for the inhibition:\n{rules}"
    );
}

#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus)"
)]
fn a_k8s_deployment_is_watched_for_crash_loops_unready_pods_and_missing_replicas() {
    let Some((_reg, out)) = generated() else {
        return;
    };
    // Back-off cycles: waiting 5 minutes, running 2, for the whole hour. The
    // alert fires once and stays firing: it must not resolve every cycle.
    let cycles = "1 1 1 1 1 0 0 ".repeat(9);
    drill(
        out.path(),
        "web crash loops",
        &[("web waiting", cycles.trim())],
        &[],
        &[
            (10, &[]),
            (25, &["PodCrashLoopBackOff team-b warning"]),
            (40, &["PodCrashLoopBackOff team-b warning"]),
            (47, &["PodCrashLoopBackOff team-b warning"]),
            (52, &["PodCrashLoopBackOff team-b warning"]),
        ],
    );
    drill(
        out.path(),
        "web's pod stays Pending (never ready)",
        &[("web pending", "0x9 1x50"), ("web available", "2x9 1x50")],
        &[],
        &[(
            40,
            &[
                "PodNotReady team-b warning",
                "ReplicasMismatch team-b warning",
            ],
        )],
    );
    drill(
        out.path(),
        "web is scaled to 0 replicas available",
        &[("web available", "2x9 0x50")],
        &[],
        &[(40, &["ReplicasMismatch team-b warning"])],
    );
}

#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus)"
)]
fn a_k8s_deployment_is_paged_when_its_persistent_volume_fills_and_only_its_own() {
    let Some((_reg, out)) = generated() else {
        return;
    };
    let claim = |pvc: &str, pod: &str, avail: &str| {
        [
            (
                format!(
                    r#"kubelet_volume_stats_available_bytes{{namespace="prod", persistentvolumeclaim="{pvc}"}}"#
                ),
                avail.to_owned(),
            ),
            (
                format!(
                    r#"kubelet_volume_stats_capacity_bytes{{namespace="prod", persistentvolumeclaim="{pvc}"}}"#
                ),
                "1000x60".to_owned(),
            ),
            (
                format!(
                    r#"kube_pod_spec_volumes_persistentvolumeclaims_info{{namespace="prod", pod="{pod}", persistentvolumeclaim="{pvc}", volume="data"}}"#
                ),
                "1x60".to_owned(),
            ),
        ]
    };
    // web's claim fills from minute 20; a neighbour's claim in the same
    // namespace is full all along, and pages nobody (not web's team).
    let series: Vec<(String, String)> = claim("web-data", "web-7d9f8b6c5-x2x4z", "500x19 10x40")
        .into_iter()
        .chain(claim("other-data", "other-5b6c7d8e9-abcde", "5x60"))
        .collect();
    let extra: Vec<(&str, &str)> = series
        .iter()
        .map(|(s, v)| (s.as_str(), v.as_str()))
        .collect();
    drill(
        out.path(),
        "web's persistent volume fills",
        &[],
        &extra,
        &[(15, &[]), (30, &["VolumeFull team-b critical"])],
    );
}

#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus)"
)]
fn a_shared_queue_is_not_summed_over_replicas() {
    let Some((_reg, out)) = generated() else {
        return;
    };
    // Three replicas report the same shared queue of 40 jobs: 40, not 120,
    // and not above the threshold of 100.
    let depth = r#"worker_queue_depth{service="worker", instance="127.0.0.1:18081"}"#;
    let depth2 = r#"worker_queue_depth{service="worker", instance="127.0.0.1:28081"}"#;
    drill(
        out.path(),
        "three replicas of one queue of 40",
        &[("queue a", "40x60")],
        &[(depth, "40x60"), (depth2, "40x60")],
        &[(30, &[])],
    );
    drill(
        out.path(),
        "a backlog of 150",
        &[("queue a", "150x60")],
        &[(depth, "150x60"), (depth2, "150x60")],
        &[(30, &["QueueBacklog team-b warning"])],
    );
}

/// Every file under `dir`, concatenated.
fn text_of(dir: &Path) -> String {
    tree(dir)
        .into_iter()
        .map(|(_, b)| String::from_utf8_lossy(&b).into_owned())
        .collect()
}

/// `gen` on a one-file registry: its status and output.
fn gen_text(registry: &str) -> (bool, String) {
    let reg = TempDir::new("outage-reg");
    std::fs::write(reg.join("r.yaml"), registry).unwrap();
    let out = TempDir::new("outage-out");
    let o = on("gen", reg.path(), out.path());
    (o.status.success(), text(&o))
}

/// A docker service `svc` with `fields` (indented entry lines) added.
fn one_service(fields: &str, settings: &str) -> String {
    format!(
        "services:
  - name: svc
    type: docker
    host: 127.0.0.1
    port: 8080
    health_endpoint: /health
    monitoring: {{prometheus: true}}
    owner: team-a
{fields}teams:
  team-a: {{webhook_url: \"http://127.0.0.1:9095/a\"}}
defaults:
  platform_owner: team-a
settings:
{settings}"
    )
}

#[test]
fn thresholds_the_metric_cannot_reach_are_refused_at_the_alert() {
    for (alert, threshold, says) in [
        // The probe gives up after the module's timeout: its duration never exceeds it.
        ("inference_timeout", "10", "5s"),
        // histogram_quantile tops out at the highest finite bucket.
        ("analysis_timeout", "60", "bucket"),
        // A ratio is never above 1.
        ("memory_high", "1", "never"),
        ("high_error_rate", "1", "never"),
    ] {
        let (ok, out) = gen_text(&one_service(
            &format!("    alerts:\n      - name: {alert}\n        threshold: {threshold}\n"),
            "",
        ));
        assert!(!ok, "{alert} at {threshold} is accepted:\n{out}");
        assert!(out.contains("r.yaml:"), "names the file: {out}");
        assert!(
            out.contains("services[0].alerts[0].threshold") && out.contains(says),
            "{alert} at {threshold}: the error names the field and why ({says}):\n{out}"
        );
        assert!(!out.contains("panicked"), "{out}");
    }
}

#[test]
fn a_for_too_long_to_test_is_refused() {
    let (ok, out) = gen_text(&one_service(
        "    alerts:\n      - name: service_down\n        for: 1y\n",
        "",
    ));
    assert!(!ok, "for: 1y is accepted:\n{out}");
    assert!(out.contains("services[0].alerts[0].for"), "{out}");
}

#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus)"
)]
fn the_generated_tests_pass_at_the_ends_of_what_is_accepted() {
    if !require_tool("promtool", "prometheus") {
        return;
    }
    for (what, fields) in [
        (
            "memory_high at 0",
            "    alerts:\n      - name: memory_high\n        threshold: 0\n",
        ),
        (
            "high_error_rate at 0",
            "    alerts:\n      - name: high_error_rate\n        threshold: 0\n",
        ),
        (
            "service_down for 1d",
            "    alerts:\n      - name: service_down\n        for: 1d\n",
        ),
    ] {
        let reg = TempDir::new("outage-reg");
        let settings = "  host_exporters: {cadvisor: 8080}\n";
        std::fs::write(reg.join("r.yaml"), one_service(fields, settings)).unwrap();
        let out = gen_into(reg.path());
        let tests: Vec<String> = tree(&out.path().join("prometheus"))
            .into_iter()
            .map(|(p, _)| p)
            .filter(|p| p.ends_with(".test.yml"))
            .collect();
        assert!(!tests.is_empty());
        let mut args = vec!["test".to_owned(), "rules".to_owned()];
        args.extend(tests);
        promtool_ok(args, Some(&out.path().join("prometheus")), what);
    }
    // An SLO whose fast tier can never fire: the generated test does not expect it to.
    let reg = one_slo_registry("  scrape_interval: 15s\n", "    slo_availability: 90\n");
    let yaml = std::fs::read_to_string(reg.join("r.yaml")).unwrap();
    std::fs::write(
        reg.join("r.yaml"),
        yaml.replace("    slo_availability: 99.9\n", ""),
    )
    .unwrap();
    let out = gen_into(reg.path());
    let tests: Vec<String> = tree(&out.path().join("prometheus"))
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.ends_with(".test.yml"))
        .collect();
    let mut args = vec!["test".to_owned(), "rules".to_owned()];
    args.extend(tests);
    promtool_ok(args, Some(&out.path().join("prometheus")), "a 90 % SLO");
}

#[test]
fn slo_and_application_alerts_select_series_that_exist() {
    // A latency objective between the buckets the application declares.
    let reg = one_slo_registry(
        "  latency_buckets_seconds: [0.1, 0.25, 0.5, 1]\n",
        "    slo_latency_ms: 450\n",
    );
    let out = TempDir::new("outage-out");
    let o = on("gen", reg.path(), out.path());
    let said = text(&o);
    assert!(!o.status.success(), "{said}");
    assert!(
        said.contains("slo_latency_ms 450 is not a bucket")
            && said.contains("api_endpoints[0].slo_latency_ms"),
        "{said}"
    );
    // A raw query that selects an integer bucket finds nothing on Prometheus 3.
    let reg = one_slo_registry(
        "",
        "    slo_latency_ms: 1000\n    sli:\n      error_query: sum(rate(x_total{code=\"5\"}[{{.window}}]))\n      total_query: sum(rate(x_total[{{.window}}]))\n      slow_query: sum(rate(x_total[{{.window}}])) - sum(rate(x_seconds_bucket{le=\"1\"}[{{.window}}]))\n",
    );
    let o = on("gen", reg.path(), out.path());
    let said = text(&o);
    assert!(!o.status.success(), "{said}");
    assert!(
        said.contains("le=\"1.0\"") && said.contains("sli.slow_query"),
        "{said}"
    );
    // The application's alerts read the metric names of the SLI preset.
    let reg = one_slo_registry("  slo: {metrics: {preset: opentelemetry}}\n", "");
    let yaml = std::fs::read_to_string(reg.join("r.yaml")).unwrap();
    std::fs::write(
        reg.join("r.yaml"),
        yaml.replace(
            "    owner: team-a\napi",
            "    alerts: [high_error_rate, slow_response]\n    owner: team-a\napi",
        ),
    )
    .unwrap();
    let out = gen_into(reg.path());
    let rules = text_of(&out.path().join("prometheus/rules"));
    assert!(
        rules.contains("http_server_request_duration_seconds_count{service=\"api\", http_response_status_code=~\"5..\"}")
            && rules.contains("http_server_request_duration_seconds_bucket{service=\"api\"}")
            && !rules.contains("http_requests_total"),
        "{rules}"
    );
}

#[test]
fn the_platform_alerts_take_overrides_and_refuse_other_alerts() {
    let (ok, out) = gen_text(&one_service("", "").replace(
        "  platform_owner: team-a\n",
        "  platform_owner: team-a\n  platform_alerts: [{name: prober_down, for: 30s}, {name: host_down, severity: warning}]\n",
    ));
    assert!(ok, "{out}");
    let (ok, out) = gen_text(&one_service("", "").replace(
        "  platform_owner: team-a\n",
        "  platform_owner: team-a\n  platform_alerts: [service_down]\n",
    ));
    assert!(!ok, "{out}");
    assert!(
        out.contains("defaults.platform_alerts[0]") && out.contains("does not apply to a host"),
        "{out}"
    );
    let reg = TempDir::new("outage-reg");
    std::fs::write(
        reg.join("r.yaml"),
        one_service("", "").replace(
            "  platform_owner: team-a\n",
            "  platform_owner: team-a\n  platform_alerts: [{name: prober_down, for: 30s}, {name: host_down, severity: warning}]\n",
        ),
    )
    .unwrap();
    let out = gen_into(reg.path());
    let rules = text_of(&out.path().join("prometheus/rules"));
    let rule = |alert: &str| {
        let i = rules
            .find(&format!("- alert: '{alert}'"))
            .unwrap_or_else(|| panic!("{rules}"));
        rules[i..].lines().take(9).collect::<Vec<_>>().join("\n")
    };
    assert!(rule("ProberDown").contains("for: '30s'"), "{rules}");
    assert!(rule("HostDown").contains("severity: 'warning'"), "{rules}");
    assert_eq!(rules.matches("- alert: 'HostDown'").count(), 1, "{rules}");
}

#[test]
fn an_undetected_mode_is_warned_at_its_entry_and_an_opt_out_needs_a_known_mode_and_a_reason() {
    // A systemd unit with no port and no metrics: nothing probes or scrapes it.
    let unit = "  - name: cron
    type: systemd
    host: 127.0.0.1
    service_name: cron.service
    owner: team-a
";
    let endpoint =
        "api_endpoints:\n  - {path: /orders, method: POST, service: svc, slo_availability: 99}\n";
    let reg = one_service(unit, "").replacen("teams:", &format!("{endpoint}teams:"), 1);
    let (ok, out) = gen_text(&reg);
    assert!(ok, "{out}");
    assert!(
        out.contains("systemd \"cron\": no alert detects unreachable, not_exporting")
            && out.contains("r.yaml:9:11 (services[1].opt_out)"),
        "{out}"
    );
    assert!(
        out.contains("endpoint \"/orders\": no alert detects latency")
            && out.contains("(api_endpoints[0].opt_out)"),
        "{out}"
    );

    // Opted out with reasons: no warning; coverage counts them as not
    // detected (the plan, snapshotted for the fixtures, shows the reasons).
    let opted = reg
        .replace(
            "    service_name: cron.service\n",
            "    service_name: cron.service\n    opt_out: {unreachable: \"no port\", not_exporting: \"no metrics\"}\n",
        )
        .replace(
            "slo_availability: 99}",
            "slo_availability: 99, opt_out: {latency: \"a bulk import\"}}",
        );
    let dir = TempDir::new("opt-out");
    std::fs::write(dir.join("r.yaml"), &opted).unwrap();
    let gen_out = TempDir::new("opt-out-out");
    let o = on("gen", dir.path(), gen_out.path());
    let said = text(&o);
    assert!(
        o.status.success()
            && !said.contains("\"cron\": no alert detects")
            && !said.contains("\"/orders\": no alert detects"),
        "{said}"
    );
    let coverage = std::fs::read_to_string(gen_out.join("coverage.md")).unwrap();
    assert!(
        coverage.contains("`service cron: unreachable`, `service cron: not_exporting`, `endpoint POST /orders: latency`"),
        "{coverage}"
    );

    // A reason is required, and the mode must be one of the entry's.
    for (opt_out, field, says) in [
        (
            "{unreachable: \"\"}",
            "services[1].opt_out.unreachable",
            "needs a reason",
        ),
        (
            "{unreachble: \"no port\"}",
            "services[1].opt_out.unreachble",
            "unreachable",
        ),
        (
            "{crash_loop: \"no pods\"}",
            "services[1].opt_out.crash_loop",
            "not a failure mode of this systemd",
        ),
    ] {
        let bad = reg.replace(
            "    service_name: cron.service\n",
            &format!("    service_name: cron.service\n    opt_out: {opt_out}\n"),
        );
        let (ok, out) = gen_text(&bad);
        assert!(
            !ok && out.contains(field) && out.contains(says),
            "{opt_out}:\n{out}"
        );
    }
    let (ok, out) = gen_text(&reg.replace(
        "slo_availability: 99}",
        "slo_availability: 99, opt_out: {memory: \"x\"}}",
    ));
    assert!(
        !ok && out.contains("api_endpoints[0].opt_out.memory") && out.contains("errors, latency"),
        "{out}"
    );
}

/// The fixtures the tests own stand for every setting a team may write: each
/// of their failure modes is detected or opted out with a reason (their plan
/// snapshots, kept fresh by the freshness test, say which).
#[test]
fn every_failure_mode_of_the_fixtures_is_detected_or_opted_out() {
    for fixture in ["every-kind", "design"] {
        let dir = root().join("fixtures").join(fixture);
        let out = TempDir::new("fixture-modes");
        let o = on("gen", &dir, out.path());
        let said = text(&o);
        assert!(
            o.status.success() && !said.contains("no alert detects"),
            "{fixture}:\n{said}"
        );
        let plan = std::fs::read_to_string(
            root().join(format!("xtask/snapshots/fixture-{fixture}/plan.snap")),
        )
        .unwrap();
        assert!(
            plan.contains("failure modes:")
                && plan.contains("opted out: ")
                && !plan.contains("NOT DETECTED"),
            "{fixture}:\n{plan}"
        );
    }
}

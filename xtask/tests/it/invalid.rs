//! Every kind of invalid registry: exit code 1, a message naming file, line and
//! column (and field and hint where there is one), and nothing written.

use crate::common::*;

const BASE: &str = "\
services:
  - name: ok-svc
    type: docker
    host: 127.0.0.1
    port: 8080
    health_endpoint: /health
    alerts: [service_down]
    owner: team-a
";

struct Case {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    /// `file:line:column` that the message must contain.
    at: &'static str,
    message: &'static str,
    help: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        name: "malformed yaml",
        files: &[("a.yaml", "services:\n  - name: [x\n")],
        at: "reg/a.yaml:2:",
        message: "",
        help: Some(""),
    },
    Case {
        name: "unknown field",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    host: h\n    owner: t\n    prot: 80\n",
        )],
        at: "reg/a.yaml:6:5",
        message: "unknown field `prot`",
        help: Some("did you mean `port`?"),
    },
    Case {
        name: "unknown service type",
        files: &[("a.yaml", "services:\n  - name: x\n    type: dokcer\n")],
        at: "reg/a.yaml:3:11",
        message: "unknown variant `dokcer`",
        help: Some("did you mean `docker`?"),
    },
    Case {
        name: "wrong type",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    host: h\n    port: eighty\n    owner: t\n",
        )],
        at: "reg/a.yaml:5:11",
        message: "services[0].port",
        help: None,
    },
    Case {
        name: "duplicate key",
        files: &[("a.yaml", "services:\n  - name: x\n    name: y\n")],
        at: "reg/a.yaml:3:5",
        message: "appears twice",
        help: None,
    },
    Case {
        name: "duplicate service across files",
        files: &[("a.yaml", BASE), ("b.yaml", BASE)],
        at: "reg/b.yaml:2:11",
        message: "service \"ok-svc\" is already defined at reg/a.yaml:2",
        help: None,
    },
    Case {
        name: "duplicate page path",
        files: &[(
            "a.yaml",
            "pages:\n  - path: /a\n    name: A\n  - path: /a\n    name: B\n",
        )],
        at: "reg/a.yaml:4:11",
        message: "page \"/a\" is already defined",
        help: None,
    },
    Case {
        name: "duplicate endpoint",
        files: &[(
            "a.yaml",
            "api_endpoints:\n  - {path: /x, method: GET}\n  - {path: /x, method: POST}\n  - {path: /x, method: GET}\n",
        )],
        at: "reg/a.yaml:4:12",
        message: "endpoint GET /x is already defined",
        help: None,
    },
    Case {
        name: "name not a label value",
        files: &[(
            "a.yaml",
            "services:\n  - name: \"Bad Name\"\n    type: docker\n    host: h\n    owner: t\n",
        )],
        at: "reg/a.yaml:2:11",
        message: "service name \"Bad Name\" is not a valid name",
        help: Some("lowercase letters"),
    },
    Case {
        name: "unknown alert",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    host: h\n    port: 1\n    health_endpoint: /h\n    owner: t\n    alerts:\n      - servce_down\n",
        )],
        at: "reg/a.yaml:9:9",
        message: "unknown alert \"servce_down\"",
        help: Some("did you mean \"service_down\"?"),
    },
    Case {
        name: "unknown alert in override",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    host: h\n    owner: t\n    alerts:\n      - {name: memory_hihg, threshold: 0.5}\n",
        )],
        at: "reg/a.yaml:7:16",
        message: "unknown alert \"memory_hihg\"",
        help: Some("did you mean \"memory_high\"?"),
    },
    Case {
        name: "k8s without namespace",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: k8s-deployment\n    owner: t\n",
        )],
        at: "reg/a.yaml:3:11",
        message: "has no namespace",
        help: Some("namespace"),
    },
    Case {
        name: "docker without host",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    owner: t\n",
        )],
        at: "reg/a.yaml:3:11",
        message: "has no host",
        help: Some("host"),
    },
    Case {
        name: "docker probe without port",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    host: h\n    health_endpoint: /health\n    owner: t\n",
        )],
        at: "reg/a.yaml:5:22",
        message: "cannot be probed",
        help: Some("port"),
    },
    Case {
        name: "alert needs a probe",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: k8s-deployment\n    namespace: n\n    owner: t\n    alerts: [service_down]\n",
        )],
        at: "reg/a.yaml:6:14",
        message: "needs a health probe",
        help: None,
    },
    Case {
        name: "alert for another kind",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    host: h\n    owner: t\n    alerts: [pod_crash]\n",
        )],
        at: "reg/a.yaml:6:14",
        message: "does not apply to a docker",
        help: Some("k8s-deployment"),
    },
    Case {
        name: "port out of range",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    host: h\n    port: 70000\n    owner: t\n",
        )],
        at: "reg/a.yaml:5:11",
        message: "port 70000 is outside 1-65535",
        help: Some("port"),
    },
    Case {
        name: "port zero",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    host: h\n    port: 0\n    owner: t\n",
        )],
        at: "reg/a.yaml:5:11",
        message: "port 0 is outside",
        help: None,
    },
    Case {
        name: "availability 100",
        files: &[(
            "a.yaml",
            "api_endpoints:\n  - path: /x\n    method: GET\n    slo_availability: 100\n",
        )],
        at: "reg/a.yaml:4:23",
        message: "outside (0, 100)",
        help: Some("99.9"),
    },
    Case {
        name: "availability 0",
        files: &[(
            "a.yaml",
            "api_endpoints:\n  - path: /x\n    method: GET\n    slo_availability: 0\n",
        )],
        at: "reg/a.yaml:4:23",
        message: "outside (0, 100)",
        help: None,
    },
    Case {
        name: "latency not positive",
        files: &[(
            "a.yaml",
            "api_endpoints:\n  - path: /x\n    method: GET\n    slo_latency_ms: 0\n",
        )],
        at: "reg/a.yaml:4:21",
        message: "must be above 0",
        help: None,
    },
    Case {
        name: "page path without slash",
        files: &[("a.yaml", "pages:\n  - path: home\n    name: Home\n")],
        at: "reg/a.yaml:2:11",
        message: "does not start with `/`",
        help: Some("\"/home\""),
    },
    Case {
        name: "unknown method",
        files: &[("a.yaml", "api_endpoints:\n  - path: /x\n    method: get\n")],
        at: "reg/a.yaml:3:13",
        message: "unknown HTTP method \"get\"",
        help: Some("\"GET\""),
    },
    Case {
        name: "unknown owner team",
        files: &[(
            "a.yaml",
            "teams:\n  team-a: {}\nservices:\n  - name: x\n    type: docker\n    host: h\n    owner: team-b\n",
        )],
        at: "reg/a.yaml:7:12",
        message: "owner \"team-b\" is not a team",
        help: Some("team-a"),
    },
    Case {
        name: "bad override severity",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    host: h\n    owner: t\n    alerts:\n      - {name: memory_high, severity: crit}\n",
        )],
        at: "reg/a.yaml:7:39",
        message: "unknown severity",
        help: Some("critical"),
    },
    Case {
        name: "bad override duration",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    host: h\n    owner: t\n    alerts:\n      - {name: memory_high, for: 10 minutes}\n",
        )],
        at: "reg/a.yaml:7:34",
        message: "not a Prometheus duration",
        help: None,
    },
    Case {
        name: "decimal port",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    host: h\n    port: 8000.0\n    owner: t\n",
        )],
        at: "reg/a.yaml:5:11",
        message: "`port` must be a whole number, not \"8000.0\"",
        help: Some("without quotes or a decimal point"),
    },
    Case {
        name: "null name",
        files: &[(
            "a.yaml",
            "services:\n  - name: null\n    type: docker\n    host: h\n    owner: t\n",
        )],
        at: "reg/a.yaml:2:11",
        message: "`name` has no value",
        help: Some("write a value after the colon"),
    },
    Case {
        name: "two documents in one file",
        files: &[("a.yaml", "services: []\n---\npages: []\n")],
        at: "reg/a.yaml:3:1",
        message: "a registry file holds one YAML document",
        help: Some("into a file of its own"),
    },
    Case {
        name: "kubernetes label key",
        files: &[(
            "a.yaml",
            "settings:\n  kubernetes:\n    labels: {'bad key': x}\n",
        )],
        at: "reg/a.yaml:3:14",
        message: "label name \"bad key\"",
        help: Some("63"),
    },
    Case {
        name: "kubernetes label value",
        files: &[(
            "a.yaml",
            "settings:\n  kubernetes:\n    labels: {release: 'kube prometheus'}\n",
        )],
        at: "reg/a.yaml:3:23",
        message: "label value \"kube prometheus\"",
        help: Some("63"),
    },
    Case {
        name: "metrics port name",
        files: &[(
            "a.yaml",
            "settings:\n  kubernetes:\n    metrics_port_name: Metrics_Port\n",
        )],
        at: "reg/a.yaml:3:24",
        message: "port name \"Metrics_Port\"",
        help: Some("15"),
    },
    Case {
        name: "blackbox prober",
        files: &[(
            "a.yaml",
            "settings:\n  kubernetes:\n    blackbox_prober: http://blackbox:9115\n",
        )],
        at: "reg/a.yaml:3:22",
        message: "not host:port",
        help: Some("blackbox-exporter.monitoring.svc:9115"),
    },
    Case {
        name: "application alert on an unscraped service",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    host: h\n    port: 80\n    owner: t\n    alerts: [high_error_rate]\n",
        )],
        at: "reg/a.yaml:7:14",
        message: "needs its metrics scraped",
        help: Some("add what it needs"),
    },
    Case {
        name: "cluster without kube-state-metrics",
        files: &[(
            "a.yaml",
            "settings:\n  kubernetes:\n    provides: [cadvisor]\nservices:\n  - name: x\n    type: k8s-deployment\n    namespace: n\n    owner: t\n    alerts: [pod_crash]\n",
        )],
        at: "reg/a.yaml:9:14",
        message: "needs kube-state-metrics in the cluster",
        help: None,
    },
    Case {
        name: "unknown cluster provider",
        files: &[(
            "a.yaml",
            "settings:\n  kubernetes:\n    provides: [kube-state-metric]\n",
        )],
        at: "reg/a.yaml:3:15",
        message: "is not something a cluster provides",
        help: Some("kube-state-metrics, cadvisor"),
    },
    Case {
        name: "untested Alertmanager version",
        files: &[(
            "a.yaml",
            "settings:\n  alertmanager:\n    version: '0.27'\n",
        )],
        at: "reg/a.yaml:3:14",
        message: "Alertmanager \"0.27\" is not a version this tool writes for",
        help: Some("0.25"),
    },
    Case {
        name: "unknown metrics preset",
        files: &[(
            "a.yaml",
            "settings:\n  slo:\n    metrics: {preset: opentelemetri}\n",
        )],
        at: "reg/a.yaml:3:23",
        message: "unknown metrics preset \"opentelemetri\"",
        help: Some("middleware, opentelemetry, micrometer"),
    },
    Case {
        name: "metric name with a dot",
        files: &[(
            "a.yaml",
            "settings:\n  slo:\n    metrics: {requests: http.server.requests}\n",
        )],
        at: "reg/a.yaml:3:25",
        message: "is not a Prometheus metric name",
        help: Some("letters, digits"),
    },
    Case {
        name: "unknown alert shape",
        files: &[("a.yaml", "settings:\n  slo:\n    alerts: sloth\n")],
        at: "reg/a.yaml:3:13",
        message: "unknown alert shape \"sloth\"",
        help: Some("page_ticket"),
    },
    Case {
        name: "budget alert without a severity",
        files: &[(
            "a.yaml",
            "settings:\n  slo:\n    budget_exhausted_alert: yes-please\n",
        )],
        at: "reg/a.yaml:3:29",
        message: "is not a severity",
        help: Some("`warning` or `critical`"),
    },
    Case {
        name: "SLO period without a window catalogue",
        files: &[("a.yaml", "settings:\n  slo_period: 10d\n")],
        at: "reg/a.yaml:2:15",
        message: "has no burn-rate window catalogue",
        help: Some("7d, 14d, 28d, 30d, 90d"),
    },
    Case {
        name: "raw query without the window",
        files: &[(
            "a.yaml",
            "api_endpoints:\n  - path: /x\n    method: GET\n    slo_availability: 99\n    sli:\n      error_query: sum(rate(x_errors[5m]))\n      total_query: sum(rate(x[{{.window}}]))\n",
        )],
        at: "reg/a.yaml:6:20",
        message: "api_endpoints[0].sli.error_query",
        help: Some("{{.window}}"),
    },
    Case {
        name: "raw query with an unclosed bracket",
        files: &[(
            "a.yaml",
            "api_endpoints:\n  - path: /x\n    method: GET\n    slo_availability: 99\n    sli:\n      error_query: sum(rate(x_errors[{{.window}}])\n      total_query: sum(rate(x[{{.window}}]))\n",
        )],
        at: "reg/a.yaml:6:20",
        message: "`(` is not closed",
        help: None,
    },
    Case {
        name: "latency objective over raw queries without slow_query",
        files: &[(
            "a.yaml",
            "api_endpoints:\n  - path: /x\n    method: GET\n    slo_availability: 99\n    slo_latency_ms: 300\n    sli:\n      error_query: sum(rate(e[{{.window}}]))\n      total_query: sum(rate(x[{{.window}}]))\n",
        )],
        at: "reg/a.yaml:7:7",
        message: "needs `slow_query`",
        help: Some("add slow_query"),
    },
    Case {
        name: "the same SLO twice",
        files: &[(
            "a.yaml",
            "services:\n  - name: api\n    type: docker\n    host: 127.0.0.1\n    port: 80\n    owner: t\nslos:\n  - name: s\n    service: api\n    slo_availability: 99\n    sli: {error_query: 'e[{{.window}}]', total_query: 't[{{.window}}]'}\n  - name: s\n    service: api\n    slo_availability: 99\n    sli: {error_query: 'e[{{.window}}]', total_query: 't[{{.window}}]'}\n",
        )],
        at: "reg/a.yaml:12:11",
        message: "SLO \"s\" of service \"api\" is already defined at reg/a.yaml:8",
        help: None,
    },
    Case {
        name: "SLO of an unknown service",
        files: &[(
            "a.yaml",
            "slos:\n  - name: s\n    service: apu\n    slo_availability: 99\n    sli: {error_query: 'e[{{.window}}]', total_query: 't[{{.window}}]'}\n",
        )],
        at: "reg/a.yaml:3:14",
        message: "service \"apu\" is not in the registry",
        help: None,
    },
    Case {
        name: "unknown rule delivery",
        files: &[("a.yaml", "settings:\n  prometheus:\n    rules: operator\n")],
        at: "reg/a.yaml:3:12",
        message: "unknown rule delivery \"operator\"",
        help: Some("auto"),
    },
    Case {
        name: "one shard",
        files: &[(
            "a.yaml",
            "settings:\n  prometheus:\n    shards: {count: 1}\n",
        )],
        at: "reg/a.yaml:3:21",
        message: "1 shards: a split needs 2 to 64",
        help: Some("leave `shards` out"),
    },
    Case {
        name: "unknown ruler layout",
        files: &[("a.yaml", "settings:\n  prometheus:\n    ruler: thanos\n")],
        at: "reg/a.yaml:3:12",
        message: "unknown ruler layout \"thanos\"",
        help: Some("use mimir"),
    },
    Case {
        name: "alias bomb",
        files: &[(
            "a.yaml",
            "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n",
        )],
        at: "reg/a.yaml:",
        message: "",
        help: None,
    },
    Case {
        name: "host 999.1.1.1",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    host: '999.1.1.1'\n    port: 80\n    owner: t\n",
        )],
        at: "reg/a.yaml:4:11",
        message: "services[0].host",
        help: None,
    },
    Case {
        name: "host ..",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    host: '..'\n    port: 80\n    owner: t\n",
        )],
        at: "reg/a.yaml:4:11",
        message: "services[0].host",
        help: None,
    },
    Case {
        name: "host a..b",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    host: 'a..b'\n    port: 80\n    owner: t\n",
        )],
        at: "reg/a.yaml:4:11",
        message: "services[0].host",
        help: None,
    },
    Case {
        name: "host -",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    host: '-'\n    port: 80\n    owner: t\n",
        )],
        at: "reg/a.yaml:4:11",
        message: "services[0].host",
        help: None,
    },
    Case {
        name: "host -oProxyCommand=sh",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    host: '-oProxyCommand=sh'\n    port: 80\n    owner: t\n",
        )],
        at: "reg/a.yaml:4:11",
        message: "services[0].host",
        help: None,
    },
    Case {
        name: "host a-.example",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    host: 'a-.example'\n    port: 80\n    owner: t\n",
        )],
        at: "reg/a.yaml:4:11",
        message: "services[0].host",
        help: None,
    },
    Case {
        name: "host 1.2.3",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    host: '1.2.3'\n    port: 80\n    owner: t\n",
        )],
        at: "reg/a.yaml:4:11",
        message: "services[0].host",
        help: None,
    },
    Case {
        name: "zero settings.scrape_interval",
        files: &[("a.yaml", "settings:\n  scrape_interval: 0s\n")],
        at: "reg/a.yaml:2:",
        message: "is zero, and this period must be longer than that",
        help: Some("write a positive duration"),
    },
    Case {
        name: "zero settings.evaluation_interval",
        files: &[("a.yaml", "settings:\n  evaluation_interval: 0m\n")],
        at: "reg/a.yaml:2:",
        message: "is zero, and this period must be longer than that",
        help: Some("write a positive duration"),
    },
    Case {
        name: "zero settings.alertmanager.group_interval",
        files: &[(
            "a.yaml",
            "settings:\n  alertmanager: {group_interval: 0s}\n",
        )],
        at: "reg/a.yaml:2:",
        message: "is zero, and this period must be longer than that",
        help: Some("write a positive duration"),
    },
    Case {
        name: "a tab in indentation",
        files: &[(
            "a.yaml",
            "services:\n  - name: x\n    type: docker\n    host: h\n\tport: 80\n",
        )],
        at: "reg/a.yaml:5:1",
        message: "a tab character",
        help: Some("replace the tab with spaces"),
    },
    Case {
        name: "invalid utf-8",
        files: &[("a.yaml", "services:\n  - name: \u{0}")],
        at: "reg/a.yaml:",
        message: "",
        help: None,
    },
];

fn run_case(files: &[(&str, &[u8])]) -> (std::process::Output, TempDir) {
    let t = TempDir::new("invalid");
    let reg = t.join("reg");
    std::fs::create_dir_all(&reg).unwrap();
    for (name, body) in files {
        std::fs::write(reg.join(name), body).unwrap();
    }
    let out = xtask(&[
        "gen",
        "--registry",
        &reg.to_string_lossy(),
        "--out",
        &t.join("out").to_string_lossy(),
    ]);
    (out, t)
}

fn assert_invalid(
    name: &str,
    out: &std::process::Output,
    t: &TempDir,
    at: &str,
    message: &str,
    help: Option<&str>,
) {
    let s = text(out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{name}: exit code 1 expected:\n{s}"
    );
    assert!(
        s.contains(&format!("--> {at}")),
        "{name}: position {at} expected:\n{s}"
    );
    assert!(
        s.contains(message),
        "{name}: message {message:?} expected:\n{s}"
    );
    if let Some(h) = help {
        assert!(
            s.contains(&format!("help: {h}")) || s.contains("help:") && s.contains(h),
            "{name}: help {h:?} expected:\n{s}"
        );
    }
    assert!(!s.contains("panicked"), "{name}: {s}");
    assert!(!t.join("out").exists(), "{name}: nothing may be written");
}

#[test]
fn invalid_registries_are_reported_with_position_and_write_nothing() {
    let mut failed = Vec::new();
    for c in CASES {
        let files: Vec<(&str, &[u8])> = c.files.iter().map(|(n, b)| (*n, b.as_bytes())).collect();
        let (out, t) = run_case(&files);
        let r =
            std::panic::catch_unwind(|| assert_invalid(c.name, &out, &t, c.at, c.message, c.help));
        if r.is_err() {
            failed.push(c.name);
        }
    }
    assert!(failed.is_empty(), "failed cases: {failed:?}");
}

#[test]
fn all_errors_of_a_run_are_reported() {
    let files: &[(&str, &[u8])] = &[
        ("a.yaml", b"services:\n  - name: x\n    type: docker\n    host: h\n    port: 0\n    owner: t\n    alerts: [nope]\n"),
        ("b.yaml", b"pages:\n  - path: home\n    name: Home\n"),
        ("c.yaml", b"services: [\n"),
    ];
    let (out, t) = run_case(files);
    let s = text(&out);
    for at in [
        "reg/a.yaml:5:11",
        "reg/a.yaml:7:14",
        "reg/b.yaml:2:11",
        "reg/c.yaml:1:",
    ] {
        assert_invalid("several", &out, &t, at, "", None);
    }
    // c.yaml did not parse: warnings about what the registry lacks are not given.
    assert!(
        s.contains("4 errors, 0 warnings: nothing was written"),
        "{s}"
    );
}

#[test]
fn hostile_inputs_end_in_clear_errors() {
    // Invalid UTF-8 bytes: the position of the first bad byte.
    let (out, t) = run_case(&[("a.yaml", b"services:\n  - name: ab\xff\xfe\n")]);
    assert_invalid(
        "utf-8",
        &out,
        &t,
        "reg/a.yaml:2:13",
        "not valid UTF-8",
        Some("UTF-8"),
    );

    // Deep nesting.
    let deep = format!("services: {}{}\n", "[".repeat(5000), "]".repeat(5000));
    let (out, t) = run_case(&[("a.yaml", deep.as_bytes())]);
    assert_invalid("deep", &out, &t, "reg/a.yaml:1:", "", None);

    // A file over the size limit is refused before parsing.
    let huge = vec![b'#'; (registry::load::MAX_FILE_BYTES + 1) as usize];
    let (out, t) = run_case(&[("a.yaml", &huge)]);
    assert_invalid(
        "huge",
        &out,
        &t,
        "reg/a.yaml:1:1",
        "more than the limit",
        None,
    );
}

/// The design document's registry as teams wrote it: refused exactly where
/// its alerts could never fire, each error at the entry with the fix
/// (`fixtures/design/` is the same file with those fixes).
#[test]
fn design_registry_as_written_is_refused_where_its_alerts_would_be_dead() {
    let t = TempDir::new("design-raw");
    let out = xtask(&[
        "gen",
        "--registry",
        &root().join("xtask/tests/data/design").to_string_lossy(),
        "--out",
        &t.join("out").to_string_lossy(),
    ]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(!t.join("out").exists(), "nothing is written: {said}");
    assert!(
        said.contains("9 errors"),
        "the three dead alert kinds, at each entry: {said}"
    );
    for (at, what, hint) in [
        (":73:9", "analysis_timeout", "latency_buckets_seconds"),
        (":95:9", "connection_pool_exhausted", "metrics: {port"),
        (":96:9", "slow_query", "metrics: {port"),
        (":148:9", "js_error", "defaults.page_service"),
        (":156:9", "api_error", "defaults.page_service"),
        (
            ":175:23",
            "reads its serving service's request metrics",
            "api_service",
        ),
    ] {
        let line = said
            .lines()
            .position(|l| l.contains(&format!("service-registry.yaml{at}")))
            .unwrap_or_else(|| panic!("no error at {at} ({what}):\n{said}"));
        let block: String = said
            .lines()
            .skip(line.saturating_sub(1))
            .take(8)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            block.contains(what) && block.contains(hint),
            "{at}: {block}"
        );
    }
}

#[test]
fn design_registry_with_its_fixes_loads() {
    let t = TempDir::new("design");
    let out = xtask(&[
        "gen",
        "--registry",
        &root().join("fixtures/design").to_string_lossy(),
        "--out",
        &t.join("out").to_string_lossy(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        t.join("out/prometheus/rules/cluster/awoooi-api.rules.yml")
            .exists()
    );
}

#[test]
fn indentation_mistakes_get_an_indentation_hint() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "fields not under their key",
            "services:\n  - name: billing\n    type: docker\n    host: 10.0.0.7\n    port: 8080\n    monitoring:\n    prometheus: true\n    owner: t\n",
            "`monitoring:` has nothing indented under it",
        ),
        (
            "a field left of its entry",
            "services:\n  - name: billing\n    type: docker\n    host: 10.0.0.7\n  port: 8080\n    owner: t\n",
            "`port:` is indented 2 spaces but the fields around it 4",
        ),
        (
            "a field right of its entry",
            "services:\n- name: billing\n  type: docker\n  host: 10.0.0.7\n  owner: t\n  port: 80\n   health_endpoint: /h\n",
            "line 7 is indented deeper than `port:`",
        ),
    ];
    for (name, yaml, hint) in cases {
        let (out, t) = run_case(&[("s.yaml", yaml.as_bytes())]);
        assert_invalid(name, &out, &t, "reg/s.yaml:", "", Some(hint));
        assert!(
            !text(&out).contains("check the value's type"),
            "{name}: not a type hint:\n{}",
            text(&out)
        );
    }
}

/// One mistake, one error: an invalid port is not reported again as a missing
/// one; and a huge value is cut in the message.
#[test]
fn one_mistake_gives_one_error_and_long_values_are_cut() {
    let (out, _t) = run_case(&[(
        "a.yaml",
        b"services:\n  - name: x\n    type: docker\n    host: h\n    port: 0\n    health_endpoint: /h\n    monitoring: {prometheus: true}\n    owner: t\n",
    )]);
    let s = text(&out);
    assert_eq!(s.matches("error:").count(), 1, "{s}");
    assert!(s.contains("port 0 is outside 1-65535"), "{s}");
    let long = format!(
        "services:\n  - name: {}\n    type: docker\n    host: h\n    owner: t\n",
        "X".repeat(5000)
    );
    let (out, _t) = run_case(&[("a.yaml", long.as_bytes())]);
    let s = text(&out);
    assert!(s.contains("(5000 characters)"), "{s}");
    assert!(
        s.lines()
            .all(|l| l.chars().count() < 400 || l.starts_with(' ') || l.contains(" | ")),
        "a message line is not cut:\n{}",
        &s[..s.len().min(2000)]
    );
}

/// Each message the hostile review found misleading, now in registry terms:
/// no library wording, the value quoted alone, a hint that fixes it.
#[test]
fn messages_speak_registry_terms_with_the_value_alone_and_a_fix() {
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        (
            "duplicate key",
            "services:\n  - name: x\n    name: y\n",
            "reg/a.yaml:3:5 (services[0].name)",
            "the key `name` appears twice in this entry",
            "remove or rename one",
        ),
        (
            "a list where one name goes",
            "services:\n  - name: x\n    type: [docker]\n",
            "reg/a.yaml:3:11 (services[0].type)",
            "`type` must be one name, not \"[docker]\"",
            "such as `type: docker`",
        ),
        (
            "a channel as a list",
            "teams:\n  t:\n    notify:\n      - [slack]\n",
            "reg/a.yaml:4:9 (teams.t.notify[0])",
            "a channel is one `kind: {fields}` mapping",
            "- slack: {api_url_file:",
        ),
        (
            "two kinds in one channel",
            "teams:\n  t:\n    notify:\n      - slack: {api_url_file: /x}\n        email: {to: a@example.org}\n",
            "reg/a.yaml:5:9",
            "a channel entry names one kind",
            "its own `- `",
        ),
        (
            "a number too large",
            "services:\n  - {name: x, type: docker, host: 127.0.0.1, port: 80, owner: t, alerts: [{name: memory_high, threshold: 1e400}, service_down]}\n",
            "(services[0].alerts[0].threshold)",
            "`threshold` is \"1e400\", too large for a number",
            "within ±1.7e308",
        ),
        (
            "a URL with a space",
            "teams:\n  t:\n    webhook_url: 'http://127.0.0.1:1/a b'\n",
            "reg/a.yaml:3:18 (teams.t.webhook_url)",
            "holds a space, which a URL cannot hold",
            "percent-encode it as %20",
        ),
    ];
    let library = [
        "DuplicateKeyPolicy",
        "Options",
        "externally tagged",
        "enum variant",
        "scalar",
        "not an http(s) URL",
        "service_down]",
    ];
    let mut failed = Vec::new();
    for (name, body, at, message, help) in cases {
        let (out, _t) = run_case(&[("a.yaml", body.as_bytes())]);
        let s = text(&out);
        let error = s
            .split("\n\n")
            .find(|block| block.starts_with("error:"))
            .unwrap_or("");
        // The message and its hint, without the quoted source line.
        let said: String = error
            .lines()
            .filter(|l| l.starts_with("error:") || l.contains("= help:"))
            .collect();
        let ok = out.status.code() == Some(1)
            && error.contains(at)
            && said.contains(message)
            && said.contains(help)
            && !library.iter().any(|l| said.contains(l));
        if !ok {
            failed.push(format!("{name}:\n{s}"));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// A file that does not parse is reported alone: no warning about what the
/// registry lacks (here the default webhook the broken file sets).
#[test]
fn a_parse_error_brings_no_false_warnings() {
    let (out, _t) = run_case(&[(
        "a.yaml",
        b"services:\n  - name: x\n    type: docker\n    host: [\nsettings:\n  alertmanager:\n    default_webhook_url: http://127.0.0.1:1/d\n",
    )]);
    let s = text(&out);
    assert_eq!(out.status.code(), Some(1), "{s}");
    assert!(!s.contains("no default webhook"), "{s}");
    assert!(s.contains("(services[0].host)"), "{s}");
}

/// Sloth's own spelling of the placeholder, `{{ .window }}`, is the same
/// placeholder as `{{.window}}`.
#[test]
fn the_window_placeholder_may_be_spaced_as_sloth_writes_it() {
    let t = TempDir::new("spaced-window");
    std::fs::write(
        t.join("r.yaml"),
        "services:\n  - {name: api, type: docker, host: 127.0.0.1, port: 80, owner: t}\nteams:\n  t: {webhook_url: 'http://127.0.0.1:1/t'}\nslos:\n  - name: s\n    service: api\n    slo_availability: 99\n    sli: {error_query: 'sum(rate(e[{{ .window }}]))', total_query: 'sum(rate(t[{{.window}}]))'}\n",
    )
    .unwrap();
    let g =
        monitoring::generate(t.path(), &root().join("templates")).unwrap_or_else(|e| panic!("{e}"));
    let rules: String = g
        .outputs
        .iter()
        .filter(|o| o.path.contains("slo"))
        .map(|o| o.contents.as_str())
        .collect();
    assert!(
        rules.contains("sum(rate(e[5m]))") && !rules.contains(".window"),
        "{rules}"
    );
}

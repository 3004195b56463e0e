//! `cargo xtask coverage` and `cargo xtask discover`, driven by stand-in
//! `kubectl` and `docker` executables that print recorded real-format output,
//! and by inventory files; never a real cluster or network address.

use crate::common::*;

use std::path::Path;
use std::process::Command;

const REGISTRY: &str = "\
services:
  - {name: shop-api, type: k8s-deployment, namespace: shop, owner: shop-team}
  - {name: shop-worker, type: k8s-deployment, namespace: shop, owner: shop-team}
  - {name: cache, type: docker, host: 127.0.0.1, port: 6379, owner: ops-team}
  - {name: web, type: docker, host: 127.0.0.1, port: 3000, owner: ops-team}
  - {name: far-away, type: docker, host: 127.0.0.2, port: 80, owner: ops-team}
settings:
  discovery:
    ignore: ['kube-system/*', 'k3s_*', pause, coredns]
";

/// A registry folder and a bin folder with stand-ins for kubectl and docker.
fn setup(registry: &str) -> TempDir {
    let t = TempDir::new("discover");
    std::fs::create_dir_all(t.join("reg")).unwrap();
    std::fs::write(t.join("reg/services.yaml"), registry).unwrap();
    let data = root().join("xtask/tests/data/discover");
    let bin = t.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = |name: &str, body: String| {
        let p = bin.join(name);
        std::fs::write(&p, body).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    script(
        "kubectl",
        format!(
            "#!/bin/sh\ncat '{}'\n",
            data.join("kubectl-deployments.json").display()
        ),
    );
    script(
        "docker",
        format!(
            "#!/bin/sh\ncase \"$1\" in\n  --host=ssh://127.0.0.1) cat '{}' ;;\n  --host=ssh://127.0.0.3) sleep 30 ;;\n  *) echo \"ssh: connect to host ${{1#--host=ssh://}} port 22: Connection refused\" >&2; exit 255 ;;\nesac\n",
            data.join("docker-ps-127.0.0.1.txt").display()
        ),
    );
    t
}

fn discover(t: &TempDir, extra: &[&str]) -> (Option<i32>, String) {
    let path = format!(
        "{}:{}",
        t.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["discover", "--registry", &t.join("reg").to_string_lossy()])
        .args(extra)
        .env("PATH", path)
        .output()
        .unwrap();
    (out.status.code(), text(&out))
}

#[test]
fn live_discovery_lists_exactly_the_unregistered_workloads() {
    let t = setup(REGISTRY);
    let (code, out) = discover(&t, &["--timeout", "5"]);
    assert_eq!(code, Some(1), "{out}");
    let section = out
        .split("running but not in the registry")
        .nth(1)
        .unwrap_or_default();
    let listed: Vec<&str> = section
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(str::trim)
        .collect();
    assert_eq!(
        listed,
        [
            "docker 127.0.0.1 odd_name.with-dots_1 (container)",
            "kubernetes other-ns/shop-worker (Deployment)",
            "kubernetes team-x/shadow-db.v2--x (StatefulSet)",
        ],
        "{out}"
    );
    // The unreachable host is named with its error and hides nothing else.
    assert!(
        out.contains("warning: cannot list 127.0.0.2") && out.contains("Connection refused"),
        "{out}"
    );
    assert!(
        out.contains("shop-worker (k8s-deployment, shop)"),
        "registered but not running: {out}"
    );
    assert!(out.contains("web (docker, 127.0.0.1)"), "{out}");
    for ignored in [
        "kube-system/coredns",
        "kube-system/kube-proxy",
        "k3s_pause_1",
    ] {
        assert!(
            out.contains(ignored),
            "{ignored} should be listed as ignored: {out}"
        );
    }
}

#[test]
fn all_registered_or_ignored_exits_0_and_strict_fails_on_unreachable_hosts() {
    let registry = REGISTRY.replace(
        "settings:",
        "  - {name: odd_name.with-dots_1, type: docker, host: 127.0.0.1, owner: ops-team}\n  - {name: shadow-db.v2--x, type: k8s-deployment, namespace: team-x, owner: ops-team}\n  - {name: shop-worker, type: k8s-deployment, namespace: other-ns, owner: ops-team}\nsettings:",
    );
    // Two entries named shop-worker would be a duplicate; rename the shop one.
    let registry = registry.replacen(
        "{name: shop-worker, type: k8s-deployment, namespace: shop",
        "{name: shop-worker2, type: k8s-deployment, namespace: shop",
        1,
    );
    let t = setup(&registry.replace("odd_name.with-dots_1", "odd-name"));
    let (code, out) = discover(&t, &[]);
    assert_eq!(
        code,
        Some(1),
        "odd_name.with-dots_1 is not a valid registry name, so it stays unregistered: {out}"
    );

    // With an ignore rule instead, everything is accounted for.
    let t = setup(&registry.replace("  - {name: odd_name.with-dots_1, type: docker, host: 127.0.0.1, owner: ops-team}\n", "").replace("coredns]", "coredns, 'odd_*']"));
    let (code, out) = discover(&t, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("warning: cannot list 127.0.0.2"), "{out}");
    let (code, out) = discover(&t, &["--strict"]);
    assert_eq!(
        code,
        Some(1),
        "--strict makes an unreachable host an error: {out}"
    );
    assert!(out.contains("error: cannot list 127.0.0.2"), "{out}");
}

#[test]
fn a_hanging_host_times_out() {
    let t = setup(&REGISTRY.replace("127.0.0.2", "127.0.0.3"));
    let start = std::time::Instant::now();
    let (_, out) = discover(&t, &["--timeout", "1"]);
    assert!(
        start.elapsed().as_secs() < 15,
        "the command timeout was not applied"
    );
    assert!(
        out.contains("cannot list 127.0.0.3") && out.contains("did not finish within 1s"),
        "{out}"
    );
}

#[test]
fn inventory_files_work_without_a_cluster() {
    let t = setup(REGISTRY);
    let data = root().join("xtask/tests/data/discover");
    let inv = serde_json::json!({
        "kubernetes": serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(data.join("kubectl-deployments.json")).unwrap()).unwrap(),
        "docker": {
            "127.0.0.1": std::fs::read_to_string(data.join("docker-ps-127.0.0.1.txt")).unwrap(),
            "127.0.0.2": []
        }
    });
    std::fs::write(t.join("inventory.json"), inv.to_string()).unwrap();
    let (code, out) = discover(
        &t,
        &["--inventory", &t.join("inventory.json").to_string_lossy()],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("odd_name.with-dots_1") && out.contains("far-away (docker, 127.0.0.2)"),
        "an empty host list means its services are not running: {out}"
    );

    // An empty cluster and empty hosts: nothing unregistered.
    let empty = serde_json::json!({"kubernetes": {"apiVersion": "v1", "items": [], "kind": "List"}, "docker": {"127.0.0.1": "", "127.0.0.2": ""}});
    std::fs::write(t.join("empty.json"), empty.to_string()).unwrap();
    let (code, out) = discover(
        &t,
        &["--inventory", &t.join("empty.json").to_string_lossy()],
    );
    assert_eq!(code, Some(0), "{out}");
}

fn coverage(reg: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["coverage", "--registry", &reg.to_string_lossy()])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn coverage_matches_a_hand_count_of_the_example_registry() {
    let (code, json) = coverage(&example(), &["--format", "json"]);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    // Counted by hand from the tests' example: 11 services, 4 pages, 4 endpoints.
    let expected = [
        // Not ollama, harbor, sentry, langfuse: they serve no /metrics.
        ("prometheus", 7, 11),
        ("sentry", 4, 11),   // awoooi-api, awoooi-web, awoooi-worker, openclaw
        ("otel", 4, 11),     // the same four
        ("langfuse", 3, 11), // awoooi-api, awoooi-worker, openclaw
        ("alerts", 11, 11),
        ("page_sentry_session", 4, 4),
        ("page_web_vitals", 2, 4), // / and /authorizations
        ("api_slo", 4, 4),
        // Services 55 (k8s 3 x 7, docker 5 x 4, redis and postgres 5 each,
        // the runner 4), pages 4 x 3 (https probes), hosts 2 x 4, the prober,
        // endpoints 4 x 2, Prometheus and Alertmanager 6; not detected: the
        // worker's and the runner's opted-out modes (3) and the four
        // unscraped services' not_exporting (4).
        ("failure_modes", 83, 90),
    ];
    for (key, covered, total) in expected {
        let d = v["dimensions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["key"] == key)
            .unwrap();
        assert_eq!(
            (d["covered"].as_u64(), d["total"].as_u64()),
            (Some(covered), Some(total)),
            "{key}"
        );
    }
    // (63.64 + 36.36 + 36.36 + 27.27 + 100 + 100 + 50 + 100 + 92.22) / 9
    assert_eq!(v["overall"], 67.32);
    assert_eq!(v["overall_status"], "bad");
    assert_eq!(coverage(&example(), &["--min", "65"]).0, Some(0));
    assert_eq!(coverage(&example(), &["--min", "70"]).0, Some(1));
    // Without --min, the registry's `settings.coverage_min` (65) is the floor.
    assert_eq!(coverage(&example(), &[]).0, Some(0));
    let t = TempDir::new("floor");
    std::fs::write(
        t.join("r.yaml"),
        "services:\n  - {name: a, type: docker, host: h, port: 80, owner: t}\nsettings: {coverage_min: 99}\n",
    )
    .unwrap();
    let (code, out) = coverage(t.path(), &[]);
    assert_eq!(code, Some(1), "{out}");
}

#[test]
fn an_empty_registry_is_not_applicable_not_a_division_by_zero() {
    let t = TempDir::new("empty-cov");
    std::fs::write(t.join("empty.yaml"), "services: []\n").unwrap();
    let (code, md) = coverage(t.path(), &["--min", "90"]);
    assert_eq!(code, Some(0), "{md}");
    assert!(
        md.contains("| Prometheus metrics | services | 0 | 0 | n/a | n/a |"),
        "{md}"
    );
    assert!(md.contains("Overall: **n/a**"), "{md}");
}

/// A registry counts the coverage dimensions it names: a team without
/// Sentry or Langfuse is not scored on them; an unknown name is refused.
#[test]
fn a_registry_chooses_its_coverage_dimensions() {
    let t = TempDir::new("dimensions");
    let reg = t.join("reg");
    std::fs::create_dir_all(&reg).unwrap();
    let registry = |dims: &str| {
        format!(
            "services:\n  - {{name: a, type: docker, host: 127.0.0.1, port: 80, owner: t, monitoring: {{prometheus: true}}, alerts: [service_down], health_endpoint: /h}}\nteams:\n  t: {{webhook_url: 'http://127.0.0.1:1/t'}}\nsettings:\n  coverage_dimensions: {dims}\n"
        )
    };
    std::fs::write(reg.join("r.yaml"), registry("[prometheus, alerts]")).unwrap();
    let (code, json) = coverage(&reg, &["--format", "json", "--min", "100"]);
    assert_eq!(code, Some(0), "{json}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let keys: Vec<&str> = v["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["prometheus", "alerts"]);
    assert_eq!(v["overall"], 100.0);
    std::fs::write(reg.join("r.yaml"), registry("[prometheus, sentyr]")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["coverage", "--registry", &reg.to_string_lossy()])
        .output()
        .unwrap();
    let s = text(&out);
    assert_eq!(out.status.code(), Some(1), "{s}");
    assert!(
        s.contains("no coverage dimension \"sentyr\"")
            && s.contains("did you mean `sentry`?")
            && s.contains("(settings.coverage_dimensions)"),
        "{s}"
    );
}

//! Property tests over generated registries with hostile strings: gen either
//! rejects the registry with a positioned error, or produces files that parse,
//! a Rust module that compiles, and configs promtool and amtool accept; and gen
//! is deterministic.

use crate::common::*;

use proptest::prelude::*;
use serde_json::{Value, json};

/// Strings built to break quoting: quotes, backslashes, braces, newlines,
/// template and comment markers, non-ASCII, and long runs.
fn hostile() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "\"",
        "'",
        "\\",
        "{",
        "}",
        "{{",
        "}}",
        "{%",
        "${",
        "*/",
        "/*",
        "\n",
        "\r\n",
        "\t",
        "#",
        ": ",
        "- ",
        "&a",
        "*a",
        "!tag",
        "%",
        "`",
        "</script>",
        "\u{2028}",
        "\u{85}",
        "\u{feff}",
        // Bidi controls (Trojan Source), other format characters (Cf), controls
        // (Cc), the paragraph separator (Zp), a tag beyond the BMP, a table pipe.
        "\u{202e}",
        "\u{2066}",
        "\u{2069}",
        "\u{200b}",
        "\u{7}",
        "\u{7f}",
        "\u{9b}",
        "\u{2029}",
        "\u{e0001}",
        "|",
        "é",
        "授權管理",
        "🙂",
        "a",
        "b",
        "-",
        ".",
        "/",
        " ",
    ]);
    (prop::collection::vec(pieces, 0..12), 0usize..3).prop_map(|(p, long)| {
        let mut s: String = p.concat();
        if long == 2 {
            s.push_str(&"x".repeat(300));
        }
        s
    })
}

fn valid_name() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?"
}

/// A name that is usually valid and sometimes hostile.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![4 => valid_name(), 1 => hostile()]
}

fn service() -> impl Strategy<Value = Value> {
    (name(), 0usize..3, valid_name(), 1u32..65535, prop::bool::ANY, hostile()).prop_map(|(name, kind, owner, port, with_health, description)| match kind {
        0 => json!({"name": name, "type": "k8s-deployment", "namespace": "ns", "port": port, "health_endpoint": "/health",
                    "alerts": ["pod_crash", {"name": "memory_high", "threshold": 0.8}, "service_down"], "owner": owner, "description": description}),
        1 => {
            let health = if with_health { "/h" } else { "pg_isready" };
            json!({"name": name, "type": "docker", "host": "127.0.0.1", "port": port, "health_endpoint": health,
                   "monitoring": {"prometheus": true}, "alerts": ["service_down", "storage_full"], "owner": owner})
        }
        _ => json!({"name": name, "type": "systemd", "host": "127.0.0.1", "service_name": "u.service", "alerts": ["runner_offline"], "owner": owner}),
    })
}

fn registry() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(service(), 1..6),
        prop::collection::vec((hostile(), hostile()), 0..4),
        prop::collection::vec((hostile(), 1u32..100_000, 1u32..9999), 0..3),
    )
        .prop_map(|(services, pages, endpoints)| {
            // Paths keep every hostile character but control ones (a URL path is one line).
            let path = |p: String| format!("/{}", p.chars().filter(|c| !c.is_control()).collect::<String>());
            let pages: Vec<Value> = pages.into_iter().map(|(p, n)| json!({"path": path(p), "name": n, "alerts": ["slow_page_load", "js_error"]})).collect();
            let endpoints: Vec<Value> = endpoints
                .into_iter()
                .map(|(p, ms, a)| json!({"path": format!("/api{}", path(p)), "method": "GET", "slo_latency_ms": ms, "slo_availability": 90.0 + f64::from(a) / 1000.0}))
                .collect();
            json!({
                "services": services, "pages": pages, "api_endpoints": endpoints,
                "defaults": {"page_owner": "web-team", "api_owner": "api-team"},
                "settings": {"pages_base_url": "http://127.0.0.1:8080", "alertmanager": {"default_webhook_url": "http://127.0.0.1:9095/hook"}}
            })
        })
}

fn tools() -> (bool, bool) {
    (
        require_tool("promtool", "prometheus"),
        require_tool("amtool", "prometheus-alertmanager"),
    )
}

/// How many generated registries were valid and rendered (printed with --nocapture).
static RENDERED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]

    #[cfg_attr(not(all(has_promtool, has_amtool)), ignore = "promtool or amtool not found (`.ci/run --install-only` installs them)")]
    fn gen_rejects_with_a_position_or_renders_valid_deterministic_output(reg in registry()) {
        let t = TempDir::new("prop");
        // JSON is YAML: the registry goes in exactly as generated, hostile strings and all.
        std::fs::create_dir_all(t.join("reg")).unwrap();
        std::fs::write(t.join("reg/r.yaml"), serde_json::to_string_pretty(&reg).unwrap()).unwrap();
        let templates = root().join("templates");
        match monitoring::generate(&t.join("reg"), &templates) {
            Err(xtask::Failure::Invalid(msg)) => {
                prop_assert!(msg.contains("--> reg/r.yaml:"), "an error without a position: {}", msg);
            }
            Err(xtask::Failure::Io(msg)) => prop_assert!(false, "I/O failure: {}", msg),
            Ok(g) => {
                let n = RENDERED.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                if std::env::var_os("PROPTEST_VERBOSE_COUNT").is_some() {
                    eprintln!("rendered registries: {n}");
                }
                for o in &g.outputs {
                    if o.path.ends_with(".json") {
                        prop_assert!(serde_json::from_str::<Value>(&o.contents).is_ok(), "{} is not JSON", o.path);
                    } else if o.path.ends_with(".yml") || o.path.ends_with(".yaml") {
                        let parsed: Result<Value, _> = serde_saphyr::from_str(&o.contents);
                        prop_assert!(parsed.is_ok(), "{} is not YAML: {:?}", o.path, parsed.err());
                    }
                }
                let again = monitoring::generate(&t.join("reg"), &templates).unwrap_or_else(|e| panic!("{e}"));
                prop_assert_eq!(&g.outputs, &again.outputs, "two runs differ");
                let out = t.join("out");
                monitoring::write::apply(&out, &g.outputs, monitoring::write::Mode::Write).unwrap();
                // The generated Rust module compiles (type-checked, no code generated).
                let o = std::process::Command::new("rustc")
                    .args(["--edition", "2021", "--crate-type", "lib", "--emit", "metadata", "--crate-name", "known_routes", "--out-dir"])
                    .arg(t.join("rustc"))
                    .arg(out.join("rust/known-routes/src/lib.rs"))
                    .output()
                    .unwrap();
                prop_assert!(o.status.success(), "the known-routes crate does not compile: {}", text(&o));
                let (promtool, amtool) = tools();
                if promtool {
                    let o = std::process::Command::new("promtool").args(["check", "config", "prometheus.yml"]).current_dir(out.join("prometheus")).output().unwrap();
                    prop_assert!(o.status.success(), "promtool: {}", text(&o));
                }
                if amtool {
                    let o = std::process::Command::new("amtool").args(["check-config", &out.join("alertmanager/alertmanager.yml").to_string_lossy()]).output().unwrap();
                    prop_assert!(o.status.success(), "amtool: {}", text(&o));
                }
            }
        }
    }
}

#[test]
fn key_order_in_registry_files_does_not_change_the_output() {
    let t = TempDir::new("keys");
    let a = "services:\n  - name: a\n    type: docker\n    host: 127.0.0.1\n    port: 80\n    health_endpoint: /h\n    alerts: [service_down]\n    owner: t\nsettings:\n  alertmanager: {default_webhook_url: 'http://127.0.0.1:1/x'}\n";
    let b = "settings:\n  alertmanager: {default_webhook_url: 'http://127.0.0.1:1/x'}\nservices:\n  - owner: t\n    alerts: [service_down]\n    health_endpoint: /h\n    port: 80\n    host: 127.0.0.1\n    type: docker\n    name: a\n";
    for (dir, text) in [("a", a), ("b", b)] {
        std::fs::create_dir_all(t.join(dir)).unwrap();
        std::fs::write(t.join(dir).join("r.yaml"), text).unwrap();
    }
    let ga = monitoring::generate(&t.join("a"), &root().join("templates"))
        .unwrap_or_else(|e| panic!("{e}"));
    let gb = monitoring::generate(&t.join("b"), &root().join("templates"))
        .unwrap_or_else(|e| panic!("{e}"));
    // Only the headers (file name) and the content hash may differ.
    let strip = |g: &monitoring::Generated| -> Vec<(String, String)> {
        g.outputs
            .iter()
            .map(|o| {
                (
                    o.path.clone(),
                    o.contents
                        .lines()
                        .filter(|l| !l.contains("Generated by") && !l.contains("fnv1a64:"))
                        .collect::<Vec<_>>()
                        .join("\n"),
                )
            })
            .collect()
    };
    for ((pa, ca), (pb, cb)) in strip(&ga).iter().zip(strip(&gb).iter()) {
        assert_eq!(pa, pb);
        assert!(ca == cb, "{pa} depends on the order of keys");
    }
    assert_eq!(ga.outputs.len(), gb.outputs.len());
}

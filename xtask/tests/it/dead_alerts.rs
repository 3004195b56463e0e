//! No dead alert: every metric every generated alert reads is produced by a
//! known exporter (`data/exporter-metrics.txt`, from the exporters' published
//! metric lists) or by a generated recording rule, and that exporter is scraped
//! for the alert's own target: a job of the generated `prometheus.yml`, a
//! generated ServiceMonitor or Probe, or something the cluster provides
//! (`settings.kubernetes.provides`). Runs before anything is deployed, where a
//! linter against a live Prometheus (pint) would find the same only afterwards.

use crate::common::*;

use std::collections::{BTreeMap, BTreeSet};

use registry::ServiceType;
use serde_json::Value;

const STANDALONE: &str = "stand-alone";
const CLUSTER: &str = "cluster";

/// A group name as the rule files quote it.
fn yaml_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Metric name to the exporter that produces it.
fn exporter_metrics() -> BTreeMap<String, String> {
    let text =
        std::fs::read_to_string(root().join("xtask/tests/data/exporter-metrics.txt")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut w = l.split_whitespace();
            let (e, m) = (w.next().unwrap(), w.next().unwrap());
            (m.to_owned(), e.to_owned())
        })
        .collect()
}

/// The metric names an expression reads: identifiers outside strings, label
/// matchers, ranges and grouping lists, that are neither functions nor keywords.
fn metrics(expr: &str) -> BTreeSet<String> {
    const WORDS: [&str; 24] = [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "and",
        "or",
        "unless",
        "offset",
        "inf",
        // Aggregations, which may take `by (…)` before their parenthesis.
        "sum",
        "min",
        "max",
        "avg",
        "count",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "quantile",
        "count_values",
        "group",
    ];
    let mut out = BTreeSet::new();
    let chars: Vec<char> = expr.chars().collect();
    let (mut i, mut depth_brace, mut depth_bracket) = (0, 0, 0);
    let mut skip_group = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' => {
                i += 1;
                while i < chars.len() && chars[i] != c {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
            }
            '{' => depth_brace += 1,
            '}' => depth_brace -= 1,
            '[' => depth_bracket += 1,
            ']' => depth_bracket -= 1,
            ')' => skip_group = false,
            c if (c.is_ascii_alphabetic() || c == '_' || c == ':')
                && depth_brace == 0
                && depth_bracket == 0 =>
            {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let next = chars[i..].iter().find(|c| !c.is_whitespace());
                if WORDS.contains(&word.as_str()) {
                    skip_group = matches!(
                        word.as_str(),
                        "by" | "without" | "on" | "ignoring" | "group_left" | "group_right"
                    );
                } else if next != Some(&'(') && !skip_group {
                    out.insert(word);
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

#[test]
fn metric_extraction_sees_every_metric_and_nothing_else() {
    let m = metrics(
        "max by (pod, container) (container_memory_working_set_bytes{name=\"a{b}\"}) / on() sum(rate(http_requests_total{x=~\"5..\"}[5m])) > 0.9 and slo:sli_error:ratio_rate5m{path=\"/x\"} > (14.4 * 0.001)",
    );
    let want: BTreeSet<String> = [
        "container_memory_working_set_bytes",
        "http_requests_total",
        "slo:sli_error:ratio_rate5m",
    ]
    .map(String::from)
    .into();
    assert_eq!(m, want);
}

#[test]
fn every_generated_alert_reads_metrics_a_generated_job_or_the_cluster_supplies() {
    let known = exporter_metrics();
    let mut checked = 0;
    for reg in registries() {
        let g =
            monitoring::generate(&reg, &root().join("templates")).unwrap_or_else(|e| panic!("{e}"));
        // Job name to its targets, over every Prometheus config (one, or one
        // per shard: `settings.prometheus.shards`).
        let configs: Vec<Value> = g
            .outputs
            .iter()
            .filter(|o| is_prometheus_config(&o.path))
            .map(|o| serde_saphyr::from_str(&o.contents).unwrap())
            .collect();
        assert!(
            !configs.is_empty(),
            "{}: no Prometheus config",
            reg.display()
        );
        let mut jobs: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for job in configs
            .iter()
            .flat_map(|c| c["scrape_configs"].as_array().unwrap())
        {
            let targets = job["static_configs"].as_array().map_or(vec![], |cs| {
                cs.iter()
                    .flat_map(|c| {
                        c["targets"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|t| t.as_str().unwrap().to_owned())
                    })
                    .collect()
            });
            jobs.entry(job["job_name"].as_str().unwrap().to_owned())
                .or_default()
                .extend(targets);
        }
        let probed = |service: &str| {
            g.outputs.iter().any(|o| {
                (o.path.starts_with("prometheus/targets/blackbox-")
                    || o.path.starts_with("kubernetes/"))
                    && o.contents.contains(&format!("service: '{service}'"))
                    && (o.path.contains("blackbox") || o.contents.contains("kind: Probe"))
            })
        };
        let recorded: BTreeSet<String> = g
            .slo
            .files
            .values()
            .flatten()
            .flat_map(|gr| gr.records.iter().map(|r| r.record.clone()))
            .collect();
        let provides = &g.registry.settings.kubernetes.provides;
        // Under `rules: auto` each group has one evaluator, which must scrape
        // what it reads; the other settings are the deployer's choice.
        let auto = g.registry.settings.prometheus.rules == registry::settings::RuleDelivery::Auto;
        let page_probed = |group: &str| {
            group.starts_with("page ")
                && g.outputs.iter().any(|o| {
                    o.path == "prometheus/targets/blackbox-pages.yml"
                        && o.contents.contains("page:")
                })
        };
        let mut dead = Vec::new();
        // Every group, with the service whose metrics it reads: a page's
        // group reads its serving service's (JavaScript errors, API errors)
        // and its probes; the platform's, the hosts' and the prober's.
        let page_service = |path: &str| {
            g.registry
                .pages
                .iter()
                .find(|p| p.path == path)
                .map(|p| p.service.as_str())
        };
        let groups = g
            .rules
            .services
            .iter()
            .map(|(name, gr)| (Some(name.as_str()), gr))
            .chain(
                g.rules
                    .pages
                    .iter()
                    .chain(&g.rules.page_apps)
                    .map(|(path, gr)| (page_service(path), gr)),
            )
            .chain(
                g.rules
                    .platform
                    .iter()
                    .chain(&g.rules.cluster_prober)
                    .map(|gr| (None, gr)),
            );
        // An SLO's group reads its serving service's metrics; raw queries name
        // them themselves (the application's own, scraped by its job).
        let objective = |group: &str| {
            g.registry
                .objectives
                .iter()
                .find(|o| monitoring::plan::slo::group_name(o) == group)
        };
        let declared: BTreeSet<String> = g
            .registry
            .objectives
            .iter()
            .filter_map(|o| match &o.events {
                registry::Events::Queries(q) => Some(q),
                _ => None,
            })
            .flat_map(|q| [Some(&q.error), Some(&q.total), q.slow.as_ref()])
            .flatten()
            .flat_map(|q| metrics(&q.replace("{{.window}}", "5m")))
            .collect();
        let slo = g.slo.files.values().flatten().map(|gr| {
            // A service's shared rules name it in the group.
            let service = objective(&gr.name)
                .and_then(|o| o.service.as_deref())
                .or_else(|| gr.name.strip_prefix("slo of service "));
            (service, gr)
        });
        // Where a group is evaluated: the stand-alone Prometheus (a rule file
        // prometheus.yml loads) or the operator's (a PrometheusRule).
        let evaluated = |group: &str| -> BTreeSet<&'static str> {
            let named = format!("- name: {}", yaml_str(group));
            g.outputs
                .iter()
                .filter(|o| o.contents.contains(&named))
                .filter_map(|o| {
                    if o.path.starts_with("kubernetes/") {
                        Some(CLUSTER)
                    } else if (o.path.starts_with("prometheus/rules/")
                        || o.path.starts_with("prometheus/slo/"))
                        && !o.path.contains("/cluster/")
                    {
                        Some(STANDALONE)
                    } else {
                        None
                    }
                })
                .collect()
        };
        for (service, group) in groups.chain(slo) {
            let svc = service.and_then(|n| g.registry.services.iter().find(|s| s.name == n));
            let places = evaluated(&group.name);
            assert!(
                !places.is_empty()
                    || g.registry.settings.prometheus.rules
                        != registry::settings::RuleDelivery::Auto,
                "{}: group {} is evaluated nowhere",
                reg.display(),
                group.name
            );
            for rule in &group.rules {
                checked += 1;
                for metric in metrics(&rule.expr) {
                    if recorded.contains(&metric) {
                        continue;
                    }
                    let application = "application".to_owned();
                    // `up` is Prometheus' own, of the job the alert says it reads.
                    let own = rule
                        .exporter
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_owned();
                    let Some(exporter) = known
                        .get(&metric)
                        .map(|e| if e == "prometheus" { &own } else { e })
                        .or_else(|| declared.contains(&metric).then_some(&application))
                    else {
                        dead.push(format!(
                            "{} ({}): no known exporter produces {metric}",
                            rule.alert, group.name
                        ));
                        continue;
                    };
                    let Some(s) = svc else {
                        // The platform's: hosts' exporters and the probes of
                        // the stand-alone Prometheus, or the cluster's probes.
                        let fed_at = match exporter.as_str() {
                            "node_exporter" => BTreeSet::from([STANDALONE]),
                            "blackbox_exporter" if rule.expr.contains("blackbox-cluster") => {
                                BTreeSet::from([CLUSTER])
                            }
                            "blackbox_exporter" => BTreeSet::from([STANDALONE]),
                            _ => BTreeSet::new(),
                        };
                        if auto && places.is_disjoint(&fed_at) {
                            dead.push(format!("{} ({}): {metric} comes from {exporter}, which no Prometheus that evaluates the group scrapes", rule.alert, group.name));
                        }
                        continue;
                    };
                    let host_target = |job: &str| {
                        s.host.as_ref().is_some_and(|h| {
                            jobs.get(job).is_some_and(|ts| {
                                ts.iter().any(|t| t.starts_with(&format!("{h}:")))
                            })
                        })
                    };
                    let own_job = jobs.contains_key(&s.name)
                        || g.outputs.iter().any(|o| {
                            o.path == format!("kubernetes/{}/servicemonitor.yaml", s.name)
                                || (o.path.starts_with("kubernetes/")
                                    && o.contents.contains("kind: ServiceMonitor")
                                    && o.contents.contains(&format!("name: '{}'", s.name)))
                        });
                    let k8s = s.kind == ServiceType::K8sDeployment;
                    let fed = match exporter.as_str() {
                        "blackbox_exporter" => probed(&s.name) || page_probed(&group.name),
                        "node_exporter" => host_target("node_exporter"),
                        "cAdvisor" | "kubelet" if k8s => provides.iter().any(|p| p == "cadvisor"),
                        "cAdvisor" => host_target("cadvisor"),
                        "kube-state-metrics" => {
                            k8s && provides.iter().any(|p| p == "kube-state-metrics")
                        }
                        _ => own_job,
                    };
                    if !fed {
                        dead.push(format!("{} of {}: {metric} comes from {exporter}, which no generated job scrapes for it", rule.alert, s.name));
                    }
                    // And scraped by a Prometheus that evaluates the rule: the
                    // cluster's scrapes k8s services and what the cluster
                    // provides; the stand-alone one the rest, and every page probe.
                    let fed_at = match exporter.as_str() {
                        "blackbox_exporter" if group.name.starts_with("page ") => STANDALONE,
                        "node_exporter" | "cAdvisor" if !k8s => STANDALONE,
                        _ if k8s => CLUSTER,
                        _ => STANDALONE,
                    };
                    if auto && !places.contains(fed_at) {
                        dead.push(format!(
                            "{} ({}): {metric} is scraped by the {fed_at} Prometheus, but the group is evaluated by {places:?}",
                            rule.alert, group.name
                        ));
                    }
                }
            }
        }
        assert!(
            dead.is_empty(),
            "{}: dead alerts:\n{}",
            reg.display(),
            dead.join("\n")
        );
    }
    assert!(checked > 50, "only {checked} rules checked");
}

/// One node_exporter target per host, however many units run there (before,
/// each systemd unit got its own job scraping its host's node_exporter, so a
/// host with two units was scraped twice under two `service` labels); and
/// cAdvisor on every docker host.
#[test]
fn each_host_exporter_is_scraped_once_per_host() {
    let t = TempDir::new("hosts");
    std::fs::write(
        t.join("r.yaml"),
        "services:
  - {name: runner-a, type: systemd, host: 10.0.0.5, service_name: a.service, owner: t, monitoring: {prometheus: true}, alerts: [runner_offline]}
  - {name: runner-b, type: systemd, host: 10.0.0.5, service_name: b.service, owner: t, monitoring: {prometheus: true}, alerts: [runner_offline]}
  - {name: cache, type: docker, host: 10.0.0.5, port: 6379, owner: t, alerts: [memory_high]}
settings: {alertmanager: {default_webhook_url: 'http://127.0.0.1:1/x'}}
",
    )
    .unwrap();
    let g =
        monitoring::generate(t.path(), &root().join("templates")).unwrap_or_else(|e| panic!("{e}"));
    let prometheus = &g
        .outputs
        .iter()
        .find(|o| o.path == "prometheus/prometheus.yml")
        .unwrap()
        .contents;
    let v: Value = serde_saphyr::from_str(prometheus).unwrap();
    let scrapes_of = |address: &str| -> Vec<String> {
        v["scrape_configs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| {
                j["static_configs"]
                    .as_array()
                    .is_some_and(|cs| cs.iter().any(|c| c["targets"][0] == address))
            })
            .map(|j| j["job_name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        scrapes_of("10.0.0.5:9100"),
        ["node_exporter"],
        "{prometheus}"
    );
    assert_eq!(scrapes_of("10.0.0.5:8080"), ["cadvisor"], "{prometheus}");
}

//! Inventory reconciliation (the design's validate_coverage.py and
//! discover_docker.py): what runs, compared with what the registry lists.
//!
//! The live inventory comes from `kubectl get deployments,statefulsets,daemonsets
//! -A -o json` and, per docker host of the registry, `docker --host=ssh://HOST ps
//! --format '{{json .}}'`, each with a timeout; or from a saved inventory file
//! holding the same JSON: `{"kubernetes": <kubectl output>, "docker": {"HOST":
//! <docker ps output as a string, or a list of its objects>}}`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use registry::{Registry, ServiceType};

/// A running workload or container.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Workload {
    /// `kubernetes` or `docker HOST`.
    pub place: String,
    /// `Deployment`, `StatefulSet`, `DaemonSet` or `container`.
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl Workload {
    pub(crate) fn label(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{} ({})", self.place, self.name, self.kind),
            None => format!("{} {} ({})", self.place, self.name, self.kind),
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Inventory {
    /// `None` when the inventory has no cluster part; `Err` when it could not be listed.
    pub kubernetes: Option<Result<Vec<Workload>, String>>,
    /// Per docker host: its containers, or why it could not be listed.
    pub docker: BTreeMap<String, Result<Vec<Workload>, String>>,
}

#[derive(Debug, Default)]
pub(crate) struct Report {
    pub unregistered: Vec<Workload>,
    /// Registry entries (as `service (where)`) that were not found running.
    pub not_running: Vec<String>,
    pub ignored: Vec<Workload>,
    /// Places that could not be listed, with the error.
    pub unreachable: Vec<(String, String)>,
}

/// `*` matches any run of characters; everything else matches itself.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first)
        || !text[first.len()..].ends_with(last)
        || text.len() < first.len() + last.len()
    {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for p in &parts[1..parts.len() - 1] {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

fn ignored(patterns: &[String], w: &Workload) -> bool {
    let qualified = w.namespace.as_ref().map(|ns| format!("{ns}/{}", w.name));
    patterns
        .iter()
        .any(|p| glob(p, &w.name) || qualified.as_deref().is_some_and(|q| glob(p, q)))
}

/// Parses `kubectl get … -o json`.
pub(crate) fn parse_kubectl(json: &Value) -> Result<Vec<Workload>, String> {
    let items = json
        .get("items")
        .and_then(Value::as_array)
        .ok_or("kubectl output has no `items` list")?;
    items
        .iter()
        .map(|i| {
            let name = i["metadata"]["name"]
                .as_str()
                .ok_or("an item without metadata.name")?;
            Ok(Workload {
                place: "kubernetes".into(),
                kind: i["kind"].as_str().unwrap_or("workload").to_owned(),
                namespace: i["metadata"]["namespace"].as_str().map(str::to_owned),
                name: name.to_owned(),
            })
        })
        .collect()
}

/// Parses `docker ps --format '{{json .}}'`: one JSON object per line.
pub(crate) fn parse_docker_ps(host: &str, lines: &Value) -> Result<Vec<Workload>, String> {
    let objects: Vec<Value> = match lines {
        Value::String(s) => s
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("docker ps output: {e}"))?,
        Value::Array(a) => a.clone(),
        _ => {
            return Err(
                "docker output must be the text docker ps printed, or a list of its objects".into(),
            );
        }
    };
    objects
        .iter()
        .map(|o| {
            let names = o["Names"].as_str().ok_or("a container without Names")?;
            Ok(Workload {
                place: format!("docker {host}"),
                kind: "container".into(),
                namespace: None,
                name: names.trim_start_matches('/').to_owned(),
            })
        })
        .collect()
}

pub(crate) fn from_file(text: &str, hosts: &[String]) -> Result<Inventory, String> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| format!("the inventory is not JSON: {e}"))?;
    let mut inv = Inventory::default();
    if let Some(k) = v.get("kubernetes") {
        inv.kubernetes = Some(Ok(parse_kubectl(k)?));
    }
    if let Some(d) = v.get("docker").and_then(Value::as_object) {
        for (host, lines) in d {
            inv.docker
                .insert(host.clone(), parse_docker_ps(host, lines));
        }
    }
    for h in hosts {
        inv.docker
            .entry(h.clone())
            .or_insert_with(|| Err("not in the inventory file".into()));
    }
    Ok(inv)
}

/// Runs a command with a timeout; stdout on success, a readable error otherwise.
pub(crate) fn run(program: &str, args: &[&str], timeout: Duration) -> Result<String, String> {
    let what = format!("{program} {}", args.join(" "));
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `{what}`: {e}"))?;
    // Read the pipes on threads so a chatty command cannot block on a full pipe.
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = p.read_to_string(&mut s);
        }
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = p.read_to_string(&mut s);
        }
        s
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`{what}` did not finish within {}s",
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("`{what}`: {e}")),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    if status.success() {
        Ok(stdout)
    } else {
        Err(format!("`{what}` failed ({status}): {}", stderr.trim()))
    }
}

/// The docker hosts the registry names.
pub(crate) fn docker_hosts(reg: &Registry) -> Vec<String> {
    let hosts: BTreeSet<String> = reg
        .services
        .iter()
        .filter(|s| s.kind == ServiceType::Docker)
        .filter_map(|s| s.host.clone())
        .collect();
    hosts.into_iter().collect()
}

pub(crate) fn live(reg: &Registry, timeout: Duration) -> Inventory {
    let mut inv = Inventory::default();
    let k8s = run(
        "kubectl",
        &[
            "get",
            "deployments,statefulsets,daemonsets",
            "-A",
            "-o",
            "json",
        ],
        timeout,
    )
    .and_then(|out| {
        serde_json::from_str::<Value>(&out).map_err(|e| format!("kubectl printed no JSON: {e}"))
    })
    .and_then(|v| parse_kubectl(&v));
    inv.kubernetes = Some(k8s);
    for host in docker_hosts(reg) {
        // Only a host name or IPv4 address reaches the command line, attached
        // to its option: never a value ssh or docker could read as an option.
        let result = if registry::syntax::is_hostname(&host) {
            let url = format!("--host=ssh://{host}");
            run("docker", &[&url, "ps", "--format", "{{json .}}"], timeout)
                .and_then(|out| parse_docker_ps(&host, &Value::String(out)))
        } else {
            Err(format!(
                "{} is not a host name or IPv4 address; not contacted",
                registry::diagnostics::shown(&host)
            ))
        };
        inv.docker.insert(host, result);
    }
    inv
}

pub(crate) fn reconcile(reg: &Registry, inv: &Inventory) -> Report {
    let mut report = Report::default();
    let patterns = &reg.settings.discovery_ignore;
    let mut running: Vec<&Workload> = Vec::new();
    match &inv.kubernetes {
        Some(Ok(k)) => running.extend(k),
        Some(Err(e)) => report.unreachable.push(("kubernetes".into(), e.clone())),
        None => {}
    }
    for (host, r) in &inv.docker {
        match r {
            Ok(ws) => running.extend(ws),
            Err(e) => report.unreachable.push((host.clone(), e.clone())),
        }
    }
    for w in running {
        let registered = reg.services.iter().any(|s| match s.kind {
            ServiceType::K8sDeployment => {
                w.place == "kubernetes"
                    && s.name == w.name
                    && (s.namespace.is_none() || s.namespace == w.namespace)
            }
            ServiceType::Docker => {
                s.host
                    .as_ref()
                    .is_some_and(|h| w.place == format!("docker {h}"))
                    && s.name == w.name
            }
            ServiceType::Systemd => false,
        });
        if registered {
            continue;
        }
        if ignored(patterns, w) {
            report.ignored.push(w.clone());
        } else {
            report.unregistered.push(w.clone());
        }
    }
    for s in &reg.services {
        let found = match s.kind {
            ServiceType::K8sDeployment => match &inv.kubernetes {
                Some(Ok(k)) => k.iter().any(|w| {
                    w.name == s.name && (s.namespace.is_none() || s.namespace == w.namespace)
                }),
                _ => continue,
            },
            ServiceType::Docker => match s.host.as_ref().and_then(|h| inv.docker.get(h)) {
                Some(Ok(ws)) => ws.iter().any(|w| w.name == s.name),
                _ => continue, // host not listed: reported as unreachable
            },
            ServiceType::Systemd => continue,
        };
        if !found {
            let place = s
                .namespace
                .clone()
                .or_else(|| s.host.clone())
                .unwrap_or_default();
            report
                .not_running
                .push(format!("{} ({}, {place})", s.name, s.kind));
        }
    }
    report.unregistered.sort();
    report.ignored.sort();
    report
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs() {
        assert!(glob("kube-*", "kube-proxy"));
        assert!(glob("*coredns*", "my-coredns-1"));
        assert!(glob("pause", "pause"));
        assert!(!glob("pause", "paused"));
        assert!(glob("kube-system/*", "kube-system/anything"));
        assert!(!glob("a*b*c", "ab"));
        assert!(glob("a*b*c", "a-b-c"));
    }
}

//! `cargo xtask import`: SLOs written for another tool (Sloth's
//! `prometheus/v1` specs, OpenSLO `SLO` documents) as `slos:` entries of the
//! registry, with a report of what could not be carried over. Foreign files
//! are read as plain YAML values: the importers accept what the tools accept
//! and name every part they leave out.

pub(crate) mod openslo;
pub(crate) mod sloth;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use registry::sli::WINDOW;
use registry::syntax::{is_valid_name, slug};

/// One SLO as the registry's `slos:` holds it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Imported {
    pub name: String,
    pub service: String,
    pub owner: Option<String>,
    pub description: Option<String>,
    /// Percent.
    pub availability: f64,
    pub error_query: String,
    pub total_query: String,
    /// None: all four tiers.
    pub tiers: Option<Vec<&'static str>>,
}

/// What an import produced: the SLOs, and per source what was left out.
#[derive(Debug, Default)]
pub(crate) struct Import {
    pub slos: Vec<Imported>,
    /// `file: what` lines.
    pub left_out: Vec<String>,
}

impl Import {
    /// Adds an SLO, unless one of the same service and name came first (the
    /// same spec in two forms, such as Sloth's file and Kubernetes resource).
    pub(crate) fn push(&mut self, file: &str, slo: Imported) {
        if self
            .slos
            .iter()
            .any(|s| s.service == slo.service && s.name == slo.name)
        {
            self.skip(
                file,
                format!(
                    "SLO {} of {}: already imported from an earlier file, left out",
                    slo.name, slo.service
                ),
            );
        } else {
            self.slos.push(slo);
        }
    }

    pub(crate) fn skip(&mut self, file: &str, what: impl std::fmt::Display) {
        self.left_out.push(format!("{file}: {what}"));
    }
}

/// The YAML files of `path` (itself, or the `.yml`/`.yaml` files under it),
/// sorted, with their documents as values.
pub(crate) fn documents(path: &Path) -> Result<Vec<(String, Vec<Value>)>, String> {
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut f: Vec<PathBuf> = walkdir::WalkDir::new(path)
            .into_iter()
            .filter_map(Result::ok)
            .map(|e| e.into_path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
            .collect();
        f.sort();
        f
    } else {
        vec![path.to_path_buf()]
    };
    let mut out = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        let name = f.display().to_string();
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
            .map_err(|e| format!("{name} is not YAML: {}", first_line(&e.to_string())))?;
        out.push((name, docs));
    }
    Ok(out)
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// A name the registry accepts: lowercase letters, digits and `-`.
pub(crate) fn name(raw: &str) -> String {
    let mut s = slug(raw);
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    let s = s.trim_matches('-').to_owned();
    if is_valid_name(&s) {
        s
    } else {
        format!("slo-{s}")
    }
}

pub(crate) fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A query that counts events over Sloth's window: as given when it has the
/// placeholder, else a counter selector turned into a rate over it.
pub(crate) fn over_window(query: &str) -> String {
    let q = registry::sli::canonical(query.trim());
    if q.contains(WINDOW) {
        q
    } else {
        format!("sum(rate({q}[{WINDOW}]))")
    }
}

/// The `slos:` section for the imported SLOs, with where they came from.
pub(crate) fn to_yaml(import: &Import, command: &str) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut y = format!(
        "# Imported by `{command}`; review it, and check each `service` is a service of the registry.\nslos:\n"
    );
    for s in &import.slos {
        let _ = writeln!(y, "  - name: {}", s.name);
        let _ = writeln!(y, "    service: {}", s.service);
        if let Some(o) = &s.owner {
            let _ = writeln!(y, "    owner: {o}");
        }
        if let Some(d) = &s.description {
            let _ = writeln!(y, "    description: {}", q(d));
        }
        let _ = writeln!(y, "    slo_availability: {}", s.availability);
        if let Some(t) = &s.tiers {
            let _ = writeln!(y, "    burn_rate_tiers: [{}]", t.join(", "));
        }
        let _ = writeln!(y, "    sli:");
        let _ = writeln!(y, "      error_query: {}", q(&s.error_query));
        let _ = writeln!(y, "      total_query: {}", q(&s.total_query));
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_windows() {
        assert_eq!(name("Requests Availability"), "requests-availability");
        assert_eq!(name("sloth-slo-my-service"), "sloth-slo-my-service");
        assert_eq!(
            over_window("http_requests_total{code=\"500\"}"),
            "sum(rate(http_requests_total{code=\"500\"}[{{.window}}]))"
        );
        assert_eq!(over_window(" x[{{.window}}] "), "x[{{.window}}]");
    }
}

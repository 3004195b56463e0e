//! What a change does to monitoring, from two monitoring plans (the snapshot
//! before and after): per service, page, endpoint or SLO the alerts added,
//! removed and changed and its other changed lines; routing, the rule
//! delivery and the shards. Written as markdown for a pull request's job
//! summary (`cargo xtask plan-diff`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One entry of a plan: its header line and its indented lines.
struct Block<'a> {
    header: &'a str,
    lines: Vec<&'a str>,
}

/// The plan's blocks by key: the header's first two words (`service x`,
/// `endpoint GET "/a"` keeps three), or the whole header for the rest.
fn blocks(plan: &str) -> BTreeMap<String, Block<'_>> {
    let mut out: BTreeMap<String, Block<'_>> = BTreeMap::new();
    let mut key: Option<String> = None;
    for line in plan.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            let words: Vec<&str> = line.split_whitespace().collect();
            let k = match words.first() {
                Some(&"endpoint") => words.iter().take(3).copied().collect::<Vec<_>>().join(" "),
                Some(&("service" | "page" | "slo")) => {
                    words.iter().take(2).copied().collect::<Vec<_>>().join(" ")
                }
                // `services: 11, …` and `rules: delivered …`: one block each.
                _ => line.split(':').next().unwrap_or(line).to_owned(),
            };
            out.insert(
                k.clone(),
                Block {
                    header: line,
                    lines: Vec::new(),
                },
            );
            key = Some(k);
        } else if let Some(b) = key.as_ref().and_then(|k| out.get_mut(k)) {
            b.lines.push(line.trim());
        }
    }
    out
}

/// An alert line's name (`alert HighErrorRate  warning …` → `HighErrorRate`),
/// with its tier for burn-rate lines (`burn-rate fast: …` → `burn-rate fast`).
fn item(line: &str) -> Option<String> {
    if let Some(rest) = line.strip_prefix("alert ") {
        return rest.split_whitespace().next().map(|n| format!("alert {n}"));
    }
    line.strip_prefix("burn-rate ")
        .and_then(|r| r.split(':').next())
        .map(|t| format!("burn-rate {t}"))
}

fn code(s: &str) -> String {
    crate::templates::filters::md_code_str(s)
}

/// The summary in markdown; `None` when the plans describe the same monitoring.
pub fn summary(before: &str, after: &str) -> Option<String> {
    let (old, new) = (blocks(before), blocks(after));
    let mut out = String::new();
    for (key, b) in &new {
        match old.get(key) {
            None => {
                let _ = writeln!(out, "- **added** {}", code(b.header));
                for l in b.lines.iter().filter(|l| item(l).is_some()) {
                    let _ = writeln!(out, "  - {}", code(l));
                }
            }
            Some(a) => changes(&mut out, key, a, b),
        }
    }
    for (key, a) in &old {
        if !new.contains_key(key) {
            let _ = writeln!(out, "- **removed** {}", code(a.header));
            for l in a.lines.iter().filter(|l| item(l).is_some()) {
                let _ = writeln!(out, "  - was {}", code(l));
            }
        }
    }
    (!out.is_empty()).then(|| format!("### What this change does to monitoring\n\n{out}"))
}

/// The differences within one block: its header, alerts and tiers by name,
/// and its other lines.
fn changes(out: &mut String, key: &str, a: &Block<'_>, b: &Block<'_>) {
    let mut said = Vec::new();
    if a.header != b.header {
        said.push(format!("{} → {}", code(a.header), code(b.header)));
    }
    let named = |blk: &Block<'_>| -> BTreeMap<String, String> {
        blk.lines
            .iter()
            .filter_map(|l| item(l).map(|k| (k, (*l).to_owned())))
            .collect()
    };
    let (na, nb) = (named(a), named(b));
    for (k, l) in &nb {
        match na.get(k) {
            None => said.push(format!("added {}", code(l))),
            Some(o) if o != l => said.push(format!("{} → {}", code(o), code(l))),
            _ => {}
        }
    }
    for (k, l) in &na {
        if !nb.contains_key(k) {
            said.push(format!("removed {}", code(l)));
        }
    }
    let plain = |blk: &Block<'_>| -> Vec<String> {
        blk.lines
            .iter()
            .filter(|l| item(l).is_none())
            .map(|l| (*l).to_owned())
            .collect()
    };
    let (pa, pb) = (plain(a), plain(b));
    for l in pb.iter().filter(|l| !pa.contains(l)) {
        said.push(format!("now {}", code(l)));
    }
    for l in pa.iter().filter(|l| !pb.contains(l)) {
        said.push(format!("no longer {}", code(l)));
    }
    if said.is_empty() {
        return;
    }
    let _ = writeln!(out, "- **{key}**");
    for s in said {
        let _ = writeln!(out, "  - {s}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = "# header\nMONITORING PLAN\nrules: delivered auto, a file per service\n\nservice a  [docker]  owner t\n  probe: http http://h/\n  alert MemoryHigh  warning  for 5m  threshold 0.9 ratio  (memory_high)\n  alert ServiceDown  critical  for 1m  (service_down)\n\nservice gone  [docker]  owner t\n  alert ServiceDown  critical  for 1m  (service_down)\n\nrouting (Alertmanager, by the `owner` label):\n  owner t: warning -> t\n";

    #[test]
    fn the_same_plan_changes_nothing() {
        assert_eq!(summary(BEFORE, BEFORE), None);
    }

    #[test]
    fn thresholds_alerts_services_and_routes_are_named() {
        let after = BEFORE
            .replace("threshold 0.9 ratio", "threshold 0.85 ratio")
            .replace("  alert ServiceDown  critical  for 1m  (service_down)\n\nservice gone", "\nservice gone")
            .replace("service gone  [docker]  owner t\n  alert ServiceDown  critical  for 1m  (service_down)\n", "service new  [systemd]  owner u\n  alert GitHubRunnerOffline  critical  for 5m  (runner_offline)\n")
            .replace("a file per service", "a file per team")
            .replace("owner t: warning -> t", "owner t: warning -> t\n  owner u: warning -> u");
        let s = summary(BEFORE, &after).unwrap();
        for want in [
            "`alert MemoryHigh  warning  for 5m  threshold 0.9 ratio  (memory_high)` → `alert MemoryHigh  warning  for 5m  threshold 0.85 ratio  (memory_high)`",
            "removed `alert ServiceDown  critical  for 1m  (service_down)`",
            "**added** `service new  [systemd]  owner u`",
            "`alert GitHubRunnerOffline  critical  for 5m  (runner_offline)`",
            "**removed** `service gone  [docker]  owner t`",
            "`rules: delivered auto, a file per service` → `rules: delivered auto, a file per team`",
            "now `owner u: warning -> u`",
        ] {
            assert!(s.contains(want), "no {want:?} in\n{s}");
        }
    }
}

//! The `alerts:` lists of services and pages, checked against the catalogue:
//! known names, listed once, applicable to the target, needs met, overrides
//! (severity, `for`, threshold) valid and reachable; then the entry's
//! failure modes, which add the baseline alerts it did not list.

use std::collections::{BTreeMap, BTreeSet};

use serde_saphyr::Spanned;

use super::checker::{Checker, suggest};
use crate::AlertUse;
use crate::catalogue::{
    AlertTemplate, Comparison, Need, PAGE_PROBE_TIMEOUT_SECONDS, PROBE_TIMEOUT_SECONDS, SEVERITIES,
    TargetKind, ThresholdLimit,
};
use crate::diagnostics::shown;
use crate::failure_modes::{Facts, ModeCheck, Outcome, Via};
use crate::model::AlertRef;
use crate::source::SourceFile;
use crate::syntax::{duration_hours, is_duration};

/// The longest `for` accepted: the generated unit test runs the rule that
/// long, one sample a minute (promtool takes half a minute for 7 days), and an
/// alert that waits more than a day to page is a report, not an alert.
const MAX_FOR_HOURS: f64 = 24.0;

/// What one entry brings to its alerts and failure modes.
pub(super) struct Entry<'a> {
    pub kind: TargetKind,
    pub has: &'a dyn Fn(Need) -> bool,
    pub facts: Facts<'a>,
    pub host: Option<&'a str>,
    /// `opt_out:`: mode to the reason, where it is written.
    pub opt_out: Option<&'a Spanned<BTreeMap<String, String>>>,
    /// Its name (or path), where undetected modes are reported.
    pub at: &'a Spanned<String>,
}

/// The first need of `t` a target of `kind` lacks: the template's own, then
/// what its exporter implies.
pub(crate) fn unmet(
    t: &AlertTemplate,
    kind: TargetKind,
    has: &dyn Fn(Need) -> bool,
) -> Option<Need> {
    let implied = crate::catalogue::Exporter::of(&t.exporter).and_then(|e| e.need(kind));
    t.needs
        .iter()
        .chain(implied.iter())
        .copied()
        .find(|n| !has(*n))
}

/// The failure modes of an entry and the baseline alerts they add (those
/// not listed): pure, so hosts and the prober, which no file lists, share it.
pub(crate) fn modes(
    catalogue: &crate::catalogue::Catalogue,
    kind: TargetKind,
    facts: &Facts,
    has: &dyn Fn(Need) -> bool,
    host: Option<&str>,
    listed: &[AlertUse],
    opted: &BTreeMap<String, String>,
) -> (Vec<AlertUse>, Vec<ModeCheck>) {
    let mut added = Vec::new();
    let mut checks = Vec::new();
    for m in catalogue.modes.iter().filter(|m| m.matches(kind, facts)) {
        let name = &m.mode.value;
        let outcome = if let Some(reason) = opted.get(name) {
            Outcome::OptedOut {
                reason: reason.clone(),
            }
        } else if m.via == Via::Host {
            match host {
                Some(h) => Outcome::ViaHost {
                    host: h.to_owned(),
                    alert: catalogue
                        .alerts
                        .get(&m.alerts[0])
                        .map_or_else(String::new, |t| t.alert.value.clone()),
                },
                None => Outcome::NotDetected {
                    reason: "it has no host".into(),
                },
            }
        } else {
            let listed: Vec<String> = m
                .alerts
                .iter()
                .filter(|a| listed.iter().any(|l| &l.name == *a))
                .cloned()
                .collect();
            if !listed.is_empty() {
                Outcome::Detected {
                    alerts: listed,
                    baseline: false,
                }
            } else {
                baseline(catalogue, &m.alerts[0], kind, has, &mut added)
            }
        };
        checks.push(ModeCheck {
            mode: name.clone(),
            title: m.title.clone(),
            outcome,
        });
    }
    (added, checks)
}

/// A mode none of whose alerts is listed: its first alert joins `added`
/// when the entry has what it needs, else the mode is not detected.
fn baseline(
    catalogue: &crate::catalogue::Catalogue,
    first: &str,
    kind: TargetKind,
    has: &dyn Fn(Need) -> bool,
    added: &mut Vec<AlertUse>,
) -> Outcome {
    match catalogue.alerts.get(first).map(|t| unmet(t, kind, has)) {
        Some(None) => {
            added.push(AlertUse {
                name: first.to_owned(),
                severity: None,
                for_: None,
                threshold: None,
                baseline: true,
            });
            Outcome::Detected {
                alerts: vec![first.to_owned()],
                baseline: true,
            }
        }
        Some(Some(need)) => Outcome::NotDetected {
            reason: if kind == TargetKind::Page && need == Need::Probe {
                format!("{first} needs a page probe, which needs `settings.pages_base_url`")
            } else {
                format!("{first} needs {}", need.describe())
            },
        },
        None => Outcome::NotDetected {
            reason: format!("{first} is not in the alert catalogue"),
        },
    }
}

impl Checker<'_> {
    /// The entry's listed alerts, checked, followed by the baseline alerts of
    /// its failure modes; and how it stands against each mode.
    pub(super) fn alerts(
        &mut self,
        src: &SourceFile,
        list: &[Spanned<AlertRef>],
        field: &str,
        entry: &Entry,
    ) -> (Vec<AlertUse>, Vec<ModeCheck>) {
        let mut out = self.listed(
            src,
            list.iter().enumerate(),
            &format!("{field}.alerts"),
            entry.kind,
            entry.has,
        );
        let opted = self.opt_out(src, field, entry);
        let (added, checks) = modes(
            self.catalogue,
            entry.kind,
            &entry.facts,
            entry.has,
            entry.host,
            &out,
            &opted,
        );
        out.extend(added);
        self.warn_undetected(src, field, entry, &checks);
        (out, checks)
    }

    /// One warning per entry, naming its undetected modes (the plan says what
    /// each needs).
    pub(super) fn warn_undetected(
        &mut self,
        src: &SourceFile,
        field: &str,
        entry: &Entry,
        checks: &[ModeCheck],
    ) {
        let undetected: Vec<&str> = checks
            .iter()
            .filter(|m| matches!(m.outcome, Outcome::NotDetected { .. }))
            .map(|m| m.mode.as_str())
            .collect();
        if let Some(first) = undetected.first() {
            self.warn(
                src,
                entry.at,
                "entries with undetected failure modes",
                format!("{field}.opt_out"),
                format!(
                    "{} {}: no alert detects {}",
                    entry.kind.as_str(),
                    shown(&entry.at.value),
                    undetected.join(", ")
                ),
                format!(
                    "the plan says what each alert needs; give it that, or opt out with a reason: `opt_out: {{{first}: \"…\"}}`"
                ),
            );
        }
    }

    /// `opt_out:`: known modes of this entry, each with a reason.
    pub(super) fn opt_out(
        &mut self,
        src: &SourceFile,
        field: &str,
        entry: &Entry,
    ) -> BTreeMap<String, String> {
        let Some(map) = entry.opt_out else {
            return BTreeMap::new();
        };
        let applicable: Vec<&str> = self
            .catalogue
            .modes
            .iter()
            .filter(|m| m.matches(entry.kind, &entry.facts))
            .map(|m| m.mode.value.as_str())
            .collect();
        let mut out = BTreeMap::new();
        for (mode, reason) in &map.value {
            let f = format!("{field}.opt_out.{mode}");
            if !applicable.contains(&mode.as_str()) {
                let help = suggest(mode, applicable.iter().copied(), || {
                    format!(
                        "the failure modes of this {} are: {}",
                        entry.kind.as_str(),
                        applicable.join(", ")
                    )
                });
                self.error(
                    src,
                    map,
                    f,
                    format!(
                        "{} is not a failure mode of this {}",
                        shown(mode),
                        entry.kind.as_str()
                    ),
                    help,
                );
            } else if reason.trim().is_empty() {
                self.error(
                    src,
                    map,
                    f,
                    format!("opting out of {mode} needs a reason"),
                    "say why it cannot fail this way, or who watches it instead; the plan shows it",
                );
            } else {
                out.insert(mode.clone(), reason.clone());
            }
        }
        out
    }

    /// Listed alerts of one kind of target: each `(index, entry)` of the
    /// list at `list_field` (`services[2].alerts`).
    pub(super) fn listed<'a>(
        &mut self,
        src: &SourceFile,
        list: impl IntoIterator<Item = (usize, &'a Spanned<AlertRef>)>,
        list_field: &str,
        kind: TargetKind,
        has: &dyn Fn(Need) -> bool,
    ) -> Vec<AlertUse> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (i, a) in list {
            let a = &a.value;
            let f = format!("{list_field}[{i}]");
            let name = &a.name.value;
            let Some(t) = self.catalogue.alerts.get(name) else {
                let help = suggest(name, self.catalogue.names(), || {
                    format!(
                        "add templates/alerts/{name}.yaml, or use one of: {}",
                        self.catalogue.names().collect::<Vec<_>>().join(", ")
                    )
                });
                self.error(src, &a.name, f, format!("unknown alert \"{name}\""), help);
                continue;
            };
            if !seen.insert(name.clone()) {
                self.error(
                    src,
                    &a.name,
                    f,
                    format!("alert \"{name}\" is listed twice"),
                    "remove one of the entries; put overrides on the one that stays",
                );
                continue;
            }
            if !t.applies_to.contains(&kind) {
                let kinds: Vec<_> = t.applies_to.iter().map(|k| k.as_str()).collect();
                self.error(
                    src,
                    &a.name,
                    f.clone(),
                    format!("alert \"{name}\" does not apply to a {}", kind.as_str()),
                    format!("it applies to: {}", kinds.join(", ")),
                );
            }
            let skip = self.needs(src, a, t, kind, has, &f);
            self.overrides(src, a, &f);
            if let Some(th) = &a.threshold {
                self.threshold(src, th, t, name, &f);
            }
            self.reachable(src, a, t, kind, &f);
            if skip {
                continue;
            }
            out.push(AlertUse {
                name: name.clone(),
                severity: a.severity.as_ref().map(|s| s.value.clone()),
                for_: a.for_.as_ref().map(|s| s.value.clone()),
                threshold: a.threshold.as_ref().map(|s| s.value),
                baseline: false,
            });
        }
        out
    }

    /// What the alert needs of its target (the catalogue's `needs` and its
    /// exporter's): `true` when its rule is skipped (a page without a probe).
    fn needs(
        &mut self,
        src: &SourceFile,
        a: &AlertRef,
        t: &AlertTemplate,
        kind: TargetKind,
        has: &dyn Fn(Need) -> bool,
        f: &str,
    ) -> bool {
        let name = &a.name.value;
        let mut skip = false;
        let implied = crate::catalogue::Exporter::of(&t.exporter).and_then(|e| e.need(kind));
        for need in t.needs.iter().chain(implied.iter()) {
            if has(*need) {
                continue;
            }
            if kind == TargetKind::Page && *need == Need::Probe {
                // Registries in the design's format have pages but no base URL;
                // they keep loading, without the probe-based page alerts.
                self.warn(src, &a.name, "page alerts without `settings.pages_base_url`", f.to_owned(), format!("alert \"{name}\" needs a page probe, which needs `settings.pages_base_url`; no rule is generated for it"), "set `settings: {pages_base_url: https://…}`");
                skip = true;
            } else {
                self.error(
                    src,
                    &a.name,
                    f.to_owned(),
                    format!("alert \"{name}\" needs {}", need.describe()),
                    "add what it needs to this entry, or remove the alert",
                );
            }
        }
        skip
    }

    /// The entry's own severity and `for`.
    fn overrides(&mut self, src: &SourceFile, a: &AlertRef, f: &str) {
        if let Some(s) = &a.severity
            && !SEVERITIES.contains(&s.value.as_str())
        {
            let help = suggest(&s.value, SEVERITIES, || {
                format!("use one of {}", SEVERITIES.join(", "))
            });
            self.error(
                src,
                s,
                format!("{f}.severity"),
                format!("unknown severity {}", shown(&s.value)),
                help,
            );
        }
        if let Some(d) = &a.for_ {
            if !is_duration(&d.value) {
                self.error(
                    src,
                    d,
                    format!("{f}.for"),
                    format!("{} is not a Prometheus duration", shown(&d.value)),
                    "write a duration such as 30s, 5m or 1h",
                );
            } else if duration_hours(&d.value).is_some_and(|h| h > MAX_FOR_HOURS) {
                self.error(
                    src,
                    d,
                    format!("{f}.for"),
                    format!("`for: {}` is longer than a day", d.value),
                    "an alert that waits more than a day is a report: shorten `for` (at most 1d), or watch the trend on a dashboard",
                );
            }
        }
    }

    /// A threshold the alert's metric cannot pass is refused: the alert
    /// would never fire (a probe's duration past its timeout, a quantile past
    /// the top finite bucket, a ratio past 1).
    fn reachable(
        &mut self,
        src: &SourceFile,
        a: &AlertRef,
        t: &AlertTemplate,
        kind: TargetKind,
        f: &str,
    ) {
        let (v, at, what) = match (&a.threshold, t.threshold) {
            (Some(th), Some(_)) if th.value.is_finite() => {
                (th.value, th.referenced, format!("{f}.threshold"))
            }
            (Some(_), _) => return, // `threshold` reports it
            (None, Some(d)) => (d, a.name.referenced, f.to_owned()),
            (None, None) => return,
        };
        let th = &Spanned::new((), at, at);
        let limit = match t.threshold_limit {
            Some(ThresholdLimit::ProbeTimeout) => {
                let (secs, module) = if kind == TargetKind::Page {
                    (PAGE_PROBE_TIMEOUT_SECONDS, "http_page")
                } else {
                    (PROBE_TIMEOUT_SECONDS, "http_2xx")
                };
                Some((secs, format!("the probe gives up after {secs}s (the {module} module's timeout), so its duration never passes {secs}s"), "lower the threshold below the timeout; a probe that times out fails, which ServiceDown catches".to_owned()))
            }
            Some(ThresholdLimit::TopBucket) => self.top_bucket.map(|top| {
                (top, format!("histogram_quantile tops out at the highest finite latency bucket, {top}s, so the quantile never passes it"), format!("lower the threshold below {top}s, or declare the application's larger buckets in `settings.latency_buckets_seconds`"))
            }),
            None => None,
        };
        let never = match t.comparison {
            Comparison::Above => {
                let hi = t.threshold_range.map_or(f64::INFINITY, |[_, hi]| hi);
                if let Some((_, why, help)) = limit.filter(|(lim, _, _)| v >= *lim && *lim <= hi) {
                    Some((why, help))
                } else if hi.is_finite() && v >= hi {
                    let help =
                        if t.threshold_unit.as_deref() == Some("ratio") && v > 1.0 && v <= 100.0 {
                            format!("a ratio runs from 0 to 1: write {} for {v} %", v / 100.0)
                        } else {
                            format!("use a threshold below {hi}")
                        };
                    Some((
                        format!("the metric is never above {hi}, so the alert can never fire"),
                        help,
                    ))
                } else {
                    None
                }
            }
            Comparison::Below => {
                let lo = t.threshold_range.map_or(f64::NEG_INFINITY, |[lo, _]| lo);
                (lo.is_finite() && v <= lo).then(|| {
                    (
                        format!("the metric is never below {lo}, so the alert can never fire"),
                        format!("use a threshold above {lo}"),
                    )
                })
            }
        };
        if let Some((why, help)) = never {
            let whose = if a.threshold.is_some() {
                ""
            } else {
                " (the catalogue's default)"
            };
            self.error(
                src,
                th,
                what,
                format!("threshold {v}{whose} of alert \"{}\": {why}", a.name.value),
                help,
            );
        }
    }

    /// An override's threshold: finite, overriding one, and within the range
    /// of the template's metric (outside it the alert never or always fires).
    fn threshold(
        &mut self,
        src: &SourceFile,
        th: &Spanned<f64>,
        t: &AlertTemplate,
        name: &str,
        f: &str,
    ) {
        if !th.value.is_finite() {
            self.error(
                src,
                th,
                format!("{f}.threshold"),
                "the threshold must be a finite number".into(),
                "write a number such as 0.85",
            );
        } else if t.threshold.is_none() {
            self.error(
                src,
                th,
                format!("{f}.threshold"),
                format!("alert \"{name}\" has no threshold to override"),
                "remove `threshold`",
            );
        } else if let Some([lo, hi]) = t.threshold_range
            && !(lo..=hi).contains(&th.value)
        {
            // Past the end the alert cannot reach, `reachable` refuses it;
            // past the other end it always fires, which may be meant.
            let always = match t.comparison {
                Comparison::Above => th.value < lo,
                Comparison::Below => th.value > hi,
            };
            if !always {
                return;
            }
            let unit = t.threshold_unit.as_deref().unwrap_or("");
            let default = t.threshold.unwrap_or_default();
            self.warn(
                src,
                th,
                "thresholds outside their metric's range",
                format!("{f}.threshold"),
                format!(
                    "threshold {} of alert \"{name}\" is outside {} to {} ({unit}): the alert always fires",
                    th.value, lo, hi
                ),
                format!("the template's default is {default} ({unit})"),
            );
        }
    }
}

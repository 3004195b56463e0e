//! The `alerts:` lists of services and pages, checked against the catalogue:
//! known names, listed once, applicable to the target, needs met, overrides
//! (severity, `for`, threshold) valid.

use std::collections::BTreeSet;

use serde_saphyr::Spanned;

use super::checker::{Checker, suggest};
use crate::AlertUse;
use crate::catalogue::{AlertTemplate, Need, SEVERITIES, TargetKind};
use crate::diagnostics::shown;
use crate::model::AlertRef;
use crate::source::SourceFile;
use crate::syntax::is_duration;

impl Checker<'_> {
    pub(super) fn alerts(
        &mut self,
        src: &SourceFile,
        list: &[Spanned<AlertRef>],
        field: &str,
        kind: TargetKind,
        has: &dyn Fn(Need) -> bool,
    ) -> Vec<AlertUse> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (i, a) in list.iter().enumerate() {
            let a = &a.value;
            let f = format!("{field}.alerts[{i}]");
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
            if skip {
                continue;
            }
            out.push(AlertUse {
                name: name.clone(),
                severity: a.severity.as_ref().map(|s| s.value.clone()),
                for_: a.for_.as_ref().map(|s| s.value.clone()),
                threshold: a.threshold.as_ref().map(|s| s.value),
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
            if kind == TargetKind::Page {
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
        if let Some(d) = &a.for_
            && !is_duration(&d.value)
        {
            self.error(
                src,
                d,
                format!("{f}.for"),
                format!("{} is not a Prometheus duration", shown(&d.value)),
                "write a duration such as 30s, 5m or 1h",
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
            let unit = t.threshold_unit.as_deref().unwrap_or("");
            let default = t.threshold.unwrap_or_default();
            self.warn(
                src,
                th,
                "thresholds outside their metric's range",
                format!("{f}.threshold"),
                format!(
                    "threshold {} of alert \"{name}\" is outside {} to {} ({unit}): the alert {}",
                    th.value,
                    lo,
                    hi,
                    if th.value > hi {
                        "can never fire"
                    } else {
                        "always fires"
                    }
                ),
                if unit == "ratio" && th.value > 1.0 && th.value <= 100.0 {
                    format!(
                        "a ratio runs from 0 to 1: write {} for {} %",
                        th.value / 100.0,
                        th.value
                    )
                } else {
                    format!("the template's default is {default} ({unit})")
                },
            );
        }
    }
}

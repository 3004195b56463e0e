//! The failure-mode catalogue, `templates/failure_modes.yaml`: every way a
//! kind of registered thing can fail, and the alerts that catch it. Every
//! entry gets the first alert of each of its modes without listing it (its
//! baseline), unless it lists another alert of the mode or opts out of the
//! mode with a reason (`opt_out: {mode: reason}`); a mode it cannot detect
//! (a need missing) is reported. Data, like the alert catalogue: a team adds a
//! mode without touching Rust.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::diagnostics::Diagnostic;
use crate::source::{IoError, SourceFile};
use crate::target_kind::TargetKind;

/// Alerts of endpoints, which their SLO rules raise (not alert templates).
pub const SLO_ALERTS: [&str; 2] = ["slo_availability", "slo_latency"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    modes: Vec<FailureMode>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureMode {
    /// Its key, for `opt_out:` and the plan (`unreachable`).
    pub mode: Spanned<String>,
    /// What happens, completing "the entry …" (`its health probe fails`).
    pub title: String,
    pub applies_to: Vec<TargetKind>,
    /// Only entries that match (a database by its health command, an https probe).
    #[serde(default)]
    pub when: When,
    /// The alerts that catch it; the first is every matching entry's baseline.
    pub alerts: Vec<String>,
    /// `host`: caught by the alert of the entry's host (one per host, not per
    /// service); the entry's row names it.
    #[serde(default)]
    pub via: Via,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    #[default]
    Entry,
    Host,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    /// The first word of the entry's health command is one of these.
    #[serde(default)]
    pub health_command: Vec<String>,
    /// The entry is probed over https.
    #[serde(default)]
    pub https: bool,
}

/// What an entry is, for `when:`.
pub struct Facts<'a> {
    pub health_command: Option<&'a str>,
    pub https: bool,
}

impl FailureMode {
    pub fn matches(&self, kind: TargetKind, facts: &Facts) -> bool {
        self.applies_to.contains(&kind)
            && (self.when.health_command.is_empty()
                || facts
                    .health_command
                    .and_then(|c| c.split_whitespace().next())
                    .is_some_and(|c| self.when.health_command.iter().any(|w| w == c)))
            && (!self.when.https || facts.https)
    }
}

/// How one entry stands against one failure mode, for the plan and coverage.
#[derive(Debug, Clone, Serialize)]
pub struct ModeCheck {
    pub mode: String,
    pub title: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Caught by these alerts (catalogue names); `baseline` when none was listed.
    Detected {
        alerts: Vec<String>,
        baseline: bool,
    },
    /// Caught by the alert of the entry's host.
    ViaHost {
        host: String,
        alert: String,
    },
    OptedOut {
        reason: String,
    },
    NotDetected {
        reason: String,
    },
}

impl ModeCheck {
    pub fn detected(&self) -> bool {
        matches!(
            self.outcome,
            Outcome::Detected { .. } | Outcome::ViaHost { .. }
        )
    }
}

pub(crate) fn load(
    templates: &Path,
    applies_to: &dyn Fn(&str) -> Option<Vec<TargetKind>>,
    diags: &mut Vec<Diagnostic>,
) -> Result<Vec<FailureMode>, IoError> {
    let path = templates.join("failure_modes.yaml");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        IoError(format!(
            "cannot read the failure-mode catalogue {}: {e}",
            path.display()
        ))
    })?;
    let source = SourceFile::new("templates/failure_modes.yaml".into(), text);
    let file: File = match serde_saphyr::from_str(&source.text) {
        Ok(f) => f,
        Err(e) => {
            let loc = e.location().unwrap_or(serde_saphyr::Location::UNKNOWN);
            let d = Diagnostic::error(source.pos(&loc), "", e.without_snippet().to_string())
                .help("each mode has `mode`, `title`, `applies_to` and `alerts` (and may have `when`, `via`)");
            diags.push(source.diag(d));
            return Ok(Vec::new());
        }
    };
    check(&source, &file.modes, applies_to, diags);
    Ok(file.modes)
}

/// Names valid and unique, alerts known and applying to the mode's kinds.
fn check(
    source: &SourceFile,
    modes: &[FailureMode],
    applies_to: &dyn Fn(&str) -> Option<Vec<TargetKind>>,
    diags: &mut Vec<Diagnostic>,
) {
    let mut seen = BTreeSet::new();
    for m in modes {
        let at = source.pos(&m.mode.referenced);
        let err = |field: &str, msg: String, help: &str| {
            source.diag(Diagnostic::error(at.clone(), field.to_owned(), msg).help(help.to_owned()))
        };
        let name = &m.mode.value;
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            diags.push(err(
                "mode",
                format!("{name:?} is not a valid mode name"),
                "use lowercase letters, digits and `_`, such as `disk_full`",
            ));
        }
        if !seen.insert(name.clone()) {
            diags.push(err(
                "mode",
                format!("mode {name:?} is defined twice"),
                "merge the two entries",
            ));
        }
        if m.alerts.is_empty() || m.applies_to.is_empty() {
            diags.push(err(
                "alerts",
                format!("mode {name:?} lists no alert or no kind"),
                "name the alerts that catch it and the kinds it applies to",
            ));
        }
        for a in &m.alerts {
            if m.applies_to == [TargetKind::Endpoint] && SLO_ALERTS.contains(&a.as_str()) {
                continue;
            }
            let Some(alert_kinds) = applies_to(a) else {
                diags.push(err(
                    "alerts",
                    format!("mode {name:?} names the unknown alert {a:?}"),
                    "name a file of templates/alerts/ (without `.yaml`)",
                ));
                continue;
            };
            let kinds: Vec<TargetKind> = match m.via {
                Via::Entry => m.applies_to.clone(),
                Via::Host => vec![TargetKind::Host],
            };
            if let Some(k) = kinds.iter().find(|k| !alert_kinds.contains(k)) {
                diags.push(err(
                    "alerts",
                    format!(
                        "mode {name:?} applies to {}, which its alert {a:?} does not",
                        k.as_str()
                    ),
                    "add the kind to the alert's `applies_to`, or remove it from the mode's",
                ));
            }
        }
    }
}

//! The README's failure-mode and alert tables, written by gen from
//! `templates/failure_modes.yaml` and `templates/alerts/*.yaml` between two
//! marker lines, so the catalogue a user reads never goes stale. A README
//! without the markers is left alone.

use std::fmt::Write as _;
use std::path::Path;

use crate::Failure;
use crate::output::{Format, Output};
use registry::catalogue::{self, Catalogue};

pub const FILE: &str = "README.md";
const START: &str =
    "<!-- alert-catalogue: written by `cargo xtask gen` from templates/alerts/*.yaml -->";
const END: &str = "<!-- end of alert-catalogue -->";

/// The tables: each failure mode with the alerts that catch it (the first
/// is every entry's baseline), then one row per catalogue alert with the
/// reference its expression and `for` follow.
pub(crate) fn table(c: &Catalogue) -> String {
    let cell = |t: &str| t.replace('|', "\\|");
    let mut s = String::from(
        "| failure mode | what happens | applies to | caught by (baseline first) |\n|---|---|---|---|\n",
    );
    for m in &c.modes {
        let kinds: Vec<&str> = m.applies_to.iter().map(|k| k.as_str()).collect();
        let mut alerts: Vec<String> = m.alerts.iter().map(|a| format!("`{a}`")).collect();
        if m.via == registry::failure_modes::Via::Host {
            alerts = alerts
                .into_iter()
                .map(|a| format!("{a} of its host"))
                .collect();
        }
        let mut when = String::new();
        if !m.when.health_command.is_empty() {
            when = format!(" (health command {})", m.when.health_command.join(", "));
        }
        if m.when.https {
            when.push_str(" (https probes)");
        }
        let _ = writeln!(
            s,
            "| `{}` | {} | {}{when} | {} |",
            m.mode.value,
            cell(&m.title),
            kinds.join(", "),
            alerts.join(", ")
        );
    }
    s.push_str(
        "\n| alert | Prometheus name | fires when | reads | applies to | severity | for | threshold | follows |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for (name, t) in &c.alerts {
        let kinds: Vec<&str> = t.applies_to.iter().map(|k| k.as_str()).collect();
        let threshold = match (t.threshold, &t.threshold_unit) {
            (Some(th), Some(unit)) => format!("{th} {unit}"),
            _ => "–".to_owned(),
        };
        let _ = writeln!(
            s,
            "| `{name}` | {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&t.alert.value),
            cell(&t.fires),
            cell(&t.exporter),
            kinds.join(", "),
            t.severity.value,
            t.for_.value,
            cell(&threshold),
            cell(t.reference.as_deref().unwrap_or("–")),
        );
    }
    s
}

/// The README with a current table, as an output relative to the project
/// root; None when there is no README or it has no table markers (a team's
/// own README need not carry the catalogue: gen leaves it alone).
pub fn output(root: &Path) -> Result<Option<Output>, Failure> {
    let path = root.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Failure::Io(format!("cannot read {}: {e}", path.display()))),
    };
    let (Some(start), Some(end)) = (text.find(START), text.find(END)) else {
        return Ok(None);
    };
    let (catalogue, _) = catalogue::load(
        &root.join("templates"),
        crate::templates::template_variables,
    )?;
    let body_start = start + START.len();
    if end < body_start {
        return Err(Failure::Io(format!(
            "{FILE}: the alert table's end marker comes before its start"
        )));
    }
    let contents = format!(
        "{}\n{}{}",
        &text[..body_start],
        table(&catalogue),
        &text[end..]
    );
    Ok(Some(Output {
        path: FILE.to_owned(),
        format: Format::Markdown,
        contents,
    }))
}

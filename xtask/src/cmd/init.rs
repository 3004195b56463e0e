//! `cargo xtask init --team NAME --webhook URL`: turns a clone into a team's
//! own repository. The example registry (exactly as shipped) is replaced by a
//! minimal one: the team, its receiver, a default receiver for owner-less
//! alerts and no service yet; then gen brings `generated/`, the snapshots and
//! the README's table up to date. A registry that is not the untouched example
//! is someone's data: init refuses and changes nothing.

use std::path::{Path, PathBuf};

use crate::flags::Paths;
use crate::{Failure, outln, project_root};
use monitoring::write::{Foreign, Mode};

/// A copy of the shipped example: what an untouched `registry/` holds (the
/// tests read it too, as a registry of their own).
const EXAMPLE: &str = "xtask/example";

pub fn run(team: &str, webhook: &str) -> Result<bool, Failure> {
    if !registry::syntax::is_valid_name(team) {
        return Err(Failure::Io(format!(
            "error: --team {} is not a team name\n   = help: {}",
            registry::diagnostics::shown(team),
            registry::syntax::NAME_RULE
        )));
    }
    if let Some((message, help)) = registry::url::problem(webhook, registry::url::Use::TeamWebhook)
    {
        return Err(Failure::Io(format!(
            "error: --webhook: {message}\n   = help: {help}"
        )));
    }
    let root = project_root();
    let registry = root.join("registry");
    let ours = yaml_files(&registry)?;
    let example = yaml_files(&root.join(EXAMPLE))?;
    let untouched = ours.len() == example.len()
        && ours.iter().zip(&example).all(|(a, b)| {
            a.file_name() == b.file_name() && std::fs::read(a).ok() == std::fs::read(b).ok()
        });
    if !ours.is_empty() && !untouched {
        let first = ours
            .iter()
            .find(|f| {
                !example.iter().any(|e| {
                    e.file_name() == f.file_name() && std::fs::read(e).ok() == std::fs::read(f).ok()
                })
            })
            .unwrap_or(&ours[0]);
        return Err(Failure::Io(format!(
            "error: registry/ is not the example as shipped ({} is someone's), so init leaves it alone\n   = help: init starts a registry only in a fresh clone; to start over, move your registry files away first; nothing was changed",
            first.display()
        )));
    }
    let text = registry_text(team, webhook);
    // Validated before anything changes: a bad team name or URL is reported
    // in registry terms and the example stays.
    let scratch = std::env::temp_dir().join(format!("xtask-init-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let check = (|| {
        std::fs::create_dir_all(scratch.join("registry"))?;
        std::fs::write(scratch.join("registry/teams.yaml"), &text)
    })()
    .map_err(|e| Failure::Io(format!("cannot write {}: {e}", scratch.display())));
    let validated = check
        .and_then(|()| monitoring::generate(&scratch.join("registry"), &root.join("templates")));
    let _ = std::fs::remove_dir_all(&scratch);
    validated?;
    for f in &ours {
        std::fs::remove_file(f)
            .map_err(|e| Failure::Io(format!("cannot delete {}: {e}", f.display())))?;
    }
    let file = registry.join("teams.yaml");
    std::fs::create_dir_all(&registry)
        .and_then(|()| std::fs::write(&file, &text))
        .map_err(|e| Failure::Io(format!("cannot write {}: {e}", file.display())))?;
    outln!(
        "init: registry/teams.yaml holds team {team}; the example registry is gone (the tests keep their own copy)"
    );
    let ok = crate::cmd::generate::run(&Paths::default(), Mode::Write, Foreign::Refuse, false)?;
    outln!(
        "next: add your services to registry/ (README: \"Add a service\"), run `cargo xtask gen`, and commit registry/, generated/ and xtask/snapshots/"
    );
    Ok(ok)
}

/// The `*.yaml` files of `dir`, sorted; none when it does not exist.
fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Failure::Io(format!("cannot read {}: {e}", dir.display())))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    Ok(files)
}

/// The minimal registry: the team, its receiver, and the same receiver for
/// alerts whose owner has no route, so no alert reaches no one.
fn registry_text(team: &str, webhook: &str) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    format!(
        "# Your teams and settings. Every alert goes to its owner team's receivers;
# add channels (slack, pagerduty, email, …) under a team, and services in
# files of their own (README: \"Add a service\").
teams:
  {team}:
    webhook_url: {url}

settings:
  alertmanager:
    # Alerts whose owner has no route of its own.
    default_webhook_url: {url}
  # What `cargo xtask coverage` scores; also: sentry, otel, langfuse,
  # page_sentry_session, page_web_vitals.
  coverage_dimensions: [prometheus, alerts, api_slo]
",
        team = team,
        url = q(webhook),
    )
}

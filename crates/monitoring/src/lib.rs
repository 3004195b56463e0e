//! The monitoring layer: a checked registry is planned (`plan::Plan`: its
//! alert rules, SLOs, coverage and dashboards as data), every artefact is
//! rendered from the plan through the templates (`artefacts::GENERATORS`) into
//! files as data (`output`), and `write` puts them on disk or compares them.

// Diagnostics are returned on the cold error path only; their size does not matter.
#![allow(clippy::result_large_err)]

pub mod artefacts;
pub mod digest;
pub(crate) mod error;
pub mod interrupt;
pub mod output;
pub mod parallel;
pub mod plan;
pub mod plan_diff;
pub mod readme;
pub mod snapshots;
pub mod templates;
pub mod write;

use std::io::Write as _;
use std::path::Path;

pub use error::{Failure, RenderError};
use output::Output;
use registry::diagnostics::{self, Diagnostic};
use registry::{Registry, catalogue};
use templates::Renderer;

/// Everything one run produces, in memory.
pub struct Generated {
    pub registry: Registry,
    /// Sorted by path; the last one is the manifest.
    pub outputs: Vec<Output>,
    /// The monitoring plan, for the snapshot.
    pub plan: String,
    /// The alert rules, as data (tests inspect their expressions).
    pub rules: plan::alerts::Rules,
    pub slo: plan::slo::Slo,
    /// Warnings (an invalid registry is a `Failure` instead).
    pub warnings: Vec<Diagnostic>,
}

/// Loads and validates the registry in `registry_dir`.
pub fn load(
    registry_dir: &Path,
    templates_dir: &Path,
) -> Result<(Registry, catalogue::Catalogue, Vec<Diagnostic>), Failure> {
    let (catalogue, mut diags) = catalogue::load(templates_dir, templates::template_variables)?;
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Failure::Invalid(diagnostics::render_all(&mut diags)));
    }
    let (loaded, parse_diags) = registry::load::load_dir(registry_dir)?;
    let unreadable = parse_diags.iter().any(Diagnostic::is_error);
    diags.extend(parse_diags);
    let (registry, validate_diags) = registry::validate::validate(loaded, &catalogue);
    // A file that did not parse counts as empty, so warnings about what the
    // registry lacks (a default webhook it may well set) would be false.
    diags.extend(
        validate_diags
            .into_iter()
            .filter(|d| !unreadable || d.is_error()),
    );
    match registry {
        Some(r) if !diags.iter().any(Diagnostic::is_error) => Ok((r, catalogue, diags)),
        _ => Err(Failure::Invalid(diagnostics::render_all(&mut diags))),
    }
}

/// Prints how long each phase took when `XTASK_TIMINGS` is set (for profiling).
pub(crate) struct Phases(Option<std::time::Instant>);

impl Phases {
    pub(crate) fn start() -> Phases {
        Phases(std::env::var_os("XTASK_TIMINGS").map(|_| std::time::Instant::now()))
    }

    pub(crate) fn done(&mut self, what: &str) {
        if let Some(t) = self.0 {
            let rss = std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find_map(|l| l.strip_prefix("VmRSS:").map(|v| v.trim().to_owned()))
                })
                .unwrap_or_default();
            let _ = writeln!(
                std::io::stderr(),
                "timing: {what}: {:.1} ms (resident {rss})",
                t.elapsed().as_secs_f64() * 1000.0
            );
            self.0 = Some(std::time::Instant::now());
        }
    }
}

/// Validates and renders everything in memory; nothing touches the disk.
pub fn generate(registry_dir: &Path, templates_dir: &Path) -> Result<Generated, Failure> {
    generate_with(registry_dir, templates_dir, ParseBack::Yes)
}

/// Whether rendered YAML and JSON is parsed back before it is returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseBack {
    /// Before anything is written (gen): a broken template must not reach a consumer.
    Yes,
    /// For `check`, which writes nothing: an output a template broke differs from
    /// the checked-in file (which gen parsed back), so it is drift either way.
    No,
}

pub(crate) fn generate_with(
    registry_dir: &Path,
    templates_dir: &Path,
    parse_back: ParseBack,
) -> Result<Generated, Failure> {
    let mut outputs = Vec::new();
    let run = stream(registry_dir, templates_dir, parse_back, true, &mut |o| {
        outputs.push(o.clone());
        Ok(())
    })?;
    outputs.sort_by(|a, b| a.path.cmp(&b.path));
    outputs.push(write::manifest(&outputs));
    Ok(Generated {
        registry: run.registry,
        outputs,
        plan: run.plan.unwrap_or_default(),
        rules: run.rules,
        slo: run.slo,
        warnings: run.warnings,
    })
}

/// What a streamed run keeps: everything but the outputs.
pub struct Streamed {
    pub registry: Registry,
    /// The plan snapshot, when asked for.
    pub plan: Option<String>,
    pub rules: plan::alerts::Rules,
    pub slo: plan::slo::Slo,
    pub warnings: Vec<Diagnostic>,
    /// How many outputs were handed on.
    pub outputs: usize,
}

/// Validates and renders, handing each generator's outputs to `emit` as soon
/// as they are rendered (and, with `ParseBack::Yes`, sampled: see
/// `output::Sampler`), so a run holds one artefact's outputs at a time. An
/// error may come after some outputs were emitted: `emit` stages them
/// (`write::Stream`) and the caller discards them on error.
pub fn stream(
    registry_dir: &Path,
    templates_dir: &Path,
    parse_back: ParseBack,
    want_plan: bool,
    emit: &mut dyn FnMut(&Output) -> Result<(), Failure>,
) -> Result<Streamed, Failure> {
    let mut phases = Phases::start();
    let (registry, catalogue, warnings) = load(registry_dir, templates_dir)?;
    phases.done("load and validate");
    let renderer = Renderer::new(templates_dir, &catalogue)?;
    phases.done("templates");
    let plan = plan::Plan::build(&renderer, &catalogue, &registry)?;
    phases.done("plan");
    let outputs = render(&renderer, &plan, parse_back, emit, &mut phases)?;
    // What a registry change does, for reviewers: the plan snapshot.
    let plan_text = want_plan
        .then(|| artefacts::plan_snapshot::render(&renderer, &plan))
        .transpose()?;
    phases.done("plan snapshot");
    let plan::Plan { rules, slo, .. } = plan;
    Ok(Streamed {
        registry,
        plan: plan_text,
        rules,
        slo,
        warnings,
        outputs,
    })
}

/// Renders every artefact from the plan, handing each file on as it is
/// ready; returns how many there were.
fn render(
    renderer: &Renderer,
    plan: &plan::Plan,
    parse_back: ParseBack,
    emit: &mut dyn FnMut(&Output) -> Result<(), Failure>,
    phases: &mut Phases,
) -> Result<usize, Failure> {
    let mut sampler = (parse_back == ParseBack::Yes).then(output::Sampler::default);
    let mut paths = std::collections::HashSet::new();
    for (what, generate) in artefacts::GENERATORS {
        generate(renderer, plan, &mut |outputs| {
            hand_on(outputs, &mut paths, sampler.as_mut(), emit)
        })?;
        phases.done(what);
    }
    if let Some(s) = sampler {
        s.finish().map_err(invalid_output)?;
    }
    phases.done("parse back");
    Ok(paths.len())
}

/// One generator's files: refused if another artefact has the path, parsed
/// back (a sample, see `output::Sampler`), then handed to `emit`.
fn hand_on(
    outputs: Vec<Output>,
    paths: &mut std::collections::HashSet<String>,
    mut sampler: Option<&mut output::Sampler>,
    emit: &mut dyn FnMut(&Output) -> Result<(), Failure>,
) -> Result<(), Failure> {
    for o in &outputs {
        if !paths.insert(o.path.clone()) {
            return Err(Failure::Invalid(format!(
                "error: two artefacts would be written to {}; rename one of the registry entries",
                o.path
            )));
        }
    }
    if let Some(s) = sampler.as_mut() {
        s.first(&outputs).map_err(invalid_output)?;
    }
    for o in &outputs {
        emit(o)?;
    }
    if let Some(s) = sampler {
        s.keep(outputs);
    }
    Ok(())
}

fn invalid_output(e: RenderError) -> Failure {
    RenderError(format!("a template rendered invalid output: {e}")).into()
}

//! Monitoring as code: the service registry in `registry/` is loaded, validated,
//! rendered through the templates in `templates/` and written to `generated/`.
//!
//! One module per concern: `registry` (loading and validation), `catalogue` (the
//! alert templates), `render` (one module per artefact), `output` (generated
//! files as data), `write` (the only disk writes), `snapshots` (the reviewed
//! monitoring plan).

// Diagnostics are returned on the cold error path only; their size does not matter.
#![allow(clippy::result_large_err)]

pub mod burn_rate;
pub mod catalogue;
pub mod cmd;
pub mod coverage;
pub mod diagnostics;
pub mod discover;
pub mod flags;
pub mod import;
pub mod interrupt;
pub mod output;
pub mod peer;
pub mod readme;
pub mod registry;
pub mod render;
pub mod sli;
pub mod snapshots;
pub mod source;
pub mod syntax;
pub mod term;
pub mod write;

use std::path::{Path, PathBuf};

use diagnostics::Diagnostic;
use output::Output;
use registry::Registry;
use render::Renderer;

/// Overrides the project root (tests run the README's walkthrough on a copy).
pub const ROOT_ENV: &str = "XTASK_PROJECT_ROOT";

/// The workspace root, so the defaults do not depend on the working directory.
pub fn project_root() -> PathBuf {
    if let Some(root) = std::env::var_os(ROOT_ENV) {
        return PathBuf::from(root);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// Why a run failed, which decides the exit code.
#[derive(Debug)]
pub enum Failure {
    /// The registry or a template is invalid (exit 1). Holds the rendered diagnostics.
    Invalid(String),
    /// Usage or I/O (exit 2).
    Io(String),
}

impl From<source::IoError> for Failure {
    fn from(e: source::IoError) -> Self {
        Failure::Io(e.0)
    }
}

impl Failure {
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Invalid(_) => 1,
            Failure::Io(_) => 2,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Invalid(s) | Failure::Io(s) => f.write_str(s.trim_end()),
        }
    }
}

/// Everything one run produces, in memory.
pub struct Generated {
    pub registry: Registry,
    /// Sorted by path; the last one is the manifest.
    pub outputs: Vec<Output>,
    /// The monitoring plan, for the snapshot.
    pub plan: String,
    /// The alert rules, as data (tests inspect their expressions).
    pub rules: render::alert_rules::Rules,
    pub slo: render::slo::Slo,
    /// Warnings (an invalid registry is a `Failure` instead).
    pub warnings: Vec<Diagnostic>,
}

/// Loads and validates the registry in `registry_dir`.
pub fn load(
    registry_dir: &Path,
    templates_dir: &Path,
) -> Result<(Registry, catalogue::Catalogue, Vec<Diagnostic>), Failure> {
    let (catalogue, mut diags) = catalogue::load(templates_dir)?;
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Failure::Invalid(diagnostics::render_all(&mut diags)));
    }
    let (loaded, parse_diags) = registry::load::load_dir(registry_dir)?;
    diags.extend(parse_diags);
    let (registry, validate_diags) = registry::validate::validate(loaded, &catalogue);
    diags.extend(validate_diags);
    match registry {
        Some(r) if !diags.iter().any(Diagnostic::is_error) => Ok((r, catalogue, diags)),
        _ => Err(Failure::Invalid(diagnostics::render_all(&mut diags))),
    }
}

/// Prints how long each phase took when `XTASK_TIMINGS` is set (for profiling).
pub struct Phases(Option<std::time::Instant>);

impl Phases {
    pub fn start() -> Phases {
        Phases(std::env::var_os("XTASK_TIMINGS").map(|_| std::time::Instant::now()))
    }

    pub fn done(&mut self, what: &str) {
        if let Some(t) = self.0 {
            let rss = std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find_map(|l| l.strip_prefix("VmRSS:").map(|v| v.trim().to_owned()))
                })
                .unwrap_or_default();
            crate::errln!(
                "timing: {what}: {:.1} ms (resident {rss})",
                t.elapsed().as_secs_f64() * 1000.0
            );
            self.0 = Some(std::time::Instant::now());
        }
    }
}

/// Parses outputs back, on all cores; the first error in path order is
/// reported. Only samples are parsed (see [`parse_back_samples`]).
fn first_syntax_error(outputs: &[Output]) -> Option<String> {
    let samples = parse_back_samples(outputs);
    render::par_map(&samples, |o| Ok(o.check_syntax_sampled().err()))
        .ok()?
        .into_iter()
        .flatten()
        .next()
}

/// The outputs gen parses back: for each template shape (the path with its
/// file stem as `*`, so every service's rule file is one shape) and size
/// class (a power of two), the first and the last in path order. A template
/// that renders broken YAML or JSON breaks its shape, whatever the registry
/// (registry strings are escaped by the filters, and the property tests parse
/// every output); parsing all 10,000 rule files of a large registry to learn
/// that cost more than rendering them.
pub fn parse_back_samples(outputs: &[Output]) -> Vec<&Output> {
    let mut seen: std::collections::BTreeMap<(String, u32), (usize, usize)> = Default::default();
    for (i, o) in outputs.iter().enumerate() {
        let (dir, file) = o.path.rsplit_once('/').unwrap_or(("", &o.path));
        let shape = match file.split_once('.') {
            Some((_, ext)) => format!("{dir}/*.{ext}"),
            None => o.path.clone(),
        };
        let class = usize::BITS - o.contents.len().leading_zeros();
        seen.entry((shape, class))
            .and_modify(|e| e.1 = i)
            .or_insert((i, i));
    }
    let mut picked: Vec<usize> = seen.values().flat_map(|(a, b)| [*a, *b]).collect();
    picked.sort_unstable();
    picked.dedup();
    picked.into_iter().map(|i| &outputs[i]).collect()
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

pub fn generate_with(
    registry_dir: &Path,
    templates_dir: &Path,
    parse_back: ParseBack,
) -> Result<Generated, Failure> {
    let mut phases = Phases::start();
    let (registry, catalogue, warnings) = load(registry_dir, templates_dir)?;
    phases.done("load and validate");
    let template_error = |e: String| {
        Failure::Invalid(format!(
            "error: {e}\n   = help: fix the template; nothing was written"
        ))
    };
    let renderer = Renderer::new(templates_dir, &catalogue).map_err(template_error)?;
    phases.done("templates");
    let rules =
        render::alert_rules::build(&renderer, &catalogue, &registry).map_err(template_error)?;
    let slo = render::slo::build(&registry);
    let coverage = coverage::compute(&registry);
    let dashboards = render::grafana::dashboards(&registry, &coverage);
    let plan = render::Plan {
        registry: &registry,
        rules: &rules,
        slo: &slo,
        coverage: &coverage,
        dashboards: &dashboards,
    };
    phases.done("plan");
    let mut outputs = Vec::new();
    for (_, generate) in render::GENERATORS {
        outputs.extend(generate(&renderer, &plan).map_err(template_error)?);
    }
    phases.done("artefacts");
    // What a registry change does, for reviewers: the plan snapshot.
    let plan_text = render::plan::render(&renderer, &registry, &rules, &slo, &dashboards)
        .map_err(template_error)?;

    outputs.sort_by(|a, b| a.path.cmp(&b.path));
    if let Some(w) = outputs.windows(2).find(|w| w[0].path == w[1].path) {
        return Err(Failure::Invalid(format!(
            "error: two artefacts would be written to {}; rename one of the registry entries",
            w[0].path
        )));
    }
    if let Some(e) = (parse_back == ParseBack::Yes)
        .then(|| first_syntax_error(&outputs))
        .flatten()
    {
        return Err(template_error(format!(
            "a template rendered invalid output: {e}"
        )));
    }
    phases.done("parse back");
    outputs.push(write::manifest(&outputs));
    Ok(Generated {
        registry,
        outputs,
        plan: plan_text,
        rules,
        slo,
        warnings,
    })
}

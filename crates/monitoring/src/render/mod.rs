//! Rendering: the minijinja environment and one module per artefact.
//!
//! Templates live in `templates/` and are read at run time. The environment is
//! strict (an undefined variable is an error naming the template and line),
//! keeps trailing newlines, and trims block tags so templates can be indented.

pub mod alert_rules;
pub mod alertmanager;
pub mod code;
pub mod coverage;
pub mod delivery;
pub mod filters;
pub mod grafana;
pub mod kubernetes;
pub mod plan;
pub mod rule_file;
pub mod rule_tests;
pub mod ruler;
pub mod scrape;
pub mod slo;
pub mod slo_shared;

use std::path::Path;

use minijinja::{Environment, UndefinedBehavior};

use crate::coverage::Coverage;
use crate::output::Output;
use registry::Registry;
use registry::catalogue::Catalogue;
use registry::source::IoError;

/// What every generator reads: the checked registry and what is derived from
/// it once (alert rules, SLOs, coverage, dashboards), shared by several
/// artefacts and by the plan snapshot.
pub struct Plan<'a> {
    pub registry: &'a Registry,
    pub rules: &'a alert_rules::Rules,
    pub slo: &'a slo::Slo,
    pub coverage: &'a Coverage,
    pub dashboards: &'a [(String, grafana::Dashboard)],
}

/// Where a generator hands its files as they are rendered: all at once, or a
/// large artefact (a rule file and its tests per team) a few at a time.
pub type Emit<'e> = dyn FnMut(Vec<Output>) -> Result<(), String> + 'e;

/// A generator: renders the files of one artefact into `Emit`.
pub type Generator = fn(&Renderer, &Plan, &mut Emit) -> Result<(), String>;

/// How many rule files (with their tests) are rendered before they are
/// handed on: enough to keep every core busy.
const PART: usize = 16;

/// Every artefact, in one table: what it writes, and its generator. A new
/// artefact is a module of `render/` and a line here.
pub const GENERATORS: &[(&str, Generator)] = &[
    (
        "Prometheus alert rules and their unit tests",
        |r, p, emit| alert_rules::outputs(r, p.registry, p.rules, emit),
    ),
    (
        "SLO recording and burn-rate rules and their unit tests",
        |r, p, emit| slo::outputs(r, p.registry, p.slo, emit),
    ),
    (
        "Prometheus config, scrape targets and Blackbox modules",
        |r, p, emit| emit(scrape::outputs(r, p.registry)?),
    ),
    (
        "Alertmanager routes, receivers and inhibitions",
        |r, p, emit| emit(alertmanager::outputs(r, p.registry)?),
    ),
    ("prometheus-operator resources", |r, p, emit| {
        kubernetes::outputs(r, p.registry, p.rules, p.slo, emit)
    }),
    (
        "Mimir/Cortex ruler namespaces, one per owner team",
        |r, p, emit| emit(ruler::outputs(r, p.registry, p.rules, p.slo)?),
    ),
    ("the coverage report", |r, p, emit| {
        emit(coverage::outputs(r, p.registry, p.coverage)?)
    }),
    ("Grafana dashboards and provisioning", |r, p, emit| {
        emit(grafana::outputs(r, p.registry, p.dashboards)?)
    }),
    (
        "known pages and endpoints for Rust and TypeScript",
        |r, p, emit| emit(code::outputs(r, p.registry)?),
    ),
];

pub struct Renderer {
    pub env: Environment<'static>,
}

impl Renderer {
    /// Loads every `*.j2` file under `templates` (named by relative path, such as
    /// `prometheus/rules.yml.j2`) and the catalogue's expressions.
    pub fn new(templates: &Path, catalogue: &Catalogue) -> Result<Renderer, String> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // minijinja would JSON-escape `*.yml.j2` output; escaping is the filters' job.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| format!("{e:#}"))?;
        env.set_syntax(syntax);
        env.add_filter("promql", |v: minijinja::Value| filters::promql(&v));
        env.add_filter("re_escape", |v: minijinja::Value| filters::re_escape(&v));
        env.add_filter("yaml", |v: minijinja::Value| filters::yaml(&v));
        env.add_filter("ts", |v: minijinja::Value| filters::ts(&v));
        env.add_filter("num", |v: minijinja::Value| filters::num(&v));
        env.add_filter("gotmpl", |v: minijinja::Value| filters::gotmpl(&v));
        env.add_filter("md_code", |v: minijinja::Value| filters::md_code(&v));
        let files = template_files(templates).map_err(|e| e.0)?;
        for (name, path) in files {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            env.add_template_owned(name, text)
                .map_err(|e| format!("{e:#}"))?;
        }
        for (name, t) in &catalogue.alerts {
            for (field, text) in t.template_fields() {
                env.add_template_owned(Catalogue::template_name(name, &field), text.to_owned())
                    .map_err(|e| format!("{e:#}"))?;
            }
        }
        Ok(Renderer { env })
    }

    /// Renders a template by name; errors carry the template name and line.
    pub fn render(&self, name: &str, ctx: minijinja::Value) -> Result<String, String> {
        let t = self.env.get_template(name).map_err(|e| format!("{e:#}"))?;
        t.render(ctx).map_err(|e| format!("{e:#}"))
    }
}

/// The variables a template text reads (for `catalogue::load`), or `None`
/// when it does not parse.
pub fn template_variables(text: &str) -> Option<Vec<String>> {
    let env = Environment::new();
    let t = env.template_from_str(text).ok()?;
    Some(t.undeclared_variables(false).into_iter().collect())
}

/// `f` over `items` on all cores, results in the order of `items`; the first
/// error (in that order) wins. A chunk per core: a thread costs microseconds,
/// so even two items are worth splitting.
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R, String> + Sync,
) -> Result<Vec<R>, String> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if threads == 1 || items.len() < 2 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    let parts: Vec<Result<Vec<R>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().map(f).collect::<Result<Vec<R>, String>>()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a render thread panicked".into()))
            })
            .collect()
    });
    let mut out = Vec::with_capacity(items.len());
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

fn template_files(dir: &Path) -> Result<Vec<(String, std::path::PathBuf)>, IoError> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry
            .map_err(|e| IoError(format!("cannot read templates in {}: {e}", dir.display())))?;
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "j2") {
            let name = registry::source::relative(dir, entry.path());
            out.push((name, entry.path().to_path_buf()));
        }
    }
    Ok(out)
}

/// Renders `items` a part at a time on all cores, handing each part's files
/// on before the next: a team's rule file and tests per item.
pub fn par_emit<T: Sync>(
    items: &[T],
    emit: &mut Emit,
    f: impl Fn(&T) -> Result<[Output; 2], String> + Sync,
) -> Result<(), String> {
    for part in items.chunks(PART) {
        emit(par_map(part, &f)?.into_iter().flatten().collect())?;
    }
    Ok(())
}

//! The template engine: a strict minijinja environment over `templates/**.j2`
//! and the catalogue's alert templates, with the escaping filters.
//!
//! Templates are read at run time. The environment is strict (an undefined
//! variable is an error naming the template and line), keeps trailing
//! newlines, and trims block tags so templates can be indented.

pub mod filters;

use std::path::Path;

use minijinja::{Environment, UndefinedBehavior};

use crate::error::RenderError;
use registry::catalogue::Catalogue;
use registry::source::IoError;

pub struct Renderer {
    pub env: Environment<'static>,
}

impl Renderer {
    /// Loads every `*.j2` file under `templates` (named by relative path, such as
    /// `prometheus/rules.yml.j2`) and the catalogue's expressions.
    pub fn new(templates: &Path, catalogue: &Catalogue) -> Result<Renderer, RenderError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // minijinja would JSON-escape `*.yml.j2` output; escaping is the filters' job.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| RenderError(format!("{e:#}")))?;
        env.set_syntax(syntax);
        env.add_filter("promql", |v: minijinja::Value| filters::promql(&v));
        env.add_filter("re_escape", |v: minijinja::Value| filters::re_escape(&v));
        env.add_filter("yaml", |v: minijinja::Value| filters::yaml(&v));
        env.add_filter("ts", |v: minijinja::Value| filters::ts(&v));
        env.add_filter("num", |v: minijinja::Value| filters::num(&v));
        env.add_filter("gotmpl", |v: minijinja::Value| filters::gotmpl(&v));
        env.add_filter("md_code", |v: minijinja::Value| filters::md_code(&v));
        let files = template_files(templates).map_err(|e| RenderError(e.0))?;
        for (name, path) in files {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| RenderError(format!("cannot read {}: {e}", path.display())))?;
            env.add_template_owned(name, text)
                .map_err(|e| RenderError(format!("{e:#}")))?;
        }
        for (name, t) in &catalogue.alerts {
            for (field, text) in t.template_fields() {
                env.add_template_owned(Catalogue::template_name(name, &field), text.to_owned())
                    .map_err(|e| RenderError(format!("{e:#}")))?;
            }
        }
        Ok(Renderer { env })
    }

    /// Renders a template by name; errors carry the template name and line.
    pub(crate) fn render(&self, name: &str, ctx: minijinja::Value) -> Result<String, RenderError> {
        let t = self
            .env
            .get_template(name)
            .map_err(|e| RenderError(format!("{e:#}")))?;
        t.render(ctx).map_err(|e| RenderError(format!("{e:#}")))
    }
}

/// The variables a template text reads (for `catalogue::load`), or `None`
/// when it does not parse.
pub fn template_variables(text: &str) -> Option<Vec<String>> {
    let env = Environment::new();
    let t = env.template_from_str(text).ok()?;
    Some(t.undeclared_variables(false).into_iter().collect())
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

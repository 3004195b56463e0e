//! Validation: parsed files to a checked `Registry`, or every problem found.
//!
//! Names that end up as label values, file names and Kubernetes resource names
//! follow one rule (see `syntax::is_valid_name`), so they never need escaping
//! there. Free text (page paths and names, descriptions) may be anything;
//! renderers escape it for each output format.
//!
//! [`validate`] runs named phases over one context ([`Cx`]): the registry-wide
//! sections (defaults, settings, teams), then services, pages, endpoints, and
//! last the routing checks that need all of them.

mod alerts;
mod endpoints;
mod pages;
mod sections;
mod services;
mod slos;

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use super::load::Loaded;
use super::model::{self, RegistryFile};
use super::settings::Settings;
use super::{Registry, Team, url};
use crate::burn_rate;
use crate::catalogue::Catalogue;
use crate::diagnostics::{Diagnostic, did_you_mean, shown};
use crate::source::SourceFile;
use crate::syntax::{NAME_RULE, fnv1a, is_valid_name};

pub const HTTP_METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Collects diagnostics while walking the files.
pub struct Checker<'a> {
    diags: Vec<Diagnostic>,
    catalogue: &'a Catalogue,
}

impl Checker<'_> {
    fn error<T>(
        &mut self,
        src: &SourceFile,
        at: &Spanned<T>,
        field: String,
        message: String,
        help: impl Into<String>,
    ) {
        let d = Diagnostic::error(src.pos(&at.referenced), field, message).help(help);
        self.diags.push(src.diag(d));
    }

    fn warn<T>(
        &mut self,
        src: &SourceFile,
        at: &Spanned<T>,
        kind: &'static str,
        field: String,
        message: String,
        help: impl Into<String>,
    ) {
        let d = Diagnostic::warning(src.pos(&at.referenced), field, message)
            .help(help)
            .kind(kind);
        self.diags.push(src.diag(d));
    }

    fn name(&mut self, src: &SourceFile, s: &Spanned<String>, field: String, what: &str) {
        if !is_valid_name(&s.value) {
            self.error(
                src,
                s,
                field,
                format!("{what} {} is not a valid name", shown(&s.value)),
                NAME_RULE,
            );
        }
    }

    /// A warning at the start of the first file, for what the registry lacks.
    fn missing(&mut self, sources: &[SourceFile], field: &str, message: &str, help: &str) {
        if let Some(first) = sources.first() {
            let pos = crate::diagnostics::Pos {
                file: first.name.clone(),
                line: 0,
                column: 0,
            };
            self.diags
                .push(Diagnostic::warning(pos, field, message).help(help));
        }
    }
}

/// The hint for a value that is not one of `known`: the closest one, or `otherwise`.
fn suggest<'k>(
    value: &str,
    known: impl IntoIterator<Item = &'k str>,
    otherwise: impl FnOnce() -> String,
) -> String {
    did_you_mean(value, known).map_or_else(otherwise, |s| format!("did you mean \"{s}\"?"))
}

/// What the phases share: the files, the checker, and what earlier phases
/// settled (sections, settings, teams, the services' names).
struct Cx<'a> {
    c: Checker<'a>,
    sources: &'a [SourceFile],
    files: &'a [RegistryFile],
    defaults: Option<(usize, &'a Spanned<model::Defaults>)>,
    settings_at: Option<(usize, &'a Spanned<model::Settings>)>,
    settings: Settings,
    teams: BTreeMap<String, Team>,
    /// Service name to `file:line`, for duplicates and references.
    services: BTreeMap<String, String>,
}

impl Cx<'_> {
    /// An owner must name a team of `teams:` (when the registry has that section).
    fn check_owner(&mut self, src: &SourceFile, owner: &Spanned<String>, field: String) {
        self.c.name(src, owner, field.clone(), "owner");
        if self.teams.is_empty()
            || self.teams.contains_key(&owner.value)
            || self.settings.alertmanager.unknown_owners_to_default
        {
            return;
        }
        let names = self.teams.keys().map(String::as_str);
        let help = suggest(&owner.value, names.clone(), || {
            format!(
                "add it under `teams:`, or use one of: {}",
                names.collect::<Vec<_>>().join(", ")
            )
        });
        self.c.error(
            src,
            owner,
            field,
            format!(
                "owner {} is not a team of the registry",
                shown(&owner.value)
            ),
            help,
        );
    }

    /// A `service:` reference must name a service of the registry.
    fn check_service_ref(&mut self, src: &SourceFile, s: &Spanned<String>, field: String) {
        if self.services.contains_key(&s.value) {
            return;
        }
        let help = suggest(&s.value, self.services.keys().map(String::as_str), || {
            "name a service of the registry".into()
        });
        self.c.error(
            src,
            s,
            field,
            format!("service {} is not in the registry", shown(&s.value)),
            help,
        );
    }

    /// A value of `defaults:`.
    fn default(&self, f: fn(&model::Defaults) -> &Option<Spanned<String>>) -> Option<String> {
        self.defaults
            .and_then(|(_, d)| f(&d.value).as_ref())
            .map(|s| s.value.clone())
    }
}

/// Checks and merges the parsed files. Returns the registry when there is no
/// error; warnings are returned either way.
pub fn validate(loaded: Loaded, catalogue: &Catalogue) -> (Option<Registry>, Vec<Diagnostic>) {
    let Loaded { sources, files } = loaded;
    let mut cx = Cx {
        c: Checker {
            diags: Vec::new(),
            catalogue,
        },
        sources: &sources,
        files: &files,
        defaults: None,
        settings_at: None,
        // The defaults until `sections::collect` resolves the registry's own.
        settings: super::settings::resolve(None, &mut Vec::new()),
        teams: BTreeMap::new(),
        services: BTreeMap::new(),
    };
    sections::collect(&mut cx);
    let runbook_base_url = sections::check_defaults(&mut cx);
    let mut services = services::check_all(&mut cx);
    sections::check_default_services(&mut cx);
    let mut pages = pages::check_all(&mut cx);
    let mut endpoints = endpoints::check_all(&mut cx);
    let mut named_slos = slos::check_all(&mut cx);
    sections::check_routing(&mut cx, runbook_base_url.is_some());
    let Cx {
        c,
        settings_at,
        mut settings,
        teams,
        ..
    } = cx;
    if c.diags.iter().any(Diagnostic::is_error) {
        return (None, c.diags);
    }
    services.sort_by(|a, b| a.name.cmp(&b.name));
    pages.sort_by(|a, b| a.path.cmp(&b.path));
    endpoints.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
    named_slos.sort_by(|a, b| a.key.cmp(&b.key));
    let objectives = endpoints
        .iter()
        .filter_map(super::Objective::of_endpoint)
        .chain(named_slos)
        .collect();
    let content_hash = content_hash(sources.iter().map(|s| {
        (
            s.name
                .split_once('/')
                .map_or(s.name.as_str(), |(_, rel)| rel),
            s.text.as_str(),
        )
    }));
    // The application buckets gain every latency threshold, so each SLO threshold
    // is a bucket boundary the rules can select.
    settings.latency_buckets_seconds = burn_rate::with_thresholds(
        &settings.latency_buckets_seconds,
        endpoints
            .iter()
            .filter_map(super::Endpoint::latency_seconds),
    );
    let registry = Registry {
        services,
        pages,
        endpoints,
        objectives,
        teams,
        runbook_base_url,
        settings,
        files: sources.iter().map(|s| s.name.clone()).collect(),
        settings_file: settings_at.map(|(fi, _)| sources[fi].name.clone()),
        content_hash,
    };
    (Some(registry), c.diags)
}

/// A URL field: checked by [`url::problem`] (no secret may reach a generated
/// file), refused at the value's position.
fn check_url(
    c: &mut Checker,
    src: &SourceFile,
    u: &Spanned<String>,
    field: &str,
    purpose: url::Use,
) {
    if let Some((message, help)) = url::problem(&u.value, purpose) {
        c.error(src, u, field.to_owned(), message, help);
    }
}

/// A `*_file` field: the path of a file holding a secret, never the secret
/// itself (see [`url::file_problem`]), refused at the value's position.
fn check_file(c: &mut Checker, src: &SourceFile, f: &Spanned<String>, field: &str) {
    if let Some((message, help)) = url::file_problem(&f.value) {
        c.error(src, f, field.to_owned(), message, help);
    }
}

/// FNV-1a 64 over the registry files sorted by relative path (`path NUL text
/// NUL`, line endings normalised). The known-routes crate's build script
/// computes the same to tell when its checked-in module is stale.
pub fn content_hash<'a>(files: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut files: Vec<(&str, &str)> = files.collect();
    files.sort();
    let mut bytes = Vec::new();
    for (path, text) in files {
        bytes.extend_from_slice(path.as_bytes());
        bytes.push(0);
        bytes.extend_from_slice(text.replace("\r\n", "\n").as_bytes());
        bytes.push(0);
    }
    format!("fnv1a64:{:016x}", fnv1a(&bytes))
}

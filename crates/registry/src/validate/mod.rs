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
mod checker;
mod endpoints;
mod pages;
mod platform;
mod sections;
mod services;
mod slos;

use std::collections::BTreeMap;

use super::Registry;
use super::load::Loaded;
use crate::burn_rate;
use crate::catalogue::Catalogue;
use crate::diagnostics::Diagnostic;
use crate::syntax::fnv1a;
use checker::{Checker, Cx};

/// Checks and merges the parsed files. Returns the registry when there is no
/// error; warnings are returned either way.
pub fn validate(loaded: Loaded, catalogue: &Catalogue) -> (Option<Registry>, Vec<Diagnostic>) {
    let Loaded { sources, files } = loaded;
    let mut cx = Cx {
        c: Checker {
            diags: Vec::new(),
            catalogue,
            top_bucket: None,
        },
        sources: &sources,
        files: &files,
        defaults: None,
        settings_at: None,
        // The defaults until `sections::collect` resolves the registry's own.
        settings: super::settings::resolve(None, &mut Vec::new()),
        teams: BTreeMap::new(),
        services: BTreeMap::new(),
        scraped: Default::default(),
    };
    sections::collect(&mut cx);
    let runbook_base_url = sections::check_defaults(&mut cx);
    let mut services = services::check_all(&mut cx);
    sections::check_default_services(&mut cx);
    let mut pages = pages::check_all(&mut cx);
    let mut endpoints = endpoints::check_all(&mut cx);
    let mut named_slos = slos::check_all(&mut cx);
    let platform = platform::check(&mut cx, &services, &pages);
    let has_slos = !named_slos.is_empty() || endpoints.iter().any(|e| e.slo_availability.is_some());
    sections::check_delivery(&mut cx, &services, has_slos, runbook_base_url.is_some());
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
        platform,
        runbook_base_url,
        settings,
        files: sources.iter().map(|s| s.name.clone()).collect(),
        settings_file: settings_at.map(|(fi, _)| sources[fi].name.clone()),
        content_hash,
    };
    (Some(registry), c.diags)
}

/// FNV-1a 64 over the registry files sorted by relative path (`path NUL text
/// NUL`, line endings normalised). The known-routes crate's build script
/// computes the same to tell when its checked-in module is stale.
pub(crate) fn content_hash<'a>(files: impl Iterator<Item = (&'a str, &'a str)>) -> String {
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

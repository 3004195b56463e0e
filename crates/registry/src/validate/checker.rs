//! What every validation phase checks with: the `Checker` that collects
//! diagnostics, a file's context (`Cx`), and the checks several phases share.

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use crate::catalogue::Catalogue;
use crate::diagnostics::{Diagnostic, did_you_mean, shown};
use crate::model::{self, RegistryFile};
use crate::settings::Settings;
use crate::source::SourceFile;
use crate::syntax::{NAME_RULE, is_valid_name};
use crate::{Team, url};

pub(crate) const HTTP_METHODS: [&str; 7] =
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Collects diagnostics while walking the files.
pub(crate) struct Checker<'a> {
    pub(super) diags: Vec<Diagnostic>,
    pub(super) catalogue: &'a Catalogue,
    /// The highest finite latency bucket the applications export (declared,
    /// or the default buckets), once settings are resolved.
    pub(super) top_bucket: Option<f64>,
}

impl Checker<'_> {
    pub(super) fn error<T>(
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

    pub(super) fn warn<T>(
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

    pub(super) fn name(
        &mut self,
        src: &SourceFile,
        s: &Spanned<String>,
        field: String,
        what: &str,
    ) {
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
    pub(super) fn missing(
        &mut self,
        sources: &[SourceFile],
        field: &str,
        message: &str,
        help: &str,
    ) {
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
pub(super) fn suggest<'k>(
    value: &str,
    known: impl IntoIterator<Item = &'k str>,
    otherwise: impl FnOnce() -> String,
) -> String {
    did_you_mean(value, known).map_or_else(otherwise, |s| format!("did you mean \"{s}\"?"))
}

/// What the phases share: the files, the checker, and what earlier phases
/// settled (sections, settings, teams, the services' names).
pub(super) struct Cx<'a> {
    pub(super) c: Checker<'a>,
    pub(super) sources: &'a [SourceFile],
    pub(super) files: &'a [RegistryFile],
    pub(super) defaults: Option<(usize, &'a Spanned<model::Defaults>)>,
    pub(super) settings_at: Option<(usize, &'a Spanned<model::Settings>)>,
    pub(super) settings: Settings,
    pub(super) teams: BTreeMap<String, Team>,
    /// Service name to `file:line`, for duplicates and references.
    pub(super) services: BTreeMap<String, String>,
    /// The services whose metrics Prometheus scrapes (pages' application
    /// alerts read their serving service's).
    pub(super) scraped: std::collections::BTreeSet<String>,
}

impl Cx<'_> {
    /// An owner must name a team of `teams:` (when the registry has that section).
    pub(super) fn check_owner(&mut self, src: &SourceFile, owner: &Spanned<String>, field: String) {
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
    pub(super) fn check_service_ref(
        &mut self,
        src: &SourceFile,
        s: &Spanned<String>,
        field: String,
    ) {
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
    pub(super) fn default(
        &self,
        f: fn(&model::Defaults) -> &Option<Spanned<String>>,
    ) -> Option<String> {
        self.defaults
            .and_then(|(_, d)| f(&d.value).as_ref())
            .map(|s| s.value.clone())
    }
}

/// A URL field: checked by [`url::problem`] (no secret may reach a generated
/// file), refused at the value's position.
pub(super) fn check_url(
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
pub(super) fn check_file(c: &mut Checker, src: &SourceFile, f: &Spanned<String>, field: &str) {
    if let Some((message, help)) = url::file_problem(&f.value) {
        c.error(src, f, field.to_owned(), message, help);
    }
}

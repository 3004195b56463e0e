//! Validation: parsed files to a checked `Registry`, or every problem found.
//!
//! Names that end up as label values, file names and Kubernetes resource names
//! follow one rule (see `is_valid_name`), so they never need escaping there.
//! Free text (page paths and names, descriptions) may be anything; renderers
//! escape it for each output format.

use std::collections::{BTreeMap, BTreeSet};

use serde_saphyr::Spanned;

use super::load::Loaded;
use super::model::{self, AlertRef, ServiceType};
use super::{
    AlertUse, Endpoint, Page, Probe, Registry, Scrape, Service, ServiceMonitoring, Team,
    UNASSIGNED, settings, url,
};
use crate::burn_rate;
use crate::catalogue::{Catalogue, Need, SEVERITIES, TargetKind};
use crate::diagnostics::{Diagnostic, did_you_mean, shown};
use crate::source::SourceFile;
use crate::syntax::{
    NAME_RULE, fnv1a, is_duration, is_hostname, is_unit_name, is_valid_name, percent_encode_path,
};

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

    #[allow(clippy::too_many_arguments)]
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

    fn alerts(
        &mut self,
        src: &SourceFile,
        list: &[Spanned<AlertRef>],
        field: &str,
        kind: TargetKind,
        has: &dyn Fn(Need) -> bool,
    ) -> Vec<AlertUse> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (i, a) in list.iter().enumerate() {
            let a = &a.value;
            let f = format!("{field}.alerts[{i}]");
            let name = &a.name.value;
            let Some(t) = self.catalogue.alerts.get(name) else {
                let help = match did_you_mean(name, self.catalogue.names()) {
                    Some(s) => format!("did you mean \"{s}\"?"),
                    None => format!(
                        "add templates/alerts/{name}.yaml, or use one of: {}",
                        self.catalogue.names().collect::<Vec<_>>().join(", ")
                    ),
                };
                self.error(src, &a.name, f, format!("unknown alert \"{name}\""), help);
                continue;
            };
            if !seen.insert(name.clone()) {
                self.error(
                    src,
                    &a.name,
                    f,
                    format!("alert \"{name}\" is listed twice"),
                    "remove one of the entries; put overrides on the one that stays",
                );
                continue;
            }
            if !t.applies_to.contains(&kind) {
                let kinds: Vec<_> = t.applies_to.iter().map(|k| k.as_str()).collect();
                self.error(
                    src,
                    &a.name,
                    f.clone(),
                    format!("alert \"{name}\" does not apply to a {}", kind.as_str()),
                    format!("it applies to: {}", kinds.join(", ")),
                );
            }
            let mut skip = false;
            for need in &t.needs {
                if has(*need) {
                    continue;
                }
                if kind == TargetKind::Page {
                    // Registries in the design's format have pages but no base URL;
                    // they keep loading, without the probe-based page alerts.
                    self.warn(src, &a.name, "page alerts without `settings.pages_base_url`", f.clone(), format!("alert \"{name}\" needs a page probe, which needs `settings.pages_base_url`; no rule is generated for it"), "set `settings: {pages_base_url: https://…}`");
                    skip = true;
                } else {
                    self.error(
                        src,
                        &a.name,
                        f.clone(),
                        format!("alert \"{name}\" needs {}", need.describe()),
                        "add what it needs to this entry, or remove the alert",
                    );
                }
            }
            if let Some(s) = &a.severity
                && !SEVERITIES.contains(&s.value.as_str())
            {
                let help = did_you_mean(&s.value, SEVERITIES).map_or_else(
                    || format!("use one of {}", SEVERITIES.join(", ")),
                    |s| format!("did you mean \"{s}\"?"),
                );
                self.error(
                    src,
                    s,
                    format!("{f}.severity"),
                    format!("unknown severity {}", shown(&s.value)),
                    help,
                );
            }
            if let Some(d) = &a.for_
                && !is_duration(&d.value)
            {
                self.error(
                    src,
                    d,
                    format!("{f}.for"),
                    format!("{} is not a Prometheus duration", shown(&d.value)),
                    "write a duration such as 30s, 5m or 1h",
                );
            }
            if let Some(th) = &a.threshold {
                if !th.value.is_finite() {
                    self.error(
                        src,
                        th,
                        format!("{f}.threshold"),
                        "the threshold must be a finite number".into(),
                        "write a number such as 0.85",
                    );
                } else if t.threshold.is_none() {
                    self.error(
                        src,
                        th,
                        format!("{f}.threshold"),
                        format!("alert \"{name}\" has no threshold to override"),
                        "remove `threshold`",
                    );
                } else if let Some([lo, hi]) = t.threshold_range
                    && !(lo..=hi).contains(&th.value)
                {
                    let unit = t.threshold_unit.as_deref().unwrap_or("");
                    let default = t.threshold.unwrap_or_default();
                    self.warn(
                        src,
                        th,
                        "thresholds outside their metric's range",
                        format!("{f}.threshold"),
                        format!(
                            "threshold {} of alert \"{name}\" is outside {} to {} ({unit}): the alert {}",
                            th.value,
                            lo,
                            hi,
                            if th.value > hi { "can never fire" } else { "always fires" }
                        ),
                        if unit == "ratio" && th.value > 1.0 && th.value <= 100.0 {
                            format!("a ratio runs from 0 to 1: write {} for {} %", th.value / 100.0, th.value)
                        } else {
                            format!("the template's default is {default} ({unit})")
                        },
                    );
                }
            }
            if skip {
                continue;
            }
            out.push(AlertUse {
                name: name.clone(),
                severity: a.severity.as_ref().map(|s| s.value.clone()),
                for_: a.for_.as_ref().map(|s| s.value.clone()),
                threshold: a.threshold.as_ref().map(|s| s.value),
            });
        }
        out
    }
}

/// Checks and merges the parsed files. Returns the registry when there is no
/// error; warnings are returned either way.
pub fn validate(loaded: Loaded, catalogue: &Catalogue) -> (Option<Registry>, Vec<Diagnostic>) {
    let mut c = Checker {
        diags: Vec::new(),
        catalogue,
    };
    let Loaded { sources, files } = loaded;

    // Defaults and teams first: services and pages refer to them.
    let mut defaults: Option<(usize, &Spanned<model::Defaults>)> = None;
    let mut settings_at: Option<(usize, &Spanned<model::Settings>)> = None;
    let mut teams: BTreeMap<String, Team> = BTreeMap::new();
    for (fi, file) in files.iter().enumerate() {
        let src = &sources[fi];
        if let Some(d) = &file.defaults {
            if let Some((first, _)) = defaults {
                c.error(
                    src,
                    d,
                    "defaults".into(),
                    format!("`defaults` is already set in {}", sources[first].name),
                    "keep one `defaults:` section in the whole registry",
                );
            } else {
                defaults = Some((fi, d));
            }
        }
        if let Some(st) = &file.settings {
            if let Some((first, _)) = settings_at {
                c.error(
                    src,
                    st,
                    "settings".into(),
                    format!("`settings` is already set in {}", sources[first].name),
                    "keep one `settings:` section in the whole registry",
                );
            } else {
                settings_at = Some((fi, st));
            }
        }
        for (name, t) in &file.teams {
            let field = format!("teams.{name}");
            if !is_valid_name(name) {
                c.error(
                    src,
                    t,
                    field.clone(),
                    format!("team name {} is not a valid name", shown(name)),
                    NAME_RULE,
                );
            }
            if teams.contains_key(name) {
                c.error(
                    src,
                    t,
                    field.clone(),
                    format!("team {} is defined twice", shown(name)),
                    "keep one definition of each team",
                );
            }
            for (u, key) in [
                (&t.value.webhook_url, "webhook_url"),
                (&t.value.paging_webhook_url, "paging_webhook_url"),
            ] {
                if let Some(u) = u {
                    check_url(
                        &mut c,
                        src,
                        u,
                        &format!("{field}.{key}"),
                        url::Use::TeamWebhook,
                    );
                }
            }
            teams.insert(
                name.clone(),
                Team {
                    webhook_url: t.value.webhook_url.as_ref().map(|u| u.value.clone()),
                    paging_webhook_url: t
                        .value
                        .paging_webhook_url
                        .as_ref()
                        .map(|u| u.value.clone()),
                    webhook_credentials_file: t.value.webhook_credentials_file.clone(),
                    slack_api_url_file: t.value.slack_api_url_file.clone(),
                },
            );
        }
    }
    let settings_file = settings_at.map(|(fi, _)| sources[fi].name.clone());
    let settings = settings::resolve(settings_at.map(|(fi, st)| (&sources[fi], st)), &mut c.diags);
    let team_names: Vec<String> = teams.keys().cloned().collect();
    let mut check_owner =
        |c: &mut Checker, src: &SourceFile, owner: &Spanned<String>, field: String| {
            c.name(src, owner, field.clone(), "owner");
            if !teams.is_empty()
                && !teams.contains_key(&owner.value)
                && !settings.alertmanager.unknown_owners_to_default
            {
                let help = did_you_mean(&owner.value, team_names.iter().map(String::as_str))
                    .map_or_else(
                        || {
                            format!(
                                "add it under `teams:`, or use one of: {}",
                                team_names.join(", ")
                            )
                        },
                        |s| format!("did you mean \"{s}\"?"),
                    );
                c.error(
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
        };
    let mut runbook_base_url = None;
    if let Some((fi, d)) = defaults {
        let src = &sources[fi];
        for (o, f) in [
            (&d.value.page_owner, "defaults.page_owner"),
            (&d.value.api_owner, "defaults.api_owner"),
        ] {
            if let Some(o) = o {
                check_owner(&mut c, src, o, f.into());
            }
        }
        if let Some(u) = &d.value.runbook_base_url {
            check_url(&mut c, src, u, "defaults.runbook_base_url", url::Use::Link);
            runbook_base_url = Some(u.value.clone());
        }
    }
    let dv = |f: fn(&model::Defaults) -> &Option<Spanned<String>>| {
        defaults
            .and_then(|(_, d)| f(&d.value).as_ref())
            .map(|s| s.value.clone())
    };

    // Services.
    let mut services = Vec::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for (fi, file) in files.iter().enumerate() {
        let src = &sources[fi];
        for (i, s) in file.services.iter().enumerate() {
            let field = format!("services[{i}]");
            if let Some(svc) = check_service(&mut c, src, s, &field, &mut check_owner) {
                let here = format!("{}:{}", src.name, s.referenced.line());
                if let Some(first) = names.get(&svc.name) {
                    c.error(
                        src,
                        &s.value.name,
                        format!("{field}.name"),
                        format!("service {} is already defined at {first}", shown(&svc.name)),
                        "service names must be unique across all registry files",
                    );
                } else {
                    names.insert(svc.name.clone(), here);
                    services.push(svc);
                }
            }
        }
    }
    let service_names: Vec<&str> = names.keys().map(String::as_str).collect();
    let check_service_ref =
        |c: &mut Checker, src: &SourceFile, s: &Spanned<String>, field: String| {
            if !names.contains_key(&s.value) {
                let help = did_you_mean(&s.value, service_names.iter().copied()).map_or_else(
                    || "name a service of the registry".into(),
                    |s| format!("did you mean \"{s}\"?"),
                );
                c.error(
                    src,
                    s,
                    field,
                    format!("service {} is not in the registry", shown(&s.value)),
                    help,
                );
            }
        };
    if let Some((fi, d)) = defaults {
        for (s, f) in [
            (&d.value.page_service, "defaults.page_service"),
            (&d.value.api_service, "defaults.api_service"),
        ] {
            if let Some(s) = s {
                check_service_ref(&mut c, &sources[fi], s, f.into());
            }
        }
    }

    // Pages.
    let mut pages = Vec::new();
    let mut paths: BTreeMap<String, String> = BTreeMap::new();
    for (fi, file) in files.iter().enumerate() {
        let src = &sources[fi];
        for (i, p) in file.pages.iter().enumerate() {
            let field = format!("pages[{i}]");
            let page = &p.value;
            let path = &page.path;
            if path.value.chars().any(char::is_control) {
                c.error(
                    src,
                    path,
                    format!("{field}.path"),
                    format!(
                        "page path {} contains control characters",
                        shown(&path.value)
                    ),
                    "a URL path is one line of printable characters",
                );
            } else if !path.value.starts_with('/') {
                c.error(
                    src,
                    path,
                    format!("{field}.path"),
                    format!("page path {} does not start with `/`", shown(&path.value)),
                    format!("write it as \"/{}\"", path.value),
                );
            } else if let Some(first) = paths.get(&path.value) {
                c.error(
                    src,
                    path,
                    format!("{field}.path"),
                    format!("page {} is already defined at {first}", shown(&path.value)),
                    "page paths must be unique",
                );
            } else {
                paths.insert(
                    path.value.clone(),
                    format!("{}:{}", src.name, path.referenced.line()),
                );
            }
            let owner = match (&page.owner, dv(|d| &d.page_owner)) {
                (Some(o), _) => {
                    check_owner(&mut c, src, o, format!("{field}.owner"));
                    o.value.clone()
                }
                (None, Some(o)) => o,
                (None, None) => {
                    if !page.alerts.is_empty() {
                        c.warn(src, path, "pages without an owner", format!("{field}.owner"), format!("page {} has alerts but no owner; they are labelled owner=\"{UNASSIGNED}\"", shown(&path.value)), "set `owner:` on the page or `defaults.page_owner`");
                    }
                    UNASSIGNED.into()
                }
            };
            let service = match (&page.service, dv(|d| &d.page_service)) {
                (Some(s), _) => {
                    check_service_ref(&mut c, src, s, format!("{field}.service"));
                    s.value.clone()
                }
                (None, Some(s)) => s,
                (None, None) => {
                    if !page.alerts.is_empty() {
                        c.warn(src, path, "pages without a serving service", format!("{field}.service"), format!("page {} has alerts but no serving service; they are labelled service=\"{UNASSIGNED}\"", shown(&path.value)), "set `service:` on the page or `defaults.page_service`");
                    }
                    UNASSIGNED.into()
                }
            };
            let probe_url = settings
                .pages_base_url
                .as_ref()
                .map(|base| format!("{base}{}", percent_encode_path(&path.value)));
            let alerts = c.alerts(src, &page.alerts, &field, TargetKind::Page, &|n| {
                n == Need::Probe && probe_url.is_some()
            });
            pages.push(Page {
                path: path.value.clone(),
                name: page.name.clone(),
                sentry_session: page.monitoring.sentry_session,
                web_vitals: page.monitoring.web_vitals,
                alerts,
                owner,
                service,
                source: src.name.clone(),
                probe_url,
                description: page.description.clone(),
            });
        }
    }

    // API endpoints.
    let mut endpoints = Vec::new();
    let mut routes: BTreeMap<(String, String), String> = BTreeMap::new();
    for (fi, file) in files.iter().enumerate() {
        let src = &sources[fi];
        for (i, e) in file.api_endpoints.iter().enumerate() {
            let field = format!("api_endpoints[{i}]");
            let ep = &e.value;
            if !ep.path.value.starts_with('/') {
                c.error(
                    src,
                    &ep.path,
                    format!("{field}.path"),
                    format!(
                        "endpoint path {} does not start with `/`",
                        shown(&ep.path.value)
                    ),
                    format!("write it as \"/{}\"", ep.path.value),
                );
            }
            let method = &ep.method;
            if !HTTP_METHODS.contains(&method.value.as_str()) {
                let upper = method.value.to_ascii_uppercase();
                let help = if HTTP_METHODS.contains(&upper.as_str()) {
                    format!("write it in capitals: \"{upper}\"")
                } else {
                    did_you_mean(&upper, HTTP_METHODS).map_or_else(
                        || format!("use one of {}", HTTP_METHODS.join(", ")),
                        |s| format!("did you mean \"{s}\"?"),
                    )
                };
                c.error(
                    src,
                    method,
                    format!("{field}.method"),
                    format!("unknown HTTP method {}", shown(&method.value)),
                    help,
                );
            }
            let key = (ep.path.value.clone(), method.value.clone());
            if let Some(first) = routes.get(&key) {
                c.error(
                    src,
                    &ep.path,
                    format!("{field}.path"),
                    format!(
                        "endpoint {} {} is already defined at {first}",
                        method.value, ep.path.value
                    ),
                    "each (method, path) may appear once",
                );
            } else {
                routes.insert(key, format!("{}:{}", src.name, ep.path.referenced.line()));
            }
            let availability = ep.slo_availability.as_ref().and_then(|a| match &a.value {
                model::Availability::Percent(p) if *p > 0.0 && *p < 100.0 => Some(*p),
                model::Availability::Percent(p) => {
                    c.error(
                        src,
                        a,
                        format!("{field}.slo_availability"),
                        format!("slo_availability {p} is outside (0, 100)"),
                        "write a percentage above 0 and below 100, such as 99.9",
                    );
                    None
                }
                model::Availability::Preset(name) => {
                    match burn_rate::PRESETS.iter().find(|(n, _)| n == name) {
                        Some((_, p)) => Some(*p),
                        None => {
                            let names: Vec<&str> =
                                burn_rate::PRESETS.iter().map(|(n, _)| *n).collect();
                            let help = did_you_mean(name, names.iter().copied()).map_or_else(
                                || format!("use a percentage or a preset: {}", names.join(", ")),
                                |s| format!("did you mean \"{s}\"?"),
                            );
                            c.error(
                                src,
                                a,
                                format!("{field}.slo_availability"),
                                format!("unknown availability preset {}", shown(name)),
                                help,
                            );
                            None
                        }
                    }
                }
            });
            if let (Some(a), Some(at)) = (availability, &ep.slo_availability) {
                let budget = (100.0 - a) / 100.0;
                if budget * burn_rate::factor(&burn_rate::TIERS[0], settings.slo_period_hours)
                    >= 1.0
                {
                    c.warn(src, at, "objectives whose fast tier can never fire", format!("{field}.slo_availability"), format!("at {a}% the fast burn-rate tier can never fire: it needs an error ratio above 100%"), "the slower tiers still alert; consider a stricter objective");
                }
                let outage_seconds = budget * settings.slo_period_hours * 3600.0;
                if outage_seconds < 60.0 {
                    c.warn(src, at, "objectives a full outage spends in under a minute", format!("{field}.slo_availability"), format!("at {a}% a full outage spends the whole {} error budget in {outage_seconds:.0} s", settings.slo_period), "alerts cannot fire before the budget is gone; consider 99.99 or less");
                }
            }
            if let (Some(l), None) = (&ep.slo_latency_ms, availability)
                && ep.slo_availability.is_none()
            {
                c.error(src, l, format!("{field}.slo_latency_ms"), "a latency objective needs `slo_availability`: the share of requests that must be faster".into(), "add slo_availability, such as 99.9 or a preset: critical, high, low");
            }
            let mut tiers: Vec<String> =
                burn_rate::TIERS.iter().map(|t| t.name.to_owned()).collect();
            if let Some(t) = &ep.burn_rate_tiers {
                for name in &t.value {
                    if !tiers.contains(name) {
                        c.error(
                            src,
                            t,
                            format!("{field}.burn_rate_tiers"),
                            format!("unknown burn-rate tier {}", shown(name)),
                            "tiers are fast, medium, slow and long",
                        );
                    }
                }
                tiers.retain(|n| t.value.contains(n));
            }
            if let Some(r) = &ep.min_request_rate
                && !(r.value >= 0.0 && r.value.is_finite())
            {
                c.error(
                    src,
                    r,
                    format!("{field}.min_request_rate"),
                    "min_request_rate must be a number of requests per second, 0 or more".into(),
                    "such as 0.1",
                );
            }
            if let Some(l) = &ep.slo_latency_ms
                && !(l.value > 0.0 && l.value.is_finite())
            {
                c.error(
                    src,
                    l,
                    format!("{field}.slo_latency_ms"),
                    format!("slo_latency_ms {} must be above 0", l.value),
                    "write the latency objective in milliseconds, such as 500",
                );
            }
            if let Some(o) = &ep.owner {
                check_owner(&mut c, src, o, format!("{field}.owner"));
            }
            if let Some(s) = &ep.service {
                check_service_ref(&mut c, src, s, format!("{field}.service"));
            }
            endpoints.push(Endpoint {
                path: ep.path.value.clone(),
                method: method.value.clone(),
                critical: ep.critical,
                slo_latency_ms: ep.slo_latency_ms.as_ref().map(|s| s.value),
                slo_availability: availability,
                min_request_rate: ep.min_request_rate.as_ref().map(|r| r.value),
                tiers,
                service: ep
                    .service
                    .as_ref()
                    .map(|s| s.value.clone())
                    .or_else(|| dv(|d| &d.api_service)),
                owner: ep
                    .owner
                    .as_ref()
                    .map(|s| s.value.clone())
                    .or_else(|| dv(|d| &d.api_owner)),
                source: src.name.clone(),
            });
        }
    }

    // Every alert must reach someone: a team without a webhook uses the default.
    if settings.alertmanager.default_webhook_url.is_none() {
        for (fi, file) in files.iter().enumerate() {
            for (name, t) in &file.teams {
                if t.value.webhook_url.is_none() && t.value.slack_api_url_file.is_none() {
                    c.error(
                        &sources[fi],
                        t,
                        format!("teams.{name}.webhook_url"),
                        format!(
                            "team {} has no webhook_url and there is no default",
                            shown(name)
                        ),
                        "set its `webhook_url`, or `settings.alertmanager.default_webhook_url`",
                    );
                }
            }
        }
        if let Some(first) = sources.first() {
            let pos = crate::diagnostics::Pos {
                file: first.name.clone(),
                line: 0,
                column: 0,
            };
            c.diags.push(
                Diagnostic::warning(
                    pos,
                    "settings.alertmanager.default_webhook_url",
                    "no default webhook: alerts of owners without a team route reach no one",
                )
                .help("set `settings: {alertmanager: {default_webhook_url: …}}`"),
            );
        }
    }
    if runbook_base_url.is_none()
        && let Some(first) = sources.first()
    {
        let pos = crate::diagnostics::Pos {
            file: first.name.clone(),
            line: 0,
            column: 0,
        };
        c.diags.push(
            Diagnostic::warning(pos, "defaults.runbook_base_url", "no runbook base URL: alerts of services without `runbook_url` carry no runbook_url annotation")
                .help("set `defaults: {runbook_base_url: https://…}` (or `runbook_url` per service)"),
        );
    }
    let errors = c.diags.iter().any(Diagnostic::is_error);
    if errors {
        return (None, c.diags);
    }
    services.sort_by(|a, b| a.name.cmp(&b.name));
    pages.sort_by(|a, b| a.path.cmp(&b.path));
    endpoints.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
    let files = sources.iter().map(|s| s.name.clone()).collect();
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
    let mut settings = settings;
    settings.latency_buckets_seconds = burn_rate::with_thresholds(
        &settings.latency_buckets_seconds,
        endpoints.iter().filter_map(Endpoint::latency_seconds),
    );
    (
        Some(Registry {
            services,
            pages,
            endpoints,
            teams,
            runbook_base_url,
            settings,
            files,
            settings_file,
            content_hash,
        }),
        c.diags,
    )
}

type OwnerCheck<'a> = dyn FnMut(&mut Checker, &SourceFile, &Spanned<String>, String) + 'a;

fn check_service(
    c: &mut Checker,
    src: &SourceFile,
    s: &Spanned<model::Service>,
    field: &str,
    check_owner: &mut OwnerCheck,
) -> Option<Service> {
    let before = c.diags.len();
    let svc = &s.value;
    let kind = svc.kind.value;
    c.name(src, &svc.name, format!("{field}.name"), "service name");
    if let Some(u) = &svc.runbook_url {
        check_url(c, src, u, &format!("{field}.runbook_url"), url::Use::Link);
    }
    let owner = match &svc.owner {
        Some(o) => {
            check_owner(c, src, o, format!("{field}.owner"));
            o.value.clone()
        }
        None => {
            c.error(
                src,
                &svc.name,
                format!("{field}.owner"),
                format!("service {} has no owner", shown(&svc.name.value)),
                "add `owner: <team>`: alerts are routed by owner",
            );
            String::new()
        }
    };
    let port = match &svc.port {
        Some(p) if !(1..=65535).contains(&p.value) => {
            c.error(
                src,
                p,
                format!("{field}.port"),
                format!("port {} is outside 1-65535", p.value),
                "use the TCP port the service listens on",
            );
            None
        }
        Some(p) => u16::try_from(p.value).ok(),
        None => None,
    };
    // An invalid port is reported once, not again as a missing one.
    let bad_port = svc.port.is_some() && port.is_none();
    let misplaced = |c: &mut Checker,
                     present: bool,
                     at: &Spanned<model::ServiceType>,
                     what: &str,
                     only: &str| {
        if present {
            c.error(
                src,
                at,
                format!("{field}.{what}"),
                format!("`{what}` does not apply to a {kind} service"),
                format!("`{what}` is for {only} services; remove it"),
            );
        }
    };
    match kind {
        ServiceType::K8sDeployment => {
            match &svc.namespace {
                None => c.error(
                    src,
                    &svc.kind,
                    format!("{field}.namespace"),
                    format!("k8s service {} has no namespace", shown(&svc.name.value)),
                    "add `namespace:`: probes and scrapes are scoped to it",
                ),
                Some(ns) => c.name(src, ns, format!("{field}.namespace"), "namespace"),
            }
            misplaced(
                c,
                svc.host.is_some(),
                &svc.kind,
                "host",
                "docker and systemd",
            );
            misplaced(
                c,
                svc.service_name.is_some(),
                &svc.kind,
                "service_name",
                "systemd",
            );
        }
        ServiceType::Docker | ServiceType::Systemd => {
            match &svc.host {
                None => c.error(
                    src,
                    &svc.kind,
                    format!("{field}.host"),
                    format!("{kind} service {} has no host", shown(&svc.name.value)),
                    "add `host:` with the machine's name or address",
                ),
                Some(h) if !is_hostname(&h.value) => c.error(
                    src,
                    h,
                    format!("{field}.host"),
                    format!(
                        "host {} is not a host name or IPv4 address",
                        shown(&h.value)
                    ),
                    "write a name such as db1.example.org or an address such as 10.0.0.5",
                ),
                Some(_) => {}
            }
            misplaced(
                c,
                svc.namespace.is_some(),
                &svc.kind,
                "namespace",
                "k8s-deployment",
            );
            if kind == ServiceType::Docker {
                misplaced(
                    c,
                    svc.service_name.is_some(),
                    &svc.kind,
                    "service_name",
                    "systemd",
                );
            }
        }
    }
    if kind == ServiceType::Systemd {
        match &svc.service_name {
            None => c.error(
                src,
                &svc.kind,
                format!("{field}.service_name"),
                format!("systemd service {} has no unit", shown(&svc.name.value)),
                "add `service_name:` with the unit, such as nginx.service",
            ),
            Some(u) if !is_unit_name(&u.value) => c.error(
                src,
                u,
                format!("{field}.service_name"),
                format!("{} is not a systemd unit name", shown(&u.value)),
                "unit names use letters, digits and :_.@-\\",
            ),
            Some(_) => {}
        }
    }
    if let Some(h) = &svc.health_endpoint
        && (h.value.trim().is_empty() || h.value.chars().any(char::is_control))
    {
        c.error(
            src,
            h,
            format!("{field}.health_endpoint"),
            "the health check is empty or has control characters".into(),
            "write an HTTP path such as /health, or a command such as pg_isready",
        );
    }
    let probe = probe_for(svc, kind, port);
    let metrics = svc.metrics.as_ref().map(|m| &m.value);
    let metrics_port = match metrics.and_then(|m| m.port.as_ref()) {
        Some(p) if !(1..=65535).contains(&p.value) => {
            c.error(
                src,
                p,
                format!("{field}.metrics.port"),
                format!("port {} is outside 1-65535", p.value),
                "use the port of /metrics",
            );
            None
        }
        Some(p) => u16::try_from(p.value).ok(),
        // systemd units are scraped through the host's node_exporter.
        None if kind == ServiceType::Systemd => Some(9100),
        None => port,
    };
    let metrics_path = match metrics.and_then(|m| m.path.as_ref()) {
        Some(p)
            if !p.value.starts_with('/')
                || p.value.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            c.error(
                src,
                p,
                format!("{field}.metrics.path"),
                format!("metrics path {} is not a URL path", shown(&p.value)),
                "write it as /metrics",
            );
            "/metrics".to_owned()
        }
        Some(p) => p.value.clone(),
        None => "/metrics".to_owned(),
    };
    let scrape = match (kind, svc.monitoring.prometheus, &svc.host, metrics_port) {
        (ServiceType::K8sDeployment, _, _, _) | (_, false, _, _) => None,
        (_, true, Some(h), Some(p)) => Some(Scrape {
            address: format!("{}:{p}", h.value),
            path: metrics_path.clone(),
        }),
        (_, true, _, None) if bad_port => None,
        (_, true, _, None) => {
            c.error(
                src,
                &svc.kind,
                format!("{field}.metrics"),
                format!(
                    "service {} has `prometheus: true` but no port to scrape",
                    shown(&svc.name.value)
                ),
                "add `port:` or `metrics: {port: …}` (the exporter's port)",
            );
            None
        }
        (_, true, None, _) => None, // reported as a missing host above
    };
    if let (Some(h), Probe::None { reason }) = (&svc.health_endpoint, &probe)
        && kind == ServiceType::Docker
        && !bad_port
    {
        c.error(
            src,
            h,
            format!("{field}.health_endpoint"),
            format!("the health check cannot be probed: {reason}"),
            "add `port:` (and `host:`) so the health check can be probed",
        );
    }
    let has = |n: Need| match n {
        Need::Probe => probe.exists(),
        Need::Host => svc.host.is_some(),
        Need::Unit => svc.service_name.is_some(),
    };
    let alerts = c.alerts(src, &svc.alerts, field, kind.into(), &has);
    if c.diags[before..].iter().any(Diagnostic::is_error) {
        return None;
    }
    Some(Service {
        name: svc.name.value.clone(),
        kind,
        namespace: svc.namespace.as_ref().map(|s| s.value.clone()),
        host: svc.host.as_ref().map(|s| s.value.clone()),
        port,
        health_endpoint: svc.health_endpoint.as_ref().map(|s| s.value.clone()),
        unit: svc.service_name.as_ref().map(|s| s.value.clone()),
        monitoring: ServiceMonitoring {
            prometheus: svc.monitoring.prometheus,
            sentry: svc.monitoring.sentry,
            otel: svc.monitoring.otel,
            langfuse: svc.monitoring.langfuse,
        },
        alerts,
        owner,
        description: svc.description.clone(),
        runbook_url: svc.runbook_url.as_ref().map(|u| u.value.clone()),
        source: src.name.clone(),
        probe,
        scrape,
        metrics_port,
        metrics_path,
    })
}

/// Derives the external health probe. A path is probed over HTTP; a command
/// (`redis-cli ping`, `pg_isready`) cannot be run by Blackbox, so the port is
/// probed over TCP instead; a path without a port is an exec probe inside the
/// container, which nothing outside can run.
fn probe_for(svc: &model::Service, kind: ServiceType, port: Option<u16>) -> Probe {
    let Some(health) = &svc.health_endpoint else {
        return Probe::None {
            reason: "no health_endpoint".into(),
        };
    };
    let health = health.value.trim();
    let is_path = health.starts_with('/');
    let host = match kind {
        // In-cluster service DNS: a k8s service has no host of its own.
        ServiceType::K8sDeployment => svc
            .namespace
            .as_ref()
            .map(|ns| format!("{}.{}.svc", svc.name.value, ns.value)),
        _ => svc.host.as_ref().map(|h| h.value.clone()),
    };
    match (host, port, is_path) {
        (Some(host), Some(port), true) => Probe::Http {
            url: format!("http://{host}:{port}{health}"),
        },
        (Some(host), Some(port), false) => Probe::Tcp {
            address: format!("{host}:{port}"),
            command: health.to_owned(),
        },
        (_, None, true) if kind == ServiceType::K8sDeployment => Probe::None {
            reason: format!("exec probe {health} has no port; the kubelet runs it inside the pod"),
        },
        (None, _, _) => Probe::None {
            reason: "no host".into(),
        },
        (_, None, _) => Probe::None {
            reason: "no port".into(),
        },
    }
}

/// A URL field: checked by [`url::problem`] (no secret may reach a generated
/// file), refused at the value's position.
pub fn check_url(
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

//! The registry-wide sections: one `defaults:` and one `settings:` across all
//! files, the `teams:`; and, once everything else is known, the routing checks
//! (every alert reaches someone) and the warnings for what the registry lacks.

use super::checker::{Cx, check_file, check_url};
use crate::diagnostics::shown;
use crate::syntax::NAME_RULE;
use serde_saphyr::Spanned;

use crate::source::SourceFile;
use crate::{Team, channels, model, settings, url};
use std::collections::HashMap;

/// Finds the sections, checks the teams, and resolves the settings.
pub(super) fn collect(cx: &mut Cx) {
    let (sources, files) = (cx.sources, cx.files);
    // The settings may sit in any file: find the mail server first.
    let has_smtp = files.iter().filter_map(|f| f.settings.as_ref()).any(|s| {
        s.value
            .alertmanager
            .as_ref()
            .is_some_and(|a| a.value.smtp.is_some())
    });
    for (fi, file) in files.iter().enumerate() {
        let src = &sources[fi];
        if let Some(d) = &file.defaults {
            match cx.defaults {
                Some((first, _)) => cx.c.error(
                    src,
                    d,
                    "defaults".into(),
                    format!("`defaults` is already set in {}", sources[first].name),
                    "keep one `defaults:` section in the whole registry",
                ),
                None => cx.defaults = Some((fi, d)),
            }
        }
        if let Some(st) = &file.settings {
            match cx.settings_at {
                Some((first, _)) => cx.c.error(
                    src,
                    st,
                    "settings".into(),
                    format!("`settings` is already set in {}", sources[first].name),
                    "keep one `settings:` section in the whole registry",
                ),
                None => cx.settings_at = Some((fi, st)),
            }
        }
        for (name, t) in &file.teams {
            team(cx, src, name, t, has_smtp);
        }
    }
    cx.settings = settings::resolve(
        cx.settings_at.map(|(fi, st)| (&sources[fi], st)),
        &mut cx.c.diags,
    );
    cx.c.top_bucket = cx
        .settings
        .latency_buckets_seconds
        .iter()
        .copied()
        .reduce(f64::max);
}

/// The owners and runbook base URL of `defaults:`; returns that URL.
pub(super) fn check_defaults(cx: &mut Cx) -> Option<String> {
    let (fi, d) = cx.defaults?;
    let src = &cx.sources[fi];
    for (o, f) in [
        (&d.value.page_owner, "defaults.page_owner"),
        (&d.value.api_owner, "defaults.api_owner"),
        (&d.value.platform_owner, "defaults.platform_owner"),
    ] {
        if let Some(o) = o {
            cx.check_owner(src, o, f.into());
        }
    }
    let u = d.value.runbook_base_url.as_ref()?;
    check_url(
        &mut cx.c,
        src,
        u,
        "defaults.runbook_base_url",
        url::Use::Link,
    );
    Some(u.value.clone())
}

/// The services `defaults:` names for pages and endpoints, once services are known.
pub(super) fn check_default_services(cx: &mut Cx) {
    let Some((fi, d)) = cx.defaults else { return };
    let src = &cx.sources[fi];
    for (s, f) in [
        (&d.value.page_service, "defaults.page_service"),
        (&d.value.api_service, "defaults.api_service"),
    ] {
        if let Some(s) = s {
            cx.check_service_ref(src, s, f.into());
        }
    }
}

/// Whether every alert reaches a person who can act: routes, channels
/// outside the monitored system, the cluster's Alertmanager, the history the
/// SLO figures need.
pub(super) fn check_delivery(
    cx: &mut Cx,
    services: &[crate::Service],
    has_slos: bool,
    has_runbook_base: bool,
) {
    check_retention(cx, has_slos);
    check_routing(cx, has_runbook_base);
    check_channels_outside(cx, services);
    check_cluster_alerting(cx, services);
}

/// Every alert must reach someone: a team without a receiver uses the default
/// webhook, so without one it is an error; and what the registry lacks is said.
fn check_routing(cx: &mut Cx, has_runbook_base: bool) {
    let (sources, files) = (cx.sources, cx.files);
    if cx.settings.alertmanager.default_webhook_url.is_none() {
        for (fi, file) in files.iter().enumerate() {
            for (name, t) in &file.teams {
                let v = &t.value;
                if v.webhook_url.is_none() && v.slack_api_url_file.is_none() && v.notify.is_empty()
                {
                    cx.c.error(
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
        // Without one, owner-less alerts go to the platform owner's receiver.
        let platform_team = cx
            .default(|d| &d.platform_owner)
            .is_some_and(|o| cx.teams.contains_key(&o));
        if !platform_team {
            cx.c.missing(
                sources,
                "settings.alertmanager.default_webhook_url",
                "no default webhook and no platform owner among the teams: alerts of owners without a team route reach no one",
                "set `defaults: {platform_owner: <team>}` (owner-less alerts go to its receiver), or `settings: {alertmanager: {default_webhook_url: …}}`",
            );
        }
    }
    if !has_runbook_base {
        cx.c.missing(
            sources,
            "defaults.runbook_base_url",
            "no runbook base URL: alerts of services without `runbook_url` carry no runbook_url annotation",
            "set `defaults: {runbook_base_url: https://…}` (or `runbook_url` per service)",
        );
    }
}

/// One team: its name, webhooks, credential files and channels.
fn team(cx: &mut Cx, src: &SourceFile, name: &str, t: &Spanned<model::Team>, has_smtp: bool) {
    let field = format!("teams.{name}");
    if !crate::syntax::is_valid_name(name) {
        cx.c.error(
            src,
            t,
            field.clone(),
            format!("team name {} is not a valid name", shown(name)),
            NAME_RULE,
        );
    }
    if cx.teams.contains_key(name) {
        cx.c.error(
            src,
            t,
            field.clone(),
            format!("team {} is defined twice", shown(name)),
            "keep one definition of each team",
        );
    }
    let t = &t.value;
    for (u, key) in [
        (&t.webhook_url, "webhook_url"),
        (&t.paging_webhook_url, "paging_webhook_url"),
    ] {
        if let Some(u) = u {
            check_url(
                &mut cx.c,
                src,
                u,
                &format!("{field}.{key}"),
                url::Use::TeamWebhook,
            );
        }
    }
    for (f, key) in [
        (&t.webhook_credentials_file, "webhook_credentials_file"),
        (&t.slack_api_url_file, "slack_api_url_file"),
    ] {
        if let Some(f) = f {
            check_file(&mut cx.c, src, f, &format!("{field}.{key}"));
        }
    }
    let mut checked = |list: &[serde_saphyr::Spanned<crate::model::Channel>], key: &str| {
        let mut out = Vec::new();
        for (i, ch) in list.iter().enumerate() {
            for (name, f) in channels::files(&ch.value) {
                check_file(&mut cx.c, src, f, &format!("{field}.{key}[{i}].{name}"));
            }
            match channels::config(&ch.value, has_smtp) {
                Ok(c) if c.key == "slack_configs" && t.slack_api_url_file.is_some() => cx.c.error(
                    src,
                    ch,
                    format!("{field}.{key}[{i}]"),
                    "the team already posts to Slack through `slack_api_url_file`".into(),
                    "keep one of the two",
                ),
                Ok(c) => out.push(c),
                Err((message, help)) => {
                    cx.c.error(src, ch, format!("{field}.{key}[{i}]"), message, help)
                }
            }
        }
        out
    };
    let notify = checked(&t.notify, "notify");
    let page = checked(&t.page, "page");
    cx.teams.insert(
        name.to_owned(),
        Team {
            notify,
            page,
            webhook_url: t.webhook_url.as_ref().map(|u| u.value.clone()),
            paging_webhook_url: t.paging_webhook_url.as_ref().map(|u| u.value.clone()),
            webhook_credentials_file: t.webhook_credentials_file.as_ref().map(|f| f.value.clone()),
            slack_api_url_file: t.slack_api_url_file.as_ref().map(|f| f.value.clone()),
        },
    );
}

/// The SLO period's figures (budget remaining, period burn rate) sum 5-minute
/// rates over the whole period: with less history in Prometheus they cover
/// only its retention, and would say so nowhere.
fn check_retention(cx: &mut Cx, has_slos: bool) {
    let st = &cx.settings;
    let Some(kept) = crate::syntax::duration_hours(&st.prometheus.retention)
        .filter(|k| has_slos && *k < st.slo_period_hours)
    else {
        return;
    };
    let field = "settings.prometheus.retention".to_owned();
    let message = format!(
        "the SLO period ({}) is longer than Prometheus keeps samples ({}): the period's budget and burn figures cover only the last {} days",
        st.slo_period,
        st.prometheus.retention,
        (kept / 24.0 * 10.0).round() / 10.0
    );
    let help = format!(
        "start Prometheus with `--storage.tsdb.retention.time={0}` (or longer) and say so: `settings: {{prometheus: {{retention: {0}}}}}`; or choose a shorter `slo_period`",
        st.slo_period
    );
    match cx.settings_at {
        Some((fi, at)) => cx.c.warn(
            &cx.sources[fi],
            at,
            "SLO periods beyond the retention",
            field,
            message,
            help,
        ),
        None => cx.c.missing(cx.sources, &field, &message, &help),
    }
}

/// Which registered service each address reaches: a k8s service by its
/// in-cluster names, a docker or systemd one by its host and port. Built once
/// for all teams (each with the index of the first service it names).
struct Served<'a> {
    names: HashMap<String, (usize, &'a str)>,
    hosts: HashMap<(String, u16), (usize, &'a str)>,
}

impl<'a> Served<'a> {
    fn new(services: &'a [crate::Service]) -> Served<'a> {
        let mut served = Served {
            names: HashMap::new(),
            hosts: HashMap::new(),
        };
        for (i, s) in services.iter().enumerate() {
            let n = s.name.as_str();
            match (&s.namespace, &s.host) {
                (Some(ns), _) if s.kind == crate::ServiceType::K8sDeployment => {
                    for name in [
                        n.to_owned(),
                        format!("{n}.{ns}"),
                        format!("{n}.{ns}.svc"),
                        format!("{n}.{ns}.svc.cluster.local"),
                    ] {
                        served.names.entry(name).or_insert((i, n));
                    }
                }
                (_, Some(h)) => {
                    if let Some(port) = s.port {
                        let key = (h.to_ascii_lowercase(), port);
                        served.hosts.entry(key).or_insert((i, n));
                    }
                }
                _ => {}
            }
        }
        served
    }

    /// The registered service a webhook URL posts to, if any (the first in
    /// the registry's order when several match).
    fn by(&self, url: &str) -> Option<&'a str> {
        let (host, port) = crate::url::host_port(url)?;
        let by_name = self.names.get(&host);
        let by_host = self.hosts.get(&(host.to_ascii_lowercase(), port));
        by_name.into_iter().chain(by_host).min().map(|(_, n)| *n)
    }
}

/// A team whose every channel (or every paging channel) is a webhook of a
/// service this registry monitors hears nothing when that service is down,
/// least of all its own alert: said once per team, with the service.
fn check_channels_outside(cx: &mut Cx, services: &[crate::Service]) {
    let default = cx.settings.alertmanager.default_webhook_url.clone();
    let (sources, files) = (cx.sources, cx.files);
    let served_by = Served::new(services);
    for (fi, file) in files.iter().enumerate() {
        for (name, at) in &file.teams {
            let Some(t) = cx.teams.get(name) else {
                continue;
            };
            if t.slack_api_url_file.is_some() {
                continue;
            }
            let url = t.webhook_url.clone().or_else(|| default.clone());
            let paging = t.paging_webhook_url.clone().or_else(|| url.clone());
            // Only the webhook: no other channel beside it.
            let served = |hook: &Option<String>, alone: bool| {
                hook.as_deref()
                    .filter(|_| alone)
                    .and_then(|u| served_by.by(u))
            };
            let notices = served(&url, t.notify.is_empty());
            let pages = served(&paging, t.notify.is_empty() && t.page.is_empty());
            let (what, service) = match (notices, pages) {
                (Some(_), Some(s)) => ("every notification", s),
                (None, Some(s)) => ("every page", s),
                _ => continue,
            };
            cx.c.warn(
                &sources[fi],
                at,
                "teams notified only through a monitored service",
                format!("teams.{name}"),
                format!(
                    "{what} of team {} goes through {}, a service this registry monitors: while it is down, its alerts (its own included) reach no one",
                    shown(name),
                    shown(service)
                ),
                "give the team a channel outside the monitored system: `page: [{pagerduty: {routing_key_file: …}}]` (or opsgenie, victorops, email, slack)",
            );
        }
    }
}

/// Groups the operator's Prometheus evaluates (k8s services' under `auto`,
/// every group under `resources` and `both`) go to the cluster's own
/// Alertmanager unless it is told of the generated one: said when it is not.
fn check_cluster_alerting(cx: &mut Cx, services: &[crate::Service]) {
    use crate::settings::RuleDelivery;
    let st = &cx.settings;
    let cluster = match st.prometheus.rules {
        RuleDelivery::Files => false,
        RuleDelivery::Resources | RuleDelivery::Both => true,
        RuleDelivery::Auto => services
            .iter()
            .any(|s| s.kind == crate::ServiceType::K8sDeployment),
    };
    if !cluster || st.kubernetes.alertmanager_address.is_some() {
        return;
    }
    let field = "settings.kubernetes.alertmanager_address".to_owned();
    let message = "the operator's Prometheus evaluates the cluster's rule groups and sends their alerts to its own Alertmanager, which knows none of the generated routes: they reach no team".to_owned();
    let help = "set `settings: {kubernetes: {alertmanager_address: host:port}}`, the generated Alertmanager as the cluster reaches it: gen writes kubernetes/_alertmanagers.secret.yaml for the Prometheus resource's `additionalAlertManagerConfigs`";
    match cx.settings_at {
        Some((fi, at)) => cx.c.warn(
            &cx.sources[fi],
            at,
            "cluster alerts without the generated Alertmanager",
            field,
            message,
            help,
        ),
        None => cx.c.missing(cx.sources, &field, &message, help),
    }
}

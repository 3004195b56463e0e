//! Alertmanager: routes per owner team, receivers from `teams:`, inhibitions.
//! Receiver names: `_default` and `_automation` (team names cannot start with
//! `_`), `<team>` and `<team>/paging` (team names cannot hold `/`).

use std::collections::{BTreeMap, BTreeSet};

use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::emit::Emit;
use crate::error::Failure;
use crate::error::RenderError;
use crate::output::{Format, Output};
use crate::plan::Plan;
use crate::templates::Renderer;
use registry::burn_rate::TIERS;
use registry::settings::AlertShape;
use registry::{Registry, channels};

pub(crate) const DEFAULT_RECEIVER: &str = "_default";
/// The notification templates' file, beside alertmanager.yml (Alertmanager
/// resolves `templates:` from the config file's folder).
const NOTIFICATIONS: &str = "notifications.tmpl";

pub(crate) fn paging_receiver(team: &str) -> String {
    format!("{team}/paging")
}

#[derive(Debug, Serialize)]
pub(crate) struct TeamRoute {
    pub team: String,
    pub receiver: String,
    pub paging_receiver: String,
    pub url: Option<String>,
    pub paging_url: Option<String>,
    pub credentials_file: Option<String>,
    /// Both receivers also post to Slack, the URL read from this file.
    pub slack_api_url_file: Option<String>,
    /// More channels by Alertmanager key: the team's `notify` ones, and for
    /// the paging receiver those plus its `page` ones.
    pub channels: BTreeMap<&'static str, Vec<serde_json::Value>>,
    pub paging_channels: BTreeMap<&'static str, Vec<serde_json::Value>>,
}

#[derive(Debug, Serialize)]
struct TierInhibition {
    source: &'static str,
    targets: Vec<&'static str>,
}

/// The teams that get a route: those of `teams:`, or, in a registry without
/// that section, every owner (all sent to the default webhook).
pub(crate) fn team_routes(reg: &Registry) -> Vec<TeamRoute> {
    let default = reg.settings.alertmanager.default_webhook_url.clone();
    if !reg.teams.is_empty() {
        return reg
            .teams
            .iter()
            .map(|(name, t)| {
                // A team that posts to Slack does not also get the default webhook.
                let fallback = default.clone().filter(|_| t.slack_api_url_file.is_none());
                let url = t.webhook_url.clone().or(fallback);
                TeamRoute {
                    team: name.clone(),
                    receiver: name.clone(),
                    paging_receiver: paging_receiver(name),
                    paging_url: t.paging_webhook_url.clone().or_else(|| url.clone()),
                    url,
                    credentials_file: t.webhook_credentials_file.clone(),
                    slack_api_url_file: t.slack_api_url_file.clone(),
                    channels: channels::grouped(&t.notify),
                    paging_channels: channels::grouped(t.notify.iter().chain(&t.page)),
                }
            })
            .collect();
    }
    let owners: BTreeSet<&str> = reg
        .services
        .iter()
        .map(|s| s.owner.as_str())
        .chain(reg.pages.iter().map(|p| p.owner.as_str()))
        .chain(reg.endpoints.iter().filter_map(|e| e.owner.as_deref()))
        .filter(|o| *o != registry::UNASSIGNED)
        .collect();
    owners
        .into_iter()
        .map(|o| TeamRoute {
            team: o.to_owned(),
            receiver: o.to_owned(),
            paging_receiver: paging_receiver(o),
            url: default.clone(),
            paging_url: default.clone(),
            credentials_file: None,
            slack_api_url_file: None,
            channels: BTreeMap::new(),
            paging_channels: BTreeMap::new(),
        })
        .collect()
}

pub(crate) fn outputs(r: &Renderer, p: &Plan, emit: &mut Emit) -> Result<(), Failure> {
    emit(files(r, p.registry)?)
}

pub(crate) fn files(r: &Renderer, reg: &Registry) -> Result<Vec<Output>, RenderError> {
    let teams = team_routes(reg);
    let am = &reg.settings.alertmanager;
    // Without a default webhook, alerts of no team's route (owner-less, or of
    // owners `teams:` lacks) go to the platform owner's receiver: never to a
    // receiver that reaches no one.
    let platform = reg.platform.owner.as_str();
    let to_platform = am.default_webhook_url.is_none() && reg.teams.contains_key(platform);
    let default = if to_platform {
        context! { name => platform, team => true }
    } else {
        context! { name => DEFAULT_RECEIVER, url => &am.default_webhook_url, credentials_file => &am.default_webhook_credentials_file, team => false }
    };
    // Sloth's page and ticket shape has one alert per severity: the critical
    // silences the warning, and there are no tiers to order.
    let shaped = reg.settings.slo.alerts == AlertShape::PageTicket;
    let tiers: Vec<TierInhibition> = TIERS
        .iter()
        .filter(|_| !shaped)
        .enumerate()
        .take(TIERS.len() - 1)
        .map(|(i, t)| TierInhibition {
            source: t.name,
            targets: TIERS[i + 1..].iter().map(|t| t.name).collect(),
        })
        .collect();
    let body = r.render(
        "alertmanager/alertmanager.yml.j2",
        context! {
            settings => Serde(&reg.settings.alertmanager), default, teams => Serde(&teams), tiers => Serde(&tiers),
            templates => context! { file => NOTIFICATIONS, title => registry::channels::TITLE, text => registry::channels::TEXT },
        },
    )?;
    let notifications = r.render("alertmanager/notifications.tmpl.j2", context! {})?;
    Ok(vec![
        Output::new(
            "alertmanager/alertmanager.yml",
            Format::Yaml,
            &reg.source(),
            &body,
        ),
        Output::new(
            format!("alertmanager/{NOTIFICATIONS}"),
            Format::Text,
            &reg.source(),
            &notifications,
        ),
    ])
}

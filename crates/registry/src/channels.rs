//! A team's notification channels, checked and turned into Alertmanager
//! receiver configs. Secrets go only through the `*_file` options Alertmanager
//! 0.25 (the version CI tests) has; a kind whose secret it can only take inline
//! is refused, saying which version adds a file option.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use serde_saphyr::Spanned;

use super::model::Channel;
use crate::syntax::gotmpl_str;

/// The notification templates every receiver kind that takes text uses
/// (defined in `templates/alertmanager/notifications.tmpl.j2`).
pub const TITLE: &str = r#"{{ template "monitoring.title" . }}"#;
pub const TEXT: &str = r#"{{ template "monitoring.text" . }}"#;

/// One receiver config: its Alertmanager key (`pagerduty_configs`) and body.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelConfig {
    pub key: &'static str,
    pub config: Value,
}

/// The config of a channel, or why it cannot be used: `(message, help)`.
/// Alertmanager 0.25 expands Go templates in some of a channel's names and
/// addresses (Slack `channel`, e-mail `to`, VictorOps `routing_key`; not
/// Webex `room_id`), so those are written as literals (`gotmpl`).
pub(crate) fn config(ch: &Channel, has_smtp: bool) -> Result<ChannelConfig, (String, String)> {
    let lit = |s: &Spanned<String>| gotmpl_str(&s.value);
    let (key, config) = match ch {
        Channel::Slack(s) => {
            let mut c = json!({"api_url_file": s.api_url_file.value, "send_resolved": true, "title": TITLE, "text": TEXT});
            if let Some(channel) = &s.channel {
                c["channel"] = json!(lit(channel));
            }
            ("slack_configs", c)
        }
        Channel::Pagerduty(p) => (
            "pagerduty_configs",
            json!({"routing_key_file": p.routing_key_file.value, "send_resolved": true, "description": TITLE, "details": {"alerts": TEXT}}),
        ),
        Channel::Opsgenie(o) => (
            "opsgenie_configs",
            json!({"api_key_file": o.api_key_file.value, "send_resolved": true, "message": TITLE, "description": TEXT}),
        ),
        Channel::Email(e) if has_smtp => (
            "email_configs",
            json!({"to": lit(&e.to), "send_resolved": true, "headers": {"Subject": TITLE}, "text": TEXT}),
        ),
        Channel::Email(_) => {
            return Err((
                "an `email` channel needs a mail server".into(),
                "set `settings.alertmanager.smtp: {smarthost: host:25, from: alerts@…, auth_username, auth_password_file}`".into(),
            ));
        }
        Channel::Webex(w) => (
            "webex_configs",
            json!({"room_id": w.room_id.value, "send_resolved": true, "message": format!("{TITLE}\n{TEXT}"), "http_config": {"authorization": {"credentials_file": w.credentials_file.value}}}),
        ),
        Channel::Victorops(v) => (
            "victorops_configs",
            json!({"api_key_file": v.api_key_file.value, "routing_key": lit(&v.routing_key), "send_resolved": true, "entity_display_name": TITLE, "state_message": TEXT}),
        ),
        Channel::Telegram(_) => {
            return Err(inline_only(
                "Telegram",
                "its bot token",
                "`telegram_configs[].bot_token_file`",
            ));
        }
        Channel::Discord(_) => {
            return Err(inline_only(
                "Discord",
                "its webhook URL",
                "`discord_configs[].webhook_url_file`",
            ));
        }
        Channel::Msteams(_) => {
            return Err(inline_only(
                "Microsoft Teams",
                "its webhook URL",
                "`msteams_configs`",
            ));
        }
        Channel::Wechat(_) => return Err(inline_only("WeChat", "its API secret", "a file option")),
    };
    Ok(ChannelConfig { key, config })
}

/// The `*_file` fields of a channel, by name: each must name a file, never
/// hold the secret itself.
pub(crate) fn files(ch: &Channel) -> Vec<(&'static str, &Spanned<String>)> {
    match ch {
        Channel::Slack(s) => vec![("api_url_file", &s.api_url_file)],
        Channel::Pagerduty(p) => vec![("routing_key_file", &p.routing_key_file)],
        Channel::Opsgenie(o) => vec![("api_key_file", &o.api_key_file)],
        Channel::Webex(w) => vec![("credentials_file", &w.credentials_file)],
        Channel::Victorops(v) => vec![("api_key_file", &v.api_key_file)],
        _ => Vec::new(),
    }
}

fn inline_only(kind: &str, secret: &str, added: &str) -> (String, String) {
    (
        format!(
            "Alertmanager 0.25 (`settings.alertmanager.version`) takes {secret} only inline, so a {kind} channel would write a secret to generated files"
        ),
        format!(
            "use a kind with a file option (slack, pagerduty, opsgenie, email, webex, victorops) or a webhook with `webhook_credentials_file`; later Alertmanager versions add {added}"
        ),
    )
}

/// Configs grouped by key, so a receiver has one list per kind.
pub fn grouped<'a>(
    configs: impl IntoIterator<Item = &'a ChannelConfig>,
) -> BTreeMap<&'static str, Vec<Value>> {
    let mut out: BTreeMap<&'static str, Vec<Value>> = BTreeMap::new();
    for c in configs {
        out.entry(c.key).or_default().push(c.config.clone());
    }
    out
}

//! The URLs a registry may hold (webhooks, runbook links, the pages' base URL)
//! end up in generated files that are checked in and read by many, so they
//! must carry no secret. One check for every URL field, with a hint that says
//! where the secret goes instead for that field.

use crate::diagnostics::shown;

/// What a URL is for; decides where its secret belongs instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// A team's `webhook_url` or `paging_webhook_url`.
    TeamWebhook,
    /// `settings.alertmanager.default_webhook_url`.
    DefaultWebhook,
    /// `runbook_url`, `defaults.runbook_base_url`: links in alert annotations.
    Link,
    /// `settings.pages_base_url`: the Blackbox probes' targets.
    ProbeTarget,
}

/// Query and fragment parameter names that carry a secret, as whole words of
/// the name (`api_key`, `X-Amz-Signature`, `sessionId`), so `monkey` is not one.
const SECRET_WORDS: &[&str] = &[
    "token",
    "key",
    "secret",
    "password",
    "pwd",
    "passwd",
    "signature",
    "sig",
    "hmac",
    "code",
    "credential",
    "credentials",
    "session",
    "jwt",
    "auth",
    "authorization",
];

/// Names written as one word that still hold a secret word.
const SECRET_COMPOUNDS: &[&str] = &[
    "apikey",
    "accesskey",
    "secretkey",
    "privatekey",
    "accesstoken",
    "authtoken",
    "apitoken",
    "bearertoken",
    "idtoken",
    "refreshtoken",
    "clientsecret",
    "sessionid",
    "sessid",
];

/// Why `url` cannot be used for `purpose`, and what to write instead.
pub fn problem(url: &str, purpose: Use) -> Option<(String, String)> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let Some(rest) = rest.filter(|_| !url.chars().any(|c| c.is_whitespace() || c.is_control()))
    else {
        return Some((
            format!("{} is not an http(s) URL", shown(url)),
            "write it as https://host/path".into(),
        ));
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, rest) = rest.split_at(end);
    if authority.contains('@') {
        return Some((
            "the URL carries a user name or password (`user:pass@`), which would be written to generated files".into(),
            hint(purpose, None),
        ));
    }
    let host = authority.split(':').next().unwrap_or("");
    let (path, params) = match rest.find(['?', '#']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    // Lowercasing ASCII keeps byte offsets: the parameters as written.
    let params = &url[url.len() - params.len()..];
    if let Some(service) = secret_path(host, path) {
        return Some((
            format!(
                "this is a {service} webhook URL, whose path is itself a secret, which would be written to generated files"
            ),
            hint(purpose, Some(service)),
        ));
    }
    // Parameters of the query and of the fragment (`#access_token=…`), split on
    // `&` and `;`; names percent-decoded before they are judged.
    let names = params
        .split(['?', '#', '&', ';'])
        .filter_map(|p| p.split('=').next())
        .map(percent_decode);
    for name in names {
        if is_secret_name(&name) {
            return Some((
                format!(
                    "the URL's parameter {} carries a secret, which would be written to generated files",
                    shown(&name)
                ),
                hint(purpose, None),
            ));
        }
    }
    None
}

/// Where the secret goes instead, for each use (Alertmanager 0.25's options).
fn hint(purpose: Use, service: Option<&str>) -> String {
    let relay =
        "send to a relay on your network whose URL holds no secret and let it add the secret";
    match (purpose, service) {
        (Use::TeamWebhook | Use::DefaultWebhook, Some("Slack")) => {
            "write the URL into a file readable by Alertmanager and name that file in the team's `slack_api_url_file` (Alertmanager's `slack_configs[].api_url_file`)".into()
        }
        (Use::TeamWebhook | Use::DefaultWebhook, Some("Discord")) => {
            "Discord takes Slack-format messages at `<webhook URL>/slack`: write that URL into a file and name the file in the team's `slack_api_url_file`".into()
        }
        (Use::TeamWebhook | Use::DefaultWebhook, Some(service)) => format!(
            "Alertmanager 0.25 cannot read a {service} URL or token from a file (0.26 adds `*_file` options for it); {relay}"
        ),
        (Use::TeamWebhook, None) => "put the token in a file readable by Alertmanager and name it in the team's `webhook_credentials_file` (sent as `Authorization: Bearer`); a webhook that takes its secret only in the URL needs a relay".into(),
        (Use::DefaultWebhook, None) => "put the token in a file readable by Alertmanager and name it in `settings.alertmanager.default_webhook_credentials_file` (sent as `Authorization: Bearer`)".into(),
        (Use::Link, _) => "a runbook link is shown to everyone who gets the alert: link to a page readers open with their own login, without a secret in the URL".into(),
        (Use::ProbeTarget, _) => "give blackbox_exporter the credentials in its module's `http.http_client_config` (`bearer_token_file`, `basic_auth.password_file`), not in the URL".into(),
    }
}

/// The well-known services whose webhook path holds the secret.
fn secret_path(host: &str, path: &str) -> Option<&'static str> {
    let under = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if under("slack.com")
        && matches!(
            segments.first(),
            Some(&("services" | "workflows" | "triggers"))
        )
    {
        return Some("Slack");
    }
    if (under("discord.com") || under("discordapp.com")) && segments.contains(&"webhooks") {
        return Some("Discord");
    }
    // Telegram's bot API: `/bot<id>:<token>/method`.
    let telegram_bot = |s: &&str| {
        s.strip_prefix("bot")
            .and_then(|t| t.split_once(':'))
            .is_some_and(|(id, token)| {
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !token.is_empty()
            })
    };
    if segments.iter().any(telegram_bot) {
        return Some("Telegram");
    }
    if under("webhook.office.com")
        || (under("office.com") && segments.first().is_some_and(|s| s.starts_with("webhook")))
    {
        return Some("Microsoft Teams");
    }
    if host == "chat.googleapis.com" {
        return Some("Google Chat");
    }
    None
}

/// Whether a parameter name names a secret: one of its words (split at
/// punctuation and camelCase humps) is a secret word, or it is a known compound.
fn is_secret_name(name: &str) -> bool {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            words.push(std::mem::take(&mut word));
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower {
            words.push(std::mem::take(&mut word));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    words.push(word);
    let joined: String = words.concat();
    words.iter().any(|w| SECRET_WORDS.contains(&w.as_str()))
        || SECRET_COMPOUNDS.contains(&joined.as_str())
}

/// `%XX` sequences decoded (invalid ones kept as they are), `+` as a space.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b'+', ..) => {
                out.push(b' ');
                i += 1;
            }
            (b, ..) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_found_in_user_info_parameters_and_paths() {
        for url in [
            "https://user:pw@hooks.example.org/x",
            "https://hooks.example.org/x?token=abc",
            "https://hooks.example.org/x?a=1;api_key=abc",
            "https://hooks.example.org/x?%74oken=abc",
            "https://hooks.example.org/x?a=1#access_token=abc",
            "https://hooks.example.org/x?X-Amz-Signature=abc",
            "https://hooks.example.org/x?apiKey=abc",
            "https://hooks.example.org/x?SESSIONID=abc",
            "https://hooks.example.org/x?sig=1&hmac=2",
            "https://hooks.example.org/x?code=1",
            "https://hooks.example.org/x?pwd=1",
            "https://hooks.example.org/x?passwd=1",
            "https://hooks.example.org/x?jwt=1",
            "https://hooks.example.org/x?auth=1",
            "https://hooks.example.org/x?credential=1",
            "https://hooks.slack.com/services/T000/B000/XXXX",
            "https://discord.com/api/webhooks/123/abcDEF",
            "https://api.telegram.org/bot123456:ABC-def/sendMessage",
            "https://contoso.webhook.office.com/webhookb2/a@b/IncomingWebhook/1/2",
            "https://chat.googleapis.com/v1/spaces/AAA/messages",
        ] {
            assert!(
                problem(url, Use::TeamWebhook).is_some(),
                "{url} was accepted"
            );
        }
    }

    #[test]
    fn words_that_merely_contain_a_secret_word_are_fine() {
        for url in [
            "https://hooks.example.org/x?monkey=1",
            "https://hooks.example.org/x?page=2&keyboard=us",
            "https://hooks.example.org/x?tokens_total=1&authors=me",
            "https://wiki.example.org/runbooks#memory-high",
            "https://hooks.example.org/api/webhooks/1/2",
            "http://127.0.0.1:9095/hook",
        ] {
            assert_eq!(problem(url, Use::TeamWebhook), None, "{url}");
        }
    }
}

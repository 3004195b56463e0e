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
    "pass",
    "pw",
    "bearer",
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

/// The host (lowercase, no trailing dot) and port (the scheme's default when
/// none is written) of an http(s) URL.
pub fn host_port(url: &str) -> Option<(String, u16)> {
    let lower = url.to_ascii_lowercase();
    let (rest, default) = match lower.strip_prefix("https://") {
        Some(r) => (r, 443),
        None => (lower.strip_prefix("http://")?, 80),
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h, p.parse().ok()?),
        _ => (authority, default),
    };
    Some((host.trim_end_matches('.').to_owned(), port))
}

/// Why `url` cannot be used for `purpose`, and what to write instead.
pub fn problem(url: &str, purpose: Use) -> Option<(String, String)> {
    if let Some(c) = url.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Some(not_a_url_character(url, c));
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let Some(rest) = rest else {
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
    // Judged as the server reads it: no trailing dot on the host, the path
    // percent-decoded with its dot segments resolved.
    let host = authority
        .split(':')
        .next()
        .unwrap_or("")
        .trim_end_matches('.');
    let (path, params) = match rest.find(['?', '#']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    // Lowercasing ASCII keeps byte offsets: the parameters as written.
    let params = &url[url.len() - params.len()..];
    if let Some(service) = secret_path(host, &normalised_path(path)) {
        return Some((
            format!(
                "this is a {service} webhook URL, whose path is itself a secret, which would be written to generated files"
            ),
            hint(purpose, Some(service)),
        ));
    }
    secret_parameter(params).map(|name| {
        (
            format!(
                "the URL's parameter {} carries a secret, which would be written to generated files",
                shown(&name)
            ),
            hint(purpose, None),
        )
    })
}

/// A URL with a space or a control character in it: named, with its escape.
fn not_a_url_character(url: &str, c: char) -> (String, String) {
    let name = match c {
        ' ' => "a space".to_owned(),
        '\t' => "a tab".to_owned(),
        '\n' | '\r' => "a line break".to_owned(),
        c => format!("the character U+{:04X}", c as u32),
    };
    let mut buf = [0; 4];
    let escaped: String = c
        .encode_utf8(&mut buf)
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect();
    (
        format!("{} holds {name}, which a URL cannot hold", shown(url)),
        format!("percent-encode it as {escaped}"),
    )
}

/// The first parameter of a query or fragment (`#access_token=…`, split on
/// `&` and `;`) whose percent-decoded name names a secret.
fn secret_parameter(params: &str) -> Option<String> {
    params
        .split(['?', '#', '&', ';'])
        .filter_map(|p| p.split('=').next())
        .map(percent_decode)
        .find(|name| is_secret_name(name))
}

/// A path as a server reads it: percent-decoded, `.` and `..` resolved, lower case.
fn normalised_path(path: &str) -> String {
    let decoded = percent_decode(path).to_lowercase();
    let mut parts: Vec<&str> = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

/// What the path of a probe or scrape target (`health_endpoint`,
/// `metrics.path`, a page's `path`) may not hold: a secret parameter, or a
/// key in a webhook-shaped path. Returns `(message, help)`.
pub(crate) fn path_problem(path: &str) -> Option<(String, String)> {
    let help = "serve it without a secret in its URL (the path is written to the scrape and probe configs, which are checked in); keep the endpoint on a private network instead";
    let (p, params) = match path.find(['?', '#']) {
        Some(i) => path.split_at(i),
        None => (path, ""),
    };
    if let Some(name) = secret_parameter(params) {
        return Some((
            format!(
                "the parameter {} carries a secret, which would be written to generated files",
                shown(&name)
            ),
            help.into(),
        ));
    }
    if let Some(service) = secret_path("", &normalised_path(p)) {
        return Some((
            format!("the path holds a {service} key, which would be written to generated files"),
            help.into(),
        ));
    }
    None
}

/// `host:port` of a mail server: no user information, a port.
pub(crate) fn smarthost_problem(smarthost: &str) -> Option<(String, String)> {
    if smarthost.contains('@') || smarthost.contains("://") {
        return Some((
            "the mail server carries a user name or password (or a scheme), which would be written to generated files".into(),
            "write `host:port` only; the user goes in `auth_username`, the password into a file named in `auth_password_file`".into(),
        ));
    }
    let port_ok = smarthost
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
    if !port_ok
        || smarthost
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Some((
            format!("{} is not `host:port`", shown(smarthost)),
            "write the mail server as host:port, such as mail.example.org:587".into(),
        ));
    }
    None
}

/// A `*_file` field names a file that holds the secret: a path, never the
/// secret itself (a URL, a `Bearer …` header, a token).
pub(crate) fn file_problem(value: &str) -> Option<(String, String)> {
    let help = "write the secret into a file readable by Alertmanager and give that file's path here, such as /etc/alertmanager/secrets/slack";
    let lower = value.to_ascii_lowercase();
    let token_prefix = ["xoxb-", "xoxp-", "xoxa-", "xoxr-", "ghp_", "glpat-", "sk-"]
        .iter()
        .any(|p| lower.starts_with(p));
    let jwt = value.starts_with("eyJ") && value.matches('.').count() == 2;
    let what = if lower.contains("://") {
        Some("a URL")
    } else if lower.starts_with("bearer") || lower.starts_with("basic ") {
        Some("an authorization header")
    } else if token_prefix || jwt {
        Some("a token")
    } else if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("not a file path")
    } else {
        None
    };
    what.map(|w| {
        let message = if w == "not a file path" {
            format!("{} is not a file path", shown(value))
        } else {
            format!(
                "this is {w}, not the path of a file holding it: the secret itself would be written to generated files"
            )
        };
        (message, help.into())
    })
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
        (Use::TeamWebhook | Use::DefaultWebhook, Some(KEYED)) => format!(
            "Alertmanager 0.25 reads a webhook URL only inline; if the service takes its key as a header, put it in a file named in `webhook_credentials_file`, else {relay}"
        ),
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
    if under("pagerduty.com") && segments.first() == Some(&"integration") {
        return Some("PagerDuty");
    }
    // Mattermost, Rocket.Chat, Zapier and most self-hosted chats: a key as
    // the segment after `hooks` (or `webhooks`, `integration`).
    let keyed = segments.windows(2).any(|w| {
        matches!(
            w[0],
            "hooks" | "hook" | "webhooks" | "webhook" | "integration" | "integrations"
        ) && looks_like_key(w[1])
    });
    if keyed {
        return Some(KEYED);
    }
    None
}

/// A webhook whose key is a segment of its path.
const KEYED: &str = "keyed (`/hooks/<key>`)";

/// A generated key rather than a name: long, of letters and digits both.
fn looks_like_key(segment: &str) -> bool {
    segment.len() >= 16
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && segment.bytes().any(|b| b.is_ascii_digit())
        && segment.bytes().any(|b| b.is_ascii_alphabetic())
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

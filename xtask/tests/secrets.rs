//! Secrets never reach a generated file: every field that takes a URL refuses
//! user info, secret parameters (query or fragment, percent-encoded names,
//! `;` separators) and the well-known secret-in-path webhook shapes, at the
//! value's position, with a hint saying where the secret goes instead; and
//! names that merely contain a secret word are accepted.

mod common;
use common::*;

/// A registry with `url` in one URL field; `{}` marks where.
const FIELDS: &[(&str, &str)] = &[
    (
        "teams.t.webhook_url",
        "teams:\n  t:\n    webhook_url: '{}'\n",
    ),
    (
        "teams.t.paging_webhook_url",
        "teams:\n  t:\n    webhook_url: http://127.0.0.1:1/a\n    paging_webhook_url: '{}'\n",
    ),
    (
        "settings.alertmanager.default_webhook_url",
        "settings:\n  alertmanager:\n    default_webhook_url: '{}'\n",
    ),
    (
        "services[0].runbook_url",
        "services:\n  - name: s\n    type: docker\n    host: 127.0.0.1\n    port: 80\n    owner: t\n    runbook_url: '{}'\n",
    ),
    (
        "defaults.runbook_base_url",
        "defaults:\n  runbook_base_url: '{}'\n",
    ),
    (
        "settings.pages_base_url",
        "settings:\n  pages_base_url: '{}'\n",
    ),
];

const SECRET: &[(&str, &str)] = &[
    (
        "https://user:pw@hooks.example.org/x",
        "user name or password",
    ),
    ("https://hooks.example.org/x?a=1;%74oken=abc", r#""token""#),
    (
        "https://hooks.example.org/x?a=1#access_token=abc",
        r#""access_token""#,
    ),
    (
        "https://hooks.example.org/x?X-Amz-Signature=abc",
        r#""X-Amz-Signature""#,
    ),
    ("https://hooks.slack.com/services/T0/B0/XXXX", "Slack"),
    ("https://discord.com/api/webhooks/123/abc", "Discord"),
    (
        "https://api.telegram.org/bot123:AB-c/sendMessage",
        "Telegram",
    ),
    (
        "https://acme.webhook.office.com/webhookb2/a@b/IncomingWebhook/1/2",
        "Microsoft Teams",
    ),
    (
        "https://chat.googleapis.com/v1/spaces/A/messages?key=k",
        "Google Chat",
    ),
];

fn registry(field: &str, url: &str) -> TempDir {
    let t = TempDir::new("secret");
    std::fs::create_dir_all(t.join("reg")).unwrap();
    let template = FIELDS.iter().find(|(f, _)| *f == field).unwrap().1;
    // The team every case's service may name, unless the case defines it.
    let mut text = template.replace("{}", url);
    if !text.contains("teams:") {
        text.push_str("teams:\n  t:\n    webhook_url: http://127.0.0.1:1/t\n");
    }
    std::fs::write(t.join("reg/r.yaml"), text).unwrap();
    t
}

#[test]
fn every_url_field_refuses_every_secret_shape_at_its_position() {
    let templates = root().join("templates");
    let mut failed = Vec::new();
    for (field, template) in FIELDS {
        let line = template.lines().position(|l| l.contains("{}")).unwrap() + 1;
        for (url, why) in SECRET {
            let t = registry(field, url);
            match xtask::generate(&t.join("reg"), &templates) {
                Err(xtask::Failure::Invalid(msg)) => {
                    let ok = msg.contains(&format!("--> reg/r.yaml:{line}:"))
                        && msg.contains(why)
                        && msg.contains("which would be written to generated files")
                        && msg.contains(&format!("({field})"))
                        && msg.contains("help: ");
                    if !ok {
                        failed.push(format!("{field} = {url}:\n{msg}"));
                    }
                }
                Err(e) => failed.push(format!("{field} = {url}: {e}")),
                Ok(_) => failed.push(format!("{field} = {url}: accepted")),
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} cases:\n{}",
        failed.len(),
        failed.join("\n\n")
    );
}

#[test]
fn each_refusal_says_where_the_secret_goes_for_that_field() {
    let templates = root().join("templates");
    for (field, url, hint) in [
        (
            "teams.t.webhook_url",
            "https://h.example.org/x?token=1",
            "webhook_credentials_file",
        ),
        (
            "settings.alertmanager.default_webhook_url",
            "https://h.example.org/x?token=1",
            "default_webhook_credentials_file",
        ),
        (
            "teams.t.webhook_url",
            "https://hooks.slack.com/services/T0/B0/X",
            "slack_api_url_file",
        ),
        (
            "teams.t.webhook_url",
            "https://discord.com/api/webhooks/1/x",
            "/slack",
        ),
        (
            "services[0].runbook_url",
            "https://wiki.example.org/r?session=1",
            "own login",
        ),
        (
            "settings.pages_base_url",
            "https://u:p@app.example.org",
            "bearer_token_file",
        ),
    ] {
        let t = registry(field, url);
        match xtask::generate(&t.join("reg"), &templates) {
            Err(xtask::Failure::Invalid(msg)) => {
                assert!(msg.contains(hint), "{field} = {url}: no {hint:?} in\n{msg}")
            }
            _ => panic!("{field} = {url} was not refused"),
        }
    }
}

#[test]
fn names_that_merely_contain_a_secret_word_are_accepted() {
    let templates = root().join("templates");
    for (field, _) in FIELDS {
        for url in [
            "https://hooks.example.org/x?monkey=1",
            "https://hooks.example.org/x?page=2&keyboard=us",
            "https://wiki.example.org/runbooks#memory-high",
        ] {
            let t = registry(field, url);
            if let Err(e) = xtask::generate(&t.join("reg"), &templates) {
                panic!("{field} = {url} was refused:\n{e}");
            }
        }
    }
}

#[test]
#[cfg_attr(
    not(has_amtool),
    ignore = "amtool not found (Debian package prometheus-alertmanager; `.ci/run --install-only` installs it)"
)]
fn a_slack_url_from_a_file_reaches_alertmanager_and_no_secret_reaches_any_file() {
    let t = TempDir::new("slack");
    std::fs::create_dir_all(t.join("reg")).unwrap();
    std::fs::write(
        t.join("reg/r.yaml"),
        "teams:\n  t:\n    slack_api_url_file: /etc/alertmanager/secrets/slack-url\nsettings:\n  alertmanager:\n    default_webhook_url: http://127.0.0.1:1/d\n    default_webhook_credentials_file: /etc/alertmanager/secrets/default-token\n",
    )
    .unwrap();
    let out = t.join("out");
    let o = on("gen", &t.join("reg"), &out);
    assert!(o.status.success(), "{}", text(&o));
    let am = std::fs::read_to_string(out.join("alertmanager/alertmanager.yml")).unwrap();
    assert!(
        am.contains("api_url_file: '/etc/alertmanager/secrets/slack-url'"),
        "{am}"
    );
    assert!(
        am.contains("credentials_file: '/etc/alertmanager/secrets/default-token'"),
        "{am}"
    );
    if require_tool("amtool", "prometheus-alertmanager") {
        let o = std::process::Command::new("amtool")
            .arg("check-config")
            .arg(out.join("alertmanager/alertmanager.yml"))
            .output()
            .unwrap();
        assert!(o.status.success(), "amtool: {}", text(&o));
    }
}

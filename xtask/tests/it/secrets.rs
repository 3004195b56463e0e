//! Secrets never reach a generated file: every field that takes a URL refuses
//! user info, secret parameters (query or fragment, percent-encoded names,
//! `;` separators) and the well-known secret-in-path webhook shapes, at the
//! value's position, with a hint saying where the secret goes instead; and
//! names that merely contain a secret word are accepted.

use crate::common::*;

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
            match monitoring::generate(&t.join("reg"), &templates) {
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
        match monitoring::generate(&t.join("reg"), &templates) {
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
            if let Err(e) = monitoring::generate(&t.join("reg"), &templates) {
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

/// A docker service `s` of team `t` with `extra` (indented fields), and the
/// team with `team` (indented fields) and `settings` (indented lines).
fn hostile(service: &str, team: &str, settings: &str) -> String {
    format!(
        "services:\n  - name: s\n    type: docker\n    host: 127.0.0.1\n    port: 80\n    owner: t\n    monitoring: {{prometheus: true}}\n{service}teams:\n  t:\n    webhook_url: http://127.0.0.1:1/t\n{team}settings:\n  alertmanager:\n    default_webhook_url: http://127.0.0.1:1/d\n{settings}"
    )
}

/// Every way the hostile review got a secret into a generated file, each
/// refused at the field's line with a hint, and no trace of the secret in
/// any output when it is refused (nothing is written).
#[test]
fn every_path_host_and_file_field_refuses_a_secret_however_it_is_spelt() {
    let slack = "hooks.slack.com";
    let cases: Vec<(&str, String)> = vec![
        (
            "services[0].health_endpoint",
            hostile("    health_endpoint: /health?token=S3CR3T\n", "", ""),
        ),
        (
            "services[0].metrics.path",
            hostile(
                "    metrics: {path: '/metrics?access_token=S3CR3T'}\n",
                "",
                "",
            ),
        ),
        (
            "pages[0].path",
            format!(
                "{}pages:\n  - {{path: '/login?api_key=S3CR3T', name: login, owner: t}}\n",
                hostile("", "", "")
            ),
        ),
        (
            "settings.alertmanager.smtp.smarthost",
            hostile(
                "",
                "",
                "    smtp: {smarthost: 'user:S3CR3T@mail.example.org:587', from: a@example.org}\n",
            ),
        ),
        (
            "settings.alertmanager.smtp.auth_password_file",
            hostile(
                "",
                "",
                "    smtp: {smarthost: 'mail.example.org:587', from: a@example.org, auth_password_file: 'Bearer S3CR3T'}\n",
            ),
        ),
        (
            "teams.t.slack_api_url_file",
            hostile(
                "",
                &format!("    slack_api_url_file: https://{slack}/services/T0/B0/S3CR3T\n"),
                "",
            ),
        ),
        (
            "teams.t.webhook_credentials_file",
            hostile("", "    webhook_credentials_file: 'Bearer eyJS3CR3T'\n", ""),
        ),
        (
            "settings.alertmanager.default_webhook_credentials_file",
            hostile(
                "",
                "",
                "    default_webhook_credentials_file: eyJhbGciOi.eyJzdWIi.S3CR3T\n",
            ),
        ),
        (
            "teams.t.page[0].routing_key_file",
            hostile(
                "",
                "    page:\n      - pagerduty: {routing_key_file: 'xoxb-S3CR3T'}\n",
                "",
            ),
        ),
        (
            "teams.t.paging_webhook_url",
            hostile(
                "",
                &format!("    paging_webhook_url: https://{slack}./services/T0/B0/S3CR3T\n"),
                "",
            ),
        ),
        (
            "teams.t.paging_webhook_url",
            hostile(
                "",
                &format!("    paging_webhook_url: https://{slack}/%73ervices/T0/B0/S3CR3T\n"),
                "",
            ),
        ),
        (
            "teams.t.paging_webhook_url",
            hostile(
                "",
                &format!("    paging_webhook_url: https://{slack}/./services/T0/B0/S3CR3T\n"),
                "",
            ),
        ),
        (
            "teams.t.paging_webhook_url",
            hostile(
                "",
                &format!("    paging_webhook_url: https://{slack}/x/../services/T0/B0/S3CR3T\n"),
                "",
            ),
        ),
        (
            "teams.t.paging_webhook_url",
            hostile(
                "",
                "    paging_webhook_url: https://events.pagerduty.com/integration/0123456789abcdefS3CR3T/enqueue\n",
                "",
            ),
        ),
        (
            "teams.t.paging_webhook_url",
            hostile(
                "",
                "    paging_webhook_url: https://chat.example.org/hooks/xk3sm9a8gjf7pdb1yS3CR3T\n",
                "",
            ),
        ),
        (
            "teams.t.paging_webhook_url",
            hostile(
                "",
                "    paging_webhook_url: 'https://relay.example.org/a?pass=S3CR3T'\n",
                "",
            ),
        ),
        (
            "teams.t.paging_webhook_url",
            hostile(
                "",
                "    paging_webhook_url: 'https://relay.example.org/a?pw=S3CR3T'\n",
                "",
            ),
        ),
        (
            "teams.t.paging_webhook_url",
            hostile(
                "",
                "    paging_webhook_url: 'https://relay.example.org/a?bearer=S3CR3T'\n",
                "",
            ),
        ),
    ];
    let templates = root().join("templates");
    let mut failed = Vec::new();
    for (field, reg) in &cases {
        let t = TempDir::new("hostile");
        std::fs::create_dir_all(t.join("reg")).unwrap();
        std::fs::write(t.join("reg/r.yaml"), reg).unwrap();
        let line = reg.lines().position(|l| l.contains("S3CR3T")).unwrap() + 1;
        match monitoring::generate(&t.join("reg"), &templates) {
            Err(xtask::Failure::Invalid(msg)) => {
                let ok = msg.contains(&format!("--> reg/r.yaml:{line}:"))
                    && msg.contains(&format!("({field})"))
                    && msg.contains("help: ");
                if !ok {
                    failed.push(format!("{field}:\n{msg}"));
                }
            }
            Err(e) => failed.push(format!("{field}: {e}")),
            Ok(g) => {
                let leaked: Vec<&str> = g
                    .outputs
                    .iter()
                    .filter(|o| o.contents.contains("S3CR3T"))
                    .map(|o| o.path.as_str())
                    .collect();
                failed.push(format!("{field}: accepted; the secret is in {leaked:?}"));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} cases:\n{}",
        failed.len(),
        cases.len(),
        failed.join("\n\n")
    );

    // Paths, files and hosts that only look alike are accepted.
    let fine = hostile(
        "    health_endpoint: /health?verbose=1\n    metrics: {path: /metrics/keys}\n",
        "    webhook_credentials_file: secrets/team-t.token\n    paging_webhook_url: http://127.0.0.1:1/hooks/backend-team\n",
        "    smtp: {smarthost: 'mail.example.org:587', from: a@example.org, auth_password_file: /etc/alertmanager/smtp}\n",
    );
    let t = TempDir::new("hostile-fine");
    std::fs::create_dir_all(t.join("reg")).unwrap();
    std::fs::write(t.join("reg/r.yaml"), &fine).unwrap();
    if let Err(e) = monitoring::generate(&t.join("reg"), &templates) {
        panic!("refused:\n{e}");
    }
}

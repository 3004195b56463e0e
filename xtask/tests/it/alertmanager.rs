//! Alertmanager routing (judged by amtool) and inhibition (evaluated here from
//! the generated inhibit rules, since amtool routes one alert at a time).

use crate::common::*;

use serde_json::Value;
use std::collections::BTreeMap;

fn generated_config(reg: &std::path::Path) -> (TempDir, std::path::PathBuf) {
    let t = gen_into(reg);
    let file = t.join("alertmanager/alertmanager.yml");
    (t, file)
}

fn route(config: &std::path::Path, labels: &[&str]) -> String {
    let out = std::process::Command::new("amtool")
        .args([
            "config",
            "routes",
            "test",
            &format!("--config.file={}", config.display()),
        ])
        .args(labels)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
#[cfg_attr(
    not(has_amtool),
    ignore = "amtool not found (Debian package prometheus-alertmanager; `.ci/run --install-only` installs it)"
)]
fn amtool_accepts_the_config_of_every_registry() {
    if !require_tool("amtool", "prometheus-alertmanager") {
        return;
    }
    for reg in registries() {
        let (_t, file) = generated_config(&reg);
        let out = std::process::Command::new("amtool")
            .args(["check-config", &file.to_string_lossy()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}: {}", reg.display(), text(&out));
    }
}

#[test]
#[cfg_attr(
    not(has_amtool),
    ignore = "amtool not found (Debian package prometheus-alertmanager; `.ci/run --install-only` installs it)"
)]
fn alerts_reach_their_owners_receivers() {
    if !require_tool("amtool", "prometheus-alertmanager") {
        return;
    }
    let (_t, file) = generated_config(&example());
    assert_eq!(
        route(
            &file,
            &[
                "owner=backend-team",
                "severity=critical",
                "alertname=ServiceDown"
            ]
        ),
        "backend-team/paging"
    );
    assert_eq!(
        route(
            &file,
            &[
                "owner=backend-team",
                "severity=warning",
                "alertname=HighErrorRate"
            ]
        ),
        "backend-team"
    );
    assert_eq!(
        route(&file, &["owner=frontend-team", "severity=critical"]),
        "frontend-team/paging"
    );
    assert_eq!(
        route(&file, &["owner=unknown-team", "severity=critical"]),
        "_default"
    );
    assert_eq!(route(&file, &["severity=warning"]), "_default");
    // The automation loop: an alert with a repair action reaches the automation
    // webhook and still its team.
    assert_eq!(
        route(
            &file,
            &[
                "owner=backend-team",
                "severity=warning",
                "auto_repair=analyze_memory_leak"
            ]
        ),
        "_automation,backend-team"
    );
    // The rules carry the action as a label exactly when there is one.
    let g = monitoring::generate(&example(), &root().join("templates"))
        .unwrap_or_else(|e| panic!("{e}"));
    for rule in g.rules.services.values().flat_map(|gr| &gr.rules) {
        let action = &rule.annotations["auto_repair"];
        assert_eq!(
            rule.labels.contains_key("auto_repair"),
            action != "none",
            "{}",
            rule.alert
        );
    }
}

/// One inhibit rule, as Alertmanager evaluates it.
struct Inhibit {
    source: Vec<(String, String, String)>,
    target: Vec<(String, String, String)>,
    equal: Vec<String>,
}

/// Parses `name="v"`, `name!="v"`, `name=~"a|b"`, `name!~"a|b"` (the forms gen writes).
fn matcher(m: &str) -> (String, String, String) {
    for op in ["!~", "=~", "!=", "="] {
        if let Some((n, v)) = m.split_once(op) {
            return (
                n.to_owned(),
                op.to_owned(),
                serde_json::from_str::<String>(v).unwrap(),
            );
        }
    }
    panic!("matcher {m}");
}

fn matches(ms: &[(String, String, String)], labels: &BTreeMap<&str, &str>) -> bool {
    ms.iter().all(|(n, op, v)| {
        let l = labels.get(n.as_str()).copied().unwrap_or("");
        // gen writes regexes that are plain alternations of literals.
        let in_alt = v.split('|').any(|a| a == l);
        match op.as_str() {
            "=" => l == v,
            "!=" => l != v,
            "=~" => in_alt,
            _ => !in_alt,
        }
    })
}

fn inhibited(
    rules: &[Inhibit],
    target: &BTreeMap<&str, &str>,
    firing: &[BTreeMap<&str, &str>],
) -> bool {
    rules.iter().any(|r| {
        matches(&r.target, target)
            && firing.iter().any(|s| {
                s != target
                    && matches(&r.source, s)
                    && r.equal
                        .iter()
                        .all(|e| s.get(e.as_str()) == target.get(e.as_str()))
            })
    })
}

fn labels<'a>(pairs: &[(&'a str, &'a str)]) -> BTreeMap<&'a str, &'a str> {
    pairs.iter().copied().collect()
}

#[test]
fn inhibit_rules_silence_what_they_promise_and_nothing_else() {
    // An alert per burn-rate tier, whose inhibitions this checks too.
    let reg = TempDir::new("inhibit-tiers");
    copy_example(reg.path());
    let teams = std::fs::read_to_string(reg.join("teams.yaml")).unwrap();
    std::fs::write(
        reg.join("teams.yaml"),
        teams.replacen("\nsettings:\n", "\nsettings:\n  slo: {alerts: tiers}\n", 1),
    )
    .unwrap();
    let (_t, file) = generated_config(reg.path());
    let v: Value = serde_saphyr::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let list = |x: &Value| {
        x.as_array()
            .unwrap()
            .iter()
            .map(|m| matcher(m.as_str().unwrap()))
            .collect::<Vec<_>>()
    };
    let rules: Vec<Inhibit> = v["inhibit_rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Inhibit {
            source: list(&r["source_matchers"]),
            target: list(&r["target_matchers"]),
            equal: r["equal"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap().to_owned())
                .collect(),
        })
        .collect();

    let down_a = labels(&[
        ("alertname", "ServiceDown"),
        ("service", "redis"),
        ("severity", "critical"),
    ]);
    let mem_a = labels(&[
        ("alertname", "MemoryHigh"),
        ("service", "redis"),
        ("severity", "warning"),
    ]);
    let mem_b = labels(&[
        ("alertname", "MemoryHigh"),
        ("service", "postgres"),
        ("severity", "warning"),
    ]);
    assert!(
        inhibited(&rules, &mem_a, &[down_a.clone(), mem_a.clone()]),
        "ServiceDown silences the service's other alerts"
    );
    assert!(
        !inhibited(&rules, &mem_b, &[down_a.clone(), mem_b.clone()]),
        "but not another service's"
    );
    assert!(
        !inhibited(&rules, &down_a, std::slice::from_ref(&down_a)),
        "nor itself"
    );

    let crit = labels(&[
        ("alertname", "MemoryHigh"),
        ("service", "redis"),
        ("severity", "critical"),
    ]);
    assert!(
        inhibited(&rules, &mem_a, &[crit.clone(), mem_a.clone()]),
        "critical silences warning of the same alert and service"
    );
    let other_alert_crit = labels(&[
        ("alertname", "SlowQuery"),
        ("service", "redis"),
        ("severity", "critical"),
    ]);
    assert!(
        !inhibited(&rules, &mem_a, &[other_alert_crit]),
        "not of another alert"
    );

    let tier = |t: &'static str, path: &'static str| {
        labels(&[
            ("alertname", "SLOErrorBudgetBurn"),
            ("service", "awoooi-api"),
            ("method", "GET"),
            ("path", path),
            ("burnrate_tier", t),
            (
                "severity",
                if t == "fast" || t == "medium" {
                    "critical"
                } else {
                    "warning"
                },
            ),
        ])
    };
    let firing = [
        tier("fast", "/a"),
        tier("medium", "/a"),
        tier("slow", "/a"),
        tier("long", "/a"),
        tier("medium", "/b"),
    ];
    assert!(
        !inhibited(&rules, &tier("fast", "/a"), &firing),
        "the fastest tier stays"
    );
    for t in ["medium", "slow", "long"] {
        assert!(
            inhibited(&rules, &tier(t, "/a"), &firing),
            "{t} is silenced by the faster tier"
        );
    }
    assert!(
        !inhibited(&rules, &tier("medium", "/b"), &firing),
        "another route's tier is not silenced"
    );
    assert!(
        !inhibited(
            &rules,
            &tier("slow", "/b"),
            &[tier("fast", "/a"), tier("slow", "/b")]
        ),
        "a page on one route does not silence another route's ticket"
    );
}

/// A running Alertmanager, stopped when dropped.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts Alertmanager on `config` with its data and log (`am.log`) in
/// `dir`, on a free loopback port; returns it with its address once ready.
fn alertmanager(config: &std::path::Path, dir: &std::path::Path) -> (Running, String) {
    let addr = format!("127.0.0.1:{}", xtask::cmd::e2e::free_port().unwrap());
    let am = std::process::Command::new("prometheus-alertmanager")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.path={}", dir.join("am").display()))
        .arg(format!("--web.listen-address={addr}"))
        .arg("--cluster.listen-address=")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("am.log")).unwrap())
        .spawn()
        .unwrap();
    let am = Running(am);
    let ready = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        xtask::cmd::e2e::http("GET", &addr, "/-/ready", "").is_ok_and(|(c, _)| c == 200)
    });
    assert!(
        ready,
        "Alertmanager did not start: {}",
        std::fs::read_to_string(dir.join("am.log")).unwrap_or_default()
    );
    (am, addr)
}

/// The generated inhibitions on a real Alertmanager (API v2, alerts posted
/// with amtool): a page on one endpoint or service never silences another
/// target's ticket, and it does silence its own slower tiers and warnings.
#[test]
#[cfg_attr(
    not(all(has_amtool, has_alertmanager)),
    ignore = "amtool or Alertmanager not found (Debian package prometheus-alertmanager; `.ci/run --install-only` installs it)"
)]
fn a_real_alertmanager_inhibits_only_within_one_target() {
    let (t, file) = generated_config(&example());
    let (_am, addr) = alertmanager(&file, t.path());
    let slo = |tier: &str, path: &str, severity: &str| {
        vec![
            "alertname=SLOErrorBudgetBurn".to_owned(),
            "service=awoooi-api".into(),
            "owner=backend-team".into(),
            "slo=errors".into(),
            "method=GET".into(),
            format!("path={path}"),
            format!("burnrate_tier={tier}"),
            format!("severity={severity}"),
        ]
    };
    let alert = |name: &str, service: &str, severity: &str| {
        vec![
            format!("alertname={name}"),
            format!("service={service}"),
            "owner=backend-team".into(),
            format!("severity={severity}"),
        ]
    };
    let alerts = [
        ("fast /a", slo("fast", "/a", "critical")),
        ("slow /a", slo("slow", "/a", "warning")),
        ("slow /b", slo("slow", "/b", "warning")),
        (
            "critical memory of awoooi-api",
            alert("MemoryHigh", "awoooi-api", "critical"),
        ),
        (
            "warning memory of awoooi-api",
            alert("MemoryHigh", "awoooi-api", "warning"),
        ),
        (
            "warning memory of awoooi-worker",
            alert("MemoryHigh", "awoooi-worker", "warning"),
        ),
        // A host outage: one page (HostDown, to the platform owner) instead
        // of one per service on it.
        (
            "host 192.168.0.188 down",
            vec![
                "alertname=HostDown".to_owned(),
                "host=192.168.0.188".into(),
                "owner=devops-team".into(),
                "severity=critical".into(),
            ],
        ),
        (
            "redis down on that host",
            vec![
                "alertname=ServiceDown".to_owned(),
                "service=redis".into(),
                "host=192.168.0.188".into(),
                "owner=infra-team".into(),
                "severity=critical".into(),
            ],
        ),
        (
            "harbor down on another host",
            vec![
                "alertname=ServiceDown".to_owned(),
                "service=harbor".into(),
                "host=192.168.0.110".into(),
                "owner=devops-team".into(),
                "severity=critical".into(),
            ],
        ),
    ];
    for (_, labels) in &alerts {
        let o = std::process::Command::new("amtool")
            .arg("alert")
            .arg("add")
            .arg(format!("--alertmanager.url=http://{addr}"))
            .args(labels)
            .output()
            .unwrap();
        assert!(o.status.success(), "amtool alert add: {}", text(&o));
    }
    let expect = [
        ("fast /a", false),
        ("slow /a", true),
        ("slow /b", false),
        ("critical memory of awoooi-api", false),
        ("warning memory of awoooi-api", true),
        ("warning memory of awoooi-worker", false),
        ("host 192.168.0.188 down", false),
        ("redis down on that host", true),
        ("harbor down on another host", false),
    ];
    let state = |want: &[(&str, bool)]| -> Result<(), String> {
        let o = std::process::Command::new("amtool")
            .args([
                "-o",
                "json",
                "alert",
                "query",
                "--active",
                "--inhibited",
                "--silenced",
            ])
            .arg(format!("--alertmanager.url=http://{addr}"))
            .output()
            .map_err(|e| e.to_string())?;
        let listed: Vec<Value> =
            serde_json::from_slice(&o.stdout).map_err(|e| format!("{e}: {}", text(&o)))?;
        for (name, silenced) in want {
            let labels = &alerts.iter().find(|(n, _)| n == name).unwrap().1;
            let found = listed.iter().find(|a| {
                labels.iter().all(|l| {
                    let (k, v) = l.split_once('=').unwrap();
                    a["labels"][k] == v
                }) && a["labels"]
                    .as_object()
                    .is_some_and(|m| m.len() == labels.len())
            });
            let Some(a) = found else {
                return Err(format!("{name}: not listed"));
            };
            let inhibited = !a["status"]["inhibitedBy"]
                .as_array()
                .is_none_or(Vec::is_empty);
            if inhibited != *silenced {
                return Err(format!(
                    "{name}: inhibited is {inhibited}, expected {silenced}"
                ));
            }
        }
        Ok(())
    };
    // The inhibitor learns of new alerts asynchronously: poll briefly.
    let mut last = Err(String::new());
    for _ in 0..50 {
        last = state(&expect);
        if last.is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(last.is_ok(), "{}", last.unwrap_err());
}

/// Receivers teams use: every channel kind whose secret Alertmanager 0.25 reads
/// from a file renders a config amtool accepts, routed to the team (all alerts)
/// and its paging receiver (critical ones); kinds it can only take inline, and
/// e-mail without a mail server, are refused at their position.
#[test]
#[cfg_attr(
    not(has_amtool),
    ignore = "amtool not found (Debian package prometheus-alertmanager; `.ci/run --install-only` installs it)"
)]
fn every_channel_kind_with_a_file_secret_is_accepted_and_the_others_are_refused() {
    let t = TempDir::new("channels");
    let reg = t.join("reg");
    std::fs::create_dir_all(&reg).unwrap();
    std::fs::write(
        reg.join("r.yaml"),
        "teams:
  ops:
    notify:
      - slack: {api_url_file: /etc/alertmanager/secrets/slack, channel: '#ops'}
      - email: {to: ops@example.org}
      - webex: {room_id: room-1, credentials_file: /etc/alertmanager/secrets/webex}
    page:
      - pagerduty: {routing_key_file: /etc/alertmanager/secrets/pagerduty}
      - opsgenie: {api_key_file: /etc/alertmanager/secrets/opsgenie}
      - victorops: {api_key_file: /etc/alertmanager/secrets/victorops, routing_key: ops}
services:
  - {name: s, type: docker, host: 127.0.0.1, port: 80, health_endpoint: /h, owner: ops, alerts: [service_down]}
settings:
  alertmanager:
    smtp: {smarthost: 'mail.example.org:587', from: alerts@example.org, auth_username: alerts, auth_password_file: /etc/alertmanager/secrets/smtp}
",
    )
    .unwrap();
    let out = t.join("out");
    let o = on("gen", &reg, &out);
    assert!(o.status.success(), "{}", text(&o));
    let file = out.join("alertmanager/alertmanager.yml");
    let am = std::fs::read_to_string(&file).unwrap();
    for key in [
        "slack_configs",
        "email_configs",
        "webex_configs",
        "pagerduty_configs",
        "opsgenie_configs",
        "victorops_configs",
        "smtp_auth_password_file",
    ] {
        assert!(am.contains(key), "no {key} in\n{am}");
    }
    assert!(
        !am.contains(": True"),
        "booleans in YAML 1.2 spelling:\n{am}"
    );
    let o = std::process::Command::new("amtool")
        .args(["check-config"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(o.status.success(), "amtool: {}\n{am}", text(&o));
    assert_eq!(route(&file, &["owner=ops", "severity=warning"]), "ops");
    assert_eq!(
        route(&file, &["owner=ops", "severity=critical"]),
        "ops/paging"
    );

    for (channel, message) in [
        (
            "telegram: {bot_token: x, chat_id: 1}",
            "takes its bot token only inline",
        ),
        (
            "discord: {webhook_url: 'https://discord.com/api/webhooks/1/x'}",
            "takes its webhook URL only inline",
        ),
        ("msteams: {}", "Microsoft Teams"),
        ("wechat: {}", "WeChat"),
        ("email: {to: a@example.org}", "needs a mail server"),
    ] {
        std::fs::write(
            reg.join("r.yaml"),
            format!("teams:\n  ops:\n    webhook_url: http://127.0.0.1:1/x\n    page:\n      - {channel}\n"),
        )
        .unwrap();
        let o = on("gen", &reg, &t.join("refused"));
        let s = text(&o);
        assert_eq!(o.status.code(), Some(1), "{channel}: {s}");
        assert!(
            s.contains(message)
                && s.contains("--> reg/r.yaml:5:")
                && s.contains("(teams.ops.page[0])"),
            "{channel}: {s}"
        );
    }
}

/// What the loopback receivers got: HTTP (path, body) and SMTP transcripts.
type Inbox = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// A loopback HTTP receiver that answers 200 to every request and keeps
/// (path, body); or, with `smtp`, a mail server that accepts every message
/// and keeps ("smtp", the whole transcript).
fn receiver(smtp: bool, inbox: Inbox) -> u16 {
    use std::io::{BufRead, BufReader, Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let inbox = inbox.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                if smtp {
                    let mut log = String::new();
                    let _ = s.write_all(b"220 127.0.0.1 ESMTP\r\n");
                    let mut data = false;
                    while {
                        line.clear();
                        r.read_line(&mut line).is_ok_and(|n| n > 0)
                    } {
                        log.push_str(&line);
                        let reply: &[u8] = if data {
                            if line != ".\r\n" {
                                continue;
                            }
                            data = false;
                            b"250 ok\r\n"
                        } else {
                            match line.get(..4).map(str::to_ascii_uppercase).as_deref() {
                                Some("DATA") => {
                                    data = true;
                                    b"354 go on\r\n"
                                }
                                Some("QUIT") => b"221 bye\r\n",
                                _ => b"250 ok\r\n",
                            }
                        };
                        let _ = s.write_all(reply);
                        if reply.starts_with(b"221") {
                            break;
                        }
                    }
                    inbox.lock().unwrap().push(("smtp".into(), log));
                    return;
                }
                let _ = r.read_line(&mut line);
                let path = line.split(' ').nth(1).unwrap_or("").to_owned();
                let mut len = 0;
                loop {
                    line.clear();
                    if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                let _ = r.read_exact(&mut body);
                inbox
                    .lock()
                    .unwrap()
                    .push((path, String::from_utf8_lossy(&body).into_owned()));
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            });
        }
    });
    port
}

/// Alertmanager expands Go templates in a receiver's names and addresses:
/// registry strings there are data. A real Alertmanager delivers a Slack
/// channel, an e-mail recipient and sender, a Webex room and a VictorOps
/// routing key to loopback receivers exactly as the registry spells them,
/// `{{ … }}` included; and one with a lone `{{` (which, raw, made every
/// notification of its receiver fail) is delivered too.
#[test]
#[cfg_attr(
    not(all(has_amtool, has_alertmanager)),
    ignore = "amtool or Alertmanager not found (Debian package prometheus-alertmanager; `.ci/run --install-only` installs it)"
)]
fn a_real_alertmanager_delivers_registry_strings_literally() {
    let inbox: Inbox = Default::default();
    let http = receiver(false, inbox.clone());
    let smtp = receiver(true, inbox.clone());
    let t = TempDir::new("am-literal");
    let secret = |name: &str, body: &str| {
        let f = t.join(name);
        std::fs::write(&f, body).unwrap();
        f.to_string_lossy().into_owned()
    };
    let slack_url = secret("slack", &format!("http://127.0.0.1:{http}/slack"));
    let token = secret("token", "x");
    let channel = "#ops-{{ .CommonLabels.owner }}-{{ .ExternalURL }}";
    let broken = "#broken{{";
    let to = "ops{{.Status}}@example.org";
    let from = "alerts{{.Status}}@example.org";
    let room = "room-{{ .Status }}";
    let routing = "rk{{.Status}}";
    std::fs::create_dir_all(t.join("reg")).unwrap();
    std::fs::write(
        t.join("reg/r.yaml"),
        format!(
            "teams:
  ops:
    notify:
      - slack: {{api_url_file: '{slack_url}', channel: '{channel}'}}
      - slack: {{api_url_file: '{slack_url}', channel: '{broken}'}}
      - email: {{to: '{to}'}}
      - webex: {{room_id: '{room}', credentials_file: '{token}'}}
      - victorops: {{api_key_file: '{token}', routing_key: '{routing}'}}
services:
  - {{name: s, type: docker, host: 127.0.0.1, port: 80, health_endpoint: /h, owner: ops, alerts: [service_down]}}
settings:
  alertmanager:
    group_wait: 1s
    smtp: {{smarthost: '127.0.0.1:{smtp}', from: '{from}'}}
"
        ),
    )
    .unwrap();
    let out = t.join("out");
    let o = on("gen", &t.join("reg"), &out);
    assert!(o.status.success(), "{}", text(&o));
    // Where this machine's receivers are (production uses the services' own).
    let file = out.join("alertmanager/alertmanager.yml");
    let config = std::fs::read_to_string(&file).unwrap().replacen(
        "global:\n",
        &format!(
            "global:\n  smtp_require_tls: false\n  webex_api_url: http://127.0.0.1:{http}/webex\n  victorops_api_url: http://127.0.0.1:{http}/victorops/\n"
        ),
        1,
    );
    let file = t.join("am.yml");
    std::fs::write(&file, &config).unwrap();
    // The notification templates go beside the config, as deployed.
    std::fs::copy(
        out.join("alertmanager/notifications.tmpl"),
        t.join("notifications.tmpl"),
    )
    .unwrap();
    let (am, addr) = alertmanager(&file, t.path());
    let o = std::process::Command::new("amtool")
        .args([
            "alert",
            "add",
            "alertname=ServiceDown",
            "service=s",
            "owner=ops",
            "severity=warning",
        ])
        .arg(format!("--alertmanager.url=http://{addr}"))
        .output()
        .unwrap();
    assert!(o.status.success(), "amtool alert add: {}", text(&o));
    let got = |path: &str, needle: &str| {
        inbox
            .lock()
            .unwrap()
            .iter()
            .any(|(p, body)| p.starts_with(path) && body.contains(needle))
    };
    let json = |s: &str| serde_json::to_string(s).unwrap();
    let expected = [
        ("/slack", json(channel)),
        ("/slack", json(broken)),
        ("/webex", json(room)),
        ("smtp", format!("RCPT TO:<{to}>")),
        ("smtp", format!("MAIL FROM:<{from}>")),
    ];
    let delivered = (0..150).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        expected.iter().all(|(p, n)| got(p, n))
            && inbox
                .lock()
                .unwrap()
                .iter()
                .any(|(p, _)| p.starts_with("/victorops/"))
    });
    drop(am);
    let seen = inbox.lock().unwrap().clone();
    assert!(
        delivered,
        "not every receiver got the literal text; expected {expected:?}\nreceived {seen:#?}\nAlertmanager: {}",
        std::fs::read_to_string(t.join("am.log")).unwrap_or_default()
    );
    // VictorOps takes the routing key in the URL path.
    let victorops = seen
        .iter()
        .find(|(p, _)| p.starts_with("/victorops/"))
        .unwrap();
    assert_eq!(
        victorops.0,
        format!(
            "/victorops/x/{}",
            routing.replace('{', "%7B").replace('}', "%7D")
        )
    );
}

/// Without a default webhook, an alert of no team's route (owner-less, such
/// as a page without `owner`) reached `_default`, a receiver with no
/// integration: now it reaches the platform owner's receiver, and gen warns
/// only when there is no platform team either.
#[test]
#[cfg_attr(
    not(has_amtool),
    ignore = "amtool not found (Debian package prometheus-alertmanager; `.ci/run --install-only` installs it)"
)]
fn owner_less_alerts_reach_the_platform_owner() {
    if !require_tool("amtool", "prometheus-alertmanager") {
        return;
    }
    let reg = |defaults: &str| {
        let t = TempDir::new("ownerless");
        std::fs::write(
            t.join("r.yaml"),
            format!(
                "services:\n  - {{name: app, type: docker, host: 127.0.0.1, port: 8080, health_endpoint: /health, owner: team-a}}\npages:\n  - {{path: /, name: Home, alerts: [page_down]}}\nteams:\n  team-a: {{webhook_url: \"http://127.0.0.1:9095/a\"}}\n  platform: {{webhook_url: \"http://127.0.0.1:9095/p\"}}\n{defaults}settings:\n  pages_base_url: http://127.0.0.1:3000\n"
            ),
        )
        .unwrap();
        t
    };
    let with = reg("defaults:\n  platform_owner: platform\n");
    let (_out, config) = generated_config(with.path());
    assert_eq!(
        route(
            &config,
            &[
                "alertname=PageDown",
                "owner=unassigned",
                "severity=critical"
            ]
        ),
        "platform"
    );
    assert_eq!(
        route(
            &config,
            &["alertname=ServiceDown", "owner=team-a", "severity=critical"]
        ),
        "team-a/paging"
    );
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(!text.contains("_default"), "{text}");
    let out = TempDir::new("ownerless-out");
    let said = crate::common::text(&on("gen", with.path(), out.path()));
    assert!(!said.contains("reach no one"), "{said}");
    // No platform team: the warning says where owner-less alerts end.
    let without = reg("");
    let said = crate::common::text(&on("gen", without.path(), out.path()));
    assert!(
        said.contains("alerts of owners without a team route reach no one"),
        "{said}"
    );
}

/// Every receiver kind that takes text uses the generated templates, and
/// they render, for an alert the test owns (`data/notifications/`), what the
/// person woken needs: before, Slack and the others sent Alertmanager's
/// defaults (a Slack title and an empty text).
#[test]
#[cfg_attr(
    not(has_amtool),
    ignore = "amtool not found (Debian package prometheus-alertmanager; `.ci/run --install-only` installs it)"
)]
fn notifications_say_what_to_do_for_every_receiver_kind() {
    if !require_tool("amtool", "prometheus-alertmanager") {
        return;
    }
    let t = TempDir::new("notify");
    std::fs::write(
        t.join("r.yaml"),
        "teams:
  legacy:
    slack_api_url_file: /etc/alertmanager/secrets/legacy-slack
  ops:
    notify:
      - slack: {api_url_file: /etc/alertmanager/secrets/slack, channel: '#ops'}
      - email: {to: ops@example.org}
      - webex: {room_id: room-1, credentials_file: /etc/alertmanager/secrets/webex}
    page:
      - pagerduty: {routing_key_file: /etc/alertmanager/secrets/pagerduty}
      - opsgenie: {api_key_file: /etc/alertmanager/secrets/opsgenie}
      - victorops: {api_key_file: /etc/alertmanager/secrets/victorops, routing_key: ops}
services:
  - {name: s, type: docker, host: 127.0.0.1, port: 80, health_endpoint: /h, owner: ops}
settings:
  alertmanager:
    smtp: {smarthost: 'mail.example.org:587', from: alerts@example.org}
",
    )
    .unwrap();
    let out = gen_into(t.path());
    let dir = out.join("alertmanager");
    let config: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(dir.join("alertmanager.yml")).unwrap())
            .unwrap();
    assert_eq!(
        config["templates"],
        serde_json::json!(["notifications.tmpl"])
    );
    let data = root().join("xtask/tests/data/notifications/service-down.json");
    let render = |text: &str| {
        let o = std::process::Command::new("amtool")
            .args(["template", "render"])
            .arg(format!(
                "--template.glob={}",
                dir.join("notifications.tmpl").display()
            ))
            .arg(format!("--template.data={}", data.display()))
            .arg(format!("--template.text={text}"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{text}: {}", crate::common::text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let title = "[FIRING:1] ServiceDown · billing · host 10.0.0.5";
    let body = [
        "CRITICAL: billing is down",
        "The health check of billing has failed for 1m.",
        "owner: team-a · service: billing · target: http://10.0.0.5:8080/health",
        "started: 2026-12-03 03:04:05 UTC",
        "runbook: https://runbooks.example.org/billing",
        "dashboard: https://grafana.example.org/d/team-team-a-1234abcd?var-service=billing",
        "graph: http://prometheus:9090/graph?g0.expr=probe_success",
        "silence: http://alertmanager:9093/#/silences/new?filter=%7Balertname%3D%22ServiceDown%22%2C+service%3D%22billing%22%7D",
    ];
    // (kind, field of the title, field of the text)
    let kinds = [
        ("slack_configs", "title", "text"),
        ("email_configs", "headers.Subject", "text"),
        ("webex_configs", "message", "message"),
        ("pagerduty_configs", "description", "details.alerts"),
        ("opsgenie_configs", "message", "description"),
        ("victorops_configs", "entity_display_name", "state_message"),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for r in config["receivers"].as_array().unwrap() {
        for (kind, title_field, text_field) in kinds {
            for c in r[kind].as_array().into_iter().flatten() {
                let field = |path: &str| {
                    path.split('.')
                        .fold(c, |v, k| &v[k])
                        .as_str()
                        .unwrap_or_else(|| panic!("{kind} has no {path}: {c}"))
                        .to_owned()
                };
                assert!(render(&field(title_field)).contains(title), "{kind}");
                let text = render(&field(text_field));
                for line in body {
                    assert!(text.contains(line), "{kind}: no {line:?} in\n{text}");
                }
                seen.insert(kind);
            }
        }
    }
    assert_eq!(seen.len(), kinds.len(), "{seen:?}");
}

/// amlint, installed into `.tools/amlint` by `.ci/run`; missing, a visible
/// skip, and a failure under CI.
fn amlint() -> Option<std::path::PathBuf> {
    let local = root().join(".tools/amlint/bin/amlint");
    if local.exists() {
        return Some(local);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("amlint is missing under CI=true: .ci/run installs it into .tools/amlint");
    }
    eprintln!("SKIP: amlint not found (run .ci/run --install-only); this check runs in CI");
    None
}

/// amlint (the Alertmanager linter) finds nothing above info in the config
/// of every registry and fixture: before, the design fixture's had an empty
/// receiver per owner and `_default` (no integration: alerts silently
/// dropped).
#[test]
#[cfg_attr(
    not(has_amlint),
    ignore = "amlint not found (`.ci/run --install-only` installs it from PyPI)"
)]
fn amlint_finds_nothing_above_info_in_any_generated_config() {
    let Some(amlint) = amlint() else {
        return;
    };
    let fixtures = ["every-kind", "design"].map(|f| root().join("fixtures").join(f));
    for reg in registries().into_iter().chain(fixtures) {
        let (_out, config) = generated_config(&reg);
        let o = std::process::Command::new(&amlint)
            .arg("check")
            .arg(&config)
            .output()
            .unwrap();
        let said = text(&o);
        let above_info: Vec<&str> = said
            .lines()
            .filter(|l| l.contains("WARN") || l.contains("ERROR"))
            .collect();
        assert!(above_info.is_empty(), "{}:\n{said}", reg.display());
        assert!(
            said.contains("info") || said.contains("No issues"),
            "amlint said: {said}"
        );
    }
}

/// The dead man's switch hears the Watchdog every `repeat_interval`, not
/// every second one: a real Alertmanager on the generated config, a
/// Watchdog posted to it, the pings counted at a loopback listener. With
/// the route's `group_interval` equal to `repeat_interval` (before),
/// Alertmanager repeats only on every second flush: 2 s became 4 s.
#[test]
#[cfg_attr(
    not(has_alertmanager),
    ignore = "Alertmanager not found (Debian package prometheus-alertmanager; `.ci/run --install-only` installs it)"
)]
fn the_heartbeat_arrives_every_repeat_interval() {
    if !require_tool("prometheus-alertmanager", "prometheus-alertmanager") {
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let t = TempDir::new("heartbeat");
    std::fs::write(
        t.join("r.yaml"),
        format!(
            "services:
  - {{name: s, type: docker, host: 127.0.0.1, port: 80, health_endpoint: /h, owner: ops}}
teams:
  ops: {{webhook_url: 'http://127.0.0.1:9/ops'}}
defaults: {{platform_owner: ops}}
settings:
  alertmanager:
    heartbeat: {{url: 'http://127.0.0.1:{port}/ping', repeat_interval: 2s}}
"
        ),
    )
    .unwrap();
    let (out, file) = generated_config(t.path());
    let (_am, addr) = alertmanager(&file, out.path());
    let pings = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    {
        let pings = pings.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let mut buf = [0u8; 65536];
                let _ = std::io::Read::read(&mut s, &mut buf);
                pings.lock().unwrap().push(std::time::Instant::now());
                let _ = std::io::Write::write_all(
                    &mut s,
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
    }
    let ends = "2099-01-01T00:00:00Z";
    let (code, body) = xtask::cmd::e2e::http(
        "POST",
        &addr,
        "/api/v2/alerts",
        &format!(
            r#"[{{"labels": {{"alertname": "Watchdog", "severity": "none"}}, "endsAt": "{ends}"}}]"#
        ),
    )
    .unwrap();
    assert_eq!(code, 200, "{body}");
    std::thread::sleep(std::time::Duration::from_secs(13));
    let p = pings.lock().unwrap().clone();
    let gaps: Vec<f64> = p.windows(2).map(|w| (w[1] - w[0]).as_secs_f64()).collect();
    assert!(
        p.len() >= 5,
        "{} pings in 13 s at a 2 s repeat_interval, gaps {gaps:?}",
        p.len()
    );
    assert!(
        gaps.iter().all(|g| *g < 3.2),
        "gaps {gaps:?} (a repeat of 2 s)"
    );
}

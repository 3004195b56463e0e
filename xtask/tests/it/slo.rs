//! The SLO rules' behaviour over time, judged by promtool on the generated
//! rule files: the period figures hold through idle hours, Sloth's page
//! shape turns a spike into one page, and a stray error pages nobody.

use crate::common::*;

/// Runs promtool's unit tests in `test` (YAML after `rule_files`) against the
/// generated SLO rules of `settings` plus `extra` rules.
fn promtool_test(settings: &str, extra: &str, test: &str) -> Result<(), String> {
    promtool_test_on(&one_slo_registry(settings, ""), extra, test)
}

/// `promtool_test` on the SLO rules of any registry with an endpoint
/// `GET /x` of service `api`.
fn promtool_test_on(reg: &TempDir, extra: &str, test: &str) -> Result<(), String> {
    let out = gen_into(reg.path());
    let rules = out.join("prometheus/slo/api.rules.yml");
    std::fs::write(out.join("extra.rules.yml"), extra).unwrap();
    let file = out.join("t.test.yml");
    std::fs::write(
        &file,
        format!(
            "rule_files: [{}, extra.rules.yml]\nevaluation_interval: 1m\n{test}",
            serde_json::to_string(&rules.to_string_lossy()).unwrap()
        ),
    )
    .unwrap();
    let run = std::process::Command::new("promtool")
        .args(["test", "rules", &file.to_string_lossy()])
        .current_dir(out.path())
        .output()
        .unwrap();
    if run.status.success() {
        Ok(())
    } else {
        Err(text(&run))
    }
}

/// Half an hour of traffic at 1 % errors, then two idle hours: the 5-minute
/// ratio is 0/0 = NaN while idle, so a period figure averaged over it (as
/// Sloth computes it) is NaN for the whole period; the traffic-weighted one
/// stays 10 (1 % over a 0.1 % budget) and the budget remaining -9.
#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus; `.ci/run --install-only` installs it)"
)]
fn period_figures_hold_through_idle_hours() {
    if !require_tool("promtool", "prometheus") {
        return;
    }
    let sel = r#"service="api", method="GET", path="/x", slo="error""#;
    let test = format!(
        r#"tests:
  - interval: 1m
    input_series:
      - series: 'http_requests_total{{service="api", method="GET", path="/x", status="500"}}'
        values: '0+1x30 30x150'
      - series: 'http_requests_total{{service="api", method="GET", path="/x", status="200"}}'
        values: '0+99x30 2970x150'
    promql_expr_test:
      # Idle now: the 5m ratio is NaN, and an average over it is NaN too.
      - expr: 'count(avg_over_time(slo:sli_error:ratio_rate5m{{{sel}}}[30d]) != avg_over_time(slo:sli_error:ratio_rate5m{{{sel}}}[30d]))'
        eval_time: 170m
        exp_samples: [{{labels: '{{}}', value: 1}}]
      - expr: 'abs(slo:period_burn_rate:ratio{{{sel}}} - 10) < bool 1e-6'
        eval_time: 170m
        exp_samples: [{{labels: '{{method="GET", path="/x", service="api", slo="error", slo_rules="shared"}}', value: 1}}]
      - expr: 'abs(slo:period_error_budget_remaining:ratio{{{sel}}} + 9) < bool 1e-6'
        eval_time: 170m
        exp_samples: [{{labels: '{{method="GET", path="/x", service="api", slo="error", slo_rules="shared"}}', value: 1}}]
      - expr: 'slo:objective:ratio{{{sel}}}'
        eval_time: 170m
        exp_samples: [{{labels: 'slo:objective:ratio{{method="GET", path="/x", service="api", slo="error", slo_rules="shared"}}', value: 0.999}}]
      - expr: 'slo_info{{{sel}}}'
        eval_time: 170m
        exp_samples: [{{labels: 'slo_info{{events="middleware", method="GET", objective="99.9", owner="team-a", path="/x", period="30d", service="api", slo="error", slo_rules="shared"}}', value: 1}}]
"#
    );
    promtool_test("  slo_period: 30d\n", "groups: []\n", &test).unwrap();
}

/// Critical SLO alerts seen over 90 minutes of a 10-minute spike (100 % errors
/// at 10 requests a minute): how many distinct alerts, and how many times
/// "some page is firing" switched on or off.
const SPIKE: &str = r#"tests:
  - interval: 1m
    input_series:
      - series: 'http_requests_total{service="api", method="GET", path="/x", status="500"}'
        values: '0x60 0+10x10 100x80'
      - series: 'http_requests_total{service="api", method="GET", path="/x", status="200"}'
        values: '0+10x60 600x90'
    promql_expr_test:
      - expr: 'count(count_over_time(ALERTS{alertname="SLOErrorBudgetBurn", severity="critical", alertstate="firing"}[150m]))'
        eval_time: 150m
        exp_samples: [{labels: '{}', value: ALERTS}]
      - expr: 'changes(paging[150m])'
        eval_time: 150m
        exp_samples: [{labels: '{}', value: CHANGES}]
"#;

const PAGING: &str = "groups:
  - name: paging
    rules:
      - record: paging
        expr: count(ALERTS{alertname=\"SLOErrorBudgetBurn\", severity=\"critical\", alertstate=\"firing\"}) or vector(0)
";

fn spike(alerts: u32, changes: u32) -> String {
    SPIKE
        .replace("ALERTS}", &format!("{alerts}}}"))
        .replace("CHANGES}", &format!("{changes}}}"))
}

/// With an alert per tier the spike pages twice (fast, then medium, as two
/// alerts); with Sloth's page shape it is one alert and one episode.
#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus; `.ci/run --install-only` installs it)"
)]
fn the_page_ticket_shape_pages_once_per_spike() {
    if !require_tool("promtool", "prometheus") {
        return;
    }
    let tiers = "  burn_rate_for: {medium: 2m}\n  slo:\n    alerts: tiers\n";
    promtool_test(tiers, PAGING, &spike(2, 3)).unwrap();
    // The default shape.
    let shaped = "  burn_rate_for: {medium: 2m}\n";
    promtool_test(shaped, PAGING, &spike(1, 2)).unwrap();
}

/// Six hours of a 99.99 % endpoint fed only by a probe (4 requests a minute)
/// with one 5xx at minute 31, or all failing from minute 30: how many SLO
/// alerts fired at all (a page and a ticket are one each).
fn probe_fed(settings: &str, all_failing: bool, alerts: u32) -> Result<(), String> {
    let reg = one_slo_registry(settings, "");
    let r = reg.join("r.yaml");
    let yaml = std::fs::read_to_string(&r).unwrap();
    std::fs::write(
        &r,
        yaml.replace("slo_availability: 99.9\n", "slo_availability: 99.99\n"),
    )
    .unwrap();
    let (bad, good) = if all_failing {
        ("0x30 0+4x330", "0+4x30 120x330")
    } else {
        ("0x30 1x330", "0+4x360")
    };
    let test = format!(
        r#"tests:
  - interval: 1m
    input_series:
      - series: 'http_requests_total{{service="api", method="GET", path="/x", status="500"}}'
        values: '{bad}'
      - series: 'http_requests_total{{service="api", method="GET", path="/x", status="200"}}'
        values: '{good}'
    promql_expr_test:
      - expr: 'count(count_over_time(ALERTS{{alertname=~"SLO.*", alertstate="firing"}}[6h])) or vector(0)'
        eval_time: 360m
        exp_samples: [{{labels: '{{}}', value: {alerts}}}]
"#
    );
    promtool_test_on(&reg, "groups: []\n", &test)
}

/// One 5xx among a probe's requests burns a 99.99 % budget 500x over five
/// minutes: without a floor it pages and files a ticket; with the default
/// floor of 3 bad events it does neither, while the same endpoint failing
/// every request still pages (and tickets).
#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus; `.ci/run --install-only` installs it)"
)]
fn one_error_on_a_probe_fed_endpoint_pages_nobody() {
    if !require_tool("promtool", "prometheus") {
        return;
    }
    // One error at minute 31, the rest good.
    probe_fed("  slo: {min_bad_events: 0}\n", false, 2).unwrap();
    probe_fed("", false, 0).unwrap();
    // Every request failing from minute 30.
    probe_fed("", true, 2).unwrap();
}

/// Every metrics preset's rules pass their generated unit tests, whose input
/// series use the preset's names (a rule reading the wrong name fails them).
#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus; `.ci/run --install-only` installs it)"
)]
fn every_metrics_preset_passes_its_generated_tests() {
    if !require_tool("promtool", "prometheus") {
        return;
    }
    for preset in registry::sli::HttpMetrics::preset_names() {
        let reg = one_slo_registry(
            &format!(
                "  slo:\n    metrics: {{preset: {preset}}}\n    budget_exhausted_alert: critical\n"
            ),
            "    slo_latency_ms: 250\n",
        );
        let out = gen_into(reg.path());
        let rules = std::fs::read_to_string(out.join("prometheus/slo/api.rules.yml")).unwrap();
        let m = registry::sli::HttpMetrics::preset(preset).unwrap();
        assert!(
            rules.contains(&m.duration) && rules.contains(&m.route_label),
            "{preset}"
        );
        let tests = out.join("prometheus/tests/slo/api.test.yml");
        promtool_ok(
            ["test".as_ref(), "rules".as_ref(), tests.as_os_str()],
            None,
            preset,
        );
        let t = std::fs::read_to_string(&tests).unwrap();
        assert!(
            t.contains("SLOErrorBudgetExhausted"),
            "{preset}: the budget alert is tested"
        );
    }
}

/// A service whose endpoints mostly share rules, and one (`/health`) with a
/// traffic floor, only the slow tier and an owner of its own.
const NEIGHBOURS: &str = r#"services:
  - name: api
    type: docker
    host: 127.0.0.1
    port: 8080
    health_endpoint: /health
    monitoring: {prometheus: true}
    owner: team-a
api_endpoints:
  - {path: /a, method: GET, service: api, slo_availability: 99.9}
  - {path: /b, method: GET, service: api, slo_availability: 99.9, slo_latency_ms: 250}
  - path: /health
    method: GET
    service: api
    slo_availability: 99.99
    min_request_rate: 1
    burn_rate_tiers: [slow]
    owner: team-b
teams:
  team-a: {webhook_url: "http://127.0.0.1:9095/a"}
  team-b: {webhook_url: "http://127.0.0.1:9095/b"}
defaults:
  platform_owner: team-a
"#;

/// The firing SLO alerts after `minutes` of `/health` (and `/a`) traffic at
/// `per_minute` requests with `bad_per_minute` of them 5xx, as
/// `Name owner severity path [count]` (alerts of several tiers count apart).
fn neighbours_drill(
    series: &[(&str, u32, u32)],
    minutes: u32,
    expected: &[&str],
) -> Result<(), String> {
    let reg = TempDir::new("slo-neighbours");
    std::fs::write(reg.join("r.yaml"), NEIGHBOURS).unwrap();
    let out = gen_into(reg.path());
    let mut input = String::new();
    for (path, per_minute, bad) in series {
        for (status, n) in [("500", *bad), ("200", per_minute - bad)] {
            input.push_str(&format!(
                "      - series: 'http_requests_total{{service=\"api\", method=\"GET\", path=\"{path}\", status=\"{status}\"}}'\n        values: '0+{n}x{minutes}'\n"
            ));
        }
    }
    let mut samples = String::new();
    for e in expected {
        let (name, owner, severity, path, n) = match e.split(' ').collect::<Vec<_>>()[..] {
            [a, o, s, p] => (a, o, s, p, "1"),
            [a, o, s, p, n] => (a, o, s, p, n),
            _ => panic!("{e}: write `Name owner severity path [count]`"),
        };
        samples.push_str(&format!(
            "          - labels: '{{alertname=\"{name}\", owner=\"{owner}\", severity=\"{severity}\", path=\"{path}\"}}'\n            value: {n}\n"
        ));
    }
    let test = format!(
        "rule_files: [slo/api.rules.yml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n{input}    promql_expr_test:\n      - expr: 'count by (alertname, owner, severity, path) (ALERTS{{alertstate=\"firing\"}})'\n        eval_time: {minutes}m\n        exp_samples:\n{samples}"
    );
    std::fs::write(out.join("prometheus/neighbours.test.yml"), test).unwrap();
    let run = std::process::Command::new("promtool")
        .args(["test", "rules", "neighbours.test.yml"])
        .current_dir(out.join("prometheus"))
        .output()
        .unwrap();
    if run.status.success() {
        Ok(())
    } else {
        Err(text(&run))
    }
}

/// An endpoint's own floor, tiers and owner hold beside endpoints of the same
/// service that share rules: before, the shared alerts joined its budget too
/// (selected by `service` alone), so one request a minute paged the
/// service's team on tiers the endpoint had switched off.
#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus; `.ci/run --install-only` installs it)"
)]
fn an_endpoints_own_slo_settings_hold_beside_neighbours_that_share_rules() {
    if !require_tool("promtool", "prometheus") {
        return;
    }
    // Below its floor (1 request a minute, all failing): no page.
    neighbours_drill(&[("/health", 1, 1), ("/a", 60, 0)], 90, &[]).unwrap();
    // Above its floor, 10 % failing: only the slow tier it keeps, to team-b
    // (the floor reads the tier's day-long window: 100 requests a second
    // clear it within the hour).
    neighbours_drill(
        &[("/health", 6000, 600), ("/a", 60, 0)],
        150,
        &["SLOErrorBudgetBurn team-b warning /health"],
    )
    .unwrap();
    // A sharing neighbour still pages its team, alone, once (the page
    // covers the fast and medium tiers).
    neighbours_drill(
        &[("/health", 6000, 0), ("/a", 60, 30)],
        30,
        &["SLOErrorBudgetBurn team-a critical /a"],
    )
    .unwrap();
}

/// The SLO board's paging-window panels read the burn rate that pages: at
/// 1 % errors against a 0.1 % budget, 10x over the hour, for the query as
/// the dashboard holds it (all services and SLIs picked).
#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus; `.ci/run --install-only` installs it)"
)]
fn the_slo_board_shows_the_burn_rate_of_the_paging_windows() {
    if !require_tool("promtool", "prometheus") {
        return;
    }
    let reg = one_slo_registry("", "");
    let out = gen_into(reg.path());
    let board: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("grafana/dashboards/slo.json")).unwrap(),
    )
    .unwrap();
    let panel = board["panels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("fast tier"))
        })
        .expect("a fast-tier panel on the SLO board");
    let line = panel["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"].as_f64();
    assert_eq!(line, Some(14.4), "the fast tier's factor as its red line");
    let expr = panel["targets"][0]["expr"]
        .as_str()
        .unwrap()
        .replace("=~\"$service\"", "=~\".*\"")
        .replace("=~\"$slo\"", "=~\"error\"");
    let test = format!(
        r#"tests:
  - interval: 1m
    input_series:
      - series: 'http_requests_total{{service="api", method="GET", path="/x", status="500"}}'
        values: '0+1x90'
      - series: 'http_requests_total{{service="api", method="GET", path="/x", status="200"}}'
        values: '0+99x90'
    promql_expr_test:
      - expr: {}
        eval_time: 80m
        exp_samples: [{{labels: '{{}}', value: 1}}]
"#,
        serde_json::to_string(&format!("count(abs(({expr}) - 10) < 1e-6)")).unwrap()
    );
    promtool_test("", "groups: []\n", &test).unwrap();
}

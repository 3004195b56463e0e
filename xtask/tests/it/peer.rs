//! Proof against the peer: the same SLO through our rules and through the
//! rules slokit (a Sloth-compatible generator) writes, on the same promtool
//! input series. Both page on the same incidents and resolve pages together;
//! ours pages no later than slokit plus the page tiers' `for` (15m, medium)
//! and tickets no later than slokit plus theirs (3h, long), and resolves
//! tickets no later; neither pages below the page tiers' burn rate; at exactly
//! 1x the budget slokit's ticket flaps on rounding while ours stays quiet; and
//! `min_request_rate` stops the one-request page slokit sends.

use crate::common::*;

const SPEC: &str = r#"version: "prometheus/v1"
service: "api"
labels:
  owner: "team-a"
slos:
  - name: "get-x"
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="api",method="GET",path="/x",status=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="api",method="GET",path="/x"}[{{.window}}]))
    alerting:
      name: SlokitBurn
      page_alert:
        labels: {severity: critical}
      ticket_alert:
        labels: {severity: warning}
"#;

/// Whether either rule set pages or tickets right now.
const COMPARE: &str = r#"groups:
  - name: compare
    rules:
      - record: ours:page
        expr: count(ALERTS{alertname="SLOErrorBudgetBurn", severity="critical", alertstate="firing"}) or vector(0)
      - record: theirs:page
        expr: count(ALERTS{alertname="SlokitBurn", severity="critical", alertstate="firing"}) or vector(0)
      - record: ours:ticket
        expr: count(ALERTS{alertname="SLOErrorBudgetBurn", severity="warning", alertstate="firing"}) or vector(0)
      - record: theirs:ticket
        expr: count(ALERTS{alertname="SlokitBurn", severity="warning", alertstate="firing"}) or vector(0)
"#;

const MINUTES: usize = 300;

/// Errors and successes per minute for each minute of the scenario.
struct Scenario {
    name: &'static str,
    traffic: fn(usize) -> (u64, u64),
    /// Whether both page.
    page: bool,
    /// Whether ours tickets, and whether slokit does.
    ticket: (bool, bool),
}

const SCENARIOS: [Scenario; 7] = [
    Scenario {
        name: "a 30-minute outage",
        traffic: |m| {
            if (60..90).contains(&m) {
                (60, 0)
            } else {
                (0, 60)
            }
        },
        page: true,
        ticket: (true, true),
    },
    Scenario {
        name: "2 % errors (20x the budget)",
        traffic: |m| if m >= 60 { (6, 294) } else { (0, 300) },
        page: true,
        ticket: (true, true),
    },
    Scenario {
        name: "0.5 % errors (5x: a ticket, no page)",
        traffic: |m| if m >= 60 { (3, 597) } else { (0, 600) },
        page: false,
        ticket: (true, true),
    },
    Scenario {
        name: "a 10-minute spike",
        traffic: |m| {
            if (60..70).contains(&m) {
                (60, 0)
            } else {
                (0, 60)
            }
        },
        page: true,
        ticket: (true, true),
    },
    Scenario {
        name: "1 request a minute, one of them failing",
        traffic: |m| if m == 120 { (1, 0) } else { (0, 1) },
        page: true,
        ticket: (true, true),
    },
    Scenario {
        name: "exactly 1x the budget",
        traffic: |_| (1, 999),
        page: false,
        ticket: (false, true),
    },
    Scenario {
        name: "no traffic",
        traffic: |_| (0, 0),
        page: false,
        ticket: (false, false),
    },
];

/// promtool's explicit values: the counter after each minute.
fn counter(per_minute: impl Fn(usize) -> u64) -> String {
    let mut total = 0;
    let mut out = vec!["0".to_owned()];
    for m in 0..MINUTES {
        total += per_minute(m);
        out.push(total.to_string());
    }
    out.join(" ")
}

fn check(expr: &str, want: u32) -> String {
    format!(
        "      - expr: '{expr}'\n        eval_time: {}m\n        exp_samples: [{{labels: '{{}}', value: {want}}}]\n",
        MINUTES
    )
}

/// The promtool cases of one scenario, with the relationship it must show.
fn case(s: &Scenario, ours_quiet: bool) -> String {
    let range = format!("[{MINUTES}m:1m]");
    let first =
        |who: &str, what: &str| format!("min_over_time(timestamp({who}:{what} > 0){range})");
    let last = |who: &str, what: &str| format!("max_over_time(timestamp({who}:{what} > 0){range})");
    let fired = |who: &str, what: &str| format!("max_over_time({who}:{what}[{MINUTES}m]) > bool 0");
    let mut t = format!(
        "  # {}\n  - interval: 1m\n    input_series:\n      - series: 'http_requests_total{{service=\"api\", method=\"GET\", path=\"/x\", status=\"500\"}}'\n        values: '{}'\n      - series: 'http_requests_total{{service=\"api\", method=\"GET\", path=\"/x\", status=\"200\"}}'\n        values: '{}'\n    promql_expr_test:\n",
        s.name,
        counter(|m| (s.traffic)(m).0),
        counter(|m| (s.traffic)(m).1),
    );
    t.push_str(&check(&fired("theirs", "page"), u32::from(s.page)));
    t.push_str(&check(&fired("theirs", "ticket"), u32::from(s.ticket.1)));
    if ours_quiet {
        t.push_str(&check(&fired("ours", "page"), 0));
        return t;
    }
    // (what, ours fires, both fire, the longest `for` of its tiers)
    let kinds = [
        ("page", s.page, s.page, 15 * 60),
        ("ticket", s.ticket.0, s.ticket.0 && s.ticket.1, 3 * 3600),
    ];
    for (what, ours, both, for_seconds) in kinds {
        t.push_str(&check(&fired("ours", what), u32::from(ours)));
        if !both {
            continue;
        }
        // No later than the peer plus the tier's `for` (and one evaluation).
        t.push_str(&check(
            &format!(
                "{} - {} <= bool {}",
                first("ours", what),
                first("theirs", what),
                for_seconds + 60
            ),
            1,
        ));
        // Pages resolve with the peer's (within one evaluation); tickets no
        // later (a slow tier still in its `for` resolves sooner).
        let resolved = if what == "page" {
            format!(
                "abs({} - {}) <= bool 60",
                last("ours", what),
                last("theirs", what)
            )
        } else {
            format!(
                "{} - {} <= bool 60",
                last("ours", what),
                last("theirs", what)
            )
        };
        t.push_str(&check(&resolved, 1));
    }
    t
}

fn run(settings: &str, endpoint: &str, scenarios: &[(&Scenario, bool)]) {
    let slokit = match require_slokit() {
        Some(b) => b,
        None => return,
    };
    let out = gen_into(one_slo_registry(settings, endpoint).path());
    std::fs::write(out.join("spec.yml"), SPEC).unwrap();
    let generated = std::process::Command::new(&slokit)
        .args(["generate", "-i", "spec.yml", "-o", "slokit.rules.yml"])
        .current_dir(out.path())
        .output()
        .unwrap();
    assert!(generated.status.success(), "{}", text(&generated));
    std::fs::write(out.join("compare.rules.yml"), COMPARE).unwrap();
    let mut test = String::from(
        "rule_files: [prometheus/slo/api.rules.yml, slokit.rules.yml, compare.rules.yml]\nevaluation_interval: 1m\ntests:\n",
    );
    for (s, quiet) in scenarios {
        test.push_str(&case(s, *quiet));
    }
    std::fs::write(out.join("peer.test.yml"), test).unwrap();
    promtool_ok(
        ["test", "rules", "peer.test.yml"],
        Some(out.path()),
        "peer cases",
    );
}

#[test]
#[cfg_attr(
    not(all(has_promtool, has_slokit)),
    ignore = "promtool or slokit not found (slokit, the SLO peer, comes from crates.io: `cargo test -- --ignored` installs it once into target/peers, about 3 minutes; CI=true always runs this)"
)]
fn our_alerts_keep_the_peers_timing() {
    if !require_tool("promtool", "prometheus") {
        return;
    }
    // The one exception: the lone failure at one request a minute, which
    // the default floor (`slo.min_bad_events: 3`) keeps from paging.
    run(
        "  slo_period: 30d\n",
        "",
        &SCENARIOS
            .iter()
            .enumerate()
            .map(|(i, s)| (s, i == 4))
            .collect::<Vec<_>>(),
    );
}

/// With `min_request_rate: 0.1` (6 requests a minute) the lone failure at
/// one request a minute pages with slokit and not with ours.
#[test]
#[cfg_attr(
    not(all(has_promtool, has_slokit)),
    ignore = "promtool or slokit not found (slokit, the SLO peer, comes from crates.io: `cargo test -- --ignored` installs it once into target/peers, about 3 minutes; CI=true always runs this)"
)]
fn min_request_rate_stops_the_one_request_page() {
    if !require_tool("promtool", "prometheus") {
        return;
    }
    // Without the bad-events floor, which alone would keep it quiet too.
    run(
        "  slo_period: 30d\n  slo: {min_bad_events: 0}\n",
        "    min_request_rate: 0.1\n",
        &[(&SCENARIOS[4], true)],
    );
}

//! What an objective's own rules and the rules a service's endpoints share
//! are both built from: the SLIs, the burn-rate tiers as planned, and the
//! burn-rate and budget alerts.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::plan::rule::{Rule, RuleTest};
use crate::templates::filters::gotmpl_str;
use registry::Registry;
use registry::settings::Settings;
use registry::syntax::percent_encode_query;

/// How long the budget-exhausted alert waits: long enough that a period
/// figure hovering at zero does not flap.
pub(crate) const BUDGET_EXHAUSTED_FOR: &str = "15m";

/// The two SLIs: what counts as a bad request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sli {
    Errors,
    Latency,
}

impl Sli {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Sli::Errors => "error",
            Sli::Latency => "latency",
        }
    }

    /// The recorded share of bad events over `window`, named as Sloth names
    /// it (`slo:sli_error:ratio_rate5m`), so dashboards built for Sloth read it.
    pub(crate) fn record(self, window: &str) -> String {
        format!("slo:sli_{}:ratio_rate{window}", self.name())
    }

    pub(super) fn alert(self) -> &'static str {
        match self {
            Sli::Errors => "SLOErrorBudgetBurn",
            Sli::Latency => "SLOLatencyBudgetBurn",
        }
    }
}

/// One burn-rate tier of one SLO, for the plan.
#[derive(Debug, Clone, Serialize)]
pub struct TierPlan {
    pub tier: &'static str,
    pub factor: f64,
    pub long: &'static str,
    pub short: &'static str,
    pub severity: &'static str,
    #[serde(rename = "for")]
    pub for_: String,
}

pub(super) fn human_duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// The comparison that keeps a tier quiet below `slo.min_bad_events` bad
/// events in its short window, applied to a bad-events rate (per second):
/// `* 300 >= 3`. None when the setting is 0.
pub(super) fn bad_events_floor(st: &Settings, tier: &TierPlan) -> Option<String> {
    let n = st.slo.min_bad_events;
    let seconds = registry::syntax::duration_hours(tier.short)? * 3600.0;
    (n > 0.0).then(|| format!("* {seconds} >= {n}"))
}

/// What a burn-rate alert says of its target, for an objective's own rules
/// and for a service's shared ones.
pub(super) struct BurnText {
    /// Who burns, at the start of the summary (Go-template escaped).
    pub subject: String,
    /// Which requests are bad.
    pub what: String,
    /// Whose budget, for the description.
    pub budget: String,
}

/// The burn-rate alert of one SLI over `tiers` (one tier, or a page or
/// ticket's two) from each tier's condition (`branches`): `or` of them, the
/// tier names as `burnrate_tier`, the first tier's `for`.
#[allow(clippy::too_many_arguments)]
pub(super) fn burn_rule(
    st: &Settings,
    tiers: &[TierPlan],
    sli: Sli,
    branches: &[String],
    text: BurnText,
    labels: &mut BTreeMap<String, String>,
    links: &Links,
    exporter: String,
    test: RuleTest,
) -> Rule {
    let expr = if branches.len() == 1 {
        branches[0].clone()
    } else {
        branches
            .iter()
            .map(|b| format!("({b})"))
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let tier = tiers.iter().map(|t| t.tier).collect::<Vec<_>>().join("+");
    labels.insert("burnrate_tier".into(), tier.clone());
    let windows = tiers
        .iter()
        .map(|t| format!("{}x over {} and {}", t.factor, t.long, t.short))
        .collect::<Vec<_>>()
        .join(", or ");
    // The alert's value: the long window's share of the tier that fired.
    let longs = tiers
        .iter()
        .map(|t| t.long)
        .collect::<Vec<_>>()
        .join(" (or ");
    let longs = format!("{longs}{}", ")".repeat(tiers.len() - 1));
    let f = tiers[0].factor;
    let lasts = human_duration(st.slo_period_hours * 3600.0 / f);
    let mut annotations = BTreeMap::from([
        (
            "summary".to_owned(),
            format!(
                "{}: {} budget burning {f}x ({tier} tier)",
                text.subject,
                sli.name()
            ),
        ),
        (
            "description".to_owned(),
            format!(
                "The share of requests {} is {{{{ $value | humanizePercentage }}}} over the last {longs}, above {} times {windows}; at {f}x the {} budget is gone in {lasts}.",
                text.what, text.budget, st.slo_period
            ),
        ),
        ("auto_repair".to_owned(), "none".to_owned()),
    ]);
    links.annotate(sli, &mut annotations);
    let shape = if tiers.len() == 1 {
        tiers[0].tier
    } else if tiers[0].severity == "critical" {
        "page"
    } else {
        "ticket"
    };
    Rule {
        threshold: None,
        name: format!("slo_{}_{shape}", sli.name()),
        exporter,
        alert: sli.alert().into(),
        expr,
        for_: tiers[0].for_.clone(),
        labels: std::mem::take(labels).into(),
        annotations: annotations.into(),
        test: Some(test),
    }
}

/// The alert of an SLI whose period budget is spent (traffic-weighted, so it
/// holds through idle hours), for the series `selector` picks.
pub(super) fn budget_rule(
    sli: Sli,
    text: BurnText,
    selector: &str,
    labels: BTreeMap<String, String>,
    links: &Links,
    exporter: String,
    test: RuleTest,
) -> Rule {
    let mut annotations = BTreeMap::from([
        (
            "summary".to_owned(),
            format!(
                "{}: {} budget of the period is spent",
                text.subject,
                sli.name()
            ),
        ),
        (
            "description".to_owned(),
            format!(
                "Over the SLO period the share of requests {} exceeded {}: the objective is missed. Freeze risky changes until the budget recovers.",
                text.what, text.budget
            ),
        ),
        ("auto_repair".to_owned(), "none".to_owned()),
    ]);
    links.annotate(sli, &mut annotations);
    Rule {
        threshold: None,
        name: format!("slo_{}_budget_exhausted", sli.name()),
        exporter,
        alert: "SLOErrorBudgetExhausted".into(),
        expr: format!("slo:period_error_budget_remaining:ratio{{{selector}}} <= 0"),
        for_: BUDGET_EXHAUSTED_FOR.into(),
        labels: labels.into(),
        annotations: annotations.into(),
        test: Some(test),
    }
}

/// Where an SLO alert sends the on-call: the runbook (the service's own page,
/// or one page per SLI under the registry's runbook base URL, `<base>/slo_error`)
/// and, with `settings.grafana.url`, the SLO dashboard showing the service.
pub(super) struct Links {
    runbook: Runbook,
    board: Option<String>,
}

enum Runbook {
    Service(String),
    Base(String),
    None,
}

impl Links {
    pub(super) fn of(reg: &Registry, serving: Option<&registry::Service>) -> Links {
        let runbook = match (
            serving.and_then(|s| s.runbook_url.clone()),
            &reg.runbook_base_url,
        ) {
            (Some(url), _) => Runbook::Service(url),
            (None, Some(base)) => Runbook::Base(base.trim_end_matches('/').to_owned()),
            (None, None) => Runbook::None,
        };
        let board = reg.settings.grafana.url.as_ref().map(|base| {
            let mut url = format!("{base}/d/{}?", super::dashboards::slo_uid());
            if let Some(s) = serving {
                url.push_str(&format!("var-service={}&", percent_encode_query(&s.name)));
            }
            url
        });
        Links { runbook, board }
    }

    /// The links of one SLI's alerts; Prometheus expands annotations as Go
    /// templates, so the URLs are data.
    fn annotate(&self, sli: Sli, annotations: &mut BTreeMap<String, String>) {
        let runbook = match &self.runbook {
            Runbook::Service(url) => Some(url.clone()),
            Runbook::Base(base) => Some(format!("{base}/slo_{}", sli.name())),
            Runbook::None => None,
        };
        if let Some(url) = runbook {
            annotations.insert("runbook_url".to_owned(), gotmpl_str(&url));
        }
        if let Some(board) = &self.board {
            let url = format!("{board}var-slo={}", sli.name());
            annotations.insert("dashboard_url".to_owned(), gotmpl_str(&url));
        }
    }
}

//! The SLO domain (Google SRE workbook, chapter 5): availability presets,
//! multiwindow multi-burn-rate tiers and their factors, the windows the
//! recording rules cover, and latency buckets. A leaf, shared by validation and
//! the SLO, dashboard and routing renderers.

use serde::Serialize;

use crate::syntax::duration_hours;

pub(crate) const DEFAULT_BUCKETS: [f64; 9] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Availability presets that may stand in for a percentage.
pub(crate) const PRESETS: [(&str, f64); 3] = [("critical", 99.99), ("high", 99.9), ("low", 99.0)];

/// A multiwindow, multi-burn-rate tier (Google SRE workbook, chapter 5): it
/// alerts when `budget_share` of the period's error budget is spent within
/// `long`, confirmed by `short`.
#[derive(Debug, Clone, Serialize)]
pub struct Tier {
    pub name: &'static str,
    pub long: &'static str,
    pub short: &'static str,
    pub budget_share: f64,
    /// `page` (critical) or `ticket` (warning).
    pub action: &'static str,
    pub default_for: &'static str,
}

pub const TIERS: [Tier; 4] = [
    Tier {
        name: "fast",
        long: "1h",
        short: "5m",
        budget_share: 0.02,
        action: "page",
        default_for: "2m",
    },
    Tier {
        name: "medium",
        long: "6h",
        short: "30m",
        budget_share: 0.05,
        action: "page",
        default_for: "15m",
    },
    Tier {
        name: "slow",
        long: "1d",
        short: "2h",
        budget_share: 0.10,
        action: "ticket",
        default_for: "1h",
    },
    Tier {
        name: "long",
        long: "3d",
        short: "6h",
        budget_share: 0.10,
        action: "ticket",
        default_for: "3h",
    },
];

/// Every window the recording rules cover.
pub const WINDOWS: [&str; 7] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];

/// The window catalogues, as Sloth's AlertWindows: per SLO period, the tiers
/// keep their windows and their budget shares (written for 28 and 30 days)
/// are scaled so the factors stay those of the SRE workbook (14.4, 6, 3, 1 at
/// 30 days; 13.44, 5.6, 2.8, 0.93 at 7, 14 and 28 days).
pub const CATALOGUES: [(&str, f64, f64); 5] = [
    ("7d", 168.0, 4.0),
    ("14d", 336.0, 2.0),
    ("28d", 672.0, 1.0),
    ("30d", 720.0, 1.0),
    ("90d", 2160.0, 1.0 / 3.0),
];

/// The periods that have a window catalogue, for messages.
pub(crate) fn catalogue_periods() -> String {
    CATALOGUES.map(|c| c.0).join(", ")
}

fn share_scale(period_hours: f64) -> Option<f64> {
    CATALOGUES
        .iter()
        .find(|c| (c.1 - period_hours).abs() < 1e-9)
        .map(|c| c.2)
}

pub(crate) fn has_catalogue(period_hours: f64) -> bool {
    share_scale(period_hours).is_some()
}

/// The share of the period's budget a tier alerts on, from the period's catalogue.
pub(crate) fn budget_share(tier: &Tier, period_hours: f64) -> f64 {
    tier.budget_share * share_scale(period_hours).unwrap_or(1.0)
}

/// Burn-rate factor of a tier: the share of budget it may spend, times the
/// period over the long window. 30 days: 14.4, 6, 3, 1.
pub fn factor(tier: &Tier, period_hours: f64) -> f64 {
    let long = duration_hours(tier.long).unwrap_or(1.0);
    // Rounded so 28 days gives 13.44 rather than 13.440000000000001.
    (budget_share(tier, period_hours) * period_hours / long * 1e6).round() / 1e6
}

/// The bucket list with `extra` thresholds added, sorted and without duplicates.
pub(crate) fn with_thresholds(buckets: &[f64], extra: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut all: Vec<f64> = buckets.iter().copied().chain(extra).collect();
    all.sort_by(f64::total_cmp);
    all.dedup_by(|a, b| (*a - *b).abs() < 1e-12);
    all
}

/// The `le` label values a client library may write for a bucket boundary: Go
/// writes `1`, Python `1.0`; both are matched.
pub fn le_regex(seconds: f64) -> String {
    let go = format!("{seconds}");
    let alts = if go.contains('.') || go.contains('e') {
        vec![go]
    } else {
        vec![go.clone(), format!("{go}.0")]
    };
    alts.iter()
        .map(|a| a.replace('.', "\\."))
        .collect::<Vec<_>>()
        .join("|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burn_rate_factors_follow_the_period() {
        let f30: Vec<f64> = TIERS.iter().map(|t| factor(t, 720.0)).collect();
        assert_eq!(f30, [14.4, 6.0, 3.0, 1.0]);
        let f28: Vec<f64> = TIERS.iter().map(|t| factor(t, 672.0)).collect();
        assert_eq!(f28, [13.44, 5.6, 2.8, 0.933333]);
        let f7: Vec<f64> = TIERS.iter().map(|t| factor(t, 168.0)).collect();
        assert_eq!(f7, f28, "7 days scale the shares to keep 28 days' factors");
        let f90: Vec<f64> = TIERS.iter().map(|t| factor(t, 2160.0)).collect();
        assert_eq!(f90, f30);
        assert!(!has_catalogue(240.0));
    }

    #[test]
    fn buckets_gain_thresholds_once() {
        assert_eq!(with_thresholds(&[0.1, 1.0], [0.25, 1.0]), [0.1, 0.25, 1.0]);
        assert_eq!(le_regex(1.0), r"1|1\.0");
        assert_eq!(le_regex(0.25), r"0\.25");
    }
}

//! The rule-file form shared by the alert and SLO rule renderers and the
//! unit-test generator: groups of recording and alerting rules, each alert with
//! the series its generated `promtool test rules` case feeds it.

use std::collections::BTreeMap;

use serde::Serialize;

/// The template that writes a rule file from groups.
pub const TEMPLATE: &str = "prometheus/rules.yml.j2";

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// The catalogue entry, such as `service_down`.
    pub name: String,
    pub exporter: String,
    pub alert: String,
    pub expr: String,
    #[serde(rename = "for")]
    pub for_: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Input for the generated `promtool test rules` cases; Rust reads it, so
    /// it stays out of the template context (it is the bulk of a rule's data).
    #[serde(skip)]
    pub test: RuleTest,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RuleTest {
    pub firing: Vec<Series>,
    pub healthy: Vec<Series>,
    /// The firing series of another target: must not fire this rule.
    pub other_firing: Vec<Series>,
    /// Labels the alert keeps from its input series.
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub series: String,
    /// promtool's notation without the count, such as `0+60`.
    pub values: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub name: String,
    /// Recording rules, evaluated before the alerts of the group.
    pub records: Vec<Record>,
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub record: String,
    pub expr: String,
    pub labels: BTreeMap<String, String>,
}

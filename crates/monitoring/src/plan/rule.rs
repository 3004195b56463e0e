//! The rule-file form shared by the alert and SLO rule renderers and the
//! unit-test generator: groups of recording and alerting rules, each alert with
//! the series its generated `promtool test rules` case feeds it.

use std::collections::BTreeMap;

use serde::Serialize;

/// The template that writes a rule file from groups.
pub(crate) const TEMPLATE: &str = "prometheus/rules.yml.j2";

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// The catalogue entry, such as `service_down`.
    pub name: String,
    pub exporter: String,
    pub alert: String,
    pub expr: String,
    #[serde(rename = "for")]
    pub for_: String,
    /// The threshold with its unit (`0.8 ratio`), for the plan; None for
    /// alerts without one.
    pub threshold: Option<String>,
    pub labels: Pairs,
    pub annotations: Pairs,
    /// Input for the generated `promtool test rules` cases; Rust reads it, so
    /// it stays out of the template context (it is the bulk of a rule's data).
    /// None when an earlier rule of the same shape in the same file carries
    /// the cases (see `rule_tests::shape`).
    #[serde(skip)]
    pub test: Option<RuleTest>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RuleTest {
    pub firing: Vec<Series>,
    pub healthy: Vec<Series>,
    /// The firing series of another target: must not fire this rule.
    pub other_firing: Vec<Series>,
    /// Labels the alert keeps from its input series.
    pub labels: BTreeMap<String, String>,
    /// The rule also fires when its target's series are absent.
    pub absent: bool,
    /// The alert's value on the firing series (`$value` in annotations).
    pub value: Option<f64>,
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
    pub labels: Pairs,
}

/// A rule's labels or annotations, sorted by name: a map's reading API over a
/// vector, which holds a rule's few pairs in a third of a `BTreeMap`'s
/// memory (a registry of 100,000 services holds 300,000 rules). Serialised
/// as a map, so templates read it like one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairs(Vec<(String, String)>);

impl Pairs {
    pub fn get(&self, key: &str) -> Option<&String> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }
}

impl From<BTreeMap<String, String>> for Pairs {
    fn from(map: BTreeMap<String, String>) -> Pairs {
        let mut v: Vec<(String, String)> = map.into_iter().collect();
        v.shrink_to_fit();
        Pairs(v)
    }
}

impl<'a> IntoIterator for &'a Pairs {
    type Item = (&'a String, &'a String);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, String)>,
        fn(&'a (String, String)) -> (&'a String, &'a String),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl std::ops::Index<&str> for Pairs {
    type Output = String;
    fn index(&self, key: &str) -> &String {
        self.get(key)
            .unwrap_or_else(|| panic!("no {key:?} among {:?}", self.keys().collect::<Vec<_>>()))
    }
}

impl Serialize for Pairs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

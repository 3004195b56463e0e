//! Where an SLI's events come from: the HTTP metrics the applications export,
//! named by a preset (the example API's middleware, OpenTelemetry's semantic
//! conventions, Micrometer/Spring) or one by one, or raw PromQL queries with
//! Sloth's `{{.window}}` placeholder. A leaf: settings resolve the names,
//! validation checks the queries, the SLO renderer and the generated app
//! modules read them.

use serde::Serialize;

/// The placeholder a raw query writes where the window goes (Sloth's spelling,
/// so Sloth specs import unchanged).
pub const WINDOW: &str = "{{.window}}";

/// The names of the HTTP request metrics and their labels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpMetrics {
    pub preset: String,
    /// A counter of requests, labelled with the status code.
    pub requests: String,
    /// The duration histogram's base name (`_bucket`, `_count` are added).
    pub duration: String,
    pub method_label: String,
    pub route_label: String,
    pub status_label: String,
}

/// The presets: name, requests counter, duration histogram, method, route and
/// status labels. OpenTelemetry counts requests with the histogram's `_count`.
pub(crate) const PRESETS: [[&str; 6]; 3] = [
    [
        "middleware",
        "http_requests_total",
        "http_request_duration_seconds",
        "method",
        "path",
        "status",
    ],
    [
        "opentelemetry",
        "http_server_request_duration_seconds_count",
        "http_server_request_duration_seconds",
        "http_request_method",
        "http_route",
        "http_response_status_code",
    ],
    [
        "micrometer",
        "http_server_requests_seconds_count",
        "http_server_requests_seconds",
        "method",
        "uri",
        "status",
    ],
];

impl HttpMetrics {
    pub fn preset(name: &str) -> Option<HttpMetrics> {
        let p = PRESETS.iter().find(|p| p[0] == name)?;
        Some(HttpMetrics {
            preset: p[0].into(),
            requests: p[1].into(),
            duration: p[2].into(),
            method_label: p[3].into(),
            route_label: p[4].into(),
            status_label: p[5].into(),
        })
    }

    pub fn preset_names() -> Vec<&'static str> {
        PRESETS.iter().map(|p| p[0]).collect()
    }
}

/// Raw queries of one SLO: bad and total events over `{{.window}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Queries {
    pub error: String,
    pub total: String,
    /// Requests slower than the latency objective, for a latency SLI.
    pub slow: Option<String>,
}

/// A query with its window filled in.
pub fn with_window(query: &str, window: &str) -> String {
    canonical(query).trim().replace(WINDOW, window)
}

/// The query with each placeholder spelt `{{.window}}`: Go templates (and so
/// Sloth) also accept spaces inside the braces, `{{ .window }}`.
pub fn canonical(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    let mut rest = query;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let inner_end = after.find("}}");
        match inner_end {
            Some(end) if after[..end].trim() == ".window" => {
                out.push_str(WINDOW);
                rest = &after[end + 2..];
            }
            _ => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What is wrong with a raw query, in registry terms: it must use the window
/// placeholder, and its brackets and quotes must balance (promtool judges the
/// rest when the generated rules are checked).
pub(crate) fn query_problem(query: &str) -> Option<String> {
    if query.trim().is_empty() {
        return Some("the query is empty".into());
    }
    let query = canonical(query);
    if !query.contains(WINDOW) {
        return Some(format!(
            "the query has no `{WINDOW}`: the rules need it over several windows"
        ));
    }
    let text = query.replace(WINDOW, "5m");
    if text.contains("{{") || text.contains("}}") {
        return Some(format!(
            "the query holds a template other than `{WINDOW}`, which is the only placeholder"
        ));
    }
    let mut open = Vec::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'' | '`') => quote = Some(c),
            (None, '(' | '[' | '{') => open.push(c),
            (None, ')' | ']' | '}') => {
                let want = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if open.pop() != Some(want) {
                    return Some(format!("`{c}` closes nothing that is open"));
                }
            }
            _ => {}
        }
    }
    if let Some(q) = quote {
        return Some(format!("a string opened with {q} is not closed"));
    }
    open.last().map(|c| format!("`{c}` is not closed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_name_real_metrics() {
        let otel = HttpMetrics::preset("opentelemetry").unwrap();
        assert_eq!(otel.route_label, "http_route");
        assert!(HttpMetrics::preset("prometheus").is_none());
    }

    #[test]
    fn raw_queries_are_checked() {
        let ok = r#"sum(rate(http_requests_total{code=~"(5..|429)"}[{{.window}}]))"#;
        assert_eq!(query_problem(ok), None);
        assert!(
            query_problem("sum(rate(x[5m]))")
                .unwrap()
                .contains("{{.window}}")
        );
        assert!(
            query_problem("sum(rate(x[{{.window}}])")
                .unwrap()
                .contains("not closed")
        );
        assert!(query_problem(r#"x{a=")"}[{{.window}}]"#).is_none());
        assert!(query_problem("x[{{.window}}] {{.other}}").is_some());
        assert_eq!(with_window(" a[{{.window}}] ", "1h"), "a[1h]");
        // Sloth's own examples space the placeholder: the same query.
        assert!(query_problem("sum(rate(x[{{ .window }}]))").is_none());
        assert_eq!(
            with_window("a[{{ .window }}] b[{{.window}}]", "5m"),
            "a[5m] b[5m]"
        );
        assert!(query_problem("x[{{ .other }}]").is_some());
    }
}

//! The YAML parser's and serde's messages, said in registry terms: which field
//! wants what kind of value, and what was written instead. A message this
//! module does not know keeps its text and gets a generic hint.

use crate::diagnostics::{did_you_mean, shown};

impl Kind {
    /// How to write a value of this kind.
    fn help(self) -> &'static str {
        match self {
            Kind::Whole => "write a whole number without quotes or a decimal point, e.g. `8080`",
            Kind::Number => "write a number without quotes, e.g. `99.9` or `250`",
            Kind::Bool => "write `true` or `false`",
            Kind::Text => "write the value on the same line as the field: `name: value`",
            Kind::List => {
                "write a list: `[a, b]`, or one `- item` per line indented under the field"
            }
            Kind::Mapping => {
                "write fields: `{key: value}`, or `key: value` lines indented under it"
            }
        }
    }
}

/// An enum field given a list or a mapping: a channel, or a one-name field.
fn one_name(field: &str, key: &str, written: &str) -> (String, Option<String>) {
    let channel = field.ends_with(']') && (field.contains("notify[") || field.contains("page["));
    if channel {
        (
            format!("a channel is one `kind: {{fields}}` mapping{written}"),
            Some("write it as `- slack: {api_url_file: /etc/alertmanager/secrets/slack}`".into()),
        )
    } else {
        (
            format!("{key} must be one name{written}"),
            Some(if key == "`type`" {
                "write a single value on the line, such as `type: docker`".into()
            } else {
                "write one of its values on the line, without brackets or braces".into()
            }),
        )
    }
}

/// `(message, help)` for a parser error at `field` (`services[0].port`), where
/// the text at the error's position is `value`.
pub(crate) fn plain(message: &str, field: &str, value: Option<&str>) -> (String, Option<String>) {
    let key = field_key(field);
    let written = value
        .filter(|v| !v.is_empty())
        .map(|v| format!(", not {}", shown(v)))
        .unwrap_or_default();
    // serde's "invalid type: floating point `8000.5`, expected u16" and
    // saphyr's "invalid i64": the kind the field wants is what matters.
    let wanted = wanted_kind(message);
    let too_large = value
        .and_then(|v| v.parse::<f64>().ok())
        .is_some_and(f64::is_infinite);
    if matches!(wanted, Some(Kind::Number | Kind::Whole)) && too_large {
        return (
            format!(
                "{key} is {}, too large for a number",
                shown(value.unwrap_or_default())
            ),
            Some("write a number within ±1.7e308, such as `0.9` or `250`".into()),
        );
    }
    if let Some(kind) = wanted {
        return (
            format!("{key} must be {}{written}", kind.said()),
            Some(kind.help().into()),
        );
    }
    if message.starts_with("externally tagged enum") {
        return one_name(field, &key, &written);
    }
    if message.starts_with("expected end of mapping after enum variant") {
        return (
            "a channel entry names one kind, and this one goes on with a second key".into(),
            Some(
                "start each channel with its own `- `: `- slack: {…}`, then `- email: {…}`".into(),
            ),
        );
    }
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let name = rest.split(',').next().unwrap_or(rest).trim();
        return (
            format!("the key `{name}` appears twice in this entry"),
            Some("each key may appear once per entry; remove or rename one of them".into()),
        );
    }
    if message.starts_with("cannot deserialize null") {
        return (
            format!("{key} has no value"),
            Some("write a value after the colon, or remove the line".into()),
        );
    }
    if message.starts_with("multiple YAML documents") {
        return (
            "a registry file holds one YAML document; this one starts a second with `---`".into(),
            Some("move what follows `---` into a file of its own in the registry folder, or remove the `---` line".into()),
        );
    }
    if let Some(name) = message.strip_prefix("missing field ") {
        let name = name.trim_matches('`');
        let entry = if key == "this value" {
            "this entry".to_owned()
        } else {
            format!("this entry of {key}")
        };
        return (
            format!("{entry} has no `{name}`"),
            Some(format!("add `{name}: …` to it")),
        );
    }
    (message.to_owned(), hint_for(message))
}

/// `services[0].monitoring.prometheus` → "`prometheus`"; the file itself → "this value".
fn field_key(field: &str) -> String {
    match field
        .rsplit('.')
        .next()
        .map(|k| k.split('[').next().unwrap_or(k))
    {
        Some(k) if !k.is_empty() => format!("`{k}`"),
        _ => "this value".into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Whole,
    Number,
    Bool,
    Text,
    List,
    Mapping,
}

impl Kind {
    fn said(self) -> &'static str {
        match self {
            Kind::Whole => "a whole number",
            Kind::Number => "a number",
            Kind::Bool => "true or false",
            Kind::Text => "text",
            Kind::List => "a list",
            Kind::Mapping => "a mapping of fields",
        }
    }
}

/// The kind of value a type error says was wanted.
fn wanted_kind(message: &str) -> Option<Kind> {
    let wanted = match message.split_once("expected ") {
        Some((head, w))
            if head.is_empty()
                || head.starts_with("invalid type")
                || head.starts_with("invalid value") =>
        {
            w
        }
        _ => message.strip_prefix("invalid ")?,
    };
    let w = wanted.trim();
    let integer = [
        "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "usize", "isize", "integer",
    ];
    Some(if integer.iter().any(|t| w.starts_with(t)) {
        Kind::Whole
    } else if w.starts_with("f32") || w.starts_with("f64") || w.starts_with("floating point") {
        Kind::Number
    } else if w.starts_with("bool") || w.starts_with("a boolean") {
        Kind::Bool
    } else if w.starts_with("string") || w.starts_with("a string") {
        Kind::Text
    } else if w.starts_with("sequence") || w.starts_with("a sequence") {
        Kind::List
    } else if w.starts_with("mapping") || w.starts_with("struct") || w.starts_with("a map") {
        Kind::Mapping
    } else {
        return None;
    })
}

/// A hint for messages left as the parser wrote them.
fn hint_for(message: &str) -> Option<String> {
    let expected = |m: &str| -> Vec<String> {
        let list = m
            .split_once("expected one of ")
            .map(|(_, l)| l)
            .or_else(|| m.split_once("expected ").map(|(_, l)| l));
        list.map(|l| {
            l.split(", ")
                .map(|s| s.trim_matches('`').to_owned())
                .collect()
        })
        .unwrap_or_default()
    };
    let found = |m: &str| m.split('`').nth(1).map(str::to_owned);
    if message.starts_with("unknown field") || message.starts_with("unknown variant") {
        let what = if message.starts_with("unknown field") {
            "field"
        } else {
            "value"
        };
        let allowed = expected(message);
        let suggestion = found(message)
            .and_then(|f| did_you_mean(&f, allowed.iter().map(String::as_str)).map(str::to_owned));
        return Some(match suggestion {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("allowed {what}s: {}", allowed.join(", ")),
        });
    }
    if message.starts_with("duplicate mapping key") {
        return Some("each key may appear once per entry; remove or rename one of them".into());
    }
    if message.contains("budget") || message.contains("limit") {
        return Some("the file is too large or too deeply nested (or uses many aliases); split it or remove aliases".into());
    }
    Some("check indentation and quoting near here; YAML lists start with `- `".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_wording_never_reaches_the_user() {
        for (message, field, value, said) in [
            (
                "invalid i64",
                "services[0].port",
                "8000.0",
                "`port` must be a whole number, not \"8000.0\"",
            ),
            (
                "invalid floating point",
                "api_endpoints[0].slo_latency_ms",
                "fast",
                "`slo_latency_ms` must be a number, not \"fast\"",
            ),
            (
                "expected string scalar",
                "services[0].name",
                "[a]",
                "`name` must be text",
            ),
            (
                "expected sequence start",
                "services[0].alerts",
                "service_down",
                "`alerts` must be a list",
            ),
            (
                "expected mapping start",
                "services[0].monitoring",
                "true",
                "`monitoring` must be a mapping of fields",
            ),
            (
                "cannot deserialize null into string; use Option<String>",
                "services[0].name",
                "null",
                "`name` has no value",
            ),
            (
                "multiple YAML documents detected; use from_str_multiple or from_str_multiple_with_options",
                "",
                "pages: []",
                "one YAML document",
            ),
            (
                "missing field `name`",
                "services[0]",
                "",
                "this entry of `services` has no `name`",
            ),
        ] {
            let (m, help) = plain(message, field, Some(value));
            assert!(m.contains(said), "{message:?} → {m:?}");
            assert!(help.is_some(), "{message:?}: no hint");
            for library in [
                "Option<",
                "from_str",
                "i64",
                "scalar",
                "sequence",
                "deserialize",
            ] {
                assert!(
                    !m.contains(library) && !help.as_deref().unwrap_or("").contains(library),
                    "{m:?} / {help:?}"
                );
            }
        }
    }

    #[test]
    fn long_values_are_cut() {
        let (m, _) = plain("invalid i64", "services[0].port", Some(&"9".repeat(5000)));
        assert!(m.len() < 200, "{m}");
    }
}

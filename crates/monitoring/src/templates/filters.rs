//! Escaping filters. Every registry string that lands in an output goes through
//! one of these, so a template author never escapes by hand:
//!
//! - `promql`: a PromQL string literal, quotes included: `{service={{ s.name | promql }}}`
//! - `re_escape`: escapes RE2 metacharacters, for building `=~` matchers
//!   (`{{ (name | re_escape ~ "-.+") | promql }}`)
//! - `yaml`: a YAML scalar (strings always double-quoted)
//! - `gotmpl`: text inside a Prometheus annotation, where `{{` would start a Go template
//! - `ts`: a TypeScript string literal
//! - `num`: a number without a needless `.0`
//! - `tojson` (minijinja's own): a JSON value

use std::fmt::Write as _;

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

pub use registry::syntax::{gotmpl_str, has_no_hidden, is_hidden};

/// A PromQL (Go syntax) double-quoted string literal.
pub fn promql(value: &Value) -> Result<String, Error> {
    Ok(promql_str(as_str(value, "promql")?))
}

/// [`promql`] for Rust callers.
pub fn promql_str(s: &str) -> String {
    double_quoted(s, false)
}

/// A double-quoted literal in the syntax PromQL (Go), YAML, JSON and TypeScript
/// share: quotes, backslashes and line breaks escaped, every hidden character
/// as `\uXXXX` (beyond the BMP `\UXXXXXXXX` in Go and YAML, `\u{…}` with
/// `js`); with `js`, `<` too (so `</script>` cannot end an inline script).
fn double_quoted(s: &str, js: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' if js => out.push_str("\\u003c"),
            c if is_hidden(c) => {
                let _ = match (c as u32, js) {
                    (n @ ..=0xffff, _) => write!(out, "\\u{n:04x}"),
                    (n, true) => write!(out, "\\u{{{n:x}}}"),
                    (n, false) => write!(out, "\\U{n:08x}"),
                };
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Escapes RE2 metacharacters so the string matches itself literally.
pub fn re_escape(value: &Value) -> Result<String, Error> {
    let s = as_str(value, "re_escape")?;
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(out)
}

/// Text for a Prometheus annotation (a Go template): `{{` becomes `{{"{{"}}`.
pub(crate) fn gotmpl(value: &Value) -> Result<String, Error> {
    Ok(gotmpl_str(as_str(value, "gotmpl")?))
}

/// Markdown inline code (Grafana text panels, coverage.md): registry text
/// shown literally, so `[x](https://…)` is no link and `<img …>` no HTML. The
/// fence is one backtick longer than any run inside; line breaks become spaces.
pub(crate) fn md_code(value: &Value) -> Result<String, Error> {
    Ok(md_code_str(as_str(value, "md_code")?))
}

pub(crate) fn md_code_str(s: &str) -> String {
    let one_line: String = s
        .chars()
        .map(|c| {
            if c.is_control() || is_hidden(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    let longest = one_line
        .split(|c| c != '`')
        .map(str::len)
        .max()
        .unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if one_line.starts_with('`') || one_line.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{one_line}{pad}{fence}")
}

/// A TypeScript (JavaScript) string literal. Escapes quotes, backslashes,
/// control characters, the line and paragraph separators, and `<` (so
/// `</script>` cannot end an inline script); `${` needs nothing in a
/// double-quoted string, and other non-ASCII text stays as it is.
pub(crate) fn ts(value: &Value) -> Result<String, Error> {
    Ok(double_quoted(as_str(value, "ts")?, true))
}

/// A number as people write it: `95`, not `95.0`.
pub(crate) fn num(value: &Value) -> Result<String, Error> {
    match f64::try_from(value.clone()) {
        Ok(x) if x.fract() == 0.0 && x.abs() < 1e15 => Ok(format!("{}", x as i64)),
        Ok(x) => Ok(format!("{x}")),
        Err(_) => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("the `num` filter takes a number, got {}", value.kind()),
        )),
    }
}

/// A YAML flow scalar: strings double-quoted with every character YAML does not
/// allow raw escaped; numbers, booleans and none as themselves.
pub(crate) fn yaml(value: &Value) -> Result<String, Error> {
    match value.kind() {
        ValueKind::String => Ok(yaml_str(value.as_str().unwrap_or_default())),
        ValueKind::Number => Ok(value.to_string()),
        // YAML 1.2's spelling (minijinja would write `True`).
        ValueKind::Bool => Ok(value.is_true().to_string()),
        ValueKind::None => Ok("null".into()),
        // Strict mode lets an undefined value reach a filter; a typo must not become `null`.
        ValueKind::Undefined => Err(Error::new(
            ErrorKind::UndefinedError,
            "the `yaml` filter got an undefined value",
        )),
        _ => {
            // Sequences and maps as JSON, which is valid YAML flow syntax.
            serde_json::to_string(value)
                .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("yaml: {e}")))
        }
    }
}

/// Single-quoted when the string is one printable line (readable: PromQL keeps
/// its `"`), double-quoted with escapes otherwise.
pub(crate) fn yaml_str(s: &str) -> String {
    if s.is_empty() || s.starts_with(' ') || s.ends_with(' ') || !has_no_hidden(s) {
        return double_quoted(s, false);
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for (i, part) in s.split('\'').enumerate() {
        if i > 0 {
            out.push_str("''");
        }
        out.push_str(part);
    }
    out.push('\'');
    out
}

fn as_str<'a>(value: &'a Value, filter: &str) -> Result<&'a str, Error> {
    value.as_str().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("the `{filter}` filter takes a string, got {}", value.kind()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_code_spans_hold_any_text() {
        assert_eq!(md_code_str("/a [x](y)"), "`/a [x](y)`");
        assert_eq!(md_code_str("a`b"), "``a`b``");
        assert_eq!(md_code_str("`a``"), "``` `a`` ```");
        assert_eq!(md_code_str("a\nb\u{2028}c"), "`a b c`");
    }

    #[test]
    fn promql_escapes_quotes_backslashes_and_controls() {
        let v = Value::from("a\"b\\c\nd\u{7}é");
        assert_eq!(promql(&v).unwrap(), r#""a\"b\\c\nd\u0007é""#);
    }

    #[test]
    fn re_escape_makes_metacharacters_literal() {
        assert_eq!(re_escape(&Value::from("a.b+(c)")).unwrap(), r"a\.b\+\(c\)");
    }

    #[test]
    fn yaml_strings_round_trip() {
        for s in [
            "plain",
            "a: b # c",
            "'\"{{ $labels.x }}\"'",
            "line\nbreak\u{2028}",
            "\u{85}\u{feff}tab\t",
            "- [x]",
            "null",
            "123",
            "é 授權管理",
            "bidi \u{202e} \u{2066} \u{200b} \u{e0001} \u{1d173} \u{7f}",
        ] {
            let quoted = yaml_str(s);
            let back: String = serde_saphyr::from_str(&format!("v: {quoted}\n"))
                .map(|m: std::collections::BTreeMap<String, String>| m["v"].clone())
                .unwrap_or_else(|e| panic!("{quoted}: {e}"));
            assert_eq!(back, s);
        }
    }
}

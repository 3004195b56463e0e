//! Compiler-style diagnostics: every problem of a run is collected, then printed as
//!
//! ```text
//! error: unknown alert "servce_down"
//!   --> registry/services.yaml:42:9 (services[3].alerts[0])
//!    |
//! 42 |       - servce_down
//!    |         ^
//!    = help: did you mean "service_down"?
//! ```

use std::fmt::{self, Write as _};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warning,
}

/// A position in a source file; line and column are 1-based, 0 when unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub file: String,
    pub line: u64,
    pub column: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub level: Level,
    pub pos: Pos,
    /// Field path inside the file, such as `services[3].port`.
    pub field: String,
    pub message: String,
    pub help: Option<String>,
    /// The source line the position points into, for the snippet.
    pub source_line: Option<String>,
    /// What many warnings of one kind are called when they are collapsed
    /// ("pages without an owner"); without it, warnings with the same help collapse.
    pub kind: Option<&'static str>,
}

impl Diagnostic {
    pub(crate) fn error(pos: Pos, field: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            level: Level::Error,
            pos,
            field: field.into(),
            message: message.into(),
            help: None,
            source_line: None,
            kind: None,
        }
    }

    pub(crate) fn warning(pos: Pos, field: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            level: Level::Warning,
            ..Self::error(pos, field, message)
        }
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Names the kind, for collapsing many warnings of it into one line.
    pub(crate) fn kind(mut self, kind: &'static str) -> Self {
        self.kind = Some(kind);
        self
    }

    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        writeln!(f, "{level}: {}", self.message)?;
        let Pos { file, line, column } = &self.pos;
        let field = if self.field.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.field)
        };
        if *line == 0 {
            writeln!(f, "  --> {file}{field}")?;
        } else {
            writeln!(f, "  --> {file}:{line}:{column}{field}")?;
        }
        if let Some(src) = &self.source_line {
            let num = line.to_string();
            let pad = " ".repeat(num.len());
            // Columns count characters; tabs are kept so the caret lines up.
            let caret: String = src
                .chars()
                .take(column.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            writeln!(f, "{pad} |")?;
            writeln!(f, "{num} | {src}")?;
            writeln!(f, "{pad} | {caret}^")?;
        }
        if let Some(help) = &self.help {
            writeln!(f, "   = help: {help}")?;
        }
        Ok(())
    }
}

/// Warnings of one kind shown before the rest collapse into one line.
pub(crate) const SHOWN_PER_KIND: usize = 3;
/// Warnings shown in full in all, so many kinds still fit a screen.
pub(crate) const SHOWN_TOTAL: usize = 6;

/// "1 error, 2 warnings".
/// A registry value inside a message: quoted like Rust's `Debug` (so hidden
/// characters show), and cut after 80 characters so a huge value cannot flood
/// the terminal.
pub fn shown(value: &str) -> String {
    const MAX: usize = 80;
    match value.char_indices().nth(MAX) {
        Some((cut, _)) => format!(
            "{:?}… ({} characters)",
            &value[..cut],
            value.chars().count()
        ),
        None => format!("{value:?}"),
    }
}

pub fn counts(diags: &[Diagnostic]) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

/// The diagnostics of a run, sorted by file and position so the output does not
/// depend on the order checks ran in. Every error is shown; after
/// `SHOWN_PER_KIND` warnings of one kind, or `SHOWN_TOTAL` in all, the rest
/// are counted in one line per kind, unless `verbose`. Linear in the number
/// of diagnostics.
pub fn render(diags: &mut [Diagnostic], verbose: bool) -> String {
    diags.sort_by(|a, b| (&a.pos, a.level, &a.message).cmp(&(&b.pos, b.level, &b.message)));
    let key = |d: &Diagnostic| -> String {
        match (d.kind, &d.help) {
            (Some(k), _) => k.to_owned(),
            (None, Some(h)) => h.clone(),
            (None, None) => d.message.clone(),
        }
    };
    let mut shown: std::collections::HashMap<String, usize> = Default::default();
    let mut total = 0;
    let mut hidden: Vec<(String, Option<&'static str>, usize)> = Vec::new();
    let mut out = String::new();
    for d in diags.iter() {
        if d.is_error() || verbose {
            let _ = writeln!(out, "{d}");
            continue;
        }
        let k = key(d);
        let n = shown.entry(k.clone()).or_default();
        *n += 1;
        if *n <= SHOWN_PER_KIND && total < SHOWN_TOTAL {
            total += 1;
            let _ = writeln!(out, "{d}");
        } else if let Some(h) = hidden.iter_mut().find(|h| h.0 == k) {
            h.2 += 1;
        } else {
            hidden.push((k, d.kind, 1));
        }
    }
    for (_, kind, n) in hidden {
        let what = kind.map_or_else(|| "warnings like these".to_owned(), str::to_owned);
        let _ = writeln!(
            out,
            "warning: … and {n} more {what}; `--verbose` shows all\n"
        );
    }
    out
}

/// Errors and warnings for a failed run, ending with the counts.
pub fn render_all(diags: &mut [Diagnostic]) -> String {
    let mut out = render(diags, false);
    if diags.iter().any(Diagnostic::is_error) {
        let _ = writeln!(out, "{}: nothing was written", counts(diags));
    }
    out
}

/// The candidate closest to `input`, when it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (input.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (levenshtein(input, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

/// Edit distance where swapping two neighbours counts as one edit (`gne` is
/// one edit from `gen`), the commonest typo.
fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["service_down", "slow_query", "pod_crash"];
        assert_eq!(did_you_mean("servce_down", names), Some("service_down"));
        assert_eq!(did_you_mean("pod_crsh", names), Some("pod_crash"));
        assert_eq!(did_you_mean("totally_else", names), None);
    }

    #[test]
    fn renders_position_snippet_and_help() {
        let d = Diagnostic {
            source_line: Some("  port: 70000".into()),
            ..Diagnostic::error(
                Pos {
                    file: "registry/a.yaml".into(),
                    line: 4,
                    column: 9,
                },
                "services[0].port",
                "port 70000 is outside 1-65535",
            )
            .help("use the port the service listens on")
        };
        let text = d.to_string();
        assert!(
            text.contains("--> registry/a.yaml:4:9 (services[0].port)"),
            "{text}"
        );
        assert!(text.contains("4 |   port: 70000\n  |         ^"), "{text}");
        assert!(text.contains("help: use the port"), "{text}");
    }

    #[test]
    fn warnings_of_one_kind_collapse_and_errors_do_not() {
        let at = |line| Pos {
            file: "registry/a.yaml".into(),
            line,
            column: 1,
        };
        let mut diags: Vec<Diagnostic> = (1..=100)
            .map(|l| {
                Diagnostic::warning(at(l), "", format!("page {l}")).kind("pages without an owner")
            })
            .chain((1..=5).map(|l| Diagnostic::error(at(l), "", "bad")))
            .collect();
        let text = render(&mut diags, false);
        assert_eq!(text.matches("error: bad").count(), 5, "{text}");
        assert_eq!(
            text.matches("warning: page").count(),
            SHOWN_PER_KIND,
            "{text}"
        );
        assert!(
            text.contains("… and 97 more pages without an owner; `--verbose` shows all"),
            "{text}"
        );
        assert_eq!(
            render(&mut diags, true).matches("warning: page").count(),
            100
        );
        assert_eq!(counts(&diags), "5 errors, 100 warnings");
    }
}

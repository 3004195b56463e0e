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
}

impl Diagnostic {
    pub fn error(pos: Pos, field: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            level: Level::Error,
            pos,
            field: field.into(),
            message: message.into(),
            help: None,
            source_line: None,
        }
    }

    pub fn warning(pos: Pos, field: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            level: Level::Warning,
            ..Self::error(pos, field, message)
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
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

/// All diagnostics of a run, printed sorted by file and position so the output
/// does not depend on the order checks ran in.
pub fn render_all(diags: &mut [Diagnostic]) -> String {
    diags.sort_by(|a, b| (&a.pos, a.level, &a.message).cmp(&(&b.pos, b.level, &b.message)));
    let mut out = String::new();
    for d in diags.iter() {
        let _ = writeln!(out, "{d}");
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    if errors > 0 {
        let _ = writeln!(
            out,
            "{errors} error(s), {warnings} warning(s): nothing was written"
        );
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

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
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
}

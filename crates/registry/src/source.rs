//! A source file's text with positions for diagnostics, the parse budget that
//! bounds YAML parsing, and the I/O error type. A leaf shared by the registry,
//! the alert catalogue and the write path.

use std::path::Path;

use serde_saphyr::{Location, budget::Budget};

use crate::diagnostics::{Diagnostic, Pos};

/// A registry file's text, kept for error snippets.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Shown in messages and headers: `<registry folder name>/<relative path>`,
    /// never an absolute path, so output is the same on every machine.
    pub name: String,
    pub text: String,
    /// Byte offset of each line's start, computed on the first snippet, so
    /// thousands of diagnostics cost one pass over the file, not one each.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl SourceFile {
    pub(crate) fn new(name: String, text: String) -> SourceFile {
        SourceFile {
            name,
            text,
            line_starts: std::sync::OnceLock::new(),
        }
    }

    pub(crate) fn pos(&self, loc: &Location) -> Pos {
        Pos {
            file: self.name.clone(),
            line: loc.line(),
            column: loc.column(),
        }
    }

    pub(crate) fn line(&self, line: u64) -> Option<String> {
        let idx = usize::try_from(line).ok()?.checked_sub(1)?;
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let start = *starts.get(idx)?;
        if start >= self.text.len() && idx > 0 {
            return None; // after the final newline: `lines()` has no such line
        }
        let end = starts.get(idx + 1).map_or(self.text.len(), |e| e - 1);
        let l = &self.text[start..end];
        Some(l.strip_suffix('\r').unwrap_or(l).to_owned())
    }

    /// A diagnostic at `loc` with the source line attached.
    pub(crate) fn diag(&self, d: Diagnostic) -> Diagnostic {
        let source_line = self.line(d.pos.line);
        Diagnostic { source_line, ..d }
    }
}

/// Problems that are not the registry's content: exit code 2.
#[derive(Debug)]
pub struct IoError(pub String);

/// Budgets scale with the input: a legitimate registry has at most about one
/// node per byte, while an alias bomb has many more, so bombs still fail.
pub fn budget_for(len: usize) -> Budget {
    let mut budget = Budget::default();
    budget.max_nodes = budget.max_nodes.max(len);
    budget.max_events = budget.max_events.max(len.saturating_mul(2));
    budget
}

/// `<folder name>/<relative path>`, with `/` on every system: how messages and
/// headers name a file, never by its absolute path.
pub(crate) fn display_name(dir: &Path, file: &Path) -> String {
    let base = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "registry".into());
    format!("{base}/{}", relative(dir, file))
}

/// `file` relative to `dir`, with `/` separators on every system.
pub fn relative(dir: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(dir).unwrap_or(file);
    let parts: Vec<_> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

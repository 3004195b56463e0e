//! Why a run failed, typed: the registry or a template is invalid (exit 1), or
//! usage or the system (exit 2). A template's own failure is a `RenderError`
//! until it leaves the pipeline.

use std::fmt;

/// Why a run failed, which decides the exit code.
#[derive(Debug)]
pub enum Failure {
    /// The registry or a template is invalid (exit 1). Holds the rendered diagnostics.
    Invalid(String),
    /// Usage or I/O (exit 2).
    Io(String),
}

impl From<registry::source::IoError> for Failure {
    fn from(e: registry::source::IoError) -> Self {
        Failure::Io(e.0)
    }
}

impl Failure {
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Invalid(_) => 1,
            Failure::Io(_) => 2,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Invalid(s) => f.write_str(s.trim_end()),
            Failure::Io(s) => {
                let s = s.trim_end();
                if s.starts_with("error:") || s.starts_with("stopped by") {
                    f.write_str(s)?;
                } else {
                    write!(f, "error: {s}")?;
                }
                match io_hint(s) {
                    Some(hint) if !s.contains("= help:") => write!(f, "\n   = help: {hint}"),
                    _ => Ok(()),
                }
            }
        }
    }
}

/// What to do about a system error, by the error the system reported.
fn io_hint(message: &str) -> Option<&'static str> {
    let has = |codes: &[&str]| codes.iter().any(|c| message.contains(c));
    Some(
        if has(&["(os error 28)", "(os error 122)", "(os error 27)"]) {
            "free space on that disk (or raise the quota), then run the command again; a gen that fails leaves its folder as it was"
        } else if has(&["(os error 13)", "(os error 1)"]) {
            "check that you may read and write the path named above"
        } else if has(&["(os error 30)"]) {
            "the file system is read-only: point --out at a folder you can write"
        } else if has(&["(os error 2)"]) {
            "check that the path named above exists"
        } else if has(&["(os error"]) {
            "check the path named above and run the command again"
        } else {
            return None;
        },
    )
}

/// A template that did not load or render, or that rendered a file its
/// consumer could not parse; the message names the template and its line.
#[derive(Debug)]
pub struct RenderError(pub String);

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<RenderError> for Failure {
    fn from(e: RenderError) -> Self {
        Failure::Invalid(format!(
            "error: {e}\n   = help: fix the template; nothing was written"
        ))
    }
}

//! `cargo xtask`, the thin top layer: the command line (`flags`), one module
//! per command (`cmd`), and the commands' own helpers (`import`, `discover`,
//! `peer`, `term`). The registry is in the `registry` crate, everything
//! planned, rendered and written from it in `monitoring`.

// Diagnostics are returned on the cold error path only; their size does not matter.
#![allow(clippy::result_large_err)]

pub mod cmd;
pub mod discover;
pub mod flags;
pub mod import;
pub mod peer;
pub(crate) mod record;
pub mod term;

use std::path::{Path, PathBuf};

pub use monitoring::Failure;

/// Overrides the project root (tests run the README's walkthrough on a copy).
pub const ROOT_ENV: &str = "XTASK_PROJECT_ROOT";

/// The workspace root, so the defaults do not depend on the working directory.
pub fn project_root() -> PathBuf {
    if let Some(root) = std::env::var_os(ROOT_ENV) {
        return PathBuf::from(root);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

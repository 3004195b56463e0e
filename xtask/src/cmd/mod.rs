//! One file per command; each prints its own report and returns whether the
//! run is clean (`Ok(false)` is exit 1).

pub mod bench;
pub mod coverage;
pub mod discover;
pub mod e2e;
pub mod generate;
pub mod import;
pub mod init;
pub mod plan_diff;

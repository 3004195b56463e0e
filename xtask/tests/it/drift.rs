//! `gen` and `check` on a copy of the project: every kind of drift makes `check`
//! exit 1 with a diff naming the file; `gen` writes only what changed, deletes
//! only what it wrote, and output is byte-identical across runs.

use crate::common::*;

/// A copy of the tests' example registry and of the templates, with a
/// generated folder.
struct Project {
    dir: TempDir,
}

impl Project {
    fn new() -> Project {
        let dir = TempDir::new("drift");
        copy_example(&dir.join("registry"));
        copy_dir(&root().join("templates"), &dir.join("templates"));
        let p = Project { dir };
        let out = p.run("gen");
        assert!(out.status.success(), "{}", text(&out));
        p
    }

    fn run(&self, cmd: &str) -> std::process::Output {
        self.run_into(cmd, &self.dir.join("generated"))
    }

    /// `cmd` on the project's registry and templates into another folder.
    fn run_into(&self, cmd: &str, out: &std::path::Path) -> std::process::Output {
        let d = |s: &str| self.dir.join(s).to_string_lossy().into_owned();
        xtask(&[
            cmd,
            "--registry",
            &d("registry"),
            "--templates",
            &d("templates"),
            "--out",
            &out.to_string_lossy(),
        ])
    }

    fn file(&self, p: &str) -> std::path::PathBuf {
        self.dir.join(p)
    }

    /// Replaces a template with `body`, runs gen, which must fail (exit 1),
    /// and returns what it printed.
    fn gen_with_template(&self, template: &str, body: &str) -> String {
        std::fs::write(self.file(&format!("templates/{template}")), body).unwrap();
        let out = self.run("gen");
        let t = text(&out);
        assert_eq!(out.status.code(), Some(1), "{t}");
        t
    }

    /// `check` must fail with exit code 1, naming `file` in its report.
    fn assert_drift(&self, file: &str) -> String {
        self.assert_drift_fixed_by(file, "fix: `cargo xtask gen`")
    }

    /// `check` fails naming `file` and the command that fixes it.
    fn assert_drift_fixed_by(&self, file: &str, fix: &str) -> String {
        let out = self.run("check");
        let t = text(&out);
        assert_eq!(
            out.status.code(),
            Some(1),
            "check should report drift:\n{t}"
        );
        assert!(t.contains(file), "the report should name {file}:\n{t}");
        let line = t
            .lines()
            .find(|l| l.starts_with("drift:") && l.contains(file))
            .unwrap_or_default();
        assert!(
            line.contains(fix),
            "the line naming {file} should say {fix}:\n{t}"
        );
        t
    }
}

#[test]
fn fresh_output_passes_check_and_regenerates_identically() {
    let p = Project::new();
    let out = p.run("check");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let before = tree(&p.file("generated"));
    let out = p.run("gen");
    assert!(
        text(&out).contains("gen: 0 written, 0 deleted"),
        "a second gen must write nothing: {}",
        text(&out)
    );
    assert_eq!(before, tree(&p.file("generated")));
}

/// gen records a digest of everything it read and of every file it left;
/// check and a repeated gen answer from that record, without rendering (and
/// say so), only while every input digests the same and the folder holds
/// exactly the recorded files. Any other run renders in full.
#[test]
fn the_record_of_the_last_run_is_trusted_only_while_nothing_changed() {
    const TRUSTED: &str = "note: no input changed since the last run";
    let p = Project::new();
    let run = |cmd: &str| {
        let out = p.run(cmd);
        (out.status.code(), text(&out))
    };
    let trusted = |cmd: &str| {
        let (code, t) = run(cmd);
        assert_eq!(code, Some(0), "{t}");
        t.contains(TRUSTED)
    };
    assert!(trusted("check"), "gen recorded its run");
    let (_, t) = run("gen");
    assert!(
        t.contains(TRUSTED) && t.contains("gen: 0 written, 0 deleted"),
        "{t}"
    );
    // A template changed in a way that changes no output: rendered again,
    // still clean, and recorded again.
    let template = p.file("templates/alerts/service_down.yaml");
    let before = std::fs::read_to_string(&template).unwrap();
    std::fs::write(&template, format!("{before}\n# a comment\n")).unwrap();
    assert!(!trusted("check"), "the templates are an input");
    assert!(trusted("check"), "a clean check records its run");
    // Any byte of the registry is an input (the generated crate's hash of it
    // is drift then).
    let services = p.file("registry/services.yaml");
    let before = std::fs::read_to_string(&services).unwrap();
    std::fs::write(&services, format!("{before}\n# a comment\n")).unwrap();
    let (code, t) = run("check");
    assert!(
        code == Some(1) && t.contains("registry.hash") && !t.contains(TRUSTED),
        "{t}"
    );
    assert!(!trusted("gen") && trusted("check"));
    // The same bytes written again are no change; any other byte is drift.
    let rules = p.file("generated/prometheus/rules/redis.rules.yml");
    let body = std::fs::read_to_string(&rules).unwrap();
    std::fs::write(&rules, &body).unwrap();
    assert!(trusted("check"));
    std::fs::write(&rules, body.replacen("for: '1m'", "for: '1m' ", 1)).unwrap();
    let (code, t) = run("check");
    assert_eq!(code, Some(1), "{t}");
    assert!(
        t.contains("prometheus/rules/redis.rules.yml") && !t.contains(TRUSTED),
        "{t}"
    );
    assert!(!trusted("gen") && trusted("check"), "gen mends and records");
    // The xtask's own binary is an input: a copy of it with one byte more
    // renders again (its record lies beside it).
    let bin = TempDir::new("bin");
    let exe = bin.join("xtask");
    std::fs::copy(env!("CARGO_BIN_EXE_xtask"), &exe).unwrap();
    let d = |s: &str| p.file(s).to_string_lossy().into_owned();
    let copy = |cmd: &str| {
        let out = std::process::Command::new(&exe)
            .args([
                cmd,
                "--registry",
                &d("registry"),
                "--templates",
                &d("templates"),
            ])
            .args(["--out", &d("generated")])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        text(&out).contains(TRUSTED)
    };
    assert!(!copy("check") && copy("check"));
    let mut bytes = std::fs::read(&exe).unwrap();
    bytes.push(0);
    std::fs::write(&exe, bytes).unwrap();
    assert!(!copy("check"), "the binary is an input");
}

#[test]
fn edited_generated_file_is_drift_with_a_diff() {
    let p = Project::new();
    let f = p.file("generated/prometheus/rules/redis.rules.yml");
    let edited = std::fs::read_to_string(&f)
        .unwrap()
        .replace("for: '1m'", "for: '9m'");
    std::fs::write(&f, edited).unwrap();
    let t = p.assert_drift("prometheus/rules/redis.rules.yml");
    assert!(
        t.contains("-        for: '9m'") && t.contains("+        for: '1m'"),
        "unified diff expected:\n{t}"
    );
}

#[test]
fn deleted_generated_file_is_drift() {
    let p = Project::new();
    std::fs::remove_file(p.file("generated/prometheus/rules/sentry.rules.yml")).unwrap();
    p.assert_drift("prometheus/rules/sentry.rules.yml");
}

#[test]
fn stray_file_is_drift_and_gen_leaves_it_alone() {
    let p = Project::new();
    std::fs::write(p.file("generated/prometheus/rules/notes.yml"), "mine\n").unwrap();
    p.assert_drift_fixed_by("prometheus/rules/notes.yml", "fix: `rm ");
    let out = p.run("gen");
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(p.file("generated/prometheus/rules/notes.yml")).unwrap(),
        "mine\n"
    );
}

#[test]
fn registry_change_is_drift_and_gen_deletes_what_it_no_longer_produces() {
    let p = Project::new();
    let f = p.file("registry/services.yaml");
    let text_before = std::fs::read_to_string(&f).unwrap();
    // Drop the `sentry` service: its rule file must go.
    let start = text_before.find("  - name: sentry\n").unwrap();
    let end = start + text_before[start..].find("  - name: langfuse\n").unwrap();
    std::fs::write(
        &f,
        format!("{}{}", &text_before[..start], &text_before[end..]),
    )
    .unwrap();
    p.assert_drift("prometheus/rules/sentry.rules.yml");
    let out = p.run("gen");
    assert!(
        text(&out).contains("/prometheus/rules/sentry.rules.yml (no longer generated)"),
        "{}",
        text(&out)
    );
    assert!(
        !p.file("generated/prometheus/rules/sentry.rules.yml")
            .exists()
    );
    assert_eq!(p.run("check").status.code(), Some(0));
}

#[test]
fn template_change_is_drift() {
    let p = Project::new();
    let f = p.file("templates/alerts/service_down.yaml");
    let edited = std::fs::read_to_string(&f)
        .unwrap()
        .replace("for: 1m", "for: 2m");
    std::fs::write(&f, edited).unwrap();
    p.assert_drift("prometheus/rules/redis.rules.yml");
}

/// A folder gen never wrote (no manifest of its own) is a person's: gen
/// refuses to write there, naming a file, and with `--force` writes its
/// files but still deletes nothing.
#[test]
fn out_pointed_at_a_persons_folder_is_refused_and_force_deletes_nothing() {
    let p = Project::new();
    let theirs = TempDir::new("theirs");
    std::fs::write(theirs.join("important.txt"), "keep me\n").unwrap();
    std::fs::write(theirs.join("manifest.txt"), "important.txt\n").unwrap();
    std::fs::create_dir_all(theirs.join("prometheus")).unwrap();
    std::fs::write(theirs.join("prometheus/prometheus.yml"), "# mine\n").unwrap();
    let before = tree(theirs.path());
    let out = p.run_into("gen", theirs.path());
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(
        t.contains("holds files that gen did not write (first: important.txt)")
            && t.contains("--force"),
        "{t}"
    );
    assert_eq!(before, tree(theirs.path()), "nothing may change");

    let d = |s: &str| p.file(s).to_string_lossy().into_owned();
    let out = xtask(&[
        "gen",
        "--force",
        "--registry",
        &d("registry"),
        "--templates",
        &d("templates"),
        "--out",
        &theirs.0.to_string_lossy(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(theirs.join("important.txt")).unwrap(),
        "keep me\n"
    );
    // Now gen's folder: a second gen needs no --force and deletes nothing.
    let out = p.run_into("gen", theirs.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(theirs.join("important.txt").exists());
}

/// In gen's own folder, a file its manifest does not list is a person's
/// even where gen would write the same path (a rule file written by hand
/// before the service was registered): gen refuses to overwrite it.
#[test]
fn gen_never_overwrites_a_file_it_did_not_write() {
    let p = Project::new();
    let theirs = p.file("generated/prometheus/rules/billing.rules.yml");
    std::fs::write(&theirs, "# written by hand\n").unwrap();
    let reg = p.file("registry/billing.yaml");
    std::fs::write(
        &reg,
        "services:\n  - name: billing\n    type: docker\n    host: 127.0.0.1\n    port: 8080\n    health_endpoint: /health\n    alerts: [service_down]\n    owner: backend-team\n",
    )
    .unwrap();
    let before = tree(&p.file("generated"));
    let out = p.run("gen");
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(
        t.contains("billing.rules.yml exists and gen did not write it") && t.contains("--force"),
        "{t}"
    );
    assert_eq!(before, tree(&p.file("generated")), "nothing may change");
    std::fs::remove_file(&theirs).unwrap();
    let out = p.run("gen");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(p.run("check").status.code(), Some(0));
}

/// The gate sees every file under the output folder: one in a folder named
/// `target` (which the deploy job would apply) is drift; only the
/// known-routes crate's own cargo folder is not gen's business.
#[test]
fn a_foreign_file_in_any_folder_fails_check_but_cargos_target_of_the_crate() {
    let p = Project::new();
    let cargo = p.file("generated/rust/known-routes/target/debug/build.log");
    std::fs::create_dir_all(cargo.parent().unwrap()).unwrap();
    std::fs::write(&cargo, "cargo's\n").unwrap();
    let out = p.run("check");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for evil in [
        "kubernetes/target/evil.yaml",
        "grafana/dashboards/target/evil.json",
        "target/x.yml",
        "rust/target/x",
    ] {
        let f = p.file(&format!("generated/{evil}"));
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(&f, "kind: ClusterRoleBinding\n").unwrap();
        p.assert_drift_fixed_by(evil, "fix: `rm ");
        std::fs::remove_file(&f).unwrap();
    }
    let ignore = std::fs::read_to_string(root().join(".gitignore")).unwrap();
    let under_generated: Vec<&str> = ignore
        .lines()
        .filter(|l| l.contains("generated/") && !l.starts_with('#'))
        .collect();
    assert_eq!(
        under_generated,
        ["/generated/rust/known-routes/target"],
        ".gitignore may hide only what the gate exempts"
    );
}

#[test]
fn broken_template_writes_nothing_and_names_the_template() {
    let p = Project::new();
    let before = tree(&p.file("generated"));
    let t = p.gen_with_template(
        "prometheus/rules.yml.j2",
        "groups:\n{% for g in groups %}\n  - name: {{ g.nmae | yaml }}\n{% endfor %}\n",
    );
    assert!(
        t.contains("prometheus/rules.yml.j2:3"),
        "the error must name the template and line:\n{t}"
    );
    assert_eq!(before, tree(&p.file("generated")), "nothing may be written");

    // A template that renders invalid YAML is caught before writing, too.
    std::fs::write(p.file("templates/prometheus/rules.yml.j2"), "groups: [\n").unwrap();
    let out = p.run("gen");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("not valid Yaml"), "{}", text(&out));
    assert_eq!(before, tree(&p.file("generated")));
}

/// Each artefact's outputs are staged as soon as it is rendered, so a run
/// no longer holds them all: a template that breaks in the last artefact,
/// after the others were staged, must still leave the folder as it was (no
/// file changed, no temporary file left) and create nothing in a new one.
#[test]
fn a_template_broken_in_the_last_artefact_writes_nothing() {
    let p = Project::new();
    let before = tree(&p.file("generated"));
    // Earlier artefacts (Prometheus config, ServiceMonitors, Probes) now
    // differ from what is on disk, so they are staged before the failure.
    let teams = p.file("registry/teams.yaml");
    let t = std::fs::read_to_string(&teams).unwrap();
    let changed = t.replacen("scrape_interval: 15s", "scrape_interval: 20s", 1);
    assert_ne!(changed, t);
    std::fs::write(&teams, changed).unwrap();
    let t = p.gen_with_template(
        "typescript/known-pages.ts.j2",
        "{{ pages | no_such_filter }}\n",
    );
    assert!(t.contains("known-pages.ts.j2"), "{t}");
    assert_eq!(before, tree(&p.file("generated")), "nothing may change");

    let fresh = p.file("fresh-out");
    let out = p.run_into("gen", &fresh);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(!fresh.exists(), "a new folder is not even created");
}

#[test]
fn usage_and_io_errors_exit_2() {
    assert_eq!(xtask(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(xtask(&["gen", "--bogus"]).status.code(), Some(2));
    assert_eq!(
        xtask(&["check", "--registry", "/nonexistent/registry"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn output_is_independent_of_cwd_env_and_file_order() {
    let p = Project::new();
    let reference = tree(&p.file("generated"));
    // Same registry split differently and named in another order: same output.
    let reg = TempDir::new("reordered");
    // Every file of the registry, whatever it holds, renamed so that the
    // files sort in the opposite order.
    let mut files: Vec<_> = std::fs::read_dir(p.file("registry"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|f| f.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for (i, f) in files.iter().enumerate() {
        let name = f.file_name().unwrap().to_string_lossy();
        std::fs::copy(f, reg.join(&format!("{:04}-{name}", 9999 - i))).unwrap();
    }
    let out_dir = TempDir::new("reordered-out");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "gen",
            "--registry",
            &reg.0.to_string_lossy(),
            "--templates",
            &p.file("templates").to_string_lossy(),
            "--out",
            &out_dir.0.to_string_lossy(),
        ])
        .current_dir(std::env::temp_dir())
        .env("TZ", "Asia/Taipei")
        .env("LC_ALL", "zh_TW.UTF-8")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let strip_headers = |t: Vec<(String, Vec<u8>)>| -> Vec<(String, String)> {
        t.into_iter()
            .map(|(p, b)| {
                (
                    p,
                    String::from_utf8(b)
                        .unwrap()
                        .lines()
                        .filter(|l| {
                            !l.contains("Generated by `cargo xtask gen`") && !l.contains("fnv1a64:")
                        })
                        .collect::<Vec<_>>()
                        .join("\n"),
                )
            })
            .collect()
    };
    // Headers name the files and the content hash covers their names; the rest
    // must not depend on them.
    let (a, b) = (strip_headers(reference), strip_headers(tree(&out_dir.0)));
    assert_eq!(
        a.iter().map(|(p, _)| p).collect::<Vec<_>>(),
        b.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    for ((path, x), (_, y)) in a.iter().zip(&b) {
        assert!(
            x == y,
            "{path} depends on the working directory, environment or file order"
        );
    }
}

/// A new catalogue alert with a misspelt variable fails gen (and check) at
/// once, before any registry uses it.
#[test]
fn a_catalogue_alert_with_an_unknown_variable_fails_before_it_is_used() {
    let p = Project::new();
    let base = std::fs::read_to_string(p.file("templates/alerts/memory_high.yaml")).unwrap();
    let typo = base
        .replace("alert: MemoryHigh", "alert: MemoryHigher")
        .replace("> {{ threshold }}", "> {{ treshold }}");
    assert_ne!(typo, base);
    std::fs::write(p.file("templates/alerts/memory_higher.yaml"), typo).unwrap();
    for cmd in ["gen", "check"] {
        let out = p.run(cmd);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(1), "{cmd}: {t}");
        assert!(
            t.contains("templates/alerts/memory_higher.yaml")
                && t.contains("`expr` uses `treshold`")
                && t.contains("did you mean `threshold`?"),
            "{cmd}: {t}"
        );
    }
}

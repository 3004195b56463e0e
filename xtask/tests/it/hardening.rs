//! Interrupted runs, symbolic links and nested folders: gen recovers from a run
//! stopped half-way, follows links in the registry, refuses links in its output
//! folder and refuses an output folder nested with the registry.

use crate::common::*;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn run_gen(reg: &Path, out: &Path) -> std::process::Output {
    on("gen", reg, out)
}

fn check(reg: &Path, out: &Path) -> std::process::Output {
    on("check", reg, out)
}

fn registry_of(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("r.yaml"), xtask::cmd::bench::synthetic_registry(n)).unwrap();
}

#[test]
fn a_run_stopped_half_way_leaves_nothing_the_next_gen_cannot_remove() {
    let t = TempDir::new("orphans");
    let (small, big, out) = (t.join("small"), t.join("big"), t.join("out"));
    registry_of(&small, 10);
    registry_of(&big, 1000);
    assert!(run_gen(&small, &out).status.success());
    // Stop a large gen at several moments while it writes.
    for delay_ms in [150, 300, 600, 900, 1400] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["gen", "--registry", &big.to_string_lossy()])
            .args(["--out", &out.to_string_lossy()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let o = run_gen(&small, &out);
        assert!(o.status.success(), "{}", text(&o));
        let c = check(&small, &out);
        assert!(
            c.status.success(),
            "after a gen stopped at {delay_ms} ms, one gen must make check green:\n{}",
            text(&c)
        );
    }
}

#[test]
fn symbolic_links_in_the_registry_are_followed_and_loops_refused() {
    let t = TempDir::new("links");
    let shared = t.join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::write(
        shared.join("api.yaml"),
        "api_endpoints:\n  - path: /api/v1/x\n    method: GET\n    slo_availability: 99.9\n    service: web\n",
    )
    .unwrap();
    let reg = t.join("reg");
    std::fs::create_dir_all(&reg).unwrap();
    std::fs::write(
        reg.join("s.yaml"),
        "services:\n  - name: web\n    type: docker\n    host: 127.0.0.1\n    port: 8080\n    owner: team\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&shared, reg.join("linked")).unwrap();
    let out = t.join("out");
    let o = run_gen(&reg, &out);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        out.join("prometheus/slo/web.rules.yml").exists(),
        "the endpoint in the linked folder must not vanish:\n{}",
        text(&o)
    );
    std::os::unix::fs::symlink(&reg, reg.join("loop")).unwrap();
    let o = run_gen(&reg, &t.join("out2"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("a loop"), "{}", text(&o));
}

#[test]
fn a_symbolic_link_inside_the_output_folder_is_refused() {
    let t = TempDir::new("outlink");
    let reg = root().join("registry");
    let out = t.join("out");
    assert!(run_gen(&reg, &out).status.success());
    let elsewhere = t.join("elsewhere");
    std::fs::rename(out.join("prometheus"), &elsewhere).unwrap();
    std::fs::write(elsewhere.join("rules/stale.rules.yml"), "groups: []\n").unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("prometheus")).unwrap();
    for o in [run_gen(&reg, &out), check(&reg, &out)] {
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(
            text(&o).contains("is a symbolic link inside the output folder"),
            "{}",
            text(&o)
        );
    }
}

#[test]
fn an_output_folder_nested_with_the_registry_is_refused_before_writing() {
    let t = TempDir::new("nested");
    let reg = t.join("reg");
    registry_of(&reg, 20);
    let before = tree(&reg);
    for out in [reg.clone(), reg.join("generated"), t.path().to_path_buf()] {
        let o = run_gen(&reg, &out);
        assert_eq!(o.status.code(), Some(2), "{}: {}", out.display(), text(&o));
        assert!(text(&o).contains("the registry folder"), "{}", text(&o));
        assert_eq!(tree(&reg), before, "nothing may be written");
    }
}

#[test]
fn a_second_gen_into_the_same_folder_stops_naming_the_first() {
    let t = TempDir::new("lock");
    let reg = t.join("reg");
    registry_of(&reg, 20);
    let out = t.join("out");
    assert!(run_gen(&reg, &out).status.success());
    // Hold the lock as a running gen would.
    let held = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(out.join(monitoring::write::LOCK))
        .unwrap();
    held.try_lock().unwrap();
    std::fs::write(out.join(monitoring::write::LOCK), "process 4242").unwrap();
    let o = run_gen(&reg, &out);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("another gen (process 4242) is writing to"),
        "{}",
        text(&o)
    );
    drop(held);
    std::fs::remove_file(out.join(monitoring::write::LOCK)).unwrap();
    // Two real gens at once: each either finishes or names the other; the
    // folder ends up valid.
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["gen", "--registry", &reg.to_string_lossy()])
            .args(["--out", &out.to_string_lossy()])
            .output()
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(spawn);
        let b = s.spawn(spawn);
        (a.join().unwrap().unwrap(), b.join().unwrap().unwrap())
    });
    for o in [&a, &b] {
        assert!(
            o.status.success() || text(o).contains("error: another gen "),
            "{}",
            text(o)
        );
    }
    assert!(check(&reg, &out).status.success());
}

/// Registry strings are data in every consumer's template language: `{{` in a
/// runbook URL is not a Go template in Prometheus's annotation, and `$`/`[[`
/// in an endpoint path are not Grafana variables in a dashboard query.
#[test]
#[cfg_attr(
    not(has_promtool),
    ignore = "promtool not found (Debian package prometheus; `.ci/run --install-only` installs it)"
)]
fn template_markers_in_registry_strings_stay_literal() {
    let t = TempDir::new("markers");
    let reg = t.join("reg");
    std::fs::create_dir_all(&reg).unwrap();
    let runbook = "https://wiki.example.org/{{$labels.service}}/{{.Foo}}";
    std::fs::write(
        reg.join("r.yaml"),
        format!(
            "services:\n  - name: s\n    type: docker\n    host: 127.0.0.1\n    port: 80\n    health_endpoint: /h\n    alerts: [service_down]\n    owner: t\n    runbook_url: '{runbook}'\n\
             api_endpoints:\n  - path: '/api/$__range/[[var]]/${{x}}'\n    method: GET\n    service: s\n    slo_availability: 99.9\n\
             defaults: {{runbook_base_url: 'https://wiki.example.org/{{{{x}}}}', api_owner: t}}\n\
             settings: {{alertmanager: {{default_webhook_url: 'http://127.0.0.1:1/x'}}}}\n"
        ),
    )
    .unwrap();
    let out = t.join("out");
    let o = run_gen(&reg, &out);
    assert!(o.status.success(), "{}", text(&o));
    // The generated unit test expects the URL exactly as written; promtool proves
    // Prometheus expands the annotation to it.
    let test = std::fs::read_to_string(out.join("prometheus/tests/s.test.yml")).unwrap();
    assert!(
        test.contains(runbook),
        "the expected runbook_url is not literal:\n{test}"
    );
    if require_tool("promtool", "prometheus") {
        promtool_ok(
            ["test", "rules", "tests/s.test.yml"],
            Some(&out.join("prometheus")),
            "the literal runbook_url",
        );
    }
    // No query of any dashboard holds something Grafana would substitute.
    let mut queries = 0;
    for (name, bytes) in tree(&out.join("grafana")) {
        let text = String::from_utf8(bytes).unwrap();
        for line in text.lines().filter(|l| l.contains("\"expr\"")) {
            queries += 1;
            for marker in ["$__range", "[[var]]", "${x}"] {
                assert!(
                    !line.contains(marker),
                    "{name}: Grafana would substitute {marker} in {line}"
                );
            }
        }
    }
    assert!(queries > 0);
}

/// Ctrl-C and SIGTERM stop gen cleanly: exit 130/143 with a message, no
/// temporary or lock file left, and one gen of the small registry makes
/// check green (no orphan of the stopped run survives). Signals are sent while
/// gen renders and while it stages its outputs (temporary files appear as each
/// artefact is rendered); each phase must be hit at least once, and a stop
/// before the renames leaves the folder byte for byte as it was.
#[test]
fn sigint_and_sigterm_stop_gen_cleanly() {
    let t = TempDir::new("signals");
    let (small, big, out) = (t.join("small"), t.join("big"), t.join("out"));
    registry_of(&small, 10);
    registry_of(&big, 1000);
    assert!(run_gen(&small, &out).status.success());
    let files_before = file_count(&out);
    let mut phases = std::collections::BTreeSet::new();
    let attempts = [
        ("INT", 130, false),
        ("TERM", 143, true),
        ("INT", 130, true),
        ("TERM", 143, false),
        ("TERM", 143, true),
        ("INT", 130, false),
    ];
    for (signal, code, while_writing) in attempts {
        let before = tree(&out);
        let child = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["gen", "--registry", &big.to_string_lossy()])
            .args(["--out", &out.to_string_lossy()])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        if while_writing {
            // Files beyond the lock file appear: gen is staging its outputs.
            let start = std::time::Instant::now();
            while file_count(&out) <= files_before + 1 && start.elapsed() < Duration::from_secs(60)
            {
                std::thread::sleep(Duration::from_millis(2));
            }
        } else {
            std::thread::sleep(Duration::from_millis(100));
        }
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let o = child.wait_with_output().unwrap();
        let s = text(&o);
        if o.status.success() {
            continue; // finished before the signal arrived: this attempt proves nothing
        }
        assert_eq!(
            o.status.code(),
            Some(code),
            "SIG{signal}: not a clean stop:\n{s}"
        );
        assert!(s.contains("stopped by"), "{s}");
        if s.contains("before anything was written") {
            assert_eq!(before, tree(&out), "SIG{signal}: the folder changed");
            phases.insert(if while_writing {
                "staging"
            } else {
                "rendering"
            });
        } else {
            phases.insert("renaming");
        }
        let left: Vec<String> = walkdir::WalkDir::new(&out)
            .into_iter()
            .filter_map(Result::ok)
            .map(|e| e.path().to_string_lossy().into_owned())
            .filter(|p| p.ends_with(".tmp") || p.ends_with(".xtask-gen.lock"))
            .collect();
        assert!(left.is_empty(), "SIG{signal}: left behind {left:?}");
        let o = run_gen(&small, &out);
        assert!(o.status.success(), "{}", text(&o));
        let c = check(&small, &out);
        assert!(
            c.status.success(),
            "after SIG{signal} one gen must make check green:\n{}",
            text(&c)
        );
    }
    assert!(
        phases.contains("rendering") && phases.len() >= 2,
        "signals hit only {phases:?}"
    );
}

/// A write that fails half-way (a file-size limit stands in for a full disk:
/// both fail `write` mid-run) exits 2 naming the file; once the limit is gone
/// one gen finishes the job, and gen of another registry leaves no orphan.
#[test]
fn a_failed_write_half_way_is_recovered_by_the_next_gen() {
    let t = TempDir::new("full");
    let (small, big, out) = (t.join("small"), t.join("big"), t.join("out"));
    registry_of(&small, 10);
    registry_of(&big, 300);
    assert!(run_gen(&small, &out).status.success());
    // 16 KiB per file: the large rule and dashboard files cannot be written.
    let script = format!(
        "ulimit -f 16; trap '' XFSZ; exec '{}' gen --registry '{}' --out '{}'",
        env!("CARGO_BIN_EXE_xtask"),
        big.display(),
        out.display()
    );
    let o = Command::new("sh").args(["-c", &script]).output().unwrap();
    let s = text(&o);
    assert_eq!(o.status.code(), Some(2), "{s}");
    assert!(
        s.contains("error: cannot write") && s.contains("File too large"),
        "{s}"
    );
    assert!(
        s.contains("= help: free space on that disk"),
        "a system error gets a hint: {s}"
    );
    let o = run_gen(&big, &out);
    assert!(o.status.success(), "{}", text(&o));
    assert!(check(&big, &out).status.success());
    let o = run_gen(&small, &out);
    assert!(o.status.success(), "{}", text(&o));
    let c = check(&small, &out);
    assert!(c.status.success(), "{}", text(&c));
}

/// Files under `dir` while another process writes there (entries may vanish).
fn file_count(dir: &Path) -> usize {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .count()
}

/// A `*.yaml` that is not a regular file is refused by name (never skipped
/// without a word), and so is a file name with an invisible character, which
/// would reach every generated header (a U+2028 ends a line in TypeScript).
#[test]
fn odd_registry_entries_are_refused_by_name() {
    let base = "services:\n  - {name: s, type: docker, host: 127.0.0.1, port: 80, owner: t}\nteams:\n  t: {webhook_url: 'http://127.0.0.1:1/t'}\n";
    type Make<'a> = &'a dyn Fn(&Path);
    let cases: [(&str, Make, &str); 4] = [
        (
            "fifo",
            &|reg| {
                let o = Command::new("mkfifo")
                    .arg(reg.join("pipe.yaml"))
                    .output()
                    .unwrap();
                assert!(o.status.success(), "mkfifo: {}", text(&o));
            },
            "pipe.yaml is a named pipe, not a file",
        ),
        (
            "device",
            &|reg| std::os::unix::fs::symlink("/dev/zero", reg.join("zero.yaml")).unwrap(),
            "zero.yaml is a device, not a file",
        ),
        (
            "line separator",
            &|reg| std::fs::write(reg.join("a\u{2028}b.yaml"), "teams: {}\n").unwrap(),
            "holds the invisible character U+2028",
        ),
        (
            "carriage return",
            &|reg| std::fs::write(reg.join("a\rb.yaml"), "teams: {}\n").unwrap(),
            "holds the invisible character U+000D",
        ),
    ];
    for (what, make, message) in cases {
        let t = TempDir::new("odd");
        let reg = t.join("reg");
        std::fs::create_dir_all(&reg).unwrap();
        std::fs::write(reg.join("base.yaml"), base).unwrap();
        make(&reg);
        let out = run_gen(&reg, &t.join("out"));
        let s = text(&out);
        assert_eq!(out.status.code(), Some(2), "{what}: {s}");
        assert!(s.contains(message) && s.contains("help:"), "{what}: {s}");
        assert!(
            !s.contains("template rendered invalid output"),
            "{what}: {s}"
        );
        assert!(!t.join("out").exists(), "{what}: nothing may be written");
    }
}

/// A command-line argument that is not UTF-8 is a usage error, not a panic.
#[test]
fn a_non_utf8_argument_exits_2_with_a_message() {
    use std::os::unix::ffi::OsStrExt;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("gen")
        .arg("--out")
        .arg(std::ffi::OsStr::from_bytes(b"/tmp/\xff\xfe"))
        .output()
        .unwrap();
    let s = text(&out);
    assert_eq!(out.status.code(), Some(2), "{s}");
    assert!(
        s.contains("is not valid UTF-8") && s.contains("help:"),
        "{s}"
    );
    assert!(!s.contains("panicked"), "{s}");
}

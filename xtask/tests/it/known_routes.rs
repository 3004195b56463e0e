//! The known-routes code modules: the Rust crate builds and passes its own unit
//! tests, its build script catches a stale module, TypeScript compiles under
//! `tsc --strict`, and hostile page names and paths round-trip exactly in both.

use crate::common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

/// A cargo target folder shared by these tests, inside the workspace's.
fn target_dir() -> PathBuf {
    root().join("target/known-routes-tests")
}

fn cargo(args: &[&str], manifest: &Path, env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(args)
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir());
    cmd.env_remove("CI").env_remove("KNOWN_ROUTES_REGISTRY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn the_checked_in_crate_is_fresh_and_passes_its_tests() {
    let manifest = root().join("generated/rust/known-routes/Cargo.toml");
    let out = cargo(&["test"], &manifest, &[("CI", "true")]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("every_registered_page_is_known ... ok"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_stale_module_warns_locally_and_fails_under_ci() {
    let t = TempDir::new("stale");
    copy_example(&t.join("registry"));
    let out = gen_into(&t.join("registry"));
    copy_dir(&out.join("rust/known-routes"), &t.join("crate"));
    let _ = std::fs::remove_dir_all(t.join("crate/target"));
    let manifest = t.join("crate/Cargo.toml");
    let reg = t.join("registry").to_string_lossy().into_owned();
    let fresh = cargo(
        &["build", "-q"],
        &manifest,
        &[("KNOWN_ROUTES_REGISTRY", &reg), ("CI", "true")],
    );
    assert!(fresh.status.success(), "{}", text(&fresh));

    // Someone adds a page and forgets `cargo xtask gen`.
    let pages = t.join("registry/pages.yaml");
    let mut text_now = std::fs::read_to_string(&pages).unwrap();
    text_now.push_str("  - path: /settings\n    name: Settings\n");
    std::fs::write(&pages, text_now).unwrap();
    let local = cargo(&["build"], &manifest, &[("KNOWN_ROUTES_REGISTRY", &reg)]);
    assert!(local.status.success());
    assert!(
        text(&local).contains("warning: known-routes@0.1.0: known-routes is stale"),
        "{}",
        text(&local)
    );
    let ci = cargo(
        &["build"],
        &manifest,
        &[("KNOWN_ROUTES_REGISTRY", &reg), ("CI", "true")],
    );
    assert!(
        !ci.status.success(),
        "a stale module must fail the build under CI=true:\n{}",
        text(&ci)
    );
    assert!(text(&ci).contains("run `cargo xtask gen`"));

    // gen brings both modules up to date, with the new page in each.
    let out = TempDir::new("stale-gen");
    let g = xtask(&["gen", "--registry", &reg, "--out", &out.0.to_string_lossy()]);
    assert!(g.status.success(), "{}", text(&g));
    assert!(
        std::fs::read_to_string(out.join("rust/known-routes/src/lib.rs"))
            .unwrap()
            .contains("\"/settings\"")
    );
    assert!(
        std::fs::read_to_string(out.join("typescript/known-pages.ts"))
            .unwrap()
            .contains("\"/settings\"")
    );
    for f in ["src/lib.rs", "registry.hash"] {
        std::fs::copy(
            out.join("rust/known-routes").join(f),
            t.join("crate").join(f),
        )
        .unwrap();
    }
    let fixed = cargo(
        &["build"],
        &manifest,
        &[("KNOWN_ROUTES_REGISTRY", &reg), ("CI", "true")],
    );
    assert!(fixed.status.success(), "{}", text(&fixed));
}

/// Compiles a program whose `main` runs `body` with the generated module as
/// `known`, runs it, and returns its output (it must compile and succeed).
fn run_with_module(t: &TempDir, lib: &Path, body: &str) -> std::process::Output {
    let main = t.join("main.rs");
    let source = format!(
        "#[path = {:?}]\n#[allow(dead_code)]\nmod known;\nfn main() {{ {body} }}\n",
        lib.to_string_lossy()
    );
    std::fs::write(&main, source).unwrap();
    let bin = t.join("main");
    let built = Command::new("rustc")
        .args(["--edition", "2021", "-o"])
        .arg(&bin)
        .arg(&main)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "the generated module does not compile:\n{}",
        text(&built)
    );
    let run = Command::new(&bin).output().unwrap();
    assert!(run.status.success(), "{}", text(&run));
    run
}

/// The pages of the hostile fixture, as the registry holds them.
fn hostile_pages() -> Vec<(String, String)> {
    let g = monitoring::generate(
        &root().join("fixtures/every-kind"),
        &root().join("templates"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let pages: Vec<(String, String)> = g
        .registry
        .pages
        .iter()
        .map(|p| (p.path.clone(), p.name.clone()))
        .collect();
    assert!(pages.iter().any(|(p, n)| p.contains('"')
        && n.contains("*/")
        && n.contains("${")
        && n.contains("</script>")));
    assert!(pages.iter().any(|(_, n)| n.contains('\u{2028}')));
    pages
}

#[test]
fn hostile_strings_round_trip_in_rust() {
    let t = gen_into(&root().join("fixtures/every-kind"));
    let lib = t.join("rust/known-routes/src/lib.rs");
    let run = run_with_module(
        &t,
        &lib,
        "for p in known::PAGES { assert!(known::is_known_page(p.path)); println!(\"{:?} {:?}\", p.path, p.name); } assert!(known::endpoint(\"GET\", \"/api/v1/items/42\").is_some());",
    );
    let expected: String = hostile_pages()
        .iter()
        .map(|(p, n)| format!("{p:?} {n:?}\n"))
        .collect();
    assert_eq!(String::from_utf8_lossy(&run.stdout), expected);
}

fn tsc() -> Option<PathBuf> {
    let local = root().join(".tools/node/node_modules/.bin/tsc");
    if local.exists() {
        return Some(local);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("tsc is missing under CI=true: .ci/run installs it into .tools/node");
    }
    eprintln!("SKIP: tsc not found (run .ci/run --install-only); this check runs in CI");
    None
}

#[test]
#[cfg_attr(
    not(all(has_tsc, has_node)),
    ignore = "tsc or node not found (`.ci/run --install-only` installs them)"
)]
fn typescript_compiles_strictly_and_round_trips_hostile_strings() {
    let Some(tsc) = tsc() else { return };
    if !require_tool("node", "nodejs") {
        return;
    }
    for (reg, pages) in [
        (root().join("registry"), None),
        (root().join("fixtures/every-kind"), Some(hostile_pages())),
    ] {
        let t = gen_into(&reg);
        let ts = t.join("typescript/known-pages.ts");
        let out = Command::new(&tsc)
            .args(["--noEmit", "--strict", "--target", "es2020"])
            .arg(&ts)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: tsc --strict:\n{}",
            reg.display(),
            text(&out)
        );
        let out = Command::new(&tsc)
            .args([
                "--strict", "--target", "es2020", "--module", "commonjs", "--outDir",
            ])
            .arg(t.join("js"))
            .arg(&ts)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let expected = match pages {
            Some(p) => p,
            None => monitoring::generate(&reg, &root().join("templates"))
                .unwrap_or_else(|e| panic!("{e}"))
                .registry
                .pages
                .iter()
                .map(|p| (p.path.clone(), p.name.clone()))
                .collect(),
        };
        std::fs::write(
            t.join("expected.json"),
            serde_json::to_string(&expected).unwrap(),
        )
        .unwrap();
        let check = r#"
const m = require("./js/known-pages.js");
const expected = require("./expected.json");
const got = m.PAGES.map((p) => [p.path, p.name]);
if (JSON.stringify(got) !== JSON.stringify(expected)) { console.error("pages differ", got, expected); process.exit(1); }
for (const [path] of expected) { if (!m.isKnownPage(path)) { console.error("unknown", path); process.exit(1); } }
if (m.isKnownPage("/not/registered")) { process.exit(1); }
console.log("ok", expected.length);
"#;
        std::fs::write(t.join("check.js"), check).unwrap();
        let run = Command::new("node")
            .arg("check.js")
            .current_dir(t.path())
            .output()
            .unwrap();
        assert!(run.status.success(), "{}: {}", reg.display(), text(&run));
    }
}

/// Control, format and bidi characters (Trojan Source) in page names: the
/// crate compiles, names round-trip, and its docs show them escaped.
#[test]
fn control_and_bidi_characters_build_and_are_escaped_in_docs() {
    let t = TempDir::new("bidi");
    let reg = t.join("reg");
    std::fs::create_dir_all(&reg).unwrap();
    // No `*/` in any name, so prettyplease prints the table as a block comment.
    let names = [
        "rtl \u{202E} override",
        "isolate \u{2066} first \u{2069}",
        "zero \u{200B} width",
        "bell \u{7} and del \u{7f}",
        "line \u{2028} and paragraph \u{2029}",
        "pipe | in a table",
    ];
    let pages: String = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("  - path: /p{i}\n    name: \"{}\"\n", yaml_escape(n)))
        .collect();
    std::fs::write(
        reg.join("r.yaml"),
        format!("pages:\n{pages}defaults: {{page_owner: web}}\nsettings: {{pages_base_url: 'http://127.0.0.1:1'}}\n"),
    )
    .unwrap();
    let out = t.join("out");
    let o = on("gen", &reg, &out);
    assert!(o.status.success(), "{}", text(&o));
    let lib = out.join("rust/known-routes/src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    // No raw control, format or separator character anywhere in the source.
    let raw: Vec<String> = source
        .chars()
        .filter(|&c| {
            !matches!(c, '\n' | '"' | '\'' | '\\')
                && format!("a{c}").escape_debug().to_string() != format!("a{c}")
        })
        .map(|c| format!("U+{:04X}", c as u32))
        .collect();
    assert!(raw.is_empty(), "raw characters in lib.rs: {raw:?}");
    // The doc table keeps three columns per row.
    for line in source.lines().filter(|l| l.contains("| `/p")) {
        let cells = line.replace("\\|", "").matches('|').count();
        assert_eq!(cells, 4, "a table row with a broken column: {line}");
    }
    let run = run_with_module(
        &t,
        &lib,
        "for p in known::PAGES { println!(\"{:?}\", p.name); }",
    );
    let expected: String = names.iter().map(|n| format!("{n:?}\n")).collect();
    assert_eq!(String::from_utf8_lossy(&run.stdout), expected);
}

/// A YAML double-quoted string body with every non-printable character as `\uXXXX`.
fn yaml_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' | '\\' => format!("\\{c}"),
            c if c.is_ascii_graphic() || c == ' ' => c.to_string(),
            c => format!("\\u{:04X}", c as u32),
        })
        .collect()
}

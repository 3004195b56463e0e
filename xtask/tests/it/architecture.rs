//! docs/architecture.md's claims, checked against the source: the layers of
//! the monitoring crate import only upward (its `layers` block), no module
//! imports itself round a cycle in any crate, only the files of its `writers`
//! block touch the disk, only the files of its `printers` block print, and no
//! function is longer than 80 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The longest function a reader should have to hold in their head.
const MAX_FUNCTION_LINES: usize = 80;

/// The three crates, by their source folder (relative to the workspace).
const CRATES: [&str; 3] = ["crates/registry/src", "crates/monitoring/src", "xtask/src"];

fn workspace() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file of a crate, as (module path, text): `plan/mod.rs` is
/// `plan`, `plan/alerts.rs` is `plan::alerts`, `lib.rs` is "".
fn modules(src: &str) -> BTreeMap<String, String> {
    let dir = workspace().join(src);
    walkdir::WalkDir::new(&dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
        .map(|e| {
            let rel = e.path().strip_prefix(&dir).unwrap().to_string_lossy();
            let rel = rel.trim_end_matches(".rs");
            let module = match rel {
                "lib" => String::new(),
                r => r.trim_end_matches("/mod").replace('/', "::"),
            };
            (module, std::fs::read_to_string(e.path()).unwrap())
        })
        .collect()
}

/// The source without comments and string contents, so prose and messages
/// that mention a path are not read as code.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut in_str = false;
        let mut prev = ' ';
        let mut kept = String::new();
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if !in_str && c == '/' && chars.get(i + 1) == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\\' {
                in_str = !in_str;
            }
            if !in_str || c == '"' {
                kept.push(c);
            }
            prev = if prev == '\\' && c == '\\' { ' ' } else { c };
            i += 1;
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

/// The modules of its own crate that `module` names: `crate::a::b`,
/// `super::x`, `{a, b}` groups after either, and child modules named
/// without a prefix. Each path resolves to the longest module it names.
fn imports(module: &str, text: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    // Unit tests (an inline module at the end of a file) import what they test.
    let code = code_only(text.split("#[cfg(test)]").next().unwrap());
    let children: Vec<&str> = code
        .lines()
        .filter_map(|l| {
            let l = l.trim_start().trim_start_matches("pub ").trim_start();
            let l = l.strip_prefix("pub(crate) ").unwrap_or(l);
            l.strip_prefix("mod ")?.strip_suffix(';')
        })
        .collect();
    let join = |base: &str, rest: &str| {
        if base.is_empty() {
            rest.to_owned()
        } else if rest.is_empty() {
            base.to_owned()
        } else {
            format!("{base}::{rest}")
        }
    };
    let parent = |m: &str| {
        m.rsplit_once("::")
            .map_or(String::new(), |(p, _)| p.to_owned())
    };
    let resolve = |path: &str| -> Option<String> {
        let parts: Vec<&str> = path.split("::").collect();
        (0..=parts.len())
            .rev()
            .map(|n| parts[..n].join("::"))
            .find(|m| known.contains(m))
    };
    let mut out = BTreeSet::new();
    let mut add = |base: String, tail: &str| {
        // `{a, b::c}` groups: each member.
        if let Some(group) = tail.strip_prefix('{') {
            let group = group.split('}').next().unwrap_or("");
            for member in group.split(',') {
                let member = member.split_whitespace().next().unwrap_or("");
                let member = member.trim_end_matches("::*");
                let member = if member == "self" { "" } else { member };
                if let Some(m) = resolve(&join(&base, member)) {
                    out.insert(m);
                }
            }
        } else {
            let path: String = tail
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            if let Some(m) = resolve(&join(&base, path.trim_end_matches(':'))) {
                out.insert(m);
            }
        }
    };
    // `super` is the parent module, for `plan/mod.rs` as for `plan/alerts.rs`.
    let here_parent = parent(module);
    for (i, _) in code.match_indices("crate::") {
        if code[..i].ends_with('$') {
            continue; // `$crate::` in a macro
        }
        add(String::new(), &code[i + "crate::".len()..]);
    }
    // An inline module's `super` is the file's own module.
    let inline = inline_modules(&code);
    for (i, _) in code.match_indices("super::") {
        if code[..i].ends_with("::") {
            continue;
        }
        let base = if inline.iter().any(|r| r.contains(&i)) {
            module.to_owned()
        } else {
            here_parent.clone()
        };
        add(base, &code[i + "super::".len()..]);
    }
    for child in children {
        let needle = format!("{child}::");
        for (i, _) in code.match_indices(&needle) {
            let before = code[..i].chars().last().unwrap_or(' ');
            if before.is_alphanumeric() || before == '_' || before == ':' {
                continue;
            }
            add(join(module, child), &code[i + needle.len()..]);
        }
    }
    out.remove(module);
    out
}

/// The byte ranges of `mod name { … }` blocks (rustfmt closes them at the
/// indentation they open at).
fn inline_modules(code: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut offset = 0;
    let lines: Vec<&str> = code.lines().collect();
    let mut starts = Vec::new();
    for l in &lines {
        starts.push(offset);
        offset += l.len() + 1;
    }
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_start();
        let indent = &l[..l.len() - t.len()];
        let t = t
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub ");
        if t.starts_with("mod ") && t.ends_with('{') {
            let close = format!("{indent}}}");
            if let Some(end) = lines[i..].iter().position(|x| *x == close) {
                out.push(starts[i]..starts[i + end]);
            }
        }
    }
    out
}

fn graph(src: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules(src);
    let known: BTreeSet<String> = mods.keys().cloned().collect();
    mods.iter()
        .map(|(m, text)| (m.clone(), imports(m, text, &known)))
        .collect()
}

/// A cycle in `g`, if there is one, as the modules round it.
fn cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        m: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(m) {
            Some(2) => return None,
            Some(1) => {
                let at = stack.iter().position(|s| s == m).unwrap();
                let mut c = stack[at..].to_vec();
                c.push(m.to_owned());
                return Some(c);
            }
            _ => {}
        }
        state.insert(m.to_owned(), 1);
        stack.push(m.to_owned());
        for d in g.get(m).into_iter().flatten() {
            if let Some(c) = visit(d, g, state, stack) {
                return Some(c);
            }
        }
        stack.pop();
        state.insert(m.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    g.keys()
        .find_map(|m| visit(m, g, &mut state, &mut Vec::new()))
}

/// The lines of a fenced block of docs/architecture.md (```` ```name ````).
fn doc_block(name: &str) -> Vec<String> {
    let doc = std::fs::read_to_string(workspace().join("docs/architecture.md")).unwrap();
    let start = format!("```{name}\n");
    let at = doc
        .find(&start)
        .unwrap_or_else(|| panic!("docs/architecture.md has no ```{name} block"));
    doc[at + start.len()..]
        .split("```")
        .next()
        .unwrap()
        .lines()
        .map(|l| l.split('#').next().unwrap().trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn no_module_imports_itself_round_a_cycle() {
    let mut found = Vec::new();
    for src in CRATES {
        let mut g = graph(src);
        assert!(g.len() > 5, "{src}: only {} modules found", g.len());
        // Every cycle, each found one broken at its last step to find the next.
        while let Some(c) = cycle(&g) {
            found.push(format!("{src}: {}", c.join(" → ")));
            let (from, to) = (&c[c.len() - 2], &c[c.len() - 1]);
            g.get_mut(from).unwrap().remove(to);
        }
    }
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

/// The checker sees a cycle, an upward import and a grouped import.
#[test]
fn the_import_reader_sees_what_a_module_names() {
    let known: BTreeSet<String> = ["", "a", "a::b", "a::c", "a::d", "a::x", "e"]
        .map(String::from)
        .into();
    let text = "use crate::a::b::Thing;\nuse super::{c, d::X};\n// crate::e\n\
                let s = \"crate::e\";\n#[cfg(test)]\nuse crate::e;\n";
    let got = imports("a::x", text, &known);
    assert_eq!(got, ["a::b", "a::c", "a::d"].map(String::from).into());
    let mut g = BTreeMap::new();
    g.insert("p".to_owned(), BTreeSet::from(["q".to_owned()]));
    g.insert("q".to_owned(), BTreeSet::from(["p".to_owned()]));
    assert!(cycle(&g).is_some());
    g.get_mut("q").unwrap().clear();
    assert!(cycle(&g).is_none());
}

/// The monitoring crate's layers, as the doc lists them: each module
/// imports only modules of its own layer or of layers above it.
#[test]
fn the_monitoring_layers_import_only_upward() {
    let layers = doc_block("layers");
    let rank: BTreeMap<String, usize> = layers
        .iter()
        .enumerate()
        .flat_map(|(i, l)| l.split_whitespace().map(move |m| (m.to_owned(), i)))
        .map(|(m, i)| (if m == "(lib)" { String::new() } else { m }, i))
        .collect();
    let top = |m: &str| m.split("::").next().unwrap().to_owned();
    let g = graph("crates/monitoring/src");
    for (m, deps) in &g {
        let r = *rank
            .get(&top(m))
            .unwrap_or_else(|| panic!("module `{m}` is in no layer of docs/architecture.md"));
        for d in deps {
            let rd = rank[&top(d)];
            assert!(
                rd <= r,
                "`{m}` (layer {}) imports `{d}` (layer {}), a later layer: {layers:?}",
                r + 1,
                rd + 1
            );
        }
    }
}

/// Which files may write to the disk, and which may print, as the doc says.
fn files_that(markers: &[&str]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for src in CRATES {
        let dir = workspace().join(src);
        for e in walkdir::WalkDir::new(&dir)
            .into_iter()
            .filter_map(Result::ok)
        {
            if e.path().extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let code = code_only(&std::fs::read_to_string(e.path()).unwrap());
            // Unit tests write their own scratch files.
            let code = code.split("#[cfg(test)]").next().unwrap();
            if markers.iter().any(|m| code.contains(m)) {
                let rel = e.path().strip_prefix(&dir).unwrap().to_string_lossy();
                out.insert(format!("{src}/{rel}"));
            }
        }
    }
    out
}

#[test]
fn only_the_files_the_doc_names_write_to_the_disk() {
    let writes = [
        "fs::write",
        "File::create",
        "OpenOptions",
        "fs::rename",
        "remove_file",
        "remove_dir",
        "create_dir",
        "fs::copy",
        "set_permissions",
    ];
    let found = files_that(&writes);
    let doc: BTreeSet<String> = doc_block("writers").into_iter().collect();
    assert_eq!(
        found, doc,
        "files that write (left) against docs/architecture.md's writers block (right)"
    );
}

#[test]
fn only_the_files_the_doc_names_print() {
    let prints = [
        "println!",
        "eprintln!",
        "outln!",
        "errln!",
        "print!(",
        "stdout()",
        "stderr()",
    ];
    let found = files_that(&prints);
    let doc: BTreeSet<String> = doc_block("printers").into_iter().collect();
    assert_eq!(
        found, doc,
        "files that print (left) against docs/architecture.md's printers block (right)"
    );
}

/// Functions of the three crates, with their length in lines (rustfmt's
/// layout: a body closes at the indentation it opened at).
fn functions() -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for src in CRATES {
        for (module, text) in modules(src) {
            let lines: Vec<&str> = text.lines().collect();
            for (i, l) in lines.iter().enumerate() {
                let t = l.trim_start();
                let indent = &l[..l.len() - t.len()];
                let t = t
                    .trim_start_matches("pub(crate) ")
                    .trim_start_matches("pub(super) ")
                    .trim_start_matches("pub ")
                    .trim_start_matches("const ");
                if !t.starts_with("fn ") || l.trim_end().ends_with(';') {
                    continue;
                }
                let close = format!("{indent}}}");
                let Some(end) = lines[i..].iter().position(|x| *x == close) else {
                    continue;
                };
                let name = t["fn ".len()..].split(['(', '<']).next().unwrap_or("");
                out.push((end + 1, format!("{src}: {module}::{name}")));
            }
        }
    }
    out
}

#[test]
fn no_function_is_longer_than_80_lines() {
    let fns = functions();
    assert!(fns.len() > 300, "only {} functions found", fns.len());
    let long: Vec<String> = fns
        .into_iter()
        .filter(|(n, _)| *n > MAX_FUNCTION_LINES)
        .map(|(n, f)| format!("{f} ({n} lines)"))
        .collect();
    assert!(
        long.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines:\n{}",
        long.join("\n")
    );
}

/// The registry crate does not depend on the template engine or the code
/// generators (it compiles beside them), and neither library on the xtask.
#[test]
fn the_registry_crate_needs_no_template_engine() {
    let manifest = |p: &str| std::fs::read_to_string(workspace().join(p)).unwrap();
    let registry = manifest("crates/registry/Cargo.toml");
    for heavy in [
        "minijinja",
        "syn",
        "quote",
        "prettyplease",
        "monitoring",
        "xtask",
    ] {
        assert!(
            !registry
                .lines()
                .any(|l| l.starts_with(&format!("{heavy} "))),
            "the registry crate depends on {heavy}"
        );
    }
    let monitoring = manifest("crates/monitoring/Cargo.toml");
    assert!(!monitoring.lines().any(|l| l.starts_with("xtask ")));
}

/// Product code names no test folder (the snapshots' fixture registries
/// were once read from `xtask/tests/fixtures`, init's example from
/// `xtask/tests/data/example`).
#[test]
fn product_code_does_not_know_the_tests_folder() {
    for src in CRATES {
        for (module, text) in modules(src) {
            let text = text.split("#[cfg(test)]").next().unwrap();
            assert!(
                !text.contains("xtask/tests") && !text.contains("tests/data"),
                "{src}: `{module}` names a path in the tests' folder"
            );
        }
    }
}

/// The library crates' errors are typed: no function of theirs returns
/// `Result<_, String>` (the render path once had 46).
#[test]
fn the_library_crates_return_no_string_errors() {
    let mut found = Vec::new();
    for src in &CRATES[..2] {
        for (module, text) in modules(src) {
            let mut signature = String::new();
            for line in code_only(&text).lines() {
                let t = line.trim_start();
                if !t.contains("fn ") && signature.is_empty() {
                    continue;
                }
                signature.push_str(t);
                if t.ends_with('{') || t.ends_with(';') {
                    let ret = signature.split("->").nth(1).unwrap_or("");
                    let ret = ret.trim().trim_end_matches(['{', ';', ' ']);
                    if ret.starts_with("Result<") && ret.ends_with(", String>") {
                        found.push(format!("{src}: {module}: {signature}"));
                    }
                    signature.clear();
                }
            }
        }
    }
    assert!(found.is_empty(), "String errors:\n{}", found.join("\n"));
}

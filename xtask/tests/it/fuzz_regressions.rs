//! Replays the fuzz target's seed corpus and every input that once crashed
//! it (`xtask/fuzz/regressions/`): loading and validation never panic, and
//! every regression is rejected with a positioned error.

use crate::common::*;

#[test]
fn fuzz_regressions_and_corpus_load_without_panicking() {
    let (catalogue, _) = registry::catalogue::load(
        &root().join("templates"),
        monitoring::templates::template_variables,
    )
    .unwrap_or_else(|e| panic!("{}", e.0));
    let mut n = 0;
    for dir in ["xtask/fuzz/regressions", "xtask/fuzz/corpus/registry"] {
        for (name, bytes) in tree(&root().join(dir)) {
            let Ok(text) = String::from_utf8(bytes) else {
                continue;
            };
            let (loaded, mut diags) = registry::load::load_text(&name, &text);
            let (registry, more) = registry::validate::validate(loaded, &catalogue);
            // As the fuzz target asserts: an accepted registry's Rust module
            // parses and shows no hidden character raw.
            if let Some(registry) = registry {
                let module = monitoring::artefacts::code::rust_module(&registry)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                let hidden = |c: char| c != '\n' && monitoring::templates::filters::is_hidden(c);
                assert!(
                    !module.chars().any(hidden),
                    "{name}: a raw hidden character"
                );
            }
            diags.extend(more);
            let rendered = registry::diagnostics::render_all(&mut diags);
            // The regressions are hostile inputs: each must be rejected with a
            // positioned error, not accepted or dropped silently.
            if dir.ends_with("regressions") {
                assert!(
                    diags.iter().any(|d| d.is_error()),
                    "{name} was accepted:\n{rendered}"
                );
                assert!(
                    rendered.contains(&format!("--> registry/{name}:")),
                    "{name}: no position in\n{rendered}"
                );
            }
            n += 1;
        }
    }
    assert!(n >= 5, "only {n} inputs");
}

//! Any bytes as a registry file: loading and validation must end in a registry
//! or in diagnostics, never in a panic, hang or unbounded allocation.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use registry::catalogue::{self, Catalogue};

fn catalogue() -> &'static Catalogue {
    static C: OnceLock<Catalogue> = OnceLock::new();
    C.get_or_init(|| {
        let templates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates");
        catalogue::load(&templates, monitoring::templates::template_variables).expect("templates/alerts").0
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (loaded, _) = registry::load::load_text("fuzz.yaml", text);
    let (registry, diags) = registry::validate::validate(loaded, catalogue());
    // Every diagnostic renders (positions within the text, no panics in snippets).
    for d in &diags {
        let _ = d.to_string();
    }
    let Some(registry) = registry else { return };
    let _ = monitoring::plan::coverage::compute(&registry);
    // Every accepted string builds: the Rust module parses and shows no hidden
    // (control, format, bidi) character raw, which rustc would refuse in docs.
    let module = monitoring::artefacts::code::rust_module(&registry).expect("the Rust module parses");
    let hidden = |c: char| c != '\n' && monitoring::templates::filters::is_hidden(c);
    assert!(!module.chars().any(hidden), "a raw hidden character in the Rust module");
});

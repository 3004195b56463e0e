//! The reviewed snapshots in `snapshots/`: the example registry's monitoring plan
//! and every artefact of each fixture registry. Accept changes with
//! `cargo insta review`. `cargo xtask check` compares the same texts.

#[test]
fn snapshots() {
    let root = xtask::project_root();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root.join(xtask::snapshots::DIR));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| {
        for (name, text) in xtask::snapshots::expected(&root).unwrap_or_else(|e| panic!("{e}")) {
            insta::assert_snapshot!(name, text);
        }
    });
}

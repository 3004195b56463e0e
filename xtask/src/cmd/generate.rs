//! `cargo xtask gen` and `cargo xtask check`: one render, then either written
//! (only what changed) or compared. On the project's own folders both also cover
//! the snapshots and the README's alert table, so after any change to the
//! registry or the templates one `gen` makes `check` pass.

use std::path::{Path, PathBuf};

use crate::flags::Paths;
use crate::record::{self, Record};
use crate::term::capped;
use crate::{Failure, outln, project_root};
use monitoring::digest::Digest;
use monitoring::output::{Output, REGENERATE};
use monitoring::write::{self, Foreign, Mode, Report};
use monitoring::{ParseBack, readme, snapshots, stream};
use registry::diagnostics;

/// File names listed before the rest are counted, unless `--verbose`.
const LISTED: usize = 20;

/// The folders of one run, and whether they are the project's own.
pub(crate) struct Folders {
    pub registry: PathBuf,
    pub templates: PathBuf,
    pub out: PathBuf,
    /// How the output folder is shown in messages: as the user spelled it.
    pub out_label: String,
    /// All three are the project's defaults (however spelled): the snapshots
    /// and the README describe exactly this registry, so they are kept too.
    pub project: Option<PathBuf>,
}

impl Folders {
    fn record(&self) -> record::Folders<'_> {
        record::Folders {
            registry: &self.registry,
            templates: &self.templates,
            out: &self.out,
            project: self.project.as_deref(),
        }
    }

    pub(crate) fn resolve(paths: &Paths) -> Folders {
        let root = project_root();
        let pick =
            |p: &Option<PathBuf>, default: &str| p.clone().unwrap_or_else(|| root.join(default));
        let registry = pick(&paths.registry, "registry");
        let templates = pick(&paths.templates, "templates");
        let out = pick(&paths.out, "generated");
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => a == b,
        };
        let project = (same(&registry, &root.join("registry"))
            && same(&templates, &root.join("templates"))
            && same(&out, &root.join("generated")))
        .then_some(root);
        let out_label = match &paths.out {
            Some(p) => p.display().to_string().trim_end_matches('/').to_owned(),
            None => "generated".to_owned(),
        };
        Folders {
            registry,
            templates,
            out,
            out_label,
            project,
        }
    }
}

/// `p` made absolute with symbolic links resolved, also when its last parts do
/// not exist yet (an output folder gen is about to create).
fn resolved(p: &Path) -> PathBuf {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut missing = Vec::new();
    let mut base = abs.as_path();
    loop {
        if let Ok(c) = base.canonicalize() {
            return missing.iter().rev().fold(c, |acc, part| acc.join(part));
        }
        match (base.parent(), base.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name.to_owned());
                base = parent;
            }
            _ => return abs,
        }
    }
}

/// The output folder may not be, or lie inside, the registry or template
/// folder (gen would read its own output as registry files), nor hold them
/// (gen would delete or overwrite them).
fn refuse_nesting(f: &Folders) -> Result<(), Failure> {
    let out = resolved(&f.out);
    for (what, dir) in [("registry", &f.registry), ("template", &f.templates)] {
        let dir = resolved(dir);
        let problem = if out == dir {
            "is the same folder as"
        } else if out.starts_with(&dir) {
            "is inside"
        } else if dir.starts_with(&out) {
            "contains"
        } else {
            continue;
        };
        return Err(Failure::Io(format!(
            "error: the output folder {} {problem} the {what} folder {}\n   = help: give --out a folder of its own, such as generated/ beside registry/; nothing was written",
            f.out.display(),
            dir.display()
        )));
    }
    Ok(())
}

/// Returns whether the run is clean (for check: no drift).
pub fn run(paths: &Paths, mode: Mode, foreign: Foreign, verbose: bool) -> Result<bool, Failure> {
    let f = Folders::resolve(paths);
    refuse_nesting(&f)?;
    // Before anything else: Ctrl-C during the digests stops gen cleanly too.
    if mode == Mode::Write {
        monitoring::interrupt::install();
    }
    let folders = f.record();
    std::thread::scope(|scope| {
        // The binary's digest on the other core; the input files' before
        // the run reads them, so an edit meanwhile shows at the end.
        scope.spawn(record::exe);
        let files = record::files(&folders);
        let last = Record::read(&folders).filter(|_| !verbose);
        if let (Some(last), Some(inputs)) = (last, files.and_then(record::inputs))
            && let Some(clean) = recorded(&f, last, inputs, mode)?
        {
            return Ok(clean);
        }
        let (clean, rec) = render(&f, mode, foreign, verbose)?;
        // Recorded only when no input file changed while the run read them
        // (and the README it may have rewritten is read again).
        match files {
            Some(files) if clean && record::files(&folders) == Some(files) => {
                if let Some(inputs) = record::inputs(files) {
                    rec.with_inputs(inputs).write(&folders);
                }
            }
            _ if mode == Mode::Write => Record::forget(&folders),
            _ => {}
        }
        Ok(clean)
    })
}

/// The answer of the folders' last record, when every input digests as
/// recorded and the folders hold exactly the recorded files: nothing to
/// render. gen looks under the folder's lock, so it never answers while
/// another writes.
fn recorded(f: &Folders, rec: Record, inputs: Digest, mode: Mode) -> Result<Option<bool>, Failure> {
    if rec.inputs != inputs {
        return Ok(None);
    }
    let _lock = match mode {
        Mode::Write if f.out.is_dir() => Some(write::lock(&f.out)?),
        Mode::Write => return Ok(None),
        Mode::Check => None,
    };
    if !rec.holds(&f.record()) {
        return Ok(None);
    }
    crate::term::err(format_args!("{}", rec.warnings));
    outln!(
        "note: no input changed since the last run (registry, templates, xtask); nothing was rendered"
    );
    let unchanged = |n| Report {
        unchanged: n,
        ..Report::default()
    };
    let (none, files) = (unchanged(0), unchanged(rec.files()));
    Ok(Some(match mode {
        Mode::Write => {
            print_gen(f, &files, &none, false, &rec.counts);
            true
        }
        Mode::Check => print_check(f, rec.outputs, &none, &none, false, &rec.counts),
    }))
}

/// One full run: render everything, then write or compare it; with the
/// record of what it left (its inputs' digest still to be set).
fn render(
    f: &Folders,
    mode: Mode,
    foreign: Foreign,
    verbose: bool,
) -> Result<(bool, Record), Failure> {
    let parse_back = if mode == Mode::Write {
        ParseBack::Yes
    } else {
        ParseBack::No
    };
    // Each output goes to the folder (staged, in Write mode) as it is
    // rendered; dropping the stream on an error discards what was staged.
    let mut out = write::Stream::open(&f.out, mode, foreign)?;
    let mut generated = stream(
        &f.registry,
        &f.templates,
        parse_back,
        f.project.is_some(),
        &mut |o| out.put(o).map_err(Failure::from),
    )?;
    let warnings = &mut generated.warnings;
    let shown = diagnostics::render(warnings, false);
    crate::term::err(format_args!(
        "{}",
        if verbose {
            diagnostics::render(warnings, true)
        } else {
            shown.clone()
        }
    ));
    if let Some(signal) = monitoring::interrupt::received() {
        return Err(Failure::Io(format!(
            "stopped by {} before anything was written",
            monitoring::interrupt::name(signal)
        )));
    }
    // The project files: the snapshots (a folder with its own manifest) and
    // the README's table, all rendered before anything is renamed into place.
    let snap_dir = f.project.as_ref().map(|root| root.join(snapshots::DIR));
    let mut snaps = None;
    if let (Some(root), Some(dir)) = (&f.project, &snap_dir) {
        let plan = generated.plan.as_deref();
        snaps = Some(stage_snapshots(root, dir, mode, foreign, plan)?);
    }
    let report = out.finish()?;
    let (project, pending) = finish_project(f, mode, snaps)?;
    let counts = diagnostics::counts(warnings);
    let clean = match mode {
        Mode::Write => {
            print_gen(f, &report, &project, verbose, &counts);
            true
        }
        Mode::Check => {
            let clean = print_check(f, generated.outputs, &report, &project, verbose, &counts);
            if !pending.is_empty() {
                outln!(
                    "check: {} pending snapshots for `cargo insta review` (or `cargo xtask gen`): {}",
                    pending.len(),
                    capped(&pending, 3, verbose).trim_end().replace('\n', ", ")
                );
            }
            clean
        }
    };
    let rec = Record::new(generated.outputs, (counts, shown), &report, &project);
    Ok((clean, rec))
}

/// The project files once the outputs are in place: the snapshots' stream
/// finished (gen drops the pending copies it made current, check writes
/// pending ones for the stale) and the README's table; with the pending
/// snapshots' paths.
fn finish_project(
    f: &Folders,
    mode: Mode,
    snaps: Option<(write::Stream<'_>, Vec<Output>)>,
) -> Result<(Report, Vec<String>), Failure> {
    let mut project = Report::default();
    let mut pending = Vec::new();
    let (Some(root), Some((stream, expected))) = (&f.project, snaps) else {
        return Ok((project, pending));
    };
    let dir = root.join(snapshots::DIR);
    project = stream.finish()?;
    match mode {
        Mode::Write => snapshots::drop_taken(&dir, &expected)?,
        Mode::Check => {
            let stale: Vec<String> = project.changed.iter().map(|(p, _)| p.clone()).collect();
            pending = snapshots::write_pending(&dir, &expected, &stale)?;
        }
    }
    under_snapshots(&mut project);
    if let Some(table) = readme::output(root)? {
        write::put(root, &[table], mode, &mut project)?;
    }
    Ok((project, pending))
}

/// Renders the snapshots into their own stream (a folder with its own
/// manifest), staged beside the outputs until both are renamed into place.
fn stage_snapshots<'d>(
    root: &Path,
    dir: &'d Path,
    mode: Mode,
    foreign: Foreign,
    plan: Option<&str>,
) -> Result<(write::Stream<'d>, Vec<Output>), Failure> {
    if dir.is_symlink() {
        return Err(Failure::Io(format!(
            "error: {} is a symbolic link; gen writes the snapshots only into a real folder and never follows links there\n   = help: replace the link with a real folder; nothing was written",
            dir.display()
        )));
    }
    let mut stream = write::Stream::open(dir, mode, foreign)?;
    let expected = snapshots::outputs(root, plan.unwrap_or_default())?;
    for o in &expected {
        stream.put(o)?;
    }
    Ok((stream, expected))
}

/// The snapshot stream's report, its paths named from the project root.
fn under_snapshots(report: &mut Report) {
    for (p, _) in &mut report.changed {
        *p = format!("{}/{p}", snapshots::DIR);
    }
    for (p, _) in &mut report.digests {
        *p = format!("{}/{p}", snapshots::DIR);
    }
    for list in [
        &mut report.deleted,
        &mut report.extra,
        &mut report.obsolete,
        &mut report.leftovers,
    ] {
        for p in list.iter_mut() {
            *p = format!("{}/{p}", snapshots::DIR);
        }
    }
}

fn print_gen(f: &Folders, report: &Report, project: &Report, verbose: bool, counts: &str) {
    let out = &f.out_label;
    let mut lines: Vec<String> = report
        .changed
        .iter()
        .map(|(p, _)| format!("wrote   {out}/{p}"))
        .chain(project.changed.iter().map(|(p, _)| format!("wrote   {p}")))
        .collect();
    lines.extend(
        report
            .deleted
            .iter()
            .map(|p| format!("deleted {out}/{p} (no longer generated)")),
    );
    lines.extend(
        project
            .deleted
            .iter()
            .map(|p| format!("deleted {p} (no longer produced)")),
    );
    crate::term::out(format_args!("{}", capped(&lines, LISTED, verbose)));
    let mut extra: Vec<String> = report
        .extra
        .iter()
        .map(|p| format!("warning: {out}/{p} was not written by gen and is left alone; `cargo xtask check` fails until it is removed"))
        .collect();
    extra.extend(left_alone(project));
    crate::term::err(format_args!("{}", capped(&extra, 3, verbose)));
    let also = if f.project.is_some() {
        " (and xtask/snapshots/, README.md)"
    } else {
        ""
    };
    outln!(
        "gen: {} written, {} deleted, {} unchanged in {out}/{also}; {counts}",
        report.changed.len() + project.changed.len(),
        report.deleted.len() + project.deleted.len(),
        report.unchanged + project.unchanged,
    );
}

/// The files beside the snapshots that gen did not write.
fn left_alone(project: &Report) -> Vec<String> {
    project
        .extra
        .iter()
        .map(|p| format!("note: {p} was not written by gen and is left alone"))
        .collect()
}

/// A shell word for a path in a suggested command.
fn shell(path: &str) -> String {
    if path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c))
    {
        path.to_owned()
    } else {
        format!("'{}'", path.replace('\'', r"'\''"))
    }
}

#[allow(clippy::too_many_arguments)]
fn print_check(
    f: &Folders,
    outputs: usize,
    report: &Report,
    project: &Report,
    verbose: bool,
    counts: &str,
) -> bool {
    let problems = problems(&f.out_label, report, project);
    // A person's own file beside the snapshots (notes, a review tool's pending
    // snapshot) is theirs: named, never drift, never deleted.
    crate::term::err(format_args!("{}", capped(&left_alone(project), 3, verbose)));
    let shown = if verbose {
        problems.len()
    } else {
        problems.len().min(LISTED)
    };
    for (message, diff) in &problems[..shown] {
        outln!("{message}");
        if !diff.is_empty() {
            outln!("{diff}");
        }
    }
    if shown < problems.len() {
        let rest: Vec<&str> = problems[shown..].iter().map(|(m, _)| m.as_str()).collect();
        outln!(
            "… and {} more problems (`--verbose` shows their diffs):",
            rest.len()
        );
        crate::term::out(format_args!("{}", capped(&rest, LISTED, false)));
    }
    if problems.is_empty() {
        let also = if f.project.is_some() {
            ", the snapshots and the README's alert table"
        } else {
            ""
        };
        outln!(
            "ok: {} generated files{also} match the registry and templates; {counts}",
            outputs + 1
        );
        true
    } else {
        let n = problems.len();
        outln!(
            "check: {n} problem{}; {counts}",
            if n == 1 { "" } else { "s" }
        );
        false
    }
}

/// (message, diff) per problem, in the order a reader fixes them.
fn problems(out: &str, report: &Report, project: &Report) -> Vec<(String, String)> {
    let gen_fixes = format!("fix: `{REGENERATE}`");
    let mut problems: Vec<(String, String)> = Vec::new();
    for (p, diff) in &report.changed {
        problems.push((
            format!("drift: {out}/{p} differs from what gen writes; {gen_fixes}"),
            diff.clone(),
        ));
    }
    for p in &report.obsolete {
        problems.push((
            format!("drift: {out}/{p} is no longer generated; {gen_fixes} deletes it"),
            String::new(),
        ));
    }
    for p in &report.leftovers {
        problems.push((
            format!(
                "drift: {out}/{p} is a temporary file of an interrupted gen; {gen_fixes} removes it"
            ),
            String::new(),
        ));
    }
    for p in &report.extra {
        problems.push((
            format!(
                "drift: {out}/{p} is not generated, and gen never deletes a file it did not write; fix: `rm {}` (or add what should produce it)",
                shell(&format!("{out}/{p}"))
            ),
            String::new(),
        ));
    }
    for (p, diff) in &project.changed {
        let what = if p == readme::FILE {
            format!("{p}'s alert table is stale")
        } else {
            format!("snapshot {p} is stale")
        };
        problems.push((format!("drift: {what}; {gen_fixes}"), diff.clone()));
    }
    for p in &project.obsolete {
        problems.push((
            format!("drift: snapshot {p} is produced by nothing; {gen_fixes} deletes it"),
            String::new(),
        ));
    }
    for p in &project.leftovers {
        problems.push((
            format!("drift: {p} is a temporary file of an interrupted gen; {gen_fixes} removes it"),
            String::new(),
        ));
    }
    problems
}

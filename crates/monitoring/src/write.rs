//! The only code that touches the output folder. In `Mode::Write` every file is
//! written atomically (temp file + rename) and only when its bytes changed; files
//! that an earlier run listed in its manifest and this run no longer produces are
//! deleted; nothing else is ever deleted, nor overwritten unless asked
//! (`Foreign`). In `Mode::Check` nothing is written (but insta's pending
//! snapshots, through `write_atomic`) and every difference is reported with a
//! unified diff.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::digest::{self, Digest};
use crate::output::{Format, GENERATED_BY, Output, REGENERATE};
use registry::source::IoError;

/// Lists every file gen wrote, so a later gen knows what it may delete.
pub(crate) const MANIFEST: &str = "manifest.txt";

/// In the names of gen's temporary files (`.<name>.xtask-gen-<pid>.tmp`), so
/// the leftovers of a killed run can be told apart and removed.
const TMP_MARK: &str = ".xtask-gen-";

fn is_leftover_temp(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name.starts_with('.') && name.ends_with(".tmp") && name.contains(TMP_MARK)
}

/// A diff longer than this is cut, so a CI log stays readable.
const MAX_DIFF_LINES: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Write,
    Check,
}

#[derive(Debug, Default)]
pub struct Report {
    /// Files written (Write) or that differ, with their diff (Check).
    pub changed: Vec<(String, String)>,
    pub deleted: Vec<String>,
    pub unchanged: usize,
    /// Files in the folder that gen neither produces nor ever wrote: gen leaves
    /// them alone, so a person removes them.
    pub extra: Vec<String>,
    /// Check: files an earlier gen wrote (its manifest lists them) that it no
    /// longer produces; gen deletes them.
    pub obsolete: Vec<String>,
    /// Check: temporary files of an interrupted gen; gen removes them.
    pub leftovers: Vec<String>,
    /// The digest of every output's bytes (the manifest's too), by path: what
    /// the folder holds after a run that wrote them or found no drift.
    pub digests: Vec<(String, Digest)>,
}

/// The manifest as an output of its own, so `check` sees it drift too.
pub(crate) fn manifest(outputs: &[Output]) -> Output {
    manifest_of(outputs.iter().map(|o| o.path.as_str()))
}

fn manifest_of<'a>(paths: impl IntoIterator<Item = &'a str>) -> Output {
    let mut body = String::new();
    for p in paths {
        body.push_str(p);
        body.push('\n');
    }
    Output::new(
        MANIFEST,
        Format::Text,
        "the outputs of the other generators",
        &body,
    )
}

/// The files an earlier gen wrote here, or None when the folder holds no
/// manifest of gen's (a person's `manifest.txt` never makes gen delete).
fn read_manifest(out_dir: &Path) -> Option<BTreeSet<String>> {
    let text = std::fs::read_to_string(out_dir.join(MANIFEST)).ok()?;
    if !text
        .lines()
        .next()
        .is_some_and(|l| l.starts_with("# ") && l.contains(GENERATED_BY))
    {
        return None;
    }
    Some(
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// Files under `out_dir`, as relative `/` paths.
pub fn files_on_disk(out_dir: &Path) -> Result<BTreeSet<String>, IoError> {
    let mut files = BTreeSet::new();
    if !out_dir.exists() {
        return Ok(files);
    }
    // The one folder that is not ours: cargo's build output of the generated
    // crate. Any other folder, whatever its name, is walked: a file there that
    // gen did not write is drift (the deploy job would apply it).
    let cargo_target = out_dir
        .join(crate::artefacts::code::CRATE_DIR)
        .join("target");
    let walk = walkdir::WalkDir::new(out_dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !(e.file_type().is_dir() && e.path() == cargo_target));
    for entry in walk {
        let entry =
            entry.map_err(|e| IoError(format!("cannot read {}: {e}", out_dir.display())))?;
        // gen writes real files inside the output folder only: through a link it
        // would write (and leave stale files) where it cannot see them.
        if entry.path_is_symlink() && entry.depth() > 0 {
            return Err(IoError(format!(
                "error: {} is a symbolic link inside the output folder; gen writes only inside it and never follows links there\n   = help: replace the link with a real folder or file (or point --out at the real folder); nothing was written",
                entry.path().display()
            )));
        }
        if entry.file_type().is_file() && entry.file_name() != LOCK {
            files.insert(registry::source::relative(out_dir, entry.path()));
        }
    }
    Ok(files)
}

/// Held while gen writes, so two gens never interleave in one folder.
pub const LOCK: &str = ".xtask-gen.lock";

/// The output folder's lock; the file is removed when the run ends, so it is
/// never part of the output.
pub struct Lock {
    path: PathBuf,
    _file: std::fs::File,
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still held: a gen that opened it meanwhile finds it
        // unlinked (below) and tries again on a fresh file.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Takes the output folder's lock (creating the folder), or says which
/// process holds it.
pub fn lock(out_dir: &Path) -> Result<Lock, IoError> {
    use std::os::unix::fs::MetadataExt;
    std::fs::create_dir_all(out_dir)
        .map_err(|e| IoError(format!("cannot create {}: {e}", out_dir.display())))?;
    let path = out_dir.join(LOCK);
    for _ in 0..10 {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| IoError(format!("cannot open {}: {e}", path.display())))?;
        if file.try_lock().is_err() {
            // The holder writes its process id just after taking the lock.
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            let holder = match holder.trim() {
                "" => String::new(),
                h => format!(" ({h})"),
            };
            return Err(IoError(format!(
                "error: another gen{holder} is writing to {}\n   = help: wait for it to finish, then run gen again; nothing was written",
                out_dir.display()
            )));
        }
        // The holder before us may have removed the file after we opened it.
        let same = match (file.metadata(), std::fs::metadata(&path)) {
            (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
            _ => false,
        };
        if same {
            let _ = file.set_len(0);
            let _ = write!(file, "process {}", std::process::id());
            return Ok(Lock { path, _file: file });
        }
    }
    Err(IoError(format!("cannot take the lock {}", path.display())))
}

/// Writes (or compares) a whole set of outputs at once; the manifest among
/// them, if any, is replaced by the one `Stream::finish` writes (the same).
pub fn apply(out_dir: &Path, outputs: &[Output], mode: Mode) -> Result<Report, IoError> {
    let mut stream = Stream::open(out_dir, mode, Foreign::Refuse)?;
    for o in outputs.iter().filter(|o| o.path != MANIFEST) {
        stream.put(o)?;
    }
    stream.finish()
}

/// What gen does about files in the output folder that it did not write (they
/// are never in its manifest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Foreign {
    /// Refuse to write into a non-empty folder without a manifest of gen's, and
    /// to overwrite a file its manifest does not list.
    Refuse,
    /// `--force`: write anyway (still never deleting a file gen did not write).
    Overwrite,
}

/// Outputs on their way to the output folder, one at a time as generators
/// return them, so a run never holds all of them. In `Mode::Write` a changed
/// file goes to a temporary file beside its place, renamed into place by
/// `finish` once every output is rendered and parsed back: a run that fails
/// (or is dropped) before `finish` removes its temporary files and changes
/// nothing. In `Mode::Check` each output is compared at once. Either way only
/// paths and diffs are kept.
pub struct Stream<'a> {
    out_dir: &'a Path,
    mode: Mode,
    report: Report,
    produced: BTreeSet<String>,
    previous: BTreeSet<String>,
    foreign: Foreign,
    /// Write: (temporary file, final path) of each changed output.
    staged: Vec<(PathBuf, String)>,
    /// Write: folders this run created, removed again if it fails.
    created: Vec<PathBuf>,
    finished: bool,
    lock: Option<Lock>,
}

impl<'a> Stream<'a> {
    /// A stream into `out_dir`; nothing on disk changes until the first
    /// output arrives (an invalid registry creates no folder).
    pub fn open(out_dir: &'a Path, mode: Mode, foreign: Foreign) -> Result<Stream<'a>, IoError> {
        Ok(Stream {
            out_dir,
            mode,
            report: Report::default(),
            produced: BTreeSet::new(),
            // Write reads it under the lock (another gen may be writing).
            previous: match mode {
                Mode::Check => read_manifest(out_dir).unwrap_or_default(),
                Mode::Write => BTreeSet::new(),
            },
            foreign,
            staged: Vec::new(),
            created: Vec::new(),
            finished: false,
            lock: None,
        })
    }

    /// Write: takes the folder's lock (creating the folder) and removes the
    /// temporary files a killed run left behind, once.
    fn ready(&mut self) -> Result<(), IoError> {
        if self.mode == Mode::Check || self.lock.is_some() {
            return Ok(());
        }
        if !self.out_dir.exists() {
            self.created.push(self.out_dir.to_path_buf());
        }
        // Released when the stream is dropped, or by the system when the
        // process ends however it ends.
        self.lock = Some(lock(self.out_dir)?);
        let on_disk = files_on_disk(self.out_dir)?;
        match read_manifest(self.out_dir) {
            Some(previous) => self.previous = previous,
            None if self.foreign == Foreign::Refuse => {
                if let Some(first) = on_disk.iter().find(|f| !is_leftover_temp(f)) {
                    return Err(IoError(format!(
                        "error: {} holds files that gen did not write (first: {first}) and no {MANIFEST} of gen's\n   = help: give --out a new or empty folder, or pass --force to write here anyway (gen still deletes nothing it did not write); nothing was written",
                        self.out_dir.display()
                    )));
                }
            }
            None => {}
        }
        for file in on_disk.into_iter().filter(|f| is_leftover_temp(f)) {
            let path = self.out_dir.join(&file);
            std::fs::remove_file(&path)
                .map_err(|e| IoError(format!("cannot delete {}: {e}", path.display())))?;
        }
        Ok(())
    }

    /// Takes one output: compared with the file on disk, and in Write mode
    /// staged when it differs.
    pub fn put(&mut self, o: &Output) -> Result<(), IoError> {
        if self.mode == Mode::Write
            && let Some(signal) = crate::interrupt::received()
        {
            return Err(IoError(format!(
                "stopped by {} before anything was written",
                crate::interrupt::name(signal)
            )));
        }
        self.ready()?;
        self.produced.insert(o.path.clone());
        self.report
            .digests
            .push((o.path.clone(), digest::of(o.contents.as_bytes())));
        let path = self.out_dir.join(&o.path);
        let Some(current) = differs(&path, o, self.mode, &mut self.report)? else {
            return Ok(());
        };
        match self.mode {
            Mode::Write => {
                if current.is_some()
                    && self.foreign == Foreign::Refuse
                    && !self.previous.contains(&o.path)
                    && o.path != MANIFEST
                {
                    return Err(IoError(format!(
                        "error: {} exists and gen did not write it (its {MANIFEST} does not list it), so gen will not overwrite it\n   = help: move the file away (gen writes it anew), or pass --force to overwrite it; nothing was written",
                        path.display()
                    )));
                }
                let dir = path.parent().unwrap_or(self.out_dir);
                self.create_dir(dir)?;
                let tmp = temp_name(&path);
                std::fs::write(&tmp, o.contents.as_bytes()).map_err(|e| {
                    let _ = std::fs::remove_file(&tmp);
                    IoError(format!("cannot write {}: {e}", path.display()))
                })?;
                self.staged.push((tmp, o.path.clone()));
            }
            Mode::Check => {
                let old = current.map(|b| String::from_utf8_lossy(&b).replace("\r\n", "\n"));
                self.report
                    .changed
                    .push((o.path.clone(), diff(&o.path, old.as_deref(), &o.contents)));
            }
        }
        Ok(())
    }

    /// Creates `dir` and its missing parents, remembering them.
    fn create_dir(&mut self, dir: &Path) -> Result<(), IoError> {
        let mut missing = Vec::new();
        let mut d = dir;
        while !d.exists() {
            missing.push(d.to_path_buf());
            match d.parent() {
                Some(p) => d = p,
                None => break,
            }
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| IoError(format!("cannot create {}: {e}", dir.display())))?;
        self.created.extend(missing.into_iter().rev());
        Ok(())
    }

    /// Every output is in: the manifest, the renames, the deletions of files
    /// no longer produced (Write), and what else is in the folder.
    pub fn finish(mut self) -> Result<Report, IoError> {
        self.ready()?;
        let out_dir = self.out_dir;
        if self.mode == Mode::Write {
            // Record what this run may create before creating it: a run stopped
            // half-way (killed, disk full) leaves a manifest that lists every file
            // it wrote, so the next gen can delete those it no longer produces.
            let pending: BTreeSet<&str> = self
                .previous
                .iter()
                .chain(&self.produced)
                .map(String::as_str)
                .filter(|p| *p != MANIFEST)
                .collect();
            if pending.len() > self.previous.len() {
                let m = manifest_of(pending);
                write_atomic(&out_dir.join(MANIFEST), m.contents.as_bytes())?;
            }
            self.finished = true;
            let staged = std::mem::take(&mut self.staged);
            for (i, (tmp, rel)) in staged.iter().enumerate() {
                if let Some(signal) = crate::interrupt::received() {
                    for (tmp, _) in &staged[i..] {
                        let _ = std::fs::remove_file(tmp);
                    }
                    return Err(IoError(format!(
                        "stopped by {} after writing {i} files; every file is whole and the next `cargo xtask gen` finishes the job",
                        crate::interrupt::name(signal),
                    )));
                }
                let path = out_dir.join(rel);
                if let Err(e) = std::fs::rename(tmp, &path) {
                    for (tmp, _) in &staged[i..] {
                        let _ = std::fs::remove_file(tmp);
                    }
                    return Err(IoError(format!("cannot write {}: {e}", path.display())));
                }
                self.report.changed.push((rel.clone(), String::new()));
            }
        }
        let manifest = manifest_of(self.produced.iter().map(String::as_str));
        put(
            out_dir,
            std::slice::from_ref(&manifest),
            self.mode,
            &mut self.report,
        )?;
        self.finished = true;
        self.produced.insert(MANIFEST.to_owned());
        let mut report = std::mem::take(&mut self.report);
        for file in files_on_disk(out_dir)? {
            if self.produced.contains(&file) {
                continue;
            }
            if self.mode == Mode::Write && self.previous.contains(&file) {
                let path = out_dir.join(&file);
                std::fs::remove_file(&path)
                    .map_err(|e| IoError(format!("cannot delete {}: {e}", path.display())))?;
                report.deleted.push(file);
            } else if is_leftover_temp(&file) {
                report.leftovers.push(file);
            } else if self.previous.contains(&file) {
                report.obsolete.push(file);
            } else {
                report.extra.push(file);
            }
        }
        Ok(report)
    }
}

impl Drop for Stream<'_> {
    /// A run that ends before `finish` leaves the folder as it found it.
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        for (tmp, _) in &self.staged {
            let _ = std::fs::remove_file(tmp);
        }
        // The lock file goes first, so a folder this run created is empty.
        drop(self.lock.take());
        for dir in self.created.iter().rev() {
            let _ = std::fs::remove_dir(dir); // only if empty
        }
    }
}

/// The bytes on disk when they differ from `o` (None when absent), or None
/// for an unchanged file (counted).
fn differs(
    path: &Path,
    o: &Output,
    mode: Mode,
    report: &mut Report,
) -> Result<Option<Option<Vec<u8>>>, IoError> {
    let current = match std::fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(IoError(format!("cannot read {}: {e}", path.display()))),
    };
    let same = match &current {
        Some(b) if b == o.contents.as_bytes() => true,
        // Only line endings differ (a Windows checkout): not drift.
        Some(b) if mode == Mode::Check => {
            String::from_utf8_lossy(b).replace("\r\n", "\n") == o.contents
        }
        _ => false,
    };
    if same {
        report.unchanged += 1;
        return Ok(None);
    }
    Ok(Some(current))
}

fn temp_name(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    dir.join(format!(".{name}{TMP_MARK}{}.tmp", std::process::id()))
}

/// Writes (or compares) files under `dir` without deleting anything: the
/// project files gen keeps current beside its output (snapshots, README table).
pub fn put(
    out_dir: &Path,
    outputs: &[Output],
    mode: Mode,
    report: &mut Report,
) -> Result<(), IoError> {
    for o in outputs {
        if mode == Mode::Write
            && let Some(signal) = crate::interrupt::received()
        {
            return Err(IoError(format!(
                "stopped by {} after writing {} files; every file is whole and the next `cargo xtask gen` finishes the job",
                crate::interrupt::name(signal),
                report.changed.len()
            )));
        }
        report
            .digests
            .push((o.path.clone(), digest::of(o.contents.as_bytes())));
        let path = out_dir.join(&o.path);
        let Some(current) = differs(&path, o, mode, report)? else {
            continue;
        };
        match mode {
            Mode::Write => {
                write_atomic(&path, o.contents.as_bytes())?;
                report.changed.push((o.path.clone(), String::new()));
            }
            Mode::Check => {
                let old = current.map(|b| String::from_utf8_lossy(&b).replace("\r\n", "\n"));
                report
                    .changed
                    .push((o.path.clone(), diff(&o.path, old.as_deref(), &o.contents)));
            }
        }
    }
    Ok(())
}

/// Deletes `path` if it holds exactly `bytes` (a copy gen has made current);
/// any other content is someone's and stays.
pub(crate) fn remove_if_same(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    if std::fs::read(path).is_ok_and(|b| b == bytes) {
        std::fs::remove_file(path)
            .map_err(|e| IoError(format!("cannot delete {}: {e}", path.display())))?;
    }
    Ok(())
}

pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    let err = |what: &str, p: &Path, e: std::io::Error| {
        IoError(format!("cannot {what} {}: {e}", p.display()))
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| err("create", dir, e))?;
    let tmp = temp_name(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        // No fsync: rename is atomic against a killed process (the crash this
        // guards against); fsync per file would triple the time of a large gen.
        f.write_all(bytes)?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(err("write", path, e));
    }
    Ok(())
}

/// A unified diff from what is on disk to what gen would write, cut after
/// `MAX_DIFF_LINES` lines.
pub(crate) fn diff(path: &str, old: Option<&str>, new: &str) -> String {
    let old_name = if old.is_some() {
        format!("a/{path}")
    } else {
        "/dev/null".to_owned()
    };
    let text = similar::TextDiff::from_lines(old.unwrap_or(""), new)
        .unified_diff()
        .context_radius(3)
        .header(&old_name, &format!("b/{path}"))
        .to_string();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = lines
        .iter()
        .take(MAX_DIFF_LINES)
        .fold(String::new(), |mut s, l| {
            let _ = writeln!(s, "{l}");
            s
        });
    if lines.len() > MAX_DIFF_LINES {
        let _ = writeln!(
            out,
            "... {} more diff lines; run `{REGENERATE}` and see `git diff`",
            lines.len() - MAX_DIFF_LINES
        );
    }
    out
}

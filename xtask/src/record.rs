//! gen's record of its last run into a folder: one digest of everything the
//! output depends on (the registry, template and fixture files, the README,
//! the xtask's own binary, the folders as spelled) and the digest of every
//! file the run left in the output folder, the snapshots and the README. While
//! the inputs digest the same and the folders hold exactly the recorded files,
//! gen would write nothing and check would find no drift, so both answer
//! without rendering; any difference at all takes the full run, which reports
//! it. The record lives beside the binary (cargo's target folder), never in a
//! folder gen writes, and a record that cannot be read or written only costs
//! time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use monitoring::digest::{Digest, Digester};
use monitoring::snapshots;
use monitoring::write::{Report, files_on_disk};

/// The record's format; a record of another version is not read.
const VERSION: &str = "# gen's record of its last run, version 1";

/// Records kept beside the binary: one per output folder, so the test
/// suite's temporary folders do not pile up; the oldest go first.
const KEEP: usize = 64;

/// The folders one run reads and writes.
pub(crate) struct Folders<'a> {
    pub registry: &'a Path,
    pub templates: &'a Path,
    pub out: &'a Path,
    /// The project root, when the folders are the project's own (then the
    /// fixtures and README are inputs, the snapshots and README outputs).
    pub project: Option<&'a Path>,
}

/// What one clean run produced from one set of inputs.
pub(crate) struct Record {
    pub inputs: Digest,
    /// How many outputs the run rendered (check's summary counts them).
    pub outputs: usize,
    /// The diagnostics' counts and their rendering (without `--verbose`).
    pub counts: String,
    pub warnings: String,
    /// Files of the output folder, by relative path.
    out: BTreeMap<String, Digest>,
    /// The snapshots and README, by path from the project root (a `project`
    /// report's paths).
    root: BTreeMap<String, Digest>,
}

impl Record {
    /// What a run left; its inputs' digest is set with [`Record::with_inputs`].
    pub(crate) fn new(
        outputs: usize,
        (counts, warnings): (String, String),
        report: &Report,
        project: &Report,
    ) -> Record {
        Record {
            inputs: Digest::default(),
            outputs,
            counts,
            warnings,
            out: report.digests.iter().cloned().collect(),
            root: project.digests.iter().cloned().collect(),
        }
    }

    pub(crate) fn with_inputs(self, inputs: Digest) -> Record {
        Record { inputs, ..self }
    }

    /// Every file the record holds.
    pub(crate) fn files(&self) -> usize {
        self.out.len() + self.root.len()
    }

    /// The recorded run of these folders, if any.
    pub(crate) fn read(f: &Folders) -> Option<Record> {
        let text = std::fs::read_to_string(path(f)?).ok()?;
        let (head, warnings) = text.split_once("\nwarnings\n")?;
        let mut lines = head.lines();
        if lines.next()? != VERSION {
            return None;
        }
        let mut field = |name: &str| lines.next()?.strip_prefix(name).map(str::to_owned);
        let inputs = field("inputs ")?.parse().ok()?;
        let outputs = field("outputs ")?.parse().ok()?;
        let counts = field("counts ")?;
        let mut r = Record {
            inputs,
            outputs,
            counts,
            warnings: warnings.to_owned(),
            out: BTreeMap::new(),
            root: BTreeMap::new(),
        };
        for line in lines {
            let (place, rest) = line.split_once(' ')?;
            let (digest, file) = rest.split_once(' ')?;
            let map = match place {
                "out" => &mut r.out,
                "root" => &mut r.root,
                _ => return None,
            };
            map.insert(file.to_owned(), digest.parse().ok()?);
        }
        Some(r)
    }

    /// Replaces the folders' record; a record that cannot be written is none.
    pub(crate) fn write(&self, f: &Folders) {
        let Some(path) = path(f) else { return };
        let paths = self.out.keys().chain(self.root.keys());
        if paths.clone().any(|p| p.contains('\n')) {
            return;
        }
        let mut text = format!(
            "{VERSION}\ninputs {}\noutputs {}\ncounts {}\n",
            self.inputs, self.outputs, self.counts
        );
        for (place, map) in [("out", &self.out), ("root", &self.root)] {
            for (file, digest) in map {
                text.push_str(&format!("{place} {digest} {file}\n"));
            }
        }
        text.push_str("warnings\n");
        text.push_str(&self.warnings);
        let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
        let written = path
            .parent()
            .is_some_and(|dir| std::fs::create_dir_all(dir).is_ok())
            && std::fs::write(&tmp, text).is_ok()
            && std::fs::rename(&tmp, &path).is_ok();
        if !written {
            let _ = std::fs::remove_file(&tmp);
        }
        if let Some(dir) = path.parent() {
            prune(dir, KEEP);
        }
    }

    /// Forgets the folders' record (a run that changed them without one).
    pub(crate) fn forget(f: &Folders) {
        if let Some(path) = path(f) {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Whether the folders hold exactly the recorded files, byte for byte.
    pub(crate) fn holds(&self, f: &Folders) -> bool {
        let same = |dir: &Path, files: &BTreeMap<String, Digest>| {
            files.iter().all(|(p, d)| {
                std::fs::read(dir.join(p)).is_ok_and(|b| monitoring::digest::of(&b) == *d)
            })
        };
        let Ok(on_disk) = files_on_disk(f.out) else {
            return false;
        };
        if !on_disk.iter().eq(self.out.keys()) || !same(f.out, &self.out) {
            return false;
        }
        let Some(root) = f.project else {
            return self.root.is_empty();
        };
        let prefix = format!("{}/", snapshots::DIR);
        let Ok(snaps) = files_on_disk(&root.join(snapshots::DIR)) else {
            return false;
        };
        let recorded = self.root.keys().filter(|p| p.starts_with(&prefix));
        snaps
            .iter()
            .map(|p| format!("{prefix}{p}"))
            .eq(recorded.cloned())
            && same(root, &self.root)
    }
}

/// One digest of everything a run's output depends on: the input files'
/// (taken before the run reads them) and the running binary's; None when an
/// input cannot be read (the run then reports it).
pub(crate) fn inputs(files: Digest) -> Option<Digest> {
    let mut d = Digester::default();
    d.part(files.to_string().as_bytes());
    d.part(exe()?.to_string().as_bytes());
    Some(d.finish())
}

/// The digest of the input files: the registry, template and fixture
/// folders, the README, and the folders' names.
pub(crate) fn files(f: &Folders) -> Option<Digest> {
    let mut d = Digester::default();
    d.part(VERSION.as_bytes());
    for dir in [f.registry, f.templates, f.out] {
        d.part(dir.as_os_str().as_encoded_bytes());
    }
    tree(&mut d, f.registry)?;
    tree(&mut d, f.templates)?;
    if let Some(root) = f.project {
        d.part(root.as_os_str().as_encoded_bytes());
        tree(&mut d, &root.join(snapshots::FIXTURES))?;
        // Read for its table markers; gen rewrites it only between them.
        match std::fs::read(root.join(monitoring::readme::FILE)) {
            Ok(bytes) => d.part(&bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => d.part(b"no README"),
            Err(_) => return None,
        };
    }
    Some(d.finish())
}

/// The digest of the running binary, computed once (on another thread while
/// gen renders: its 50 MB take milliseconds). Linux's `/proc/self/exe` is the
/// file this process runs even when a build has put another in its place.
pub(crate) fn exe() -> Option<Digest> {
    static EXE: OnceLock<Option<Digest>> = OnceLock::new();
    *EXE.get_or_init(|| {
        let running = Path::new("/proc/self/exe");
        let exe = match running.exists() {
            true => running.to_path_buf(),
            false => std::env::current_exe().ok()?,
        };
        Some(Digester::default().file(&exe).ok()?.finish())
    })
}

/// Every file under `dir` (through links, as gen reads them): its path and bytes.
fn tree(d: &mut Digester, dir: &Path) -> Option<()> {
    let walk = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name();
    for entry in walk {
        let entry = entry.ok()?;
        if entry.file_type().is_file() {
            let rel = registry::source::relative(dir, entry.path());
            d.part(rel.as_bytes())
                .part(&std::fs::read(entry.path()).ok()?);
        }
    }
    Some(())
}

/// Removes all but the `keep` most recently written records in `dir` (a
/// record removed only costs its folder's next run a full render).
fn prune(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut records: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "txt"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if records.len() <= keep {
        return;
    }
    records.sort();
    for (_, old) in &records[..records.len() - keep] {
        let _ = std::fs::remove_file(old);
    }
}

/// The record's file: named by the output folder's real path, beside the binary.
fn path(f: &Folders) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let out = std::path::absolute(f.out).ok()?;
    let out = out.canonicalize().unwrap_or(out);
    let name = monitoring::digest::of(out.as_os_str().as_encoded_bytes());
    Some(
        exe.parent()?
            .join("xtask-records")
            .join(format!("{name}.txt")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_newest_records_are_kept() {
        let dir = std::env::temp_dir().join(format!("xtask-records-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let t0 = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        for i in 0..5u64 {
            let f = std::fs::File::create(dir.join(format!("{i}.txt"))).unwrap();
            f.set_modified(t0 + std::time::Duration::from_secs(i))
                .unwrap();
        }
        std::fs::write(dir.join("other.tmp"), "").unwrap();
        prune(&dir, 3);
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(left, ["2.txt", "3.txt", "4.txt", "other.tmp"]);
    }
}

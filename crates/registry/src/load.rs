//! Reading the registry folder: files on disk to parsed `RegistryFile`s.
//!
//! Each file is parsed on its own, so a mistake in one file does not hide the
//! mistakes in the others. Within a file, parsing stops at the first structural
//! error (serde cannot resume inside a broken document).

use std::path::{Path, PathBuf};

use serde_saphyr::Location;

use super::model::RegistryFile;
use super::wording;
use crate::diagnostics::{Diagnostic, Pos};
use crate::source::{IoError, SourceFile, budget_for, display_name};
use crate::syntax::is_hidden;

/// Larger registry files are refused before parsing: 64 MiB is about 200,000
/// services, far beyond any real registry, and keeps memory bounded.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

pub struct Loaded {
    pub sources: Vec<SourceFile>,
    pub files: Vec<RegistryFile>,
}

/// The registry files of `dir`, sorted by path so merge order is stable.
pub fn registry_files(dir: &Path) -> Result<Vec<PathBuf>, IoError> {
    if !dir.is_dir() {
        return Err(IoError(format!(
            "registry folder {} does not exist or is not a folder (pass --registry DIR)",
            dir.display()
        )));
    }
    let mut files = Vec::new();
    // Symbolic links are followed (a team may link a shared file in); a link
    // loop is an error, never a silent skip.
    for entry in walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .follow_links(true)
    {
        let entry = entry.map_err(|e| match (e.loop_ancestor(), e.path()) {
            (Some(ancestor), Some(link)) => IoError(format!(
                "error: the symbolic link {} in the registry folder points back to {}, a loop\n   = help: point it at a file or a folder outside its own ancestors",
                link.display(),
                ancestor.display()
            )),
            (_, path) => {
                let path = path.unwrap_or(dir);
                let why = e.io_error().map_or_else(|| e.to_string(), ToString::to_string);
                IoError(format!(
                    "error: cannot read {}: {why}\n   = help: check that the registry folder and everything in it can be read (and that links point at something that exists)",
                    path.display()
                ))
            }
        })?;
        let path = entry.path();
        let is_yaml = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        if !is_yaml || entry.file_type().is_dir() {
            continue;
        }
        if !entry.file_type().is_file() {
            return Err(IoError(format!(
                "error: {} is {}, not a file\n   = help: registry files are read whole, so each *.yaml must be (or link to) a regular file; move this one out of the registry folder",
                path.display(),
                special_kind(&entry.file_type())
            )));
        }
        let name = display_name(dir, path);
        if let Some(c) = name.chars().find(|c| is_hidden(*c)) {
            return Err(IoError(format!(
                "error: the registry file name {} holds the invisible character U+{:04X}, which would reach the headers of the generated files\n   = help: rename the file with visible characters only",
                name.escape_debug(),
                c as u32
            )));
        }
        files.push(path.to_path_buf());
    }
    Ok(files)
}

/// What a non-file, non-folder entry is, for its error.
fn special_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a named pipe"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Parses one registry file's text (for the fuzz target and tests).
pub fn load_text(name: &str, text: &str) -> (Loaded, Vec<Diagnostic>) {
    let source = SourceFile::new(format!("registry/{name}"), text.to_owned());
    let (file, diags) = match parse(&source) {
        Ok(f) => (f, Vec::new()),
        Err(d) => (RegistryFile::default(), vec![d]),
    };
    (
        Loaded {
            sources: vec![source],
            files: vec![file],
        },
        diags,
    )
}

/// Reads and parses every file; parse errors are returned as diagnostics.
pub fn load_dir(dir: &Path) -> Result<(Loaded, Vec<Diagnostic>), IoError> {
    // `base`, `/abs/base/` and `.` inside it name files alike (`base/…`): the
    // names reach headers and hashes, which must not depend on the spelling.
    let canonical = dir.canonicalize();
    let dir = canonical.as_deref().unwrap_or(dir);
    let mut loaded = Loaded {
        sources: Vec::new(),
        files: Vec::new(),
    };
    let mut diags = Vec::new();
    let paths = registry_files(dir)?;
    if paths.is_empty() {
        diags.push(
            Diagnostic::error(
                Pos {
                    file: display_name(dir, dir),
                    line: 0,
                    column: 0,
                },
                "",
                "the registry folder has no *.yaml files",
            )
            .help("add a file such as services.yaml with a `services:` list"),
        );
    }
    for path in paths {
        let name = display_name(dir, &path);
        let text = match read_text(&path, &name) {
            Ok(text) => text,
            Err(Ok(d)) => {
                diags.push(d);
                continue;
            }
            Err(Err(e)) => return Err(e),
        };
        let source = SourceFile::new(name, text);
        match parse(&source) {
            Ok(file) => loaded.files.push(file),
            Err(d) => {
                diags.push(d);
                loaded.files.push(RegistryFile::default());
            }
        }
        loaded.sources.push(source);
    }
    Ok((loaded, diags))
}

/// `Err(Ok(_))` is a registry problem (exit 1), `Err(Err(_))` an I/O one (exit 2).
fn read_text(path: &Path, name: &str) -> Result<String, Result<Diagnostic, IoError>> {
    let at_start = Pos {
        file: name.to_owned(),
        line: 1,
        column: 1,
    };
    let io = |e: std::io::Error| Err(IoError(format!("cannot read {}: {e}", path.display())));
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_FILE_BYTES {
        return Err(Ok(Diagnostic::error(
            at_start,
            "",
            format!("file is {len} bytes, more than the limit of {MAX_FILE_BYTES}"),
        )
        .help(
            "split the registry into several files, or check that this is the right file",
        )));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let valid = std::str::from_utf8(valid).unwrap_or_default();
        let line = valid.matches('\n').count() as u64 + 1;
        let column = valid.rsplit('\n').next().unwrap_or("").chars().count() as u64 + 1;
        Ok(Diagnostic::error(
            Pos {
                line,
                column,
                ..at_start
            },
            "",
            "the file is not valid UTF-8",
        )
        .help("save the file as UTF-8"))
    })
}

pub(crate) fn parse(source: &SourceFile) -> Result<RegistryFile, Diagnostic> {
    let options = || serde_saphyr::options! { budget: Some(budget_for(source.text.len())) };
    // Tracking the field path for the message costs 40 % of load and
    // validate (10,000 services: 1.46 s to 0.89 s without it): only a file
    // that fails is parsed again with it.
    let parsed = serde_saphyr::from_str_with_options::<RegistryFile>(&source.text, options());
    let mut path = String::new();
    let parsed = parsed.or_else(|_| {
        serde_saphyr::with_deserializer_from_str_with_options(&source.text, options(), |de| {
            serde_path_to_error::deserialize::<_, RegistryFile>(de).map_err(|e| {
                path = e.path().to_string();
                e.into_inner()
            })
        })
    });
    match parsed {
        Ok(mut file) => {
            fill_alert_name_locations(&mut file);
            Ok(file)
        }
        Err(e) => {
            let loc = e.location().unwrap_or(Location::UNKNOWN);
            let raw = strip_location(&e.without_snippet().to_string());
            let mut field = clean_path(&path);
            // A duplicate key is reported at the entry (`services[0].?`): name it.
            if let Some(rest) = raw.strip_prefix("duplicate mapping key: ")
                && let Some(entry) = field.strip_suffix(".?")
            {
                field = format!("{entry}.{}", rest.split(',').next().unwrap_or("").trim());
            }
            // The scanner reports a tab at the start of the scalar it was in,
            // often a line earlier: point at the tab itself.
            if raw.contains("found a tab")
                && let Some(at) = first_tab(source, loc.line())
            {
                let d = Diagnostic::error(at, field, "a tab character, which YAML does not allow in indentation or around a plain value")
                    .help("replace the tab with spaces");
                return Err(source.diag(d));
            }
            let value = source.line(loc.line()).map(|l| value_at(&l, loc.column()));
            let (message, help) = wording::plain(&raw, &field, value.as_deref());
            let help = indentation_hint(source, loc.line()).or(help);
            let mut d = Diagnostic::error(source.pos(&loc), field, message);
            d.help = help;
            Err(source.diag(d))
        }
    }
}

/// The position of the first tab on or after line `from` (1-based).
fn first_tab(source: &SourceFile, from: u64) -> Option<Pos> {
    source
        .text
        .lines()
        .enumerate()
        .skip(from.saturating_sub(1) as usize)
        .find_map(|(i, l)| {
            l.find('\t').map(|b| Pos {
                file: source.name.clone(),
                line: i as u64 + 1,
                column: l[..b].chars().count() as u64 + 1,
            })
        })
}

/// A bare alert name (`- pod_crash`) has no location of its own; it is where its entry is.
fn fill_alert_name_locations(file: &mut RegistryFile) {
    let lists = file
        .services
        .iter_mut()
        .map(|s| &mut s.value.alerts)
        .chain(file.pages.iter_mut().map(|p| &mut p.value.alerts));
    for list in lists {
        for a in list {
            if a.value.name.referenced == Location::UNKNOWN {
                a.value.name.referenced = a.referenced;
                a.value.name.defined = a.defined;
            }
        }
    }
}

fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains(", column ") => message[..i].to_owned(),
        _ => message.to_owned(),
    }
}

/// `services[1].port.value` → `services[1].port`: `Spanned` adds a `value` level.
fn clean_path(path: &str) -> String {
    let p = path.replace(".value", "");
    if p == "." { String::new() } else { p }
}

/// The scalar a parser error points at: from its column to the end of the line,
/// without a trailing comment.
fn value_at(line: &str, column: u64) -> String {
    let at = column.saturating_sub(1) as usize;
    let before: String = line.chars().take(at).collect();
    let rest: String = line.chars().skip(at).collect();
    let rest = rest.split(" #").next().unwrap_or("");
    // Inside `{…}` or `[…]` a plain value ends at the next `,`, `}` or `]`.
    let depth = before.chars().fold(0i32, |d, c| match c {
        '{' | '[' => d + 1,
        '}' | ']' => d - 1,
        _ => d,
    });
    let plain = !rest.starts_with(['"', '\'', '[', '{']);
    let rest = if depth > 0 && plain {
        rest.split([',', '}', ']']).next().unwrap_or("")
    } else {
        rest
    };
    rest.trim().trim_end_matches(',').to_owned()
}

/// Most structural and type errors of hand-written YAML are indentation
/// mistakes; say so when the lines around the error show one.
fn indentation_hint(source: &SourceFile, line: u64) -> Option<String> {
    // The column where a line's key starts (after `- ` for a list entry).
    let indent = |l: &str| {
        let t = l.trim_start();
        l.len() - t.len() + if t.starts_with("- ") { 2 } else { 0 }
    };
    let key = |l: &str| {
        let t = l.trim_start().trim_start_matches("- ");
        t.split_once(':')
            .filter(|(k, _)| !k.is_empty() && !k.contains(' '))
            .map(|(k, v)| (k.to_owned(), v.trim().is_empty()))
    };
    let meaningful = |l: &String| !l.trim().is_empty() && !l.trim_start().starts_with('#');
    let here = source.line(line)?;
    let (k, empty) = key(&here)?;
    let next = (line + 1..line + 20)
        .filter_map(|n| source.line(n).map(|l| (n, l)))
        .find(|(_, l)| meaningful(l));
    let prev = (line.saturating_sub(20).max(1)..line)
        .rev()
        .filter_map(|n| source.line(n))
        .find(meaningful);
    let (i, deeper_next) = (indent(&here), next.as_ref().map(|(_, l)| indent(l)));
    // `monitoring:` with its fields not indented under it.
    if let Some((n, next)) = &next
        && empty
        && indent(next) <= i
        && key(next).is_some()
    {
        return Some(format!(
            "`{k}:` has nothing indented under it: indent the lines that belong to it (line {n} on) by two more spaces than `{k}:`"
        ));
    }
    // A field less indented than the field before it, in the same entry.
    if let Some(prev) = &prev
        && !prev.trim_end().ends_with(':')
        && i < indent(prev)
        && !here.trim_start().starts_with('-')
        && deeper_next.is_some_and(|d| d > i)
    {
        return Some(format!(
            "`{k}:` is indented {i} spaces but the fields around it {}: the fields of one entry start in the same column",
            indent(prev)
        ));
    }
    // `port: 80` followed by a deeper `key:`: YAML reads it as part of the value.
    if let Some((n, next)) = &next
        && !empty
        && indent(next) > i
        && key(next).is_some()
    {
        return Some(format!(
            "line {n} is indented deeper than `{k}:`, so YAML reads it as part of `{k}`'s value: align it with `{k}:`"
        ));
    }
    None
}

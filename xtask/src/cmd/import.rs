//! `cargo xtask import sloth|openslo PATH [--to FILE]`: foreign SLOs as
//! `slos:` entries, on stdout or into a registry file, and on stderr what was
//! left out. Exit 1 when nothing could be imported.

use std::path::Path;

use crate::flags::ImportFrom;
use crate::import::{self, documents, to_yaml};
use crate::{Failure, errln, term};

pub fn run(from: ImportFrom, path: &Path, to: Option<&Path>) -> Result<bool, Failure> {
    let docs = documents(path).map_err(Failure::Io)?;
    let (result, tool) = match from {
        ImportFrom::Sloth => (import::sloth::import(&docs), "sloth"),
        ImportFrom::OpenSlo => (import::openslo::import(&docs), "openslo"),
    };
    let command = format!("cargo xtask import {tool} {}", path.display());
    let yaml = to_yaml(&result, &command);
    for line in &result.left_out {
        errln!("left out: {line}");
    }
    errln!(
        "import: {} SLOs from {} files, {} things left out",
        result.slos.len(),
        docs.len(),
        result.left_out.len()
    );
    if result.slos.is_empty() {
        errln!("error: nothing could be imported");
        return Ok(false);
    }
    match to {
        Some(file) => {
            if file.exists() {
                return Err(Failure::Io(format!(
                    "{} exists; import writes a new registry file (choose another name, or print to stdout and merge by hand)",
                    file.display()
                )));
            }
            std::fs::write(file, yaml)
                .map_err(|e| Failure::Io(format!("cannot write {}: {e}", file.display())))?;
            errln!("wrote {}; run `cargo xtask gen` next", file.display());
        }
        None => term::out(format_args!("{yaml}")),
    }
    Ok(true)
}

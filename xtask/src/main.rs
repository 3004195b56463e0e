//! `cargo xtask <command>`: parses flags and dispatches; the work is in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use xtask::output::REGENERATE;
use xtask::write::{self, Mode};
use xtask::{Failure, generate, project_root, snapshots};

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  gen     validate the registry and write every artefact to the output folder
  check   validate, render in memory and fail (exit 1) with a diff when the output
          folder or the snapshots differ from what gen would produce; never writes

options:
  --registry DIR    registry folder (default: registry/ of the project)
  --out DIR         output folder (default: generated/ of the project)
  --templates DIR   template folder (default: templates/ of the project)

exit codes: 0 ok, 1 invalid registry or template, or drift, 2 usage or I/O error";

struct Args {
    command: String,
    registry: Option<PathBuf>,
    out: Option<PathBuf>,
    templates: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let command = it.next().ok_or("no command given")?;
    let mut args = Args {
        command,
        registry: None,
        out: None,
        templates: None,
    };
    while let Some(flag) = it.next() {
        let slot = match flag.as_str() {
            "--registry" => &mut args.registry,
            "--out" => &mut args.out,
            "--templates" => &mut args.templates,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other:?}")),
        };
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        *slot = Some(PathBuf::from(value));
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("error: {e}\n");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(if e.is_empty() { 0 } else { 2 });
        }
    };
    let result = match args.command.as_str() {
        "gen" => run(&args, Mode::Write),
        "check" => run(&args, Mode::Check),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(true)
        }
        other => Err(Failure::Io(format!("unknown command {other:?}\n\n{USAGE}"))),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(f) => {
            eprintln!("{f}");
            ExitCode::from(f.exit_code() as u8)
        }
    }
}

/// Returns whether the run is clean (for check: no drift).
fn run(args: &Args, mode: Mode) -> Result<bool, Failure> {
    let root = project_root();
    let registry = args
        .registry
        .clone()
        .unwrap_or_else(|| root.join("registry"));
    let templates = args
        .templates
        .clone()
        .unwrap_or_else(|| root.join("templates"));
    let out = args.out.clone().unwrap_or_else(|| root.join("generated"));
    let generated = generate(&registry, &templates)?;
    eprint!("{}", generated.warnings);
    let report = write::apply(&out, &generated.outputs, mode)?;
    let mut clean = true;
    match mode {
        Mode::Write => {
            for (path, _) in &report.changed {
                println!("wrote   {path}");
            }
            for path in &report.deleted {
                println!("deleted {path} (no longer generated)");
            }
            for path in &report.extra {
                eprintln!(
                    "warning: {} is not generated and was left alone; remove it if it is stale",
                    out.join(path).display()
                );
            }
            println!(
                "{} file(s) written, {} unchanged, {} deleted",
                report.changed.len(),
                report.unchanged,
                report.deleted.len()
            );
        }
        Mode::Check => {
            for (path, diff) in &report.changed {
                println!("drift: {path} differs from what gen produces:\n{diff}");
            }
            for path in &report.extra {
                println!(
                    "drift: {path} is in {} but gen does not produce it",
                    out.display()
                );
            }
            clean = report.is_clean();
            // The snapshots describe the project's own registry and fixtures, so
            // they are checked when check runs on the project itself.
            if args.registry.is_none() && args.out.is_none() && args.templates.is_none() {
                for (path, diff) in snapshots::check(&root)? {
                    println!("drift: snapshot {path} is stale:\n{diff}");
                    clean = false;
                }
                if !clean {
                    println!(
                        "(review snapshot changes with `cargo insta review`, or accept them with `INSTA_UPDATE=always cargo test -p xtask --test snapshots`)"
                    );
                }
            }
            if clean {
                println!(
                    "ok: {} generated file(s) match the registry and templates",
                    generated.outputs.len()
                );
            } else {
                println!(
                    "\nthe generated files are stale: run `{REGENERATE}` and commit the result"
                );
            }
        }
    }
    Ok(clean)
}

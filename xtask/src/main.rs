//! `cargo xtask <command>`: parses flags and dispatches; the work is in the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use xtask::output::REGENERATE;
use xtask::write::{self, Mode};
use xtask::{Failure, ParseBack, coverage, discover, generate_with, project_root, snapshots};

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  gen       validate the registry and write every artefact to the output folder
  check     validate, render in memory and fail (exit 1) with a diff when the output
            folder or the snapshots differ from what gen would produce; never writes
  coverage  print the monitoring coverage report [--format md|json] [--min PERCENT]
  discover  compare what runs (kubectl, docker over ssh) with the registry
            [--inventory FILE] [--strict] [--timeout SECONDS]
  e2e       run the generated monitoring for real on loopback and deliver an alert
  bench     measure gen and check on synthetic registries of 100 to 10,000 services

options:
  --registry DIR    registry folder (default: registry/ of the project)
  --out DIR         output folder (default: generated/ of the project)
  --templates DIR   template folder (default: templates/ of the project)

exit codes: 0 ok, 1 invalid registry or template, drift, coverage below --min,
            or unregistered workloads; 2 usage or I/O error";

#[derive(Default)]
struct Args {
    command: String,
    registry: Option<PathBuf>,
    out: Option<PathBuf>,
    templates: Option<PathBuf>,
    format: Option<String>,
    min: Option<f64>,
    inventory: Option<PathBuf>,
    strict: bool,
    timeout: Option<u64>,
    /// e2e: break the route to the owner on purpose.
    break_route: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let command = it.next().ok_or("no command given")?;
    let mut args = Args {
        command,
        ..Args::default()
    };
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--registry" => args.registry = Some(value()?.into()),
            "--out" => args.out = Some(value()?.into()),
            "--templates" => args.templates = Some(value()?.into()),
            "--inventory" => args.inventory = Some(value()?.into()),
            "--format" => args.format = Some(value()?),
            "--min" => {
                args.min = Some(
                    value()?
                        .parse()
                        .map_err(|_| "--min takes a percentage, such as 90")?,
                )
            }
            "--timeout" => {
                args.timeout = Some(
                    value()?
                        .parse()
                        .map_err(|_| "--timeout takes seconds, such as 10")?,
                )
            }
            "--strict" => args.strict = true,
            "--break-route" => args.break_route = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other:?}")),
        }
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
        "coverage" => run_coverage(&args),
        "discover" => run_discover(&args),
        "e2e" => xtask::e2e::run(args.break_route).map_err(Failure::Io),
        "bench" => xtask::bench::run().map(|()| true).map_err(Failure::Io),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(true)
        }
        other => Err(Failure::Io(format!("unknown command {other:?}\n\n{USAGE}"))),
    };
    if std::env::var_os(xtask::bench::PEAK_ENV).is_some()
        && let Some(kb) = xtask::bench::peak_memory_kb()
    {
        eprintln!("peak memory: {kb} kB");
    }
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(f) => {
            eprintln!("{f}");
            ExitCode::from(f.exit_code() as u8)
        }
    }
}

fn registry_dir(args: &Args) -> PathBuf {
    args.registry
        .clone()
        .unwrap_or_else(|| project_root().join("registry"))
}

fn templates_dir(args: &Args) -> PathBuf {
    args.templates
        .clone()
        .unwrap_or_else(|| project_root().join("templates"))
}

/// Returns whether the run is clean (for check: no drift).
fn run(args: &Args, mode: Mode) -> Result<bool, Failure> {
    let root = project_root();
    let out = args.out.clone().unwrap_or_else(|| root.join("generated"));
    let parse_back = if mode == Mode::Write {
        ParseBack::Yes
    } else {
        ParseBack::No
    };
    let generated = generate_with(&registry_dir(args), &templates_dir(args), parse_back)?;
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
                let mut stale = false;
                for (path, diff) in snapshots::check(&root, generated.plan.clone())? {
                    println!("drift: snapshot {path} is stale:\n{diff}");
                    stale = true;
                }
                if stale {
                    clean = false;
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

fn run_coverage(args: &Args) -> Result<bool, Failure> {
    let (registry, catalogue, _) = xtask::load(&registry_dir(args), &templates_dir(args))?;
    let cov = coverage::compute(&registry);
    let renderer =
        xtask::render::Renderer::new(&templates_dir(args), &catalogue).map_err(Failure::Invalid)?;
    let text = match args.format.as_deref().unwrap_or("md") {
        "md" => xtask::render::coverage::markdown(&renderer, &cov),
        "json" => xtask::render::coverage::json(&renderer, &cov),
        other => return Err(Failure::Io(format!("--format {other:?}: use md or json"))),
    }
    .map_err(Failure::Invalid)?;
    print!("{text}");
    match (args.min, cov.overall) {
        (Some(min), Some(overall)) if overall < min => {
            eprintln!("coverage {overall} % is below the minimum of {min} %");
            Ok(false)
        }
        _ => Ok(true),
    }
}

fn run_discover(args: &Args) -> Result<bool, Failure> {
    let (registry, _, _) = xtask::load(&registry_dir(args), &templates_dir(args))?;
    let inventory = match &args.inventory {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Failure::Io(format!("cannot read {}: {e}", file.display())))?;
            discover::from_file(&text, &discover::docker_hosts(&registry))
                .map_err(|e| Failure::Io(format!("{}: {e}", file.display())))?
        }
        None => discover::live(&registry, Duration::from_secs(args.timeout.unwrap_or(10))),
    };
    let report = discover::reconcile(&registry, &inventory);
    for (place, error) in &report.unreachable {
        let level = if args.strict { "error" } else { "warning" };
        println!("{level}: cannot list {place}: {error}");
    }
    if report.unregistered.is_empty() {
        println!("running and registered: every workload found is in the registry or ignored");
    } else {
        println!(
            "running but not in the registry ({}):",
            report.unregistered.len()
        );
        for w in &report.unregistered {
            println!("  {}", w.label());
        }
    }
    if !report.not_running.is_empty() {
        println!(
            "warning: in the registry but not running ({}):",
            report.not_running.len()
        );
        for s in &report.not_running {
            println!("  {s}");
        }
    }
    if !report.ignored.is_empty() {
        println!(
            "ignored by settings.discovery.ignore ({}):",
            report.ignored.len()
        );
        for w in &report.ignored {
            println!("  {}", w.label());
        }
    }
    let failed = !report.unregistered.is_empty() || (args.strict && !report.unreachable.is_empty());
    if !report.unregistered.is_empty() {
        println!("\nadd them to the registry (or to settings.discovery.ignore)");
    }
    Ok(!failed)
}

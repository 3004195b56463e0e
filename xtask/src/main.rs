//! `cargo xtask <command>`: parses the flags and dispatches; each command is in
//! `xtask::cmd` (or its own module) and prints its own report.

use std::process::ExitCode;

use monitoring::write::{Foreign, Mode};
use xtask::flags::{self, Command};
use xtask::{Failure, cmd, errln, outln};

fn main() -> ExitCode {
    let args: Result<Vec<String>, _> = std::env::args_os()
        .skip(1)
        .map(std::ffi::OsString::into_string)
        .collect();
    let args = match args {
        Ok(a) => a,
        Err(bad) => {
            errln!(
                "error: the argument {} is not valid UTF-8\n   = help: name folders and files in UTF-8 (rename the folder, or pass it through a link with a UTF-8 name)",
                bad.to_string_lossy()
            );
            return ExitCode::from(2);
        }
    };
    let command = match flags::parse(args) {
        Ok(c) => c,
        Err(e) => {
            errln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match command {
        Command::Gen {
            paths,
            verbose,
            force,
        } => {
            let foreign = if force {
                Foreign::Overwrite
            } else {
                Foreign::Refuse
            };
            cmd::generate::run(&paths, Mode::Write, foreign, verbose)
        }
        Command::Check { paths, verbose } => {
            cmd::generate::run(&paths, Mode::Check, Foreign::Refuse, verbose)
        }
        Command::Coverage { paths, format, min } => cmd::coverage::run(&paths, format, min),
        Command::Discover {
            paths,
            inventory,
            strict,
            timeout_seconds,
        } => cmd::discover::run(&paths, inventory.as_deref(), strict, timeout_seconds),
        Command::E2e { break_route } => xtask::cmd::e2e::run(break_route).map_err(Failure::Io),
        Command::Bench => xtask::cmd::bench::run().map(|()| true).map_err(Failure::Io),
        Command::PlanDiff { base } => cmd::plan_diff::run(&base),
        Command::Init { team, webhook } => cmd::init::run(&team, &webhook),
        Command::Import { from, path, to } => cmd::import::run(from, &path, to.as_deref()),
        Command::Help(text) => {
            outln!("{}", text.trim_end());
            Ok(true)
        }
    };
    if std::env::var_os(xtask::cmd::bench::PEAK_ENV).is_some()
        && let Some(kb) = xtask::cmd::bench::peak_memory_kb()
    {
        errln!("peak memory: {kb} kB");
    }
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(f) => {
            errln!("{f}");
            // Stopped by a signal: the exit status the shell expects (130, 143).
            let code = monitoring::interrupt::received().map_or(f.exit_code(), |s| 128 + s);
            ExitCode::from(code as u8)
        }
    }
}

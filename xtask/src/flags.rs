//! The command line: one table of commands and their options, parsed into a
//! typed `Command`. Each command accepts only its own options; a misspelt one
//! gets a suggestion and one of another command is named as such (exit 2).
//! Hand-written rather than a flag crate: the table is small and this keeps the
//! cold build free of a proc-macro dependency.

use std::fmt::Write as _;
use std::path::PathBuf;

use registry::diagnostics::did_you_mean;

/// One option: its name, the name of its value (None for a switch) and its help.
struct Opt {
    name: &'static str,
    value: Option<&'static str>,
    help: &'static str,
}

struct Spec {
    name: &'static str,
    summary: &'static str,
    options: &'static [Opt],
    /// Required arguments before or between the options, by name.
    args: &'static [&'static str],
}

const REGISTRY: Opt = Opt {
    name: "--registry",
    value: Some("DIR"),
    help: "registry folder (default: registry/ of the project)",
};
const OUT: Opt = Opt {
    name: "--out",
    value: Some("DIR"),
    help: "output folder (default: generated/ of the project)",
};
const TEMPLATES: Opt = Opt {
    name: "--templates",
    value: Some("DIR"),
    help: "template folder (default: templates/ of the project)",
};
const VERBOSE: Opt = Opt {
    name: "--verbose",
    value: None,
    help: "list every file and every warning instead of the first few",
};

const FORCE: Opt = Opt {
    name: "--force",
    value: None,
    help: "write where files gen did not write are in the way (it still deletes none)",
};

const COMMANDS: &[Spec] = &[
    Spec {
        name: "gen",
        summary: "validate the registry and write every artefact, the snapshots and the README's\n\
                  alert table; only files whose bytes change are written",
        options: &[REGISTRY, OUT, TEMPLATES, VERBOSE, FORCE],
        args: &[],
    },
    Spec {
        name: "check",
        summary: "fail (exit 1) with a diff when the output folder, the snapshots or the README\n\
                  differ from what gen would write; never writes",
        options: &[REGISTRY, OUT, TEMPLATES, VERBOSE],
        args: &[],
    },
    Spec {
        name: "coverage",
        summary: "print the monitoring coverage report",
        options: &[
            REGISTRY,
            TEMPLATES,
            Opt {
                name: "--format",
                value: Some("md|json"),
                help: "report format (default: md)",
            },
            Opt {
                name: "--min",
                value: Some("PERCENT"),
                help: "exit 1 when the overall coverage is below PERCENT (default: settings.coverage_min)",
            },
        ],
        args: &[],
    },
    Spec {
        name: "discover",
        summary: "compare what runs (kubectl, docker over ssh) with the registry",
        options: &[
            REGISTRY,
            TEMPLATES,
            Opt {
                name: "--inventory",
                value: Some("FILE"),
                help: "read the workloads from FILE instead of kubectl and docker",
            },
            Opt {
                name: "--strict",
                value: None,
                help: "a host that cannot be listed is an error, not a warning",
            },
            Opt {
                name: "--timeout",
                value: Some("SECONDS"),
                help: "time limit per kubectl or docker call (default: 10)",
            },
        ],
        args: &[],
    },
    Spec {
        name: "e2e",
        summary: "run the generated monitoring for real on loopback and deliver an alert",
        options: &[Opt {
            name: "--break-route",
            value: None,
            help: "point the owner's webhook at a closed port: the run must fail at step 4",
        }],
        args: &[],
    },
    Spec {
        name: "bench",
        summary: "measure gen and check on synthetic registries of 100 to 10,000 services",
        options: &[],
        args: &[],
    },
    Spec {
        name: "plan-diff",
        summary: "what the change from the plan snapshot BASE (the base branch's) to the current one\n\
                  does to monitoring, as markdown for a pull request's job summary",
        options: &[],
        args: &["BASE"],
    },
    Spec {
        name: "init",
        summary: "turn a fresh clone into a team's own repository: replace the example registry\n\
                  by a minimal one (the team and its webhook), then gen",
        options: &[
            Opt {
                name: "--team",
                value: Some("NAME"),
                help: "the owner team (lower case, digits and -, such as platform)",
            },
            Opt {
                name: "--webhook",
                value: Some("URL"),
                help: "where the team's alerts go (an Alertmanager webhook receiver)",
            },
        ],
        args: &[],
    },
    Spec {
        name: "import",
        summary: "turn Sloth specs or OpenSLO SLO documents (a file, or the YAML files of a folder)\n\
                  into `slos:` registry entries, reporting what could not be carried over",
        options: &[Opt {
            name: "--to",
            value: Some("FILE"),
            help: "write the entries to FILE (such as registry/imported.yaml) instead of stdout",
        }],
        args: &["sloth|openslo", "PATH"],
    },
];

/// The formats `cargo xtask import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFrom {
    Sloth,
    OpenSlo,
}

/// Where gen and check read and write; None is the project's own folder.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Paths {
    pub registry: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Markdown,
    Json,
}

#[derive(Debug, PartialEq)]
pub enum Command {
    Gen {
        paths: Paths,
        verbose: bool,
        force: bool,
    },
    Check {
        paths: Paths,
        verbose: bool,
    },
    Coverage {
        paths: Paths,
        format: ReportFormat,
        min: Option<f64>,
    },
    Discover {
        paths: Paths,
        inventory: Option<PathBuf>,
        strict: bool,
        timeout_seconds: u64,
    },
    E2e {
        break_route: bool,
    },
    Bench,
    PlanDiff {
        base: PathBuf,
    },
    Init {
        team: String,
        webhook: String,
    },
    Import {
        from: ImportFrom,
        path: PathBuf,
        to: Option<PathBuf>,
    },
    /// Print this text and exit 0.
    Help(String),
}

/// A usage error: the message, with the usage text to show under it (exit 2).
#[derive(Debug, PartialEq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The overview: every command with its summary.
pub(crate) fn usage() -> String {
    let mut s = String::from("usage: cargo xtask <command> [options]\n\ncommands:\n");
    for c in COMMANDS {
        let summary = c.summary.replace('\n', "\n            ");
        let _ = writeln!(s, "  {:<9} {summary}", c.name);
    }
    s.push_str(
        "\n`cargo xtask <command> --help` lists a command's options.\n\n\
         exit codes: 0 ok; 1 invalid registry or template, drift, coverage below --min,\n\
         unregistered workloads or a failed e2e step; 2 usage or I/O error\n",
    );
    s
}

fn command_help(spec: &Spec) -> String {
    let args: String = spec.args.iter().map(|a| format!(" {a}")).collect();
    let mut s = format!(
        "cargo xtask {}{args}: {}\n\n",
        spec.name,
        spec.summary.replace('\n', " ")
    );
    if spec.options.is_empty() {
        s.push_str("options: none\n");
    } else {
        s.push_str("options:\n");
        for o in spec.options {
            let flag = match o.value {
                Some(v) => format!("{} {v}", o.name),
                None => o.name.to_owned(),
            };
            let _ = writeln!(s, "  {flag:<20} {}", o.help);
        }
    }
    s.push_str("  --help               show this text\n");
    s
}

/// Parses the arguments after `cargo xtask`.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command, UsageError> {
    let mut args = args.into_iter();
    let Some(name) = args.next() else {
        return Err(UsageError(format!("no command given\n\n{}", usage())));
    };
    if matches!(name.as_str(), "help" | "--help" | "-h") {
        return Ok(match args.next().and_then(|n| spec(&n)) {
            Some(s) => Command::Help(command_help(s)),
            None => Command::Help(usage()),
        });
    }
    let Some(spec) = spec(&name) else {
        let hint = did_you_mean(&name, COMMANDS.iter().map(|c| c.name))
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_default();
        return Err(UsageError(format!(
            "unknown command `{name}`{hint}\n\n{}",
            usage()
        )));
    };
    let mut values: Vec<(&'static str, Option<String>)> = Vec::new();
    let mut positional = Vec::new();
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            return Ok(Command::Help(command_help(spec)));
        }
        if !arg.starts_with('-') {
            if positional.len() == spec.args.len() {
                return Err(UsageError(format!(
                    "unexpected argument `{arg}`\n\n{}",
                    command_help(spec)
                )));
            }
            positional.push(arg);
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let Some(opt) = spec.options.iter().find(|o| o.name == flag) else {
            return Err(unknown_option(spec, &flag));
        };
        let value = match (opt.value, inline) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(UsageError(format!(
                    "{flag} takes no value\n\n{}",
                    command_help(spec)
                )));
            }
            (Some(_), Some(v)) => Some(v),
            (Some(kind), None) => match args.next() {
                Some(v) if !v.starts_with("--") => Some(v),
                _ => {
                    return Err(UsageError(format!(
                        "{flag} needs a value: {flag} {kind}\n\n{}",
                        command_help(spec)
                    )));
                }
            },
        };
        if values.iter().any(|(n, _)| *n == opt.name) {
            return Err(UsageError(format!("{flag} is given twice")));
        }
        values.push((opt.name, value));
    }
    if positional.len() < spec.args.len() {
        return Err(UsageError(format!(
            "`cargo xtask {}` needs {}\n\n{}",
            spec.name,
            spec.args[positional.len()..].join(" "),
            command_help(spec)
        )));
    }
    build(spec.name, Values(values), positional)
}

fn spec(name: &str) -> Option<&'static Spec> {
    COMMANDS.iter().find(|c| c.name == name)
}

fn unknown_option(spec: &Spec, flag: &str) -> UsageError {
    let own = spec.options.iter().map(|o| o.name);
    let hint = if let Some(owner) = COMMANDS
        .iter()
        .find(|c| c.options.iter().any(|o| o.name == flag))
    {
        format!(
            "{flag} is an option of `cargo xtask {}`, not of `{}`",
            owner.name, spec.name
        )
    } else if let Some(close) = did_you_mean(flag, own) {
        format!(
            "unknown option {flag} for `{}`; did you mean `{close}`?",
            spec.name
        )
    } else {
        format!("unknown option {flag} for `{}`", spec.name)
    };
    UsageError(format!("{hint}\n\n{}", command_help(spec)))
}

struct Values(Vec<(&'static str, Option<String>)>);

impl Values {
    fn text(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.clone())
    }

    fn path(&self, name: &str) -> Option<PathBuf> {
        self.text(name).map(PathBuf::from)
    }

    fn switch(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| *n == name)
    }

    fn paths(&self) -> Paths {
        Paths {
            registry: self.path("--registry"),
            out: self.path("--out"),
            templates: self.path("--templates"),
        }
    }
}

fn build(name: &str, v: Values, args: Vec<String>) -> Result<Command, UsageError> {
    Ok(match name {
        "gen" => Command::Gen {
            paths: v.paths(),
            verbose: v.switch("--verbose"),
            force: v.switch("--force"),
        },
        "check" => Command::Check {
            paths: v.paths(),
            verbose: v.switch("--verbose"),
        },
        "coverage" => Command::Coverage {
            paths: v.paths(),
            format: match v.text("--format").as_deref() {
                None | Some("md") => ReportFormat::Markdown,
                Some("json") => ReportFormat::Json,
                Some(other) => {
                    return Err(UsageError(format!("--format {other}: use md or json")));
                }
            },
            min: match v.text("--min") {
                None => None,
                Some(m) => Some(
                    m.parse::<f64>()
                        .ok()
                        .filter(|p| (0.0..=100.0).contains(p))
                        .ok_or_else(|| {
                            UsageError(format!("--min {m}: give a percentage from 0 to 100"))
                        })?,
                ),
            },
        },
        "discover" => Command::Discover {
            paths: v.paths(),
            inventory: v.path("--inventory"),
            strict: v.switch("--strict"),
            timeout_seconds: match v.text("--timeout") {
                None => 10,
                Some(t) => t.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                    UsageError(format!("--timeout {t}: give whole seconds, such as 10"))
                })?,
            },
        },
        "e2e" => Command::E2e {
            break_route: v.switch("--break-route"),
        },
        "plan-diff" => Command::PlanDiff {
            base: PathBuf::from(&args[0]),
        },
        "init" => Command::Init {
            team: v.text("--team").ok_or_else(|| {
                UsageError("init needs --team NAME: the team that owns the services".into())
            })?,
            webhook: v.text("--webhook").ok_or_else(|| {
                UsageError("init needs --webhook URL: where the team's alerts go".into())
            })?,
        },
        "import" => Command::Import {
            from: match args[0].as_str() {
                "sloth" => ImportFrom::Sloth,
                "openslo" => ImportFrom::OpenSlo,
                other => {
                    return Err(UsageError(format!(
                        "cannot import from `{other}`: use sloth or openslo"
                    )));
                }
            },
            path: PathBuf::from(&args[1]),
            to: v.path("--to"),
        },
        _ => Command::Bench,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Command, UsageError> {
        parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn every_command_has_help_with_all_its_options() {
        for spec in COMMANDS {
            let Ok(Command::Help(text)) = p(&[spec.name, "--help"]) else {
                panic!("{} --help", spec.name);
            };
            for o in spec.options {
                assert!(text.contains(o.name), "{}: {text}", spec.name);
            }
        }
        let Ok(Command::Help(e2e)) = p(&["e2e", "--help"]) else {
            panic!()
        };
        assert!(e2e.contains("--break-route"), "{e2e}");
    }

    #[test]
    fn misspelt_and_foreign_options_are_refused() {
        let e = p(&["gen", "--registy", "x"]).unwrap_err().0;
        assert!(e.contains("did you mean `--registry`?"), "{e}");
        let e = p(&["gen", "--min", "3"]).unwrap_err().0;
        assert!(
            e.contains("--min is an option of `cargo xtask coverage`"),
            "{e}"
        );
        let e = p(&["bench", "--break-route"]).unwrap_err().0;
        assert!(e.contains("option of `cargo xtask e2e`"), "{e}");
        let e = p(&["gne"]).unwrap_err().0;
        assert!(e.contains("did you mean `gen`?"), "{e}");
        assert!(p(&["coverage", "--min"]).is_err());
        assert!(p(&["coverage", "--min", "x"]).is_err());
        assert!(p(&["coverage", "--format", "xml"]).is_err());
        assert!(p(&["gen", "--verbose=1"]).is_err());
        assert!(p(&["gen", "--out", "a", "--out", "b"]).is_err());
        assert!(
            p(&["gen", "stray"])
                .unwrap_err()
                .0
                .contains("unexpected argument")
        );
        let e = p(&["import", "sloth"]).unwrap_err().0;
        assert!(e.contains("needs PATH"), "{e}");
        assert!(
            p(&["import", "pyrra", "x"])
                .unwrap_err()
                .0
                .contains("use sloth or openslo")
        );
        assert_eq!(
            p(&["import", "openslo", "dir", "--to", "f.yaml"]).unwrap(),
            Command::Import {
                from: ImportFrom::OpenSlo,
                path: "dir".into(),
                to: Some("f.yaml".into())
            }
        );
    }

    #[test]
    fn typed_values() {
        assert_eq!(
            p(&["gen", "--registry=r", "--verbose"]).unwrap(),
            Command::Gen {
                paths: Paths {
                    registry: Some("r".into()),
                    ..Paths::default()
                },
                verbose: true,
                force: false,
            }
        );
        assert_eq!(
            p(&["e2e", "--break-route"]).unwrap(),
            Command::E2e { break_route: true }
        );
        assert!(matches!(
            p(&["coverage", "--min", "70", "--format", "json"]).unwrap(),
            Command::Coverage {
                format: ReportFormat::Json,
                min: Some(70.0),
                ..
            }
        ));
    }
}

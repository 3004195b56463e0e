//! The alert catalogue: one file per alert in `templates/alerts/<name>.yaml`.
//!
//! A team adds an alert by adding a file, without touching Rust. Everything in
//! the file is data except `expr`, `summary` and `description`, minijinja
//! templates rendered per target (registered as `alerts/<name>.yaml#<field>`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::diagnostics::{Diagnostic, Pos};
use crate::source::{IoError, SourceFile, display_name};

pub use crate::target_kind::TargetKind;

/// A property a target must have for an alert's expression to work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Need {
    /// A Blackbox probe (HTTP or TCP) of the target.
    Probe,
    /// A host (docker, systemd).
    Host,
    /// A systemd unit name (`service_name`).
    Unit,
    /// A dead man's switch that hears the Watchdog (`settings.alertmanager.heartbeat`).
    Heartbeat,
    /// A scrape of the service's own `/metrics` (the application's metrics,
    /// or an exporter beside it): implied by the template's `exporter`.
    #[serde(skip)]
    Scrape,
    /// An exporter beside the service at `metrics: {port}` (postgres_exporter,
    /// redis_exporter): implied by the template's `exporter`. The service's
    /// own port speaks its wire protocol, not `/metrics`.
    #[serde(skip)]
    ExporterPort,
    /// kube-state-metrics, provided by the cluster.
    #[serde(skip)]
    KubeStateMetrics,
    /// The kubelet's metrics (its cAdvisor's, its volume stats), provided by
    /// the cluster: implied by a `cAdvisor` exporter on Kubernetes.
    Kubelet,
}

impl Need {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Need::Probe => {
                "a health probe (an HTTP `health_endpoint` with a port, or a command health check with host and port)"
            }
            Need::Host => "a `host`",
            Need::Unit => "a systemd unit in `service_name`",
            Need::Heartbeat => {
                "a dead man's switch outside the monitored system to hear it (`settings.alertmanager.heartbeat: {url: …}`), which pages when it falls silent"
            }
            Need::Scrape => {
                "its metrics scraped (`monitoring: {prometheus: true}` and, outside Kubernetes, a port or `metrics: {port}`; for a page, of its serving service: `service:` or `defaults.page_service`)"
            }
            Need::ExporterPort => {
                "its exporter's port in `metrics: {port: …}` (postgres_exporter listens on 9187, redis_exporter on 9121; the service's own port speaks its wire protocol, not /metrics)"
            }
            Need::KubeStateMetrics => {
                "kube-state-metrics in the cluster (`settings.kubernetes.provides`)"
            }
            Need::Kubelet => {
                "the kubelet's metrics in the cluster (cAdvisor's and its volume stats: `settings.kubernetes.provides: [cadvisor]`)"
            }
        }
    }
}

/// Who produces an alert's metrics; decides which job must scrape them. The
/// first word of the template's `exporter` line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exporter {
    /// blackbox_exporter, through the generated probes.
    Blackbox,
    /// node_exporter on each docker and systemd host (one generated job).
    NodeExporter,
    /// cAdvisor on each docker host (one generated job), the kubelet's on Kubernetes.
    Cadvisor,
    /// kube-state-metrics, provided by the cluster.
    KubeStateMetrics,
    /// The service's own `/metrics`.
    Application,
    /// An exporter beside the service (postgres_exporter, redis_exporter), at `metrics:`.
    BesideService,
    /// The generated Prometheus' or Alertmanager's own metrics (one generated
    /// job each).
    Monitoring,
}

impl Exporter {
    pub(crate) const NAMES: [&str; 9] = [
        "blackbox_exporter",
        "node_exporter",
        "cAdvisor",
        "kube-state-metrics",
        "application",
        "postgres_exporter",
        "redis_exporter",
        "Prometheus",
        "Alertmanager",
    ];

    pub fn of(text: &str) -> Option<Exporter> {
        Some(match text.split_whitespace().next()? {
            "blackbox_exporter" => Exporter::Blackbox,
            "node_exporter" => Exporter::NodeExporter,
            "cAdvisor" => Exporter::Cadvisor,
            "kube-state-metrics" => Exporter::KubeStateMetrics,
            "application" => Exporter::Application,
            "postgres_exporter" | "redis_exporter" => Exporter::BesideService,
            "Prometheus" | "Alertmanager" => Exporter::Monitoring,
            _ => return None,
        })
    }

    /// What a target of `kind` must have for this exporter's series of it to
    /// exist in Prometheus (beyond the template's own `needs`).
    pub(crate) fn need(self, kind: TargetKind) -> Option<Need> {
        match (self, kind) {
            // A page's application metrics come from its serving service.
            (Exporter::Application, TargetKind::Page) => Some(Need::Scrape),
            (
                _,
                TargetKind::Page
                | TargetKind::Host
                | TargetKind::Prober
                | TargetKind::Endpoint
                | TargetKind::Monitoring,
            )
            | (Exporter::Blackbox | Exporter::Monitoring, _) => None,
            (Exporter::Cadvisor, TargetKind::K8sDeployment) => Some(Need::Kubelet),
            (Exporter::NodeExporter | Exporter::Cadvisor, _) => Some(Need::Host),
            (Exporter::KubeStateMetrics, _) => Some(Need::KubeStateMetrics),
            (Exporter::Application, _) => Some(Need::Scrape),
            (Exporter::BesideService, _) => Some(Need::ExporterPort),
        }
    }
}

pub(crate) const SEVERITIES: [&str; 3] = ["critical", "warning", "info"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertTemplate {
    /// The Prometheus alert name, such as `ServiceDown`.
    pub alert: Spanned<String>,
    /// What fires it, in one line, for the README's alert table.
    pub fires: String,
    /// The exporter whose metric the expression reads, for the plan and reviewers.
    pub exporter: String,
    pub applies_to: Vec<TargetKind>,
    /// What a target must have for the expression to select it.
    #[serde(default)]
    pub needs: Vec<Need>,
    pub severity: Spanned<String>,
    #[serde(rename = "for")]
    pub for_: Spanned<String>,
    /// Default threshold, available to `expr` as `threshold`.
    pub threshold: Option<f64>,
    /// The threshold's unit (`ratio`, `seconds`, `errors/s`), for readers.
    pub threshold_unit: Option<String>,
    /// The values the alert's metric can take: a registry threshold outside
    /// them is a warning (`memory_high` with `threshold: 80` on a 0-1 ratio).
    /// An open end is `.inf`.
    pub threshold_range: Option<[f64; 2]>,
    pub auto_repair: String,
    /// minijinja templates rendered per target. Prometheus' own templating
    /// (`{{ $labels.pod }}`, `{{ $value }}`) goes inside `{% raw %}…{% endraw %}`.
    pub summary: String,
    pub description: String,
    pub expr: Spanned<String>,
    /// Series for the generated `promtool test rules` cases.
    pub test: AlertTest,
    /// What the expression and its `for` follow (a mixin's alert, a
    /// document), for reviewers and the README's catalogue.
    pub reference: Option<String>,
    /// What bounds the metric above, besides `threshold_range`: a threshold
    /// at or past it can never fire and is refused.
    pub threshold_limit: Option<ThresholdLimit>,
    /// Whether the alert fires above the threshold (the default) or below it.
    #[serde(default)]
    pub comparison: Comparison,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Comparison {
    #[default]
    Above,
    Below,
}

/// A bound on a metric that depends on the registry's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdLimit {
    /// A probe's duration: its module's timeout (`PROBE_TIMEOUT_SECONDS`, or
    /// `PAGE_PROBE_TIMEOUT_SECONDS` for a page).
    ProbeTimeout,
    /// `histogram_quantile` over the latency buckets: the top finite bucket.
    TopBucket,
}

/// The Blackbox modules' timeouts, in seconds: services' health probes and
/// page loads. A probe's duration never exceeds its module's timeout.
pub const PROBE_TIMEOUT_SECONDS: f64 = 5.0;
pub const PAGE_PROBE_TIMEOUT_SECONDS: f64 = 10.0;

/// Input series (minijinja templates, rendered per target) that make the alert
/// fire, and that keep it quiet. The generated unit test also feeds the firing
/// series of another target, which must not fire this target's alert.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertTest {
    pub firing: Vec<TestSeries>,
    pub healthy: Vec<TestSeries>,
    /// Labels the alert keeps from its input series (besides the rule's labels).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The alert also fires when the target's series are absent altogether
    /// (an `absent()` branch): a generated case feeds no series and expects it.
    #[serde(default)]
    pub absent: bool,
    /// The alert's value on the firing series, for annotations that show
    /// it (`{{ $value | humanizePercentage }}`).
    pub value: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSeries {
    pub series: String,
    /// promtool's expanding notation, such as `0x30` or `0+60x30`.
    pub values: String,
}

impl AlertTemplate {
    /// Every templated field, by the name it is registered under.
    pub fn template_fields(&self) -> Vec<(String, &str)> {
        let mut out = vec![
            ("expr".to_owned(), self.expr.value.as_str()),
            ("summary".to_owned(), self.summary.as_str()),
            ("description".to_owned(), self.description.as_str()),
        ];
        for (kind, list) in [
            ("firing", &self.test.firing),
            ("healthy", &self.test.healthy),
        ] {
            for (i, s) in list.iter().enumerate() {
                out.push((format!("test.{kind}.{i}"), s.series.as_str()));
            }
        }
        for (k, v) in &self.test.labels {
            out.push((format!("test.labels.{k}"), v.as_str()));
        }
        out
    }
}

pub struct Catalogue {
    /// By catalogue name (the file stem, such as `service_down`).
    pub alerts: BTreeMap<String, AlertTemplate>,
    /// The failure modes (`templates/failure_modes.yaml`), in file order.
    pub modes: Vec<crate::failure_modes::FailureMode>,
}

impl Catalogue {
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.alerts.keys().map(String::as_str)
    }

    /// The template name under which `field` of alert `name` is registered.
    pub fn template_name(name: &str, field: &str) -> String {
        format!("alerts/{name}.yaml#{field}")
    }
}

/// The variables a template text reads, or `None` when it does not parse (its
/// render reports that, with the line). The template engine is the monitoring
/// layer's: it hands this in, so the registry layer does not depend on it.
pub(crate) type Variables = fn(&str) -> Option<Vec<String>>;

/// Loads `<templates>/alerts/*.yaml`; problems come back as diagnostics.
pub fn load(
    templates: &Path,
    variables: Variables,
) -> Result<(Catalogue, Vec<Diagnostic>), IoError> {
    let dir = templates.join("alerts");
    let mut alerts = BTreeMap::new();
    let mut diags = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| {
            IoError(format!(
                "cannot read the alert catalogue {}: {e}",
                dir.display()
            ))
        })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    entries.sort();
    for path in entries {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| IoError(format!("cannot read {}: {e}", path.display())))?;
        let name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let source = SourceFile::new(format!("templates/{}", display_name(&dir, &path)), text);
        match serde_saphyr::from_str::<AlertTemplate>(&source.text) {
            Ok(t) => {
                diags.extend(check_template(&source, &name, &t, variables));
                alerts.insert(name, t);
            }
            Err(e) => {
                let loc = e.location().unwrap_or(serde_saphyr::Location::UNKNOWN);
                let d = Diagnostic::error(source.pos(&loc), "", e.without_snippet().to_string())
                    .help("see templates/alerts/service_down.yaml for the fields an alert template has");
                diags.push(source.diag(d));
            }
        }
    }
    let applies = |name: &str| {
        alerts
            .get(name)
            .map(|t: &AlertTemplate| t.applies_to.clone())
    };
    let modes = crate::failure_modes::load(templates, &applies, &mut diags)?;
    Ok((Catalogue { alerts, modes }, diags))
}

/// Where problems of a whole catalogue file point: its start.
fn file_start(source: &SourceFile) -> Pos {
    Pos {
        file: source.name.clone(),
        line: 1,
        column: 1,
    }
}

fn check_template(
    source: &SourceFile,
    name: &str,
    t: &AlertTemplate,
    variables: Variables,
) -> Vec<Diagnostic> {
    let mut diags = check_names(source, name, t);
    diags.extend(check_fields(source, t));
    diags.extend(check_variables(source, t, variables));
    diags
}

/// The file, alert, severity and `for` names.
fn check_names(source: &SourceFile, name: &str, t: &AlertTemplate) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let at = |s: &Spanned<String>| source.pos(&s.referenced);
    if !is_valid_name(name) {
        diags.push(
            Diagnostic::error(
                file_start(source),
                "",
                format!("alert file name {name:?} is not a valid catalogue name"),
            )
            .help("use lowercase letters, digits and `_`, such as `queue_backlog.yaml`"),
        );
    }
    if !t
        .alert
        .value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
        || !t.alert.value.starts_with(|c: char| c.is_ascii_alphabetic())
    {
        diags.push(
            source.diag(
                Diagnostic::error(
                    at(&t.alert),
                    "alert",
                    format!("{:?} is not a valid Prometheus alert name", t.alert.value),
                )
                .help("use CamelCase letters and digits, such as `ServiceDown`"),
            ),
        );
    }
    if !SEVERITIES.contains(&t.severity.value.as_str()) {
        diags.push(
            source.diag(
                Diagnostic::error(
                    at(&t.severity),
                    "severity",
                    format!("unknown severity {:?}", t.severity.value),
                )
                .help(format!("use one of {}", SEVERITIES.join(", "))),
            ),
        );
    }
    if !crate::syntax::is_duration(&t.for_.value) {
        diags.push(
            source.diag(
                Diagnostic::error(
                    at(&t.for_),
                    "for",
                    format!("{:?} is not a Prometheus duration", t.for_.value),
                )
                .help("write a duration such as 30s, 5m or 1h"),
            ),
        );
    }
    diags
}

/// The exporter, what fires it, the threshold and the targets.
fn check_fields(source: &SourceFile, t: &AlertTemplate) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    if t.exporter.contains('\n') || Exporter::of(&t.exporter).is_none() {
        diags.push(
            Diagnostic::error(
                file_start(source),
                "exporter",
                format!(
                    "`exporter` {} does not start with a known exporter",
                    crate::diagnostics::shown(&t.exporter)
                ),
            )
            .help(format!(
                "start it with one of {} (then, in parentheses, what it reads)",
                Exporter::NAMES.join(", ")
            )),
        );
    }
    if t.fires.contains('\n') || t.fires.trim().is_empty() {
        diags.push(
            Diagnostic::error(
                file_start(source),
                "fires",
                "`fires` must be one non-empty line",
            )
            .help("say what fires the alert, such as `the health probe fails`"),
        );
    }
    match (t.threshold, &t.threshold_unit, t.threshold_range) {
        (None, None, None) => {}
        (Some(th), Some(_), Some([lo, hi])) if lo < hi && (lo..=hi).contains(&th) => {}
        (Some(_), Some(_), Some(_)) => diags.push(
            Diagnostic::error(
                file_start(source),
                "threshold_range",
                "`threshold_range` must be [low, high] with low < high and hold `threshold`",
            )
            .help("give the values the metric can take, such as [0, 1] for a ratio"),
        ),
        _ => diags.push(
            Diagnostic::error(
                file_start(source),
                "threshold",
                "an alert with a threshold declares `threshold`, `threshold_unit` and `threshold_range` together",
            )
            .help("for example: threshold: 0.9, threshold_unit: ratio, threshold_range: [0, 1]"),
        ),
    }
    if t.applies_to.is_empty() {
        diags.push(
            Diagnostic::error(
                file_start(source),
                "applies_to",
                "the alert applies to nothing",
            )
            .help("list target kinds: k8s-deployment, docker, systemd, page, host, prober"),
        );
    }
    diags
}

/// A misspelt variable (`{{ treshold }}`) fails only when a registry uses
/// the alert: find it when the catalogue loads.
fn check_variables(
    source: &SourceFile,
    t: &AlertTemplate,
    variables: Variables,
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for (field, text) in t.template_fields() {
        let Some(used) = variables(text) else {
            continue; // a syntax error is reported, with its line, when rendered
        };
        let mut unknown: Vec<String> = used
            .into_iter()
            .filter(|v| !CONTEXT.contains(&v.as_str()))
            .collect();
        unknown.sort();
        if let Some(v) = unknown.first() {
            let close = crate::diagnostics::did_you_mean(v, CONTEXT.iter().copied())
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            diags.push(
                Diagnostic::error(
                    file_start(source),
                    field.clone(),
                    format!("`{field}` uses `{v}`, which an alert template is not given"),
                )
                .help(format!(
                    "{close}an alert template sees {}",
                    CONTEXT.map(|c| format!("`{c}`")).join(", ")
                )),
            );
        }
    }
    diags
}

/// What an alert template is rendered with (see `monitoring::plan::alerts`).
const CONTEXT: [&str; 5] = ["target", "threshold", "for", "severity", "http"];

fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

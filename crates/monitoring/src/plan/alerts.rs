//! Prometheus alert rules: one rule group per service (one file each, so a large
//! registry does not produce one giant file), one group per page, and the
//! platform's group (hosts and the prober).

use std::collections::BTreeMap;

use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use crate::error::RenderError;
use crate::plan::delivery::{self, Placed};
use crate::plan::rule::{Group, Rule, RuleTest, Series};
use crate::plan::rule_tests::{self};
use crate::templates::Renderer;
use crate::templates::filters::{self};
use registry::catalogue::{AlertTemplate, Catalogue};
use registry::{AlertUse, Page, Registry, Service};

/// What an alert expression is rendered for: a service or a page.
#[derive(Serialize)]
#[serde(untagged)]
enum Target<'a> {
    Service(&'a Service),
    Page {
        kind: &'static str,
        path: &'a str,
        name: &'a str,
        service: &'a str,
        owner: &'a str,
    },
    /// A docker or systemd host; `name` is its address.
    Host {
        kind: &'static str,
        name: &'a str,
        services: &'a [String],
    },
    /// The Blackbox prober; `jobs` is a regex of its scrape jobs' names,
    /// `job` the first of them (for test series).
    Prober {
        kind: &'static str,
        name: &'static str,
        jobs: String,
        job: &'static str,
    },
    /// The generated Prometheus and Alertmanager, by their own jobs.
    Monitoring {
        kind: &'static str,
        name: &'static str,
        prometheus_job: &'static str,
        alertmanager_job: &'static str,
    },
}

pub struct Rules {
    /// Service name to its group.
    pub services: BTreeMap<String, Group>,
    /// Page path to its group of probe rules (the stand-alone Prometheus
    /// runs the page probes).
    pub pages: BTreeMap<String, Group>,
    /// Page path to its group of rules over its serving service's metrics
    /// (JavaScript and API errors), evaluated where that service is scraped.
    pub page_apps: BTreeMap<String, Group>,
    /// The hosts' and the prober's rules, owned by the platform owner.
    pub platform: Option<Group>,
    /// The cluster's prober's, beside a stand-alone `platform` group.
    pub cluster_prober: Option<Group>,
    /// The generated Prometheus' and Alertmanager's own (the Watchdog, rule
    /// failures, failed notifications), owned by the platform owner.
    pub monitoring: Option<Group>,
}

/// The rule shapes seen per file, as hashes.
#[derive(Default)]
struct Shapes(std::collections::HashSet<ShapeKey>);

/// A rule's (file, shape) hashes.
type ShapeKey = (u64, u64);

impl Shapes {
    /// Drops the test data of each rule of `group` whose shape an earlier
    /// rule of the same file (`placement`) has.
    fn share(&mut self, placement: &delivery::Placement, names: &[&str], group: &mut Group) {
        let keys = Shapes::keys(placement, names, group);
        self.share_keys(&keys, group);
    }

    /// Each rule's (file, shape): independent of other groups, so computed
    /// on all cores with the rules.
    fn keys(placement: &delivery::Placement, names: &[&str], group: &Group) -> Vec<ShapeKey> {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        placement.hash(&mut h);
        let file = h.finish();
        let shape = |rule| (file, rule_tests::shape(names, rule));
        group.rules.iter().map(shape).collect()
    }

    fn share_keys(&mut self, keys: &[ShapeKey], group: &mut Group) {
        for (rule, key) in group.rules.iter_mut().zip(keys) {
            if !self.0.insert(*key) {
                rule.test = None;
            }
        }
    }
}

pub(crate) fn build(
    r: &Renderer,
    catalogue: &Catalogue,
    reg: &Registry,
) -> Result<Rules, RenderError> {
    // Services are independent: render them on all cores, in order.
    let service_group = |s: &Service| -> Result<Option<(Group, Vec<ShapeKey>)>, RenderError> {
        // `host` lets a down host's alert inhibit its services' alerts.
        let mut labels = vec![("service", s.name.as_str()), ("owner", s.owner.as_str())];
        if let Some(h) = &s.host {
            labels.push(("host", h));
        }
        let rules = rules_for(
            r,
            catalogue,
            reg,
            &Target::Service(s),
            &s.alerts,
            &labels,
            s.runbook_url.as_deref(),
        )?;
        if rules.is_empty() {
            return Ok(None);
        }
        let group = Group {
            name: s.name.clone(),
            records: Vec::new(),
            rules,
        };
        let names = [s.name.as_str(), s.unit.as_deref().unwrap_or_default()];
        let placement = delivery::service(reg, &s.name, &s.owner);
        let keys = Shapes::keys(&placement, &names, &group);
        Ok(Some((group, keys)))
    };
    // A rule the same as an earlier one of its file but for its target's
    // names gets no cases of its own (see `rule_tests::shape`): its test data
    // is dropped chunk by chunk, so 100,000 services never hold it all.
    let mut shapes = Shapes::default();
    let mut services = BTreeMap::new();
    for chunk in reg.services.chunks(4096) {
        for (mut group, keys) in crate::parallel::par_map(chunk, service_group)?
            .into_iter()
            .flatten()
        {
            shapes.share_keys(&keys, &mut group);
            services.insert(group.name.clone(), group);
        }
    }
    let (pages, page_apps) = page_groups(r, catalogue, reg, &mut shapes)?;
    let platform = platform_group(r, catalogue, reg)?;
    let cluster_prober = cluster_prober_group(r, catalogue, reg)?;
    let monitoring = monitoring_group(r, catalogue, reg)?;
    Ok(Rules {
        cluster_prober,
        monitoring,
        services,
        pages,
        page_apps,
        platform,
    })
}

/// One group for what every service depends on: each host's rules, then the
/// prober's. Labelled with the platform owner, and with `host`.
fn platform_group(
    r: &Renderer,
    catalogue: &Catalogue,
    reg: &Registry,
) -> Result<Option<Group>, RenderError> {
    let owner = reg.platform.owner.as_str();
    let mut rules = Vec::new();
    for h in &reg.platform.hosts {
        let target = Target::Host {
            kind: "host",
            name: &h.name,
            services: &h.services,
        };
        let labels = [("owner", owner), ("host", h.name.as_str())];
        rules.extend(rules_for(
            r, catalogue, reg, &target, &h.alerts, &labels, None,
        )?);
    }
    rules.extend(prober_rules(
        r,
        catalogue,
        reg,
        delivery::platform(reg).cluster_only,
    )?);
    Ok((!rules.is_empty()).then(|| Group {
        name: delivery::PLATFORM_STEM.to_owned(),
        records: Vec::new(),
        rules,
    }))
}

/// The prober's rules over the probes of one Prometheus: the cluster's (the
/// k8s services' Probes) or the stand-alone one's.
fn prober_rules(
    r: &Renderer,
    catalogue: &Catalogue,
    reg: &Registry,
    cluster: bool,
) -> Result<Vec<Rule>, RenderError> {
    let Some(p) = &reg.platform.prober else {
        return Ok(Vec::new());
    };
    let jobs: Vec<&'static str> = if cluster {
        vec![crate::plan::jobs::CLUSTER_PROBE_JOB]
    } else {
        crate::plan::jobs::BLACKBOX_JOBS
            .iter()
            .map(|(j, _, _)| *j)
            .collect()
    };
    let target = Target::Prober {
        kind: "prober",
        name: "blackbox_exporter",
        jobs: jobs.join("|"),
        job: jobs[0],
    };
    let owner = [("owner", reg.platform.owner.as_str())];
    rules_for(r, catalogue, reg, &target, &p.alerts, &owner, None)
}

/// The rules over the generated Prometheus and Alertmanager themselves.
fn monitoring_group(
    r: &Renderer,
    catalogue: &Catalogue,
    reg: &Registry,
) -> Result<Option<Group>, RenderError> {
    let target = Target::Monitoring {
        kind: "monitoring",
        name: "Prometheus and Alertmanager",
        prometheus_job: crate::plan::jobs::PROMETHEUS_JOB,
        alertmanager_job: crate::plan::jobs::ALERTMANAGER_JOB,
    };
    let owner = [("owner", reg.platform.owner.as_str())];
    let m = &reg.platform.monitoring;
    let rules = rules_for(r, catalogue, reg, &target, &m.alerts, &owner, None)?;
    Ok((!rules.is_empty()).then(|| Group {
        name: delivery::MONITORING_STEM.to_owned(),
        records: Vec::new(),
        rules,
    }))
}

/// The cluster's prober, when the platform's group is evaluated by the
/// stand-alone Prometheus but k8s services are probed by the cluster's.
fn cluster_prober_group(
    r: &Renderer,
    catalogue: &Catalogue,
    reg: &Registry,
) -> Result<Option<Group>, RenderError> {
    let here = delivery::cluster_platform(reg);
    let k8s_probed = reg.services.iter().any(|s| {
        s.kind == registry::ServiceType::K8sDeployment
            && matches!(s.probe, registry::Probe::Http { .. })
    });
    if !k8s_probed || !here.resource || here == delivery::platform(reg) {
        return Ok(None);
    }
    let rules = prober_rules(r, catalogue, reg, true)?;
    Ok((!rules.is_empty()).then(|| Group {
        name: format!("{} (cluster probes)", delivery::PLATFORM_STEM),
        records: Vec::new(),
        rules,
    }))
}

/// Page path to one of its groups.
type ByPage = BTreeMap<String, Group>;

/// Each page's rule groups: its probe rules, and its rules over its serving
/// service's metrics (each kind shares one rule file per placement).
fn page_groups(
    r: &Renderer,
    catalogue: &Catalogue,
    reg: &Registry,
    shapes: &mut Shapes,
) -> Result<(ByPage, ByPage), RenderError> {
    let mut pages = BTreeMap::new();
    let mut apps = BTreeMap::new();
    for p in &reg.pages {
        let Page {
            path,
            name,
            service,
            owner,
            ..
        } = p;
        let target = Target::Page {
            kind: "page",
            path,
            name,
            service,
            owner,
        };
        let labels = [
            ("service", service.as_str()),
            ("owner", owner.as_str()),
            ("page", path.as_str()),
        ];
        let (probed, app): (Vec<Rule>, Vec<Rule>) =
            rules_for(r, catalogue, reg, &target, &p.alerts, &labels, None)?
                .into_iter()
                .partition(|rule| {
                    registry::catalogue::Exporter::of(&rule.exporter)
                        == Some(registry::catalogue::Exporter::Blackbox)
                });
        if !probed.is_empty() {
            let mut group = Group {
                name: format!("page {path}"),
                records: Vec::new(),
                rules: probed,
            };
            shapes.share(&delivery::pages(reg), &[path, name], &mut group);
            pages.insert(path.clone(), group);
        }
        if !app.is_empty() {
            let mut group = Group {
                name: format!("page {path} ({service})"),
                records: Vec::new(),
                rules: app,
            };
            shapes.share(
                &delivery::page_apps(reg, service),
                &[path, name],
                &mut group,
            );
            apps.insert(path.clone(), group);
        }
    }
    Ok((pages, apps))
}

fn rules_for(
    r: &Renderer,
    catalogue: &Catalogue,
    reg: &Registry,
    target: &Target,
    alerts: &[AlertUse],
    labels: &[(&str, &str)],
    runbook_url: Option<&str>,
) -> Result<Vec<Rule>, RenderError> {
    let mut rules = Vec::new();
    // What depends on the target alone, once for all of its alerts.
    let (target_value, http, dashboard) = (
        minijinja::Value::from(Serde(target)),
        minijinja::Value::from(Serde(&reg.settings.slo.metrics)),
        dashboard_url(reg, target),
    );
    for a in alerts {
        // Validation has checked every name against the catalogue.
        let t: &AlertTemplate = &catalogue.alerts[&a.name];
        let severity = a
            .severity
            .clone()
            .unwrap_or_else(|| t.severity.value.clone());
        let for_ = a.for_.clone().unwrap_or_else(|| t.for_.value.clone());
        let threshold = a.threshold.or(t.threshold).map(number);
        let shown_threshold = threshold.as_ref().map(|v| match &t.threshold_unit {
            Some(unit) => format!("{v} {unit}"),
            None => v.to_string(),
        });
        // `http`: the application's HTTP metric names (`settings.slo.metrics`).
        let ctx = context! { target => target_value.clone(), threshold, for => &for_, severity => &severity, http => http.clone() };
        let field = |f: &str| -> Result<String, RenderError> {
            let name = Catalogue::template_name(&a.name, f);
            let text = r.render(&name, ctx.clone())?.trim().to_owned();
            if text.is_empty() {
                return Err(RenderError(format!("template {name} rendered nothing")));
            }
            Ok(text)
        };
        // One line: PromQL ignores the line breaks, and reviewers read it unescaped.
        // Registry strings cannot hold a raw line break: `promql` escapes them.
        let test = rule_test(r, t, &a.name, target, &ctx)?;
        let expr = one_line(&field("expr")?);
        // Prometheus expands rule label values as Go templates too.
        let mut rule_labels: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), filters::gotmpl_str(v)))
            .collect();
        rule_labels.insert("severity".into(), severity);
        // Routes match labels, not annotations: alerts with a repair action
        // carry it as a label too, so the automation route can select them.
        if t.auto_repair != "none" {
            rule_labels.insert("auto_repair".into(), filters::gotmpl_str(&t.auto_repair));
        }
        let mut annotations = BTreeMap::from([
            ("summary".to_owned(), field("summary")?),
            ("description".to_owned(), field("description")?),
            ("auto_repair".to_owned(), t.auto_repair.clone()),
        ]);
        links(
            reg,
            dashboard.as_deref(),
            runbook_url,
            &a.name,
            &mut annotations,
        );
        rules.push(Rule {
            name: a.name.clone(),
            exporter: t.exporter.clone(),
            alert: t.alert.value.clone(),
            expr,
            for_,
            threshold: shown_threshold,
            labels: rule_labels.into(),
            annotations: annotations.into(),
            test: Some(test),
        });
    }
    Ok(rules)
}

/// The alert's runbook (the target's own, else one page per alert under the
/// registry's base URL) and its target's dashboard. Prometheus expands annotations as Go
/// templates: the URLs are data.
fn links(
    reg: &Registry,
    dashboard: Option<&str>,
    runbook_url: Option<&str>,
    alert: &str,
    annotations: &mut BTreeMap<String, String>,
) {
    let runbook = runbook_url.map(str::to_owned).or_else(|| {
        reg.runbook_base_url
            .as_ref()
            .map(|b| format!("{}/{alert}", b.trim_end_matches('/')))
    });
    if let Some(url) = runbook {
        annotations.insert("runbook_url".into(), filters::gotmpl_str(&url));
    }
    if let Some(url) = dashboard {
        annotations.insert("dashboard_url".into(), filters::gotmpl_str(url));
    }
}

/// The dashboard of the alert's service (`settings.grafana.url`): its owner
/// team's, showing that service. Hosts, the prober and the monitoring itself
/// have no dashboard of their own, so no link.
fn dashboard_url(reg: &Registry, target: &Target) -> Option<String> {
    let base = reg.settings.grafana.url.as_ref()?;
    let service = match target {
        Target::Service(s) => Some(*s),
        Target::Page { service, .. } => reg.service(service),
        _ => None,
    }?;
    Some(format!(
        "{base}/d/{}?var-service={}",
        super::dashboards::uid("team", &service.owner),
        registry::syntax::percent_encode_query(&service.name)
    ))
}

/// Another target of the same kind, for the unit test that proves a rule does
/// not fire for someone else's series.
fn other_target<'a>(target: &Target<'a>, other: &'a mut Option<Service>) -> Target<'a> {
    match target {
        Target::Service(s) => {
            let o = other.insert(Service {
                name: format!("zz-other-{}", s.name),
                namespace: s.namespace.as_ref().map(|_| "zz-other-ns".to_owned()),
                host: s.host.as_ref().map(|_| "192.0.2.1".to_owned()),
                unit: s.unit.as_ref().map(|_| "zz-other.service".to_owned()),
                ..(*s).clone()
            });
            Target::Service(o)
        }
        Target::Page {
            kind,
            name,
            service,
            owner,
            ..
        } => Target::Page {
            kind,
            path: "/zz-other-page",
            name,
            service,
            owner,
        },
        Target::Host { kind, services, .. } => Target::Host {
            kind,
            name: "192.0.2.1",
            services,
        },
        // There is one prober: no other target to tell apart.
        Target::Prober {
            kind,
            name,
            jobs,
            job,
        } => Target::Prober {
            kind,
            name,
            jobs: jobs.clone(),
            job,
        },
        Target::Monitoring {
            kind,
            name,
            prometheus_job,
            alertmanager_job,
        } => Target::Monitoring {
            kind,
            name,
            prometheus_job,
            alertmanager_job,
        },
    }
}

fn rule_test(
    r: &Renderer,
    t: &AlertTemplate,
    name: &str,
    target: &Target,
    ctx: &minijinja::Value,
) -> Result<RuleTest, RenderError> {
    let series = |ctx: &minijinja::Value,
                  kind: &str,
                  list: &[registry::catalogue::TestSeries]|
     -> Result<Vec<Series>, RenderError> {
        list.iter()
            .enumerate()
            .map(|(i, s)| {
                let text = r.render(
                    &Catalogue::template_name(name, &format!("test.{kind}.{i}")),
                    ctx.clone(),
                )?;
                Ok(Series {
                    series: one_line(&text),
                    values: s.values.clone(),
                })
            })
            .collect()
    };
    let mut other = None;
    let other = other_target(target, &mut other);
    let other_ctx = context! { target => Serde(&other), ..ctx.clone() };
    let mut labels = BTreeMap::new();
    for k in t.test.labels.keys() {
        let v = r.render(
            &Catalogue::template_name(name, &format!("test.labels.{k}")),
            ctx.clone(),
        )?;
        if !v.trim().is_empty() {
            labels.insert(k.clone(), v.trim().to_owned());
        }
    }
    Ok(RuleTest {
        firing: series(ctx, "firing", &t.test.firing)?,
        healthy: series(ctx, "healthy", &t.test.healthy)?,
        // The prober and the monitoring are one each: no other target to
        // tell apart.
        other_firing: match target {
            Target::Prober { .. } | Target::Monitoring { .. } => Vec::new(),
            _ => series(&other_ctx, "firing", &t.test.firing)?,
        },
        labels,
        absent: t.test.absent,
        value: t.test.value,
    })
}

/// Template output on one line: PromQL and series notation ignore the breaks.
pub(crate) fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A threshold as written: `3`, not `3.0`.
fn number(x: f64) -> minijinja::Value {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        minijinja::Value::from(x as i64)
    } else {
        minijinja::Value::from(x)
    }
}

/// Each placement's groups (see `delivery`), with the registry files they
/// come from: a service's group alone, or an owner team's.
pub(crate) fn by_placement<'a>(reg: &Registry, rules: &'a Rules) -> Placed<'a> {
    let mut out = Placed::new();
    for s in &reg.services {
        if let Some(g) = rules.services.get(&s.name) {
            let e = out
                .entry(delivery::service(reg, &s.name, &s.owner))
                .or_default();
            e.0.push(g);
            delivery::add_source(reg, &mut e.1, &s.source, false, (&s.name, &s.owner));
        }
    }
    for (g, placement, what) in [
        (&rules.platform, delivery::platform(reg), "hosts and prober"),
        (
            &rules.cluster_prober,
            delivery::cluster_platform(reg),
            "hosts and prober",
        ),
        (
            &rules.monitoring,
            delivery::monitoring(reg),
            "Prometheus and Alertmanager",
        ),
    ] {
        if let Some(g) = g {
            let e = out.entry(placement).or_default();
            e.0.push(g);
            e.1.push(format!("{} ({what})", reg.source()));
        }
    }
    let mut sources: Vec<&str> = reg.pages.iter().map(|p| p.source.as_str()).collect();
    sources.sort_unstable();
    sources.dedup();
    let sources = format!("{} (pages)", sources.join(", "));
    // `_` cannot start a service or team name, so this never clashes with one.
    if !rules.pages.is_empty() {
        let e = out.entry(delivery::pages(reg)).or_default();
        e.0.extend(rules.pages.values());
        e.1.push(sources.clone());
    }
    for p in &reg.pages {
        if let Some(g) = rules.page_apps.get(&p.path) {
            let e = out.entry(delivery::page_apps(reg, &p.service)).or_default();
            e.0.push(g);
            if !e.1.contains(&sources) {
                e.1.push(sources.clone());
            }
        }
    }
    out
}

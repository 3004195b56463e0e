//! Frontend pages: unique paths, owner and serving service (or the defaults),
//! and their alerts.

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use super::alerts::Entry;
use super::checker::Cx;
use crate::catalogue::{Need, TargetKind};
use crate::diagnostics::shown;
use crate::failure_modes::Facts;
use crate::source::SourceFile;
use crate::syntax::percent_encode_path;
use crate::{Page, UNASSIGNED, model, url};

pub(super) fn check_all(cx: &mut Cx) -> Vec<Page> {
    let (sources, files) = (cx.sources, cx.files);
    let mut pages = Vec::new();
    let mut paths: BTreeMap<String, String> = BTreeMap::new();
    for (fi, file) in files.iter().enumerate() {
        let src = &sources[fi];
        for (i, p) in file.pages.iter().enumerate() {
            let field = format!("pages[{i}]");
            check_path(cx, src, &p.value.path, &field, &mut paths);
            pages.push(check_page(cx, src, &p.value, &field));
        }
    }
    pages
}

/// A page path is one line, starts with `/`, and is unique across files.
fn check_path(
    cx: &mut Cx,
    src: &SourceFile,
    path: &Spanned<String>,
    field: &str,
    paths: &mut BTreeMap<String, String>,
) {
    let f = format!("{field}.path");
    if path.value.chars().any(char::is_control) {
        cx.c.error(
            src,
            path,
            f,
            format!(
                "page path {} contains control characters",
                shown(&path.value)
            ),
            "a URL path is one line of printable characters",
        );
    } else if !path.value.starts_with('/') {
        cx.c.error(
            src,
            path,
            f,
            format!("page path {} does not start with `/`", shown(&path.value)),
            format!("write it as \"/{}\"", path.value),
        );
    } else if let Some((message, help)) = url::path_problem(&path.value) {
        cx.c.error(src, path, f, message, help);
    } else if let Some(first) = paths.get(&path.value) {
        cx.c.error(
            src,
            path,
            f,
            format!("page {} is already defined at {first}", shown(&path.value)),
            "page paths must be unique",
        );
    } else {
        paths.insert(
            path.value.clone(),
            format!("{}:{}", src.name, path.referenced.line()),
        );
    }
}

fn check_page(cx: &mut Cx, src: &SourceFile, page: &model::Page, field: &str) -> Page {
    let path = &page.path;
    let owner = match (&page.owner, cx.default(|d| &d.page_owner)) {
        (Some(o), _) => {
            cx.check_owner(src, o, format!("{field}.owner"));
            o.value.clone()
        }
        (None, Some(o)) => o,
        (None, None) => {
            if !page.alerts.is_empty() {
                cx.c.warn(
                    src,
                    path,
                    "pages without an owner",
                    format!("{field}.owner"),
                    format!(
                        "page {} has alerts but no owner; they are labelled owner=\"{UNASSIGNED}\"",
                        shown(&path.value)
                    ),
                    "set `owner:` on the page or `defaults.page_owner`",
                );
            }
            UNASSIGNED.into()
        }
    };
    let service = match (&page.service, cx.default(|d| &d.page_service)) {
        (Some(s), _) => {
            cx.check_service_ref(src, s, format!("{field}.service"));
            s.value.clone()
        }
        (None, Some(s)) => s,
        (None, None) => {
            if !page.alerts.is_empty() {
                cx.c.warn(src, path, "pages without a serving service", format!("{field}.service"), format!("page {} has alerts but no serving service; they are labelled service=\"{UNASSIGNED}\"", shown(&path.value)), "set `service:` on the page or `defaults.page_service`");
            }
            UNASSIGNED.into()
        }
    };
    let probe_url = cx
        .settings
        .pages_base_url
        .as_ref()
        .map(|base| format!("{base}{}", percent_encode_path(&path.value)));
    // The page's application metrics are its serving service's, scraped.
    let served = cx.scraped.contains(&service);
    let has = |n: Need| match n {
        Need::Probe => probe_url.is_some(),
        Need::Scrape => served,
        _ => false,
    };
    let entry = Entry {
        kind: TargetKind::Page,
        has: &has,
        facts: Facts {
            health_command: None,
            https: probe_url
                .as_ref()
                .is_some_and(|u| u.starts_with("https://")),
        },
        host: None,
        opt_out: page.opt_out.as_ref(),
        at: path,
    };
    let (alerts, modes) = cx.c.alerts(src, &page.alerts, field, &entry);
    Page {
        path: path.value.clone(),
        name: page.name.clone(),
        sentry_session: page.monitoring.sentry_session,
        web_vitals: page.monitoring.web_vitals,
        alerts,
        modes,
        owner,
        service,
        source: src.name.clone(),
        probe_url,
        description: page.description.clone(),
    }
}

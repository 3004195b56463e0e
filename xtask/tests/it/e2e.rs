//! End to end with the real Prometheus, Alertmanager and blackbox_exporter on
//! loopback (see `xtask::e2e`): the alert reaches the owner's webhook and
//! resolves, the fast SLO tier arrives with the slower ones inhibited, and a
//! broken route fails the run at the step that broke; two Prometheus shards
//! each scrape their own services and both deliver. Nothing is left running.

use crate::common::*;

fn programs_present() -> bool {
    let missing = xtask::cmd::e2e::missing_programs();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "missing under CI=true: {} (`.ci/run --install-only` installs them)",
            missing.join(", ")
        );
    }
    eprintln!("SKIP: e2e needs the Debian packages {}", missing.join(", "));
    false
}

fn leftovers() -> String {
    let out = std::process::Command::new("pgrep")
        .args(["-af", "xtask-e2e-"])
        .output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

#[test]
#[cfg_attr(
    not(all(
        has_prometheus,
        has_alertmanager,
        has_blackbox,
        has_node_exporter,
        has_victoria_metrics,
        has_vmalert
    )),
    ignore = "prometheus, prometheus-alertmanager, prometheus-blackbox-exporter, prometheus-node-exporter or victoria-metrics not found (`.ci/run --install-only` installs them)"
)]
fn alert_is_delivered_resolved_and_a_broken_route_is_caught() {
    if !programs_present() {
        return;
    }
    let ok = xtask(&["e2e"]);
    let t = text(&ok);
    assert_eq!(ok.status.code(), Some(0), "{t}");
    assert!(
        t.contains("alert delivered in") && t.contains("resolved in"),
        "{t}"
    );
    assert!(
        t.contains("one page delivered") && t.contains("the ticket inhibited"),
        "{t}"
    );
    // Past one Prometheus: each shard scrapes its own share, alerts from both arrive.
    assert!(t.contains("none twice"), "{t}");
    assert!(t.contains("ServiceDown from both shards delivered"), "{t}");
    // Past Prometheus: VictoriaMetrics scrapes, vmalert evaluates.
    assert!(
        t.contains("ServiceDown through VictoriaMetrics and vmalert delivered"),
        "{t}"
    );
    assert!(
        leftovers().is_empty(),
        "processes left behind: {}",
        leftovers()
    );

    let broken = xtask(&["e2e", "--break-route"]);
    let t = text(&broken);
    assert_eq!(broken.status.code(), Some(1), "{t}");
    assert!(
        t.contains("e2e FAILED: step 4: ServiceDown delivered to e2e-team's receiver"),
        "{t}"
    );
    assert!(
        leftovers().is_empty(),
        "processes left behind: {}",
        leftovers()
    );
}

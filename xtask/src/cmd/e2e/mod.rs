//! End to end with the real programs: gen renders a loopback-only fixture
//! registry, then blackbox_exporter, Prometheus and Alertmanager run the
//! generated files against a tiny HTTP service, a TCP service and a webhook
//! listener in this process. Stopping the service must deliver `ServiceDown`
//! to the owner's receiver (its TargetDown inhibited: one page), starting it must
//! resolve it, breaking its `/metrics` alone must deliver TargetDown, killing
//! blackbox_exporter must deliver ProberDown to the platform owner, stopping
//! node_exporter HostExporterDown, and a burst of 5xx must
//! deliver one SLO page while Alertmanager inhibits the ticket. The Watchdog must reach only the dead man's switch, a team's refusing
//! webhook must reach the platform owner as AlertmanagerNotificationsFailing,
//! and stopping Alertmanager must silence the heartbeat. Then the same programs
//! run two Prometheus shards (`shards`), then VictoriaMetrics and vmalert in
//! Prometheus' place (`victoria`). Every wait is bounded; every process is
//! stopped on the way out.

mod shards;
mod stack;
mod victoria;

use std::path::Path;

use crate::outln;
use stack::Stack;
pub use stack::{free_port, http, missing_programs};

/// Runs the scenario; `Ok(true)` when every step passed, `Ok(false)` when one failed.
pub fn run(break_route: bool) -> Result<bool, String> {
    let missing = missing_programs();
    if !missing.is_empty() {
        return Err(format!(
            "e2e needs the Debian packages {}; run .ci/run --install-only",
            missing.join(", ")
        ));
    }
    let tmp = std::env::temp_dir().join(format!("xtask-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let result = scenario(&tmp, break_route);
    let _ = std::fs::remove_dir_all(&tmp);
    match result {
        Ok(()) => {
            outln!("e2e: ok");
            Ok(true)
        }
        Err(e) => {
            outln!("e2e FAILED: {e}");
            Ok(false)
        }
    }
}

/// The scenario's steps, each over the running stack.
fn scenario(tmp: &Path, break_route: bool) -> Result<(), String> {
    let mut stack = Stack::start(tmp, break_route)?;
    stack.wait_until_probed()?;
    stack.service_down_then_resolved()?;
    stack.target_down_then_resolved()?;
    stack.a_burst_pages_once()?;
    stack.nothing_else_alerted()?;
    stack.prober_down_is_an_alert()?;
    stack.host_exporter_down_is_an_alert()?;
    stack.watchdog_reaches_only_the_switch()?;
    stack.failed_notifications_reach_the_platform()?;
    stack.a_stopped_alertmanager_silences_the_heartbeat()?;
    drop(stack);
    shards::scenario(tmp)?;
    victoria::scenario(tmp)
}

//! The test suite, one binary (one link step instead of one per file): a
//! module per concern. Tests that need an external program are compiled as
//! ignored, with the reason, when it is missing (see `build.rs`); under
//! `CI=true` they run and fail instead.

mod alertmanager;
mod architecture;
mod common;
mod crash;
mod dead_alerts;
mod delivery;
mod discover;
mod drift;
mod e2e;
mod engines;
mod everyday;
mod exporters;
mod freshness;
mod fuzz_regressions;
mod grafana;
mod hardening;
mod import;
mod invalid;
mod known_routes;
mod outages;
mod peer;
mod prometheus;
mod properties;
mod rules;
mod scale;
mod secrets;
mod shards;
mod silence;
mod slo;
mod workflow;

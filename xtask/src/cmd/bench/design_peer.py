"""The design document's generator (its section 1.2: PyYAML + Jinja2),
completed so it renders the same kinds of artefact as `cargo xtask gen` for
the same registry: alert rules and their promtool tests (a file per service,
or per owner team), scrape targets and jobs, Blackbox modules, Alertmanager
routes and receivers, a Grafana dashboard per team, known pages for
TypeScript. It is the bench's peer: it validates nothing and escapes only
what YAML and JSON need, so it is the least such a script does.

Usage: design_peer.py REGISTRY_DIR OUT_DIR [service|team]
"""

import json
import os
import sys

import jinja2
import yaml

ALERTS = {
    "service_down": ("ServiceDown", "critical", "1m", 'probe_success{service="{{ s.name }}"} == 0'),
    "target_down": ("TargetDown", "warning", "5m", 'up{service="{{ s.name }}"} == 0 or absent(up{service="{{ s.name }}"})'),
    "pod_crash": ("PodCrashLooping", "warning", "10m", 'increase(kube_pod_container_status_restarts_total{namespace="{{ s.namespace }}", pod=~"{{ s.name }}-.*"}[15m]) > 3'),
    "high_error_rate": ("HighErrorRate", "warning", "5m", 'sum(rate(http_requests_total{service="{{ s.name }}", status=~"5.."}[5m])) / sum(rate(http_requests_total{service="{{ s.name }}"}[5m])) > 0.05'),
    "memory_high": ("MemoryHigh", "warning", "10m", 'max(container_memory_working_set_bytes{name="{{ s.name }}"}) / max(container_spec_memory_limit_bytes{name="{{ s.name }}"} > 0) > {{ a.threshold | default(0.9) }}'),
    "storage_full": ("StorageFull", "warning", "15m", 'max(container_fs_usage_bytes{name="{{ s.name }}"}) / max(container_fs_limit_bytes{name="{{ s.name }}"} > 0) > 0.9'),
    "runner_offline": ("GitHubRunnerOffline", "warning", "5m", 'node_systemd_unit_state{name="{{ s.service_name }}", state="active"} == 0'),
}

RULES = jinja2.Template(
    """# Generated from the service registry; do not edit.
groups:
{% for s in services %}
  - name: {{ s.name }}
    interval: 15s
    rules:
{% for a in s.alerts %}{% set t = catalogue[a.name] %}
      - alert: {{ t[0] }}
        expr: {{ render(t[3], s, a) | tojson }}
        for: {{ a.for | default(t[2]) }}
        labels:
          severity: {{ a.severity | default(t[1]) }}
          owner: {{ s.owner | tojson }}
          service: {{ s.name | tojson }}
        annotations:
          summary: {{ (s.name ~ " " ~ t[0]) | tojson }}
          runbook_url: {{ (runbook ~ "/" ~ a.name) | tojson }}
{% endfor %}
{% endfor %}
""",
    trim_blocks=True,
)

TESTS = jinja2.Template(
    """rule_files: [{{ rules | tojson }}]
evaluation_interval: 15s
tests:
{% for s in services %}{% for a in s.alerts %}{% set t = catalogue[a.name] %}
  - interval: 15s
    input_series:
      - series: 'probe_success{service="{{ s.name }}"}'
        values: '0x20'
    alert_rule_test:
      - eval_time: 5m
        alertname: {{ t[0] }}
        exp_alerts:
          - exp_labels: {severity: {{ a.severity | default(t[1]) }}, owner: {{ s.owner | tojson }}, service: {{ s.name | tojson }}}
{% endfor %}{% endfor %}
""",
    trim_blocks=True,
)

PROMETHEUS = jinja2.Template(
    """global: {scrape_interval: 15s, evaluation_interval: 15s}
rule_files: ['rules/*.rules.yml']
scrape_configs:
{% for s in scraped %}
  - job_name: {{ s.name | tojson }}
    file_sd_configs: [{files: ['targets/{{ s.name }}.yml']}]
{% endfor %}
  - job_name: blackbox-http
    metrics_path: /probe
    params: {module: [http_2xx]}
    file_sd_configs: [{files: ['targets/_probes.yml']}]
""",
    trim_blocks=True,
)

TARGET = jinja2.Template(
    """- targets: [{{ (s.host ~ ":" ~ s.port) | tojson }}]
  labels: {service: {{ s.name | tojson }}, owner: {{ s.owner | tojson }}}
""",
    trim_blocks=True,
)

PROBES = jinja2.Template(
    """{% for s in services if s.health_endpoint and s.port %}
- targets: [{{ ("http://" ~ (s.host or s.name) ~ ":" ~ s.port ~ s.health_endpoint) | tojson }}]
  labels: {service: {{ s.name | tojson }}, owner: {{ s.owner | tojson }}}
{% endfor %}
""",
    trim_blocks=True,
)

BLACKBOX = """modules:
  http_2xx: {prober: http, timeout: 5s, http: {preferred_ip_protocol: ip4}}
  tcp_connect: {prober: tcp, timeout: 5s}
"""

ALERTMANAGER = jinja2.Template(
    """route:
  receiver: default
  group_by: [alertname, service]
  routes:
{% for t in teams %}
    - matchers: ['owner="{{ t }}"']
      receiver: {{ t | tojson }}
{% endfor %}
receivers:
  - name: default
    webhook_configs: [{url: {{ default_webhook | tojson }}}]
{% for t in teams %}
  - name: {{ t | tojson }}
    webhook_configs: [{url: {{ (teams[t] or {}).get("webhook_url", default_webhook) | tojson }}}]
{% endfor %}
""",
    trim_blocks=True,
)

DASHBOARD = jinja2.Template(
    """{"title": {{ (team ~ ": services") | tojson }}, "uid": {{ ("team-" ~ team) | tojson }}, "schemaVersion": 39,
 "panels": [{% for s in services %}{% if not loop.first %},{% endif %}
  {"id": {{ loop.index }}, "type": "stat", "title": {{ s.name | tojson }}, "gridPos": {"x": 0, "y": {{ loop.index0 * 4 }}, "w": 6, "h": 4},
   "targets": [{"expr": {{ ('min(probe_success{service="' ~ s.name ~ '"})') | tojson }}}]}{% endfor %}
 ]}
""",
    trim_blocks=True,
)

KNOWN_PAGES = jinja2.Template(
    """// Generated from the service registry; do not edit.
export const PAGES = [
{% for p in pages %}
  { path: {{ p.path | tojson }}, name: {{ p.name | tojson }} },
{% endfor %}
] as const;
""",
    trim_blocks=True,
)


def main():
    registry, out, group_by = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else "service")
    merged = {"services": [], "pages": [], "api_endpoints": [], "teams": {}, "defaults": {}, "settings": {}}
    for name in sorted(os.listdir(registry)):
        if name.endswith((".yaml", ".yml")):
            with open(os.path.join(registry, name), "rb") as f:
                doc = yaml.load(f, Loader=yaml.CSafeLoader) or {}
            for k in ("services", "pages", "api_endpoints"):
                merged[k].extend(doc.get(k) or [])
            for k in ("teams", "defaults", "settings"):
                merged[k].update(doc.get(k) or {})
    services = merged["services"]
    for s in services:
        s["alerts"] = [a if isinstance(a, dict) else {"name": a} for a in s.get("alerts") or []]
        s["alerts"] = [a for a in s["alerts"] if a["name"] in ALERTS]
        s["alerts"].append({"name": "target_down"})
    env = jinja2.Environment()
    compiled = {k: env.from_string(v[3]) for k, v in ALERTS.items()}
    ctx = {
        "catalogue": ALERTS,
        "render": lambda t, s, a: compiled[a["name"]].render(s=s, a=a),
        "runbook": merged["defaults"].get("runbook_base_url", ""),
    }
    for d in ("rules", "tests", "targets", "grafana", "alertmanager", "blackbox", "typescript"):
        os.makedirs(os.path.join(out, d), exist_ok=True)

    def write(path, text):
        with open(os.path.join(out, path), "w") as f:
            f.write(text)

    files = {}
    for s in services:
        key = s["owner"] if group_by == "team" else s["name"]
        files.setdefault(key, []).append(s)
    for key, group in files.items():
        write(f"rules/{key}.rules.yml", RULES.render(services=group, **ctx))
        write(f"tests/{key}.test.yml", TESTS.render(services=group, rules=f"../rules/{key}.rules.yml", **ctx))
    scraped = [s for s in services if (s.get("monitoring") or {}).get("prometheus") and s.get("host") and s.get("port")]
    for s in scraped:
        write(f"targets/{s['name']}.yml", TARGET.render(s=s))
    write("targets/_probes.yml", PROBES.render(services=services))
    write("prometheus.yml", PROMETHEUS.render(scraped=scraped))
    write("blackbox/blackbox.yml", BLACKBOX)
    teams = merged["teams"]
    default_webhook = ((merged["settings"].get("alertmanager") or {}).get("default_webhook_url")) or ""
    write("alertmanager/alertmanager.yml", ALERTMANAGER.render(teams=teams, default_webhook=default_webhook))
    by_team = {}
    for s in services:
        by_team.setdefault(s["owner"], []).append(s)
    for team, group in by_team.items():
        write(f"grafana/team-{team}.json", DASHBOARD.render(team=team, services=group))
    write("typescript/known-pages.ts", KNOWN_PAGES.render(pages=merged["pages"]))


if __name__ == "__main__":
    main()

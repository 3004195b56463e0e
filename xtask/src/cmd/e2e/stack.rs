//! The stack the end-to-end scenarios run over: the real programs, the
//! in-process services and webhook, and the HTTP client that asks them.

use crate::outln;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use monitoring::write::{self, Mode};

/// The programs, as Debian names them.
pub const PROGRAMS: [(&str, &str); 6] = [
    ("prometheus", "prometheus"),
    ("victoria-metrics", "victoria-metrics"),
    ("vmalert", "victoria-metrics"),
    ("prometheus-alertmanager", "prometheus-alertmanager"),
    (
        "prometheus-blackbox-exporter",
        "prometheus-blackbox-exporter",
    ),
    ("prometheus-node-exporter", "prometheus-node-exporter"),
];

pub(super) const DELIVERY_TIMEOUT: Duration = Duration::from_secs(45);

/// A free loopback port, never one handed out before in this run: the kernel
/// may offer a port again once its probe listener is closed, and two of the
/// stack's programs on one port fail with "Address already in use".
pub fn free_port() -> Result<u16, String> {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().map_err(|e| e.to_string())?;
    for _ in 0..100 {
        let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
        let port = l
            .local_addr()
            .map(|a| a.port())
            .map_err(|e| e.to_string())?;
        if !given.contains(&port) {
            given.push(port);
            return Ok(port);
        }
    }
    Err("no free port after 100 tries".into())
}

/// A child process that is killed when dropped, on success and failure alike.
pub(super) struct Process {
    child: Child,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(super) fn spawn(program: &str, args: &[String], log: &Path) -> Result<Process, String> {
    let log_file = std::fs::File::create(log).map_err(|e| e.to_string())?;
    let err_file = log_file.try_clone().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(err_file);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    Ok(Process { child })
}

/// A minimal HTTP/1.0 request (so no server answers in chunks); returns
/// (status, body).
pub fn http(method: &str, addr: &str, path: &str, body: &str) -> Result<(u16, String), String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("{addr}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let req = format!(
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).map_err(|e| e.to_string())?;
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or("no HTTP status")?;
    let body = resp
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    Ok((status, body))
}

/// Reads one request: (method, path, body).
fn read_request(stream: &mut TcpStream) -> Option<(String, String, String)> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut len = 0;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        if h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, String::from_utf8_lossy(&body).into_owned()))
}

fn respond(stream: &mut TcpStream, status: u16, content_type: &str, body: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// The service under test: health, a page, and an API route instrumented as
/// an OpenTelemetry SDK's Prometheus exporter does it (the registry uses the
/// `opentelemetry` metrics preset): `http_server_request_duration_seconds`
/// with the generated buckets, per method, route and status code. It answers
/// 5xx on demand; `stop` closes its port for real.
struct App {
    stopped: Arc<AtomicBool>,
    failing: Arc<AtomicBool>,
    /// `/metrics` answers 500 while the health check still answers.
    metrics_broken: Arc<AtomicBool>,
    quit: Arc<AtomicBool>,
    handle: Option<thread::JoinHandle<()>>,
}

/// One status code's histogram: observations per bucket, count and sum.
#[derive(Default)]
struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    sum: f64,
}

/// The OpenTelemetry exposition of the route's histograms.
fn otel_metrics(by_status: &BTreeMap<u16, Histogram>, buckets: &[f64]) -> String {
    let name = "http_server_request_duration_seconds";
    let mut out = format!("# TYPE {name} histogram\n");
    for (status, h) in by_status {
        let labels = format!(
            "http_request_method=\"GET\",http_route=\"/api/v1/work\",http_response_status_code=\"{status}\""
        );
        for (le, n) in buckets.iter().zip(&h.buckets) {
            out.push_str(&format!("{name}_bucket{{{labels},le=\"{le}\"}} {n}\n"));
        }
        out.push_str(&format!(
            "{name}_bucket{{{labels},le=\"+Inf\"}} {}\n",
            h.count
        ));
        out.push_str(&format!("{name}_count{{{labels}}} {}\n", h.count));
        out.push_str(&format!("{name}_sum{{{labels}}} {}\n", h.sum));
    }
    out
}

impl App {
    pub(super) fn start(port: u16, buckets: Vec<f64>) -> App {
        let stopped = Arc::new(AtomicBool::new(false));
        let failing = Arc::new(AtomicBool::new(false));
        let metrics_broken = Arc::new(AtomicBool::new(false));
        let quit = Arc::new(AtomicBool::new(false));
        let (s, f, q) = (stopped.clone(), failing.clone(), quit.clone());
        let mb = metrics_broken.clone();
        let handle = thread::spawn(move || {
            let metrics: Mutex<BTreeMap<u16, Histogram>> = Mutex::default();
            while !q.load(Ordering::SeqCst) {
                if s.load(Ordering::SeqCst) {
                    thread::sleep(Duration::from_millis(50));
                    continue;
                }
                let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) else {
                    thread::sleep(Duration::from_millis(100));
                    continue;
                };
                let _ = listener.set_nonblocking(true);
                while !s.load(Ordering::SeqCst) && !q.load(Ordering::SeqCst) {
                    let Ok((mut stream, _)) = listener.accept() else {
                        thread::sleep(Duration::from_millis(10));
                        continue;
                    };
                    let _ = stream.set_nonblocking(false);
                    let Some((_, path, _)) = read_request(&mut stream) else {
                        continue;
                    };
                    match path.as_str() {
                        "/health" | "/" => respond(&mut stream, 200, "text/plain", "ok\n"),
                        "/api/v1/work" => {
                            let status = if f.load(Ordering::SeqCst) { 500 } else { 200 };
                            let took = 0.003;
                            let mut m = metrics.lock().unwrap_or_else(|e| e.into_inner());
                            let h = m.entry(status).or_insert_with(|| Histogram {
                                buckets: vec![0; buckets.len()],
                                ..Histogram::default()
                            });
                            for (n, le) in h.buckets.iter_mut().zip(&buckets) {
                                if took <= *le {
                                    *n += 1;
                                }
                            }
                            h.count += 1;
                            h.sum += took;
                            drop(m);
                            respond(&mut stream, status, "text/plain", "work\n");
                        }
                        "/metrics" if mb.load(Ordering::SeqCst) => {
                            respond(&mut stream, 500, "text/plain", "broken\n");
                        }
                        "/metrics" => {
                            let m = metrics.lock().unwrap_or_else(|e| e.into_inner());
                            let out = otel_metrics(&m, &buckets);
                            drop(m);
                            respond(&mut stream, 200, "text/plain; version=0.0.4", &out);
                        }
                        _ => respond(&mut stream, 404, "text/plain", "not found\n"),
                    }
                }
            }
        });
        App {
            stopped,
            failing,
            metrics_broken,
            quit,
            handle: Some(handle),
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.quit.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A TCP service (for the TCP probe): accepts and closes connections.
fn tcp_service(port: u16, quit: Arc<AtomicBool>) -> Result<thread::JoinHandle<()>, String> {
    let l = TcpListener::bind(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    l.set_nonblocking(true).map_err(|e| e.to_string())?;
    Ok(thread::spawn(move || {
        while !quit.load(Ordering::SeqCst) {
            if l.accept().is_err() {
                thread::sleep(Duration::from_millis(20));
            }
        }
    }))
}

/// Records what Alertmanager posts: (path, payload).
pub(super) type Inbox = Arc<Mutex<Vec<(String, Value)>>>;

pub(super) fn webhook(
    port: u16,
    inbox: Inbox,
    quit: Arc<AtomicBool>,
) -> Result<thread::JoinHandle<()>, String> {
    let l = TcpListener::bind(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    l.set_nonblocking(true).map_err(|e| e.to_string())?;
    Ok(thread::spawn(move || {
        while !quit.load(Ordering::SeqCst) {
            let Ok((mut s, _)) = l.accept() else {
                thread::sleep(Duration::from_millis(20));
                continue;
            };
            let _ = s.set_nonblocking(false);
            if let Some((_, path, body)) = read_request(&mut s) {
                if let Ok(v) = serde_json::from_str(&body) {
                    inbox
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((path, v));
                }
                respond(&mut s, 200, "text/plain", "ok\n");
            }
        }
    }))
}

/// Alerts received so far: (path, status, labels, annotations).
pub(super) fn received(inbox: &Inbox) -> Vec<(String, String, Value, Value)> {
    let msgs = inbox.lock().unwrap_or_else(|e| e.into_inner()).clone();
    msgs.iter()
        .flat_map(|(path, v)| {
            v["alerts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |a| {
                    (
                        path.clone(),
                        a["status"].as_str().unwrap_or("").to_owned(),
                        a["labels"].clone(),
                        a["annotations"].clone(),
                    )
                })
        })
        .collect()
}

pub(super) fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut f: impl FnMut() -> Option<T>,
) -> Result<(T, Duration), String> {
    let start = Instant::now();
    loop {
        if let Some(t) = f() {
            return Ok((t, start.elapsed()));
        }
        if start.elapsed() > timeout {
            return Err(format!("{what}: not within {} s", timeout.as_secs()));
        }
        thread::sleep(Duration::from_millis(200));
    }
}

fn registry(ports: &Ports, break_route: bool) -> String {
    // The broken variant sends the owner's alerts to a port nothing listens on.
    let team_hook = if break_route {
        format!("http://127.0.0.1:{}/e2e-team", ports.closed)
    } else {
        format!("http://127.0.0.1:{}/e2e-team", ports.hook)
    };
    let values = [
        ("app", ports.app.to_string()),
        ("tcp", ports.tcp.to_string()),
        ("bb", ports.blackbox.to_string()),
        ("am", ports.alertmanager.to_string()),
        ("hook", ports.hook.to_string()),
        ("node", ports.node.to_string()),
        ("closed", ports.closed.to_string()),
        ("prom", ports.prometheus.to_string()),
        ("beat", HEARTBEAT.as_secs().to_string()),
        ("team_hook", team_hook),
    ];
    values
        .iter()
        .fold(include_str!("registry.yaml").to_owned(), |text, (k, v)| {
            text.replace(&format!("${{{k}}}"), v)
        })
}

/// The Watchdog's repeat interval in the fixture: the switch pages after
/// hearing nothing for three of them.
const HEARTBEAT: Duration = Duration::from_secs(2);

struct Ports {
    app: u16,
    tcp: u16,
    blackbox: u16,
    prometheus: u16,
    alertmanager: u16,
    hook: u16,
    closed: u16,
    node: u16,
}

pub(super) fn step(n: usize, text: &str) {
    outln!("[{n}] {text}");
}

/// Whether every program is installed; under CI=true a missing one is an error.
pub fn missing_programs() -> Vec<&'static str> {
    PROGRAMS
        .iter()
        .filter(|(p, _)| Command::new(p).arg("--version").output().is_err())
        .map(|(_, pkg)| *pkg)
        .collect()
}

/// The programs under test and the fixtures they watch. Fields drop in order:
/// the real programs first, then the in-process services.
pub(super) struct Stack {
    /// blackbox_exporter first (`programs`), then Alertmanager, Prometheus,
    /// node_exporter last.
    procs: Vec<Process>,
    app: App,
    inbox: Inbox,
    ports: Ports,
    /// Prometheus's address.
    prom: String,
    _quit: QuitOnDrop,
}

impl Stack {
    /// Steps 1 and 2: generate from a loopback registry, start everything.
    pub(super) fn start(tmp: &Path, break_route: bool) -> Result<Stack, String> {
        let ports = Ports {
            app: free_port()?,
            tcp: free_port()?,
            blackbox: free_port()?,
            prometheus: free_port()?,
            alertmanager: free_port()?,
            hook: free_port()?,
            closed: free_port()?,
            node: free_port()?,
        };
        step(1, "generate the monitoring of a loopback fixture registry");
        let reg_dir = tmp.join("registry");
        std::fs::create_dir_all(&reg_dir).map_err(|e| e.to_string())?;
        std::fs::write(reg_dir.join("e2e.yaml"), registry(&ports, break_route))
            .map_err(|e| e.to_string())?;
        let generated = monitoring::generate(&reg_dir, &crate::project_root().join("templates"))
            .map_err(|e| format!("step 1: {e}"))?;
        let out = tmp.join("gen");
        write::apply(&out, &generated.outputs, Mode::Write).map_err(|e| e.0)?;

        step(
            2,
            "start the service, a TCP service, the webhook listener, blackbox_exporter, Prometheus and Alertmanager",
        );
        let quit = Arc::new(AtomicBool::new(false));
        let app = App::start(
            ports.app,
            generated.registry.settings.latency_buckets_seconds.clone(),
        );
        let inbox: Inbox = Arc::default();
        // The threads end when `quit` is set (on drop of the stack).
        let _ = tcp_service(ports.tcp, quit.clone())?;
        let _ = webhook(ports.hook, inbox.clone(), quit.clone())?;
        let procs = programs(tmp, &out, &ports)?;
        let stack = Stack {
            procs,
            app,
            inbox,
            prom: format!("127.0.0.1:{}", ports.prometheus),
            ports,
            _quit: QuitOnDrop(quit),
        };
        stack.wait_until_ready(tmp)?;
        Ok(stack)
    }

    fn wait_until_ready(&self, tmp: &Path) -> Result<(), String> {
        let logs = |name: &str| {
            std::fs::read_to_string(tmp.join(format!("{name}.log")))
                .unwrap_or_default()
                .lines()
                .rev()
                .take(5)
                .collect::<Vec<_>>()
                .join(" | ")
        };
        for (name, addr, path) in [
            ("prometheus", self.prom.clone(), "/-/ready"),
            (
                "alertmanager",
                format!("127.0.0.1:{}", self.ports.alertmanager),
                "/-/ready",
            ),
            (
                "blackbox",
                format!("127.0.0.1:{}", self.ports.blackbox),
                "/-/healthy",
            ),
        ] {
            wait_for(
                &format!("step 2: {name} ready"),
                Duration::from_secs(30),
                || http("GET", &addr, path, "").ok().filter(|(c, _)| *c == 200),
            )
            .map_err(|e| format!("{e}; log: {}", logs(name)))?;
        }
        Ok(())
    }

    /// The result of an instant query, when Prometheus answers.
    fn query(&self, q: &str) -> Option<Vec<Value>> {
        let path = format!("/api/v1/query?query={}", percent(q));
        let (_, body) = http("GET", &self.prom, &path, "").ok()?;
        serde_json::from_str::<Value>(&body).ok()?["data"]["result"]
            .as_array()
            .cloned()
    }

    /// Step 3.
    pub(super) fn wait_until_probed(&self) -> Result<(), String> {
        step(
            3,
            "wait until Prometheus sees the service, the TCP service and the page probed up",
        );
        for q in [
            "probe_success{service=\"e2e-app\", page=\"\"} == 1",
            "probe_success{service=\"e2e-tcp\"} == 1",
            "probe_success{page=\"/\"} == 1",
            "up{job=\"e2e-app\"} == 1",
        ] {
            wait_for(&format!("step 3: {q}"), Duration::from_secs(30), || {
                self.query(q).filter(|r| !r.is_empty())
            })?;
        }
        Ok(())
    }

    /// Step 6: the service still answers its health check, but its
    /// `/metrics` fails: TargetDown reaches the owner, and resolves.
    pub(super) fn target_down_then_resolved(&self) -> Result<(), String> {
        let target_down = |status: &'static str| {
            move || {
                received(&self.inbox).into_iter().find(|(path, st, l, _)| {
                    path == "/e2e-team"
                        && st == status
                        && l["alertname"] == "TargetDown"
                        && l["service"] == "e2e-app"
                })
            }
        };
        if target_down("firing")().is_some() {
            return Err(
                "step 6: TargetDown was delivered while ServiceDown fired: one incident, two pages"
                    .into(),
            );
        }
        step(
            6,
            "break the service's /metrics (its health check still answers): TargetDown must reach the owner's receiver",
        );
        self.app.metrics_broken.store(true, Ordering::SeqCst);
        let ((_, _, labels, _), delivered) = wait_for(
            "step 6: TargetDown delivered to e2e-team's receiver",
            DELIVERY_TIMEOUT,
            target_down("firing"),
        )?;
        if labels["owner"] != "e2e-team" || labels["host"] != "127.0.0.1" {
            return Err(format!("step 6: labels {labels}"));
        }
        self.app.metrics_broken.store(false, Ordering::SeqCst);
        let (_, resolved) = wait_for(
            "step 6: TargetDown resolved",
            DELIVERY_TIMEOUT,
            target_down("resolved"),
        )?;
        outln!(
            "target down delivered in {} s, resolved in {} s",
            delivered.as_secs(),
            resolved.as_secs()
        );
        Ok(())
    }

    /// Steps 4 and 5.
    pub(super) fn service_down_then_resolved(&self) -> Result<(), String> {
        step(
            4,
            "stop the HTTP service: ServiceDown must reach the owner's receiver",
        );
        self.app.stopped.store(true, Ordering::SeqCst);
        let down = |status: &'static str| {
            move || {
                received(&self.inbox).into_iter().find(|(path, st, l, _)| {
                    path == "/e2e-team"
                        && st == status
                        && l["alertname"] == "ServiceDown"
                        && l["service"] == "e2e-app"
                })
            }
        };
        let ((_, _, labels, annotations), delivered) = wait_for(
            "step 4: ServiceDown delivered to e2e-team's receiver",
            DELIVERY_TIMEOUT,
            down("firing"),
        )?;
        for (k, v) in [
            ("service", "e2e-app"),
            ("owner", "e2e-team"),
            ("severity", "critical"),
        ] {
            if labels[k] != v {
                return Err(format!("step 4: label {k} is {} instead of {v}", labels[k]));
            }
        }
        for k in ["summary", "description", "runbook_url", "auto_repair"] {
            if annotations[k].as_str().is_none_or(str::is_empty) {
                return Err(format!("step 4: annotation {k} missing"));
            }
        }

        step(5, "start it again: the resolved notification must arrive");
        self.app.stopped.store(false, Ordering::SeqCst);
        let (_, resolved) = wait_for(
            "step 5: ServiceDown resolved",
            DELIVERY_TIMEOUT,
            down("resolved"),
        )?;
        outln!(
            "alert delivered in {} s, resolved in {} s",
            delivered.as_secs(),
            resolved.as_secs()
        );
        Ok(())
    }

    /// Step 9: blackbox_exporter dies; its probe results go stale, and
    /// instead of every probe alert resolving in silence, ProberDown reaches
    /// the platform owner's receiver.
    pub(super) fn prober_down_is_an_alert(&mut self) -> Result<(), String> {
        step(
            9,
            "kill blackbox_exporter: ProberDown must reach the platform owner's receiver",
        );
        drop(self.procs.remove(0));
        let ((_, _, labels, _), delivered) = wait_for(
            "step 9: ProberDown delivered to e2e-platform's receiver",
            DELIVERY_TIMEOUT,
            || {
                received(&self.inbox).into_iter().find(|(path, st, l, _)| {
                    path == "/e2e-platform" && st == "firing" && l["alertname"] == "ProberDown"
                })
            },
        )?;
        if labels["owner"] != "e2e-platform" || labels["severity"] != "critical" {
            return Err(format!("step 9: labels {labels}"));
        }
        outln!("prober down delivered in {} s", delivered.as_secs());
        Ok(())
    }

    /// Step 10: node_exporter stops; the host's disk and unit alerts would
    /// go blind in silence: HostExporterDown reaches the platform owner.
    pub(super) fn host_exporter_down_is_an_alert(&mut self) -> Result<(), String> {
        step(
            10,
            "stop node_exporter: HostExporterDown must reach the platform owner's receiver",
        );
        drop(self.procs.pop());
        let ((_, _, labels, _), delivered) = wait_for(
            "step 10: HostExporterDown delivered to e2e-platform's receiver",
            DELIVERY_TIMEOUT,
            || {
                received(&self.inbox).into_iter().find(|(path, st, l, _)| {
                    path == "/e2e-platform"
                        && st == "firing"
                        && l["alertname"] == "HostExporterDown"
                })
            },
        )?;
        if labels["owner"] != "e2e-platform" || labels["host"] != "127.0.0.1" {
            return Err(format!("step 10: labels {labels}"));
        }
        outln!("host exporter down delivered in {} s", delivered.as_secs());
        Ok(())
    }

    /// The Watchdog's pings the switch has heard so far.
    fn heartbeats(&self) -> usize {
        received(&self.inbox)
            .iter()
            .filter(|(path, _, l, _)| path == "/heartbeat" && l["alertname"] == "Watchdog")
            .count()
    }

    /// Step 11: the Watchdog reaches the dead man's switch, again and again,
    /// and no team's receiver.
    pub(super) fn watchdog_reaches_only_the_switch(&self) -> Result<(), String> {
        step(
            11,
            "the Watchdog must reach the dead man's switch every few seconds, and nothing else",
        );
        let before = self.heartbeats();
        let (_, waited) = wait_for("step 11: two more heartbeats", DELIVERY_TIMEOUT, || {
            (self.heartbeats() >= before + 2).then_some(())
        })?;
        let elsewhere: Vec<String> = received(&self.inbox)
            .into_iter()
            .filter(|(path, _, l, _)| l["alertname"] == "Watchdog" && path != "/heartbeat")
            .map(|(path, ..)| path)
            .collect();
        if !elsewhere.is_empty() {
            return Err(format!("step 11: the Watchdog also reached {elsewhere:?}"));
        }
        outln!("two heartbeats in {} s", waited.as_secs());
        Ok(())
    }

    /// Step 12: a team's webhook refuses its notifications: the platform
    /// team hears about it, on its own receiver.
    pub(super) fn failed_notifications_reach_the_platform(&self) -> Result<(), String> {
        step(
            12,
            "e2e-gone's webhook refuses: AlertmanagerNotificationsFailing must reach the platform owner",
        );
        let ((_, _, labels, _), delivered) = wait_for(
            "step 12: AlertmanagerNotificationsFailing delivered to e2e-platform's receiver",
            DELIVERY_TIMEOUT,
            || {
                received(&self.inbox).into_iter().find(|(path, st, l, _)| {
                    path == "/e2e-platform"
                        && st == "firing"
                        && l["alertname"] == "AlertmanagerNotificationsFailing"
                })
            },
        )?;
        if labels["owner"] != "e2e-platform" || labels["integration"] != "webhook" {
            return Err(format!("step 12: labels {labels}"));
        }
        outln!("failed notifications reported in {} s", delivered.as_secs());
        Ok(())
    }

    /// Step 13: Alertmanager stops; nothing can page any more, and the
    /// switch's side sees its last ping age past three repeat intervals.
    pub(super) fn a_stopped_alertmanager_silences_the_heartbeat(&mut self) -> Result<(), String> {
        step(
            13,
            "stop Alertmanager: the dead man's switch must stop hearing the Watchdog",
        );
        // blackbox_exporter is gone (step 9): Alertmanager is the first left.
        drop(self.procs.remove(0));
        let stopped = Instant::now();
        // A ping already on its way may still land.
        thread::sleep(HEARTBEAT);
        let heard = self.heartbeats();
        thread::sleep(HEARTBEAT * 3);
        let after = self.heartbeats();
        if after != heard {
            return Err(format!(
                "step 13: {} heartbeats after Alertmanager stopped",
                after - heard
            ));
        }
        outln!(
            "no heartbeat for {} s: the switch pages",
            stopped.elapsed().as_secs()
        );
        Ok(())
    }

    /// Step 7.
    pub(super) fn a_burst_pages_once(&self) -> Result<(), String> {
        step(
            7,
            "a burst of 5xx: one page (fast or medium tier) arrives, the ticket (slow or long) fires but stays inhibited",
        );
        self.app.failing.store(true, Ordering::SeqCst);
        let traffic_quit = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let traffic = {
            let (q, sent, addr) = (
                traffic_quit.clone(),
                sent.clone(),
                format!("127.0.0.1:{}", self.ports.app),
            );
            thread::spawn(move || {
                while !q.load(Ordering::SeqCst) {
                    let _ = http("GET", &addr, "/api/v1/work", "");
                    sent.fetch_add(1, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(50));
                }
            })
        };
        let burn = |tier: &str| {
            received(&self.inbox).into_iter().any(|(_, st, l, _)| {
                st == "firing"
                    && l["alertname"] == "SLOErrorBudgetBurn"
                    && l["burnrate_tier"] == tier
            })
        };
        let page = wait_for(
            "step 7: the SLOErrorBudgetBurn page (fast+medium) delivered",
            DELIVERY_TIMEOUT,
            || burn("fast+medium").then_some(()),
        );
        // The ticket must be firing in Prometheus, and yet not delivered.
        let ticket_firing = wait_for(
            "step 7: the ticket (slow+long) firing in Prometheus",
            Duration::from_secs(20),
            || {
                self.query("count(ALERTS{alertname=\"SLOErrorBudgetBurn\", alertstate=\"firing\", burnrate_tier=\"slow+long\"}) == 1").filter(|r| !r.is_empty())
            },
        );
        thread::sleep(Duration::from_secs(4));
        traffic_quit.store(true, Ordering::SeqCst);
        let _ = traffic.join();
        let (_, page_in) = page?;
        ticket_firing?;
        if burn("slow+long") {
            return Err(
                "step 7: the ticket was delivered although the page fires (inhibition failed)"
                    .into(),
            );
        }
        let pages = received(&self.inbox)
            .into_iter()
            .filter(|(_, st, l, _)| {
                st == "firing"
                    && l["alertname"] == "SLOErrorBudgetBurn"
                    && l["severity"] == "critical"
            })
            .map(|(_, _, l, _)| l.to_string())
            .collect::<std::collections::BTreeSet<_>>();
        if pages.len() != 1 {
            return Err(format!(
                "step 7: {} distinct pages for one burst: {pages:?}",
                pages.len()
            ));
        }
        outln!(
            "one page delivered in {} s after {} requests; the ticket inhibited",
            page_in.as_secs(),
            sent.load(Ordering::SeqCst)
        );
        Ok(())
    }

    /// Step 8.
    pub(super) fn nothing_else_alerted(&self) -> Result<(), String> {
        step(
            8,
            "the TCP service and the page stayed silent the whole time",
        );
        let noise: Vec<String> = received(&self.inbox)
            .into_iter()
            .filter(|(_, _, l, _)| l["service"] == "e2e-tcp" || l["alertname"] == "SlowPageLoad")
            .map(|(_, _, l, _)| l.to_string())
            .collect();
        if !noise.is_empty() {
            return Err(format!("step 8: unexpected alerts: {}", noise.join(", ")));
        }
        Ok(())
    }
}

/// blackbox_exporter, Alertmanager and Prometheus on the generated configs.
fn programs(tmp: &Path, out: &Path, ports: &Ports) -> Result<Vec<Process>, String> {
    let mut procs = exporter_and_alertmanager(tmp, out, ports.blackbox, ports.alertmanager)?;
    procs.push(prometheus(
        tmp,
        &out.join("prometheus/prometheus.yml"),
        "",
        ports.prometheus,
    )?);
    // Only what the host alerts read: its filesystems.
    procs.push(spawn(
        "prometheus-node-exporter",
        &[
            format!("--web.listen-address=127.0.0.1:{}", ports.node),
            "--collector.disable-defaults".into(),
            "--collector.filesystem".into(),
        ],
        &tmp.join("node_exporter.log"),
    )?);
    Ok(procs)
}

/// blackbox_exporter and Alertmanager on the generated configs, logging into `tmp`.
pub(super) fn exporter_and_alertmanager(
    tmp: &Path,
    out: &Path,
    blackbox: u16,
    alertmanager: u16,
) -> Result<Vec<Process>, String> {
    let s = |p: &Path| p.to_string_lossy().into_owned();
    Ok(vec![
        spawn(
            "prometheus-blackbox-exporter",
            &[
                format!("--config.file={}", s(&out.join("blackbox/blackbox.yml"))),
                format!("--web.listen-address=127.0.0.1:{blackbox}"),
            ],
            &tmp.join("blackbox.log"),
        )?,
        spawn(
            "prometheus-alertmanager",
            &[
                format!(
                    "--config.file={}",
                    s(&out.join("alertmanager/alertmanager.yml"))
                ),
                format!("--storage.path={}", s(&tmp.join("am"))),
                format!("--web.listen-address=127.0.0.1:{alertmanager}"),
                "--cluster.listen-address=".into(),
            ],
            &tmp.join("alertmanager.log"),
        )?,
    ])
}

/// A Prometheus on `config`, its data and log in `tmp` (named with `tag`).
pub(super) fn prometheus(
    tmp: &Path,
    config: &Path,
    tag: &str,
    port: u16,
) -> Result<Process, String> {
    spawn(
        "prometheus",
        &[
            format!("--config.file={}", config.display()),
            format!(
                "--storage.tsdb.path={}",
                tmp.join(format!("tsdb{tag}")).display()
            ),
            format!("--web.listen-address=127.0.0.1:{port}"),
        ],
        &tmp.join(format!("prometheus{tag}.log")),
    )
}

/// A fixture registry generated into `tmp/gen` (the registry in
/// `tmp/registry`), for a scenario's step `n`.
pub(super) fn generate_fixture(tmp: &Path, yaml: &str, n: usize) -> Result<PathBuf, String> {
    let reg_dir = tmp.join("registry");
    std::fs::create_dir_all(&reg_dir).map_err(|e| e.to_string())?;
    std::fs::write(reg_dir.join("e2e.yaml"), yaml).map_err(|e| e.to_string())?;
    let generated = monitoring::generate(&reg_dir, &crate::project_root().join("templates"))
        .map_err(|e| format!("step {n}: {e}"))?;
    let out = tmp.join("gen");
    monitoring::write::apply(&out, &generated.outputs, monitoring::write::Mode::Write)
        .map_err(|e| e.0)?;
    Ok(out)
}

/// The webhook listener on `port` and what it received, stopped when the
/// first value drops.
pub(super) fn listen(port: u16) -> Result<(QuitOnDrop, Inbox), String> {
    let quit = Arc::new(AtomicBool::new(false));
    let inbox: Inbox = Arc::default();
    let _ = webhook(port, inbox.clone(), quit.clone())?;
    Ok((QuitOnDrop(quit), inbox))
}

pub(super) struct QuitOnDrop(pub(super) Arc<AtomicBool>);

impl Drop for QuitOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Percent-encodes a query string value.
pub(super) fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

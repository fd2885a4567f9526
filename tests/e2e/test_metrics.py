"""The metrics endpoint: /metrics scraped by a real Prometheus
(/usr/bin/prometheus) and queried through its HTTP API, /metrics checked
by promtool, /healthz and /readyz, the client allow-list, a bad CIDR, and
the Grafana dashboard's queries against the names the sensor exports.

The sensor captures every process on the host, so other tests' calls may
be counted too: the calls made here use a model name of their own, and
the queries select it.
"""
import json
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

import e2elib

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
DASHBOARD = os.path.join(e2elib.ROOT, "grafana", "dashboard.json")
README = os.path.join(e2elib.ROOT, "README.md")
CALLS = 3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    """(status, body) of a GET; HTTP errors are answers too."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_for(fn, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except (OSError, ValueError) as e:
            last = e
        time.sleep(0.2)
    raise AssertionError("%s: not after %.0f s (last: %r)" % (what, timeout, last))


def metrics_sensor(workdir, name, allowed):
    d = os.path.join(workdir, name)
    os.makedirs(d, exist_ok=True)
    port = free_port()
    s = e2elib.Sensor(d, extra_args=["--metrics", "--metrics-address", "127.0.0.1",
                                     "--metrics-port", str(port),
                                     "--allowed-ips", allowed])
    s.base = "http://127.0.0.1:%d" % port
    return s


def chat_call(server, model, text):
    """One non-streamed chat call with curl, for @model."""
    body = json.dumps({"model": model, "max_tokens": 64,
                       "messages": [{"role": "user", "content": text}]})
    c = e2elib.run_client(server, [
        "curl", "--cacert", server.ca, "-sS", "--fail-with-body",
        "-H", "Authorization: Bearer sk-test-metrics-0123456789",
        "-H", "Content-Type: application/json", "-d", body,
        "https://%s/v1/chat/completions" % e2elib.OPENAI_HOST])
    return json.loads(c.stdout)


@pytest.fixture(scope="module")
def msensor(server, workdir):
    s = metrics_sensor(workdir, "metrics", "127.0.0.0/8")
    s.start()
    wait_for(lambda: http_get(s.base + "/readyz")[0] == 200, 20, "/readyz 200")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def calls(msensor, server):
    """CALLS chat calls with a model of our own; their replies."""
    model = "gpt-metrics-" + uuid.uuid4().hex[:8]
    replies = [chat_call(server, model, "metrics call %d" % i) for i in range(CALLS)]
    events = e2elib.EventLog(msensor.out)
    got = events.wait(lambda e: e.get("event_type") == "ai.response"
                      and e["data"].get("model", {}).get("id", "").startswith(model),
                      count=CALLS, timeout=15)
    assert len(got) == CALLS, msensor.log_tail()
    return model, replies


@pytest.fixture(scope="module")
def prometheus(msensor, workdir):
    d = os.path.join(workdir, "prometheus")
    os.makedirs(d, exist_ok=True)
    port = free_port()
    cfg = os.path.join(d, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "scrape_configs:\n  - job_name: oisp-sensor\n"
                "    static_configs:\n      - targets: ['%s']\n"
                % msensor.base.split("//", 1)[1])
    log = open(os.path.join(d, "prometheus.log"), "w")
    proc = subprocess.Popen(
        [PROMETHEUS, "--config.file", cfg, "--storage.tsdb.path", os.path.join(d, "data"),
         "--web.listen-address", "127.0.0.1:%d" % port, "--log.level", "warn"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True, preexec_fn=e2elib._die_with_parent)
    log.close()
    base = "http://127.0.0.1:%d" % port
    try:
        wait_for(lambda: proc.poll() is None and http_get(base + "/-/ready")[0] == 200,
                 30, "prometheus ready")
        yield base
    finally:
        e2elib.stop_process(proc)


def query(base, expr):
    """The value of an instant query's single sample, or None."""
    st, body = http_get(base + "/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    assert st == 200, body
    res = json.loads(body)["data"]["result"]
    return float(res[0]["value"][1]) if res else None


def test_prometheus_scrapes_and_counts_the_calls(msensor, calls, prometheus):
    model, replies = calls
    sel = '{model="%s"}' % model
    up = wait_for(lambda: query(prometheus, 'up{job="oisp-sensor"}') == 1, 30,
                  "target up")
    assert up
    n = wait_for(lambda: query(prometheus, "sum(oisp_sensor_ai_requests_total%s)" % sel)
                 == CALLS, 30, "sum(oisp_sensor_ai_requests_total) == %d" % CALLS)
    assert n
    assert query(prometheus, 'sum(oisp_sensor_ai_responses_total{model="%s",success="true"})'
                 % model) == CALLS
    tokens_in = sum(r["usage"]["prompt_tokens"] for r in replies)
    tokens_out = sum(r["usage"]["completion_tokens"] for r in replies)
    assert query(prometheus, 'sum(oisp_sensor_ai_tokens_total{model="%s",direction="input"})'
                 % model) == tokens_in
    assert query(prometheus, 'sum(oisp_sensor_ai_tokens_total{model="%s",direction="output"})'
                 % model) == tokens_out
    assert query(prometheus, 'sum(oisp_sensor_ai_latency_seconds_count%s)' % sel) == CALLS
    assert query(prometheus, 'oisp_sensor_ai_requests_total%s' % sel) == CALLS
    assert query(prometheus, "oisp_sensor_build_info") == 1
    assert query(prometheus, "sum(oisp_sensor_capture_files_attached)") >= 1


def test_metrics_body_passes_promtool(msensor, calls):
    st, body = http_get(msensor.base + "/metrics")
    assert st == 200
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    # The README's table lists every family (a unit test checks it
    # against the tables); the live sensor, without the API server,
    # declares exactly those but the kubernetes ones.
    declared = set(re.findall(r"^# TYPE (\S+) ", body, re.M))
    listed = set(re.findall(r"^\|[^|]*\| `(\w+)` \|", open(README).read(), re.M))
    assert declared == {n for n in listed if not n.startswith("oisp_sensor_kubernetes_")}, (
        declared ^ listed)


def test_health_and_readiness(msensor):
    assert http_get(msensor.base + "/healthz") == (200, "ok\n")
    assert http_get(msensor.base + "/readyz") == (200, "ready\n")
    assert http_get(msensor.base + "/nothing")[0] == 404


def raw_get(base, path, src):
    """The bytes answered to a GET sent from the local address @src;
    b"" when the server closes without answering."""
    host, port = base.split("//", 1)[1].rsplit(":", 1)
    data = b""
    with socket.create_connection((host, int(port)), timeout=5,
                                  source_address=(src, 0)) as c:
        try:
            c.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                      % path.encode())
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass
    return data


def test_client_outside_the_allow_list_is_refused(server, workdir):
    """A denied client (127.0.0.2, routed on lo) is disconnected at
    accept, and counted; many of them held open take no connection slot
    from the allowed client's /healthz."""
    s = metrics_sensor(workdir, "metrics-denied", "127.0.0.1")
    s.start()
    held = []
    try:
        wait_for(lambda: http_get(s.base + "/readyz")[0] == 200, 20, "/readyz 200")
        assert raw_get(s.base, "/metrics", "127.0.0.2") == b""
        assert raw_get(s.base, "/healthz", "127.0.0.2") == b""
        host, port = s.base.split("//", 1)[1].rsplit(":", 1)
        for _ in range(40):
            held.append(socket.create_connection((host, int(port)), timeout=5,
                                                 source_address=("127.0.0.2", 0)))
        assert http_get(s.base + "/healthz") == (200, "ok\n")
        st, body = http_get(s.base + "/metrics")
        assert st == 200
        denied = re.search(r"^oisp_sensor_metrics_denied_total (\d+)$", body, re.M)
        assert denied and int(denied.group(1)) >= 2, body
    finally:
        for c in held:
            c.close()
        s.stop()
    assert "metrics endpoint on 127.0.0.1" in open(s.log_path).read()


def test_bad_cidr_stops_the_sensor(workdir):
    d = os.path.join(workdir, "metrics-bad")
    os.makedirs(d, exist_ok=True)
    out = os.path.join(d, "ev.jsonl")
    p = subprocess.run([e2elib.SENSOR, "run", "--output", out,
                        "--status-socket", os.path.join(d, "s.sock"),
                        "--metrics", "--allowed-ips", "10.0.0.0/8,10.0.0.999/8"],
                       capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert p.returncode != 0
    assert "metrics.allowed_ips" in p.stderr and '"10.0.0.999/8"' in p.stderr, p.stderr
    assert not os.path.exists(out)


# ---------------------------------------------------------------------------
# The Grafana dashboard

def dashboard_exprs():
    with open(DASHBOARD) as f:
        dash = json.load(f)
    exprs = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets") or []:
                if t.get("expr"):
                    exprs.append((p.get("title"), t["expr"]))
            walk(p.get("panels") or [])
    walk(dash["panels"])
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        if v.get("type") == "query" and q:
            exprs.append((v["name"], q))
    return dash, exprs


NAME = re.compile(r"\b((?:oisp_sensor|process)_[a-zA-Z0-9_]+)")


def test_dashboard_is_valid_grafana_json():
    dash, exprs = dashboard_exprs()
    assert dash["schemaVersion"] >= 36
    assert dash["uid"] and dash["title"]
    ds = [v for v in dash["templating"]["list"] if v["type"] == "datasource"]
    assert ds and ds[0]["query"] == "prometheus"
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    for p in dash["panels"]:
        if p["type"] == "row":
            continue
        assert p["targets"], p["title"]
        assert p["datasource"]["uid"] == "${%s}" % ds[0]["name"], p["title"]
        for k in ("x", "y", "w", "h"):
            assert isinstance(p["gridPos"][k], int)
    assert len(exprs) >= 8


def test_dashboard_uses_only_exported_metrics(msensor, calls):
    st, body = http_get(msensor.base + "/metrics")
    assert st == 200
    exported = e2elib.exported_metrics(body)
    _, exprs = dashboard_exprs()
    used = set()
    for title, expr in exprs:
        names = NAME.findall(expr)
        assert names, (title, expr)
        for n in names:
            assert n in exported, "panel %r uses %s, which the sensor does not export" % (
                title, n)
            used.add(n)
    for must in ("oisp_sensor_ai_requests_total", "oisp_sensor_ai_tokens_total",
                 "oisp_sensor_ai_responses_total", "oisp_sensor_capture_lost_records_total",
                 "oisp_sensor_capture_files_attached", "oisp_sensor_pipeline_parse_errors_total",
                 "oisp_sensor_output_write_errors_total"):
        assert must in used, must


def test_dashboard_exprs_parse_as_promql(tmp_path):
    """promtool checks a rules file built from the panels' queries; the
    dashboard variables are replaced by plain values first."""
    _, exprs = dashboard_exprs()
    rules = {"groups": [{"name": "dashboard", "rules": []}]}
    for i, (title, expr) in enumerate(exprs):
        # A variable's label_values(SELECTOR, LABEL): the selector is PromQL.
        e = re.sub(r"^label_values\((.*),\s*\w+\)$", r"\1", expr)
        e = re.sub(r"\$__\w+", "5m", e)
        e = re.sub(r"\$\{?(\w+)(?::\w+)?\}?", ".*", e)
        rules["groups"][0]["rules"].append({"record": "dashboard:expr_%d" % i, "expr": e})
    path = tmp_path / "rules.yml"
    path.write_text(json.dumps(rules))      # JSON is YAML
    p = subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr

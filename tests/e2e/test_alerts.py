"""The Prometheus alert rules and the Prometheus Operator components
(manifests/components/).

- `promtool check rules` passes on each plain rule file, and
  `promtool test rules` on tests/alerts/oisp-sensor.test.yml, which has
  every alert firing and not firing.
- Each PrometheusRule is what mkprometheusrule.py writes from its plain
  file (the two cannot drift).
- Each alert has a summary, a description and a runbook_url naming a
  section of cookbook/production/README.md.
- The expressions use only metric names that a running sensor exports:
  a live /metrics scrape (root, eBPF), not a list.
- The base with every component renders (kubectl kustomize), and the
  PrometheusRule, ServiceMonitor and PodMonitor validate against the
  Prometheus Operator's models (@kubernetes-models/prometheus-operator),
  the rest against kubernetes-models; the monitors select the
  DaemonSet's pods and port.
"""
import os
import re
import socket
import subprocess
import urllib.request

import yaml

import e2elib

ROOT = e2elib.ROOT
PROMTOOL = "/usr/bin/promtool"
COMPONENTS = os.path.join(ROOT, "manifests", "components")
RULE_FILES = [os.path.join(COMPONENTS, "alerts", "oisp-sensor.rules.yml"),
              os.path.join(COMPONENTS, "alerts-no-events", "oisp-sensor-no-events.rules.yml")]
RULE_TESTS = os.path.join(ROOT, "tests", "alerts", "oisp-sensor.test.yml")
MKRULE = os.path.join(COMPONENTS, "mkprometheusrule.py")
COOKBOOK = os.path.join(ROOT, "cookbook", "production", "README.md")
K8S_VALIDATE = os.path.join(ROOT, "tests", "k8s-validate")


def free_port():
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return sk.getsockname()[1]


def alerts():
    """(file, rule) of every alerting rule of the plain files."""
    out = []
    for path in RULE_FILES:
        with open(path) as f:
            for g in yaml.safe_load(f)["groups"]:
                out += [(path, r) for r in g["rules"] if "alert" in r]
    return out


def test_promtool_check_rules():
    for path in RULE_FILES:
        p = subprocess.run([PROMTOOL, "check", "rules", path], capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "SUCCESS" in p.stdout


def test_promtool_test_rules_cover_every_alert():
    p = subprocess.run([PROMTOOL, "test", "rules", RULE_TESTS], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    with open(RULE_TESTS) as f:
        tests = yaml.safe_load(f)
    fires, quiet = set(), set()
    for t in tests["tests"]:
        for a in t.get("alert_rule_test", []):
            (fires if a.get("exp_alerts") else quiet).add(a["alertname"])
    names = {r["alert"] for _, r in alerts()}
    assert len(names) >= 9
    assert names - fires == set(), "alerts never seen firing"
    assert names - quiet == set(), "alerts never seen quiet"
    assert (fires | quiet) - names == set(), "tests of alerts that do not exist"


def test_prometheusrule_objects_are_the_plain_files():
    p = subprocess.run(["/usr/bin/python3", MKRULE, "--check"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    for path in RULE_FILES:
        with open(path) as f:
            plain = yaml.safe_load(f)
        with open(os.path.join(os.path.dirname(path), "prometheusrule.yaml")) as f:
            obj = yaml.safe_load(f)
        assert obj["kind"] == "PrometheusRule"
        assert obj["spec"]["groups"] == plain["groups"]


def slug(heading):
    """GitHub's anchor of a Markdown heading."""
    s = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return s.replace(" ", "-")


def test_every_alert_has_a_runbook_section():
    with open(COOKBOOK) as f:
        text = f.read()
    anchors = {slug(m) for m in re.findall(r"^#+ (.*)$", text, re.M)}
    for path, r in alerts():
        a = r.get("annotations", {})
        for k in ("summary", "description", "runbook_url"):
            assert a.get(k), (r["alert"], k)
        url = a["runbook_url"]
        assert url.startswith("cookbook/production/README.md#"), url
        anchor = url.split("#", 1)[1]
        assert anchor in anchors, "%s: no section #%s in %s" % (r["alert"], anchor, COOKBOOK)
        # the runbook names the alert, as the page shows it
        assert "`%s`" % r["alert"] in text, r["alert"]
        assert r.get("labels", {}).get("severity") in ("info", "warning", "critical")


# ---------------------------------------------------------------------------
# Metric names: only what a running sensor exports

PROMQL_WORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
                "group_right", "bool", "offset"}


def metric_names(expr):
    """The metric names a PromQL expression selects."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)             # strings
    s = re.sub(r"\{[^}]*\}", " ", s)                           # label matchers
    s = re.sub(r"\[[^\]]*\]", " ", s)                          # ranges
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    s = re.sub(r"\b\d+(\.\d+)?([a-z]+)?\b", " ", s)            # numbers, durations
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", s):
        if s[m.end():].lstrip().startswith("("):
            continue                                           # functions
        if m.group(0) not in PROMQL_WORDS:
            names.add(m.group(0))
    return names


def test_metric_names_parser():
    assert metric_names(
        'sum without (stack) (rate(a_total{x="y z"}[10m])) / on (i) b offset 30m > 0.9 '
        'and on () sum by (j) (increase(c[6h])) > bool 0 unless d') == {
            "a_total", "b", "c", "d"}


def scrape_names(base):
    with urllib.request.urlopen(base + "/metrics", timeout=5) as r:
        return e2elib.exported_metrics(r.read().decode())


def test_rules_use_only_exported_metrics(tmp_path):
    port = free_port()
    s = e2elib.Sensor(str(tmp_path), extra_args=[
        "--metrics", "--metrics-address", "127.0.0.1", "--metrics-port", str(port),
        "--allowed-ips", "127.0.0.1/32"])
    s.start()
    try:
        exported = scrape_names("http://127.0.0.1:%d" % port)
    finally:
        assert s.stop() == 0, s.log_tail()
    assert "oisp_sensor_ready" in exported and len(exported) > 50
    used = set()
    for _, r in alerts():
        names = metric_names(r["expr"])
        assert names, r["alert"]
        for n in names:
            assert n in exported, "%s uses %s, which the sensor does not export" % (
                r["alert"], n)
        used |= names
    for must in ("oisp_sensor_capture_lost_records_total", "oisp_sensor_ready",
                 "oisp_sensor_uptime_seconds", "oisp_sensor_pipeline_memory_budget_bytes"):
        assert must in used, must


# ---------------------------------------------------------------------------
# The kustomize components

def render_with(components, tmp_path, extra=""):
    """kubectl kustomize of the base with @components (names under
    manifests/components/); the objects and the YAML text."""
    d = tmp_path / "overlay"
    d.mkdir(exist_ok=True)
    rel = os.path.relpath(os.path.join(ROOT, "manifests"), d)
    (d / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources: [%s]\ncomponents: [%s]\n%s" % (
            rel, ", ".join("%s/components/%s" % (rel, c) for c in components), extra))
    p = subprocess.run(["kubectl", "kustomize", str(d)], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    return [o for o in yaml.safe_load_all(p.stdout) if o], p.stdout


def validate(text):
    if not os.path.isdir(os.path.join(K8S_VALIDATE, "node_modules", "@kubernetes-models",
                                      "prometheus-operator")):
        p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=K8S_VALIDATE, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
    return subprocess.run([e2elib.NODE, os.path.join(K8S_VALIDATE, "validate.mjs"), "-"],
                          input=text, capture_output=True, text=True, timeout=120)


def test_components_render_and_validate(tmp_path):
    base, _ = render_with([], tmp_path)
    objs, text = render_with(["alerts", "alerts-no-events", "servicemonitor", "podmonitor"],
                             tmp_path)
    added = sorted((o["kind"], o["metadata"]["name"]) for o in objs if o not in base)
    assert added == [("PodMonitor", "oisp-sensor"), ("PrometheusRule", "oisp-sensor"),
                     ("PrometheusRule", "oisp-sensor-no-events"),
                     ("Service", "oisp-sensor-metrics"), ("ServiceMonitor", "oisp-sensor")]
    p = validate(text)
    assert p.returncode == 0, p.stdout + p.stderr
    for kind in ("PrometheusRule", "ServiceMonitor", "PodMonitor"):
        assert re.search(r"^ok monitoring\.coreos\.com/v1 %s oisp-sensor/" % kind,
                         p.stdout, re.M), p.stdout
    # the models do check these objects
    for good, bad, obj in [("interval: 30s", "interval: soon", "PodMonitor"),
                           ("for: 15m", "for: soon", "PrometheusRule")]:
        broken = text.replace(good, bad, 1)
        assert broken != text
        p = validate(broken)
        assert p.returncode == 1, p.stdout
        assert "FAIL monitoring.coreos.com/v1 " in p.stdout, p.stdout
    # Every added object is the sensor's, in its namespace.
    for o in objs:
        if o not in base:
            assert o["metadata"]["namespace"] == "oisp-sensor"
            assert o["metadata"]["labels"]["app.kubernetes.io/part-of"] == "oisp-sensor"


def test_monitors_match_the_daemonset(tmp_path):
    objs, _ = render_with(["servicemonitor", "podmonitor"], tmp_path)
    get = lambda kind: [o for o in objs if o["kind"] == kind
                        and o["metadata"]["namespace"] == "oisp-sensor"]
    ds = get("DaemonSet")[0]
    pod_labels = ds["spec"]["template"]["metadata"]["labels"]
    ports = {p["name"]: p["containerPort"]
             for p in ds["spec"]["template"]["spec"]["containers"][0]["ports"]}
    cm = [o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"] ==
          "oisp-sensor-config"][0]
    assert ports["metrics"] == yaml.safe_load(cm["data"]["config.yaml"])["metrics"]["port"]

    def selects(sel, labels):
        return sel and all(labels.get(k) == v for k, v in sel.items())

    pm = get("PodMonitor")[0]
    assert selects(pm["spec"]["selector"]["matchLabels"], pod_labels)
    assert [e["port"] for e in pm["spec"]["podMetricsEndpoints"]] == ["metrics"]
    svc = [o for o in get("Service") if o["metadata"]["name"] == "oisp-sensor-metrics"][0]
    assert selects(svc["spec"]["selector"], pod_labels)
    assert svc["spec"]["clusterIP"] == "None"
    assert [(p["name"], p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [
        ("metrics", ports["metrics"], "metrics")]
    sm = get("ServiceMonitor")[0]
    assert selects(sm["spec"]["selector"]["matchLabels"], svc["metadata"]["labels"])
    # ... and not the test app's Service, or any other
    for o in objs:
        if o["kind"] == "Service" and o is not svc:
            assert not selects(sm["spec"]["selector"]["matchLabels"],
                               o["metadata"].get("labels", {}))
    assert [e["port"] for e in sm["spec"]["endpoints"]] == ["metrics"]
    for ep in pm["spec"]["podMetricsEndpoints"] + sm["spec"]["endpoints"]:
        assert ep["path"] == "/metrics"


def test_production_overlay_renders_validates_and_its_env_is_accepted(tmp_path):
    d = os.path.join(ROOT, "cookbook", "production")
    p = subprocess.run(["kubectl", "kustomize", d], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    objs = [o for o in yaml.safe_load_all(p.stdout) if o]
    kinds = {o["kind"] for o in objs}
    assert {"PrometheusRule", "PodMonitor", "DaemonSet"} <= kinds, kinds
    v = validate(p.stdout)
    assert v.returncode == 0, v.stdout + v.stderr
    ds = [o for o in objs if o["kind"] == "DaemonSet"][0]
    env = {e["name"]: e["value"] for e in ds["spec"]["template"]["spec"]["containers"][0]["env"]
           if e["name"].startswith("OISP_SENSOR_")}
    assert "OISP_SENSOR_METRICS_ALLOWED_IPS" in env
    # The sensor takes these variables: `status` gets past its configuration
    # (exit 1: no sensor answers) instead of refusing it (exit 2).
    sock = str(tmp_path / "none.sock")
    for extra, rc in [(env, 1), ({"OISP_SENSOR_METRICS_ALLOWED_IPSS": "x"}, 2)]:
        p = subprocess.run([e2elib.SENSOR, "status", "--status-socket", sock],
                           env=dict(e2elib.clean_env(), **extra), capture_output=True,
                           text=True, timeout=10)
        assert p.returncode == rc, p.stderr

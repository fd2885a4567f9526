"""The Kubernetes manifests and the kubernetes/daemonset cookbook.

- `kubectl kustomize manifests/` renders, every object validates against
  the Kubernetes schemas (tests/k8s-validate, kubernetes-models, offline),
  and the DaemonSet has what the sensor needs and nothing more.
- tests/validate-expected.py (the cookbook's expected-events checker) exits
  0, 1 and 2 as the cookbook's validator did.
- The test app's mock OpenAI server (the script of its ConfigMap, started
  with the Deployment's own command) answers plain and streamed calls.
- `./test-all.sh --host kubernetes/daemonset` runs the example without a
  cluster and passes (root, eBPF).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402

ROOT = e2elib.ROOT
VALIDATE_EXPECTED = os.path.join(ROOT, "tests", "validate-expected.py")
K8S_VALIDATE = os.path.join(ROOT, "tests", "k8s-validate")
COOKBOOK = os.path.join(ROOT, "cookbook", "kubernetes", "daemonset")
EXPECTED = os.path.join(COOKBOOK, "expected-events.json")


@pytest.fixture(scope="module")
def rendered():
    p = subprocess.run(["kubectl", "kustomize", os.path.join(ROOT, "manifests")],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.fixture(scope="module")
def objs(rendered):
    return [d for d in yaml.safe_load_all(rendered) if d]


def one(objs, kind, name, ns=None):
    got = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name
           and o["metadata"].get("namespace") == ns]
    assert len(got) == 1, (kind, name, ns, len(got))
    return got[0]


# ---------------------------------------------------------------------------
# Manifests

def test_manifests_validate_against_kubernetes_schemas(rendered, objs):
    if not os.path.isdir(os.path.join(K8S_VALIDATE, "node_modules")):
        p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=K8S_VALIDATE, capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
    p = subprocess.run([e2elib.NODE, os.path.join(K8S_VALIDATE, "validate.mjs"), "-"],
                       input=rendered, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    oks = [l for l in p.stdout.splitlines() if l.startswith("ok ")]
    assert len(oks) == len(objs) >= 10, p.stdout
    # and the validator does reject a broken object
    bad = rendered.replace("containerPort: 9464", 'containerPort: "9464"')
    assert bad != rendered
    p = subprocess.run([e2elib.NODE, os.path.join(K8S_VALIDATE, "validate.mjs"), "-"],
                       input=bad, capture_output=True, text=True, timeout=120)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "FAIL apps/v1 DaemonSet oisp-sensor/oisp-sensor" in p.stdout


def test_manifests_objects(objs):
    kinds = sorted((o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"])
                   for o in objs)
    for k in [("Namespace", None, "oisp-sensor"), ("ConfigMap", "oisp-sensor", "oisp-sensor-config"),
              ("ServiceAccount", "oisp-sensor", "oisp-sensor"), ("ClusterRole", None, "oisp-sensor"),
              ("ClusterRoleBinding", None, "oisp-sensor"), ("DaemonSet", "oisp-sensor", "oisp-sensor"),
              ("Job", "oisp-test-app", "openai-client"), ("Deployment", "oisp-test-app", "mock-openai"),
              ("Service", "oisp-test-app", "mock-openai")]:
        assert k in kinds, (k, kinds)
    # the sensor's objects and the test app's can be applied separately
    for o in objs:
        part = o["metadata"].get("labels", {}).get("app.kubernetes.io/part-of")
        ns = o["metadata"].get("namespace") or o["metadata"]["name"]
        assert part in ("oisp-sensor", "oisp-test-app"), o["metadata"]
        if o["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            assert ns == part, o["metadata"]
    role = one(objs, "ClusterRole", "oisp-sensor")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"],
                              "verbs": ["get", "list", "watch"]}]
    rb = one(objs, "ClusterRoleBinding", "oisp-sensor")
    assert rb["subjects"] == [{"kind": "ServiceAccount", "name": "oisp-sensor",
                               "namespace": "oisp-sensor"}]


def test_configmap_keys(objs):
    cm = one(objs, "ConfigMap", "oisp-sensor-config", "oisp-sensor")
    cfg = yaml.safe_load(cm["data"]["config.yaml"])
    assert cfg["output"]["path"] == "/output/events.jsonl"
    assert cfg["filters"]["ai_only"] is True
    assert cfg["redaction"]["enabled"] is False
    assert cfg["metrics"]["enabled"] is True and cfg["metrics"]["port"] == 9464
    # The token series are for the pod itself until the operator opens them.
    assert cfg["metrics"]["allowed_ips"] == "127.0.0.1/32"
    # Every key is one of docs/config.md's (the sensor refuses unknown
    # keys; host mode runs the sensor on this very file).
    with open(os.path.join(ROOT, "docs", "config.md")) as f:
        documented = set(re.findall(r"^\| `([a-z_.]+)` \|", f.read(), re.M))

    def keys(d, prefix=""):
        for k, v in d.items():
            if isinstance(v, dict):
                yield from keys(v, prefix + k + ".")
            else:
                yield prefix + k
    for k in keys(cfg):
        assert k in documented, k


def test_daemonset_fields(objs):
    ds = one(objs, "DaemonSet", "oisp-sensor", "oisp-sensor")
    tpl = ds["spec"]["template"]
    pod = tpl["spec"]
    assert pod["hostPID"] is True
    assert not pod.get("hostNetwork")
    assert pod["serviceAccountName"] == "oisp-sensor"
    assert tpl["metadata"]["labels"]["app.kubernetes.io/name"] == "oisp-sensor"
    ann = tpl["metadata"]["annotations"]
    assert ann["prometheus.io/scrape"] == "true"
    assert ann["prometheus.io/port"] == "9464"
    assert ann["prometheus.io/path"] == "/metrics"
    (c,) = pod["containers"]
    assert c["command"] == ["oisp-sensor"]
    assert c["args"] == ["run", "--config", "/etc/oisp-sensor/config.yaml"]
    assert c["image"] == "oisp-sensor:0.1.0"
    sc = c["securityContext"]
    assert not sc.get("privileged")
    assert "privileged: true" not in yaml.safe_dump(ds)
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert sorted(sc["capabilities"]["add"]) == ["BPF", "CHECKPOINT_RESTORE", "DAC_READ_SEARCH",
                                                 "PERFMON", "SYS_ADMIN", "SYS_PTRACE"]
    assert c["resources"] == {"requests": {"memory": "128Mi", "cpu": "100m"},
                              "limits": {"memory": "512Mi", "cpu": "500m"}}
    assert c["ports"] == [{"name": "metrics", "containerPort": 9464, "protocol": "TCP"}]
    # The probes use the status socket: the metrics port admits no kubelet.
    status = ["oisp-sensor", "status", "--config", "/etc/oisp-sensor/config.yaml"]
    assert c["livenessProbe"]["exec"] == {"command": status}
    assert c["readinessProbe"]["exec"] == {"command": status}
    assert {"name": "NODE_NAME",
            "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}} in c["env"]
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    vols = {v["name"]: v for v in pod["volumes"]}
    assert vols[mounts["/etc/oisp-sensor"]["name"]]["configMap"]["name"] == "oisp-sensor-config"
    assert vols[mounts["/output"]["name"]]["hostPath"]["path"] == "/var/log/oisp-sensor"
    assert vols[mounts["/sys/kernel/btf"]["name"]]["hostPath"]["path"] == "/sys/kernel/btf"
    assert mounts["/sys/kernel/btf"]["readOnly"] is True
    assert mounts["/etc/oisp-sensor"]["readOnly"] is True
    # read-only root: the status socket's directory is a volume
    assert sc["readOnlyRootFilesystem"] is True
    assert "/run/oisp-sensor" in mounts


# ---------------------------------------------------------------------------
# The expected-events validator

def _ev(event_type, **data):
    return {"event_type": event_type, "event_id": "x", "process": {"name": "curl", "pid": 7},
            "data": data}


EVENTS = [
    _ev("ai.request", provider={"name": "openai"}, model={"id": "gpt-4o-mini"},
        streaming=False, messages=[{"role": "user", "content": "hi"}]),
    _ev("ai.response", success=True, usage={"total_tokens": 12}, latency_ms=3.5,
        choices=[{"index": 0}]),
]


def run_validator(tmp_path, events, expected, raw_events=None, raw_expected=None):
    ev = tmp_path / "events.jsonl"
    ex = tmp_path / "expected.json"
    ev.write_text(raw_events if raw_events is not None
                  else "".join(json.dumps(e) + "\n" for e in events))
    ex.write_text(raw_expected if raw_expected is not None else json.dumps(expected))
    p = subprocess.run([e2elib.PYTHON, VALIDATE_EXPECTED, str(ev), str(ex)],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


def test_validate_expected_pass(tmp_path):
    exp = {"minimum_events": 2, "events": [
        {"event_type": "ai.request", "required_fields": {
            "data.provider.name": "openai", "data.model.id": "/gpt-4o/", "data.streaming": False,
            "data.messages": "array", "data.messages.0.role": "user", "process.pid": "> 0",
            "process.name": "string"}},
        {"event_type": "ai.response", "required_fields": {
            "data.success": True, "data.usage.total_tokens": "> 0", "data.usage": "object",
            "data.latency_ms": ">= 3.5", "data.choices": "*"}},
    ]}
    rc, out = run_validator(tmp_path, EVENTS, exp)
    assert rc == 0, out
    assert out.count("PASS") == 2 and "SUCCESS" in out
    rc, out = run_validator(tmp_path, EVENTS, {"events": []})
    assert rc == 0, out


@pytest.mark.parametrize("fields,minimum", [
    ({"data.provider.name": "anthropic"}, 0),        # equality
    ({"data.model.id": "/claude/"}, 0),               # regex from the start
    ({"data.model.id": "/4o/"}, 0),                   # ... not a search
    ({"data.streaming": "boolean", "data.nothing": "*"}, 0),   # missing field
    ({"data.streaming": 0}, 0),                       # false is not 0
    ({"data.streaming": "> -1"}, 0),                  # a boolean is not a number
    ({"data.messages": "object"}, 0),                 # type check
    ({}, 3),                                          # minimum_events
])
def test_validate_expected_fail(tmp_path, fields, minimum):
    exp = {"minimum_events": minimum,
           "events": [{"event_type": "ai.request", "required_fields": fields}]}
    rc, out = run_validator(tmp_path, EVENTS, exp)
    assert rc == 1, out
    assert "FAIL" in out


def test_validate_expected_fails_on_a_missing_event_type(tmp_path):
    exp = {"events": [{"event_type": "ai.embedding", "required_fields": {}}]}
    rc, out = run_validator(tmp_path, EVENTS, exp)
    assert rc == 1 and "no event of this type" in out, out


def test_validate_expected_errors(tmp_path):
    exp = {"events": []}
    # bad JSON in either file
    assert run_validator(tmp_path, EVENTS, exp, raw_events='{"event_type": \n')[0] == 2
    assert run_validator(tmp_path, EVENTS, exp, raw_expected="{not json")[0] == 2
    # not the cookbook's format
    assert run_validator(tmp_path, EVENTS, {"events": [{"required_fields": {}}]})[0] == 2
    assert run_validator(tmp_path, EVENTS, {"minimum_events": "2"})[0] == 2
    assert run_validator(tmp_path, EVENTS, {"events": [
        {"event_type": "ai.request", "required_fields": {"a": "/(/"}}]})[0] == 2
    # missing files, wrong usage
    for argv in ([str(tmp_path / "nope.jsonl"), EXPECTED],
                 [str(tmp_path / "events.jsonl"), str(tmp_path / "nope.json")],
                 [EXPECTED]):
        p = subprocess.run([e2elib.PYTHON, VALIDATE_EXPECTED] + argv,
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 2, (argv, p.stdout, p.stderr)


def test_expected_events_file_is_valid():
    with open(EXPECTED) as f:
        exp = json.load(f)
    assert exp["minimum_events"] >= 6
    types = [e["event_type"] for e in exp["events"]]
    assert "ai.request" in types and "ai.response" in types


# ---------------------------------------------------------------------------
# The mock OpenAI server of the test app (what the k3d run talks to)

def test_mock_openai_server(objs, tmp_path):
    cm = one(objs, "ConfigMap", "mock-openai", "oisp-test-app")
    dep = one(objs, "Deployment", "mock-openai", "oisp-test-app")
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    app = tmp_path / "app"
    app.mkdir()
    (app / "mock_openai.py").write_text(cm["data"]["mock_openai.py"])
    port = 20000 + os.getpid() % 20000
    env = e2elib.clean_env(extra={e["name"]: e["value"] for e in c["env"]})
    env.update(PORT=str(port), BIND="127.0.0.1", TLS_CERT=str(tmp_path / "cert.pem"),
               TLS_KEY=str(tmp_path / "key.pem"))
    # The Deployment's own start command, with /app where the ConfigMap is.
    argv = c["command"] + [a.replace("/app/", str(app) + "/") for a in c["args"]]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, preexec_fn=e2elib._die_with_parent)
    try:
        line = proc.stdout.readline()
        assert "listening" in line, (line, proc.stderr.read() if proc.poll() is not None else "")
        base = ["curl", "-sS", "-k", "--noproxy", "*", "--connect-to",
                "api.openai.com:443:127.0.0.1:%d" % port, "https://api.openai.com/v1/chat/completions",
                "-H", "Content-Type: application/json"]
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi there"}]}
        p = subprocess.run(base + ["-d", json.dumps(body)], capture_output=True, text=True,
                           timeout=30, env=env)
        r = json.loads(p.stdout)
        assert r["choices"][0]["message"]["content"] == "Echo: hi there"
        assert r["usage"]["total_tokens"] == 2 + 3
        assert r["model"] == "gpt-4o-mini-2024-07-18"
        body.update(stream=True, stream_options={"include_usage": True})
        p = subprocess.run(base + ["-N", "-d", json.dumps(body)], capture_output=True,
                           text=True, timeout=30, env=env)
        text, usage = e2elib.sse_text(p.stdout)
        assert text == "Echo: hi there" and usage["total_tokens"] == 5, p.stdout
        assert p.stdout.rstrip().endswith("data: [DONE]")
    finally:
        e2elib.stop_process(proc)


# ---------------------------------------------------------------------------
# The cookbook, host mode (what CI runs)

def test_cookbook_host_mode(tmp_path):
    results = tmp_path / "results.txt"
    p = subprocess.run([os.path.join(ROOT, "test-all.sh"), "--host", "--results", str(results),
                        "kubernetes/daemonset"], capture_output=True, text=True, timeout=600,
                       cwd=ROOT, stdin=subprocess.DEVNULL)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-6000:]
    lines = results.read_text().splitlines()
    assert len(lines) == 1, lines
    status, name, msg = lines[0].split("|", 2)
    assert (status, name) == ("PASS", "kubernetes/daemonset"), lines
    assert "host-mode: PASS" in out
    assert "6 events captured" in out
    assert "SUCCESS" in out


def test_test_all_rejects_unknown_cookbook(tmp_path):
    p = subprocess.run([os.path.join(ROOT, "test-all.sh"), "--host", "--results",
                        str(tmp_path / "r.txt"), "no/such-example"],
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert p.returncode == 2, p.stdout + p.stderr

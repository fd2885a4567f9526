"""Kubernetes metadata end to end: a loopback HTTPS "API server" serves the
recorded PodList (tests/fixtures/k8s/podlist.json) to a bearer token; a
curl client runs in a cgroup whose path carries a pod UID of that list and
a container id (the kubelet's cgroupfs form on a cgroup v1 hierarchy, and
the systemd form on the cgroup v2 one); a sensor of its own, with the
kubernetes.* keys and NODE_NAME in its environment, must write the
container id, the pod UID and the API's pod name, namespace, labels,
service account and deployment on the client's events."""
import http.server
import json
import os
import secrets
import ssl
import threading
import time

import pytest

import e2elib
from e2elib import curl_client, one_call

PODLIST = os.path.join(e2elib.ROOT, "tests", "fixtures", "k8s", "podlist.json")
NODE = "worker-1"
POD_UID = "6f1c2a4e-8b3d-4e5f-9a7b-1c2d3e4f5a6b"     # chat-api in the PodList
CGROUP_V1 = "/sys/fs/cgroup/pids"
CGROUP_V2 = "/sys/fs/cgroup/unified"

K8S_CONFIG = e2elib.SENSOR_CONFIG + """\
kubernetes:
  enabled: true
  api_server: {api}
  refresh_seconds: 5
  token_path: {token}
  ca_path: {ca}
"""


class ApiServer:
    """GET /api/v1/pods?fieldSelector=spec.nodeName%3DNODE with the bearer
    token gives the recorded PodList; anything else a Status error.
    status=403 answers every request with Forbidden."""

    def __init__(self, workdir, token, status=200):
        self.token = token
        self.status = status
        self.requests = []
        d = os.path.join(workdir, "k8s-tls")
        os.makedirs(d, exist_ok=True)
        self.tls = e2elib.make_ca(d, ["127.0.0.1"], names=("localhost",))
        with open(PODLIST, "rb") as f:
            self.podlist = f.read()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def send(self, code, body):
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                auth = self.headers.get("Authorization")
                api.requests.append({"path": self.path, "auth": auth})
                if auth != "Bearer " + api.token:
                    return self.send(401, _status(401, "Unauthorized"))
                if api.status != 200:
                    return self.send(api.status, _status(api.status, "pods is forbidden"))
                want = "/api/v1/pods?fieldSelector=spec.nodeName%3D" + NODE + "&limit="
                if not self.path.startswith(want):
                    return self.send(400, _status(400, "unexpected " + self.path))
                self.send(200, api.podlist)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.tls["cert"], self.tls["key"])
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _status(code, msg):
    return json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                       "message": msg, "code": code}).encode()


def _expected_pod():
    with open(PODLIST) as f:
        for item in json.load(f)["items"]:
            if item["metadata"]["uid"] == POD_UID:
                return item
    raise AssertionError("no pod %s in %s" % (POD_UID, PODLIST))


class PodCgroup:
    """A cgroup whose path carries the pod UID and a container id, in the
    kubelet's cgroupfs form (v1) or systemd form (v2); removed on close."""

    def __init__(self, form):
        self.cid = secrets.token_hex(32)
        if form == "v1-cgroupfs":
            root = CGROUP_V1
            rel = ["kubepods", "besteffort", "pod" + POD_UID, self.cid]
            self.runtime = None
        else:
            root = CGROUP_V2
            u = POD_UID.replace("-", "_")
            rel = ["kubepods.slice", "kubepods-besteffort.slice",
                   "kubepods-besteffort-pod%s.slice" % u,
                   "cri-containerd-%s.scope" % self.cid]
            self.runtime = "containerd"
        if not os.path.isdir(root) or not os.access(root, os.W_OK):
            pytest.skip("%s is not a writable cgroup hierarchy" % root)
        self.dirs = []
        path = root
        for part in rel:
            path = os.path.join(path, part)
            if not os.path.isdir(path):
                try:
                    os.mkdir(path)
                except OSError as e:
                    self.close()
                    pytest.skip("cannot create cgroup %s: %s" % (path, e))
                self.dirs.append(path)
        self.procs = os.path.join(path, "cgroup.procs")

    def wrap(self, argv):
        """argv run with its pid first written into the cgroup (exec keeps
        the pid, so the client is in the cgroup before it starts)."""
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', self.procs] + list(argv)

    def close(self):
        for d in reversed(self.dirs):
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.1)     # the last process is still exiting


@pytest.fixture
def k8s_env(server, tmp_path):
    """(api, make_sensor): the API server and a function that starts a
    sensor configured for it."""
    token = "e2e-" + secrets.token_hex(16)
    tok_path = tmp_path / "token"
    tok_path.write_text(token + "\n")
    started = []

    def make(status=200, extra=""):
        api = ApiServer(str(tmp_path), token, status)
        cfg = K8S_CONFIG.replace("{api}", api.url).replace(
            "{token}", str(tok_path)).replace("{ca}", api.tls["ca"]) + extra
        wd = tmp_path / ("sensor%d" % len(started))
        wd.mkdir()
        s = e2elib.Sensor(str(wd), config=cfg, env={"NODE_NAME": NODE})
        started.append((api, s))
        s.start()
        return api, s

    yield make
    for api, s in started:
        s.stop()
        api.stop()


def _wait_log(sensor, text, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(sensor.log_path, errors="replace") as f:
            if text in f.read():
                return
        time.sleep(0.1)
    raise AssertionError("sensor log never said %r:\n%s" % (text, sensor.log_tail()))


def _call(server, sensor, cg, msg):
    argv = ["sh", os.path.join(e2elib.CLIENTS, "curl_client.sh"), "chat", msg]
    c = e2elib.run_client(server, cg.wrap(argv) if cg else argv)
    evs = e2elib.EventLog(sensor.out).wait_pid(c.pid, 2, timeout=15)
    return c, one_call(evs, msg)


def _validate(sensor):
    import subprocess
    p = subprocess.run([e2elib.PYTHON, e2elib.VALIDATE, sensor.out], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, (p.stdout + p.stderr)[-4000:]


@pytest.mark.parametrize("form", ["v1-cgroupfs", "v2-systemd"])
def test_pod_metadata_from_cgroup_and_api(server, k8s_env, form):
    api, sensor = k8s_env()
    cg = PodCgroup(form)
    try:
        _wait_log(sensor, "kubernetes: 6 pods on node " + NODE)
        c, (q, r) = _call(server, sensor, cg, "k8s metadata " + form)
    finally:
        cg.close()
    pod = _expected_pod()
    for e in (q, r):
        assert e["process"]["pid"] == c.pid
        assert e["process"]["container_id"] == cg.cid, e["process"]
        ctr = e["host"]["container"]
        assert ctr["id"] == cg.cid, ctr
        assert ctr.get("runtime") == cg.runtime, ctr
        k = e["host"]["k8s"]
        assert k["pod_uid"] == POD_UID
        assert k["pod_name"] == pod["metadata"]["name"] == "chat-api-7d4b9c8f6d-x2x7q"
        assert k["namespace"] == "ai-apps"
        assert k["node_name"] == NODE
        assert k["labels"] == pod["metadata"]["labels"]
        assert k["service_account"] == "chat-api"
        assert k["deployment"] == "chat-api"
        assert e["host"]["hostname"]        # the host fields stay
    # the sensor asked for this node's pods with the token
    assert api.requests, "the API server got no request"
    assert all(x["auth"] == "Bearer " + api.token for x in api.requests)

    # a host process in the same run: no container, no pod
    c2, (q2, r2) = _call(server, sensor, None, "k8s metadata host " + form)
    for e in (q2, r2):
        assert "container" not in e["host"] and "k8s" not in e["host"], e["host"]
        assert "container_id" not in e["process"]
    sensor.stop()
    assert sensor.returncode == 0, sensor.log_tail()
    _validate(sensor)


def test_api_failure_keeps_the_cgroup_ids(server, k8s_env):
    api, sensor = k8s_env(status=403)
    cg = PodCgroup("v1-cgroupfs")
    try:
        _wait_log(sensor, "HTTP 403: pods is forbidden")
        c, (q, r) = _call(server, sensor, cg, "k8s metadata api down")
    finally:
        cg.close()
    for e in (q, r):
        assert e["host"]["container"] == {"id": cg.cid}
        assert e["host"]["k8s"] == {"pod_uid": POD_UID}
    sensor.stop()
    assert sensor.returncode == 0, sensor.log_tail()
    with open(sensor.log_path) as f:
        assert f.read().count("pods is forbidden") == 1, "logged once, not per refresh"
    _validate(sensor)


def test_targeted_by_namespace(server, k8s_env):
    """capture.targets.k8s_namespace: a process of a pod in the namespace
    is traced (decided at its exec, from the pod list), a host process
    is not."""
    api, sensor = k8s_env(extra="capture:\n  targets:\n    k8s_namespace: [\"ai-*\"]\n")
    cg = PodCgroup("v2-systemd")
    try:
        _wait_log(sensor, "kubernetes: 6 pods on node " + NODE)
        # Selected at its exec once in the pod's cgroup; the probes take a
        # kernel grace period to register (README, "New libraries"), so
        # curl starts 0.3 s later, as a container's entrypoint would.
        msg = "targeted by namespace"
        c = e2elib.run_client(server, cg.wrap([
            "sh", "-c", 'sleep 0.3; exec sh "$0" chat "$1"',
            os.path.join(e2elib.CLIENTS, "curl_client.sh"), msg]))
        q, r = one_call(e2elib.EventLog(sensor.out).wait_pid(c.pid, 2, timeout=15), msg)
    finally:
        cg.close()
    assert q["host"]["k8s"]["namespace"] == "ai-apps"
    assert r["data"]["status_code"] == 200
    host = e2elib.run_client(server, ["sh", os.path.join(e2elib.CLIENTS, "curl_client.sh"),
                                      "chat", "host process not targeted"])
    time.sleep(1)
    assert e2elib.EventLog(sensor.out).by_pid(host.pid) == []
    st = sensor.status()["attach"]
    assert st["targeted"] is True
    sensor.stop()
    assert sensor.returncode == 0, sensor.log_tail()

"""Helpers for the end-to-end tests: test CA, fixture server, clients run
in a mount namespace whose /etc/hosts points the real API host names at
the fixture server, the sensor, and the events file.

No pytest in here, so it can be used from a shell too:
  /usr/bin/python3 -c 'import e2elib; ...'
"""
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SENSOR = os.path.join(ROOT, "build", "oisp-sensor")
VALIDATE = os.path.join(ROOT, "tests", "validate-events.py")
CLIENTS = os.path.join(HERE, "clients")
NODE_DIR = os.path.join(HERE, "node")
PYTHON = "/usr/bin/python3"
NODE = "/usr/bin/node"

OPENAI_HOST = "api.openai.com"
ANTHROPIC_HOST = "api.anthropic.com"
GEMINI_HOST = "generativelanguage.googleapis.com"   # at the OpenAI address

# Environment variables that point TLS clients at the system CA bundle;
# every client gets them overridden with the test CA.
CA_ENV_VARS = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
               "NODE_EXTRA_CA_CERTS", "HTTPLIB2_CA_CERTS", "AWS_CA_BUNDLE",
               "PIP_CERT", "NIX_SSL_CERT_FILE", "GIT_SSL_CAINFO")
PROXY_ENV_VARS = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                  "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY")


def _die_with_parent():
    """preexec_fn: SIGTERM the child when the test runner dies, so that
    nothing outlives a killed pytest."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG


def _run(argv, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL, **kw)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (argv[0], p.returncode, p.stderr))
    return p


def make_ca(d, ips, names=(OPENAI_HOST, ANTHROPIC_HOST, GEMINI_HOST, "localhost")):
    """Test CA and a leaf certificate for names + ips, with the openssl CLI.
    Returns dict(ca, cert, key)."""
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr, cert = (os.path.join(d, n) for n in ("leaf.key", "leaf.csr", "leaf.pem"))
    ext = os.path.join(d, "leaf.ext")
    _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
          "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
          "-subj", "/O=oisp-sensor e2e/CN=oisp-sensor e2e test CA",
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign",
          "-addext", "subjectKeyIdentifier=hash"])
    _run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
          "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=%s" % names[0]])
    san = ",".join(["DNS:%s" % n for n in names] + ["IP:%s" % i for i in ips])
    with open(ext, "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectKeyIdentifier=hash\n"
                "authorityKeyIdentifier=keyid\n"
                "subjectAltName=%s\n" % san)
    _run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
          "-CAcreateserial", "-out", cert, "-days", "2", "-sha256", "-extfile", ext])
    return {"ca": ca, "cert": cert, "key": key}


class Server:
    """The fixture server, a separate process (so it is traced like any
    other OpenSSL user, and its events, were there any, are told apart by
    pid)."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.proc = None
        self.log = os.path.join(workdir, "server-requests.jsonl")
        self.stderr_path = os.path.join(workdir, "server.stderr")

    def start(self, tries=8):
        last = ""
        for _ in range(tries):
            x = random.randint(16, 250)
            self.openai_ip = "127.%d.0.1" % x
            self.anthropic_ip = "127.%d.0.2" % x
            self.tls = make_ca(self.workdir, [self.openai_ip, self.anthropic_ip, "127.0.0.1"])
            listen = ["%s:443" % self.openai_ip, "%s:443" % self.anthropic_ip, "127.0.0.1:0"]
            argv = [PYTHON, os.path.join(HERE, "fixture_server.py"),
                    "--cert", self.tls["cert"], "--key", self.tls["key"], "--log", self.log,
                    "--exit-with-parent"]
            for spec in listen:
                argv += ["--listen", spec]
            err = open(self.stderr_path, "w")
            self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err,
                                         stdin=subprocess.DEVNULL, text=True,
                                         env=clean_env(), start_new_session=True)
            err.close()
            line = self.proc.stdout.readline()
            if line.startswith("READY "):
                info = json.loads(line[6:])
                self.pid = info["pid"]
                self.other_port = int(info["listen"][2].rsplit(":", 1)[1])
                self.ca = self.tls["ca"]
                self.hosts = os.path.join(self.workdir, "hosts")
                with open(self.hosts, "w") as f:
                    f.write("127.0.0.1\tlocalhost\n"
                            "%s\t%s %s\n%s\t%s\n" % (self.openai_ip, OPENAI_HOST, GEMINI_HOST,
                                                     self.anthropic_ip, ANTHROPIC_HOST))
                return self
            self.proc.wait(10)
            last = open(self.stderr_path).read()
            if self.proc.returncode != 3:
                break
        raise RuntimeError("fixture server did not start: " + last)

    @property
    def other_base(self):
        """An OpenAI-compatible server on a host no rule knows."""
        return "https://localhost:%d" % self.other_port

    def requests(self):
        """What the server received (its JSONL log)."""
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(l) for l in f if l.strip()]

    def stop(self):
        stop_process(self.proc)


def stop_process(proc, sig=signal.SIGTERM, timeout=10):
    """Stop a Popen we started (its own process group when it has one)."""
    if proc is None or proc.poll() is not None:
        return proc.returncode if proc else None
    try:
        proc.send_signal(sig)
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(5)


def clean_env(ca=None, extra=None):
    env = {k: v for k, v in os.environ.items()
           if k not in CA_ENV_VARS and k not in PROXY_ENV_VARS}
    env["NO_PROXY"] = env["no_proxy"] = "*"
    if ca:
        for k in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"):
            env[k] = ca
    for k in ("PYTHONPATH", "OPENAI_BASE_URL", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL",
              "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        env.pop(k, None)
    env.pop("NODE_OPTIONS", None)
    if extra:
        env.update(extra)
    return env


class Client:
    """A client process run in its own mount namespace with the test
    /etc/hosts.  `unshare` and `sh` exec into the client, so the Popen pid
    is the client's pid (what the sensor reports as process.pid)."""

    def __init__(self, server, argv, env_extra=None, stdin=False, cwd=HERE):
        """@cwd: the client's working directory."""
        self.argv = argv
        self.server = server
        env = clean_env(server.ca, {
            "OISP_CA": server.ca,
            "OISP_OTHER_BASE": server.other_base,
            "OISP_CLIENTS": CLIENTS,
        })
        if env_extra:
            env.update(env_extra)
        wrapped = ["unshare", "--mount", "--propagation", "private", "--",
                   "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"',
                   server.hosts] + list(argv)
        self.proc = subprocess.Popen(
            wrapped, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            env=env, cwd=cwd, text=True, start_new_session=True,
            preexec_fn=_die_with_parent)
        self.pid = self.proc.pid
        self.stdout = self.stderr = None

    def wait(self, timeout=60, check=True):
        try:
            self.stdout, self.stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.stdout, self.stderr = self.proc.communicate()
            raise AssertionError("client %s timed out; stderr:\n%s" % (self.argv, self.stderr))
        if check and self.proc.returncode != 0:
            raise AssertionError("client %s exited %d\nstdout:\n%s\nstderr:\n%s" % (
                self.argv, self.proc.returncode, self.stdout, self.stderr))
        return self

    def results(self):
        """The JSON lines a client printed, one per call."""
        out = []
        for line in (self.stdout or "").splitlines():
            line = line.strip()
            if line.startswith("{"):
                out.append(json.loads(line))
        return out

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(5)


def run_client(server, argv, timeout=60, **kw):
    return Client(server, argv, **kw).wait(timeout)


def curl_client(server, mode, *args, **kw):
    return run_client(server, ["sh", os.path.join(CLIENTS, "curl_client.sh"), mode, *args], **kw)


def py_client(server, lib, *modes, **kw):
    return run_client(server, [PYTHON, os.path.join(CLIENTS, "py_client.py"), lib, *modes], **kw)


def node_client(server, *modes, **kw):
    return run_client(server, [NODE, os.path.join(CLIENTS, "node_client.mjs"), *modes], **kw)


# ---------------------------------------------------------------------------
# The sensor

SENSOR_CONFIG = """\
output:
  format: jsonl
  path: {out}
filters:
  ai_only: true
redaction:
  enabled: false
"""


class Sensor:
    """config: the YAML text of --config, formatted with out= (the events
    path); SENSOR_CONFIG by default.  env: variables added to the
    sensor's environment (e.g. NODE_NAME)."""

    def __init__(self, workdir, extra_args=(), config=SENSOR_CONFIG, env=None):
        self.workdir = workdir
        self.config_text = config
        self.env = env
        self.out = os.path.join(workdir, "events.jsonl")
        self.sock = os.path.join(workdir, "status.sock")
        self.config = os.path.join(workdir, "sensor.yaml")
        self.log_path = os.path.join(workdir, "sensor.log")
        self.extra_args = list(extra_args)
        self.proc = None
        self.returncode = None
        self.status_json = None

    def start(self, ready_timeout=20.0):
        assert os.path.exists(SENSOR), (
            "%s is missing: build the sensor (make) before the e2e tests" % SENSOR)
        with open(self.config, "w") as f:
            f.write(self.config_text.format(out=self.out))
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [SENSOR, "run", "--config", self.config, "--output", self.out,
             "--status-socket", self.sock, "--log-level", "debug"] + self.extra_args,
            env=dict(os.environ, **self.env) if self.env else None,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=_die_with_parent)
        log.close()
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("sensor exited %d before it was ready:\n%s" % (
                    self.proc.returncode, self.log_tail()))
            st = self.status()
            if st is not None:
                self.status_json = st
                return self
            time.sleep(0.1)
        self.stop()
        raise AssertionError("sensor not ready after %.0f s:\n%s" % (ready_timeout, self.log_tail()))

    def status(self):
        p = subprocess.run([SENSOR, "status", "--json", "--status-socket", self.sock],
                           capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            return None
        try:
            return json.loads(p.stdout)
        except ValueError:
            return {"_unparsed": p.stdout}

    def log_tail(self, n=60):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self, timeout=15):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                self.returncode = "killed after SIGTERM timeout"
                return self.returncode
        if self.returncode is None:
            self.returncode = self.proc.returncode
        return self.returncode


class EventLog:
    """Reads the sensor's JSON Lines output as it grows."""

    def __init__(self, path):
        self.path = path
        self.pos = 0
        self.partial = b""
        self.events = []
        self.bad_lines = []

    def refresh(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
                self.pos = f.tell()
        except FileNotFoundError:
            return self.events
        data = self.partial + data
        lines = data.split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            if not line.strip():
                continue
            try:
                self.events.append(json.loads(line))
            except ValueError:
                self.bad_lines.append(line)
        return self.events

    def by_pid(self, pid):
        return [e for e in self.refresh() if (e.get("process") or {}).get("pid") == pid]

    def wait(self, pred, count=1, timeout=10.0):
        """Events matching pred, once at least count of them are there
        (or whatever is there at the timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            got = [e for e in self.refresh() if pred(e)]
            if len(got) >= count or time.monotonic() > deadline:
                return got
            time.sleep(0.1)

    def wait_pid(self, pid, count, timeout=10.0):
        return self.wait(lambda e: (e.get("process") or {}).get("pid") == pid, count, timeout)


def bpf_links_of(pid):
    """The BPF links process @pid holds, as their /proc/PID/fdinfo fields
    (link_type, link_id, uprobe_cnt, path, ...)."""
    out = []
    for fd in os.listdir("/proc/%d/fdinfo" % pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                info = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        except OSError:
            continue
        if "link_type" in info:
            out.append({k: v.strip() for k, v in info.items()})
    return out


def uprobes_loaded():
    """Every uprobe loaded on the host, whoever loaded it: uprobe_multi
    links and perf-event uprobes, as bpftool lists them."""
    def bpftool(*args):
        return json.loads(subprocess.run(["bpftool", *args, "-j"], capture_output=True,
                                         text=True, check=True).stdout or "[]")
    return ([l for l in bpftool("link", "list") if l.get("type") in (12, "uprobe_multi")] +
            [p for p in bpftool("perf", "list") if p.get("fd_type") in ("uprobe", "uretprobe")])


def pairs(events):
    """[(request, response or None)] in request order, paired by
    data.request_id."""
    resp = {}
    for e in events:
        if e.get("event_type") == "ai.response":
            resp[e["data"].get("request_id")] = e
    return [(e, resp.get(e["data"].get("request_id")))
            for e in events if e.get("event_type") == "ai.request"]


def find_call(events, text):
    """The (request, response) pair whose request messages contain text."""
    found = [(q, r) for q, r in pairs(events)
             if any(text in (m.get("content") or "") for m in q["data"].get("messages") or [])]
    return found


def wait_until(fn, timeout, what, step=0.1):
    """fn()'s first true result, polled every @step s; fails with @what
    after @timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        assert time.monotonic() < deadline, what
        time.sleep(step)


# Part of every API key the clients send (curl_client.sh, node_client.mjs,
# py_client.py, and the tests' own curl calls); never in an event.
KEY_MARK = "0123456789"


def exported_metrics(body):
    """The metric names a /metrics body (Prometheus text format) exports:
    each family of its # TYPE lines, with a histogram's _bucket, _sum and
    _count series."""
    exported = set()
    for line in body.splitlines():
        if line.startswith("# TYPE "):
            name, typ = line.split()[2:4]
            exported.add(name)
            if typ == "histogram":
                exported.update(name + s for s in ("_bucket", "_sum", "_count"))
    return exported


def check_lines_valid(path):
    """What a sensor's events file must be once the sensor has exited:
    every line ends with a newline and parses, and every event validates
    against the schema (tests/validate-events.py).  Returns the events."""
    assert os.path.exists(VALIDATE), "%s is missing" % VALIDATE
    p = subprocess.run([PYTHON, VALIDATE, path], capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, (p.stdout + p.stderr)[-4000:]
    events = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            assert line.endswith("\n"), "%s: line %d is not terminated" % (path, n)
            events.append(json.loads(line))
    return events


def check_whole_file(path, server_pid):
    """Whole-file properties of a sensor's events: there are some; none
    from the TLS server side (the fixture server, pid @server_pid); no API
    key; every ai.request has exactly one ai.response; no event id twice.
    Returns the events."""
    with open(path) as f:
        text = f.read()
    evs = [json.loads(l) for l in text.splitlines() if l.strip()]
    assert evs, "%s: no events at all" % path
    assert not [e for e in evs if e["process"]["pid"] == server_pid], \
        "events from the fixture server (the TLS server side)"
    assert not [e for e in evs if e["source"]["capture_point"] != "tls_client"]
    assert KEY_MARK not in text, "an API key was written"
    reqs = [e["data"]["request_id"] for e in evs if e["event_type"] == "ai.request"]
    resps = [e["data"]["request_id"] for e in evs if e["event_type"] == "ai.response"]
    assert sorted(reqs) == sorted(resps), "requests without exactly one response"
    assert len(set(e["event_id"] for e in evs)) == len(evs), "an event id twice"
    return evs


def workdir(prefix="oisp-e2e-"):
    return tempfile.mkdtemp(prefix=prefix)


def rmtree(d):
    shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------------------
# Checking events field by field

def realpath(p):
    return os.path.realpath(p)


def one_call(events, text):
    """The single (request, response) pair whose messages contain text."""
    found = find_call(events, text)
    summary = [(e.get("event_type"), (e.get("data") or {}).get("request_id"),
                [m.get("content", "")[:60] for m in (e.get("data") or {}).get("messages") or []])
               for e in events]
    assert len(found) == 1, "expected one ai.request with %r, found %d; events of this pid: %s" % (
        text, len(found), json.dumps(summary, indent=1))
    q, r = found[0]
    assert r is not None, "no ai.response paired (data.request_id) with the request for %r" % text
    return q, r


def check_envelopes(q, r, *, pid, exe=None, name=None):
    """Asserts what every complete request/response pair of a client has:
    the envelope fields, the process, and the pairing.  Returns their
    data objects."""
    for e in (q, r):
        assert e["oisp_version"] == "0.1"
        assert len(e["event_id"]) == 26
        assert e["source"]["collector"] == "oisp-sensor"
        assert e["source"]["capture_method"] == "ebpf_uprobe"
        assert e["source"]["capture_point"] == "tls_client"
        assert e["process"]["pid"] == pid
        if exe:
            assert realpath(e["process"]["exe"]) == realpath(exe), e["process"]
        if name:
            assert e["process"]["name"] == name, e["process"]
        assert e["confidence"]["completeness"] == "full", e["confidence"]
        assert e["confidence"]["content_source"] == "tls_boundary"
        assert e["actor"]["uid"] == os.getuid()
    assert q["event_type"] == "ai.request"
    assert r["event_type"] == "ai.response"
    qd, rd = q["data"], r["data"]
    assert qd["request_id"] == rd["request_id"]
    assert {"event_id": q["event_id"], "relationship": "caused_by"} in r["related_events"]
    assert q["ts_mono"] <= r["ts_mono"]
    return qd, rd


def check_pair(q, r, *, pid, provider, endpoint, model, request_type, streaming,
               messages=None, text=None, prompt_tokens=None, completion_tokens=None,
               finish_reason="stop", provider_finish_reason=None, status=200,
               resp_model=None, provider_request_id=None, api=None, auth_type=None,
               path=None, body_bytes=None, content_encoding=None, exe=None, name=None,
               first_token_ms=25):
    """Asserts one request/response pair, field by field.  first_token_ms:
    the least time to first token of a streamed reply (the fixture sends
    its first text 30 ms in; the sensor times a compressed stream by its
    first body byte, the empty role delta, so 0 there)."""
    qd, rd = check_envelopes(q, r, pid=pid, exe=exe, name=name)

    # request
    assert qd["provider"]["name"] == provider
    assert qd["provider"]["endpoint"] == endpoint
    assert qd["model"]["id"] == model
    assert qd["request_type"] == request_type
    assert qd["streaming"] is streaming
    if messages is not None:
        got = [{"role": m["role"], "content": m["content"]} for m in qd["messages"]]
        assert got == messages
        assert qd["messages_count"] == len(messages)
        assert qd["has_system_prompt"] is (messages[0]["role"] == "system")
    if api:
        assert qd["api"] == api
    # OISP's auth.type, plus which header carried the key (never its value)
    if auth_type == "bearer":
        assert qd["auth"] == {"type": "api_key", "header": "authorization",
                              "scheme": "bearer"}, qd["auth"]
    elif auth_type == "api_key":
        assert qd["auth"] == {"type": "api_key", "header": "x-api-key"}, qd["auth"]
    elif auth_type == "goog_api_key":
        assert qd["auth"] == {"type": "api_key", "header": "x-goog-api-key"}, qd["auth"]
    elif auth_type:
        raise AssertionError("unknown auth_type %r" % auth_type)
    assert qd["http"]["method"] == "POST"
    if path:
        assert qd["http"]["path"] == path
    if body_bytes is not None:
        assert qd["http"]["body_bytes"] == body_bytes

    # response
    assert rd["provider"]["name"] == provider
    assert rd["status_code"] == status
    assert rd["http"]["status"] == status
    assert rd["success"] is (200 <= status < 300)
    assert rd["model"]["id"] == (resp_model or model)
    if provider_request_id:
        assert rd["provider_request_id"] == provider_request_id
    assert rd["streaming"] is streaming
    assert rd["latency_ms"] > 0
    if status == 200:
        if text is not None:
            assert len(rd["choices"]) >= 1
            c = rd["choices"][0]
            assert c["message"]["role"] == "assistant"
            assert c["message"]["content"] == text
            assert c.get("finish_reason", finish_reason) == finish_reason
            assert rd["finish_reason"] == finish_reason
            if provider_finish_reason:
                assert rd["provider_finish_reason"] == provider_finish_reason
        if prompt_tokens is not None:
            assert rd["usage"]["prompt_tokens"] == prompt_tokens
            if completion_tokens is not None:
                assert rd["usage"]["completion_tokens"] == completion_tokens
                assert rd["usage"]["total_tokens"] == prompt_tokens + completion_tokens
            else:
                assert rd["usage"]["total_tokens"] == prompt_tokens
        # the server waits 20 ms before a non-stream answer and 30 ms
        # before the first streamed text
        if streaming:
            assert rd["time_to_first_token_ms"] >= first_token_ms, rd
            assert rd["latency_ms"] >= rd["time_to_first_token_ms"]
        else:
            assert rd["latency_ms"] >= 15, rd
    if content_encoding is not None:
        assert (rd["http"].get("content_encoding") or None) == content_encoding, rd["http"]
    return qd, rd


def server_request(server, text):
    """The fixture server's log entry for the request whose body has text."""
    got = [r for r in server.requests() if text in r.get("body", r.get("body_head", ""))]
    assert len(got) == 1, (text, got)
    return got[0]


def curl_transfers(stdout):
    """[(body, info)] from curl_client.sh output: each transfer's body is
    followed by a line {"curl": {http_code, num_connects, local_port, ...}}."""
    out, body = [], []
    for line in stdout.split("\n"):
        if line.startswith('{"curl":'):
            out.append(("\n".join(body).strip("\n"), json.loads(line)["curl"]))
            body = []
        else:
            body.append(line)
    return out


def sse_text(body):
    """Text assembled from an OpenAI chat or Anthropic SSE body, and the
    last usage object seen."""
    text, usage = "", None
    for line in body.split("\n"):
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        ev = json.loads(line[6:])
        for c in ev.get("choices") or []:
            text += c["delta"].get("content") or ""
        if ev.get("type") == "content_block_delta":
            text += ev["delta"]["text"]
        if ev.get("usage"):
            usage = ev["usage"]
    return text, usage


BIG_TEXT = " ".join("w%05d" % i for i in range(1, 15001))   # curl_client.sh big


def expected(server, text, provider_request_id=None):
    """check_pair keyword arguments for the call whose request body holds
    text, derived from what the fixture server received (its log) with the
    fixture's deterministic model."""
    return expected_of(server_request(server, text), provider_request_id)


def expected_of(req, provider_request_id=None):
    """expected() for the fixture server's log entry @req."""
    import fixture_model as fm
    body = json.loads(req.get("body", req["body_head"]))
    h = {k.lower(): v for k, v in req["headers"]}
    path = req["path"].split("?")[0]
    # Gemini names the model and the streaming in the path
    g = fm.GEMINI_PATH.match(path)
    kw = dict(endpoint=h["host"], model=g.group(1) if g else body["model"],
              streaming=(g.group(2) == "streamGenerateContent") if g else
              body.get("stream") is True,
              path=path, body_bytes=req["body_len"],
              content_encoding=req.get("resp_encoding") or None,
              auth_type=("goog_api_key" if "x-goog-api-key" in h else
                         "api_key" if "x-api-key" in h else "bearer"),
              provider_request_id=provider_request_id)
    if g:
        a = fm.gemini_answer(body)
        si = body.get("systemInstruction")
        msgs = [{"role": "system", "content": fm.content_text(si["parts"])}] if si else []
        # a turn without a role is the user's; the model's is the assistant's
        roles = [c.get("role") or "user" for c in body["contents"]]
        msgs += [{"role": "assistant" if role == "model" else role,
                  "content": fm.content_text(c["parts"])}
                 for role, c in zip(roles, body["contents"])]
        kw.update(provider="google", api="google.generate_content", request_type="chat",
                  messages=msgs, text=a.text, prompt_tokens=a.prompt_tokens,
                  completion_tokens=a.completion_tokens, finish_reason=a.openai_finish,
                  provider_finish_reason=fm.gemini_finish(a))
    elif path == "/v1/messages":
        a = fm.messages_answer(body)
        msgs = ([{"role": "system", "content": fm.content_text(body["system"])}]
                if body.get("system") is not None else [])
        msgs += [{"role": m["role"], "content": fm.content_text(m["content"])}
                 for m in body["messages"]]
        kw.update(provider="anthropic", api="anthropic.messages", request_type="chat",
                  messages=msgs, text=a.text, prompt_tokens=a.prompt_tokens,
                  completion_tokens=a.completion_tokens,
                  finish_reason="length" if a.anthropic_finish == "max_tokens" else "stop",
                  provider_finish_reason=a.anthropic_finish)
    elif path == "/v1/embeddings":
        n = fm.words(body["input"])
        kw.update(provider="openai", api="openai.embeddings", request_type="embedding",
                  prompt_tokens=n, completion_tokens=None)
    elif path == "/v1/responses":
        a = fm.responses_answer(body)
        msgs = ([{"role": "system", "content": body["instructions"]}]
                if body.get("instructions") else [])
        inp = body["input"]
        # OpenAI's developer role is the system prompt (docs/events.md)
        msgs += ([{"role": "user", "content": inp}] if isinstance(inp, str) else
                 [{"role": "system" if m["role"] == "developer" else m["role"],
                   "content": fm.content_text(m["content"])} for m in inp])
        kw.update(provider="openai", api="openai.responses", request_type="chat",
                  messages=msgs, text=a.text, prompt_tokens=a.prompt_tokens,
                  completion_tokens=a.completion_tokens, finish_reason=a.openai_finish,
                  resp_model=fm.openai_response_model(body["model"]))
    else:
        a = fm.chat_answer(body)
        kw.update(provider="openai", api="openai.chat_completions", request_type="chat",
                  messages=[{"role": m["role"], "content": fm.content_text(m["content"])}
                            for m in body["messages"]],
                  text=a.text, prompt_tokens=a.prompt_tokens,
                  completion_tokens=a.completion_tokens, finish_reason=a.openai_finish,
                  provider_finish_reason=a.openai_finish,
                  resp_model=fm.openai_response_model(body["model"]))
    if kw["provider"] == "openai" and h["host"].split(":")[0] not in ("api.openai.com",):
        kw["provider"] = "other"     # an OpenAI-compatible server on an unknown host
    if kw["model"] == fm.BAD_MODEL:
        kw.update(status=400, text=None, prompt_tokens=None, resp_model=fm.BAD_MODEL)
    return kw

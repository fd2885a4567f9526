"""The sensor against rustls over aws-lc in stripped executables: Deno's
fetch() (npm @deno/linux-x64-glibc, from the test cache that
tests/fetch-agent-exes.sh fills), two releases, JSON and SSE, two calls
on one pooled connection.  The plaintext is taken at aws-lc's
EVP_AEAD_CTX_seal/_open, found without symbols (capture/rustls.h); the
connection is the socket (bpf/rustls.bpf.c).  Deno trusts the test CA
through DENO_CERT.  The client waits on stdin until status shows its
deno probed: identifying a 100 MB executable takes about a second, and
calls made before are not captured."""
import json
import os
import re
import subprocess
import tempfile

import pytest

import agentlib
import e2elib
from e2elib import check_pair, expected, one_call, server_request
from test_sensor_h2 import h2front  # noqa: F401  (a fixture)

CACHE = os.path.join(os.environ.get("OISP_TEST_CACHE", "/var/cache/oisp-test"), "npm")
DENOS = ["2.9.6", "2.6.3"]
# Releases over 16 months for fetch(): each is captured without a change to
# the sensor (rustls 0.23.28 to 0.23.40).
DENO_RELEASES = DENOS + ["2.9.4", "2.7.14", "2.5.6", "2.4.4"]
SCRIPT = os.path.join(e2elib.CLIENTS, "deno_client.mjs")


def deno_exe(version):
    exe = os.path.join(CACHE, "@deno/linux-x64-glibc@%s" % version, "package", "deno")
    if not os.access(exe, os.X_OK):
        pytest.skip("%s not in the test cache (tests/fetch-agent-exes.sh)" % exe)
    return exe


def status_file(sensor, exe):
    real = os.path.realpath(exe)
    # None while the sensor is busy identifying a large file
    st = sensor.status()
    for f in (st["attach"]["list"] if st else []):
        if os.path.realpath(f["path"]) == real:
            return f
    return None


def check_proto(req, proto):
    """The fixture server's log entry @req came as @proto from the client:
    nghttpx says so in Via ("2 nghttpx" for an h2 client)."""
    via = {k.lower(): v for k, v in req["headers"]}.get("via")
    assert via == ("2 nghttpx" if proto == "h2" else None), (proto, via)


def front_of(request, sensor_run, proto):
    """The fixture server itself (HTTP/1.1), or nghttpx in front of it
    (h2, which these clients negotiate by ALPN)."""
    return request.getfixturevalue("h2front") if proto == "h2" else sensor_run.server


def deno_env(server, d):
    return {"DENO_CERT": server.ca, "DENO_DIR": d, "HOME": d,
            "DENO_NO_UPDATE_CHECK": "1", "NO_COLOR": "1"}


def start_deno(sensor_run, front, exe, d, args):
    """deno_client.mjs @args under @exe, talking to @front, once status
    lists @exe as probed (the probes are attached then); it waits on
    stdin for go()."""
    c = e2elib.Client(front,
                      [exe, "run", "--allow-net", "--allow-env", "--no-prompt", SCRIPT] + args,
                      env_extra=deno_env(sensor_run.server, d), stdin=True)
    sensor_run.known_pids.add(c.pid)
    try:
        e2elib.wait_until(lambda: status_file(sensor_run.sensor, exe) is not None,
                          30, "%s in status" % exe)
        f = status_file(sensor_run.sensor, exe)
        assert f["stack"] == "rustls" and "skipped" not in f, f
    except BaseException:
        c.kill()
        raise
    return c


def go(c):
    """Lets the waiting deno_client.mjs @c make its next call."""
    c.proc.stdin.write("go\n")
    c.proc.stdin.flush()


@pytest.mark.parametrize("proto", ["h1", "h2"])
@pytest.mark.parametrize("version", DENO_RELEASES)
def test_deno_fetch(request, sensor_run, version, proto):
    exe = deno_exe(version)
    front = front_of(request, sensor_run, proto)
    tag = "rustls %s %s" % (version, proto)
    with tempfile.TemporaryDirectory(prefix="oisp-deno-") as d:
        c = start_deno(sensor_run, front, exe, d, ["chat", "stream", "--tag", tag])
        try:
            go(c)
            c.wait(60)
        finally:
            c.kill()
    res = c.results()
    assert [r["mode"] for r in res] == ["chat", "stream"], c.stdout
    evs = sensor_run.events.wait_pid(c.pid, 4)
    for r in res:
        assert r["status"] == 200, r
        q, resp = one_call(evs, r["message"])
        check_proto(e2elib.server_request(sensor_run.server, r["message"]), proto)
        kw = expected(sensor_run.server, r["message"], provider_request_id=r["id"])
        qd, rd = check_pair(q, resp, pid=c.pid, exe=exe, name="deno", **kw)
        if r["mode"] == "stream":
            assert rd["usage"]["total_tokens"] == r["usage"]["total_tokens"]
    assert len(evs) == 4, [e["event_type"] for e in evs]


def rustls_conns_left(sensor, tgid):
    """The connections (socket cookies) of process @tgid that @sensor's
    rustls_conns map still holds: those whose end it has not seen.
    The map is found among the sensor process's file descriptors and
    read with bpftool."""
    ids = []
    for fd in os.listdir("/proc/%d/fdinfo" % sensor.proc.pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (sensor.proc.pid, fd)) as f:
                m = re.search(r"^map_id:\s*(\d+)", f.read(), re.M)
        except OSError:
            continue
        if m:
            ids.append(m.group(1))
    for mid in ids:
        show = json.loads(subprocess.run(["bpftool", "map", "show", "id", mid, "-j"],
                                         capture_output=True, text=True, check=True).stdout)
        if show.get("name") != "rustls_conns":
            continue
        dump = json.loads(subprocess.run(["bpftool", "map", "dump", "id", mid, "-j"],
                                         capture_output=True, text=True, check=True).stdout)
        left = []
        for e in dump:
            # key: the socket's cookie, or tgid << 32 | fd (u64);
            # value: the tgid (u32)
            key = bytes(int(b, 16) for b in e["key"])
            value = bytes(int(b, 16) for b in e["value"])
            if int.from_bytes(value[0:4], "little") == tgid:
                left.append(int.from_bytes(key[0:8], "little"))
        return sorted(left)
    raise AssertionError("the sensor has no rustls_conns map")


# The connections of test_deno_connections, one after the other: closed
# mid-response (close), after the whole response (after), or after the
# whole response with the sending side shut before it came (half).
OWN = ["close", "after", "close", "after", "close", "half", "close"]


@pytest.mark.parametrize("version", DENOS)
def test_deno_connections(sensor_run, version):
    """check_deno_connections() under the shared sensor, which names a
    connection by its socket from the socket tracepoints (this kernel has
    sock_recv_length, and `capture.rustls_sockets: auto` takes them)."""
    check_deno_connections(sensor_run, version)
    log = open(sensor_run.sensor.log_path).read()
    assert "rustls: socket tracepoints attached" in log, log[-3000:]
    assert "sys_enter attached" not in log, log[-3000:]
    st = sensor_run.sensor.status()["attach"]
    assert (st["rustls_sockets"], st["rustls_attached"]) == ("tracepoints", True), st


class OwnSensor:
    """A sensor of a test's own, with what check_deno_connections() uses
    of sensor_run."""

    def __init__(self, server, workdir, config):
        self.server = server
        self.sensor = e2elib.Sensor(workdir, config=config).start()
        self.events = e2elib.EventLog(self.sensor.out)
        self.known_pids = set()


def test_deno_connections_syscalls(server, no_other_sensor, tmp_path):
    """check_deno_connections() under a sensor with
    `capture.rustls_sockets: syscalls`, the design of kernels without the
    sock_recv_length tracepoint (before 6.3): a sys_enter program keeps
    each thread's last read fd and sees close(); only it is attached."""
    run = OwnSensor(server, str(tmp_path), e2elib.SENSOR_CONFIG +
                    "capture:\n  rustls_sockets: syscalls\n")
    try:
        check_deno_connections(run, DENOS[0], "conns syscalls %s" % DENOS[0])
        log = open(run.sensor.log_path).read()
        assert "rustls: sys_enter attached" in log, log
        assert "socket tracepoints attached" not in log, log
        st = run.sensor.status()["attach"]
        assert (st["rustls_sockets"], st["rustls_attached"]) == ("syscalls", True), st
    finally:
        rc = run.sensor.stop()
    assert rc == 0, run.sensor.log_tail()
    e2elib.check_lines_valid(run.sensor.out)
    e2elib.check_whole_file(run.sensor.out, server.pid)


def check_deno_connections(sensor_run, version, tag=None):
    """Every rustls connection of a Deno process is named by its own
    socket and ended at that socket's close().  Deno opens connections
    one after the other (Deno.connectTls: their sockets get the same fd
    number in turn) and closes each, mid-response or once the whole
    response is read.  One shuts its sending side as soon as its request
    is written, and its response comes after that: shutdown() is not the
    connection's end, its close() is.  Deno closes them on a thread of its
    blocking pool, not the one that read and decrypted their records.  While deno still
    runs, after each close: the connection is gone from the sensor's
    rustls_conns map, and a response cut mid-way is written at once,
    partial, with the text deno read (the idle timeout is 300 s; deno's
    exit would end it too, so this is checked before).  Then two fetch()
    calls stream at once over two connections, their records
    interleaved on one thread: each pair is whole, and neither has the
    other's bytes."""
    exe = deno_exe(version)
    server, sensor, log = sensor_run.server, sensor_run.sensor, sensor_run.events
    tag = tag or "conns %s" % version
    modes = OWN + ["pair"]
    with tempfile.TemporaryDirectory(prefix="oisp-deno-") as d:
        c = start_deno(sensor_run, server, exe, d, modes + ["--tag", tag, "--step"])
        try:
            for i, mode in enumerate(OWN):
                go(c)
                msg = "deno %s %d says hello %s" % (mode, i, tag)

                def ended():
                    found = e2elib.find_call(log.by_pid(c.pid), msg)
                    return found and found[0][1] is not None
                e2elib.wait_until(ended, 30, "the response of %r, while deno runs" % msg)
                assert c.proc.poll() is None, "deno exited early: %s" % c.proc.stderr
                e2elib.wait_until(lambda: not rustls_conns_left(sensor, c.pid), 10,
                                  "the end of %r's connection at its close (left: %s)"
                                  % (msg, rustls_conns_left(sensor, c.pid)))
                assert c.proc.poll() is None, "deno exited early: %s" % c.proc.stderr
            go(c)
            c.wait(60)
        finally:
            c.kill()
    res = c.results()
    assert [r["mode"] for r in res] == OWN + ["pair", "pair"], c.stdout
    evs = sensor_run.events.wait_pid(c.pid, 2 * len(res))
    for r in res:
        assert r["status"] == 200 and r["text"], r
        q, resp = one_call(evs, r["message"])
        if r["mode"] == "close":
            for e in (q, resp):
                assert e["process"]["pid"] == c.pid and e["process"]["name"] == "deno", e
                assert e2elib.realpath(e["process"]["exe"]) == e2elib.realpath(exe)
            assert q["confidence"]["completeness"] == "full", q["confidence"]
            assert resp["confidence"]["completeness"] == "partial", resp["confidence"]
            assert q["data"]["messages"][-1]["content"] == r["message"], q["data"]
            rd = resp["data"]
            assert rd["status_code"] == 200 and rd["provider_request_id"] == r["id"], rd
            # The reply was cut after its first text, as deno read it.
            assert rd["choices"][0]["message"]["content"] == r["text"], rd
            continue
        kw = expected(server, r["message"], provider_request_id=r["id"])
        qd, rd = check_pair(q, resp, pid=c.pid, exe=exe, name="deno", **kw)
        assert rd["choices"][0]["message"]["content"] == r["text"], (rd, r)
        if r["mode"] == "pair":
            assert rd["usage"]["total_tokens"] == r["usage"]["total_tokens"]
    assert len(evs) == 2 * len(res), [e["event_type"] for e in evs]
    # fetch() opens a second connection only while the first is busy: two
    # client ports, two connections at once.
    ports = {server_request(server, r["message"])["client"] for r in res[-2:]}
    assert len(ports) == 2, ports


CODEXES = ["0.171.0", "0.144.5"]
# Releases over five months for `codex exec` over HTTP/1.1 and h2 (rustls
# 0.23.36 to 0.23.46 over aws-lc-rs, OpenSSL 3.6 beside it).
CODEX_RELEASES = CODEXES + ["0.166.0", "0.159.3", "0.151.0"]
# Makes its model calls through rustls over ring (reqwest 0.12), which is
# not seen; its aws-lc is probed, and `status` says ring is there.
CODEX_RING = "0.133.0"
CODEX_CONFIG = """\
model = "gpt-4.1-mini"
model_provider = "standin"
[model_providers.standin]
name = "standin"
base_url = "https://api.openai.com/v1"
env_key = "OPENAI_API_KEY"
wire_api = "responses"
supports_websockets = false
"""


def codex_exe(version):
    exe = os.path.join(CACHE, "@openai/codex@%s-linux-x64" % version, "package", "vendor",
                       "x86_64-unknown-linux-musl", "bin", "codex")
    if not os.access(exe, os.X_OK):
        pytest.skip("%s not in the test cache (tests/fetch-agent-exes.sh)" % exe)
    return exe


def run_codex(request, sensor_run, version, proto, config=CODEX_CONFIG):
    """codex exec against the Responses stand-in (@proto the front's);
    returns its client, its two events and the server's record of it."""
    exe = codex_exe(version)
    front = front_of(request, sensor_run, proto)
    msg = "codex %s %s says hello" % (version, proto)
    with tempfile.TemporaryDirectory(prefix="oisp-codex-") as d:
        with open(os.path.join(d, "config.toml"), "w") as f:
            f.write(config)
        env = {"CODEX_HOME": d, "HOME": d, "OPENAI_API_KEY": "sk-test-codex-0123456789",
               "CODEX_CA_CERTIFICATE": sensor_run.server.ca, "NO_COLOR": "1"}
        # Identify the file first: a call made before its probes is missed.
        warm = e2elib.Client(sensor_run.server, [exe, "--version"], env_extra=env)
        warm.wait(60)
        e2elib.wait_until(lambda: status_file(sensor_run.sensor, exe) is not None,
                          30, "codex %s in status" % version)
        f = status_file(sensor_run.sensor, exe)
        assert f["stack"] == "rustls" and "skipped" not in f, f
        seen = len(sensor_run.server.requests())
        c = e2elib.Client(front,
                          [exe, "exec", "--skip-git-repo-check", "-C", d, msg],
                          env_extra=env)
        sensor_run.known_pids.add(c.pid)
        c.wait(120, check=False)
    assert c.proc.returncode == 0, (c.stdout, c.stderr)
    evs = sensor_run.events.wait_pid(c.pid, 2)
    q, resp = one_call(evs, msg)
    # Codex's request (40 kB of instructions and tools) is longer than
    # the server log's body head: checked against the server's record
    # and what codex printed instead of expected().
    def codex_requests():
        return [r for r in sensor_run.server.requests()[seen:]
                if any(k.lower() == "user-agent" and "codex_exec/%s" % version in v
                       for k, v in r["headers"])]
    # Logged once the stand-in has written the stream's end.
    e2elib.wait_until(codex_requests, 10, "codex's request in the server log")
    [req] = codex_requests()
    assert req["path"] == "/v1/responses" and req["status"] == 200, req
    check_proto(req, proto)
    # The calls are made on "tokio-rt-worker" threads; the name is the process's.
    qd, rd = e2elib.check_envelopes(q, resp, pid=c.pid, exe=exe, name="codex")
    assert qd["api"] == "openai.responses" and qd["streaming"] is True, qd
    assert qd["model"]["id"] == "gpt-4.1-mini"
    reply = rd["choices"][0]["message"]["content"]
    assert reply and reply.strip() in c.stdout, (reply, c.stdout)
    assert rd["usage"]["total_tokens"] > 0, rd["usage"]
    assert len(evs) == 2, [e["event_type"] for e in evs]
    return c, evs, req


@pytest.mark.parametrize("proto", ["h1", "h2"])
@pytest.mark.parametrize("version", CODEX_RELEASES)
def test_codex_exec(request, sensor_run, version, proto):
    """codex exec against the Responses stand-in, over HTTP/1.1 and h2
    (WebSocket off: the stand-in offers none)."""
    run_codex(request, sensor_run, version, proto)


@pytest.mark.parametrize("version", CODEXES)
def test_codex_h2_reset_at_the_last_event_is_whole(request, sensor_run, version):
    """The stand-in holds the end of the stream (END_STREAM) back for a
    second after response.completed: Codex's hyper resets the stream
    (RST_STREAM CANCEL) as codex drops the body, and the answer, whose
    events all came, is still full."""
    config = CODEX_CONFIG + 'http_headers = { "x-test-end-delay" = "1" }\n'
    before = sensor_run.sensor.status()["pipeline"]["http2_streams_reset"]
    c, evs, req = run_codex(request, sensor_run, version, "h2", config)
    assert ["x-test-end-delay", "1"] in [[k.lower(), v] for k, v in req["headers"]], req
    assert sensor_run.sensor.status()["pipeline"]["http2_streams_reset"] > before


COPILOT = "@github/copilot-linux-x64@1.0.102"
RUNTIME = os.path.join("pkg", "linux-x64", "1.0.102", "prebuilds", "linux-x64", "runtime.node")
STATIC = "OpenSSL (static)"
NOW = re.compile(r"<current_datetime>[^<]*</current_datetime>")


def copilot_exe():
    """Copilot's executable and the directory it unpacks itself into."""
    cop = os.path.join(CACHE, COPILOT)
    exe = os.path.join(cop, "package", "copilot")
    sea = os.path.join(cop, "sea")
    if not os.path.exists(os.path.join(sea, ".complete")):
        pytest.skip("%s not unpacked in the test cache (tests/fetch-agent-exes.sh)" % exe)
    return exe, sea


def run_copilot(server, exe, sea, d, msg, known_pids=None):
    """copilot -p @msg with its own-provider settings pointed at @server's
    chat completions stand-in; returns the finished Client."""
    env = {"HOME": d, "COPILOT_CACHE_HOME": sea, "NO_COLOR": "1",
           "COPILOT_PROVIDER_BASE_URL": "https://%s/v1" % e2elib.OPENAI_HOST,
           "COPILOT_PROVIDER_API_KEY": "sk-test-copilot-0123456789",
           "COPILOT_PROVIDER_TYPE": "openai", "COPILOT_MODEL": "gpt-4o-mini"}
    c = e2elib.Client(server, [exe, "-p", msg, "--allow-all-tools"], env_extra=env)
    if known_pids is not None:
        known_pids.add(c.pid)
    return c.wait(180)


def runtime_probed(sensor, sea):
    """runtime.node's status entries by stack, once it is probed as both
    rustls and the static OpenSSL (each has its own entry)."""
    real = os.path.realpath(os.path.join(sea, RUNTIME))
    st = sensor.status()
    got = {f["stack"]: f for f in (st["attach"]["list"] if st else [])
           if os.path.realpath(f["path"]) == real}
    return got if {"rustls", STATIC} <= set(got) else None


def wait_runtime_probed(sensor, sea):
    got = e2elib.wait_until(lambda: runtime_probed(sensor, sea), 30,
                            "runtime.node probed as rustls and %s" % STATIC)
    for stack in ("rustls", STATIC):
        assert "skipped" not in got[stack], got[stack]
    assert "ssl_write_internal" in got[STATIC]["found"], got[STATIC]
    return got


def check_copilot_pair(evs, msg, c, exe):
    """The one call of Copilot run @c: request and response, model,
    messages, reply text, usage, process."""
    q, resp = one_call(evs, msg)
    # The call is made on a "copilot-runtime" thread; the name is the process's.
    qd, rd = e2elib.check_envelopes(q, resp, pid=c.pid, exe=exe, name="copilot")
    assert qd["api"] == "openai.chat_completions" and qd["model"]["id"] == "gpt-4o-mini", qd
    assert qd["messages"][-1]["role"] == "user", qd["messages"]
    assert msg in qd["messages"][-1]["content"], qd["messages"][-1]
    reply = rd["choices"][0]["message"]["content"]
    assert reply and reply.strip() in c.stdout, (reply, c.stdout)
    assert rd["usage"]["total_tokens"] > 0, rd["usage"]
    assert len(evs) == 2, [e["event_type"] for e in evs]


def test_copilot_own_provider(sensor_run):
    """Copilot CLI with its own-provider settings (COPILOT_PROVIDER_*)
    pointed at the chat completions stand-in.  The request is built by
    the openai JS SDK, but its TLS is native-tls over a static, unexported
    OpenSSL 3.5.8 in runtime.node (on the copilot-runtime thread), not
    runtime.node's rustls: the file is probed as both, and the call is
    captured at ssl_write_internal / ssl_read_internal (capture/ossl3.h).
    A first run loads runtime.node, which the sensor identifies once;
    the second run's call is checked."""
    exe, sea = copilot_exe()
    msg = "copilot own provider says hello"
    with tempfile.TemporaryDirectory(prefix="oisp-copilot-") as d:
        run_copilot(sensor_run.server, exe, sea, d, "copilot warms up",
                    sensor_run.known_pids)
        wait_runtime_probed(sensor_run.sensor, sea)
        seen = len(sensor_run.server.requests())
        c = run_copilot(sensor_run.server, exe, sea, d, msg, sensor_run.known_pids)
    [req] = [r for r in sensor_run.server.requests()[seen:]
             if r["path"] == "/v1/chat/completions"]
    assert req["status"] == 200, req
    evs = sensor_run.events.wait_pid(c.pid, 2, timeout=30)
    check_copilot_pair(evs, msg, c, exe)


def test_copilot_same_output(server, no_other_sensor, tmp_path):
    """Copilot's output is the same with and without the sensor (run once
    with no sensor on the machine, then under the test's own sensor once
    it has probed runtime.node), and the call is captured."""
    exe, sea = copilot_exe()
    # the same length: the reply may quote the message
    tag_without, tag = "unseen", "sensed"
    msg = "copilot says hello %s"
    with tempfile.TemporaryDirectory(prefix="oisp-copilot-") as d:
        without = run_copilot(server, exe, sea, d, msg % tag_without)
        sensor = e2elib.Sensor(str(tmp_path)).start()
        try:
            run_copilot(server, exe, sea, d, "copilot warms up")
            wait_runtime_probed(sensor, sea)
            c = run_copilot(server, exe, sea, d, msg % tag)
            assert without.stdout.strip(), without.stderr
            # The stand-in echoes the prompt, which starts with the time.
            agentlib.same_output(NOW.sub("<now>", without.stdout),
                                 NOW.sub("<now>", c.stdout), tag_without, tag)
            evs = e2elib.EventLog(sensor.out).wait_pid(c.pid, 2, timeout=30)
            check_copilot_pair(evs, msg % tag, c, exe)
        finally:
            agentlib.stop_and_check(sensor, server)


def realpath_is(path, exe):
    return os.path.realpath(path) == os.path.realpath(exe)

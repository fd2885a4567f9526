"""The sensor against Go programs: net/http over Go's crypto/tls, built
at test time with Debian's go (tests/build-go-clients.sh, cached outside
the clone) normal, stripped (-s -w) and PIE, over HTTP/1.1
(GODEBUG=http2client=0, against the fixture server) and h2 (nghttpx in
front, test_sensor_h2.h2front).  Go reads the test CA from SSL_CERT_FILE
(e2elib.Client sets it).  The stress test runs thousands of goroutines
whose stacks grow and move around their TLS calls, with GOGC=1, and
compares the program's output with and without the sensor: the proof
that the probes (no uretprobe) do not disturb Go.  aiserver is the
server end over Go's crypto/tls: the sensor ignores it (unless
filters.server_side is true) and its calls are skipped in the kernel
until its (*tls.Conn).Close."""
import json
import os
import shutil
import subprocess

import pytest

import e2elib
from e2elib import check_pair, expected, one_call
from test_sensor_h2 import h2front  # noqa: F401  (a fixture)

BUILD = os.path.join(e2elib.ROOT, "tests", "build-go-clients.sh")


@pytest.fixture(scope="module")
def godir():
    p = subprocess.run([BUILD], capture_output=True, text=True, timeout=600,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def probed(sensor, exe):
    """Returns once @sensor lists @exe as probed, having run it idle
    (-startup: it sleeps before anything else) if it did not yet.  The
    sensor probes a Go file when it first sees a process run it, and a
    call made before the probes are in is not captured (README, Limits:
    New libraries): a client that calls at once and whose first call
    counts waits for this, whatever ran before it."""
    if attached((sensor,), exe):
        return
    p = subprocess.Popen([exe, "-startup", "10m"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         preexec_fn=e2elib._die_with_parent)
    try:
        e2elib.wait_until(lambda: attached((sensor,), exe), 60,
                          "%s was not probed: %s" % (exe, sensor.log_tail(20)))
    finally:
        p.kill()
        p.wait()


def go_client(sensor_run, front, exe, *args, env=None, timeout=120, warm=True):
    """Runs @exe to its end; with @warm, once the sensor has probed it."""
    if warm:
        probed(sensor_run.sensor, exe)
    c = e2elib.Client(front, [exe] + list(args), env_extra=env)
    sensor_run.known_pids.add(c.pid)
    return c.wait(timeout)


def lines(c):
    """The client's per-call lines: {i: (status, proto, content)}."""
    out = {}
    for line in c.stdout.splitlines():
        if line.startswith("call "):
            _, i, status, proto, text = line.split(" ", 4)
            out[int(i)] = (int(status), proto, text)
    return out


def check_calls(server, evs, c, msg, n, proto, exe):
    got = lines(c)
    assert sorted(got) == list(range(n)), c.stdout
    for i in range(n):
        text = "%s #%d." % (msg, i)
        assert got[i][:2] == (200, proto), got[i]
        q, r = one_call(evs, text)
        check_pair(q, r, pid=c.pid, exe=exe, **expected(server, text))
        assert r["data"]["choices"][0]["message"]["content"] == got[i][2]
    assert len(evs) == 2 * n, [e["event_type"] for e in evs]


def status_file(sensor, exe):
    st = sensor.status()
    real = os.path.realpath(exe)
    for f in st["attach"]["list"]:
        if os.path.realpath(f["path"]) == real or f["path"].endswith(real):
            return f
    raise AssertionError("%s not in status: %s" % (exe, json.dumps(st["attach"])))


H1 = {"GODEBUG": "http2client=0"}


@pytest.mark.parametrize("variant", ["aiclient", "aiclient-stripped", "aiclient-pie"])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_go_http1(sensor_run, godir, variant, stream):
    """Three calls on one pooled connection, over HTTP/1.1."""
    exe = os.path.join(godir, variant)
    msg = "go h1 %s %s" % (variant, "sse" if stream else "json")
    args = ["-calls", "3", "-msg", msg] + (["-stream"] if stream else [])
    c = go_client(sensor_run, sensor_run.server, exe, *args, env=H1)
    evs = sensor_run.events.wait_pid(c.pid, 6)
    check_calls(sensor_run.server, evs, c, msg, 3, "HTTP/1.1", exe)
    f = status_file(sensor_run.sensor, exe)
    assert f["stack"] == "go" and "skipped" not in f, f


@pytest.mark.parametrize("variant", ["aiclient", "aiclient-stripped", "aiclient-pie"])
@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_go_h2(sensor_run, h2front, godir, variant, stream):  # noqa: F811
    """Four calls from four goroutines, multiplexed on one h2 connection."""
    exe = os.path.join(godir, variant)
    msg = "go h2 %s %s" % (variant, "sse" if stream else "json")
    args = ["-calls", "4", "-parallel", "4", "-msg", msg] + (["-stream"] if stream else [])
    c = go_client(sensor_run, h2front, exe, *args)
    evs = sensor_run.events.wait_pid(c.pid, 8)
    check_calls(sensor_run.server, evs, c, msg, 4, "HTTP/2.0", exe)


def test_go_concurrent(sensor_run, godir):
    """64 calls from 16 goroutines over pooled HTTP/1.1 connections."""
    exe = os.path.join(godir, "aiclient")
    msg = "go concurrent"
    c = go_client(sensor_run, sensor_run.server, exe, "-calls", "64", "-parallel", "16",
                  "-msg", msg, env=H1)
    evs = sensor_run.events.wait_pid(c.pid, 128, timeout=30)
    check_calls(sensor_run.server, evs, c, msg, 64, "HTTP/1.1", exe)


# Stands for a program's startup before its first call (an SDK loading,
# DNS, a real network): registering the uprobes of an executable never
# seen before takes the kernel 10-15 ms after its exec, and this client
# makes its first call sooner than that on loopback (README, "New
# executables").  It does not wait for the sensor.
STARTUP = "250ms"


def test_go_one_call_and_exit(sensor_run, godir, tmp_path):
    """A program never seen before (a new inode) that makes one call on a
    fresh connection and exits: probed at its exec."""
    exe = str(tmp_path / "oneshot")
    shutil.copy(os.path.join(godir, "aiclient-stripped"), exe)
    msg = "go one call"
    # Not warmed: its probes must come from this exec, within STARTUP.
    c = go_client(sensor_run, sensor_run.server, exe, "-raw", "-msg", msg,
                  "-startup", STARTUP, warm=False)
    evs = sensor_run.events.wait_pid(c.pid, 2)
    check_calls(sensor_run.server, evs, c, msg, 1, "HTTP/1.1", exe)
    f = status_file(sensor_run.sensor, exe)
    assert f["stack"] == "go" and "skipped" not in f, f


def test_go_in_containers(sensor_run, godir):
    """A static Go client copied into fresh root filesystems (a new inode
    each), run chrooted in new PID and mount namespaces, reached through
    /proc/PID/root and probed at its exec."""
    base = os.path.dirname(sensor_run.sensor.out)
    for i in range(3):
        root = os.path.join(base, "go-container-%d" % i)
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(os.path.join(root, "etc"))
        shutil.copy(os.path.join(godir, "aiclient-static"), os.path.join(root, "aiclient"))
        shutil.copy(sensor_run.server.ca, os.path.join(root, "etc", "oisp-ca.pem"))
        shutil.copy(sensor_run.server.hosts, os.path.join(root, "etc", "hosts"))
        msg = "go container %d" % i
        env = e2elib.clean_env(None, {"SSL_CERT_FILE": "/etc/oisp-ca.pem", **H1})
        p = subprocess.run(["unshare", "--pid", "--mount", "--fork", "chroot", root,
                            "/aiclient", "-msg", msg, "-startup", STARTUP],
                           capture_output=True, text=True, timeout=60, env=env,
                           stdin=subprocess.DEVNULL)
        assert p.returncode == 0, p.stderr
        assert p.stdout.strip() == "call 0 200 HTTP/1.1 Echo: %s #0." % msg
        evs = sensor_run.events.wait(lambda e: ("%s #0." % msg) in json.dumps(e), 2)
        q, r = one_call(evs, "%s #0." % msg)
        sensor_run.known_pids.add(q["process"]["pid"])
        check_pair(q, r, pid=q["process"]["pid"], name="aiclient",
                   **expected(sensor_run.server, "%s #0." % msg))
        st = os.stat(os.path.join(root, "aiclient"))
        f = [f for f in sensor_run.sensor.status()["attach"]["list"]
             if (f["dev"], f["ino"]) == (st.st_dev, st.st_ino)]
        assert len(f) == 1 and f[0]["stack"] == "go" and "skipped" not in f[0], f


def test_go_skipped_with_reason(sensor_run, tmp_path):
    """A Go executable without crypto/tls is listed, not probed, with why."""
    src = tmp_path / "notls"
    src.mkdir()
    (src / "go.mod").write_text("module notls\n\ngo 1.19\n")
    (src / "main.go").write_text('package main\n\nimport (\n\t"fmt"\n\t"os"\n)\n\n'
                                 'func main() {\n\tfmt.Println("ready")\n'
                                 '\tos.Stdin.Read(make([]byte, 1))\n}\n')
    exe = str(tmp_path / "notls-bin")
    env = dict(os.environ, GOCACHE=str(tmp_path / "gocache"), GOFLAGS="-mod=mod",
               GOPROXY="off", GOTOOLCHAIN="local", CGO_ENABLED="0")
    p = subprocess.run(["go", "build", "-o", exe, "."], cwd=str(src), env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    proc = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        f = e2elib.wait_until(lambda: [f for f in sensor_run.sensor.status()["attach"]["list"]
                                       if f["path"] == exe], 10, "the Go file in status")
        assert f[0]["stack"] == "go"
        assert f[0]["skipped"] == "no crypto/tls (*Conn).Write and Read", f
    finally:
        proc.stdin.close()
        proc.wait(10)


def test_go_started_before_the_sensor(server, godir, tmp_path):
    """A Go program running (one call made, its connection pooled) when
    the sensor starts: its next calls on that connection are captured."""
    exe = os.path.join(godir, "aiclient-pie")
    msg = "go early"
    c = e2elib.Client(server, [exe, "-calls", "3", "-wait", "-msg", msg], env_extra=H1,
                      stdin=True)
    sensor = e2elib.Sensor(str(tmp_path))
    try:
        assert c.proc.stdout.readline().strip() == "ready"
        sensor.start()
        c.proc.stdin.write("go\n")
        c.proc.stdin.flush()
        c.wait(60)
        evs = e2elib.EventLog(sensor.out).wait_pid(c.pid, 4)
        got = lines(c)
        assert sorted(got) == [0, 1, 2]
        for i in (1, 2):
            q, r = one_call(evs, "%s #%d." % (msg, i))
            check_pair(q, r, pid=c.pid, exe=exe, **expected(server, "%s #%d." % (msg, i)))
        # the call made before the sensor started is not invented
        assert not e2elib.find_call(evs, "%s #0." % msg)
        assert len(evs) == 4
    finally:
        c.kill()
        assert sensor.stop() == 0, sensor.log_tail()


STRESS = ["-calls", "2000", "-parallel", "1000", "-depth", "48"]


def stress_run(server, exe, *args):
    c = e2elib.Client(server, [exe] + STRESS + list(args), env_extra=dict(H1, GOGC="1"))
    return c.wait(300)


@pytest.mark.parametrize("mode", ["http", "raw"])
def test_go_stress_stacks_move(server, no_other_sensor, godir, tmp_path, mode):
    """1000 goroutines, each 48 KiB of recursion deep around its call
    (raw: also inside the TLS handshake, i.e. inside the first
    (*Conn).Write, so the stack is copied while that frame is live), with
    GOGC=1 (stacks shrink at every collection): the same output with and
    without the sensor, and every call captured once (a call whose stack
    must grow first runs Write's first instructions twice)."""
    exe = os.path.join(godir, "aiclient-stripped")
    msg = "go stress %s" % mode
    raw = ["-raw"] if mode == "raw" else []
    # Without any sensor: no probe anywhere (no_other_sensor).  Its
    # message differs, so that the server's log tells the runs apart.
    pre = "%s without" % msg
    without = stress_run(server, exe, "-msg", pre, *raw)
    sensor = e2elib.Sensor(str(tmp_path)).start()
    try:
        probed(sensor, exe)
        with_sensor = stress_run(server, exe, "-msg", msg, *raw)
        assert with_sensor.stdout == without.stdout.replace(pre, msg)
        assert without.stderr == "" and with_sensor.stderr == ""
        n = 2000
        evs = e2elib.EventLog(sensor.out).wait_pid(with_sensor.pid, 2 * n, timeout=60)
        ps = e2elib.pairs(evs)
        assert len(ps) == n and all(r for q, r in ps)
        for i in (0, n // 2, n - 1):
            q, r = one_call(evs, "%s #%d." % (msg, i))
            check_pair(q, r, pid=with_sensor.pid, exe=exe,
                       **expected(server, "%s #%d." % (msg, i)))
        assert sensor.status()["capture"]["read_faults"] == 0
    finally:
        assert sensor.stop() == 0, sensor.log_tail()


@pytest.mark.parametrize("mode", ["multi", "perf"])
def test_go_targeted(server, no_other_sensor, godir, tmp_path, mode):
    """Targeted mode, with uprobe_multi links and with perf-event uprobes
    (one per entry and return instruction): the selected Go program is
    captured, another one running the same code is not."""
    sel = os.path.join(godir, "aiclient-pie")
    other = os.path.join(godir, "aiclient-stripped")
    config = e2elib.SENSOR_CONFIG + (
        "capture:\n  targets:\n    exe: [\"%s\"]\n  attach_mode: %s\n" % (sel, mode))
    sensor = e2elib.Sensor(str(tmp_path), config=config).start()
    try:
        msg = "go targeted %s" % mode
        # The unselected one first: its records, were there any, would be
        # read before the selected one's.
        b = e2elib.Client(server, [other, "-calls", "2", "-msg", msg + " other",
                                   "-startup", STARTUP], env_extra=H1).wait(60)
        a = e2elib.Client(server, [sel, "-calls", "2", "-msg", msg, "-startup", STARTUP],
                          env_extra=H1).wait(60)
        log = e2elib.EventLog(sensor.out)
        evs = log.wait_pid(a.pid, 4)
        check_calls(server, evs, a, msg, 2, "HTTP/1.1", sel)
        assert lines(b)[1][0] == 200
        assert not log.by_pid(b.pid), log.by_pid(b.pid)
        assert sensor.status()["attach"]["mode"] == (
            "uprobe_multi" if mode == "multi" else "perf-event")
    finally:
        assert sensor.stop() == 0, sensor.log_tail()


SERVER_SIDE_CONFIG = e2elib.SENSOR_CONFIG.replace("filters:\n",
                                                  "filters:\n  server_side: true\n")


def attached(sensors, exe):
    """Whether every one of @sensors lists @exe as probed."""
    real = os.path.realpath(exe)
    return all([f for f in x.status()["attach"]["list"]
                if os.path.realpath(f["path"]) == real and f["stack"] == "go" and
                "skipped" not in f] for x in sensors)


def go_server(sensor_run, godir, addr, *args, sensors=()):
    """aiserver listening on @addr (port 0), started like a client; its
    Client and port once the shared sensor and @sensors have probed it
    (so that its first request is seen)."""
    tls = sensor_run.server.tls
    exe = os.path.join(godir, "aiserver")
    s = e2elib.Client(sensor_run.server, [exe, "-cert", tls["cert"],
                                          "-key", tls["key"], "-addr", addr] + list(args),
                      stdin=True)
    sensor_run.known_pids.add(s.pid)
    line = s.proc.stdout.readline()
    if not line.startswith("listening "):
        s.kill()
        raise AssertionError("aiserver did not start: %r %s" % (line, s.proc.stderr.read()))
    e2elib.wait_until(lambda: attached((sensor_run.sensor,) + tuple(sensors), exe), 10,
                      "aiserver was not probed")
    return s, int(line.split()[1])


def go_skipped(sensor):
    return sensor.status()["capture_by_stack"]["go"]


def wait_skipped_conn(sensor, before):
    """Until the sensor has handed a connection more than @before's
    status had to the kernel."""
    e2elib.wait_until(lambda: sensor.status()["capture"]["skipped_conns"] >
                      before["capture"]["skipped_conns"], 10,
                      "the server end was not handed to the kernel", step=0.05)


def wait_skipped_calls(sensor, since, n):
    """The Go stack's skipped_calls once at least @n past @since's."""
    return e2elib.wait_until(
        lambda: (lambda by: by if by["skipped_calls"] >= since["skipped_calls"] + n
                 else None)(go_skipped(sensor)),
        10, "the server end's calls were not skipped", step=0.05)


def check_go_server_pair(q, r, text, capture_point):
    assert q["source"]["capture_point"] == capture_point, q["source"]
    assert r["source"]["capture_point"] == capture_point, r["source"]
    assert q["data"]["model"]["id"] == "gpt-4o-mini"
    assert r["data"]["status_code"] == 200
    assert r["data"]["provider_request_id"] == "chatcmpl-goserver"
    assert r["data"]["choices"][0]["message"]["content"] == "Echo: " + text
    assert r["data"]["usage"]["total_tokens"] == 13


@pytest.mark.parametrize("proto", ["HTTP/1.1", "HTTP/2.0"], ids=["h1", "h2"])
def test_go_server_end_skipped_in_the_kernel(sensor_run, godir, tmp_path, proto):
    """aiserver (net/http over crypto/tls) answers aiclient's three calls
    on one connection.  Its end reads requests: the shared sensor
    (default config) ignores it, and once it has told the kernel, the
    Go probes count the server end's calls (skipped_calls) instead of
    copying them; the client end is reported.  A second sensor with
    filters.server_side: true reports the server end (tls_server)."""
    sess = sensor_run.sensor
    ctl = e2elib.Sensor(str(tmp_path), config=SERVER_SIDE_CONFIG).start()
    ctl_events = e2elib.EventLog(ctl.out)
    srv = c = None
    try:
        srv, port = go_server(sensor_run, godir, "%s:0" % sensor_run.server.openai_ip,
                              sensors=(ctl,))
        msg = "go server end %s" % proto
        probed(sess, os.path.join(godir, "aiclient"))
        before = sess.status()
        c = e2elib.Client(sensor_run.server, [
            os.path.join(godir, "aiclient"), "-base",
            "https://%s:%d" % (e2elib.OPENAI_HOST, port), "-calls", "3", "-wait",
            "-msg", msg], env_extra=H1 if proto == "HTTP/1.1" else None, stdin=True)
        sensor_run.known_pids.add(c.pid)
        assert c.proc.stdout.readline().strip() == "ready"
        # The server end read a request: the sensor ignores it from here.
        wait_skipped_conn(sess, before)
        mid = sess.status()
        c.proc.stdin.write("go\n")
        c.proc.stdin.flush()
        c.wait(60)
        got = lines(c)
        assert sorted(got) == [0, 1, 2], c.stdout
        evs = sensor_run.events.wait_pid(c.pid, 6)
        assert len(evs) == 6, [e["event_type"] for e in evs]
        for i in range(3):
            text = "%s #%d." % (msg, i)
            assert got[i] == (200, proto, "Echo: " + text), got[i]
            check_go_server_pair(*one_call(evs, text), text, "tls_client")
        # The server end's read and write of calls 1 and 2, at least.
        by = wait_skipped_calls(sess, mid["capture_by_stack"]["go"], 4)
        assert sess.status()["capture"]["lost_records"] == before["capture"]["lost_records"]
        # The other sensor saw the server end's data whole.
        srv_evs = ctl_events.wait(lambda e: e["process"]["pid"] == srv.pid, count=6)
        assert len(srv_evs) == 6, [e["event_type"] for e in srv_evs]
        for i in range(3):
            text = "%s #%d." % (msg, i)
            check_go_server_pair(*one_call(srv_evs, text), text, "tls_server")
        assert go_skipped(ctl)["skipped_calls"] == 0
        assert by["skipped_calls"] > 0
    finally:
        for p in (c, srv):
            if p:
                p.kill()
        assert ctl.stop() == 0, ctl.log_tail()
    assert sensor_run.events.by_pid(srv.pid) == []


def _self_step(s):
    """Lets aiserver -self go on; its next line."""
    s.proc.stdin.write("\n")
    s.proc.stdin.flush()
    line = s.proc.stdout.readline()
    assert line, "aiserver -self ended: %s" % s.proc.stderr.read()
    return json.loads(line)


def _self_round(sensor_run, s, msg, step):
    text = "%s %s." % (msg, step)
    evs = sensor_run.events.wait(lambda e: e["process"]["pid"] == s.pid and
                                 text in json.dumps(e), count=2)
    check_go_server_pair(*one_call(evs, text), text, "tls_client")


def test_go_closed_server_end_is_a_new_connection(sensor_run, godir):
    """aiserver -self is both ends of its connections.  Its server end is
    ignored and skipped in the kernel; (*tls.Conn).Close deletes the
    entry, so the client end of the next connection, which Go's
    allocator puts at the closed server end's address, is captured."""
    sess = sensor_run.sensor
    msg = "go self"
    before = sess.status()
    s, _ = go_server(sensor_run, godir, "127.0.0.1:0", "-self", "-msg", msg)
    try:
        first = _self_step(s)
        assert first["step"] == "first", first
        _self_round(sensor_run, s, msg, "first")
        wait_skipped_conn(sess, before)
        mid = go_skipped(sess)
        assert _self_step(s)["step"] == "second"
        _self_round(sensor_run, s, msg, "second")
        wait_skipped_calls(sess, mid, 2)
        reused = _self_step(s)
        assert reused["step"] == "reused", reused
        assert reused["client"] == first["server"], (
            "the new client end did not get the closed server end's address "
            "(%#x, %#x): the test proves nothing" % (reused["client"], first["server"]))
        line = s.proc.stdout.readline()
        assert json.loads(line)["step"] == "third", (line, s.proc.stderr.read())
        _self_round(sensor_run, s, msg, "third")
        s.wait(30)
    finally:
        s.kill()
    evs = sensor_run.events.by_pid(s.pid)
    assert len(evs) == 6 and all(e["source"]["capture_point"] == "tls_client"
                                 for e in evs), evs

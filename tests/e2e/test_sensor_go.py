"""The sensor against Go programs: net/http over Go's crypto/tls, built
at test time with Debian's go (tests/build-go-clients.sh, cached outside
the clone) normal, stripped (-s -w) and PIE, over HTTP/1.1
(GODEBUG=http2client=0, against the fixture server) and h2 (nghttpx in
front, test_sensor_h2.h2front).  Go reads the test CA from SSL_CERT_FILE
(e2elib.Client sets it).  The stress test runs thousands of goroutines
whose stacks grow and move around their TLS calls, with GOGC=1, and
compares the program's output with and without the sensor: the proof
that the probes (no uretprobe) do not disturb Go."""
import json
import os
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


def go_client(sensor_run, front, exe, *args, env=None, timeout=120):
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


def test_go_one_call_and_exit(sensor_run, godir):
    """A program that makes one call on a fresh connection and exits."""
    exe = os.path.join(godir, "aiclient-stripped")
    msg = "go one call"
    c = go_client(sensor_run, sensor_run.server, exe, "-raw", "-msg", msg)
    evs = sensor_run.events.wait_pid(c.pid, 2)
    check_calls(sensor_run.server, evs, c, msg, 1, "HTTP/1.1", exe)


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


STRESS = ["-calls", "600", "-parallel", "300", "-depth", "48"]


def stress_run(server, exe, *args):
    c = e2elib.Client(server, [exe] + STRESS + list(args), env_extra=dict(H1, GOGC="1"))
    return c.wait(300)


@pytest.mark.parametrize("mode", ["http", "raw"])
def test_go_stress_stacks_move(server, no_other_sensor, godir, tmp_path, mode):
    """300 goroutines, each 48 KiB of recursion deep around its call
    (raw: also inside the TLS handshake, i.e. inside the first
    (*Conn).Write, so the stack is copied while that frame is live), with
    GOGC=1 (stacks shrink at every collection): the same output with and
    without the sensor, and every call captured."""
    exe = os.path.join(godir, "aiclient-stripped")
    msg = "go stress %s" % mode
    raw = ["-raw"] if mode == "raw" else []
    # Without any sensor: no probe anywhere (no_other_sensor).  Its
    # message differs, so that the server's log tells the runs apart.
    pre = "%s without" % msg
    without = stress_run(server, exe, "-msg", pre, *raw)
    sensor = e2elib.Sensor(str(tmp_path)).start()
    try:
        with_sensor = stress_run(server, exe, "-msg", msg, *raw)
        assert with_sensor.stdout == without.stdout.replace(pre, msg)
        assert without.stderr == "" and with_sensor.stderr == ""
        n = 600
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

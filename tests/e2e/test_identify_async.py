"""A new stripped executable is searched for its TLS stack off the
sensor's event loop (sensor/capture/identify.h): while a fresh copy of
Codex's executable (rustls and a static OpenSSL 3, 315 MB) is searched,
`oisp-sensor status` keeps answering and lists the file as being
identified; then the file is attached.  A fresh copy of Deno is searched
the same way, and once attached its calls are captured.

A second copy of an executable with a build id is probed with the first
copy's result (sensor/capture/idcache.h), not searched again.

A fresh copy is a new inode, which the sensor has never seen, whatever
earlier tests ran.  Nothing here depends on how long the search takes:
the Codex test needs only that status answered three times while the
file was pending (it answered at most once or twice, after waiting,
when the search ran on the loop)."""
import os
import shutil
import subprocess
import tempfile
import time

import pytest

import e2elib
from e2elib import check_pair, expected, one_call
from test_sensor_rustls import SCRIPT, codex_exe, deno_exe


def fresh_copy(src, d, name):
    dst = os.path.join(d, name)
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o755)
    return dst


def entries(st, path):
    """@path's entries in status @st: (being identified, listed)."""
    a = st["attach"]
    real = os.path.realpath(path)
    same = lambda f: os.path.realpath(f["path"]) == real  # noqa: E731
    return ([f for f in a.get("identifying", []) if same(f)],
            [f for f in a["list"] if same(f)])


def status_text(sensor):
    p = subprocess.run([e2elib.SENSOR, "status", "--status-socket", sensor.sock],
                       capture_output=True, text=True, timeout=10,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_status_answers_while_codex_is_identified(sensor_run):
    src = codex_exe("0.171.0")
    sensor = sensor_run.sensor
    with tempfile.TemporaryDirectory(prefix="oisp-idasync-") as d:
        exe = fresh_copy(src, d, "codex")
        env = {"CODEX_HOME": d, "HOME": d, "NO_COLOR": "1"}
        c = e2elib.Client(sensor_run.server, [exe, "--version"], env_extra=env)
        sensor_run.known_pids.add(c.pid)
        pending, text, listed = [], None, []
        try:
            deadline = time.monotonic() + 60
            while not listed:
                assert time.monotonic() < deadline, (pending, sensor.log_tail())
                st = sensor.status()
                assert st is not None, "status did not answer:\n" + sensor.log_tail()
                ident, listed = entries(st, exe)
                if ident:
                    pending.append(ident[0])
                    if text is None:
                        text = status_text(sensor)
        finally:
            c.wait(60)
    print("status answered %d times while the file was searched" % len(pending))
    # Answered at least three times while the file was searched.
    assert len(pending) >= 3, (pending, listed)
    f = pending[0]
    assert "stack" not in f, f
    assert f["identifying"]["since"].endswith("Z"), f
    assert pending[-1]["identifying"]["s"] >= f["identifying"]["s"], pending
    assert "identifying since" in text and "/codex" in text, text
    # Then attached as today: rustls, and the static OpenSSL 3 next to it.
    stacks = {f["stack"]: f for f in listed}
    assert "skipped" not in stacks["rustls"], listed
    st = sensor.status()
    assert st["capture"]["files_identifying"] == 0, st["capture"]


def test_deno_identified_then_captured(sensor_run):
    src = deno_exe("2.9.6")
    sensor = sensor_run.sensor
    tag = "idasync deno"
    with tempfile.TemporaryDirectory(prefix="oisp-idasync-") as d:
        exe = fresh_copy(src, d, "deno")
        env = {"DENO_CERT": sensor_run.server.ca, "DENO_DIR": d, "HOME": d,
               "DENO_NO_UPDATE_CHECK": "1", "NO_COLOR": "1"}
        c = e2elib.Client(sensor_run.server,
                          [exe, "run", "--allow-net", "--allow-env", "--no-prompt",
                           SCRIPT, "chat", "--tag", tag],
                          env_extra=env, stdin=True)
        sensor_run.known_pids.add(c.pid)
        try:
            # The client waits on stdin: its calls come once the probes are in.
            listed = e2elib.wait_until(lambda: entries(sensor.status(), exe)[1],
                                       60, "deno copy attached", step=0.05)
            assert [f["stack"] for f in listed] == ["rustls"], listed
            assert "skipped" not in listed[0] and "identifying" not in listed[0], listed
            assert not entries(sensor.status(), exe)[0]
            c.proc.stdin.write("go\n")
            c.proc.stdin.flush()
            c.wait(60)
        finally:
            c.proc.kill()
            c.proc.wait()
    [r] = c.results()
    assert r["status"] == 200, r
    evs = sensor_run.events.wait_pid(c.pid, 2)
    q, resp = one_call(evs, r["message"])
    kw = expected(sensor_run.server, r["message"], provider_request_id=r["id"])
    check_pair(q, resp, pid=c.pid, exe=exe, name="deno", **kw)
    assert len(evs) == 2, [e["event_type"] for e in evs]


def test_second_copy_not_searched(sensor_run):
    """Another copy of an executable with a build id (Deno) is probed with
    the first copy's search result, once its bytes at the probed
    functions are found the same: capture.identify_cached counts it."""
    src = deno_exe("2.9.6")
    sensor = sensor_run.sensor
    with tempfile.TemporaryDirectory(prefix="oisp-idasync-") as d:
        exes = [fresh_copy(src, d, "deno%d" % i) for i in range(2)]
        listed = []
        for i, exe in enumerate(exes):
            if i:
                before = sensor.status()["capture"]["identify_cached"]
            # Waits on stdin, making no call: killed once attached.
            c = e2elib.Client(sensor_run.server,
                              [exe, "run", "--no-prompt", SCRIPT, "chat"],
                              env_extra={"HOME": d, "DENO_DIR": d, "NO_COLOR": "1",
                                         "DENO_NO_UPDATE_CHECK": "1"},
                              stdin=True)
            sensor_run.known_pids.add(c.pid)
            try:
                listed.append(e2elib.wait_until(
                    lambda: entries(sensor.status(), exe)[1], 60,
                    "%s attached" % exe, step=0.05))
            finally:
                c.proc.kill()
                c.proc.wait()
        st = sensor.status()
    assert st["capture"]["identify_cached"] == before + 1, st["capture"]
    first, second = listed
    assert [f["stack"] for f in second] == ["rustls"] and "skipped" not in second[0], second
    assert second[0]["found"] == first[0]["found"], listed
    assert second[0]["ino"] != first[0]["ino"], listed


if __name__ == "__main__":
    pytest.main([__file__])

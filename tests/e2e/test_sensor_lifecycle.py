"""The sensor's lifecycle with real traffic: a capture recorded live and
replayed offline gives the same events; SIGHUP reopens the output after
a rotation by rename, losing and duplicating nothing."""
import datetime
import os
import shutil
import signal
import subprocess
import time

import e2elib
from e2elib import SENSOR, EventLog, curl_client, one_call

LIBSSL = "/usr/lib/x86_64-linux-gnu/libssl.so.3"


def _wall(ts):
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def _data_fields(e):
    d = e["data"]
    keep = ("provider", "model", "request_type", "streaming", "messages",
            "choices", "usage", "status_code", "success", "finish_reason")
    return {k: d.get(k) for k in keep}


def _start_record(cap, *args):
    """`oisp-sensor record CAP ARGS`, once it says it is ready; and that
    line."""
    rec = subprocess.Popen([SENSOR, "record", cap, *args], stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, text=True,
                           preexec_fn=e2elib._die_with_parent)
    deadline = time.monotonic() + 20
    line = ""
    while "ready" not in line:
        assert time.monotonic() < deadline, "record never became ready"
        line = rec.stderr.readline()
        assert line or rec.poll() is None, "record exited early"
    return rec, line


def _replay(cap, out):
    p = subprocess.run([SENSOR, "replay", cap, "--output", out],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return EventLog(out).refresh()


def test_record_then_replay_gives_the_live_events(sensor_run, tmp_path):
    cap = str(tmp_path / "live.cap")
    rec, _ = _start_record(cap)
    try:
        msg = "recorded then replayed"
        c = curl_client(sensor_run.server, "chat", msg)
        sensor_run.known_pids.add(c.pid)
        live = sensor_run.events.wait_pid(c.pid, 2)
        assert len(live) == 2
        time.sleep(0.2)		# past the reader's 50 ms poll
    finally:
        rec.send_signal(signal.SIGTERM)
        rec.wait(15)
    assert rec.returncode == 0, rec.stderr.read()
    assert os.path.getsize(cap) > 88

    replayed = [e for e in _replay(cap, str(tmp_path / "replayed.jsonl"))
                if e["process"]["pid"] == c.pid]
    q_live, r_live = one_call(live, msg)
    q_rep, r_rep = one_call(replayed, msg)
    assert _data_fields(q_rep) == _data_fields(q_live)
    assert _data_fields(r_rep) == _data_fields(r_live)
    # Two BPF instances stamp the same calls microseconds apart.
    assert abs(q_rep["ts_mono"] - q_live["ts_mono"]) < 10**6
    assert abs(_wall(q_rep["ts"]) - _wall(q_live["ts"])) < 0.001
    assert abs(r_rep["data"]["latency_ms"] - r_live["data"]["latency_ms"]) < 1


def _probed_for(rec_pid, pid, lib):
    """Whether process @rec_pid holds the entry and return uprobe_multi
    links on @lib filtered on process @pid."""
    types = {l["link_type"] for l in e2elib.bpf_links_of(rec_pid)
             if l.get("pid") == str(pid) and l.get("path") == lib}
    return {"uprobe_multi", "uretprobe_multi"} <= types


def test_record_honours_capture_targets(sensor_run, tmp_path):
    """record in targeted mode: a selected program (a copy of python,
    by its exe) is in the capture, an unselected one (curl) is not; the
    shared sensor sees both, so both calls happened and were made over
    TLS.  The copy makes the client the only selected process (not this
    test's python, nor its children, which the record would otherwise
    probe from their fork until their exec).  Its probes are registered
    after its exec, later on a loaded machine than Python's startup
    takes (README, Limits: New libraries): its first call waits for
    them."""
    selpy = str(tmp_path / "python3-selected")
    shutil.copy(os.path.realpath(e2elib.PYTHON), selpy)
    cfg = tmp_path / "record.yaml"
    cfg.write_text('capture:\n  targets:\n    exe: ["%s"]\n' % selpy)
    cap = str(tmp_path / "targeted.cap")
    rec, ready = _start_record(cap, "--config", str(cfg))
    py = None
    try:
        assert "targeted" in ready, ready
        py = e2elib.Client(sensor_run.server, [selpy, os.path.join(e2elib.CLIENTS,
                                                                   "py_client.py"),
                                               "requests", "chat", "--wait"], stdin=True)
        line = py.proc.stdout.readline()
        assert line.strip() == "ready", (line, py.proc.stderr.read())
        lib = os.path.realpath(LIBSSL)
        e2elib.wait_until(lambda: _probed_for(rec.pid, py.pid, lib), 60,
                          "record did not probe %s for the selected client" % lib)
        py.proc.stdin.write("go\n")
        py.proc.stdin.flush()
        py.wait(60)
        c = curl_client(sensor_run.server, "chat", "record does not select curl")
        for pid in (py.pid, c.pid):
            sensor_run.known_pids.add(pid)
            assert len(sensor_run.events.wait_pid(pid, 2)) == 2
        time.sleep(0.2)		# past the reader's 50 ms poll
    finally:
        if py:
            py.kill()
        rec.send_signal(signal.SIGTERM)
        rec.wait(15)
    assert rec.returncode == 0, rec.stderr.read()
    evs = _replay(cap, str(tmp_path / "targeted.jsonl"))
    assert [e["event_type"] for e in evs if e["process"]["pid"] == py.pid] == \
        ["ai.request", "ai.response"], evs
    assert [e for e in evs if e["process"]["pid"] != py.pid] == []


def test_record_refuses_k8s_namespace_targets(tmp_path):
    cfg = tmp_path / "record.yaml"
    cfg.write_text("capture:\n  targets:\n    k8s_namespace: [ai-apps]\n")
    cap = tmp_path / "never.cap"
    p = subprocess.run([SENSOR, "record", str(cap), "--config", str(cfg)],
                       capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert p.returncode == 2, p.stderr
    assert "capture.targets.k8s_namespace" in p.stderr and "record" in p.stderr, p.stderr
    assert not cap.exists()


def test_sighup_reopens_after_rename(sensor_run, tmp_path):
    s = e2elib.Sensor(str(tmp_path)).start()
    try:
        c1 = curl_client(sensor_run.server, "chat", "before the rotation")
        sensor_run.known_pids.add(c1.pid)
        assert len(EventLog(s.out).wait_pid(c1.pid, 2)) == 2
        os.rename(s.out, s.out + ".1")
        s.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        c2 = curl_client(sensor_run.server, "chat", "after the rotation")
        sensor_run.known_pids.add(c2.pid)
        new = EventLog(s.out).wait_pid(c2.pid, 2)
        assert len(new) == 2, s.log_tail()
    finally:
        assert s.stop() == 0, s.log_tail()
    old = EventLog(s.out + ".1")
    old_pids = {e["process"]["pid"] for e in old.refresh()}
    new_log = EventLog(s.out)
    new_pids = {e["process"]["pid"] for e in new_log.refresh()}
    assert not old.bad_lines and not new_log.bad_lines
    assert c1.pid in old_pids and c1.pid not in new_pids
    assert c2.pid in new_pids and c2.pid not in old_pids
    assert "SIGHUP" in s.log_tail(200)


def test_second_status_reports_counts(sensor_run):
    # a call of its own: the shared sensor may have just (re)started
    c = curl_client(sensor_run.server, "chat", "counted by status")
    sensor_run.known_pids.add(c.pid)
    assert len(sensor_run.events.wait_pid(c.pid, 2)) == 2
    st = sensor_run.sensor.status()
    assert st["pipeline"]["events_request"] >= 1
    assert st["capture"]["lost_records"] == 0
    assert st["output"]["path"] == sensor_run.sensor.out
    assert any(f["path"].endswith("libssl.so.3") for f in st["attach"]["list"])
    p = subprocess.run([SENSOR, "status", "--status-socket", sensor_run.sensor.sock],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 0
    assert "libssl.so.3" in p.stdout


def test_open_files_soft_limit_raised_to_hard(monkeypatch, tmp_path):
    """Each attached file holds an fd and BPF links (more in targeted
    mode): started with a soft RLIMIT_NOFILE of 256, the sensor runs with
    it raised to the hard limit."""
    wrapper = tmp_path / "sensor-lowfiles.sh"
    wrapper.write_text('#!/bin/sh\nulimit -S -n 256\nexec %s "$@"\n' % e2elib.SENSOR)
    wrapper.chmod(0o755)
    monkeypatch.setattr(e2elib, "SENSOR", str(wrapper))
    s = e2elib.Sensor(str(tmp_path)).start()
    try:
        with open("/proc/%d/limits" % s.proc.pid) as f:
            [line] = [l for l in f if l.startswith("Max open files")]
    finally:
        assert s.stop() == 0, s.log_tail()
    soft, hard = line.split()[3:5]
    assert soft == hard != "256", line

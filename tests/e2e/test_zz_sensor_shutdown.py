"""Runs last (file order): whole-file checks over everything the session
wrote, then SIGTERM: the sensor must exit 0 having flushed, and every line
must validate against the schema."""
import json
import os
import subprocess
import time

import e2elib


def test_server_side_and_keys_never_written(sensor_run):
    time.sleep(1.0)
    evs = sensor_run.events.refresh()
    assert evs, "the session wrote no events at all"
    assert not sensor_run.events.bad_lines, sensor_run.events.bad_lines[:3]
    server_pid = sensor_run.server.pid
    assert not [e for e in evs if e["process"]["pid"] == server_pid], \
        "events from the fixture server (the TLS server side)"
    assert not [e for e in evs if e["source"]["capture_point"] != "tls_client"]
    with open(sensor_run.sensor.out) as f:
        text = f.read()
    assert "0123456789" not in text, "an API key was written"
    # every request has exactly one response
    reqs = [e["data"]["request_id"] for e in evs if e["event_type"] == "ai.request"]
    resps = [e["data"]["request_id"] for e in evs if e["event_type"] == "ai.response"]
    assert sorted(reqs) == sorted(resps)
    assert len(set(e["event_id"] for e in evs)) == len(evs)


def test_sigterm_exits_zero_and_every_line_validates(sensor_run):
    rc = sensor_run.sensor.stop()
    assert rc == 0, "sensor exit status %r\n%s" % (rc, sensor_run.sensor.log_tail())
    assert os.path.exists(e2elib.VALIDATE), "%s is missing" % e2elib.VALIDATE
    p = subprocess.run([e2elib.PYTHON, e2elib.VALIDATE, sensor_run.sensor.out],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, (p.stdout + p.stderr)[-4000:]
    with open(sensor_run.sensor.out) as f:
        for n, line in enumerate(f, 1):
            assert line.endswith("\n"), "line %d is not terminated" % n
            json.loads(line)

"""A client that was already running, with its TLS connection open, when
the sensor started."""
import json
import os

import pytest

import e2elib
from e2elib import check_pair, expected, one_call


@pytest.fixture(scope="function")
def early_then_sensor(server, tmp_path):
    """(client, sensor): py_early.py, running (libssl mapped, a call made
    on a connection it keeps open, waiting for a line on stdin), then a
    sensor of this test started."""
    early = e2elib.Client(server, [e2elib.PYTHON, os.path.join(e2elib.CLIENTS, "py_early.py"),
                                   "tag-early"], stdin=True)
    sensor = e2elib.Sensor(str(tmp_path))
    try:
        first = json.loads(early.proc.stdout.readline() or "null")
        ready = json.loads(early.proc.stdout.readline() or "null")
        assert first and first["status"] == 200 and ready == {"ready": True, "pid": early.pid}, (
            first, ready, early.proc.stderr.read() if early.proc.poll() is not None else "")
        early.before = first
        sensor.start()
        yield early, sensor
    finally:
        early.kill()
        sensor.stop()


def test_client_started_before_the_sensor(server, early_then_sensor):
    early, sensor = early_then_sensor
    early.proc.stdin.write("go\n")
    early.proc.stdin.flush()
    early.wait(30)
    same, new = early.results()
    assert same["local_port"] == early.before["local_port"] != new["local_port"]
    evs = e2elib.EventLog(sensor.out).wait_pid(early.pid, 4)
    for r in (same, new):
        q, resp = one_call(evs, r["message"])
        check_pair(q, resp, pid=early.pid, exe="/usr/bin/python3",
                   **expected(server, r["message"], provider_request_id=r["id"]))
    # the call made before the sensor started is not invented
    assert not [e for e in evs if "early before" in json.dumps(e)]
    assert len(evs) == 4
    assert sensor.stop() == 0, sensor.log_tail()

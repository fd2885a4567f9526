"""A client that was already running, with its TLS connection open, when
the sensor started (see conftest.sensor_run)."""
import json

from e2elib import check_pair, expected, one_call


def test_client_started_before_the_sensor(sensor_run):
    early = sensor_run.early
    sensor_run.known_pids.add(early.pid)
    early.proc.stdin.write("go\n")
    early.proc.stdin.flush()
    early.wait(30)
    same, new = early.results()
    assert same["local_port"] == early.before["local_port"] != new["local_port"]
    evs = sensor_run.events.wait_pid(early.pid, 4)
    for r in (same, new):
        q, resp = one_call(evs, r["message"])
        check_pair(q, resp, pid=early.pid, exe="/usr/bin/python3",
                   **expected(sensor_run.server, r["message"], provider_request_id=r["id"]))
    # the call made before the sensor started is not invented
    assert not [e for e in evs if "early before" in json.dumps(e)]
    assert len(evs) == 4

"""An HTTP/2 client started before the sensor, on an established h2
connection (httpx with http2=True, through the nghttpx front of
test_sensor_h2.py): the sensor joins the connection mid-way, with the
HPACK dynamic tables of both ends unknown.  Its later streams still give
events with the body, model and usage; the header fields that refer to
entries from before the join are left out and counted."""
import json
import os

import pytest

import e2elib
from test_sensor_h2 import h2front  # noqa: F401  (the nghttpx front fixture)


@pytest.fixture(scope="function")
def h2_early_then_sensor(h2front, tmp_path):  # noqa: F811
    """(client, sensor): py_h2_early.py, running with a call made on an h2
    connection it keeps open and waiting for a line on stdin, then a
    sensor of this test started."""
    early = e2elib.Client(h2front, [e2elib.PYTHON,
                                    os.path.join(e2elib.CLIENTS, "py_h2_early.py")],
                          stdin=True)
    sensor = e2elib.Sensor(str(tmp_path))
    try:
        first = json.loads(early.proc.stdout.readline() or "null")
        ready = json.loads(early.proc.stdout.readline() or "null")
        assert first and first["status"] == 200 and first["http_version"] == "HTTP/2" and \
            ready == {"ready": True, "pid": early.pid}, (
                first, ready, early.proc.stderr.read() if early.proc.poll() is not None else "")
        early.before = first
        sensor.start()
        yield early, sensor
    finally:
        early.kill()
        sensor.stop()


def test_h2_client_started_before_the_sensor(h2_early_then_sensor):
    early, sensor = h2_early_then_sensor
    early.proc.stdin.write("go\n")
    early.proc.stdin.flush()
    early.wait(30)
    plain, streamed = early.results()
    # the same connection: its next streams
    assert (early.before["stream_id"], plain["stream_id"], streamed["stream_id"]) == (1, 3, 5)
    evs = e2elib.EventLog(sensor.out).wait_pid(early.pid, 4)
    for r, stream in ((plain, False), (streamed, True)):
        q, resp = e2elib.one_call(evs, r["message"])
        qd, rd = q["data"], resp["data"]
        assert q["event_type"] == "ai.request" and resp["event_type"] == "ai.response"
        assert q["process"]["pid"] == resp["process"]["pid"] == early.pid
        # the body was decoded, whatever the headers
        assert qd["messages"][-1]["content"] == r["message"]
        assert qd["model"]["id"] == "gpt-4o-mini"
        assert qd["streaming"] is stream
        assert rd["request_id"] == qd["request_id"]
        assert rd["status_code"] == 200 and rd["success"] is True
        assert rd["streaming"] is stream
        assert rd["choices"][0]["message"]["content"] == "Echo: " + r["message"]
        assert rd["usage"]["total_tokens"] > 0
        assert rd["model"]["id"]
        # :authority and :path were in the dynamic table before the join
        # (python's hpack indexes :path): classified by the body, by the
        # rule without a host pattern
        assert "path" not in qd["http"]
        assert qd["provider"]["name"] == "other"
        assert qd["request_type"] == "chat"
        for e in (q, resp):
            c = e["confidence"]
            assert c["ai_detection_method"] == "heuristic" and "rule" not in c
            assert c["completeness"] == "partial"
            assert "hpack_fields_unknown" in c["reasons"]
    # the call made before the sensor started is not invented
    assert not [e for e in evs if "h2 early before" in json.dumps(e)]
    assert len(evs) == 4
    st = sensor.status()["pipeline"]
    assert st["http2_connections_joined"] >= 1
    # two requests and their responses each had fields left out
    assert st["http2_streams_hpack_unknown"] >= 2
    assert st["http2_hpack_fields_unknown"] >= 4
    assert sensor.stop() == 0, sensor.log_tail()

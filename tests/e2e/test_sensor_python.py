"""The sensor against Debian's python3: urllib, requests, httpx (the _ssl
module calls SSL_write_ex / SSL_read_ex)."""
import os

import pytest

import e2elib
from e2elib import check_pair, expected, one_call, py_client

MODES = ["chat", "stream", "chat-gzip", "chat-br", "responses", "responses-stream",
         "embeddings", "anthropic", "anthropic-stream"]


@pytest.mark.parametrize("lib", ["urllib", "requests", "httpx"])
def test_python_client(sensor_run, lib):
    c = py_client(sensor_run.server, lib, *MODES, "--tag", "sensor")
    sensor_run.known_pids.add(c.pid)
    res = c.results()
    assert [r["pid"] for r in res] == [c.pid] * len(MODES)
    evs = sensor_run.events.wait_pid(c.pid, 2 * len(MODES))
    for r in res:
        if r["mode"] == "embeddings":
            reqs = [q for q, _ in e2elib.pairs(evs) if q["data"]["request_type"] == "embedding"]
            assert len(reqs) == 1, [q["data"]["request_type"] for q, _ in e2elib.pairs(evs)]
            [(q, resp)] = [p for p in e2elib.pairs(evs) if p[0] is reqs[0]]
        else:
            q, resp = one_call(evs, r["message"])
        check_pair(q, resp, pid=c.pid, exe="/usr/bin/python3", name="python3",
                   **expected(sensor_run.server, r["message"], provider_request_id=r["id"]))
    assert len(evs) == 2 * len(MODES)


def test_call_larger_than_the_cap_is_marked_truncated(sensor_run):
    # above the default capture.max_bytes_per_call, 4 MiB + 64 KiB
    size, cap = 6 << 20, (4 << 20) + (64 << 10)
    before = sensor_run.sensor.status()["capture"]
    c = e2elib.run_client(sensor_run.server, [e2elib.PYTHON, os.path.join(
        e2elib.CLIENTS, "py_huge.py"), str(size)])
    sensor_run.known_pids.add(c.pid)
    assert c.results()[0]["status"] == 200
    evs = sensor_run.events.wait_pid(c.pid, 2)
    [(q, r)] = e2elib.pairs(evs)
    assert q["confidence"]["completeness"] == "partial"
    assert "capture_call_truncated" in q["confidence"]["reasons"]
    http = q["data"]["http"]
    assert http["body_bytes"] < size
    # the JSON prefix still gives what came before the cut
    assert http["body_truncated"] is True
    assert http["body_bytes_sent"] > size
    assert q["data"]["model"]["id"] == "gpt-4o-mini"
    assert q["data"]["parameters"]["max_tokens"] == 5
    # the response, paired with its request, lost nothing to capture; it
    # echoes the message, so it is longer than capture.max_body_bytes
    assert r["confidence"]["reasons"] == ["body_truncated"], r["confidence"]
    assert r["data"]["status_code"] == 200
    after = sensor_run.sensor.status()["capture"]
    assert after["truncated_calls"] > before["truncated_calls"]
    assert after["truncated_bytes"] - before["truncated_bytes"] >= size - cap

"""The sensor against Debian's python3: urllib, requests, httpx (the _ssl
module calls SSL_write_ex / SSL_read_ex)."""
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

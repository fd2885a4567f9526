"""SIGTERM, with a sensor of this module's own (shutdown_run): curl,
Python and Node clients call through it all at once, and the sensor is
SIGTERMed as soon as the last of them has exited, without waiting for its
events.  It must exit 0 having flushed every call, every line must
validate against the schema, and the whole file must hold no event of the
server side, no API key, exactly one response per request and no event id
twice.  (conftest.py's shared sensor passes the same whole-file checks,
over everything the session made it capture, each time it stops.)"""
import collections
import os

import pytest

import e2elib

# mode -> the AI calls curl_client.sh makes in it
CURL_MODES = {"chat": 1, "stream": 1, "keepalive": 3, "big": 1, "error": 2, "nonai": 1,
              "gzip": 1, "br-stream": 1, "chunked-response": 1, "chunked-request": 1,
              "anthropic": 1, "anthropic-stream": 1, "other": 1}
PY_MODES = ["chat", "stream", "chat-gzip", "chat-br", "responses", "responses-stream",
            "embeddings", "anthropic", "anthropic-stream"]
NODE_MODES = ["chat", "stream", "chat-br", "responses", "responses-stream", "embeddings",
              "anthropic", "anthropic-stream", "anthropic-gzip", "error"]

Shutdown = collections.namedtuple("Shutdown", "sensor rc calls")


@pytest.fixture(scope="module")
def shutdown_run(server, tmp_path_factory):
    """Shutdown(sensor, rc, calls): the sensor, SIGTERMed right after the
    clients, its exit status, and {client pid: AI calls it made}."""
    sensor = e2elib.Sensor(str(tmp_path_factory.mktemp("shutdown"))).start()
    clients = []
    try:
        for mode, n in CURL_MODES.items():
            clients.append((e2elib.Client(server, [
                "sh", os.path.join(e2elib.CLIENTS, "curl_client.sh"), mode,
                "shutdown curl %s" % mode]), n))
        for lib in ("requests", "httpx"):
            clients.append((e2elib.Client(server, [
                e2elib.PYTHON, os.path.join(e2elib.CLIENTS, "py_client.py"), lib, *PY_MODES,
                "--tag", "shutdown"]), len(PY_MODES)))
        clients.append((e2elib.Client(server, [
            e2elib.NODE, os.path.join(e2elib.CLIENTS, "node_client.mjs"), *NODE_MODES,
            "--tag", "shutdown"]), len(NODE_MODES)))
        for c, _ in clients:
            c.wait(120)
        rc = sensor.stop()
    finally:
        for c, _ in clients:
            c.kill()
        sensor.stop()
    return Shutdown(sensor, rc, {c.pid: n for c, n in clients})


def test_sigterm_exits_zero(shutdown_run):
    s = shutdown_run.sensor
    assert shutdown_run.rc == 0, "sensor exit status %r\n%s" % (shutdown_run.rc, s.log_tail())
    assert "signal 15: shutting down" in s.log_tail(200)


def test_every_call_was_flushed(shutdown_run):
    """Each call made before the SIGTERM is in the file, request and
    response, though nobody waited for them."""
    evs = e2elib.EventLog(shutdown_run.sensor.out).refresh()
    for pid, n in shutdown_run.calls.items():
        mine = [e for e in evs if e["process"]["pid"] == pid]
        got = e2elib.pairs(mine)
        assert len(got) == n and all(r is not None for _, r in got), (
            pid, n, [(e["event_type"], e["data"].get("request_id")) for e in mine])
        assert len(mine) == 2 * n


def test_every_line_validates(shutdown_run):
    e2elib.check_lines_valid(shutdown_run.sensor.out)


def test_server_side_and_keys_never_written(shutdown_run, server):
    e2elib.check_whole_file(shutdown_run.sensor.out, server.pid)

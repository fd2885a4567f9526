"""Connections the sensor ignores are not copied in the kernel.

Once the pipeline sees that a connection is the server end (it reads
requests; filters.server_side is off), not HTTP/1.x, or switched
protocols, the BPF programs stop copying its calls and count them in
capture.skipped_calls.  An ignored SSL* address that the process frees
and reuses for a new connection, or that a new image (after exec) gets
again, is a new connection and is captured.

py_bio_pair.py drives both ends of each connection in one thread through
libssl (ctypes), so the addresses are known: the client end of the new
connection gets the ignored server end's address.  The shared sensor
(default config) is the one under test; a second sensor with
filters.server_side: true shows that the server end's data was there to
copy all along."""
import json
import os

import e2elib
from e2elib import EventLog, one_call

SCRIPT = os.path.join(e2elib.CLIENTS, "py_bio_pair.py")
SERVER_SIDE_CONFIG = e2elib.SENSOR_CONFIG.replace("filters:\n", "filters:\n  server_side: true\n")


def _line(c):
    line = c.proc.stdout.readline()
    if not line:
        c.proc.wait(10)
        raise AssertionError("py_bio_pair.py exited %s: %s" % (
            c.proc.returncode, c.proc.stderr.read()))
    return json.loads(line)


def _round(events, pid, tag):
    """The client-end pair of round @tag, checked."""
    msg = "bio pair says hello %s %d" % (tag, pid)
    evs = events.wait(lambda e: e["process"]["pid"] == pid and msg in json.dumps(e),
                      count=2)
    q, r = one_call(evs, msg)
    assert q["source"]["capture_point"] == "tls_client"
    assert q["data"]["model"]["id"] == "gpt-4o-mini"
    assert r["data"]["status_code"] == 200
    assert r["data"]["provider_request_id"] == "chatcmpl-bio-" + tag
    assert r["data"]["usage"]["total_tokens"] == 13
    return q, r


def _skipped(sensor):
    return sensor.status()["capture"]


def _reuse(sensor_run, tmp_path, mode, wrap=(), env=None):
    sess = sensor_run.sensor
    ctl = e2elib.Sensor(str(tmp_path), config=SERVER_SIDE_CONFIG).start()
    ctl_events = EventLog(ctl.out)
    tls = sensor_run.server.tls
    c = e2elib.Client(sensor_run.server, list(wrap) + [
        e2elib.PYTHON, SCRIPT, tls["cert"], tls["key"], mode], env_extra=env, stdin=True)
    sensor_run.known_pids.add(c.pid)
    try:
        before = _skipped(sess)
        first = _line(c)
        assert first["step"] == "first", first
        _round(sensor_run.events, c.pid, "first")
        # The server end read a request: the sensor ignores it from here.
        e2elib.wait_until(
            lambda: _skipped(sess)["skipped_conns"] > before["skipped_conns"],
            10, "the server end was not handed to the kernel", step=0.05)
        mid = _skipped(sess)
        c.proc.stdin.write("\n")
        c.proc.stdin.flush()
        assert _line(c)["step"] == "second"
        _round(sensor_run.events, c.pid, "second")
        # Its SSL_read and SSL_write of that round were counted, not copied.
        after = e2elib.wait_until(
            lambda: (lambda st: st if st["skipped_calls"] >= mid["skipped_calls"] + 2
                     else None)(_skipped(sess)),
            10, "the server end's calls were not skipped", step=0.05)
        assert after["lost_records"] == before["lost_records"]
        # The other sensor, which reports the server side, saw it whole.
        srv = ctl_events.wait(lambda e: e["process"]["pid"] == c.pid and
                              e["source"]["capture_point"] == "tls_server", count=4)
        assert len(srv) == 4, srv
        assert _skipped(ctl)["skipped_calls"] == 0
        assert not [e for e in sensor_run.events.by_pid(c.pid)
                    if e["source"]["capture_point"] != "tls_client"]

        c.proc.stdin.write("\n")
        c.proc.stdin.flush()
        reused = _line(c)
        assert reused["step"] == "reused", reused
        assert reused["client"] == first["server"], (
            "the new client end did not get the ignored server end's address "
            "(%#x, %#x): the test proves nothing" % (reused["client"], first["server"]))
        assert _line(c)["step"] == "third"
        _round(sensor_run.events, c.pid, "third")
        c.wait(30)
    finally:
        c.kill()
        assert ctl.stop() == 0, ctl.log_tail()


def test_freed_ignored_address_is_a_new_connection(sensor_run, tmp_path):
    """SSL_free() of the ignored server end deletes its entry; the client
    end that malloc gives the same address next is captured."""
    _reuse(sensor_run, tmp_path, "free")


def test_exec_starts_afresh(sensor_run, tmp_path):
    """After exec the same tgid and SSL* address are the new image's
    connection: the old image's entry no longer applies.  Without address
    randomisation and with a fixed hash seed the new image allocates its
    first SSL* where the old one had its server end."""
    _reuse(sensor_run, tmp_path, "exec", wrap=("setarch", "-R"),
           env={"PYTHONHASHSEED": "0", "OISP_BIO_PHASE": "1"})

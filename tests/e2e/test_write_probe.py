"""capture.write_probe: entry.  Writes are taken at SSL_write's entry
(one probe hit per write; no return probe on the write functions), reads
at return as always.  The same clients as the default mode give the same
events: curl (libssl), Python requests and httpx (SSL_write_ex), and the
openai and Anthropic SDKs on node (OpenSSL inside node)."""
import os
import time

import e2elib
from e2elib import EventLog, check_pair, expected, one_call

CONFIG = e2elib.SENSOR_CONFIG + "capture:\n  write_probe: entry\n"


def _ret_offsets(pid):
    """uprobe_cnt of each uretprobe_multi link process @pid holds."""
    return [int(l["uprobe_cnt"]) for l in e2elib.bpf_links_of(pid)
            if l["link_type"] == "uretprobe_multi"]


def test_writes_at_entry(sensor_run, tmp_path):
    s = e2elib.Sensor(str(tmp_path), config=CONFIG).start()
    try:
        # libssl exports the four functions: only the two reads return.
        assert _ret_offsets(s.proc.pid) and set(_ret_offsets(s.proc.pid)) == {2}
        calls = []
        c = e2elib.curl_client(sensor_run.server, "chat", "entry mode curl")
        calls.append((c, "entry mode curl", {}))
        p = e2elib.py_client(sensor_run.server, "requests", "chat", "--tag", "entry-mode")
        n = e2elib.node_client(sensor_run.server, "chat", "anthropic-stream", "--tag", "entry")
        for x in (c, p, n):
            sensor_run.known_pids.add(x.pid)
        log = EventLog(s.out)
        for r in p.results():
            q, resp = one_call(log.wait_pid(p.pid, 2), r["message"])
            check_pair(q, resp, pid=p.pid, **expected(sensor_run.server, r["message"],
                                                       provider_request_id=r["id"]))
        for r in n.results():
            q, resp = one_call(log.wait_pid(n.pid, 4), r["message"])
            check_pair(q, resp, pid=n.pid, **expected(sensor_run.server, r["message"],
                                                       provider_request_id=r["id"]))
        q, resp = one_call(log.wait_pid(c.pid, 2), "entry mode curl")
        assert q["data"]["model"]["id"] == "gpt-4o-mini" and resp["data"]["status_code"] == 200
        assert len(log.by_pid(c.pid)) == 2 and len(log.by_pid(p.pid)) == 2
        assert len(log.by_pid(n.pid)) == 4
        st = s.status()["capture"]
        assert st["lost_records"] == 0 and st["read_faults"] == 0
        assert st["missed_calls"] == 0
    finally:
        assert s.stop() == 0, s.log_tail()


def test_retried_write_is_why_the_default_waits_for_the_return(sensor_run, tmp_path):
    """A write that fails with SSL_ERROR_WANT_WRITE must be repeated with
    the same arguments.  At return (the default) only the call that
    succeeded is taken: one request, read cleanly.  At entry every attempt
    is taken: http.client sends the body in its own write, so the body
    comes again where the next request line should be, and the stream
    cannot be parsed.  This is why write_probe: entry is opt-in (README,
    "Performance")."""
    s = e2elib.Sensor(str(tmp_path), config=CONFIG).start()
    try:
        errors0 = sensor_run.sensor.status()["pipeline"]["parse_errors"]
        c = e2elib.run_client(sensor_run.server, [
            e2elib.PYTHON, os.path.join(e2elib.CLIENTS, "py_retry.py"), str(200 * 1024)])
        sensor_run.known_pids.add(c.pid)
        r = c.results()[0]
        assert r["status"] == 200, r
        evs = sensor_run.events.wait_pid(c.pid, 2)
        time.sleep(0.5)
        assert [e["event_type"] for e in sensor_run.events.by_pid(c.pid)] == [
            "ai.request", "ai.response"], evs
        assert evs[0]["data"]["messages"][0]["content"] == r["message"]
        assert sensor_run.sensor.status()["pipeline"]["parse_errors"] == errors0
        # At entry: the repeated body broke the stream.
        st = s.status()
        assert st["pipeline"]["parse_errors"] >= 1, st["pipeline"]
    finally:
        assert s.stop() == 0, s.log_tail()

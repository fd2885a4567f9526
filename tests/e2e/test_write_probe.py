"""capture.write_probe: entry.  Writes are taken at SSL_write's entry
(one probe hit per write; no return probe on the write functions), reads
at return as always.  The same clients as the default mode give the same
events: curl (libssl), Python requests and httpx (SSL_write_ex), and the
openai and Anthropic SDKs on node (OpenSSL inside node)."""
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

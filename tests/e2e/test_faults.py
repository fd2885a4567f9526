"""Faults the sensor must survive, each with a sensor of its own
(e2elib.Sensor in a temporary directory) and real curl or Python calls:

- the disk of the events file fills up, then frees up;
- the events file is deleted, with and without SIGHUP;
- a traced client is SIGKILLed in the middle of a streamed answer;
- the sensor itself is SIGKILLed under load and started again;
- two sensors are started at once, or with different status sockets.
"""
import json
import os
import signal
import subprocess
import textwrap
import threading
import time

import pytest

import e2elib
from e2elib import SENSOR, EventLog, curl_client

LOCK = "oisp-sensor.lock"


def _calls(run, pids, msg):
    c = curl_client(run.server, "chat", msg)
    run.known_pids.add(c.pid)
    pids.append(c.pid)
    return c


def _whole_lines(path):
    """Every line of path ends with a newline and parses; returns them."""
    with open(path, "rb") as f:
        data = f.read()
    assert not data or data.endswith(b"\n"), "a partial last line: %r" % data[-200:]
    return [json.loads(line) for line in data.split(b"\n") if line]


_wait = e2elib.wait_until


# ---------------------------------------------------------------------------
# 1. The disk fills up

@pytest.fixture
def small_tmpfs(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0750", "tmpfs",
                    str(mnt)], check=True)
    yield str(mnt)
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk_drops_and_counts_then_resumes(sensor_run, tmp_path, small_tmpfs):
    s = e2elib.Sensor(str(tmp_path))
    s.out = os.path.join(small_tmpfs, "events.jsonl")
    filler = os.path.join(small_tmpfs, "filler")
    # 64 KiB of tmpfs, 56 KiB taken: room for a few events only.
    with open(filler, "wb") as f:
        f.write(b"\0" * (56 * 1024))
    s.start()
    pids = []
    try:
        for i in range(40):
            _calls(sensor_run, pids, "disk fills %d" % i)
            time.sleep(0.2)         # past the reader's 50 ms poll
            st = s.status()
            if st["output"]["write_errors"] >= 2:
                break
        st = s.status()
        assert st["output"]["write_errors"] >= 2, st["output"]
        assert st["pipeline"]["write_errors"] >= st["output"]["write_errors"]
        assert "No space left" in st["output"]["last_error"], st["output"]
        assert st["output"]["lines"] >= 1, "some events fitted before the disk was full"
        assert s.proc.poll() is None, "the sensor died on a full disk"
        human = subprocess.run([SENSOR, "status", "--status-socket", s.sock],
                               capture_output=True, text=True, timeout=10).stdout
        assert "write_errors" in human and "(!)" in human, human
        assert "cannot write events: No space left on device" in s.log_tail(400)
        # Other processes' calls may be written meanwhile: at least.
        assert len(_whole_lines(s.out)) >= st["output"]["lines"]

        # The sensor sees every process on the host: other traffic may
        # take the filler's 56 KiB at once, so the disk grows as well.
        os.unlink(filler)
        subprocess.run(["mount", "-o", "remount,size=64m", small_tmpfs], check=True)
        c = _calls(sensor_run, pids, "disk has room again")
        got = EventLog(s.out).wait_pid(c.pid, 2)
        assert len(got) == 2, s.log_tail()
        assert "writing events again" in s.log_tail(400)
    finally:
        assert s.stop() == 0, s.log_tail()
    lines = _whole_lines(s.out)
    assert len({e["event_id"] for e in lines}) == len(lines)


def test_replay_full_disk_counts_every_line(small_tmpfs):
    """replay holds lines for one write(2): a block the disk refuses is
    counted line by line, and the summary says how many were lost."""
    cap = os.path.join(os.path.dirname(__file__), "..", "fixtures", "captures",
                       "interleaved.cap")
    out = os.path.join(small_tmpfs, "events.jsonl")
    with open(os.path.join(small_tmpfs, "filler"), "wb") as f:
        f.write(b"\0" * (64 * 1024))
    p = subprocess.run([SENSOR, "replay", cap, "--output", out], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "18 ai.request and 18 ai.response events" in p.stderr, p.stderr
    assert "cannot write events: No space left on device" in p.stderr, p.stderr
    assert "replay: 36 event lines not written (output.write_errors)" in p.stderr, p.stderr
    assert os.path.getsize(out) == 0


# ---------------------------------------------------------------------------
# 2. The events file is deleted

def test_deleted_file_and_sighup_gives_a_new_file(sensor_run, tmp_path):
    s = e2elib.Sensor(str(tmp_path)).start()
    pids = []
    try:
        c1 = _calls(sensor_run, pids, "before the delete")
        assert len(EventLog(s.out).wait_pid(c1.pid, 2)) == 2
        os.unlink(s.out)
        s.proc.send_signal(signal.SIGHUP)
        _wait(lambda: os.path.exists(s.out), 5, "SIGHUP made no new file")
        c2 = _calls(sensor_run, pids, "after the delete and SIGHUP")
        assert len(EventLog(s.out).wait_pid(c2.pid, 2)) == 2, s.log_tail()
    finally:
        assert s.stop() == 0, s.log_tail()
    got = {e["process"]["pid"] for e in _whole_lines(s.out)}
    assert c2.pid in got and c1.pid not in got


def test_deleted_file_without_sighup_is_recreated(sensor_run, tmp_path):
    """Without SIGHUP the sensor would write on into the unlinked inode
    (invisible, holding its space until exit).  The once-a-second
    housekeeping sees the link count drop to 0 and opens a new file at
    the path.  A rename is left alone (logrotate's window before its
    SIGHUP); test_sensor_lifecycle.py covers rename + SIGHUP."""
    s = e2elib.Sensor(str(tmp_path)).start()
    pids = []
    try:
        c1 = _calls(sensor_run, pids, "before the silent delete")
        assert len(EventLog(s.out).wait_pid(c1.pid, 2)) == 2
        os.unlink(s.out)
        _wait(lambda: s.status()["output"]["reopens"] == 1, 5,
              "the deleted file was not noticed")
        assert os.path.exists(s.out)
        c2 = _calls(sensor_run, pids, "after the silent delete")
        assert len(EventLog(s.out).wait_pid(c2.pid, 2)) == 2, s.log_tail()
        assert "was deleted; writing to a new one" in s.log_tail(200)
        # A rename alone changes nothing: events follow the renamed file.
        os.rename(s.out, s.out + ".moved")
        time.sleep(1.5)
        c3 = _calls(sensor_run, pids, "after a rename without SIGHUP")
        assert len(EventLog(s.out + ".moved").wait_pid(c3.pid, 2)) == 2
        assert not os.path.exists(s.out)
        assert s.status()["output"]["reopens"] == 1
    finally:
        assert s.stop() == 0, s.log_tail()


# ---------------------------------------------------------------------------
# 3. A client killed in the middle of a streamed answer

SLOW_SERVER = textwrap.dedent('''\
    """An OpenAI-compatible SSE server that sends three text chunks, then
    hangs: the test kills its client in the middle of the stream."""
    import json, socket, ssl, sys, threading, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *a):
            pass
        def chunk(self, obj):
            data = ("data: " + json.dumps(obj) + "\\n\\n").encode()
            self.wfile.write(b"%x\\r\\n%s\\r\\n" % (len(data), data))
            self.wfile.flush()
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            base = {"id": "chatcmpl-slow", "object": "chat.completion.chunk",
                    "created": 1700000000, "model": "slow-model"}
            self.chunk(dict(base, choices=[{"index": 0, "finish_reason": None,
                                            "delta": {"role": "assistant", "content": ""}}]))
            for piece in ("Partial ", "reply ", "seen"):
                time.sleep(0.05)
                self.chunk(dict(base, choices=[{"index": 0, "finish_reason": None,
                                                "delta": {"content": piece}}]))
            time.sleep(60)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()
''')

SLOW_CLIENT = textwrap.dedent('''\
    import http.client, json, os, ssl, sys
    ctx = ssl.create_default_context(cafile=os.environ["OISP_CA"])
    conn = http.client.HTTPSConnection("localhost", int(sys.argv[1]), context=ctx)
    body = json.dumps({"model": "slow-model", "stream": True,
                       "messages": [{"role": "user", "content": "killed mid-stream"}]})
    conn.request("POST", "/v1/chat/completions", body=body, headers={
        "Authorization": "Bearer sk-test-slow-0123456789",
        "Content-Type": "application/json"})
    r = conn.getresponse()
    while True:
        line = r.fp.readline()
        if not line:
            break
        if line.startswith(b"data: "):
            print(line.decode().strip(), flush=True)
''')


def test_client_killed_mid_stream_gives_a_partial_response(sensor_run, tmp_path):
    (tmp_path / "slow_server.py").write_text(SLOW_SERVER)
    (tmp_path / "slow_client.py").write_text(SLOW_CLIENT)
    tls = sensor_run.server.tls
    srv = subprocess.Popen([e2elib.PYTHON, str(tmp_path / "slow_server.py"), tls["cert"],
                            tls["key"]], stdout=subprocess.PIPE, text=True,
                           stdin=subprocess.DEVNULL, preexec_fn=e2elib._die_with_parent)
    os.makedirs(str(tmp_path / "sensor"))
    s = e2elib.Sensor(str(tmp_path / "sensor")).start()
    try:
        port = int(srv.stdout.readline())
        c = e2elib.Client(sensor_run.server,
                          [e2elib.PYTHON, str(tmp_path / "slow_client.py"), str(port)])
        sensor_run.known_pids.add(c.pid)
        seen = []
        deadline = time.monotonic() + 20
        while len(seen) < 4:
            assert time.monotonic() < deadline, seen
            line = c.proc.stdout.readline()
            assert line, c.proc.stderr.read()
            seen.append(line)
        assert "seen" in seen[-1]
        c.kill()                    # SIGKILL, the stream still open
        assert c.proc.returncode == -signal.SIGKILL
        evs = EventLog(s.out).wait_pid(c.pid, 2)
        assert len(evs) == 2, s.log_tail()
        q, r = e2elib.pairs(evs)[0]
    finally:
        e2elib.stop_process(srv)
        assert s.stop() == 0, s.log_tail()
    assert q["data"]["streaming"] is True
    assert q["confidence"]["completeness"] == "full"
    assert r["event_type"] == "ai.response"
    assert r["confidence"]["completeness"] == "partial", r["confidence"]
    rd = r["data"]
    assert rd["status_code"] == 200
    assert rd["choices"][0]["message"]["content"] == "Partial reply seen", rd
    assert "finish_reason" not in rd or rd["finish_reason"] in (None, "unknown"), rd


# ---------------------------------------------------------------------------
# 4. The sensor is SIGKILLed under load and started again

def _perf_events_of(pid):
    p = subprocess.run(["bpftool", "perf", "list", "-j"], capture_output=True,
                       text=True, timeout=30, check=True)
    return [e for e in json.loads(p.stdout or "[]") if e["pid"] == pid]


def _uprobe_links_of(pid):
    """Ids of the uprobe_multi links process @pid holds."""
    return [int(l["link_id"]) for l in e2elib.bpf_links_of(pid)
            if l["link_type"] in ("uprobe_multi", "uretprobe_multi")]


def _links():
    p = subprocess.run(["bpftool", "link", "list", "-j"], capture_output=True,
                       text=True, timeout=30, check=True)
    return {l["id"] for l in json.loads(p.stdout or "[]")}


def test_sigkill_under_load_then_restart(sensor_run, tmp_path):
    s1 = e2elib.Sensor(str(tmp_path)).start()
    pids, stop = [], threading.Event()
    # uprobe_multi links (this kernel), or perf-event uprobes (older ones).
    links = _uprobe_links_of(s1.proc.pid)
    mine = _perf_events_of(s1.proc.pid)
    assert links or [e for e in mine if e["fd_type"] == "uprobe"], mine

    def load():
        i = 0
        while not stop.is_set():
            _calls(sensor_run, pids, "load %d" % i)
            i += 1

    t = threading.Thread(target=load)
    t.start()
    try:
        _wait(lambda: len(EventLog(s1.out).refresh()) >= 6, 30, "no load")
        s1.proc.kill()
        s1.proc.wait(10)
    finally:
        stop.set()
        t.join(60)
    assert s1.proc.returncode == -signal.SIGKILL
    # The kernel closed the dead sensor's descriptors: no probe of it is left.
    assert _perf_events_of(s1.proc.pid) == []
    assert _links() & set(links) == set()
    before = _whole_lines(s1.out)
    assert before

    s2 = e2elib.Sensor(str(tmp_path)).start()     # same output, socket, lock
    try:
        c = _calls(sensor_run, pids, "after the restart")
        assert len(EventLog(s2.out).wait_pid(c.pid, 2)) == 2, s2.log_tail()
    finally:
        assert s2.stop() == 0, s2.log_tail()
    lines = _whole_lines(s2.out)
    assert lines[:len(before)] == before
    ids = [e["event_id"] for e in lines]
    assert len(set(ids)) == len(ids), "duplicated event_id"
    assert c.pid in {e["process"]["pid"] for e in lines[len(before):]}
    assert _perf_events_of(s2.proc.pid) == []


# ---------------------------------------------------------------------------
# 5. One sensor at a time

def _popen_sensor(workdir, sock, out):
    log = open(os.path.join(workdir, os.path.basename(sock) + ".log"), "w")
    p = subprocess.Popen([SENSOR, "run", "--output", out, "--status-socket", sock,
                          "--log-level", "info"], stdout=log, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, preexec_fn=e2elib._die_with_parent)
    p.log_path = log.name
    log.close()
    return p


def _ready(sock):
    return subprocess.run([SENSOR, "status", "--json", "--status-socket", sock],
                          capture_output=True, timeout=10).returncode == 0


@pytest.mark.parametrize("round_", range(3))
def test_two_sensors_started_at_once(tmp_path, round_):
    d = str(tmp_path)
    socks = [os.path.join(d, "run", n) for n in ("a.sock", "b.sock")]
    procs = [_popen_sensor(d, socks[i], os.path.join(d, "ev%d.jsonl" % i)) for i in (0, 1)]
    try:
        _wait(lambda: any(p.poll() is not None for p in procs), 20,
              "neither sensor refused")
        loser = [i for i, p in enumerate(procs) if p.poll() is not None]
        assert len(loser) == 1, [p.returncode for p in procs]
        lose, win = loser[0], 1 - loser[0]
        assert procs[lose].returncode == 1
        msg = open(procs[lose].log_path).read()
        assert "another oisp-sensor is running: pid %d holds %s" % (
            procs[win].pid, os.path.join(d, "run", LOCK)) in msg, msg
        _wait(lambda: _ready(socks[win]), 20, "the winner never became ready")
        assert procs[win].poll() is None
        assert not os.path.exists(socks[lose])
        assert not os.path.exists(os.path.join(d, "ev%d.jsonl" % lose))
    finally:
        for p in procs:
            e2elib.stop_process(p)
    assert procs[win].returncode == 0


def test_second_sensor_with_another_socket_refused(sensor_run, tmp_path):
    d = str(tmp_path)
    first = e2elib.Sensor(d).start()
    other_sock = os.path.join(d, "other.sock")
    other_out = os.path.join(d, "other.jsonl")
    try:
        p = subprocess.run([SENSOR, "run", "--output", other_out,
                            "--status-socket", other_sock],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 1
        assert "another oisp-sensor is running: pid %d holds %s" % (
            first.proc.pid, os.path.join(d, LOCK)) in p.stderr, p.stderr
        assert not os.path.exists(other_sock) and not os.path.exists(other_out)
        assert first.status() is not None, "the first sensor was disturbed"
        c = curl_client(sensor_run.server, "chat", "one sensor, one event pair")
        sensor_run.known_pids.add(c.pid)
        assert len(EventLog(first.out).wait_pid(c.pid, 2)) == 2
    finally:
        assert first.stop() == 0, first.log_tail()
    # The lock died with the first sensor: the second may start now.
    second = e2elib.Sensor(d)
    second.sock = other_sock
    second.start()
    assert second.stop() == 0, second.log_tail()

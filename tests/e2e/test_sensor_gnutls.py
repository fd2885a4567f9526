"""The sensor against GnuTLS (libgnutls.so.30): gnutls-cli (gnutls-bin)
and a program linked with libcurl-gnutls.so.4 (libcurl3-gnutls), both
making AI calls to the fixture server.

gnutls-cli reads the raw HTTP request on stdin and prints what the
server answers; the request says Connection: close so that it exits when
the server has answered (the server closes without close_notify, which
gnutls-cli reports with exit status 1).  clients/curl_gnutls.c is built
here against libcurl-gnutls and prints each body with curl_client.sh's
-w line."""
import json
import os
import re
import shutil
import socket
import subprocess
import urllib.request

import pytest

import e2elib
from e2elib import EventLog, check_pair, curl_transfers, expected, one_call, sse_text

GNUTLS_CLI = "/usr/bin/gnutls-cli"
LIBCURL_GNUTLS = "/usr/lib/x86_64-linux-gnu/libcurl-gnutls.so.4"
WRITE_ENTRY = e2elib.SENSOR_CONFIG + "capture:\n  write_probe: entry\n"
TARGETED = e2elib.SENSOR_CONFIG + """\
capture:
  targets:
    comm: ["curl_gnutls"]
"""


@pytest.fixture(scope="module")
def curl_gnutls(tmp_path_factory):
    """clients/curl_gnutls.c, built against libcurl-gnutls."""
    exe = str(tmp_path_factory.mktemp("gnutls") / "curl_gnutls")
    subprocess.run(["cc", "-O2", "-o", exe, os.path.join(e2elib.CLIENTS, "curl_gnutls.c"),
                    LIBCURL_GNUTLS], check=True, capture_output=True, text=True)
    ldd = subprocess.run(["ldd", exe], check=True, capture_output=True, text=True).stdout
    assert "libgnutls.so" in ldd and "libssl.so" not in ldd, ldd
    return exe


def chat_request(msg, stream=False):
    body = {"model": "gpt-4o-mini",
            "messages": [{"role": "system", "content": "You are terse."},
                         {"role": "user", "content": msg}],
            "temperature": 0.2, "max_tokens": 64}
    if stream:
        body.update(stream=True, stream_options={"include_usage": True})
    body = json.dumps(body)
    return ("POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
            "Authorization: Bearer sk-test-gnutls-cli-0123456789\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n"
            "Connection: close\r\n\r\n%s" % (len(body), body))


def start_cli(server):
    """gnutls-cli connected to api.openai.com, reading stdin."""
    return e2elib.Client(server, [GNUTLS_CLI, "--x509cafile", server.ca, "-p", "443",
                                  e2elib.OPENAI_HOST], stdin=True)


def finish_cli(c, request, seen=""):
    """Sends @request and reads all gnutls-cli prints until the server
    closes (@seen: what was read of it already); returns the HTTP
    response it printed."""
    c.proc.stdin.write(request)
    c.proc.stdin.flush()
    out = seen + c.proc.stdout.read()
    c.proc.stdin.close()
    c.proc.wait(30)
    err = c.proc.stderr.read()
    assert "Handshake was completed" in out, (out, err)
    assert "Server has terminated the connection" in err, err
    return out[out.index("HTTP/1.1 "):]


def http_body(resp):
    # text mode: the pipe's CRLFs arrive as newlines
    head, body = resp.split("\n\n", 1)
    return head, body


def run_curl_gnutls(sensor_run, exe, mode, msg, calls=1):
    c = e2elib.run_client(sensor_run.server, [exe, mode, msg])
    sensor_run.known_pids.add(c.pid)
    assert c.stderr.startswith("GnuTLS/"), c.stderr
    return c, sensor_run.events.wait_pid(c.pid, 2 * calls)


def gnutls_files(st):
    return [f for f in st["attach"]["list"] if "libgnutls.so" in f["path"]]


def test_libgnutls_is_attached(sensor_run, curl_gnutls):
    c, evs = run_curl_gnutls(sensor_run, curl_gnutls, "chat", "gnutls attached")
    st = sensor_run.sensor.status()
    files = gnutls_files(st)
    assert files, st["attach"]
    assert all(f["stack"] == "GnuTLS" for f in files), files
    assert all(f["stack"] == "OpenSSL" for f in st["attach"]["list"]
               if "libssl.so" in f["path"]), st["attach"]
    by_stack = st["capture_by_stack"]
    assert by_stack["gnutls"]["files_attached"] >= 1, by_stack
    assert by_stack["gnutls"]["calls"] >= 2, by_stack


def test_gnutls_cli_chat(sensor_run):
    msg = "gnutls-cli sensor chat"
    c = start_cli(sensor_run.server)
    sensor_run.known_pids.add(c.pid)
    resp = finish_cli(c, chat_request(msg))
    head, body = http_body(resp)
    assert head.startswith("HTTP/1.1 200 OK")
    evs = sensor_run.events.wait_pid(c.pid, 2)
    q, r = one_call(evs, msg)
    kw = expected(sensor_run.server, msg)
    check_pair(q, r, pid=c.pid, exe=GNUTLS_CLI, name="gnutls-cli", **kw)
    # what gnutls-cli printed is what the server sent
    got = json.loads(body)
    assert got["choices"][0]["message"]["content"] == kw["text"]
    assert r["data"]["provider_request_id"] == got["id"]
    assert len(evs) == 2


def test_gnutls_cli_stream(sensor_run):
    msg = "gnutls-cli sensor stream"
    c = start_cli(sensor_run.server)
    sensor_run.known_pids.add(c.pid)
    head, body = http_body(finish_cli(c, chat_request(msg, stream=True)))
    assert "text/event-stream" in head
    evs = sensor_run.events.wait_pid(c.pid, 2)
    q, r = one_call(evs, msg)
    kw = expected(sensor_run.server, msg)
    check_pair(q, r, pid=c.pid, exe=GNUTLS_CLI, **kw)
    # chunked: the SSE lines are intact between the chunk sizes
    text, usage = sse_text(body)
    assert text == kw["text"] and usage["completion_tokens"] == kw["completion_tokens"]


def test_gnutls_cli_started_before_the_sensor(sensor_run, tmp_path):
    """gnutls-cli connects (its libgnutls mapped, the handshake done)
    before a second sensor starts; that sensor finds it by its maps."""
    msg = "gnutls-cli started before the sensor"
    c = start_cli(sensor_run.server)
    sensor_run.known_pids.add(c.pid)
    seen = ""
    while "Simple Client Mode" not in seen:
        line = c.proc.stdout.readline()
        assert line, "gnutls-cli did not connect: " + c.proc.stderr.read()
        seen += line
    s = e2elib.Sensor(str(tmp_path)).start()
    try:
        assert any(f["processes"] >= 1 for f in gnutls_files(s.status())), s.status()
        head, body = http_body(finish_cli(c, chat_request(msg), seen))
        log = EventLog(s.out)
        q, r = one_call(log.wait_pid(c.pid, 2), msg)
        check_pair(q, r, pid=c.pid, **expected(sensor_run.server, msg))
        assert json.loads(body)["id"] == r["data"]["provider_request_id"]
    finally:
        assert s.stop() == 0, s.log_tail()


def check_curl_calls(sensor_run, c, evs, msgs):
    t = curl_transfers(c.stdout)
    assert len(t) == len(msgs) and len(evs) == 2 * len(msgs), (c.stdout, evs)
    for (body, info), msg in zip(t, msgs):
        assert info["http_code"] == 200
        q, r = one_call(evs, msg)
        kw = expected(sensor_run.server, msg)
        check_pair(q, r, pid=c.pid, body_bytes=info["size_upload"],
                   **{k: v for k, v in kw.items() if k != "body_bytes"})
        # the program's output is the server's answer, unchanged
        if kw["streaming"]:
            text, usage = sse_text(body)
            assert text == kw["text"] and usage["total_tokens"] == r["data"]["usage"]["total_tokens"]
        else:
            got = json.loads(body)
            assert got["choices"][0]["message"]["content"] == kw["text"]
            assert got["id"] == r["data"]["provider_request_id"]
    return t


def test_libcurl_gnutls_chat(sensor_run, curl_gnutls):
    msg = "libcurl-gnutls sensor chat"
    c, evs = run_curl_gnutls(sensor_run, curl_gnutls, "chat", msg)
    check_curl_calls(sensor_run, c, evs, [msg])


def test_libcurl_gnutls_stream(sensor_run, curl_gnutls):
    msg = "libcurl-gnutls sensor stream"
    c, evs = run_curl_gnutls(sensor_run, curl_gnutls, "stream", msg)
    check_curl_calls(sensor_run, c, evs, [msg])


def test_libcurl_gnutls_keepalive(sensor_run, curl_gnutls):
    """Two calls on one connection (one gnutls_session_t)."""
    msg = "libcurl-gnutls keepalive"
    c, evs = run_curl_gnutls(sensor_run, curl_gnutls, "keepalive", msg, calls=2)
    t = check_curl_calls(sensor_run, c, evs, [msg + " one", msg + " two"])
    assert [i["num_connects"] for _, i in t] == [1, 0]


def test_gnutls_deinit_ends_the_connection(sensor_run, curl_gnutls):
    """libcurl closes its connection with gnutls_deinit: the sensor drops
    that connection's state then (pipeline.connections_freed)."""
    before = sensor_run.sensor.status()["pipeline"]["connections_freed"]
    c, evs = run_curl_gnutls(sensor_run, curl_gnutls, "chat", "libcurl-gnutls deinit")
    assert len(evs) == 2
    e2elib.wait_until(
        lambda: sensor_run.sensor.status()["pipeline"]["connections_freed"] > before,
        5, "no gnutls_deinit record")


def _free_port():
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


def _listening(proc, port):
    assert proc.poll() is None, "gnutls-serv exited %d" % proc.returncode
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _read_until(c, text):
    seen = ""
    while text not in seen:
        line = c.proc.stdout.readline()
        assert line, "gnutls-cli ended before %r: %s" % (text, c.proc.stderr.read())
        seen += line


def test_ignored_connection_is_skipped_in_the_kernel(sensor_run):
    """gnutls-serv --echo reads requests: its connection is the server
    end, which the sensor ignores, and from then on the kernel counts its
    gnutls_record_recv and _send calls (skipped_calls) instead of copying
    them.  gnutls-cli, the client end, reads the echoed requests back."""
    sess = sensor_run.sensor
    port = _free_port()
    tls = sensor_run.server.tls
    srv = subprocess.Popen(["gnutls-serv", "--echo", "--x509certfile", tls["cert"],
                            "--x509keyfile", tls["key"], "-p", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           stdin=subprocess.DEVNULL, start_new_session=True,
                           preexec_fn=e2elib._die_with_parent)
    sensor_run.known_pids.add(srv.pid)
    c = None
    try:
        e2elib.wait_until(lambda: _listening(srv, port), 10, "gnutls-serv did not listen")
        c = e2elib.Client(sensor_run.server, [GNUTLS_CLI, "--x509cafile", sensor_run.server.ca,
                                              "-p", str(port), "localhost"], stdin=True)
        sensor_run.known_pids.add(c.pid)
        before = sess.status()
        c.proc.stdin.write("POST /first HTTP/1.1\r\nHost: localhost\r\n"
                           "Content-Length: 0\r\n\r\n")
        c.proc.stdin.flush()
        _read_until(c, "POST /first")
        e2elib.wait_until(lambda: sess.status()["capture"]["skipped_conns"] >
                          before["capture"]["skipped_conns"], 10,
                          "the server end was not handed to the kernel")
        mid = sess.status()
        c.proc.stdin.write("POST /second HTTP/1.1\r\nHost: localhost\r\n"
                           "Content-Length: 0\r\n\r\n")
        c.proc.stdin.flush()
        _read_until(c, "POST /second")
        # the server's recv and send of the second request, at least
        after = e2elib.wait_until(
            lambda: (lambda st: st if st["capture"]["skipped_calls"] >=
                     mid["capture"]["skipped_calls"] + 2 else None)(sess.status()),
            10, "the server end's calls were not skipped")
        by0, by1 = mid["capture_by_stack"]["gnutls"], after["capture_by_stack"]["gnutls"]
        assert by1["skipped_calls"] >= by0["skipped_calls"] + 2, (by0, by1)
        assert after["capture"]["lost_records"] == before["capture"]["lost_records"]
    finally:
        if c:
            c.kill()
        e2elib.stop_process(srv)
    assert sensor_run.events.by_pid(srv.pid) == []


def test_writes_at_entry(sensor_run, curl_gnutls, tmp_path):
    """capture.write_probe: entry.  gnutls_record_send's entry and the
    gnutls_record_send2 entry it jumps to are one write, taken once."""
    s = e2elib.Sensor(str(tmp_path), config=WRITE_ENTRY).start()
    try:
        log = EventLog(s.out)
        msg = "libcurl-gnutls entry mode"
        c = e2elib.run_client(sensor_run.server, [curl_gnutls, "keepalive", msg])
        sensor_run.known_pids.add(c.pid)
        evs = log.wait_pid(c.pid, 4)
        check_curl_calls(sensor_run, c, evs, [msg + " one", msg + " two"])
        cli = start_cli(sensor_run.server)
        sensor_run.known_pids.add(cli.pid)
        head, body = http_body(finish_cli(cli, chat_request(msg + " cli")))
        q, r = one_call(log.wait_pid(cli.pid, 2), msg + " cli")
        check_pair(q, r, pid=cli.pid, **expected(sensor_run.server, msg + " cli"))
        # the reads only (gnutls_record_recv and _recv_seq) have a return probe
        rets = [int(l["uprobe_cnt"]) for l in e2elib.bpf_links_of(s.proc.pid)
                if l["link_type"] == "uretprobe_multi"]
        assert 2 in rets, rets
        st = s.status()["capture"]
        assert st["lost_records"] == 0 and st["read_faults"] == 0 and st["missed_calls"] == 0
    finally:
        assert s.stop() == 0, s.log_tail()


def test_metrics_by_stack(sensor_run, curl_gnutls, tmp_path):
    """/metrics: the attach counts and the capture counters of the probes
    have one series per TLS stack, labelled stack; status has the same
    numbers under capture_by_stack, and the totals under capture."""
    port = _free_port()
    s = e2elib.Sensor(str(tmp_path), extra_args=[
        "--metrics", "--metrics-address", "127.0.0.1", "--metrics-port", str(port)]).start()
    try:
        log = EventLog(s.out)
        c = e2elib.run_client(sensor_run.server, [curl_gnutls, "chat", "gnutls metrics"])
        o = e2elib.curl_client(sensor_run.server, "chat", "openssl metrics")
        sensor_run.known_pids.update((c.pid, o.pid))
        assert len(log.wait_pid(c.pid, 2)) == 2 and len(log.wait_pid(o.pid, 2)) == 2
        st = s.status()
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
            text = r.read().decode()
    finally:
        assert s.stop() == 0, s.log_tail()
    samples = {}
    for line in text.splitlines():
        m = re.match(r'(oisp_sensor_capture_\w+)(\{[^}]*\})? (\S+)$', line)
        if m:
            samples[(m.group(1), m.group(2) or "")] = float(m.group(3))
    by = st["capture_by_stack"]
    # one row per TLS stack the sensor knows, attached or not
    assert set(by) == {"openssl", "gnutls", "go", "boringssl", "rustls", "openssl_static"}, by
    for stack in ("openssl", "gnutls"):
        lab = '{stack="%s"}' % stack
        # two calls at least each way; the metrics were read after status
        assert samples[("oisp_sensor_capture_calls_total", lab)] >= by[stack]["calls"] >= 2
        assert samples[("oisp_sensor_capture_files_attached", lab)] == \
            by[stack]["files_attached"] >= 1
        assert ("oisp_sensor_capture_attach_errors", lab) in samples
        assert ("oisp_sensor_capture_calls_total", "") not in samples
    assert st["capture"]["files_attached"] == sum(b["files_attached"] for b in by.values())
    assert st["capture"]["calls"] == sum(b["calls"] for b in by.values())
    # not by stack: one series
    assert ("oisp_sensor_capture_lost_control_total", "") in samples
    assert ("oisp_sensor_capture_procs_traced", "") in samples


def test_container_libgnutls(sensor_run, curl_gnutls):
    """A container-style process (own PID and mount namespaces, chrooted
    into a root with its own copy of libgnutls and libcurl-gnutls) is
    captured from its first call, as test_container.py does for libssl."""
    from test_container import MKROOTFS, STARTUP, run_in_container
    root = os.path.join(os.path.dirname(sensor_run.sensor.out), "container-gnutls")
    p = subprocess.run(["sh", MKROOTFS, root, "sh", "sleep", curl_gnutls],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    try:
        shutil.copy(sensor_run.server.ca, os.path.join(root, "etc", "oisp-ca.pem"))
        shutil.copy(sensor_run.server.hosts, os.path.join(root, "etc", "hosts"))
        msg = "libcurl-gnutls in a container"
        unshare_pid, child, out = run_in_container(
            root, ["/bin/sh", "-c", 'sleep %s && exec "$@"' % STARTUP, "sh",
                   os.path.realpath(curl_gnutls), "chat", msg],
            {"OISP_CA": "/etc/oisp-ca.pem"})
        [(body, info)] = curl_transfers(out)
        evs = sensor_run.events.wait(lambda e: msg in json.dumps(e), 2, timeout=10)
        q, r = one_call(evs, msg)
        pid = q["process"]["pid"]
        sensor_run.known_pids.add(pid)
        assert pid != unshare_pid and (child is None or pid == child)
        check_pair(q, r, pid=pid, **expected(sensor_run.server, msg,
                                             provider_request_id=json.loads(body)["id"]))
        # the container's own libgnutls, reached through the process
        st = os.stat(os.path.join(root, os.path.realpath(
            "/usr/lib/x86_64-linux-gnu/libgnutls.so.30").lstrip("/")))
        [f] = [f for f in sensor_run.sensor.status()["attach"]["list"]
               if (f["dev"], f["ino"]) == (st.st_dev, st.st_ino)]
        assert f["stack"] == "GnuTLS" and f["path"].startswith("/proc/"), f
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_targeted_mode(sensor_run, curl_gnutls, tmp_path):
    """Targeted mode: libgnutls is attached for the selected process only;
    gnutls-cli, not selected, makes its call unseen by this sensor."""
    s = e2elib.Sensor(str(tmp_path), config=TARGETED).start()
    try:
        log = EventLog(s.out)
        cli = start_cli(sensor_run.server)
        sensor_run.known_pids.add(cli.pid)
        finish_cli(cli, chat_request("gnutls-cli not selected"))
        msg = "libcurl-gnutls selected"
        c = e2elib.run_client(sensor_run.server, [curl_gnutls, "keepalive", msg])
        sensor_run.known_pids.add(c.pid)
        evs = log.wait_pid(c.pid, 4)
        check_curl_calls(sensor_run, c, evs, [msg + " one", msg + " two"])
        # the shared sensor saw gnutls-cli: the call was made and captured there
        assert len(sensor_run.events.wait_pid(cli.pid, 2)) == 2
        assert log.by_pid(cli.pid) == []
        st = s.status()
        assert st["attach"]["targeted"] is True
        assert st["capture_by_stack"]["gnutls"]["calls"] >= 4
    finally:
        assert s.stop() == 0, s.log_tail()

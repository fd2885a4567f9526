"""The sensor against curl speaking HTTP/2: curl negotiates h2 by ALPN,
as it does with the providers, here with nghttpx (Debian's nghttp2-proxy)
in front of the fixture server."""
import os
import shutil
import socket
import subprocess
import time
import types

import pytest

import e2elib

NGHTTPX = shutil.which("nghttpx") or "/usr/sbin/nghttpx"
W = '\n{"curl":{"http_code":%{http_code},"http_version":"%{http_version}"}}\n'


@pytest.fixture(scope="module")
def h2front(server, tmp_path_factory):
    """nghttpx on port 443 of a loopback address of its own, which the
    clients' hosts file gives as api.openai.com: h2 (and http/1.1) by ALPN
    in front, TLS to the fixture server behind.  Returns what a Client
    needs of a server (hosts, ca, other_base)."""
    d = tmp_path_factory.mktemp("nghttpx")
    ip = server.openai_ip.rsplit(".", 1)[0] + ".3"
    port = 443
    hosts = os.path.join(d, "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.1\tlocalhost\n%s\t%s\n" % (ip, e2elib.OPENAI_HOST))
    log = open(os.path.join(d, "nghttpx.log"), "w")
    proc = subprocess.Popen(
        [NGHTTPX, "--conf=/dev/null", "--workers=1", "--no-ocsp",
         "--frontend=%s,%d" % (ip, port),
         "--backend=%s,443;;tls;sni=%s" % (server.openai_ip, e2elib.OPENAI_HOST),
         "--cacert=" + server.ca, "--accesslog-file=/dev/null",
         "--errorlog-file=/dev/stderr",
         server.tls["key"], server.tls["cert"]],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL,
        start_new_session=True, preexec_fn=e2elib._die_with_parent)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection((ip, port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None, open(log.name).read()
            assert time.monotonic() < deadline, "nghttpx did not listen"
            time.sleep(0.05)
    yield types.SimpleNamespace(hosts=hosts, ca=server.ca, other_base=server.other_base)
    e2elib.stop_process(proc)
    log.close()


def curl_h2(sensor_run, front, msg, stream=False):
    body = ('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"%s"}],'
            '"max_tokens":64%s}' % (msg, ',"stream":true,"stream_options":'
                                    '{"include_usage":true}' if stream else ""))
    argv = ["curl", "--http2", "-sS", "--cacert", sensor_run.server.ca, "-w", W,
            "-H", "Authorization: Bearer sk-test-curl-0123456789",
            "-H", "Content-Type: application/json", "-d", body]
    if stream:
        argv.append("-N")
    c = e2elib.Client(front, argv + ["https://%s/v1/chat/completions" % e2elib.OPENAI_HOST])
    sensor_run.known_pids.add(c.pid)
    c.wait()
    assert c.results()[-1]["curl"] == {"http_code": 200, "http_version": "2"}, c.stdout
    evs = sensor_run.events.wait_pid(c.pid, 2)
    return c, evs


def test_curl_http2_chat(sensor_run, h2front):
    msg = "curl over h2 literal"
    c, evs = curl_h2(sensor_run, h2front, msg)
    q, r = e2elib.one_call(evs, msg)
    assert q["event_type"] == "ai.request" and r["event_type"] == "ai.response"
    assert q["process"]["pid"] == c.pid
    qd, rd = q["data"], r["data"]
    assert qd["provider"]["name"] == "openai"
    assert qd["provider"]["endpoint"] == e2elib.OPENAI_HOST
    assert qd["model"]["id"] == "gpt-4o-mini"
    assert qd["messages"][-1]["content"] == msg
    assert rd["request_id"] == qd["request_id"]
    assert rd["status_code"] == 200 and rd["success"] is True
    assert rd["usage"]["total_tokens"] > 0
    assert rd["choices"][0]["message"]["content"] == "Echo: " + msg
    assert r["confidence"]["completeness"] == "full"
    assert len(evs) == 2


def test_curl_http2_stream(sensor_run, h2front):
    msg = "curl over h2 streamed"
    c, evs = curl_h2(sensor_run, h2front, msg, stream=True)
    q, r = e2elib.one_call(evs, msg)
    rd = r["data"]
    assert q["data"]["provider"]["name"] == "openai"
    assert rd["streaming"] is True
    assert rd["choices"][0]["message"]["content"] == "Echo: " + msg
    assert rd["usage"]["total_tokens"] > 0
    assert r["confidence"]["completeness"] == "full"

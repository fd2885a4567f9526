"""The sensor against real HTTP/2 clients: curl with its defaults (h2 by
ALPN, as with every provider), curl --parallel multiplexing calls on one
connection, Node's built-in http2 client and Python httpx with
http2=True, here with nghttpx (Debian's nghttp2-proxy) in front of the
fixture server.  Each test checks the client's own output (the fixture's
answer, with the sensor attached) and then the events, field by field as
over HTTP/1.1 (e2elib.check_pair against what the fixture server logged)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import types

import pytest

import e2elib
import fixture_model as fm
from e2elib import check_pair, expected, one_call

NGHTTPX = shutil.which("nghttpx") or "/usr/sbin/nghttpx"
W = '\n{"curl":{"http_code":%{http_code},"http_version":"%{http_version}"}}\n'


def nghttpx(server, d, octet, extra=()):
    """nghttpx on port 443 of 127.X.0.@octet (X: the fixture server's),
    which the clients' hosts file gives as api.openai.com: h2 (and
    http/1.1) by ALPN in front, TLS to the fixture server behind, @extra
    options.  Yields what a Client needs of a server (hosts, ca,
    other_base)."""
    ip = server.openai_ip.rsplit(".", 1)[0] + ".%d" % octet
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
         "--errorlog-file=/dev/stderr", *extra,
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


@pytest.fixture(scope="module")
def h2front(server, tmp_path_factory):
    """nghttpx with its defaults in front of the fixture server."""
    yield from nghttpx(server, tmp_path_factory.mktemp("nghttpx"), 3)


@pytest.fixture(scope="module")
def h2front_odd(server, tmp_path_factory):
    """nghttpx framing as few servers do, but RFC 9113 allows: every frame
    it sends padded (DATA and HEADERS, up to 255 bytes), its HPACK
    encoder's dynamic table cut to 256 bytes (a table size update, then
    constant eviction), and 4 KiB flow-control windows for what the
    client sends (request bodies in small DATA frames, each waiting for a
    WINDOW_UPDATE)."""
    yield from nghttpx(server, tmp_path_factory.mktemp("nghttpx-odd"), 4, [
        "--padding=255", "--frontend-http2-encoder-dynamic-table-size=256",
        "--frontend-http2-window-size=4096",
        "--frontend-http2-connection-window-size=4096"])


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


# ---------------------------------------------------------------------------
# Real clients with their defaults

CURL = "/usr/bin/curl"
NODE_H2 = os.path.join(e2elib.CLIENTS, "node_h2.mjs")
AUTH = "Authorization: Bearer sk-test-curl-0123456789"
CT = "Content-Type: application/json"
# After each transfer's body (e2elib.curl_transfers reads it back).
WX = ('\n{"curl":{"http_code":%{http_code},"http_version":"%{http_version}",'
      '"num_connects":%{num_connects},"local_port":%{local_port},'
      '"size_upload":%{size_upload},"content_encoding":"%header{content-encoding}",'
      '"content_type":"%{content_type}","file":"%{filename_effective}"}}\n')
CHAT_URL = "https://%s/v1/chat/completions" % e2elib.OPENAI_HOST


@pytest.fixture(scope="module")
def front(h2front, tmp_path_factory):
    """h2front, with api.anthropic.com on nghttpx's address too (the
    fixture server answers every API on every listener)."""
    with open(h2front.hosts) as f:
        text = f.read()
    [ip] = [l.split()[0] for l in text.splitlines() if l.split()[1:] == [e2elib.OPENAI_HOST]]
    hosts = os.path.join(tmp_path_factory.mktemp("h2hosts"), "hosts")
    with open(hosts, "w") as f:
        f.write(text + "%s\t%s\n" % (ip, e2elib.ANTHROPIC_HOST))
    return types.SimpleNamespace(hosts=hosts, ca=h2front.ca, other_base=h2front.other_base)


@pytest.fixture(params=["nghttpx", "odd"])
def anyfront(request):
    """front, then h2front_odd; .name tells which (for distinct prompts)."""
    f = request.getfixturevalue({"nghttpx": "front", "odd": "h2front_odd"}[request.param])
    return types.SimpleNamespace(**vars(f), name=request.param)


def chat_body(msg, stream=False):
    b = {"model": "gpt-4o-mini", "messages": [{"role": "system", "content": "You are terse."},
                                              {"role": "user", "content": msg}],
         "temperature": 0.2, "max_tokens": 64}
    if stream:
        b.update(stream=True, stream_options={"include_usage": True})
    return json.dumps(b)


def curl_args(ca, msg, stream=False, extra=()):
    """One transfer's options: a chat call with @msg."""
    return (["--cacert", ca, "-sS", "-w", WX, "-H", AUTH, "-H", CT] + list(extra) +
            (["-N"] if stream else []) + ["-d", chat_body(msg, stream), CHAT_URL])


def run(sensor_run, front, argv, calls):
    c = e2elib.Client(front, argv)
    sensor_run.known_pids.add(c.pid)
    c.wait()
    return c, sensor_run.events.wait_pid(c.pid, 2 * calls)


def reply_of(body, stream):
    """(id, text, usage) of a chat completion body as curl printed it."""
    if stream:
        text, usage = e2elib.sse_text(body)
        ids = {json.loads(l[6:])["id"] for l in body.split("\n")
               if l.startswith("data: {")}
        assert len(ids) == 1, ids
        return ids.pop(), text, usage
    o = json.loads(body)
    return o["id"], o["choices"][0]["message"]["content"], o["usage"]


def check_curl_call(sensor_run, c, evs, msg, body, info, stream, **kw):
    """curl's own output is the fixture's answer to @msg over h2, and the
    sensor's pair for @msg says the same."""
    assert info["http_code"] == 200 and info["http_version"] == "2", info
    rid, text, usage = reply_of(body, stream)
    assert text == "Echo: " + msg
    q, r = one_call(evs, msg)
    qd, rd = check_pair(q, r, pid=c.pid, exe=CURL, name="curl", **kw,
                        **expected(sensor_run.server, msg, provider_request_id=rid))
    assert qd["http"]["host"] == e2elib.OPENAI_HOST
    assert rd["usage"]["total_tokens"] == usage["total_tokens"]
    assert rd["http"]["content_type"] == info["content_type"]
    return qd, rd


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_curl_defaults_negotiate_h2(sensor_run, front, stream):
    """No --http2: curl asks for h2 by ALPN, as it does with the providers."""
    msg = "curl h2 by alpn %s" % ("sse" if stream else "json")
    argv = [CURL] + curl_args(front.ca, msg, stream)
    assert "--http2" not in argv
    c, evs = run(sensor_run, front, argv, 1)
    [(body, info)] = e2elib.curl_transfers(c.stdout)
    qd, rd = check_curl_call(sensor_run, c, evs, msg, body, info, stream)
    assert qd["streaming"] is stream and rd["streaming"] is stream
    assert len(evs) == 2


@pytest.mark.parametrize("enc,stream", [("gzip", False), ("br", False), ("gzip", True),
                                        ("br", True)],
                         ids=["gzip", "br", "gzip-sse", "br-sse"])
def test_curl_h2_compressed(sensor_run, front, enc, stream):
    """--compressed: the fixture compresses (nghttpx passes
    content-encoding through), curl and the sensor each inflate it."""
    msg = "curl h2 compressed %s %s" % (enc, "sse" if stream else "json")
    argv = [CURL] + curl_args(front.ca, msg, stream,
                              ["--compressed", "-H", "x-test-encoding: " + enc])
    c, evs = run(sensor_run, front, argv, 1)
    [(body, info)] = e2elib.curl_transfers(c.stdout)
    assert info["content_encoding"] == enc, info
    qd, rd = check_curl_call(sensor_run, c, evs, msg, body, info, stream, first_token_ms=0)
    assert e2elib.server_request(sensor_run.server, msg)["resp_encoding"] == enc
    assert rd["http"]["content_encoding"] == enc
    assert len(evs) == 2


def test_curl_h2_interim_100_continue(sensor_run, anyfront):
    """Expect: 100-continue: the response stream starts with an interim
    header block (:status 100, which nghttpx relays), then the final one;
    the event has the final status and body."""
    msg = "curl h2 expect 100-continue via " + anyfront.name
    argv = [CURL, "-v"] + curl_args(anyfront.ca, msg, extra=["-H", "Expect: 100-continue"])
    c, evs = run(sensor_run, anyfront, argv, 1)
    assert "< HTTP/2 100" in c.stderr, c.stderr
    [(body, info)] = e2elib.curl_transfers(c.stdout)
    check_curl_call(sensor_run, c, evs, msg, body, info, False)
    assert len(evs) == 2


def test_curl_h2_header_block_in_continuation_frames(sensor_run, front):
    """A 40 000-character request header: curl's header block is larger
    than a frame (16 KiB), so it goes as HEADERS then CONTINUATION."""
    msg = "curl h2 continuation"
    big = "".join("%08x" % (i * 2654435761 % 2**32) for i in range(5000))
    argv = [CURL] + curl_args(front.ca, msg, extra=["-H", "x-trace: " + big])
    c, evs = run(sensor_run, front, argv, 1)
    [(body, info)] = e2elib.curl_transfers(c.stdout)
    check_curl_call(sensor_run, c, evs, msg, body, info, False)
    got = {k.lower(): v for k, v in e2elib.server_request(sensor_run.server, msg)["headers"]}
    assert got.get("x-trace") == big
    assert len(evs) == 2


def test_curl_h2_big_request_and_response(sensor_run, anyfront):
    """105 000-byte request and response bodies: many DATA frames each way,
    past the initial flow-control windows, so that the peers' SETTINGS,
    WINDOW_UPDATEs and the frames of one stream take turns."""
    b = json.loads(chat_body(e2elib.BIG_TEXT))
    b["max_tokens"] = 20000
    argv = [CURL, "--cacert", anyfront.ca, "-sS", "-w", WX, "-H", AUTH, "-H", CT,
            "-d", json.dumps(b), CHAT_URL]
    c, evs = run(sensor_run, anyfront, argv, 1)
    [(body, info)] = e2elib.curl_transfers(c.stdout)
    assert info["size_upload"] > 105000
    assert info["http_code"] == 200 and info["http_version"] == "2", info
    rid, text, _ = reply_of(body, False)
    assert text == "Echo: " + e2elib.BIG_TEXT
    q, r = one_call(evs, "w00001 w00002")
    check_pair(q, r, pid=c.pid, exe=CURL, provider="openai", endpoint=e2elib.OPENAI_HOST,
               model="gpt-4o-mini", resp_model="gpt-4o-mini-2024-07-18", request_type="chat",
               streaming=False,
               messages=[{"role": "system", "content": "You are terse."},
                         {"role": "user", "content": e2elib.BIG_TEXT}],
               text="Echo: " + e2elib.BIG_TEXT, prompt_tokens=15003, completion_tokens=15001,
               body_bytes=info["size_upload"], provider_request_id=rid)
    assert len(evs) == 2


def test_curl_parallel_streams_on_one_connection(sensor_run, anyfront, tmp_path):
    """Six calls with --parallel: curl waits for the first connection's
    ALPN and multiplexes them all as streams of it (one connect, one local
    port); streamed and plain replies interleave on it.  Each response is
    paired with its own request: every reply echoes its own prompt."""
    n = 6
    msgs = ["curl h2 parallel %d of %d via %s" % (i, n, anyfront.name) for i in range(n)]
    argv = [CURL, "--parallel", "--parallel-max", str(n)]
    for i, msg in enumerate(msgs):
        if i:
            argv.append("--next")
        argv += curl_args(anyfront.ca, msg, stream=i % 2 == 1,
                          extra=["-o", str(tmp_path / ("%d.out" % i))])
    c, evs = run(sensor_run, anyfront, argv, n)
    t = e2elib.curl_transfers(c.stdout)
    assert len(t) == n, c.stdout
    infos = {os.path.basename(i["file"]): i for _, i in t}
    assert sorted(infos) == ["%d.out" % i for i in range(n)]
    assert sum(i["num_connects"] for i in infos.values()) == 1, infos
    assert len({i["local_port"] for i in infos.values()}) == 1, infos
    assert len(evs) == 2 * n, [e["event_type"] for e in evs]
    for i, msg in enumerate(msgs):
        with open(tmp_path / ("%d.out" % i)) as f:
            body = f.read()
        check_curl_call(sensor_run, c, evs, msg, body, infos["%d.out" % i], i % 2 == 1)


def check_client_call(sensor_run, c, evs, r, exe, name):
    """A client's result line @r (py_client.py, node_h2.mjs): the fixture's
    answer to its message, and the sensor's pair for it says the same."""
    assert r["status"] == 200, r
    if r["mode"] == "embeddings":
        [(q, resp)] = [p for p in e2elib.pairs(evs)
                       if p[0]["data"]["request_type"] == "embedding"]
    else:
        assert r["text"] == "Echo: " + r["message"], r
        q, resp = one_call(evs, r["message"])
    qd, rd = check_pair(q, resp, pid=c.pid, exe=exe, name=name,
                        **expected(sensor_run.server, r["message"],
                                   provider_request_id=r["id"]))
    if "total_tokens" in (r["usage"] or {}):     # OpenAI's; Anthropic's has none
        assert rd["usage"]["total_tokens"] == r["usage"]["total_tokens"]
    assert r["content_encoding"] == (rd["http"].get("content_encoding") or None)
    return qd, rd


def test_node_http2_concurrent_streams(sensor_run, front):
    """Node's built-in http2 client: one session, eight streams opened at
    once (plain, SSE, gzip, a request with trailers, Responses API,
    embeddings)."""
    modes = ["chat", "stream", "chat-gzip", "chat-trailers", "responses", "responses-stream",
             "embeddings", "stream"]
    c = e2elib.Client(front, [e2elib.NODE, NODE_H2, *modes, "--tag", "sensor"])
    sensor_run.known_pids.add(c.pid)
    c.wait()
    res = c.results()
    sess = res.pop()["session"]
    assert sess == dict(sess, streams=len(modes), max_active=len(modes), alpn="h2"), sess
    assert [r["mode"] for r in res] == modes
    assert len({r["stream_id"] for r in res}) == len(modes)
    evs = sensor_run.events.wait_pid(c.pid, 2 * len(modes))
    for r in res:
        check_client_call(sensor_run, c, evs, r, e2elib.NODE, "node")
    assert [r["content_encoding"] for r in res].count("gzip") == 1
    assert len(evs) == 2 * len(modes)


PY_MODES = ["chat", "stream", "chat-gzip", "chat-br", "responses", "responses-stream",
            "embeddings", "anthropic", "anthropic-stream"]


def test_httpx_http2(sensor_run, front):
    """Python httpx with http2=True (Debian's python3-h2), one client, so
    one connection per host: plain and streamed, OpenAI and Anthropic."""
    c = e2elib.Client(front, [e2elib.PYTHON, os.path.join(e2elib.CLIENTS, "py_client.py"),
                              "httpx2", *PY_MODES, "--tag", "over h2"])
    sensor_run.known_pids.add(c.pid)
    c.wait()
    res = c.results()
    assert [r["mode"] for r in res] == PY_MODES
    assert {r["http_version"] for r in res} == {"HTTP/2"}, res
    evs = sensor_run.events.wait_pid(c.pid, 2 * len(PY_MODES))
    for r in res:
        check_client_call(sensor_run, c, evs, r, e2elib.PYTHON, "python3")
        if r["mode"] in ("chat-gzip", "chat-br"):
            assert r["content_encoding"] == r["mode"][5:]
    assert len(evs) == 2 * len(PY_MODES)


# ---------------------------------------------------------------------------
# --all: other requests over h2 are reported as over HTTP/1.1

def nonai_argv(ca, msg, http1):
    """GET /index.html, POST /api/login, then a chat call, on one
    connection."""
    base = ["--cacert", ca, "-sS", "-w", WX] + (["--http1.1"] if http1 else [])
    return ([CURL] + base + ["https://%s/index.html" % e2elib.OPENAI_HOST, "--next"] + base +
            ["-H", CT, "-d", '{"user":"alice","password":"secret"}',
             "https://%s/api/login" % e2elib.OPENAI_HOST, "--next"] +
            curl_args(ca, msg, extra=["--http1.1"] if http1 else []))


def comparable(e):
    """An event's data without what differs from call to call."""
    d = json.loads(json.dumps(e["data"]))
    for k in ("request_id", "latency_ms", "provider_request_id"):
        d.pop(k, None)
    return e["event_type"], d


def test_all_reports_non_ai_h2_requests(sensor_run, front, tmp_path):
    """A sensor with --all reports curl's GET and login over h2 exactly as
    the same requests over HTTP/1.1 (same client, same server, ALPN
    http/1.1); the shared sensor (AI calls only) reports only the chat
    call of each."""
    allsens = e2elib.Sensor(str(tmp_path), extra_args=["--all"]).start()
    try:
        alle = e2elib.EventLog(allsens.out)
        got, pids = {}, []
        for proto, http1 in (("h2", False), ("http1", True)):
            msg = "curl --all after non-ai over %s" % proto
            c = e2elib.Client(front, nonai_argv(front.ca, msg, http1))
            sensor_run.known_pids.add(c.pid)
            pids.append(c.pid)
            c.wait()
            t = e2elib.curl_transfers(c.stdout)
            assert [i["http_version"] for _, i in t] == ["1.1" if http1 else "2"] * 3, t
            assert [i["num_connects"] for _, i in t] == [1, 0, 0], t
            assert t[0][0].encode() + b"\n" == fm.INDEX_HTML
            assert json.loads(t[1][0]) == {"ok": True, "user": "alice", "token": "tok-123"}
            assert reply_of(t[2][0], False)[1] == "Echo: " + msg
            evs = alle.wait_pid(c.pid, 6)
            assert len(evs) == 6, [comparable(e) for e in evs]
            pairs = e2elib.pairs(evs)
            assert all(r is not None for _, r in pairs)
            assert [q["data"]["http"]["path"] for q, _ in pairs] == [
                "/index.html", "/api/login", "/v1/chat/completions"]
            q, r = pairs[2]
            check_pair(q, r, pid=c.pid, **expected(sensor_run.server, msg))
            got[proto] = [comparable(e) for p in pairs[:2] for e in p]
            # the shared sensor, AI calls only: the chat call alone
            ai = sensor_run.events.wait_pid(c.pid, 2)
            one_call(ai, msg)
        (_, gq), (_, gr), (_, lq), (_, lr) = got["h2"]
        assert gq["request_type"] == "other" and gq["http"]["method"] == "GET"
        assert gr["status_code"] == 200
        assert gr["http"]["body_bytes"] == len(fm.INDEX_HTML)
        assert lq["http"]["method"] == "POST" and lr["status_code"] == 200
        assert got["h2"] == got["http1"]
    finally:
        assert allsens.stop() == 0, allsens.log_tail()
    # nothing else from those clients reached the shared sensor
    time.sleep(0.5)
    for pid in pids:
        assert len(sensor_run.events.by_pid(pid)) == 2


def test_record_then_replay_h2(sensor_run, front, tmp_path):
    """`record` while curl multiplexes four calls on one h2 connection,
    then `replay` of the capture: the same pairs as the live sensor's."""
    from test_sensor_lifecycle import _data_fields, _replay, _start_record
    cap = str(tmp_path / "h2.cap")
    rec, _ = _start_record(cap)
    msgs = ["h2 recorded then replayed %d" % i for i in range(4)]
    try:
        argv = [CURL, "--parallel"]
        for i, msg in enumerate(msgs):
            argv += (["--next"] if i else []) + curl_args(
                front.ca, msg, stream=i % 2 == 1, extra=["-o", "/dev/null"])
        c, live = run(sensor_run, front, argv, len(msgs))
        assert sum(i["num_connects"] for _, i in e2elib.curl_transfers(c.stdout)) == 1
        assert len(live) == 2 * len(msgs)
        time.sleep(0.2)         # past the reader's 50 ms poll
    finally:
        rec.send_signal(signal.SIGTERM)
        rec.wait(15)
    assert rec.returncode == 0, rec.stderr.read()
    replayed = [e for e in _replay(cap, str(tmp_path / "replayed.jsonl"))
                if e["process"]["pid"] == c.pid]
    assert len(replayed) == len(live)
    for msg in msgs:
        ql, rl = one_call(live, msg)
        qr, rr = one_call(replayed, msg)
        assert _data_fields(qr) == _data_fields(ql)
        assert _data_fields(rr) == _data_fields(rl)
        assert rr["data"]["choices"][0]["message"]["content"] == "Echo: " + msg

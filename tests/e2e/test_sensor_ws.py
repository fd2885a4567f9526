"""The sensor against WebSocket clients of OpenAI: the Responses API in
WebSocket mode (what the Codex CLI speaks) and the Realtime API, from
python3-websockets and Node's `ws` (and the openai package's transports
over it), against ws_server.py with permessage-deflate on, off, and
without context takeover.  Other WebSocket traffic (an echo service) is
counted and reported only with --all."""
import base64
import json
import os
import subprocess
import time
import types

import pytest

import e2elib
from e2elib import check_envelopes

HERE = os.path.dirname(os.path.abspath(__file__))
PY_CLIENT = os.path.join(e2elib.CLIENTS, "py_ws_client.py")
NODE_CLIENT = os.path.join(e2elib.CLIENTS, "ws_client.mjs")
# Last byte of the loopback address of each listener of ws_server.py
# (the fixture server has .1 and .2, nghttpx .3).
LISTENERS = {"deflate": 4, "plain": 5, "nocontext": 6}
FIRST_TOKEN_MS = 25         # ws_server.py waits 30 ms before the first output


class WsServer:
    """ws_server.py, running: a listener per deflate mode on port 443 of a
    loopback address of its own (fronts[mode]: what a Client needs, with
    a hosts file giving that address as api.openai.com) and an echo
    listener on 127.0.0.1 (echo_url)."""

    def __init__(self, server, d):
        self.log_path = os.path.join(d, "ws-server.jsonl")
        base = server.openai_ip.rsplit(".", 1)[0]
        self.ips = {m: "%s.%d" % (base, n) for m, n in LISTENERS.items()}
        argv = [e2elib.PYTHON, os.path.join(HERE, "ws_server.py"),
                "--cert", server.tls["cert"], "--key", server.tls["key"],
                "--log", self.log_path, "--exit-with-parent"]
        for m, ip in self.ips.items():
            argv += ["--listen", "%s:443:%s" % (ip, m)]
        argv += ["--listen", "127.0.0.1:0:deflate"]
        self.stderr = open(os.path.join(d, "ws-server.stderr"), "w")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.stderr,
                                     stdin=subprocess.DEVNULL, text=True,
                                     env=e2elib.clean_env(), start_new_session=True,
                                     preexec_fn=e2elib._die_with_parent)
        line = self.proc.stdout.readline()
        assert line.startswith("READY "), "ws_server.py did not start: " + open(
            self.stderr.name).read()
        info = json.loads(line[6:])
        self.pid = info["pid"]
        port = int(info["listen"][-1].split(":")[1])
        self.echo_url = "wss://localhost:%d/echo" % port
        self.fronts = {}
        for m, ip in self.ips.items():
            hosts = os.path.join(d, "hosts-%s" % m)
            with open(hosts, "w") as f:
                f.write("127.0.0.1\tlocalhost\n%s\t%s\n" % (ip, e2elib.OPENAI_HOST))
            self.fronts[m] = types.SimpleNamespace(hosts=hosts, ca=server.ca,
                                                   other_base=server.other_base)

    def log(self):
        with open(self.log_path) as f:
            return [json.loads(l) for l in f if l.strip()]

    def received(self, text):
        """The client message the server received whose text has @text."""
        got = [r for r in self.log() if r["kind"] == "in" and text in (r["text"] or "")]
        assert len(got) == 1, (text, got)
        return got[0]

    def conn_of(self, text):
        """The log of the connection on which the server received @text."""
        conn = self.received(text)["conn"]
        return [r for r in self.log() if r["conn"] == conn]

    def answer(self, conn_log, rid):
        got = [r for r in conn_log if r["kind"] == "answer" and r["id"] == rid]
        assert len(got) == 1, (rid, conn_log)
        return got[0]

    def stop(self):
        e2elib.stop_process(self.proc)
        self.stderr.close()


@pytest.fixture(scope="module")
def ws(server, shared_sensor, tmp_path_factory):
    s = WsServer(server, str(tmp_path_factory.mktemp("ws")))
    yield s
    s.stop()
    # the server ends of the connections are never reported
    assert shared_sensor.events.by_pid(s.pid) == []


def run_client(sensor_run, ws, listener, argv, n_events):
    c = e2elib.Client(ws.fronts[listener], argv)
    sensor_run.known_pids.add(c.pid)
    c.wait(60)
    return c, c.results(), sensor_run.events.wait_pid(c.pid, n_events)


def py_client(sensor_run, ws, listener, *modes, compression="deflate", n_events=0):
    return run_client(sensor_run, ws, listener,
                      [e2elib.PYTHON, PY_CLIENT, *modes, "--compression", compression,
                       "--tag", "%s-%d" % (listener, time.monotonic_ns()),
                       "--echo-url", ws.echo_url], n_events)


def node_client(sensor_run, ws, listener, *modes, deflate=True, n_events=0):
    assert os.path.isdir(os.path.join(e2elib.NODE_DIR, "node_modules", "ws")), (
        "tests/e2e/node/node_modules/ws is missing: run tests/install-deps.sh")
    argv = [e2elib.NODE, NODE_CLIENT, *modes, "--tag",
            "%s-%d" % (listener, time.monotonic_ns()), "--echo-url", ws.echo_url]
    if not deflate:
        argv.append("--no-deflate")
    return run_client(sensor_run, ws, listener, argv, n_events)


def one_pair(events, text):
    """The single (request, response) pair whose request has @text in its
    last message."""
    found = [(q, r) for q, r in e2elib.pairs(events)
             if (q["data"].get("messages") or [{}])[-1].get("content") == text]
    assert len(found) == 1, "expected one ai.request ending with %r; events: %s" % (
        text, json.dumps([(e["event_type"], e["data"].get("request_id"),
                           [m.get("content", "")[:50] for m in e["data"].get("messages") or []])
                          for e in events], indent=1))
    q, r = found[0]
    assert r is not None, "no ai.response paired with the request for %r" % text
    return q, r


def check_ws_http(qd, rd, path):
    """The HTTP fields of a pair carried by a WebSocket: the upgrade
    request's method, path and host, the 101's status."""
    assert qd["http"]["method"] == "GET", qd["http"]
    assert qd["http"]["path"] == path
    assert qd["http"]["host"] == e2elib.OPENAI_HOST
    assert qd["http"]["protocol"] == "websocket"
    assert rd["http"]["protocol"] == "websocket"
    assert rd["status_code"] == 101
    assert qd["auth"] == {"type": "api_key", "header": "authorization", "scheme": "bearer"}
    assert qd["provider"] == {"name": "openai", "endpoint": e2elib.OPENAI_HOST}
    assert rd["provider"]["name"] == "openai"
    assert qd["streaming"] is True and rd["streaming"] is True


def check_usage(rd, usage):
    """data.usage is the API's usage object (Responses and Realtime name
    their counts alike)."""
    assert rd["usage"]["prompt_tokens"] == usage["input_tokens"], rd["usage"]
    assert rd["usage"]["completion_tokens"] == usage["output_tokens"], rd["usage"]
    assert rd["usage"]["total_tokens"] == usage["total_tokens"], rd["usage"]


def check_responses_pair(ws, q, r, res, *, pid, exe, name, messages=None):
    """A Responses-over-WebSocket pair against what the client sent and
    got (res, its output line) and what the server received and sent
    (its log); @messages: the request's, after the system prompt, when
    not one user message.  Returns the data objects."""
    qd, rd = check_envelopes(q, r, pid=pid, exe=exe, name=name)
    conn = ws.conn_of(res["message"])
    body = json.loads(ws.received(res["message"])["text"])
    assert conn[0]["kind"] == "open" and conn[0]["path"] == "/v1/responses"
    assert dict(conn[0]["headers"]).get("OpenAI-Beta", "").startswith("responses_websockets=") \
        or res.get("lib") == "openai"
    check_ws_http(qd, rd, "/v1/responses")
    assert qd["api"] == "openai.responses"
    assert qd["request_type"] == "chat"
    assert qd["model"]["id"] == body["model"]
    assert [{k: m[k] for k in ("role", "content", "tool_call_id") if k in m}
            for m in qd["messages"]] == [
        {"role": "system", "content": body["instructions"]}] + (
        messages or [{"role": "user", "content": res["message"]}])
    assert qd["has_system_prompt"] is True
    if body["tools"]:
        assert [t["name"] for t in qd["tools"]] == [t["name"] for t in body["tools"]]

    assert rd["latency_ms"] > 0
    if res["status"] == "error":
        # an error event: no response object, nothing else in the event
        [ans] = [x for x in conn if x["kind"] == "answer"]
        assert (res["status"], res["error"]) == (ans["status"], ans["error"])
        assert rd["success"] is False
        assert rd["finish_reason"] == "error"
        want = {k: res["error"][k] for k in ("type", "code", "message", "param")}
        assert rd["error"] == want, "the error event's error object: %r" % rd["error"]
        return qd, rd
    check_answer(ws, conn, qd, rd, res)
    return qd, rd


def check_answer(ws, conn, qd, rd, res):
    """The response side of a pair, either API: what the client got is
    what the server sent (its answer log), and the event says it.
    Returns the server's answer record."""
    ans = ws.answer(conn, res["id"])
    assert (res["text"], res["usage"], res["status"]) == (ans["text"], ans["usage"], ans["status"])
    assert res.get("tool_calls", []) == [{k: c[k] for k in ("call_id", "name", "arguments")}
                                         for c in ans["tool_calls"]]
    assert rd["provider_request_id"] == res["id"]
    assert rd["model"]["id"] == res["model"]
    if res["status"] == "failed":
        assert rd["success"] is False
        assert rd["finish_reason"] == "error"
        assert {k: rd["error"].get(k) for k in res["error"]} == res["error"], rd["error"]
        return ans
    assert rd["success"] is True
    check_usage(rd, res["usage"])
    assert rd["time_to_first_token_ms"] >= FIRST_TOKEN_MS, rd
    assert rd["latency_ms"] >= rd["time_to_first_token_ms"]
    c = rd["choices"][0]
    assert c["message"]["role"] == "assistant"
    if res.get("tool_calls"):
        calls = [{"id": t["call_id"], "name": t["name"], "type": "function",
                  "arguments": t["arguments"]} for t in res["tool_calls"]]
        assert rd["tool_calls"] == calls
        assert c["message"]["tool_calls"] == calls
        assert rd["tool_calls_count"] == len(calls)
        assert rd["finish_reason"] == "tool_calls"
        assert c["message"].get("content") is None
        assert {t["name"] for t in calls} <= {t["name"] for t in qd["tools"]}
    else:
        assert c["message"]["content"] == res["text"]
        assert rd["finish_reason"] == "stop"
    return ans


def check_extensions(res, listener, compression):
    """What the handshake negotiated is what the test meant to test."""
    ext = res["extensions"] or ""
    if compression == "none" or listener == "plain":
        assert ext == "", res
    elif listener == "nocontext":
        assert "server_no_context_takeover" in ext and "client_no_context_takeover" in ext, res
    else:
        assert ext.startswith("permessage-deflate") and "no_context" not in ext, res


# ---------------------------------------------------------------------------
# Responses API in WebSocket mode

@pytest.mark.parametrize("listener,compression", [
    ("deflate", "deflate"), ("deflate", "none"), ("nocontext", "deflate"),
    ("plain", "deflate")])
def test_python_responses(sensor_run, ws, listener, compression):
    """One response.create on a connection, then two on another, each
    answer paired with its own request in order."""
    c, res, evs = py_client(sensor_run, ws, listener, "responses", "responses-two",
                            compression=compression, n_events=6)
    assert [r["mode"] for r in res] == ["responses", "responses-two", "responses-two"]
    for r in res:
        check_extensions(r, listener, compression)
        q, resp = one_pair(evs, r["message"])
        check_responses_pair(ws, q, resp, r, pid=c.pid, exe=e2elib.PYTHON, name="python3")
    # the two answers of one socket, in order
    first, second = res[1], res[2]
    assert first["local_port"] == second["local_port"]
    (q1, r1), (q2, r2) = one_pair(evs, first["message"]), one_pair(evs, second["message"])
    assert r1["data"]["provider_request_id"] == first["id"] != second["id"] == \
        r2["data"]["provider_request_id"]
    assert q1["ts_mono"] < r1["ts_mono"] < q2["ts_mono"] < r2["ts_mono"]
    assert len(evs) == 6


def test_python_responses_pipelined(sensor_run, ws):
    """The second response.create sent before the first is answered: the
    server answers them in turn, and each answer goes with its request."""
    c, res, evs = py_client(sensor_run, ws, "deflate", "responses-pipelined", n_events=4)
    assert len(res) == 2 and res[0]["local_port"] == res[1]["local_port"]
    pairs = [one_pair(evs, r["message"]) for r in res]
    for r, (q, resp) in zip(res, pairs):
        check_responses_pair(ws, q, resp, r, pid=c.pid, exe=e2elib.PYTHON, name="python3")
    (q1, r1), (q2, r2) = pairs
    assert q1["ts_mono"] < q2["ts_mono"] and q1["ts_mono"] < r1["ts_mono"] < r2["ts_mono"]
    assert len(evs) == 4


@pytest.mark.parametrize("compression", ["deflate", "none"])
def test_python_responses_big(sensor_run, ws, compression):
    """A 105 000-byte message each way: uncompressed, frames with 64-bit
    lengths over many TLS records."""
    c, [res], evs = py_client(sensor_run, ws, "deflate", "responses-big",
                              compression=compression, n_events=2)
    assert len(res["message"]) > 105000
    q, r = one_pair(evs, res["message"])
    check_responses_pair(ws, q, r, res, pid=c.pid, exe=e2elib.PYTHON, name="python3")
    assert len(evs) == 2


def test_python_responses_tool_call(sensor_run, ws):
    c, [res], evs = py_client(sensor_run, ws, "deflate", "responses-tool", n_events=2)
    q, r = one_pair(evs, res["message"])
    qd, rd = check_responses_pair(ws, q, r, res, pid=c.pid, exe=e2elib.PYTHON, name="python3")
    assert json.loads(rd["tool_calls"][0]["arguments"]) == {"text": res["message"]}
    assert qd["tools"][0]["name"] == "lookup_text"
    assert len(evs) == 2


def test_python_responses_tool_loop(sensor_run, ws):
    """As the Codex CLI goes on after running a tool: the tool's output
    (function_call_output, with previous_response_id) in the next
    response.create on the same socket."""
    c, res, evs = py_client(sensor_run, ws, "nocontext", "responses-agent", n_events=4)
    call, answer = res
    assert answer["local_port"] == call["local_port"]
    q, r = one_pair(evs, call["message"])
    check_responses_pair(ws, q, r, call, pid=c.pid, exe=e2elib.PYTHON, name="python3")
    q, r = one_pair(evs, answer["message"])
    check_responses_pair(ws, q, r, answer, pid=c.pid, exe=e2elib.PYTHON, name="python3",
                         messages=[{"role": "tool", "content": answer["message"],
                                    "tool_call_id": call["tool_calls"][0]["call_id"]}])
    assert answer["call_id"] == call["tool_calls"][0]["call_id"]
    assert len(evs) == 4


@pytest.mark.parametrize("mode", ["responses-failed", "responses-error"],
                         ids=["response.failed", "error-event"])
def test_python_responses_failure(sensor_run, ws, mode):
    """response.failed, and an error event instead of a response (model
    not found): the response event says success false, with the API's
    error object."""
    c, [res], evs = py_client(sensor_run, ws, "deflate", mode, n_events=2)
    assert res["status"] == {"responses-failed": "failed", "responses-error": "error"}[mode]
    q, r = one_pair(evs, res["message"])
    check_responses_pair(ws, q, r, res, pid=c.pid, exe=e2elib.PYTHON, name="python3")
    assert len(evs) == 2


@pytest.mark.parametrize("listener,compression", [
    ("deflate", "deflate"), ("plain", "none")])
def test_python_fragmented_message_with_a_ping_inside(sensor_run, ws, listener, compression):
    """response.completed in three frames with a ping between the first
    two (RFC 6455 5.4), compressed or not."""
    c, [res], evs = py_client(sensor_run, ws, listener, "responses-fragment",
                              compression=compression, n_events=2)
    check_extensions(res, listener, compression)
    q, r = one_pair(evs, res["message"])
    check_responses_pair(ws, q, r, res, pid=c.pid, exe=e2elib.PYTHON, name="python3")
    assert len(evs) == 2


@pytest.mark.parametrize("deflate", [True, False], ids=["deflate", "no-deflate"])
def test_node_ws_responses(sensor_run, ws, deflate):
    """Node's ws, which offers permessage-deflate by default (and
    compresses client messages of 1 KiB or more: every response.create
    here)."""
    c, res, evs = node_client(sensor_run, ws, "deflate", "responses", "responses-two",
                              "responses-tool", deflate=deflate, n_events=8)
    assert [r["mode"] for r in res] == ["responses", "responses-two", "responses-two",
                                        "responses-tool"]
    for r in res:
        check_extensions(r, "deflate", "deflate" if deflate else "none")
        q, resp = one_pair(evs, r["message"])
        check_responses_pair(ws, q, resp, r, pid=c.pid, exe=e2elib.NODE, name="node")
    if deflate:
        # the client's messages were compressed: the server's log has
        # them inflated, and they are longer than ws' 1024-byte threshold
        assert all(ws.received(r["message"])["bytes"] > 1024 for r in res)
    assert len(evs) == 8


# ---------------------------------------------------------------------------
# Realtime API

def check_realtime_pair(ws, q, r, res, *, pid, exe, name, audio):
    qd, rd = check_envelopes(q, r, pid=pid, exe=exe, name=name)
    conn = ws.conn_of(res["message"])
    assert conn[0]["path"] == "/v1/realtime?model=%s" % res["model"]
    check_ws_http(qd, rd, "/v1/realtime")
    assert qd["api"] == "openai.realtime"
    assert qd["request_type"] == "chat"
    assert qd["model"]["id"] == res["model"]
    msgs = [{"role": m["role"], "content": m.get("content")} for m in qd["messages"]]
    # session.update's instructions, the conversation.item.create items
    # (an input_audio item has no text)
    assert msgs == [{"role": "system", "content": res["instructions"]}] + (
        [{"role": "user", "content": None}] if audio else []) + [
        {"role": "user", "content": res["message"]}]
    ans = check_answer(ws, conn, qd, rd, res)
    if audio:
        assert res["audio_b64"] == ans["audio_b64"]
        # counted (the messages that carried audio, each way, and their
        # payload bytes), never copied (check_no_audio_copied)
        appends = [x for x in conn if x["kind"] == "in" and x["type"] == "input_audio_buffer.append"]
        assert len(appends) == 3
        assert qd["audio"] == {"chunks": 3, "bytes": sum(x["bytes"] for x in appends)}
        assert rd["audio"] == {"chunks": len(res["audio_b64"]),
                               "bytes": ans["audio_msg_bytes"]}, rd.get("audio")
        assert qd["has_audio"] is True
        assert qd["messages"][1].get("has_audio") is True      # the input_audio item
    else:
        assert "audio" not in qd and "audio" not in rd and "has_audio" not in qd
    return qd, rd


def check_no_audio_copied(sensor_run, results):
    """No piece of base64 audio, either way, in the events file."""
    with open(sensor_run.events.path) as f:
        text = f.read()
    chunks = [b for r in results for b in r["audio_b64"] + r["audio_in_b64"]]
    assert len(chunks) > 3
    for b in chunks:
        assert len(b) > 64
        assert b[:48] not in text and b[len(b) // 2:len(b) // 2 + 48] not in text


@pytest.mark.parametrize("listener,compression", [
    ("deflate", "deflate"), ("plain", "none"), ("nocontext", "deflate")])
def test_python_realtime(sensor_run, ws, listener, compression):
    before = ws_counters(sensor_run.sensor)
    c, res, evs = py_client(sensor_run, ws, listener, "realtime-text", "realtime-audio",
                            compression=compression, n_events=4)
    assert [r["mode"] for r in res] == ["realtime-text", "realtime-audio"]
    for r in res:
        check_extensions(r, listener, compression)
        q, resp = one_pair(evs, r["message"])
        check_realtime_pair(ws, q, resp, r, pid=c.pid, exe=e2elib.PYTHON, name="python3",
                            audio=r["mode"] == "realtime-audio")
    check_no_audio_copied(sensor_run, res[1:])
    assert len(evs) == 4
    # and counted in the status once the connection is gone
    n = 3 + len(res[1]["audio_b64"])
    e2elib.wait_until(lambda: ws_counters(sensor_run.sensor)["audio_chunks"] >=
                      before["audio_chunks"] + n, 10, "audio chunks not counted")


def test_python_realtime_turns_tools_and_failure(sensor_run, ws):
    """Two turns on one session (each request has the session's
    instructions and the items since the previous response.create), a
    function call, and a response.done with status failed."""
    c, res, evs = py_client(sensor_run, ws, "deflate", "realtime-two", "realtime-tool",
                            "realtime-failed", n_events=8)
    assert [r["mode"] for r in res] == ["realtime-two", "realtime-two", "realtime-tool",
                                        "realtime-failed"]
    assert res[0]["local_port"] == res[1]["local_port"]
    for r in res:
        q, resp = one_pair(evs, r["message"])
        check_realtime_pair(ws, q, resp, r, pid=c.pid, exe=e2elib.PYTHON, name="python3",
                            audio=False)
    assert json.loads(res[2]["tool_calls"][0]["arguments"]) == {"text": res[2]["message"]}
    (q1, r1), (q2, r2) = one_pair(evs, res[0]["message"]), one_pair(evs, res[1]["message"])
    assert q1["ts_mono"] < r1["ts_mono"] < q2["ts_mono"] < r2["ts_mono"]
    assert len(evs) == 8


def test_node_ws_realtime_audio(sensor_run, ws):
    c, [res], evs = node_client(sensor_run, ws, "deflate", "realtime-audio", n_events=2)
    check_extensions(res, "deflate", "deflate")
    q, r = one_pair(evs, res["message"])
    check_realtime_pair(ws, q, r, res, pid=c.pid, exe=e2elib.NODE, name="node", audio=True)
    check_no_audio_copied(sensor_run, [res])
    assert len(evs) == 2


def test_node_openai_sdk_websockets(sensor_run, ws):
    """openai's own WebSocket transports (over ws, without
    permessage-deflate): ResponsesWS and OpenAIRealtimeWS."""
    c, res, evs = node_client(sensor_run, ws, "deflate", "sdk-responses", "sdk-realtime",
                              n_events=4)
    assert [r["mode"] for r in res] == ["sdk-responses", "sdk-realtime"]
    q, r = one_pair(evs, res[0]["message"])
    check_responses_pair(ws, q, r, res[0], pid=c.pid, exe=e2elib.NODE, name="node")
    q, r = one_pair(evs, res[1]["message"])
    check_realtime_pair(ws, q, r, res[1], pid=c.pid, exe=e2elib.NODE, name="node", audio=False)
    assert len(evs) == 4


# ---------------------------------------------------------------------------
# Not AI

def ws_counters(sensor):
    """The pipeline's websocket_* counters, without the prefix."""
    st = sensor.status()["pipeline"]
    return {k[len("websocket_"):]: v for k, v in st.items() if k.startswith("websocket_")}


def echo_clients(sensor_run, ws):
    """An echo exchange (a text and a binary message) from each library,
    on a host no rule knows; returns [(client, its output line)]."""
    out = []
    for fn in (py_client, node_client):
        c, [res], _ = fn(sensor_run, ws, "deflate", "echo")
        check_extensions(res, "deflate", "deflate")
        # the server got what the client sent (and the client checked
        # that it got it back)
        ins = [x for x in ws.conn_of(res["message"]) if x["kind"] == "in"]
        assert [x["text"] for x in ins] == [res["message"], None]
        assert ins[1]["binary"] and ins[1]["bytes"] == len(base64.b64decode(res["binary"]))
        out.append((c, res))
    return out


def test_other_websocket_traffic_is_counted_not_reported(sensor_run, ws):
    """The shared sensor (AI only) writes no event for it and counts its
    messages, 2 each way per client."""
    before = ws_counters(sensor_run.sensor)
    clients = echo_clients(sensor_run, ws)
    after = e2elib.wait_until(
        lambda: (lambda a: a if a["other_messages"] >= before["other_messages"] + 8 else None)(
            ws_counters(sensor_run.sensor)), 10,
        "the echo messages were not counted: %s" % ws_counters(sensor_run.sensor))
    assert after["connections"] >= before["connections"] + 2
    assert after["messages"] >= before["messages"] + 8
    assert after["control_frames"] >= before["control_frames"] + 2     # the closes
    for c, _ in clients:
        assert sensor_run.events.by_pid(c.pid) == []
    # nothing the stand-ins and clients sent was bad
    for k in ("frame_errors", "deflate_errors", "deflate_bombs", "oversize_messages"):
        assert after[k] == 0, after


def test_other_websocket_traffic_is_reported_with_all(sensor_run, ws, tmp_path):
    """A sensor with --all reports each client message as a request and
    the echo as its response."""
    all_sensor = e2elib.Sensor(str(tmp_path), extra_args=["--all"]).start()
    try:
        for c, res in echo_clients(sensor_run, ws):
            got = e2elib.EventLog(all_sensor.out).wait_pid(c.pid, 4)
            assert [e["event_type"] for e in got] == ["ai.request", "ai.response"] * 2, got
            port = ws.echo_url.rsplit(":", 1)[1].split("/")[0]
            for e in got:
                d = e["data"]
                assert d["http"]["protocol"] == "websocket", d
                assert d["provider"] == {"name": "other", "endpoint": "localhost:" + port}, d
            for q, r in e2elib.pairs(got):
                check_envelopes(q, r, pid=c.pid)
                assert q["data"]["http"]["method"] == "GET"
                assert q["data"]["http"]["path"] == "/echo"
                assert r["data"]["status_code"] == 101
            assert [q["data"]["http"]["body_bytes"] for q, _ in e2elib.pairs(got)] == [
                len(res["message"]), len(base64.b64decode(res["binary"]))]
    finally:
        assert all_sensor.stop() == 0, all_sensor.log_tail()

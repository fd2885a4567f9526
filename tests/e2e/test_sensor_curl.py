"""The sensor against curl (libcurl over libssl.so.3)."""
import json
import time

import e2elib
from e2elib import check_pair, curl_client, curl_transfers, expected, one_call

CURL = "/usr/bin/curl"


def run_curl(sensor_run, mode, msg, calls=1):
    c = curl_client(sensor_run.server, mode, msg)
    sensor_run.known_pids.add(c.pid)
    evs = sensor_run.events.wait_pid(c.pid, 2 * calls)
    return c, evs


def test_sensor_is_attached(sensor_run):
    st = sensor_run.sensor.status()
    assert st is not None, "status --json failed while the sensor runs"
    assert st["capture"]["files_attached"] >= 1, st


def test_chat_non_stream_literal(sensor_run):
    msg = "curl sensor chat literal"
    c, evs = run_curl(sensor_run, "chat", msg)
    [(body, info)] = curl_transfers(c.stdout)
    q, r = one_call(evs, msg)
    qd, rd = check_pair(
        q, r, pid=c.pid, exe=CURL, name="curl", provider="openai", endpoint="api.openai.com",
        model="gpt-4o-mini", resp_model="gpt-4o-mini-2024-07-18", request_type="chat",
        streaming=False, api="openai.chat_completions", auth_type="bearer",
        path="/v1/chat/completions",
        messages=[{"role": "system", "content": "You are terse."},
                  {"role": "user", "content": msg}],
        text="Echo: " + msg, prompt_tokens=7, completion_tokens=5,
        finish_reason="stop", provider_finish_reason="stop",
        provider_request_id=json.loads(body)["id"], body_bytes=info["size_upload"])
    assert qd["parameters"]["temperature"] == 0.2
    assert qd["parameters"]["max_tokens"] == 64
    assert rd["http"]["content_type"].startswith("application/json")
    assert len(evs) == 2


def test_ssl_free_ends_the_connection(sensor_run):
    """curl frees its SSL* when it ends the connection: the sensor drops
    that connection's state then (pipeline.connections_freed)."""
    before = sensor_run.sensor.status()["pipeline"]["connections_freed"]
    c, evs = run_curl(sensor_run, "chat", "curl frees its connection")
    assert len(evs) == 2
    deadline = time.monotonic() + 5
    while sensor_run.sensor.status()["pipeline"]["connections_freed"] <= before:
        assert time.monotonic() < deadline, "no SSL_free record"
        time.sleep(0.05)


def check_mode(sensor_run, mode, msg):
    c, evs = run_curl(sensor_run, mode, msg)
    [(body, info)] = curl_transfers(c.stdout)
    q, r = one_call(evs, msg)
    check_pair(q, r, pid=c.pid, exe=CURL, name="curl", **expected(sensor_run.server, msg))
    assert len(evs) == 2
    return q["data"], r["data"]


def test_chat_stream(sensor_run):
    qd, rd = check_mode(sensor_run, "stream", "curl sensor stream call")
    assert rd["http"]["content_type"].startswith("text/event-stream")


def test_finish_reason_length(sensor_run):
    qd, rd = check_mode(sensor_run, "length", "curl sensor length call")
    assert rd["finish_reason"] == "length" and rd["usage"]["completion_tokens"] == 3


def test_gzip_response(sensor_run):
    check_mode(sensor_run, "gzip", "curl sensor gzip call")


def test_br_response(sensor_run):
    check_mode(sensor_run, "br", "curl sensor br call")


def test_br_compressed_stream(sensor_run):
    check_mode(sensor_run, "br-stream", "curl sensor br-stream call")


def test_chunked_response(sensor_run):
    check_mode(sensor_run, "chunked-response", "curl sensor chunked-response call")


def test_chunked_request_body(sensor_run):
    check_mode(sensor_run, "chunked-request", "curl sensor chunked-request call")


def test_anthropic(sensor_run):
    qd, rd = check_mode(sensor_run, "anthropic", "curl sensor anthropic call")
    assert rd["provider_finish_reason"] == "end_turn"


def test_anthropic_stream_usage_from_message_delta(sensor_run):
    msg = "curl sensor anthropic-stream call"
    qd, rd = check_mode(sensor_run, "anthropic-stream", msg)
    # message_start says output_tokens 1; message_delta has the real count
    assert rd["usage"]["completion_tokens"] == 5


def test_other_host_is_provider_other(sensor_run):
    qd, rd = check_mode(sensor_run, "other", "curl sensor other call")
    assert qd["provider"]["name"] == "other"
    assert qd["provider"]["endpoint"] == "localhost:%d" % sensor_run.server.other_port


def test_keepalive_three_calls_one_connection(sensor_run):
    msg = "curl sensor keepalive"
    c, evs = run_curl(sensor_run, "keepalive", msg, calls=3)
    t = curl_transfers(c.stdout)
    assert [i["num_connects"] for _, i in t] == [1, 0, 0]
    assert len(evs) == 6, evs
    q1, r1 = one_call(evs, msg + " one")
    check_pair(q1, r1, pid=c.pid, **expected(sensor_run.server, msg + " one"))
    q2, r2 = one_call(evs, msg + " two")
    check_pair(q2, r2, pid=c.pid, **expected(sensor_run.server, msg + " two"))
    reqs = [e for e in evs if e["event_type"] == "ai.request"]
    emb = [e for e in reqs if e["data"]["request_type"] == "embedding"]
    assert len(emb) == 1
    [(q3, r3)] = [p for p in e2elib.pairs(evs) if p[0] is emb[0]]
    assert r3 is not None
    check_pair(q3, r3, pid=c.pid, **expected(sensor_run.server, msg + " three"))
    # in order, as HTTP/1.1 requires
    assert [e["data"]["request_type"] for e in reqs] == ["chat", "chat", "embedding"]
    assert reqs[0]["ts_mono"] < reqs[1]["ts_mono"] < reqs[2]["ts_mono"]


def test_big_request_and_response(sensor_run):
    """105 000-byte request and response bodies: several 16 KiB records each."""
    c, evs = run_curl(sensor_run, "big", "")
    [(body, info)] = curl_transfers(c.stdout)
    q, r = one_call(evs, "w00001 w00002")
    check_pair(q, r, pid=c.pid, exe=CURL, provider="openai", endpoint="api.openai.com",
               model="gpt-4o-mini", resp_model="gpt-4o-mini-2024-07-18", request_type="chat",
               streaming=False,
               messages=[{"role": "system", "content": "You are terse."},
                         {"role": "user", "content": e2elib.BIG_TEXT}],
               text="Echo: " + e2elib.BIG_TEXT, prompt_tokens=15003, completion_tokens=15001,
               body_bytes=info["size_upload"], provider_request_id=json.loads(body)["id"])


def test_errors(sensor_run):
    msg = "curl sensor error call"
    c, evs = run_curl(sensor_run, "error", msg, calls=2)
    assert len(evs) == 4
    got = {}
    for q, r in e2elib.pairs(evs):
        assert r is not None
        got[q["data"]["provider"]["name"]] = (q, r)
    assert set(got) == {"openai", "anthropic"}
    for prov, (q, r) in got.items():
        rd = r["data"]
        assert q["data"]["model"]["id"] == "bad-model"
        assert rd["status_code"] == 400 and rd["success"] is False
        assert rd["error"]["type"] == "invalid_request_error"
        assert rd["latency_ms"] > 0
    assert got["openai"][1]["data"]["error"]["code"] == "model_not_found"
    assert "bad-model" in got["openai"][1]["data"]["error"]["message"]
    assert got["anthropic"][1]["data"]["error"]["message"] == "model: bad-model"


def test_non_ai_requests_make_no_event(sensor_run):
    """GET /index.html and POST /api/login, then one AI call, all on one
    connection: only the AI call is reported."""
    msg = "curl sensor after non-ai"
    c, evs = run_curl(sensor_run, "nonai", msg)
    q, r = one_call(evs, msg)
    check_pair(q, r, pid=c.pid, **expected(sensor_run.server, msg))
    e2elib.time.sleep(1.0)
    evs = sensor_run.events.by_pid(c.pid)
    assert len(evs) == 2, [e["data"].get("http") for e in evs]

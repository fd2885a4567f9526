"""The fixture alone, no sensor: the test CA, the hosts-file namespace,
the fixture server and every client.  Cheap; catches fixture breakage
before the sensor tests blame the sensor."""
import json
import os
import subprocess

import pytest

import e2elib
import fixture_model as fm
from e2elib import curl_client, curl_transfers, node_client, py_client, sse_text


def test_certificate_verifies_for_every_name(server):
    p = subprocess.run(["openssl", "verify", "-CAfile", server.ca, server.tls["cert"]],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    p = subprocess.run(["openssl", "x509", "-in", server.tls["cert"], "-noout", "-ext",
                        "subjectAltName"], capture_output=True, text=True, check=True)
    for n in ("api.openai.com", "api.anthropic.com", "generativelanguage.googleapis.com",
              "localhost", server.openai_ip, server.anthropic_ip):
        assert n in p.stdout


def test_hosts_namespace_resolves_for_every_client(server):
    before = open("/etc/hosts").read()
    c = e2elib.run_client(server, ["getent", "hosts", "api.openai.com", "api.anthropic.com"])
    assert server.openai_ip in c.stdout and server.anthropic_ip in c.stdout
    c = e2elib.run_client(server, ["getent", "hosts", "generativelanguage.googleapis.com"])
    assert c.stdout.split()[0] == server.openai_ip, c.stdout
    c = e2elib.run_client(server, [e2elib.PYTHON, "-c",
                                   "import socket; print(socket.getaddrinfo('api.anthropic.com', 443)[0][4][0])"])
    assert c.stdout.strip() == server.anthropic_ip
    c = e2elib.run_client(server, [e2elib.NODE, "-e",
                                   "require('dns').lookup('api.openai.com',(e,a)=>console.log(a))"])
    assert c.stdout.strip() == server.openai_ip
    # the bind mount stayed in the client's namespace
    assert open("/etc/hosts").read() == before


@pytest.mark.parametrize("mode,finish", [
    ("chat", "stop"), ("length", "length"), ("gzip", "stop"), ("br", "stop"),
    ("chunked-response", "stop"), ("chunked-request", "stop"), ("other", "stop")])
def test_curl_non_stream(server, mode, finish):
    msg = "curl fixture %s check" % mode
    c = curl_client(server, mode, msg)
    [(body, info)] = curl_transfers(c.stdout)
    assert info["http_code"] == 200 and info["exitcode"] == 0
    obj = json.loads(body)
    req = e2elib.server_request(server, msg)
    a = fm.chat_answer(json.loads(req["body_head"]))
    assert a.openai_finish == finish
    assert obj["choices"][0]["message"]["content"] == a.text
    assert obj["choices"][0]["finish_reason"] == finish
    assert obj["usage"]["prompt_tokens"] == 3 + 4 == a.prompt_tokens
    assert req["resp_encoding"] == {"gzip": "gzip", "br": "br"}.get(mode, "")
    assert req["resp_chunked"] is (mode == "chunked-response")
    assert req.get("request_chunked", False) is (mode == "chunked-request")
    if mode == "other":
        assert req["listener"].endswith(":%d" % server.other_port)
        assert dict((k.lower(), v) for k, v in req["headers"])["host"] == "localhost:%d" % server.other_port


@pytest.mark.parametrize("mode", ["stream", "br-stream", "anthropic-stream"])
def test_curl_stream(server, mode):
    msg = "curl fixture %s check" % mode
    c = curl_client(server, mode, msg)
    [(body, info)] = curl_transfers(c.stdout)
    assert info["http_code"] == 200
    text, usage = sse_text(body)
    assert text == "Echo: " + msg
    if mode == "anthropic-stream":
        assert usage == {"output_tokens": 5}
        assert "event: message_delta" in body
    else:
        assert usage == {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}
        assert body.rstrip().endswith("data: [DONE]")
    assert e2elib.server_request(server, msg)["resp_encoding"] == ("br" if mode == "br-stream" else "")


def test_curl_keepalive_one_connection(server):
    c = curl_client(server, "keepalive", "curl fixture keepalive")
    t = curl_transfers(c.stdout)
    assert [i["http_code"] for _, i in t] == [200, 200, 200]
    assert [i["num_connects"] for _, i in t] == [1, 0, 0]
    assert len({i["local_port"] for _, i in t}) == 1
    assert json.loads(t[2][0])["usage"] == {"prompt_tokens": 4, "total_tokens": 4}


def test_curl_big_request_and_response(server):
    c = curl_client(server, "big")
    [(body, info)] = curl_transfers(c.stdout)
    assert info["size_upload"] > 100 * 1024
    obj = json.loads(body)
    assert obj["choices"][0]["message"]["content"] == "Echo: " + e2elib.BIG_TEXT
    assert obj["usage"]["prompt_tokens"] == 3 + 15000
    assert obj["usage"]["completion_tokens"] == 15001


def test_curl_errors_and_non_ai(server):
    t = curl_transfers(curl_client(server, "error", "curl fixture error").stdout)
    assert [i["http_code"] for _, i in t] == [400, 400]
    assert json.loads(t[0][0]) == fm.openai_error_body()
    assert json.loads(t[1][0]) == fm.anthropic_error_body()
    t = curl_transfers(curl_client(server, "nonai", "curl fixture nonai").stdout)
    assert [i["http_code"] for _, i in t] == [200, 200, 200]
    assert t[0][0].encode() == fm.INDEX_HTML.strip()
    assert json.loads(t[1][0])["ok"] is True
    assert [i["num_connects"] for _, i in t] == [1, 0, 0]


PY_MODES = ["chat", "stream", "chat-gzip", "chat-br", "responses", "responses-stream",
            "embeddings", "anthropic", "anthropic-stream"]


@pytest.mark.parametrize("lib", ["urllib", "requests", "httpx"])
def test_python_clients(server, lib):
    c = py_client(server, lib, *PY_MODES, "--tag", "fx")
    res = c.results()
    assert [r["mode"] for r in res] == PY_MODES
    for r in res:
        assert r["pid"] == c.pid
        assert r["status"] == 200
        if r["mode"] != "embeddings":
            assert r["text"] == "Echo: " + r["message"], r
        if r["mode"] == "chat-gzip":
            assert r["content_encoding"] == "gzip"
        if r["mode"] == "chat-br":
            assert r["content_encoding"] == "br"
    # this test's calls only (tag fx): other modules run the same clients
    ports = {q["client"] for q in server.requests()
             if ("%s chat says hello fx" % lib) in q.get("body_head", "")
             or ("%s stream says hello fx" % lib) in q.get("body_head", "")}
    # requests and httpx keep one connection alive; urllib closes each time
    assert len(ports) == (2 if lib == "urllib" else 1), ports


NODE_MODES = ["chat", "stream", "chat-br", "responses", "responses-stream", "embeddings",
              "anthropic", "anthropic-stream", "anthropic-gzip", "error"]


def test_node_sdks(server):
    c = node_client(server, *NODE_MODES, "--tag", "fx")
    res = c.results()
    assert [r["mode"] for r in res] == NODE_MODES
    for r in res:
        assert r["pid"] == c.pid
        if r["mode"] == "error":
            assert r["status"] == 400 and r["error"]["code"] == "model_not_found"
            continue
        assert r["status"] == 200
        if r["mode"] != "embeddings":
            assert r["text"] == "Echo: " + r["message"], r
    assert res[0]["usage"]["prompt_tokens"] == 4 + 5
    assert res[5]["dims"] == 8
    assert res[7]["usage"]["output_tokens"] == 6   # from message_delta, not message_start's 1
    reqs = {q["body_head"]: q for q in server.requests()
            if '"node ' in q.get("body_head", "") and "says hello fx" in q["body_head"]}
    heads = [dict((k.lower(), v) for k, v in q["headers"]) for q in reqs.values()]
    assert all("br" in h["accept-encoding"] for h in heads)
    assert all("content-length" in h and "transfer-encoding" not in h for h in heads)
    assert any(q["resp_encoding"] == "br" for q in reqs.values())
    assert any(q["resp_encoding"] == "gzip" for q in reqs.values())


def test_early_client_without_sensor(server):
    c = e2elib.Client(server, [e2elib.PYTHON, os.path.join(e2elib.CLIENTS, "py_early.py"), "fx"],
                      stdin=True)
    try:
        first = json.loads(c.proc.stdout.readline())
        assert json.loads(c.proc.stdout.readline()) == {"ready": True, "pid": c.pid}
        c.proc.stdin.write("go\n")
        c.proc.stdin.flush()
        c.wait()
    finally:
        c.kill()
    same, new = c.results()
    assert first["text"] == "Echo: early before says hello fx"
    assert same["local_port"] == first["local_port"] != new["local_port"]


def test_fixture_model():
    assert fm.split_deltas("Echo: a  b c") == ["Echo: ", "a  ", "b ", "c"]
    assert "".join(fm.split_deltas(e2elib.BIG_TEXT)) == e2elib.BIG_TEXT
    assert len(fm.split_deltas(e2elib.BIG_TEXT)) <= fm.MAX_DELTAS
    a = fm.messages_answer({"system": [{"type": "text", "text": "x y"}], "max_tokens": 2,
                            "messages": [{"role": "user", "content": [{"type": "text", "text": "p q r"}]}]})
    assert a == fm.Answer("Echo: p", 5, 2, "length", "max_tokens")

"""Agent-sized requests: real clients (curl, Python requests, the Node
`openai` SDK) send chat completions bodies of 300 KB, 1 MB and 4 MiB,
plain and streamed, through the default capture settings; every event
holds the complete messages and the right model.  Then 4 MiB calls run
while two other clients stream, and nothing is lost.

The sensor is this module's own (the shared one is stopped): the default
configuration except output.max_event_bytes, raised so that the events
keep every message whole."""
import json
import os
import subprocess
import sys
import time

import pytest

import e2elib

sys.path.insert(0, e2elib.CLIENTS)
import big_body  # noqa: E402

SIZES = [300_000, 1_000_000, 4 << 20]
MODEL = "gpt-4.1-big"


def big_config():
    # max_event_bytes goes into the output section of SENSOR_CONFIG
    return e2elib.SENSOR_CONFIG.replace(
        "  path: {out}\n", "  path: {out}\n  max_event_bytes: 16777216\n")


@pytest.fixture(scope="module")
def big(shared_sensor, server, tmp_path_factory):
    shared_sensor.stop("for test_sensor_big")
    deadline = time.monotonic() + 10
    while e2elib.uprobes_loaded():
        assert time.monotonic() < deadline, "uprobes still loaded"
        time.sleep(0.1)
    d = str(tmp_path_factory.mktemp("big"))
    s = e2elib.Sensor(d, config=big_config()).start()
    s.events = e2elib.EventLog(s.out)
    s.server = server
    s.dir = d
    yield s
    with open("/proc/%d/status" % s.proc.pid) as f:
        mem = {k: v.strip() for k, v in (ln.split(":", 1) for ln in f)
               if k in ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem")}
    print("\nsensor memory after the big calls:", mem, "pipeline memory high water:",
          s.status()["pipeline"]["memory_high_water_bytes"])
    assert s.stop() == 0, s.log_tail()
    e2elib.check_lines_valid(s.out)


def body_file(d, size, tag, stream, words=3):
    data = big_body.body(size, tag, stream, words)
    path = os.path.join(d, tag + ".json")
    with open(path, "wb") as f:
        f.write(data)
    return path, json.loads(data)


def client_argv(client, path, size, tag, mode, delay=None):
    if client == "curl":
        argv = ["curl", "-sS", "--fail", "-H", "Content-Type: application/json",
                "-H", "x-test-delta-delay: %s" % (delay or 0.002),
                "-H", "Authorization: Bearer sk-test-curl-0123456789",
                "--data-binary", "@" + path,
                "https://%s/v1/chat/completions" % e2elib.OPENAI_HOST]
        return argv[:1] + ["-N"] + argv[1:] if mode == "stream" else argv
    if client == "requests":
        return [e2elib.PYTHON, os.path.join(e2elib.CLIENTS, "py_big.py"), str(size), tag, mode]
    return [e2elib.NODE, os.path.join(e2elib.CLIENTS, "node_big.mjs"), path, mode]


def reply_text(client, mode, c):
    if client != "curl":
        [r] = c.results()
        return r["text"]
    if mode == "stream":
        return e2elib.sse_text(c.stdout)[0]
    return json.loads(c.stdout)["choices"][0]["message"]["content"]


def lost(status):
    cap = status["capture"]
    return {k: cap[k] for k in ("lost_records", "lost_bytes", "truncated_calls",
                                "read_faults", "missed_calls")}


def sent_size(client, sent, size):
    """The body's size as the client sends it: the Node SDK serialises
    the request again, without spaces."""
    if client != "node":
        return size
    return len(json.dumps(sent, separators=(",", ":")).encode())


def check_call(big, c, sent, size, text, streaming):
    evs = big.events.wait_pid(c.pid, 2, timeout=30)
    pairs = e2elib.pairs(evs)
    assert len(pairs) == 1, (len(evs), big.log_tail())
    q, r = pairs[0]
    assert r is not None, big.log_tail()
    qd, rd = q["data"], r["data"]
    assert q["confidence"]["completeness"] == "full", (q["confidence"], qd["http"],
                                                       big.status()["capture"])
    assert qd["model"]["id"] == MODEL
    assert qd["streaming"] is streaming
    assert qd["http"]["body_bytes"] == size, (qd["http"], size)
    assert "body_truncated" not in qd["http"]
    assert qd["messages_count"] == len(sent["messages"])
    got = [(m["role"], m.get("content")) for m in qd["messages"]]
    want = [(m["role"], m["content"]) for m in sent["messages"]]
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, "message %d differs: %.80s... vs %.80s..." % (i, g, w)
    assert r["confidence"]["completeness"] == "full", (r["confidence"], rd["http"],
                                                       big.status()["capture"])
    assert rd["choices"][0]["message"]["content"] == text
    assert rd["streaming"] is streaming


@pytest.mark.parametrize("size", SIZES, ids=["300KB", "1MB", "4MiB"])
@pytest.mark.parametrize("mode", ["chat", "stream"])
@pytest.mark.parametrize("client", ["curl", "requests", "node"])
def test_big_request(big, client, mode, size):
    tag = "%s-%s-%d" % (client, mode, size)
    path, sent = body_file(big.dir, size, tag, mode == "stream")
    before = lost(big.status())
    c = e2elib.run_client(big.server, client_argv(client, path, size, tag, mode))
    text = reply_text(client, mode, c)
    assert text.startswith("Echo: %s question:" % tag)
    check_call(big, c, sent, sent_size(client, sent, size), text, mode == "stream")
    assert lost(big.status()) == before


def test_big_calls_while_two_stream(big):
    """Three 4 MiB calls (Python requests, Node, curl) start together while
    two clients stream replies of 20 events 1 s apart (long enough for
    the big calls to finish first on a loaded machine)."""
    streams = []
    for client in ("node", "curl"):
        tag = "long-%s" % client
        path, sent = body_file(big.dir, 40_000, tag, True, words=3000)
        streams.append((client, tag, sent, e2elib.Client(
            big.server, client_argv(client, path, 40_000, tag, "stream", 1.0),
            env_extra={"OISP_DELTA_DELAY": "1.0"})))
    before = lost(big.status())
    time.sleep(0.5)
    bigs = []
    for client in ("requests", "node", "curl"):
        tag = "inflight-%s" % client
        path, sent = body_file(big.dir, 4 << 20, tag, False)
        bigs.append((client, tag, sent, e2elib.Client(
            big.server, client_argv(client, path, 4 << 20, tag, "chat"))))
    for client, tag, sent, c in bigs:
        c.wait(120)
        text = reply_text(client, "chat", c)
        assert text == "Echo: %s question: w0 w1 w2" % tag
        check_call(big, c, sent, sent_size(client, sent, 4 << 20), text, False)
    for client, tag, sent, c in streams:
        # still streaming when the big calls were done
        assert c.proc.poll() is None, "%s finished before the big calls" % client
    for client, tag, sent, c in streams:
        c.wait(120)
        text = reply_text(client, "stream", c)
        assert text.split()[-1] == "w2999"
        check_call(big, c, sent, sent_size(client, sent, 40_000), text, True)
    after = lost(big.status())
    assert after == before, (before, after)
    assert big.status()["pipeline"]["largest_call_bytes"] >= 4 << 20


# Loki 3.x, which cookbook/loki requires: limits_config.max_line_size
# defaults to "256KB", 256,000 bytes (Loki's configuration reference);
# Alloy (the cookbook's shipper) has no line limit of its own.
LOKI3_MAX_LINE = 256_000


def test_default_events_fit_the_cookbook_loki(tmp_path):
    """The largest default event, the 12 MB request of the golden
    big_request capture, fits Loki's default line limit; no root."""
    with open(os.path.join(e2elib.ROOT, "cookbook", "loki", "README.md")) as f:
        assert "Loki 3.x" in f.read(), "the cookbook's Loki changed: check its line limit"
    out = tmp_path / "events.jsonl"
    cap = os.path.join(e2elib.ROOT, "tests", "fixtures", "captures", "big_request.cap")
    subprocess.run([e2elib.SENSOR, "replay", "--config", "/dev/null", "--output", str(out), cap],
                   check=True, capture_output=True, timeout=60)
    lines = out.read_bytes().splitlines()
    req = json.loads(lines[0])
    assert req["data"]["shortened"]["strings"] > 0
    assert max(len(ln) for ln in lines) <= LOKI3_MAX_LINE
    # what the shortening must keep
    assert req["data"]["model"]["id"] == "claude-sonnet-4-5"
    assert req["data"]["tools_count"] == 40
    assert req["data"]["messages"][-1]["content"].startswith("message 040")

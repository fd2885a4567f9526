"""Hostile captures (tests/fixtures/hostile/, issue 12): each is replayed
with build/oisp-sensor replay under an address-space limit (ulimit -v
512 MiB, the DaemonSet's memory limit) and a harness timeout (not a
timing assertion).  The sensor must exit 0, write its events, keep the
model, keep every event line bounded, and mark what its bounds cut
(data.truncated, sensor/ai/extract.h "Bounds").

No root, no BPF.  The committed captures are the small ones; the test
writes every capture (the 4 MiB plain one too) with mkhostile.py into a
temporary folder, so the committed ones are checked to be current.
"""
import json
import os
import resource
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SENSOR = os.path.join(ROOT, "build", "oisp-sensor")
HOSTILE = os.path.join(ROOT, "tests", "fixtures", "hostile")
sys.path.insert(0, HOSTILE)
import mkhostile  # noqa: E402

AS_LIMIT = 512 << 20
TIMEOUT = 60
# EXTRACT_MAX_TEXT (8 MiB of strings) and EXTRACT_MAX_ITEMS elements' keys.
LINE_MAX = 16 << 20



@pytest.fixture(scope="module")
def caps(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    for name in mkhostile.CAPS:
        mkhostile.write(name, str(d))
    return d


def _limit():
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


def replay_events(caps, name, tmp_path):
    """The defaults, but for output.max_event_bytes: no limit, so that the
    events show what extraction's own bounds let through."""
    if not os.access(SENSOR, os.X_OK):
        pytest.fail("%s not built: run make" % SENSOR)
    out = tmp_path / "events.jsonl"
    cfg = tmp_path / "config.yaml"
    cfg.write_text("output:\n  max_event_bytes: 0\n")
    p = subprocess.run([SENSOR, "replay", "--config", str(cfg), "--output", str(out),
                        str(caps / (name + ".hostile"))],
                       cwd=ROOT, capture_output=True, timeout=TIMEOUT,
                       stdin=subprocess.DEVNULL, preexec_fn=_limit)
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 0, "replay of %s exited %d:\n%s" % (name, p.returncode, err[-2000:])
    with open(out, "rb") as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines):
        assert len(line) < LINE_MAX, "%s: event %d is %d bytes" % (name, i + 1, len(line))
    events = [json.loads(line) for line in lines]
    v = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "validate-events.py"),
                        str(out)], capture_output=True, timeout=TIMEOUT)
    assert v.returncode == 0, "%s: events do not validate:\n%s" % (
        name, v.stdout.decode("utf-8", "replace")[-2000:])
    req = [e for e in events if e["event_type"] == "ai.request"]
    resp = [e for e in events if e["event_type"] == "ai.response"]
    assert len(req) == 1 and len(resp) == 1, "%s: events %r" % (
        name, [e["event_type"] for e in events])
    return req[0], resp[0]


def replay(caps, name, tmp_path):
    req, resp = replay_events(caps, name, tmp_path)
    return req["data"], resp["data"]


def test_committed_captures_current(caps):
    for name, (_, committed) in mkhostile.CAPS.items():
        if not committed:
            continue
        with open(os.path.join(HOSTILE, name + ".hostile"), "rb") as f:
            want = f.read()
        with open(caps / (name + ".hostile"), "rb") as f:
            assert f.read() == want, "%s.hostile is stale: run %s" % (
                name, "/usr/bin/python3 tests/fixtures/hostile/mkhostile.py")


def test_messages_plain(caps, tmp_path):
    """Finding 1, plain 4 MiB body: messages cut to the bound, counted."""
    req, resp = replay(caps, "messages_plain", tmp_path)
    assert req["model"]["id"] == "gpt-4o"
    n = req["messages_count"]
    assert n > 2000000
    assert len(req["messages"]) < n
    assert req["truncated"]["elements_dropped"] == n - len(req["messages"])
    assert resp["model"]["id"] == "gpt-4o"


def test_gzip_request_bomb(caps, tmp_path):
    """Finding 1, a gzip'd request decoding to ~32 MiB of [0,0,...]: it is
    decoded to capture.max_body_bytes only, and the event says so.  The
    cut JSON is parsed as a prefix (docs/events.md, "Bodies not captured
    whole"): the model comes out, and its list is bounded like any other."""
    req, _ = replay_events(caps, "gzip_request_bomb", tmp_path)
    assert req["confidence"]["completeness"] == "partial"
    assert "decoded_body_truncated" in req["confidence"]["reasons"], req["confidence"]
    assert req["data"]["http"]["body_truncated"] is True
    assert req["data"]["model"]["id"] == "gpt-4o"
    assert req["data"]["truncated"]["elements_dropped"] > 0


def test_gzip_response_bomb(caps, tmp_path):
    """Finding 1, a gzip'd response decoding to ~32 MiB of [0,0,...]:
    nothing of it is extracted (responses have no messages), the event
    keeps the model.  Its parse tree (~1.1 GB without a limit) still
    needs the pipeline-side decode bound; under the limit, cJSON fails
    cleanly and the model comes from the request."""
    _, resp = replay(caps, "gzip_response_bomb", tmp_path)
    assert resp["model"]["id"] == "gpt-4o"
    assert resp["status_code"] == 200


def test_responses_input(caps, tmp_path):
    """Finding 3: 40,000 function_call_output items, linear now."""
    req, _ = replay(caps, "responses_input", tmp_path)
    assert req["model"]["id"] == "gpt-4.1"
    assert req["messages_count"] == 40001
    assert req["messages"][1] == {"role": "tool", "content": "x", "tool_call_id": "call_1"}
    assert req["truncated"]["elements_dropped"] == 40001 - len(req["messages"])


def test_sse_id(caps, tmp_path):
    """Finding 4: a 64 KiB id and 200,000 events; the reply is kept."""
    _, resp = replay(caps, "sse_id", tmp_path)
    assert resp["model"]["id"] == "gpt-4o"
    assert resp["streaming"] is True
    assert resp["choices"][0]["message"]["content"] == "hello"

"""The sensor against the official SDKs on node (OpenSSL linked into the
node executable): openai (chat.completions, responses, embeddings) and
@anthropic-ai/sdk (messages), plain and streamed."""
import os

import e2elib
from e2elib import check_pair, expected, node_client, one_call

MODES = ["chat", "stream", "chat-br", "responses", "responses-stream", "embeddings",
         "anthropic", "anthropic-stream", "anthropic-gzip", "error"]


def test_node_sdks(sensor_run):
    assert os.path.isdir(os.path.join(e2elib.NODE_DIR, "node_modules")), (
        "tests/e2e/node/node_modules is missing: run tests/install-deps.sh")
    c = node_client(sensor_run.server, *MODES, "--tag", "sensor")
    sensor_run.known_pids.add(c.pid)
    res = c.results()
    assert [r["mode"] for r in res] == MODES
    evs = sensor_run.events.wait_pid(c.pid, 2 * len(MODES))
    for r in res:
        if r["mode"] == "embeddings":
            [(q, resp)] = [p for p in e2elib.pairs(evs) if p[0]["data"]["request_type"] == "embedding"]
        else:
            q, resp = one_call(evs, r["message"])
        kw = expected(sensor_run.server, r["message"], provider_request_id=r["id"])
        qd, rd = check_pair(q, resp, pid=c.pid, exe=e2elib.NODE, name="node", **kw)
        if r["mode"] == "error":
            assert rd["success"] is False and rd["error"]["code"] == "model_not_found"
        if r["mode"] == "stream":
            assert rd["usage"]["total_tokens"] == r["usage"]["total_tokens"]
        if r["mode"].startswith("anthropic"):
            # this SDK sends the API key as Authorization: Bearer
            assert qd["auth"] == {"type": "api_key", "header": "authorization",
                                  "scheme": "bearer"}
    assert len(evs) == 2 * len(MODES)

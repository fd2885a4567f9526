"""The sensor against Bun's own BoringSSL: stripped, linked statically,
nothing exported (sensor/capture/bssl.h finds SSL_write and SSL_read).
Three Bun releases from npm (tests/fetch-agent-exes.sh, cached outside
the clone) run `bun -e` with fetch() of an OpenAI chat completion against
the fixture server, plain and streamed, and each call must be one
request/response pair with model, messages, reply and usage.  Bun reads
the test CA from NODE_EXTRA_CA_CERTS (e2elib.Client sets it)."""
import json
import os

import pytest

import e2elib
from e2elib import check_pair, expected, one_call
from test_sensor_go import status_file

CACHE = os.path.join(os.environ.get("OISP_TEST_CACHE", "/var/cache/oisp-test"), "npm")
BUNS = ["1.2.20", "1.3.5", "1.4.5"]

# The script waits before its call: a BoringSSL executable never seen
# before is searched at its exec (0.15-0.3 s for Bun's 100 MB), and a
# call made meanwhile is not captured (README, "New executables").
SCRIPT = r"""
const [msg, stream] = [process.env.MSG, process.env.STREAM === "1"];
await Bun.sleep(1500);
const r = await fetch("https://api.openai.com/v1/chat/completions", {
  method: "POST",
  headers: {"content-type": "application/json", authorization: "Bearer sk-test-bun"},
  body: JSON.stringify({model: "gpt-4o-mini", stream,
                        stream_options: stream ? {include_usage: true} : undefined,
                        messages: [{role: "user", content: msg}]}),
});
let text = "", usage = null;
if (stream) {
  for (const line of (await r.text()).split("\n")) {
    if (!line.startsWith("data: ") || line === "data: [DONE]") continue;
    const ev = JSON.parse(line.slice(6));
    for (const c of ev.choices || []) text += c.delta.content || "";
    if (ev.usage) usage = ev.usage;
  }
} else {
  const j = await r.json();
  text = j.choices[0].message.content;
  usage = j.usage;
}
console.log(JSON.stringify({status: r.status, text, usage}));
"""


def bun_exe(version):
    exe = os.path.join(CACHE, "@oven", "bun-linux-x64@%s" % version, "package", "bin", "bun")
    if not os.path.exists(exe):
        pytest.skip("%s missing: run tests/fetch-agent-exes.sh" % exe)
    return exe


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
@pytest.mark.parametrize("version", BUNS)
def test_bun_fetch(sensor_run, version, stream):
    exe = bun_exe(version)
    msg = "bun %s fetch %s" % (version, "sse" if stream else "json")
    c = e2elib.Client(sensor_run.server, [exe, "-e", SCRIPT],
                      env_extra={"MSG": msg, "STREAM": "1" if stream else "0"})
    sensor_run.known_pids.add(c.pid)
    c.wait(120)
    [res] = c.results()
    assert res["status"] == 200, c.stdout
    evs = sensor_run.events.wait_pid(c.pid, 2)
    q, r = one_call(evs, msg)
    qd, rd = check_pair(q, r, pid=c.pid, exe=exe, **expected(sensor_run.server, msg))
    assert rd["usage"]["total_tokens"] == res["usage"]["total_tokens"]
    assert len(evs) == 2, [e["event_type"] for e in evs]
    f = status_file(sensor_run.sensor, exe)
    assert f["stack"] == "BoringSSL" and "skipped" not in f, json.dumps(f)
    assert f["found"].startswith("SSL_write 0x"), json.dumps(f)

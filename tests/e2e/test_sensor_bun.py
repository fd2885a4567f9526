"""The sensor against Bun executables from npm (@oven/bun-linux-x64,
three releases a year apart; tests/fetch-agent-exes.sh caches them):
BoringSSL linked in statically and stripped of its SSL_* symbols.  Bun
runs clients/bun_client.mjs: chat completions through Bun's fetch() and
through the openai SDK, JSON and streamed.  Bun trusts the test CA
through NODE_EXTRA_CA_CERTS (every release tried reads SSL_CERT_FILE
too; e2elib.Client sets both).  Each run is made once with no sensor on
the machine and once with one: the program's output is the same, and
each call is one complete request/response pair."""
import os

import pytest

import agentlib
import e2elib
from e2elib import check_pair, expected, one_call

# Releases over a year: each is captured without a change to the sensor.
VERSIONS = ["1.2.20", "1.3.0", "1.3.5", "1.3.11", "1.3.14", "1.4.0", "1.4.2", "1.4.5"]
MODES = ["fetch", "fetch-stream", "sdk", "sdk-stream"]
CLIENT = os.path.join(e2elib.CLIENTS, "bun_client.mjs")


def bun_run(server, exe, tag, sensor=None):
    """bun_client.mjs, every mode; with @sensor, its calls start once the
    sensor has probed @exe.  Returns the finished Client."""
    c = e2elib.Client(server, [exe, CLIENT, "--wait", *MODES, "--tag", tag], stdin=True)
    try:
        line = c.proc.stdout.readline()
        assert line == "ready\n", (line, c.proc.stderr.read())
        if sensor:
            agentlib.wait_probed(sensor, exe)
        c.proc.stdin.write("go\n")
        c.proc.stdin.flush()
        return c.wait(60)
    finally:
        c.kill()


@pytest.mark.parametrize("version", VERSIONS)
def test_bun(server, no_other_sensor, tmp_path, version):
    exe = agentlib.agent_exe("@oven/bun-linux-x64", version, "bin/bun")
    assert os.path.isdir(os.path.join(e2elib.NODE_DIR, "node_modules")), (
        "tests/e2e/node/node_modules is missing: run tests/install-deps.sh")
    # one word each (the same token counts), neither inside the other
    tag_without, tag = "without-%s" % version, "with-%s" % version
    without = bun_run(server, exe, tag_without)
    sensor = e2elib.Sensor(str(tmp_path)).start()
    try:
        c = bun_run(server, exe, tag, sensor)
        agentlib.same_output(without.stdout, c.stdout, tag_without, tag)
        assert without.stderr == "" and c.stderr == ""
        res = c.results()
        assert [r["mode"] for r in res] == MODES
        evs = e2elib.EventLog(sensor.out).wait_pid(c.pid, 2 * len(MODES))
        for r in res:
            assert r["status"] == 200, r
            q, resp = one_call(evs, r["message"])
            kw = expected(server, r["message"], provider_request_id=r["id"])
            qd, rd = check_pair(q, resp, pid=c.pid, exe=exe, name="bun", **kw)
            assert rd["choices"][0]["message"]["content"] == r["text"]
            assert rd["usage"]["total_tokens"] == r["usage"]["total_tokens"]
        assert len(evs) == 2 * len(MODES), [e["event_type"] for e in evs]
    finally:
        agentlib.stop_and_check(sensor, server)

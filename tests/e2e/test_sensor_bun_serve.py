"""A Bun program that serves HTTPS and calls an AI API: every call is
captured.

The sensor does not copy the server end of a connection: once it has
seen the requests come in, the BPF programs skip that SSL*'s calls in
the kernel (skip_conns).  The static BoringSSL of Bun has no SSL_free
the sensor can find, so nothing would tell the kernel that such a
connection ended; a later connection that gets the same SSL* (the
allocator hands out the block just freed) would be skipped too, and its
AI call lost.  The sensor probes SSL_new's return instead: the SSL* it
returns starts a connection, which drops whatever an earlier one at that
address left.

clients/bun_serve_client.mjs, run by Bun releases from npm, serves
requests over TLS (Bun.serve), each on a connection of its own that is
closed after it, and between those makes chat completions calls to the
test's stand-in for api.openai.com, again one connection each, in
several rounds so that freed SSL objects are reused.  Every call must be
one complete pair, and the server ends must have been skipped (else the
test would prove nothing)."""
import json
import os

import pytest

import agentlib
import e2elib
from e2elib import check_pair, expected

VERSIONS = ["1.2.20", "1.4.5"]
CLIENT = os.path.join(e2elib.CLIENTS, "bun_serve_client.mjs")
ROUNDS, SERVED, CALLS = 6, 12, 3


@pytest.mark.parametrize("via", ["tls", "fetch"])
@pytest.mark.parametrize("version", VERSIONS)
def test_bun_serves_and_calls(server, no_other_sensor, tmp_path, version, via):
    exe = agentlib.agent_exe("@oven/bun-linux-x64", version, "bin/bun")
    sensor = e2elib.Sensor(str(tmp_path)).start()
    c = None
    try:
        tag = "serve-%s-%s" % (via, version)
        c = e2elib.Client(server, [exe, CLIENT, "--wait", via, str(ROUNDS), str(SERVED),
                                   str(CALLS), "--tag", tag], stdin=True,
                          env_extra={"OISP_SERVE_CERT": server.tls["cert"],
                                     "OISP_SERVE_KEY": server.tls["key"]})
        line = c.proc.stdout.readline()
        assert line == "ready\n", (line, c.proc.stderr.read())
        f = agentlib.wait_probed(sensor, exe)
        # SSL_new is found and probed in these releases
        assert "SSL_new 0x" in f["found"], f
        c.proc.stdin.write("go\n")
        c.proc.stdin.flush()
        c.wait(120)
        lines = c.results()
        assert [l["served"] for l in lines if "served" in l] == [SERVED] * ROUNDS, c.stdout
        res = [l for l in lines if "message" in l]
        assert len(res) == ROUNDS * CALLS, c.stdout
        evs = e2elib.EventLog(sensor.out).wait_pid(c.pid, 2 * len(res),
                                                   timeout=20)
        pairs = {}
        for r in res:
            found = e2elib.find_call(evs, r["message"])
            if len(found) == 1 and found[0][1] is not None:
                pairs[r["message"]] = found[0]
        got = list(pairs)
        missing = [r["message"] for r in res if r["message"] not in pairs]
        st = sensor.status()
        # Without SSL_new most of the calls are lost; without the ends'
        # times in the kernel (conn_ends) a skip decided on a server end
        # after its SSL* went to a new client connection could take a call.
        assert not missing, "AI calls not captured: %s (of %d); capture: %s" % (
            missing, len(res), json.dumps([st["capture"], st["capture_by_stack"]["boringssl"]]))
        for r in res:
            assert r["status"] == 200, r
            q, resp = pairs[r["message"]]
            kw = expected(server, r["message"], provider_request_id=r["id"])
            _, rd = check_pair(q, resp, pid=c.pid, exe=exe, name="bun", **kw)
            assert rd["choices"][0]["message"]["content"] == r["text"]
        assert len(evs) >= 2 * len(got), [e["event_type"] for e in evs]
        # the server ends were handed to the kernel to be skipped
        assert sensor.status()["capture"]["skipped_conns"] >= ROUNDS * SERVED, st["capture"]
    finally:
        if c:
            c.kill()
        agentlib.stop_and_check(sensor, server)

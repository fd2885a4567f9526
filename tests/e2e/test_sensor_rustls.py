"""The sensor against rustls over aws-lc in stripped executables: Deno's
fetch() (npm @deno/linux-x64-glibc, from the test cache that
tests/fetch-agent-exes.sh fills), two releases, JSON and SSE, two calls
on one pooled connection.  The plaintext is taken at aws-lc's
EVP_AEAD_CTX_seal/_open, found without symbols (capture/rustls.h); the
connection is the socket (bpf/rustls.bpf.c).  Deno trusts the test CA
through DENO_CERT.  The client waits on stdin until status shows its
deno probed: identifying a 100 MB executable takes about a second, and
calls made before are not captured."""
import json
import os
import tempfile
import time

import pytest

import e2elib
from e2elib import check_pair, expected, one_call

CACHE = os.path.join(os.environ.get("OISP_TEST_CACHE", "/var/cache/oisp-test"), "npm")
DENOS = ["2.9.6", "2.6.3"]
SCRIPT = os.path.join(e2elib.CLIENTS, "deno_client.mjs")


def deno_exe(version):
    exe = os.path.join(CACHE, "@deno/linux-x64-glibc@%s" % version, "package", "deno")
    if not os.access(exe, os.X_OK):
        pytest.skip("%s not in the test cache (tests/fetch-agent-exes.sh)" % exe)
    return exe


def status_file(sensor, exe):
    real = os.path.realpath(exe)
    for f in sensor.status()["attach"]["list"]:
        if os.path.realpath(f["path"]) == real:
            return f
    return None


@pytest.mark.parametrize("version", DENOS)
def test_deno_fetch(sensor_run, version):
    exe = deno_exe(version)
    tag = "rustls %s" % version
    with tempfile.TemporaryDirectory(prefix="oisp-deno-") as d:
        env = {"DENO_CERT": sensor_run.server.ca, "DENO_DIR": d, "HOME": d,
               "DENO_NO_UPDATE_CHECK": "1", "NO_COLOR": "1"}
        c = e2elib.Client(sensor_run.server,
                          [exe, "run", "--allow-net", "--allow-env", "--no-prompt",
                           SCRIPT, "chat", "stream", "--tag", tag],
                          env_extra=env, stdin=True)
        sensor_run.known_pids.add(c.pid)
        try:
            e2elib.wait_until(lambda: status_file(sensor_run.sensor, exe) is not None,
                              30, "deno %s in status" % version)
            f = status_file(sensor_run.sensor, exe)
            assert f["stack"] == "rustls" and "skipped" not in f, f
            # The probes are attached once the file is listed as probed.
            c.proc.stdin.write("go\n")
            c.proc.stdin.flush()
            c.wait(60)
        finally:
            c.kill()
    res = c.results()
    assert [r["mode"] for r in res] == ["chat", "stream"], c.stdout
    evs = sensor_run.events.wait_pid(c.pid, 4)
    for r in res:
        assert r["status"] == 200, r
        q, resp = one_call(evs, r["message"])
        kw = expected(sensor_run.server, r["message"], provider_request_id=r["id"])
        qd, rd = check_pair(q, resp, pid=c.pid, exe=exe, name="deno", **kw)
        if r["mode"] == "stream":
            assert rd["usage"]["total_tokens"] == r["usage"]["total_tokens"]
    assert len(evs) == 4, [e["event_type"] for e in evs]

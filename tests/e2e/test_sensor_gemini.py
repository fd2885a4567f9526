"""The sensor against the Gemini CLI (npm @google/gemini-cli, two
releases; tests/fetch-agent-exes.sh caches them): JavaScript bundles that
/usr/bin/node runs, so their TLS is node's OpenSSL, whose exported SSL_*
functions the sensor probes.  `gemini -p PROMPT -m gemini-2.5-flash`
talks to the Gemini API stand-in (fixture_server.py) at
generativelanguage.googleapis.com, which the test's hosts file gives the
stand-in's address: API-key auth (GEMINI_API_KEY, chosen in
~/.gemini/settings.json, which also turns off usage statistics,
telemetry and the update check), a new HOME per run, the working
directory trusted (GEMINI_CLI_TRUST_WORKSPACE), the test CA through
NODE_EXTRA_CA_CERTS (e2elib.Client).  With the model named, it makes one
call: POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse,
with its system instruction, tools, and one user turn of two parts (its
session context, then the prompt), and prints the reply's text.  Each
release runs once with no sensor on the machine and once with one: the
output is the same, and the call is one complete request/response pair
whose fields match what the stand-in received and answered."""
import json
import os

import pytest

import agentlib
import e2elib
from e2elib import check_pair, expected_of, one_call

VERSIONS = ["0.39.0", "0.61.0"]
KEY = "AIza-test-gemini-" + e2elib.KEY_MARK
MODEL = "gemini-2.5-flash"
SETTINGS = {
    # the key's auth, by each release's name for the setting
    "security": {"auth": {"selectedType": "gemini-api-key"}},
    "selectedAuthType": "gemini-api-key",
    "privacy": {"usageStatisticsEnabled": False},
    "telemetry": {"enabled": False},
    "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
}


def gemini_run(server, version, workdir, name, prompt):
    """`gemini -p @prompt -m MODEL` with HOME @workdir/@name; returns the
    finished Client."""
    bundle = agentlib.agent_exe("@google/gemini-cli", version, "bundle/gemini.js")
    home = os.path.join(workdir, name)
    os.makedirs(os.path.join(home, ".gemini"))
    with open(os.path.join(home, ".gemini", "settings.json"), "w") as f:
        json.dump(SETTINGS, f)
    work = os.path.join(workdir, "work")
    os.makedirs(work, exist_ok=True)
    env = {"HOME": home, "GEMINI_API_KEY": KEY, "GEMINI_CLI_TRUST_WORKSPACE": "true",
           "GEMINI_CLI_NO_RELAUNCH": "true", "NO_COLOR": "1"}
    argv = [e2elib.NODE, bundle, "-p", prompt, "-m", MODEL]
    return e2elib.Client(server, argv, env_extra=env, cwd=work).wait(120)


def quiet(stderr):
    """@stderr without the lines of the CLI's start-up profiler, which
    reports, or not, a phase still running as it exits ("[STARTUP] Phase
    'cleanup_ops' was started but never ended"): a race of its own, with
    or without the sensor."""
    return "".join(l for l in stderr.splitlines(True) if not l.startswith("[STARTUP] "))


@pytest.mark.parametrize("version", VERSIONS)
def test_gemini_print(server, no_other_sensor, tmp_path, version):
    tag_without, tag = "without-%s" % version, "with-%s" % version
    prompt = "Reply with the words gemini says hello, %s."
    without = gemini_run(server, version, str(tmp_path), "home-without", prompt % tag_without)
    sensor = e2elib.Sensor(str(tmp_path)).start()
    try:
        seen = len(server.requests())
        c = gemini_run(server, version, str(tmp_path), "home", prompt % tag)
        agentlib.same_output(without.stdout, c.stdout, tag_without, tag)
        assert quiet(c.stderr) == quiet(without.stderr)
        [req] = [r for r in server.requests()[seen:] if tag in r["body"]]
        assert req["path"] == "/v1beta/models/%s:streamGenerateContent?alt=sse" % MODEL, req
        assert req["status"] == 200, req
        kw = expected_of(req)
        assert kw["text"] == "Echo: " + prompt % tag and c.stdout == kw["text"] + "\n"
        evs = e2elib.EventLog(sensor.out).wait_pid(c.pid, 2, timeout=20)
        q, r = one_call(evs, prompt % tag)
        check_pair(q, r, pid=c.pid, exe=e2elib.NODE, name="node", **kw)
        assert kw["provider"] == "google" and kw["auth_type"] == "goog_api_key", kw
        assert len(evs) == 2, [e["event_type"] for e in evs]
    finally:
        agentlib.stop_and_check(sensor, server)

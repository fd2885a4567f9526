"""The sensor against OpenCode (npm opencode-linux-x64, three releases;
tests/fetch-agent-exes.sh caches them), an AI coding agent compiled with
Bun: BoringSSL linked in statically and stripped, as in Claude Code.  A
program compiled with Bun is the bun executable of a release with the
program added to it, and these three carry Bun 1.3.5, 1.3.13 and 1.4.4; no
other test runs the last two.  Nothing in the sensor names OpenCode or
these builds: that they are captured without a change is what the
BoringSSL resolver (capture/boringssl.c) claims.

`opencode run PROMPT` reads opencode.json in its working directory: the
built-in openai provider with its base URL at the stand-in's
api.openai.com and a test key, model gpt-4o-mini.  The test CA comes
through NODE_EXTRA_CA_CERTS (e2elib.Client), HOME and the XDG
directories are new per run, and it makes no other traffic: no
models.dev fetch (it uses the list built into it), no default plugins,
and the npm registry it installs its config's packages from is a closed
loopback port (it goes on without them).  It makes
streamed Responses API calls, POST /v1/responses: one (two in 1.0.185)
asks a small model for the session's title, the other is the prompt,
whose reply it prints.
Each release runs once with no sensor on the machine and once with one:
the output is the same, and each call is one complete request/response
pair whose fields match what the stand-in received and answered."""
import json
import os

import pytest

import agentlib
import e2elib
from e2elib import check_pair, expected_of, pairs

# OpenCode release -> the Bun release it is built with ("Bun vX.Y.Z" in it).
VERSIONS = {"1.0.185": "1.3.5", "1.14.41": "1.3.13", "1.19.5": "1.4.4"}
KEY = "sk-test-opencode-" + e2elib.KEY_MARK
MODEL = "gpt-4o-mini"
NO_REGISTRY = "http://127.0.0.1:9/"


def opencode_exe(version):
    return agentlib.agent_exe("opencode-linux-x64", version, "bin/opencode")


def opencode_env(workdir, name):
    """The environment of an OpenCode run: HOME and the XDG directories
    under a new @workdir/@name."""
    home = os.path.join(workdir, name)
    os.makedirs(home)
    env = {"HOME": home, "OPENCODE_DISABLE_MODELS_FETCH": "1",
           "OPENCODE_DISABLE_AUTOUPDATE": "1", "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
           "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
           # what it would still install comes from a closed loopback port
           "NPM_CONFIG_REGISTRY": NO_REGISTRY, "BUN_CONFIG_REGISTRY": NO_REGISTRY}
    for var, rel in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                     ("XDG_STATE_HOME", ".local/state"), ("XDG_CACHE_HOME", ".cache")):
        env[var] = os.path.join(home, rel)
    return env


def workdir_of(workdir):
    """@workdir/work with opencode.json: the openai provider at the
    stand-in."""
    work = os.path.join(workdir, "work")
    if not os.path.isdir(work):
        os.makedirs(work)
        cfg = {"provider": {"openai": {"options": {
                   "baseURL": "https://%s/v1" % e2elib.OPENAI_HOST, "apiKey": KEY}}},
               "model": "openai/" + MODEL, "autoupdate": False, "share": "disabled"}
        with open(os.path.join(work, "opencode.json"), "w") as f:
            json.dump(cfg, f)
    return work


def opencode(server, exe, workdir, name, args):
    """OpenCode with @args in @workdir/work, HOME @workdir/@name."""
    return e2elib.Client(server, [exe] + list(args), env_extra=opencode_env(workdir, name),
                         cwd=workdir_of(workdir))


def probed_first(server, sensor, exe, workdir):
    """Has @sensor read @exe before the run under test (a file is read at
    its first exec, which can take longer than a run's start): `opencode
    serve`, a headless server on a loopback port of its choosing, runs
    until the sensor has decided."""
    c = opencode(server, exe, workdir, "home-serve",
                 ["serve", "--hostname", "127.0.0.1", "--port", "0"])
    try:
        return agentlib.wait_probed(sensor, exe, timeout=60)
    finally:
        c.kill()


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_opencode_run(server, no_other_sensor, tmp_path, version):
    exe = opencode_exe(version)
    with open(exe, "rb") as f:
        assert b"Bun v%s" % VERSIONS[version].encode() in f.read()
    tag_without, tag = "without-%s" % version, "with-%s" % version
    prompt = "Reply with the words opencode says hello, %s."
    without = opencode(server, exe, str(tmp_path), "home-without",
                       ["run", prompt % tag_without]).wait(180)
    sensor = e2elib.Sensor(str(tmp_path)).start()
    try:
        probed_first(server, sensor, exe, str(tmp_path))
        seen = len(server.requests())
        c = opencode(server, exe, str(tmp_path), "home", ["run", prompt % tag]).wait(180)
        agentlib.same_output(without.stdout, c.stdout, tag_without, tag)
        assert c.stderr == without.stderr
        reqs = [r for r in server.requests()[seen:] if tag in r["body"]]
        # the title's (twice in 1.0.185) and the prompt's
        assert len(reqs) >= 2 and {r["path"] for r in reqs} == {"/v1/responses"}, reqs
        evs = e2elib.EventLog(sensor.out).wait_pid(c.pid, 2 * len(reqs), timeout=20)
        assert len(evs) == 2 * len(reqs), [e["event_type"] for e in evs]
        left = pairs(evs)
        printed = 0
        for req in reqs:
            kw = expected_of(req)
            assert kw["streaming"] is True, req
            # each call's pair, told apart by its messages
            mine = [(q, r) for q, r in left
                    if [m["content"] for m in q["data"].get("messages") or []] ==
                    [m["content"] for m in kw["messages"]]]
            assert mine, (kw["model"], kw["messages"], left)
            q, r = mine[0]
            left.remove((q, r))
            assert r is not None, "no ai.response paired with the %s call" % kw["model"]
            check_pair(q, r, pid=c.pid, exe=exe, name="opencode", **kw)
            printed += kw["text"] in c.stdout
        # the prompt's reply is printed (the stand-in's title is the same echo)
        assert printed >= 1, c.stdout
        assert MODEL in [json.loads(r["body"])["model"] for r in reqs], reqs
    finally:
        agentlib.stop_and_check(sensor, server)

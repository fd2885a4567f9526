"""The sensor against Claude Code executables from npm
(@anthropic-ai/claude-code-linux-x64, two releases; tests/fetch-agent-
exes.sh caches them): programs compiled with Bun, BoringSSL linked in
statically with no SSL_* symbol.  `claude -p PROMPT` talks to the
Anthropic Messages stand-in (fixture_server.py) at api.anthropic.com:
ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY, the test CA through
NODE_EXTRA_CA_CERTS, a new HOME per run, no telemetry or other traffic
(DISABLE_TELEMETRY, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC), in a
directory that is not a git work tree.  Before its call it asks for
/api/claude_code/settings and /api/claude_code/policy_limits, each on a
connection of its own, which the stand-in answers 404 (no organisation
settings or policy); then it streams one POST /v1/messages?beta=true and
prints the reply's text.  Each release runs once with no sensor on the
machine and once with one: the output is the same, and the call is one
complete request/response pair."""
import os

import pytest

import agentlib
import e2elib
from e2elib import check_pair, expected, one_call

# Releases over eight months: each is captured without a change to the sensor.
VERSIONS = ["2.1.123", "2.1.159", "2.1.200", "2.1.252", "2.1.286", "2.1.316", "2.1.337"]
KEY = "sk-ant-test-claude-" + e2elib.KEY_MARK


def claude_env(workdir, name):
    """The environment of a Claude Code run: HOME a new @workdir/@name."""
    home = os.path.join(workdir, name)
    os.makedirs(home)
    return {"HOME": home, "ANTHROPIC_BASE_URL": "https://%s" % e2elib.ANTHROPIC_HOST,
            "ANTHROPIC_API_KEY": KEY, "DISABLE_TELEMETRY": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"}


def claude_run(server, exe, workdir, name, prompt):
    """`claude -p @prompt` in @workdir/work with HOME @workdir/@name;
    returns the finished Client."""
    work = os.path.join(workdir, "work")
    os.makedirs(work, exist_ok=True)
    return e2elib.Client(server, [exe, "-p", prompt], env_extra=claude_env(workdir, name),
                         cwd=work).wait(120)


def probed_first(server, sensor, exe, workdir):
    """Has @sensor read @exe before the run under test (it reads an
    executable at its first exec, which can take longer than a program's
    start on a loaded machine): `claude mcp serve`, a stdio MCP server
    that waits on stdin, runs until the sensor has decided."""
    c = e2elib.Client(server, [exe, "mcp", "serve"], env_extra=claude_env(workdir, "home-mcp"),
                      stdin=True)
    try:
        return agentlib.wait_probed(sensor, exe)
    finally:
        c.kill()


@pytest.mark.parametrize("version", VERSIONS)
def test_claude_print(server, no_other_sensor, tmp_path, version):
    exe = agentlib.agent_exe("@anthropic-ai/claude-code-linux-x64", version, "claude")
    # one word each (the same token counts), neither inside the other
    tag_without, tag = "without-%s" % version, "with-%s" % version
    prompt = "Reply with the words claude says hello, %s."
    without = claude_run(server, exe, str(tmp_path), "home-without", prompt % tag_without)
    sensor = e2elib.Sensor(str(tmp_path)).start()
    try:
        probed_first(server, sensor, exe, str(tmp_path))
        c = claude_run(server, exe, str(tmp_path), "home", prompt % tag)
        agentlib.same_output(without.stdout, c.stdout, tag_without, tag)
        assert c.stderr == without.stderr == ""
        text = prompt % tag
        kw = expected(server, text)
        # the reply echoes the last user message: Claude Code's context
        # reminders, then the prompt
        assert kw["text"].startswith("Echo: ") and kw["text"].endswith("\n" + text), kw["text"]
        assert c.stdout == kw["text"] + "\n"
        assert kw["path"] == "/v1/messages" and kw["streaming"] is True
        assert kw["provider"] == "anthropic" and kw["auth_type"] == "api_key"
        evs = e2elib.EventLog(sensor.out).wait_pid(c.pid, 2, timeout=20)
        q, r = one_call(evs, text)
        check_pair(q, r, pid=c.pid, exe=exe, name="claude", **kw)
        assert len(evs) == 2, [e["event_type"] for e in evs]
    finally:
        agentlib.stop_and_check(sensor, server)

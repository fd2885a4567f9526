"""The sensor against the Codex CLI (npm @openai/codex, two releases: a
stripped static-PIE musl Rust executable, rustls over aws-lc) speaking
the Responses API over WebSocket, which Codex uses when its provider
says `supports_websockets = true`: GET /v1/responses with
`OpenAI-Beta: responses_websockets=...`, then one `response.create`
message per turn.  The stand-in is ws_server.py (test_sensor_ws.py's
fixture); Codex trusts the test CA through CODEX_CA_CERTIFICATE.

One `codex exec` makes three turns: a prewarm (`generate: false`,
answered with an empty response; 0.144.5 sends it on a WebSocket of its
own, 0.171.0 on the one of the other turns), the user's prompt, which the stand-in answers with
a call of Codex's first tool, and the tool's output, answered with text
that Codex prints.  Each turn must be one ai.request/ai.response pair
that says what went over the wire.

The same-output tests run Deno's fetch() (two releases, the chat
completions stand-in) and `codex exec` (two releases, over WebSocket)
once with no sensor on the machine and once under a sensor: what the
program prints is the same."""
import json
import os
import tempfile

import pytest

import agentlib
import e2elib
import fixture_model as fm
from e2elib import check_pair, expected, one_call
from test_sensor_rustls import CODEXES, DENOS, SCRIPT, codex_exe, deno_exe, status_file
from test_sensor_ws import check_answer, check_ws_http, one_pair, ws  # noqa: F401  (a fixture)

CODEX_WS_CONFIG = """\
model = "gpt-4.1-mini"
model_provider = "standin"
[model_providers.standin]
name = "standin"
base_url = "https://%s/v1"
env_key = "OPENAI_API_KEY"
wire_api = "responses"
supports_websockets = true
""" % e2elib.OPENAI_HOST


def codex_env(d, ca):
    """Environment of a codex run whose home is @d (written here: its
    config.toml names the stand-in provider) trusting @ca."""
    with open(os.path.join(d, "config.toml"), "w") as f:
        f.write(CODEX_WS_CONFIG)
    return {"CODEX_HOME": d, "HOME": d, "OPENAI_API_KEY": "sk-test-codex-0123456789",
            "CODEX_CA_CERTIFICATE": ca, "NO_COLOR": "1"}


def run_codex(front, exe, d, env, msg, known_pids=None):
    """`codex exec @msg` in @d against @front; returns the finished Client."""
    c = e2elib.Client(front, [exe, "exec", "--skip-git-repo-check", "-C", d, msg],
                      env_extra=env)
    if known_pids is not None:
        known_pids.add(c.pid)
    c.wait(120, check=False)
    assert c.proc.returncode == 0, (c.stdout, c.stderr)
    return c


def wait_codex_probed(sensor_run, front, exe, env):
    """Runs `codex --version` so that the sensor identifies the file, and
    waits until status lists it probed: a call made before its probes
    are attached is missed."""
    e2elib.Client(front, [exe, "--version"], env_extra=env).wait(60)
    e2elib.wait_until(lambda: status_file(sensor_run.sensor, exe) is not None,
                      30, "%s in status" % exe)
    f = status_file(sensor_run.sensor, exe)
    assert f["stack"] == "rustls" and "skipped" not in f, f


@pytest.mark.parametrize("version", CODEXES)
def test_codex_exec_websocket(sensor_run, ws, version):
    exe = codex_exe(version)
    front = ws.fronts["deflate"]
    msg = "codex %s over websocket says hello" % version
    with tempfile.TemporaryDirectory(prefix="oisp-codex-ws-") as d:
        env = codex_env(d, front.ca)
        wait_codex_probed(sensor_run, front, exe, env)
        # the server writes its log at its first connection
        seen = len(ws.log()) if os.path.exists(ws.log_path) else 0
        c = run_codex(front, exe, d, env, msg, sensor_run.known_pids)

    # What went over the wire, from the stand-in's log: Codex upgraded
    # with its beta header and sent a response.create per turn (0.144.5
    # its prewarm on a connection of its own, 0.171.0 on the same one).
    log = ws.log()[seen:]
    opened = [r for r in log if r["kind"] == "open"]
    assert opened and all(r["path"] == "/v1/responses" for r in opened), opened
    for r in opened:
        hdrs = {k.lower(): v for k, v in r["headers"]}
        assert hdrs["openai-beta"].startswith("responses_websockets="), hdrs
        assert hdrs["user-agent"].startswith("codex_exec/%s " % version), hdrs
        assert r["extensions"].startswith("permessage-deflate"), r
    sent = [json.loads(r["text"]) for r in log if r["kind"] == "in"]
    answers = [r for r in log if r["kind"] == "answer"]
    assert [b["type"] for b in sent] == ["response.create"] * 3, sent
    assert sent[0].get("generate") is False, "the first turn is Codex's prewarm"
    assert [(a["text"] is None, bool(a["tool_calls"])) for a in answers] == [
        (True, False), (True, True), (False, False)], answers
    reply = answers[-1]["text"]
    assert reply and reply in c.stdout, (reply, c.stdout)

    evs = sensor_run.events.wait_pid(c.pid, 6, timeout=20)
    pairs = e2elib.pairs(evs)
    assert len(pairs) == 3 and len(evs) == 6, [e["event_type"] for e in evs]
    for (q, r), body, ans in zip(pairs, sent, answers):
        assert r is not None, "no ai.response for %s" % ans["id"]
        # made on a "tokio-rt-worker" thread; the name is the process's
        qd, rd = e2elib.check_envelopes(q, r, pid=c.pid, exe=exe, name="codex")
        check_ws_http(qd, rd, "/v1/responses")
        assert qd["api"] == "openai.responses" and qd["request_type"] == "chat", qd
        assert qd["model"]["id"] == body["model"] == "gpt-4.1-mini"
        if "instructions" in body:     # 0.144.5; 0.171.0 sends a developer message
            assert qd["has_system_prompt"] is True
            assert qd["messages"][0] == {"role": "system", "content": body["instructions"]}
        assert [t["name"] for t in qd["tools"]] == [
            t.get("name") or t["type"] for t in body["tools"]], qd["tools"]
        assert rd["provider_request_id"] == ans["id"]
        if ans is answers[0]:
            # the prewarm: a completed response with no output
            assert rd["success"] is True and rd["usage"]["total_tokens"] == 0, rd
            continue
        conn = [x for x in log if x["conn"] == ans["conn"]]
        res = {"id": ans["id"], "model": fm.openai_response_model(body["model"]),
               "text": ans["text"],
               "usage": ans["usage"], "status": ans["status"],
               "tool_calls": [{k: t[k] for k in ("call_id", "name", "arguments")}
                              for t in ans["tool_calls"]]}
        check_answer(ws, conn, qd, rd, res)
    # the user's turn: the prompt is its last message
    q1 = pairs[1][0]["data"]
    assert q1["messages"][-1] == {"role": "user", "content": msg}, q1["messages"][-3:]
    # the last turn carries the tool's output back and gets the text
    # that codex printed
    q2 = pairs[2][0]["data"]
    assert q2["messages"][-1]["role"] == "tool", q2["messages"][-1]
    assert q2["messages"][-1]["tool_call_id"] == answers[1]["tool_calls"][0]["call_id"]
    assert pairs[2][1]["data"]["choices"][0]["message"]["content"] == reply


# ---------------------------------------------------------------------------
# The traced programs' own output is the same with and without the sensor:
# each run once with no sensor on the machine (no_other_sensor), then once
# under a sensor of the test's own, once it has probed the executable.

def deno_run(server, exe, tag, d, sensor=None):
    """deno_client.mjs (chat, stream) against @server; with @sensor, its
    calls start once the sensor has probed @exe.  Returns the finished
    Client."""
    env = {"DENO_CERT": server.ca, "DENO_DIR": d, "HOME": d,
           "DENO_NO_UPDATE_CHECK": "1", "NO_COLOR": "1"}
    c = e2elib.Client(server, [exe, "run", "--allow-net", "--allow-env", "--no-prompt",
                               SCRIPT, "chat", "stream", "--tag", tag],
                      env_extra=env, stdin=True)
    try:
        if sensor:
            agentlib.wait_probed(sensor, exe, stack="rustls")
        c.proc.stdin.write("go\n")
        c.proc.stdin.flush()
        return c.wait(60)
    finally:
        c.kill()


@pytest.mark.parametrize("version", DENOS)
def test_deno_same_output(server, no_other_sensor, tmp_path, version):
    exe = deno_exe(version)
    tag_without, tag = "without-%s" % version, "with-%s" % version
    with tempfile.TemporaryDirectory(prefix="oisp-deno-") as d:
        without = deno_run(server, exe, tag_without, d)
        sensor = e2elib.Sensor(str(tmp_path)).start()
        try:
            c = deno_run(server, exe, tag, d, sensor)
            # Each line names its process: the one varying field besides
            # the tag and the server's ids.
            agentlib.same_output(
                without.stdout.replace('"pid":%d,' % without.pid, '"pid":0,'),
                c.stdout.replace('"pid":%d,' % c.pid, '"pid":0,'), tag_without, tag)
            assert without.stderr == c.stderr == "", (without.stderr, c.stderr)
            res = c.results()
            assert [r["mode"] for r in res] == ["chat", "stream"], c.stdout
            evs = e2elib.EventLog(sensor.out).wait_pid(c.pid, 4)
            for r in res:
                q, resp = one_call(evs, r["message"])
                kw = expected(server, r["message"], provider_request_id=r["id"])
                check_pair(q, resp, pid=c.pid, exe=exe, name="deno", **kw)
            assert len(evs) == 4, [e["event_type"] for e in evs]
        finally:
            agentlib.stop_and_check(sensor, server)


@pytest.mark.parametrize("version", CODEXES)
def test_codex_same_output(ws, no_other_sensor, tmp_path, version):
    """codex exec over WebSocket: what it prints (the last turn's text)
    is the same; its stderr carries a session id and times, and is not
    compared."""
    exe = codex_exe(version)
    front = ws.fronts["deflate"]
    # the same length: the reply quotes a column of Codex's own message
    tag_without, tag = "unseen-%s" % version, "sensed-%s" % version
    msg = "codex %s says hello %%s" % version
    with tempfile.TemporaryDirectory(prefix="oisp-codex-ws-") as d:
        env = codex_env(d, front.ca)
        without = run_codex(front, exe, d, env, msg % tag_without)
        sensor = e2elib.Sensor(str(tmp_path)).start()
        try:
            e2elib.Client(front, [exe, "--version"], env_extra=env).wait(60)
            agentlib.wait_probed(sensor, exe, stack="rustls")
            c = run_codex(front, exe, d, env, msg % tag)
            assert without.stdout.strip(), without.stderr
            agentlib.same_output(without.stdout, c.stdout, tag_without, tag)
            evs = e2elib.EventLog(sensor.out).wait_pid(c.pid, 6, timeout=20)
            assert len(e2elib.pairs(evs)) == 3 and len(evs) == 6, [
                e["event_type"] for e in evs]
            one_pair(evs, msg % tag)
        finally:
            agentlib.stop_and_check(sensor, ws)

"""The rest of the sensor, for the agents' own TLS stacks: Bun's static
BoringSSL and Deno's rustls (the executables from npm that
tests/fetch-agent-exes.sh caches) in a container, in targeted mode, and
with large bodies and the per-call cap.  Each runs
clients/agent_call.mjs: one chat completion through fetch(), made once
the test has seen the sensor probe the executable.

- Container: the executable is a copy inside a fresh root filesystem
  (tests/mkrootfs.sh), so the sensor meets a file it has never read.  The
  process runs chrooted in its own PID and mount namespaces with its own
  /proc.
- Targeted mode: only Deno is selected (capture.targets.exe); a Bun call
  made at the same time is not captured, and Bun's file is not probed
  for it.
- Large bodies: a 1 MiB request is captured whole from both stacks
  (both write it 16 KiB at a time: Bun's SSL_write calls, Deno's
  records); with a 4 KiB per-call cap, the calls are cut and counted, and
  the event is marked partial with its fields taken from the body's
  prefix.
"""
import json
import os
import re
import shutil
import subprocess

import pytest

import agentlib
import e2elib
from e2elib import EventLog, check_pair, expected, one_call

SCRIPT = os.path.join(e2elib.CLIENTS, "agent_call.mjs")
BUN = ("@oven/bun-linux-x64", "1.4.5", "bin/bun", "BoringSSL")
DENO = ("@deno/linux-x64-glibc", "2.9.6", "deno", "rustls")
AGENTS = {"bun": BUN, "deno": DENO}
MKROOTFS = os.path.join(e2elib.ROOT, "tests", "mkrootfs.sh")


def agent(name):
    package, version, rel, stack = AGENTS[name]
    return agentlib.agent_exe(package, version, rel), stack


def argv(name, exe, script, tag, pad=0):
    if name == "deno":
        return [exe, "run", "--allow-net", "--allow-env", "--no-prompt", script, tag, str(pad)]
    return [exe, script, tag, str(pad)]


def env_of(name, ca, home):
    if name == "deno":
        return {"DENO_CERT": ca, "DENO_DIR": home, "HOME": home,
                "DENO_NO_UPDATE_CHECK": "1", "NO_COLOR": "1"}
    return {"NODE_EXTRA_CA_CERTS": ca, "SSL_CERT_FILE": ca, "HOME": home}


def entry_by_inode(sensor, path):
    st = os.stat(path)
    status = sensor.status()
    if status is None:
        # The sensor reads a new executable in its main loop (0.2-1.5 s
        # for these), and a status request can time out meanwhile.
        return None
    for f in status["attach"]["list"]:
        if f["dev"] == st.st_dev and f["ino"] == st.st_ino:
            return f
    return None


def go(proc):
    """Reads the client's "ready" line, then lets it call."""
    line = proc.stdout.readline()
    assert line == "ready\n", (line, proc.stderr.read() if proc.poll() is not None else "")
    proc.stdin.write("go\n")
    proc.stdin.flush()


def finish(proc, timeout=60):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("client timed out: %s" % err)
    assert proc.returncode == 0, "client exited %d: %s" % (proc.returncode, err)
    [res] = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    assert res["status"] == 200, res
    return res


@pytest.mark.parametrize("name", ["bun", "deno"])
def test_agent_in_a_container(sensor_run, name):
    exe, stack = agent(name)
    root = os.path.join(os.path.dirname(sensor_run.sensor.out), "agent-root-%s" % name)
    shutil.rmtree(root, ignore_errors=True)
    p = subprocess.run(["sh", MKROOTFS, root, "sh", exe], capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    try:
        shutil.copy(sensor_run.server.ca, os.path.join(root, "etc", "oisp-ca.pem"))
        shutil.copy(sensor_run.server.hosts, os.path.join(root, "etc", "hosts"))
        shutil.copy(SCRIPT, os.path.join(root, "tmp", "agent_call.mjs"))
        inner = os.path.join(root, exe.lstrip("/"))
        tag = "container %s" % name
        env = e2elib.clean_env(None, env_of(name, "/etc/oisp-ca.pem", "/tmp"))
        # The container's first process mounts its own /proc (Bun needs
        # one) and execs, through chroot, into the runtime.
        cmd = ["unshare", "--pid", "--mount", "--fork", "sh", "-c",
               'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"', root] + \
            argv(name, exe, "/tmp/agent_call.mjs", tag)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.PIPE, env=env, text=True,
                                start_new_session=True, preexec_fn=e2elib._die_with_parent)
        try:
            f = e2elib.wait_until(lambda: entry_by_inode(sensor_run.sensor, inner), 30,
                                  "the container's %s in status" % name)
            assert f["stack"] == stack and "skipped" not in f, f
            # The container's own copy, not the file it was copied from.
            host = os.stat(exe)
            assert (f["dev"], f["ino"]) != (host.st_dev, host.st_ino)
            go(proc)
            res = finish(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
        evs = sensor_run.events.wait(lambda e: res["message"] in json.dumps(e), 2)
        q, r = one_call(evs, res["message"])
        pid = q["process"]["pid"]
        sensor_run.known_pids.add(pid)
        assert pid != proc.pid
        kw = expected(sensor_run.server, res["message"], provider_request_id=res["id"])
        check_pair(q, r, pid=pid, name=name, **kw)
        assert r["data"]["choices"][0]["message"]["content"] == res["text"]
        assert r["data"]["usage"]["total_tokens"] == res["usage"]["total_tokens"]
    finally:
        shutil.rmtree(root, ignore_errors=True)


def file_offset(path, vaddr):
    """The file offset of virtual address @vaddr of ELF file @path."""
    out = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "LOAD":
            off, va, filesz = int(f[1], 16), int(f[2], 16), int(f[4], 16)
            if va <= vaddr < va + filesz:
                return vaddr - va + off
    raise AssertionError("%#x is in no LOAD segment of %s" % (vaddr, path))


def code_bytes(pid, path, found):
    """The first byte, in process @pid's memory, of each function whose
    address the status entry's "found" text names (@path's file): 0xcc
    where a uprobe sits."""
    real = os.path.realpath(path)
    maps = []
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            x = line.split()
            if len(x) >= 6 and os.path.realpath(x[5]) == real:
                start, end = (int(v, 16) for v in x[0].split("-"))
                maps.append((start, end, int(x[2], 16)))
    got = []
    with open("/proc/%d/mem" % pid, "rb") as mem:
        for va in (int(v, 16) for v in re.findall(r"0x[0-9a-f]+", found)):
            off = file_offset(path, va)
            [addr] = [s + off - o for s, e, o in maps if o <= off < o + e - s]
            mem.seek(addr)
            got.append(mem.read(1)[0])
    assert got, found
    return got


TARGETED = e2elib.SENSOR_CONFIG + """\
capture:
  targets:
    exe: ["*/deno"]
"""


def start_client(server, name, exe, tag, pad=0, home=None):
    return e2elib.Client(server, argv(name, exe, SCRIPT, tag, pad),
                         env_extra=env_of(name, server.ca, home), stdin=True)


def test_targeted_mode_selects_one_agent(server, no_other_sensor, tmp_path):
    deno, _ = agent("deno")
    bun, _ = agent("bun")
    s = e2elib.Sensor(str(tmp_path), config=TARGETED).start()
    try:
        d = start_client(server, "deno", deno, "targeted deno", home=str(tmp_path))
        b = start_client(server, "bun", bun, "targeted bun", home=str(tmp_path))
        try:
            f = agentlib.wait_probed(s, deno, stack="rustls")
            fb = agentlib.wait_probed(s, bun)
            # Probes sit in the selected process only (the first address
            # found is the one probed first: seal, SSL_write).
            e2elib.wait_until(lambda: code_bytes(d.pid, deno, f["found"])[0] == 0xCC, 10,
                              "no uprobe in deno")
            assert 0xCC not in code_bytes(b.pid, bun, fb["found"]), fb
            go(d.proc)
            go(b.proc)
            rd, rb = finish(d.proc), finish(b.proc)
        finally:
            d.kill()
            b.kill()
        evs = EventLog(s.out).wait_pid(d.pid, 2)
        q, r = one_call(evs, rd["message"])
        check_pair(q, r, pid=d.pid, exe=deno, name="deno",
                   **expected(server, rd["message"], provider_request_id=rd["id"]))
        # Bun was not selected: nothing of its call.
        assert EventLog(s.out).by_pid(b.pid) == []
        assert rb["message"] not in open(s.out).read()
        st = s.status()
        assert st["attach"]["targeted"] is True, st["attach"]
        assert st["capture"]["lost_records"] == 0
    finally:
        assert s.stop() == 0, s.log_tail()


CAPPED = e2elib.SENSOR_CONFIG + """\
capture:
  max_bytes_per_call: 4096
"""
MIB = 1 << 20


def lost(status):
    cap = status["capture"]
    return {k: cap[k] for k in ("lost_records", "lost_bytes", "read_faults", "missed_calls")}


def big_call(server, s, name, tag, pad, tmp_path):
    exe, stack = agent(name)
    c = start_client(server, name, exe, tag, pad=pad, home=str(tmp_path))
    try:
        agentlib.wait_probed(s, exe, stack=stack)
        go(c.proc)
        res = finish(c.proc)
    finally:
        c.kill()
    evs = EventLog(s.out).wait_pid(c.pid, 2, timeout=30)
    assert [e["event_type"] for e in evs] == ["ai.request", "ai.response"], evs
    q, r = evs
    assert r["data"]["choices"][0]["message"]["content"] == res["text"]
    return res, q, r


@pytest.mark.parametrize("name", ["bun", "deno"])
def test_agent_megabyte_request_whole(server, no_other_sensor, tmp_path, name):
    s = e2elib.Sensor(str(tmp_path)).start()
    try:
        before = lost(s.status())
        trunc = s.status()["capture"]["truncated_calls"]
        res, q, r = big_call(server, s, name, "big %s" % name, MIB, tmp_path)
        qd = q["data"]
        assert q["confidence"]["completeness"] == "full", (q["confidence"], qd["http"])
        assert qd["http"]["body_bytes"] == res["body_bytes"], (qd["http"], res["body_bytes"])
        assert "body_truncated" not in qd["http"]
        # The event line is cut to output.max_event_bytes (256000), the
        # oldest message's content first, and says so.
        sys_msg = qd["messages"][0]
        assert sys_msg["content_length"] == MIB, {k: sys_msg[k] for k in sys_msg if k != "content"}
        assert "abcdefghij".startswith(sys_msg["content"][:10])
        assert qd["shortened"]["strings"] == 1, qd["shortened"]
        assert qd["messages"][1]["content"] == res["message"]
        st = s.status()
        assert lost(st) == before
        assert st["capture"]["truncated_calls"] == trunc
    finally:
        assert s.stop() == 0, s.log_tail()


@pytest.mark.parametrize("name", ["bun", "deno"])
def test_agent_calls_over_the_per_call_cap(server, no_other_sensor, tmp_path, name):
    """With capture.max_bytes_per_call at 4 KiB, the writes of a 64 KiB
    body (Bun's SSL_write calls, Deno's 16 KiB records) are cut and
    counted, and the request event is partial with the model taken from
    the body's prefix; the small response is whole."""
    s = e2elib.Sensor(str(tmp_path), config=CAPPED).start()
    try:
        before = s.status()["capture"]
        res, q, r = big_call(server, s, name, "capped %s" % name, 64 << 10, tmp_path)
        after = s.status()["capture"]
        assert after["truncated_calls"] > before["truncated_calls"], after
        assert after["truncated_bytes"] - before["truncated_bytes"] >= (64 << 10) - 4 * 4096, after
        qd = q["data"]
        assert q["confidence"]["completeness"] == "partial", q["confidence"]
        assert qd["model"]["id"] == "gpt-4o-mini"
        assert qd["http"].get("body_truncated") is True, qd["http"]
        # The user's message lay past the cut.
        assert res["message"] not in json.dumps(q)
        assert r["confidence"]["completeness"] == "full", r["confidence"]
    finally:
        assert s.stop() == 0, s.log_tail()

"""Targeted mode (capture.targets.*): probes only in selected processes.

It checks the bytes of OpenSSL's code in processes, so no other tracer
may have uprobes on the same files while it runs: its sensor fixture
needs no_other_sensor (conftest.py), which stops the shared sensor.

- Selected processes (by exe, by cgroup, children forked by a selected
  process) are captured; others are not.
- An unselected process pays nothing: the kernel placed no breakpoint
  (int3, 0xcc) at SSL_write/SSL_read in its memory, while a selected
  process mapping the same file has one.
- A selected process that exits has its probes removed.
"""
import os
import subprocess
import time

import pytest

import e2elib
from e2elib import EventLog

LIBSSL = "/usr/lib/x86_64-linux-gnu/libssl.so.3"
NODE = "/usr/bin/node"
CGROUP_V2 = "/sys/fs/cgroup/unified"

CONFIG = e2elib.SENSOR_CONFIG + """\
capture:
  targets:
    exe: ["/usr/bin/python3*"]
    cgroup: ["/oisp-target-*"]
"""


def _sym_offset(path, name):
    out = subprocess.run(["readelf", "-W", "--dyn-syms", path], capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) > 7 and f[7].split("@")[0] == name and int(f[1], 16):
            return int(f[1], 16)
    raise AssertionError("%s not in %s" % (name, path))


def _code_byte(pid, path, name):
    """The first byte of function @name of file @path in process @pid's
    memory: 0xcc when a uprobe sits there."""
    off = _sym_offset(path, name)
    real = os.path.realpath(path)
    with open("/proc/%d/maps" % pid) as maps:
        for line in maps:
            f = line.split()
            if len(f) < 6 or os.path.realpath(f[5]) != real:
                continue
            start, end = (int(x, 16) for x in f[0].split("-"))
            foff = int(f[2], 16)
            if foff <= off < foff + end - start:
                with open("/proc/%d/mem" % pid, "rb") as mem:
                    mem.seek(start + off - foff)
                    return mem.read(1)[0]
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        with open("/proc/%d/maps" % pid) as f:
            maps = f.read()
    except OSError as e:
        stat = maps = str(e)
    raise AssertionError("%s+%#x not mapped in %d (%s):\n%s" % (path, off, pid, stat, maps))


def _wait(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.fixture(scope="function", params=["multi", "perf"])
def targeted(no_other_sensor, server, tmp_path, request):
    """A targeted sensor, with uprobe_multi links and with perf-event
    uprobes (both filter by process), the only tracer on the host."""
    s = e2elib.Sensor(str(tmp_path), config=CONFIG + "  attach_mode: %s\n" % request.param)
    s.mode = request.param
    s.start()
    yield s
    assert s.stop() == 0, s.log_tail()


def test_only_selected_processes_are_traced(server, targeted):
    s = targeted
    st = s.status()
    assert st["attach"]["targeted"] is True, st
    assert st["attach"]["mode"] == ("uprobe_multi" if s.mode == "multi" else "perf-event"), st
    # Other selected processes (this test's own python, the fixture
    # server) were linked at start.
    before = st["capture"]["procs_targeted"]
    # A selected process (python by its exe) that stays up between calls.
    sel = e2elib.Client(server, [e2elib.PYTHON, os.path.join(e2elib.CLIENTS, "py_early.py"),
                                 "targeted"], stdin=True)
    first = sel.proc.stdout.readline()
    assert '"ready"' in sel.proc.stdout.readline(), (first, sel.proc.stderr.read())
    # An unselected one mapping OpenSSL (node links it statically).
    other = subprocess.Popen([NODE, "-e", "setTimeout(() => {}, 60000)"])
    try:
        _wait(lambda: os.path.exists("/proc/%d/maps" % other.pid) and
              NODE in open("/proc/%d/maps" % other.pid).read(), 10, "node did not start")
        time.sleep(0.3)
        for fn in ("SSL_write", "SSL_read", "SSL_write_ex", "SSL_read_ex"):
            assert _code_byte(sel.pid, LIBSSL, fn) == 0xCC, fn
            assert _code_byte(other.pid, NODE, fn) != 0xCC, fn
        # An unselected curl call is not captured, the selected calls are.
        curl = e2elib.curl_client(server, "chat", "targeted curl is not traced")
        sel.proc.stdin.write("go\n")
        sel.proc.stdin.flush()
        sel.wait(30)
        evs = EventLog(s.out).wait_pid(sel.pid, 6)
        got = [e["data"]["messages"][0]["content"] for e in evs
               if e["event_type"] == "ai.request"]
        assert got == ["early before says hello targeted",
                       "early same-conn says hello targeted",
                       "early new-conn says hello targeted"], got
        assert EventLog(s.out).by_pid(curl.pid) == []
        assert "targeted curl" not in open(s.out).read()
        st = s.status()
        assert st["capture"]["lost_records"] == 0
    finally:
        other.kill()
        other.wait()
    # The selected process exited: its probes go.
    _wait(lambda: s.status()["capture"]["procs_targeted"] == before, 10,
          "probes of an exited process are still counted")


def test_cgroup_and_forked_children_are_selected(server, targeted, tmp_path):
    s = targeted
    cg = os.path.join(CGROUP_V2, "oisp-target-%d" % os.getpid())
    os.makedirs(cg, exist_ok=True)
    try:
        # curl is not selected by its exe; it is by the cgroup it starts
        # in, at its exec; it starts 0.3 s later, since the probes take a
        # kernel grace period to register (README, "New libraries").
        c = e2elib.run_client(server, [
            "sh", "-c", 'echo $$ > "$1/cgroup.procs" && exec sh -c '
            '"sleep 0.3; exec sh $2 chat \'curl in a selected cgroup\'"',
            "sh", cg, os.path.join(e2elib.CLIENTS, "curl_client.sh")])
        evs = EventLog(s.out).wait_pid(c.pid, 2)
        assert len(evs) == 2, s.log_tail()
        # A selected python forks; the child (no exec) makes the call.
        f = e2elib.run_client(server, [e2elib.PYTHON, os.path.join(e2elib.CLIENTS, "py_fork.py"),
                                       "from a forked child"])
        child = f.results()[0]["child"]
        evs = EventLog(s.out).wait_pid(child, 2)
        assert [e["event_type"] for e in evs] == ["ai.request", "ai.response"], s.log_tail()
        assert evs[0]["data"]["messages"][0]["content"] == "from a forked child"
        assert EventLog(s.out).by_pid(f.pid) == []
    finally:
        os.rmdir(cg)

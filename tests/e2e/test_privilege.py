"""Least privilege, measured with real calls.

- The sensor runs with only CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN,
  CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH (setpriv's bounding set, as
  root: what the DaemonSet gives it) and captures a call.
- Each of them is dropped in turn, to show what needs it: a process of
  another user (nobody) that runs its own copy of libssl from a 0700
  directory is the case that needs CAP_SYS_PTRACE (its /proc/PID/maps)
  and CAP_DAC_READ_SEARCH (the file).  With uprobe_multi links (this
  kernel's default) CAP_SYS_ADMIN is not needed; with perf-event uprobes
  (capture.attach_mode: perf, the only way on kernels before 6.6) the
  perf events cannot be opened without it (EACCES) and nothing is
  attached.
- A library deleted since it was mapped is reached through
  /proc/PID/map_files: CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN.  What
  cannot be inspected is counted (capture.procs_denied).
- Once attached, the sensor keeps CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE,
  CAP_DAC_READ_SEARCH and CAP_CHECKPOINT_RESTORE (and CAP_SYS_ADMIN too with perf-event
  uprobes) and nothing else, in every set (effective, permitted,
  bounding; inheritable and ambient empty, no_new_privs), and still
  attaches files of processes started later.
- File modes: events file 0640 even with umask 000, directories 0750,
  status socket 0660, lock file 0640.
The metrics allow-list is tested in test_metrics.py
(test_client_outside_the_allow_list_is_refused).
"""
import os
import pathlib
import shutil
import stat
import subprocess
import time

import pytest

import e2elib
from e2elib import EventLog

CAPS = {"dac_read_search": 2, "sys_ptrace": 19, "sys_admin": 21,
        "perfmon": 38, "bpf": 39, "checkpoint_restore": 40}
RUN_MASK = sum(1 << n for c, n in CAPS.items() if c != "sys_admin")
PERF_CONFIG = e2elib.SENSOR_CONFIG + "capture:\n  attach_mode: perf\n"
NOBODY = 65534
LIBSSL = "/usr/lib/x86_64-linux-gnu/libssl.so.3"


def _proc_status(pid, tid=None):
    path = "/proc/%d/task/%d/status" % (pid, tid) if tid else "/proc/%d/status" % pid
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def _wrapped_sensor(monkeypatch, tmp_path, caps, config=e2elib.SENSOR_CONFIG):
    """e2elib.Sensor run through setpriv with a bounding set of @caps
    (for uid 0 the bounding set is what exec grants)."""
    bs = "-all" + "".join(",+" + c for c in caps)
    wrapper = tmp_path / "sensor-wrapper.sh"
    wrapper.write_text('#!/bin/sh\nexec setpriv --bounding-set=%s --inh-caps=-all -- %s "$@"\n'
                       % (bs, e2elib.SENSOR))
    wrapper.chmod(0o755)
    monkeypatch.setattr(e2elib, "SENSOR", str(wrapper))
    return e2elib.Sensor(str(tmp_path), config=config)


@pytest.fixture(scope="module")
def other_user(server):
    """A CA that nobody can read, and a private libssl: 0600 in a 0700
    directory, both owned by nobody (pytest's tmp_path is 0700)."""
    top = e2elib.workdir("oisp-privilege-")
    yield _other_user(server, top)
    e2elib.rmtree(top)


def _other_user(server, top):
    d = pathlib.Path(top)
    os.chmod(d, 0o755)
    pub = d / "pub"
    pub.mkdir(mode=0o755)
    ca = pub / "ca.pem"
    shutil.copy(server.ca, ca)
    os.chmod(ca, 0o644)
    priv = d / "priv"
    priv.mkdir(mode=0o700)
    lib = priv / "libssl.so.3"
    shutil.copy(LIBSSL, lib)
    os.chmod(lib, 0o600)
    os.chown(lib, NOBODY, NOBODY)
    os.chown(priv, NOBODY, NOBODY)
    return {"ca": str(ca), "lib": str(lib), "dir": str(priv)}


def _nobody_client(server, other, tag):
    """py_early.py as nobody with its own libssl: connects and calls at
    once, then waits for a line on stdin and makes two more calls."""
    c = e2elib.Client(server, ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                               "--clear-groups", e2elib.PYTHON,
                               os.path.join(e2elib.CLIENTS, "py_early.py"), tag],
                      stdin=True, env_extra={"OISP_CA": other["ca"],
                                             "LD_LIBRARY_PATH": other["dir"]})
    first = c.proc.stdout.readline()
    ready = c.proc.stdout.readline()
    assert '"ready"' in ready, (first, ready, c.proc.stderr.read())
    with open("/proc/%d/maps" % c.pid) as f:
        assert other["lib"] in f.read(), "the client does not use its own libssl"
    return c


def _denied_to_root():
    """Processes whose maps even full root cannot read here (this
    sandbox's pid 1 belongs to an outer user namespace)."""
    n = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/maps" % d):
                    pass
            except PermissionError:
                n += 1
            except OSError:
                pass
    return n


def _go(c):
    c.proc.stdin.write("go\n")
    c.proc.stdin.flush()
    c.wait(60)


def _attached(s):
    return [f["path"] for f in s.status()["attach"]["list"]]


ALL = sorted(CAPS)


@pytest.mark.parametrize("dropped,mode", [
    (None, "multi"), ("sys_ptrace", "multi"), ("dac_read_search", "multi"),
    ("sys_admin", "multi"), ("bpf", "multi"), ("perfmon", "multi"),
    ("bpf,perfmon", "multi"), ("sys_admin,bpf", "multi"),
    (None, "perf"), ("sys_admin", "perf")])
def test_which_capability_is_needed_for_what(sensor_run, other_user, monkeypatch,
                                             tmp_path, dropped, mode):
    gone = (dropped or "").split(",")
    caps = [c for c in ALL if c not in gone]
    early = _nobody_client(sensor_run.server, other_user, "caps-%s-%s" % (dropped, mode))
    sensor_run.known_pids.add(early.pid)
    s = _wrapped_sensor(monkeypatch, tmp_path, caps,
                        PERF_CONFIG if mode == "perf" else e2elib.SENSOR_CONFIG)
    if dropped == "sys_admin,bpf":
        # Loading the programs needs CAP_BPF (or CAP_SYS_ADMIN): refused.
        with pytest.raises(AssertionError):
            s.start(ready_timeout=5)
        assert s.proc.wait(10) != 0
        assert "load BPF programs: Operation not permitted" in s.log_tail(400), \
            s.log_tail(400)
        return
    s.start()
    try:
        eff = int(_proc_status(s.proc.pid)["CapEff"], 16)
        # Once attached: what it had of the run set (no CAP_SYS_ADMIN
        # with uprobe_multi links).
        kept = [c for c in caps if mode == "perf" or c != "sys_admin"]
        assert eff == sum(1 << CAPS[c] for c in kept), hex(eff)
        _go(early)
        c = e2elib.curl_client(sensor_run.server, "chat", "caps without %s" % dropped)
        sensor_run.known_pids.add(c.pid)
        host = EventLog(s.out).wait_pid(c.pid, 2, timeout=5)
        nobody = EventLog(s.out).wait_pid(early.pid, 4, timeout=3)
        st = s.status()
        attached = _attached(s)
    finally:
        assert s.stop() == 0, s.log_tail()
    log = s.log_tail(100000)
    assert ("uprobes: %s links" % ("uprobe_multi" if mode == "multi" else "perf-event")) in log
    if dropped == "sys_admin" and mode == "perf":
        # perf_event_open(2) of the uprobe PMU: EACCES without
        # CAP_SYS_ADMIN, CAP_PERFMON is not enough.
        assert host == [] and nobody == []
        assert st["capture"]["attach_errors"] >= 1 and attached == []
        assert "perf event: Permission denied" in log, log
        return
    # A root process using the host's libssl: always seen.
    assert len(host) == 2, log
    if dropped in ("sys_ptrace", "dac_read_search"):
        # sys_ptrace: nobody's /proc/PID/maps cannot be read, so its libssl
        # is never found.  dac_read_search: found, but neither the 0700
        # directory nor the 0600 file can be opened.
        assert other_user["lib"] not in attached, attached
        assert nobody == []
        # ... and that is not silent: counted in status.
        assert st["capture"]["procs_denied"] > _denied_to_root(), st["capture"]
        assert "could not be inspected" in log, log
    else:
        # bpf or perfmon dropped: CAP_SYS_ADMIN implies both on this kernel;
        # sys_admin dropped: uprobe_multi links need CAP_BPF and CAP_PERFMON.
        assert other_user["lib"] in attached, attached
        assert st["capture"]["procs_denied"] == _denied_to_root(), st["capture"]
        got = [e["data"]["messages"][0]["content"] for e in nobody
               if e["event_type"] == "ai.request"]
        assert "early same-conn says hello caps-%s-%s" % (dropped, mode) in got, got
        assert {e["actor"]["uid"] for e in nobody} == {NOBODY}
        assert {e["actor"]["gid"] for e in nobody} == {NOBODY}


def test_capabilities_once_attached(sensor_run):
    """The shared sensor (conftest.py), started as full root: only the four are left
    (uprobe_multi links need no CAP_SYS_ADMIN), in every thread and every
    set, and no way back through exec."""
    pid = sensor_run.sensor.proc.pid
    for tid in map(int, os.listdir("/proc/%d/task" % pid)):
        st = _proc_status(pid, tid)
        for k in ("CapEff", "CapPrm", "CapBnd"):
            assert int(st[k], 16) == RUN_MASK, (tid, k, st[k])
        assert int(st["CapInh"], 16) == 0 and int(st["CapAmb"], 16) == 0
        assert st["NoNewPrivs"] == "1"
    log = sensor_run.sensor.log_tail(10000)
    assert ("capabilities once attached: cap_dac_read_search,cap_sys_ptrace,"
            "cap_perfmon,cap_bpf,cap_checkpoint_restore") in log


def test_after_the_drop_new_processes_are_still_attached(sensor_run, other_user):
    """Attaching at exec (a new user, a new libssl, after the drop) works
    with what is kept."""
    s = sensor_run.sensor
    c = e2elib.Client(sensor_run.server,
                      ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                       "--clear-groups", e2elib.PYTHON,
                       os.path.join(e2elib.CLIENTS, "py_early.py"), "late-nobody"],
                      stdin=True, env_extra={"OISP_CA": other_user["ca"],
                                             "LD_LIBRARY_PATH": other_user["dir"]})
    sensor_run.known_pids.add(c.pid)
    c.proc.stdout.readline()
    assert '"ready"' in c.proc.stdout.readline(), c.proc.stderr.read()
    deadline = time.monotonic() + 10
    while other_user["lib"] not in _attached(s):
        assert time.monotonic() < deadline, _attached(s)
        time.sleep(0.1)
    _go(c)
    got = [e["data"]["messages"][0]["content"] for e in sensor_run.events.wait_pid(c.pid, 4)
           if e["event_type"] == "ai.request"]
    assert "early new-conn says hello late-nobody" in got, got


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_file_modes(tmp_path, umask):
    s = e2elib.Sensor(str(tmp_path))
    s.out = str(tmp_path / "new" / "dir" / "events.jsonl")
    s.sock = str(tmp_path / "run" / "status.sock")
    old = os.umask(umask)
    try:
        s.start()
    finally:
        os.umask(old)
    try:
        def mode(p):
            return stat.S_IMODE(os.stat(p).st_mode)
        assert mode(s.out) == 0o640
        assert mode(tmp_path / "new") == 0o750 and mode(tmp_path / "new" / "dir") == 0o750
        assert stat.S_ISSOCK(os.stat(s.sock).st_mode)
        assert mode(s.sock) == 0o660, oct(mode(s.sock))
        assert mode(tmp_path / "run") == 0o750
        assert mode(tmp_path / "run" / "oisp-sensor.lock") == 0o640
    finally:
        assert s.stop() == 0, s.log_tail()


@pytest.mark.parametrize("dropped", [None, "checkpoint_restore", "sys_admin,checkpoint_restore"])
def test_deleted_library_needs_map_files(sensor_run, monkeypatch, tmp_path, dropped):
    """A process still running a libssl that was deleted since (what a
    package upgrade leaves behind) is reached through
    /proc/PID/map_files, which needs CAP_CHECKPOINT_RESTORE or
    CAP_SYS_ADMIN.  Without both it is missed, and counted."""
    libdir = tmp_path / "lib"
    libdir.mkdir()
    shutil.copy(LIBSSL, libdir / "libssl.so.3")
    early = e2elib.Client(sensor_run.server, [e2elib.PYTHON, os.path.join(
        e2elib.CLIENTS, "py_early.py"), "deleted-%s" % dropped], stdin=True,
        env_extra={"LD_LIBRARY_PATH": str(libdir)})
    sensor_run.known_pids.add(early.pid)
    early.proc.stdout.readline()
    assert '"ready"' in early.proc.stdout.readline(), early.proc.stderr.read()
    os.unlink(libdir / "libssl.so.3")
    with open("/proc/%d/maps" % early.pid) as f:
        assert "libssl.so.3 (deleted)" in f.read()
    gone = (dropped or "").split(",")
    s = _wrapped_sensor(monkeypatch, tmp_path, [c for c in ALL if c not in gone]).start()
    try:
        _go(early)
        evs = EventLog(s.out).wait_pid(early.pid, 4, timeout=5)
        st = s.status()
    finally:
        assert s.stop() == 0, s.log_tail()
    if dropped == "sys_admin,checkpoint_restore":
        assert evs == []
        assert st["capture"]["procs_denied"] > _denied_to_root(), st
    else:
        got = [e["data"]["messages"][0]["content"] for e in evs
               if e["event_type"] == "ai.request"]
        assert "early same-conn says hello deleted-%s" % dropped in got, got
        assert any(f["path"].endswith("libssl.so.3 (deleted)") for f in st["attach"]["list"]), st

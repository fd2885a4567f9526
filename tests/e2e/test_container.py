"""Containers without Docker: a client in its own PID and mount namespace,
chrooted into a root filesystem that holds its own copy of libssl (a file
the host's filesystem view does not have), is captured from its very first
call.

Each container is fresh: tests/mkrootfs.sh copies sh, sleep, curl and
the libraries ldd names into a new directory, the test CA and a hosts file
pointing api.openai.com at the fixture server go into its /etc, and
  unshare --pid --mount --fork chroot ROOT /bin/sh -c 'sleep 0.25 && exec curl ...'
makes one OpenAI chat call.  The shell is the container's entrypoint and
its first process (pid 1 of the new PID namespace); it execs into curl,
whose first SSL_write is the call checked.  curl's libssl is mapped only
after that last exec, so the call is captured because the sensor attached
to the container's libssl at the entrypoint's exec (a root not seen
before), not because it found it in curl's maps.

Why the quarter second: registering a uprobe waits for one RCU grace
period when none was registered just before (the kernel's dup_mmap_sem),
8-20 ms on an idle machine here and up to ~100 ms under load.  curl over
loopback makes its first SSL_write about 10 ms after its exec, sooner
than any sensor that attaches after the exec can be ready; real clients
(an SDK importing, DNS, a real network) take far longer.  The delay
stands for that startup; it does not wait for the sensor.
"""
import json
import os
import shutil
import subprocess
import time

import e2elib
from e2elib import check_pair, expected, one_call

MKROOTFS = os.path.join(e2elib.ROOT, "tests", "mkrootfs.sh")
HOST_LIBSSL = "/usr/lib/x86_64-linux-gnu/libssl.so.3"
LIBSSL_IN_ROOT = "usr/lib/x86_64-linux-gnu/libssl.so.3"
ROUNDS = 5
STARTUP = "0.25"     # seconds between the container's first exec and curl


def make_root(sensor_run, name, libdir=None):
    """A fresh root filesystem under the session's work directory."""
    root = os.path.join(os.path.dirname(sensor_run.sensor.out), name)
    shutil.rmtree(root, ignore_errors=True)
    argv = (["sh", MKROOTFS] + (["--libdir", libdir] if libdir else [])
            + [root, "sh", "sleep", "curl"])
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    shutil.copy(sensor_run.server.ca, os.path.join(root, "etc", "oisp-ca.pem"))
    shutil.copy(sensor_run.server.hosts, os.path.join(root, "etc", "hosts"))
    return root


def chat_argv(msg, startup=STARTUP):
    """The container's entrypoint: sh, which sleeps, then execs curl."""
    body = {"model": "gpt-4o-mini",
            "messages": [{"role": "system", "content": "You are terse."},
                         {"role": "user", "content": msg}],
            "temperature": 0.2, "max_tokens": 64}
    return ["/bin/sh", "-c", 'sleep %s && exec "$@"' % startup, "sh",
            "/usr/bin/curl", "--cacert", "/etc/oisp-ca.pem", "-sS",
            "-H", "Authorization: Bearer sk-test-container-0123456789",
            "-H", "Content-Type: application/json", "-d", json.dumps(body),
            "https://api.openai.com/v1/chat/completions"]


def run_in_container(root, argv, env_extra=None):
    """Runs argv in new PID and mount namespaces, chrooted into root.
    Returns (unshare's pid, curl's host pid or None when it was not seen
    in time, completed process)."""
    env = e2elib.clean_env(None, env_extra)
    proc = subprocess.Popen(["unshare", "--pid", "--mount", "--fork", "chroot", root] + argv,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=env, text=True,
                            start_new_session=True, preexec_fn=e2elib._die_with_parent)
    child = None
    children = "/proc/%d/task/%d/children" % (proc.pid, proc.pid)
    deadline = time.monotonic() + 5
    while child is None and proc.poll() is None and time.monotonic() < deadline:
        try:
            with open(children) as f:
                got = f.read().split()
            child = int(got[0]) if got else None
        except OSError:
            break
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, err = proc.communicate()
    assert proc.returncode == 0, "container client exited %d: %s" % (proc.returncode, err)
    return proc.pid, child, out


def root_status_entry(sensor_run, root, rel=LIBSSL_IN_ROOT):
    """The status --json entry of the root's own libssl (by inode), or None."""
    st = os.stat(os.path.join(root, rel))
    status = sensor_run.sensor.status()
    assert status is not None
    for f in status["attach"]["list"]:
        if f["dev"] == st.st_dev and f["ino"] == st.st_ino:
            return f
    return None


def check_container_call(sensor_run, root, msg, argv_env=None, rel=LIBSSL_IN_ROOT):
    unshare_pid, child, out = run_in_container(root, chat_argv(msg), argv_env)
    body = json.loads(out)
    evs = sensor_run.events.wait(lambda e: msg in json.dumps(e), 2, timeout=10)
    assert evs, "the first call of a fresh container was not captured (%s); sensor log:\n%s" % (
        root, sensor_run.sensor.log_tail(30))
    q, r = one_call(evs, msg)
    pid = q["process"]["pid"]
    sensor_run.known_pids.add(pid)
    # the host pid of curl, pid 1 of the new PID namespace: not unshare's
    assert pid != unshare_pid
    assert q["process"]["name"] == "curl"
    if child is not None:
        assert pid == child, (pid, child)
    check_pair(q, r, pid=pid, name="curl",
               **expected(sensor_run.server, msg, provider_request_id=body["id"]))
    assert r["data"]["choices"][0]["message"]["content"] == "Echo: " + msg
    assert len(evs) == 2, evs

    # status lists the container's own libssl: reached through the
    # process's root (or its map_files), not a host path
    f = root_status_entry(sensor_run, root, rel)
    assert f is not None, sensor_run.sensor.status()["attach"]["list"]
    assert f["path"].startswith("/proc/"), f
    assert "/root/" in f["path"] or "/map_files/" in f["path"], f
    host = os.stat(HOST_LIBSSL)
    assert (f["dev"], f["ino"]) != (host.st_dev, host.st_ino)
    return q, r


def test_first_call_of_fresh_containers(sensor_run):
    for i in range(ROUNDS):
        root = make_root(sensor_run, "container-%d" % i)
        try:
            check_container_call(sensor_run, root, "container first call %d" % i)
        finally:
            shutil.rmtree(root, ignore_errors=True)


def test_second_process_in_same_container(sensor_run):
    """A later process in a root already seen (no scan) is captured."""
    root = make_root(sensor_run, "container-again")
    try:
        check_container_call(sensor_run, root, "container again one")
        check_container_call(sensor_run, root, "container again two")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_container_libssl_off_the_standard_paths(sensor_run):
    """libssl in /opt/ssl/lib, a directory no standard search covers:
    found through the entrypoint's LD_LIBRARY_PATH."""
    root = make_root(sensor_run, "container-optlib", libdir="/opt/ssl/lib")
    try:
        check_container_call(sensor_run, root, "container opt lib call",
                             {"LD_LIBRARY_PATH": "/opt/ssl/lib"},
                             rel="opt/ssl/lib/libssl.so.3")
    finally:
        shutil.rmtree(root, ignore_errors=True)

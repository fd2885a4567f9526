"""Containers of one image: overlayfs mounts over one shared lower layer.

Each overlayfs mount has its own device, so the lower layer's libssl
shows another (st_dev, st_ino) in every container of the image, while
the kernel places uprobes on the one real (lower) inode.  The sensor must
attach that file once: joined by its overlayfs file handle, the other
mounts' (st_dev, st_ino) are aliases of the first entry.  Attached once
per mount instead, every SSL call in any of these containers would run
one entry and one return program per container.

One lower directory (tests/mkrootfs.sh: sh, sleep, curl and their
libraries, the test CA, a hosts file) is mounted N times as
  mount -t overlay -o lowerdir=L,upperdir=Ui,workdir=Wi overlay Mi
and each mount is a container as in test_container.py (unshare --pid
--mount --fork chroot Mi).  In each, a keeper maps libssl and sleeps
(sleep with libssl in LD_PRELOAD), so that status has processes of every
container to count, and curl makes one call.  A second lower directory
with its own copy of libssl must keep an entry of its own.
"""
import json
import os
import shutil
import signal
import subprocess
import time

import e2elib
from e2elib import check_pair, expected, one_call
from test_container import LIBSSL_IN_ROOT, chat_argv, make_root, run_in_container

N = 3
KEEPER = ["/bin/sh", "-c", "LD_PRELOAD=/%s exec sleep 120" % LIBSSL_IN_ROOT]


def mount_overlay(base, lower, name):
    """An overlayfs mount of @lower at base/name/merged; returns its path."""
    upper, work, merged = (os.path.join(base, name, d) for d in ("upper", "work", "merged"))
    for d in (upper, work, merged):
        os.makedirs(d)
    subprocess.run(["mount", "-t", "overlay", "-o",
                    "lowerdir=%s,upperdir=%s,workdir=%s" % (lower, upper, work),
                    "overlay", merged], check=True, timeout=30)
    return merged


def start_keeper(root):
    """A process of the container @root that maps libssl until killed."""
    return subprocess.Popen(["unshare", "--pid", "--mount", "--fork", "chroot", root] + KEEPER,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=e2elib.clean_env(None, None),
                            start_new_session=True, preexec_fn=e2elib._die_with_parent)


def uprobe_links(pid):
    return [l for l in e2elib.bpf_links_of(pid) if "uprobe" in l["link_type"]]


def entries_of(sensor_run, roots):
    """status entries whose (dev, ino) is libssl's through one of @roots."""
    keys = set()
    for r in roots:
        st = os.stat(os.path.join(r, LIBSSL_IN_ROOT))
        keys.add((st.st_dev, st.st_ino))
    status = sensor_run.sensor.status()
    assert status is not None
    return [f for f in status["attach"]["list"] if (f["dev"], f["ino"]) in keys]


def call(sensor_run, root, msg):
    """One call from a fresh process of container @root: captured once,
    with curl's pid."""
    unshare_pid, child, out = run_in_container(root, chat_argv(msg))
    body = json.loads(out)
    evs = sensor_run.events.wait(lambda e: msg in json.dumps(e), 2, timeout=10)
    assert evs, "call %r in %s not captured; sensor log:\n%s" % (
        msg, root, sensor_run.sensor.log_tail(30))
    # anything that would come twice comes at once
    time.sleep(0.5)
    evs = [e for e in sensor_run.events.refresh() if msg in json.dumps(e)]
    assert len(evs) == 2, evs
    q, r = one_call(evs, msg)
    pid = q["process"]["pid"]
    sensor_run.known_pids.add(pid)
    assert pid != unshare_pid and q["process"]["name"] == "curl"
    if child is not None:
        assert pid == child, (pid, child)
    check_pair(q, r, pid=pid, name="curl",
               **expected(sensor_run.server, msg, provider_request_id=body["id"]))


def test_one_attachment_for_the_containers_of_an_image(sensor_run):
    base = os.path.join(os.path.dirname(sensor_run.sensor.out), "overlay")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    mounts, keepers = [], []
    try:
        lower = make_root(sensor_run, "overlay/lower")
        other = make_root(sensor_run, "overlay/lower2")
        sensor_pid = sensor_run.sensor.proc.pid
        links = []
        for i in range(N):
            m = mount_overlay(base, lower, "c%d" % i)
            mounts.append(m)
            keepers.append(start_keeper(m))
            call(sensor_run, m, "overlay container %d" % i)
            links.append(len(uprobe_links(sensor_pid)))

        # the second and third containers added no link: their libssl
        # (and ld.so) is the first one's file
        assert links[1] == links[0] and links[2] == links[0], links

        # status lists it once, with the keepers of all three containers
        # (and no process of their curls, gone): counted at a full scan
        def one_entry():
            got = entries_of(sensor_run, mounts)
            return got if len(got) == 1 and got[0]["processes"] >= N else None
        got = e2elib.wait_until(one_entry, 30, "one libssl entry with %d processes: %s" % (
            N, entries_of(sensor_run, mounts)))
        f = got[0]
        assert f["processes"] == N, f
        assert f["aliases"] == N - 1, f
        assert f["stack"] == "OpenSSL" and "skipped" not in f, f

        # another image's libssl (another lower file, same content) is a
        # file of its own, attached, with an entry of its own
        m = mount_overlay(base, other, "d0")
        mounts.append(m)
        call(sensor_run, m, "overlay other image")
        assert len(uprobe_links(sensor_pid)) > links[0]
        own = entries_of(sensor_run, [m])
        assert len(own) == 1 and own[0] != f and "aliases" not in own[0], own
        assert len(entries_of(sensor_run, mounts)) == 2
    finally:
        for k in keepers:
            try:
                os.killpg(k.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            k.wait(10)
        # lazily: the sensor keeps the first mount's libssl open
        for m in mounts:
            subprocess.run(["umount", "-l", m], timeout=30)
        shutil.rmtree(base, ignore_errors=True)

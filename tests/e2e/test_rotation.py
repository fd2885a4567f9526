"""Rotation of the events file under load, as a log shipper sees it.

A separate sensor writes a few hundred real curl calls while a "shipper"
thread tails the file the way Promtail and Alloy do: it follows the file
it has open (by inode) to its end, and switches to PATH only once PATH
names another file.  Checked: every line is whole JSON, each call has
exactly one ai.request and one ai.response across all the files, nothing
is duplicated, no file is over the size limit (unless a single line is),
and the shipper read exactly the lines the files hold.

Both ways of rotating: the sensor's own (output.rotate.max_bytes), and
rename by someone else followed by SIGHUP (logrotate, nocreate).

Also: the cookbook/loki kustomization renders.
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

import e2elib

MAX_BYTES = 20 * 1024
MAX_FILES = 100
CLIENTS = 4
CALLS_PER_CLIENT = 75

ROTATE_CONFIG = e2elib.SENSOR_CONFIG.replace(
    "  path: {out}\n",
    "  path: {out}\n  rotate:\n    max_bytes: %d\n    max_files: %d\n" % (MAX_BYTES, MAX_FILES))


class Shipper(threading.Thread):
    """Tails PATH like a file-following log shipper: read what is there;
    when PATH names another inode, read the old file to its end (it is
    never written again once the sensor has opened the new PATH), then
    open the new one.  When several rotations happened between two polls,
    the files in between are found among PATH.* by inode and read too
    (counted in caught_up), so that the check is about the sensor, not
    about the poll interval."""

    def __init__(self, path, poll=0.005):
        super().__init__(daemon=True)
        self.path = path
        self.poll = poll
        self.lines = []
        self.bad = []
        self.files = 0
        self.caught_up = 0
        self.seen = set()	# (dev, ino) of every file read
        self.f = None
        self.key = None
        self.partial = b""
        self.stopping = threading.Event()
        self.error = None

    def _open(self, path):
        try:
            f = open(path, "rb")
        except FileNotFoundError:
            return False
        st = os.fstat(f.fileno())
        key = (st.st_dev, st.st_ino)
        if key in self.seen:
            f.close()
            return False
        self.f, self.key, self.partial = f, key, b""
        self.seen.add(key)
        self.files += 1
        return True

    def _drain(self):
        data = self.partial + self.f.read()
        parts = data.split(b"\n")
        self.partial = parts.pop()
        for p in parts:
            self.lines.append(p)

    def _close(self):
        self._drain()
        if self.partial:
            self.bad.append(b"unterminated at the end of a rotated file: " + self.partial[:80])
        self.f.close()
        self.f = None

    def _catch_up(self):
        """Rotated files this shipper never opened, oldest first."""
        found = []
        for p in glob.glob(glob.escape(self.path) + ".*"):
            try:
                st = os.stat(p)
            except FileNotFoundError:
                continue
            if (st.st_dev, st.st_ino) not in self.seen:
                found.append((st.st_mtime_ns, p))
        for _, p in sorted(found):
            if self._open(p):
                self.caught_up += 1
                self._close()

    def step(self):
        if self.f is None:
            if not os.path.exists(self.path):
                return
            self._catch_up()
            self._open(self.path)
            return
        self._drain()
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return		# renamed; the writer has not opened the new file yet
        if (st.st_dev, st.st_ino) != self.key:
            self._close()

    def run(self):
        try:
            while not self.stopping.is_set():
                self.step()
                time.sleep(self.poll)
            self.step()
            if self.f is not None:
                self._drain()
                self._catch_up()
        except Exception as e:		# reported by the test
            self.error = e

    def stop(self):
        self.stopping.set()
        self.join(10)


def _curl_quote(v):
    return '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"')


def curl_calls(server, workdir, tag, n):
    """One curl process making n chat calls on one keep-alive connection.
    The options are in a curl config file (-K), so that the command line
    that every event carries stays short."""
    conf = os.path.join(workdir, "%s.curlrc" % tag)
    with open(conf, "w") as f:
        for i in range(n):
            if i:
                f.write("next\n")
            body = json.dumps({"model": "gpt-4o-mini", "max_tokens": 16, "messages": [
                {"role": "user", "content": "%s call %04d" % (tag, i)}]})
            for k, v in (("cacert", server.ca), ("output", "/dev/null"),
                         ("header", "Authorization: Bearer sk-test-rotation-0123456789"),
                         ("header", "Content-Type: application/json"), ("data", body),
                         ("url", "https://%s/v1/chat/completions" % e2elib.OPENAI_HOST)):
                f.write("%s = %s\n" % (k, _curl_quote(v)))
    return e2elib.Client(server, ["curl", "-sS", "-K", conf])


def read_files(paths):
    """{path: [line bytes]}; asserts that every file ends with a newline."""
    out = {}
    for p in paths:
        with open(p, "rb") as f:
            data = f.read()
        assert not data or data.endswith(b"\n"), "%s ends in half a line" % p
        out[p] = data.split(b"\n")[:-1] if data else []
    return out


def run_load(sensor_run, workdir, tag, during=None):
    """Starts the clients, calls during() repeatedly until they are done,
    returns the messages sent."""
    clients = [curl_calls(sensor_run.server, workdir, "%s-%d" % (tag, k), CALLS_PER_CLIENT)
               for k in range(CLIENTS)]
    for c in clients:
        sensor_run.known_pids.add(c.pid)
    while any(c.proc.poll() is None for c in clients):
        if during:
            during()
        time.sleep(0.05)
    for c in clients:
        c.wait(60)
    return {"%s-%d call %04d" % (tag, k, i)
            for k in range(CLIENTS) for i in range(CALLS_PER_CLIENT)}


def wait_for_events(paths_fn, want_requests, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        n = 0
        for lines in read_files(paths_fn()).values():
            n += sum(1 for l in lines if b'"ai.response"' in l)
        if n >= want_requests or time.monotonic() > deadline:
            return
        time.sleep(0.2)


def check_union(files, messages):
    """Every line JSON; exactly one request and one response per message;
    no event twice.  Returns the parsed events of our calls."""
    events, bad = [], []
    for p, lines in files.items():
        for n, l in enumerate(lines, 1):
            try:
                events.append(json.loads(l))
            except ValueError:
                bad.append("%s:%d: %r" % (p, n, l[:80]))
    assert not bad, bad[:5]
    ids = [e["event_id"] for e in events]
    assert len(ids) == len(set(ids)), "duplicated events"
    reqs = {}
    for e in events:
        if e["event_type"] != "ai.request":
            continue
        for m in e["data"].get("messages") or []:
            if m.get("content") in messages:
                reqs.setdefault(m["content"], []).append(e)
    missing = messages - set(reqs)
    assert not missing, "%d calls have no ai.request, e.g. %s" % (
        len(missing), sorted(missing)[:3])
    twice = [m for m, v in reqs.items() if len(v) != 1]
    assert not twice, "calls with more than one ai.request: %s" % twice[:3]
    rids = {v[0]["data"]["request_id"] for v in reqs.values()}
    resp = [e for e in events if e["event_type"] == "ai.response"
            and e["data"]["request_id"] in rids]
    assert len(resp) == len(rids), (len(resp), len(rids))
    assert len({e["data"]["request_id"] for e in resp}) == len(rids)
    assert all(e["data"]["status_code"] == 200 for e in resp)
    return events


def check_shipper(sh, files):
    assert sh.error is None, repr(sh.error)
    assert not sh.bad, sh.bad[:3]
    on_disk = sorted(l for lines in files.values() for l in lines)
    assert len(sh.lines) == len(on_disk), (
        "shipper read %d lines, the files hold %d" % (len(sh.lines), len(on_disk)))
    assert sorted(sh.lines) == on_disk


def test_rotation_by_size_under_load(sensor_run, tmp_path):
    s = e2elib.Sensor(str(tmp_path), config=ROTATE_CONFIG).start()
    sh = Shipper(s.out)
    sh.start()
    all_files = lambda: [s.out] + glob.glob(glob.escape(s.out) + ".*")
    try:
        messages = run_load(sensor_run, str(tmp_path), "rot-size")
        wait_for_events(all_files, len(messages))
        time.sleep(0.3)
        st = s.status()
    finally:
        rc = s.stop()
        sh.stop()
    assert rc == 0, s.log_tail()
    paths = all_files()
    assert not os.path.exists("%s.%d" % (s.out, MAX_FILES)), (
        "max_files reached: the test would lose files; raise MAX_FILES")
    numbered = sorted(int(p.rsplit(".", 1)[1]) for p in paths if p != s.out)
    assert numbered == list(range(1, len(numbered) + 1)), numbered
    assert len(numbered) >= 10, (
        "only %d rotations: is output__set_rotation() called with the configuration?"
        % len(numbered))
    files = read_files(paths)
    for p, lines in files.items():
        size = os.path.getsize(p)
        assert size <= MAX_BYTES or len(lines) == 1, "%s: %d bytes, %d lines" % (
            p, size, len(lines))
    for k in numbered:
        older = "%s.%d" % (s.out, k)
        newer = "%s.%d" % (s.out, k - 1) if k > 1 else s.out
        if files[newer]:
            # Full: the newer file's first line did not fit.
            assert os.path.getsize(older) + len(files[newer][0]) + 1 > MAX_BYTES
    events = check_union(files, messages)
    assert len(events) == sum(len(v) for v in files.values())
    check_shipper(sh, files)
    if st and "rotations" in st.get("output", {}):
        assert st["output"]["rotations"] == len(numbered)
    assert st is None or st["output"]["write_errors"] == 0


def test_rename_and_sighup_repeatedly_under_load(sensor_run, tmp_path):
    s = e2elib.Sensor(str(tmp_path)).start()
    sh = Shipper(s.out)
    sh.start()
    moved = []

    def logrotate():
        if not os.path.exists(s.out):
            return		# the previous SIGHUP is not handled yet
        dst = "%s.r%04d" % (s.out, len(moved) + 1)
        os.rename(s.out, dst)
        moved.append(dst)
        s.proc.send_signal(signal.SIGHUP)

    all_files = lambda: moved + ([s.out] if os.path.exists(s.out) else [])
    try:
        messages = run_load(sensor_run, str(tmp_path), "rot-hup", during=logrotate)
        while len(moved) < 5:
            logrotate()
            time.sleep(0.05)
        wait_for_events(all_files, len(messages))
        time.sleep(0.3)
    finally:
        rc = s.stop()
        sh.stop()
    assert rc == 0, s.log_tail()
    files = read_files(all_files())
    check_union(files, messages)
    check_shipper(sh, files)
    assert len(moved) >= 5


def test_cookbook_loki_renders():
    kubectl = shutil.which("kubectl")
    if not kubectl:
        pytest.skip("kubectl is not installed")
    d = os.path.join(e2elib.ROOT, "cookbook", "loki")
    p = subprocess.run([kubectl, "kustomize", d], capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    docs = [d for d in p.stdout.split("\n---\n") if d.strip()]
    kinds = [l.split(":", 1)[1].strip() for d in docs for l in d.splitlines()
             if l.startswith("kind:")]
    assert "DaemonSet" in kinds and "ConfigMap" in kinds, kinds
    out = p.stdout
    # The shipper tails the live file only: rotated files are never
    # globbed, or they would be read again from the start.
    assert "/var/log/oisp-sensor/events.jsonl" in out
    assert "events.jsonl*" not in out
    assert "readOnly: true" in out

#!/usr/bin/python3
"""Podman mode: the sensor's image, run by a real container engine with the
rendered DaemonSet's pod spec, and the test app's client in containers of
its own image.

  podman_test.py [--keep] [--runs N] [--events-out FILE] [--sensor-image REF]

1. Images, without a registry: the Debian 12 base (tests/podman/base-image.sh,
   debootstrap once, cached in /var/cache/oisp-test/podman), the project's
   Dockerfile (`podman build --pull=never`), and the client image
   (tests/podman/Containerfile.client: curl, and tlsfirst.c).
2. The sensor runs as the DaemonSet's container: `kubectl kustomize
   manifests/` rendered, and its container translated to `podman run` flags
   by tests/podman/kube2podman.py (the fields and why are listed there).
   Readiness (its exec probe, run in the container's mount namespace, and
   /readyz in its network namespace) fails while the container is created
   and not started, then passes only once the sensor has logged that it
   attached; `podman healthcheck run` (the liveness probe), `podman exec
   SENSOR oisp-sensor status`, /healthz and /readyz answer.
3. The client Job's exact script runs in a container of the client image
   (its securityContext translated too; host network, so that it reaches the
   loopback fixture server, tests/e2e/e2elib.py, to which the Service names
   resolve).  Its events, read with `podman exec SENSOR cat
   /output/events.jsonl`, must match expected-events.json, every one of
   them must carry the client container's id as `podman inspect` gives it,
   and the file read through the exec is the file on the host path.
4. Ten containers of one new image call at once: each call is captured
   once and carries its own container's id, and the image's libssl (one
   file of a lower layer that the ten overlay roots share) is one inode in
   `status --json`'s attach.list, attached once: the other containers'
   overlayfs mounts are joined to it by its file handle (`aliases`).
5. Short-lived containers, N (50) runs, each in an image the sensor has not
   seen (a layer with its own copy of libssl): tlsfirst makes a call as soon
   as it starts, then another 500 ms later.  The share of first calls
   captured is printed; the second call must be captured in every run, and
   the first calls captured must reach FIRST_CALL_FLOOR.
6. The sensor stops with `podman stop` (SIGTERM) and must exit 0.
Containers and images made for the run are removed at the end, also on
failure; the base image and its tarball stay.

The part that runs the sensor holds /tmp/oisp-e2e.lock, unless an ancestor
process already holds it (`flock /tmp/oisp-e2e.lock make test-e2e`).
Exit status: 0 pass, 1 fail, 2 error (cannot set up).  Root only.
"""
import argparse
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "tests", "podman"))
import e2elib  # noqa: E402
import kube2podman  # noqa: E402

PODMAN_DIR = os.path.join(ROOT, "tests", "podman")
EXPECTED = os.path.join(HERE, "expected-events.json")
VALIDATOR = os.path.join(ROOT, "tests", "validate-expected.py")
LOCK = "/tmp/oisp-e2e.lock"
LIBSSL = "/usr/lib/x86_64-linux-gnu/libssl.so.3"
# Short-lived containers: of 50 runs, at least this many first calls are
# captured (measured 49/50, 50/50, 50/50: README, "Limits", "New libraries").
FIRST_CALL_FLOOR = 45
SECOND_CALL_GAP_MS = 500
MANY = 10


class Setup(Exception):
    """Cannot run the scenario (exit 2)."""


def log(msg):
    print("podman-mode: " + msg, flush=True)


def ulimit_flags():
    """--ulimit for every container and build: the defaults podman asks for
    cannot be raised on every host, so the host's own hard limit for open
    files and a small fixed process limit are given."""
    import resource
    nofile = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 1 << 20)
    return ["--ulimit", "nofile=%d:%d" % (nofile, nofile),
            "--ulimit", "nproc=4096:4096"]


class Podman:
    """podman --runtime runc, and what this run made (removed by cleanup)."""

    def __init__(self, run_id):
        self.run_id = run_id
        self.containers = []
        self.images = []

    def __call__(self, *args, check=True, timeout=300, quiet=False):
        argv = ["podman", "--runtime", "runc"] + list(args)
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError("%s: exit %d\n%s" % (" ".join(argv[:6]), p.returncode,
                                                      (p.stdout + p.stderr)[-3000:]))
        return p

    def name(self, what):
        return "oisp-pt-%s-%s" % (self.run_id, what)

    def build(self, tag, containerfile, context, log_path):
        self.images.append(tag)
        t = time.monotonic()
        with open(log_path, "a") as f:
            p = subprocess.run(["podman", "--runtime", "runc", "build", "--pull=never",
                                "--layers=false", "--network", "host"] + ulimit_flags()
                               + ["-t", tag, "-f", containerfile, context],
                               stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               timeout=1800)
        if p.returncode != 0:
            with open(log_path) as f:
                raise Setup("podman build %s failed:\n%s" % (tag, f.read()[-3000:]))
        return time.monotonic() - t

    def run(self, name, argv, detach=False, timeout=300):
        """podman run; the container is kept (for inspect) until cleanup."""
        self.containers.append(name)
        return self("run", *(["-d"] if detach else []), *ulimit_flags(), *argv,
                    check=False, timeout=timeout)

    def inspect_id(self, name):
        return self("inspect", "--format", "{{.Id}}", name).stdout.strip()

    def cleanup(self):
        for c in reversed(self.containers):
            self("rm", "-f", "-t", "0", c, check=False, timeout=120)
        for i in reversed(self.images):
            self("rmi", "-f", i, check=False, timeout=120)


def e2e_lock():
    """/tmp/oisp-e2e.lock for this process, or None when an ancestor holds
    it already (taking it again would wait for ourselves)."""
    fd = os.open(LOCK, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        pass
    st = os.fstat(fd)
    key = "%02x:%02x:%d" % (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
    holders = set()
    with open("/proc/locks") as f:
        for line in f:
            w = line.split()
            if len(w) >= 6 and w[1] == "FLOCK" and w[5] == key:
                holders.add(int(w[4]))
    pid = os.getpid()
    while pid > 1:
        if pid in holders:
            os.close(fd)
            log("%s is held by an ancestor (pid %d)" % (LOCK, pid))
            return None
        with open("/proc/%d/stat" % pid) as f:
            pid = int(f.read().rsplit(")", 1)[1].split()[1])
    log("waiting for %s" % LOCK)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def render():
    p = subprocess.run(["kubectl", "kustomize", os.path.join(ROOT, "manifests")],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise Setup("kubectl kustomize manifests/ failed: " + p.stderr)
    return [d for d in yaml.safe_load_all(p.stdout) if d]


def jsonl(text):
    out = []
    for line in text.splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out


def user_message(ev):
    msgs = (ev.get("data") or {}).get("messages") or []
    return str(msgs[-1].get("content", "")) if msgs else ""


class Run:
    def __init__(self, a, work, pm):
        self.a, self.work, self.pm = a, work, pm
        self.objs = render()
        self.sensor = None

    # -- images ----------------------------------------------------------
    def images(self):
        p = subprocess.run([os.path.join(PODMAN_DIR, "base-image.sh")], text=True,
                           stdin=subprocess.DEVNULL, timeout=1800)
        if p.returncode != 0:
            raise Setup("tests/podman/base-image.sh failed")
        blog = os.path.join(self.work, "build.log")
        if self.a.sensor_image:
            self.sensor_image = self.a.sensor_image
            log("sensor image %s (--sensor-image, not built)" % self.sensor_image)
        else:
            self.sensor_image = "localhost/%s:0.1.0" % self.pm.name("sensor")
            s = self.pm.build(self.sensor_image, os.path.join(ROOT, "Dockerfile"), ROOT, blog)
            log("sensor image %s built from Dockerfile in %.0f s" % (self.sensor_image, s))
        ctx = os.path.join(self.work, "client-ctx")
        os.makedirs(ctx)
        cc = subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-o",
                             os.path.join(ctx, "tlsfirst"),
                             os.path.join(PODMAN_DIR, "tlsfirst.c"), "-lssl", "-lcrypto"],
                            capture_output=True, text=True, timeout=120)
        if cc.returncode != 0:
            raise Setup("tlsfirst.c: " + cc.stderr)
        self.client_image = "localhost/%s:1" % self.pm.name("client")
        s = self.pm.build(self.client_image, os.path.join(PODMAN_DIR, "Containerfile.client"),
                          ctx, blog)
        log("client image %s built in %.0f s" % (self.client_image, s))
        self.libssl = os.path.join(self.work, "libssl.so.3")
        with open(self.libssl, "wb") as f:
            p = subprocess.run(["podman", "--runtime", "runc", "run", "--rm", "--network",
                                "none"] + ulimit_flags() + [self.client_image, "cat", LIBSSL],
                               stdout=f, stderr=subprocess.PIPE, timeout=120)
        if p.returncode != 0:
            raise Setup("reading the client image's libssl: " + p.stderr.decode())
        t = time.monotonic()
        self.many_image = self.fresh_image("many")
        self.race_images = [self.fresh_image("race-%d" % i) for i in range(self.a.runs)]
        log("%d images with a libssl file of their own built in %.0f s"
            % (self.a.runs + 1, time.monotonic() - t))

    def fresh_image(self, what):
        """A new image of the client's whose libssl is a file no image had:
        the client image plus a layer with a copy of it (a trailing line
        makes its content, and so its layer, new)."""
        ctx = os.path.join(self.work, "ctx-" + what)
        os.makedirs(ctx)
        shutil.copyfile(self.libssl, os.path.join(ctx, "libssl.so.3"))
        with open(os.path.join(ctx, "libssl.so.3"), "ab") as f:
            f.write(("\noisp podman test %s %s %d\n" % (self.pm.run_id, what,
                                                       time.time_ns())).encode())
        with open(os.path.join(ctx, "Containerfile"), "w") as f:
            f.write("FROM %s\nCOPY libssl.so.3 %s\n" % (self.client_image, LIBSSL))
        tag = "localhost/%s:1" % self.pm.name(what)
        self.pm.build(tag, os.path.join(ctx, "Containerfile"), ctx,
                      os.path.join(self.work, "build.log"))
        return tag

    # -- the sensor ------------------------------------------------------
    def start_sensor(self):
        ds = kube2podman.find(self.objs, "DaemonSet", "oisp-sensor", "oisp-sensor")
        name = self.pm.name("sensor")
        tr = kube2podman.translate(
            self.objs, ds, "oisp-sensor", name=name,
            image_map={c["image"]: self.sensor_image
                       for c in kube2podman.pod_template(ds)[1]["containers"]},
            volumes_dir=os.path.join(self.work, "volumes"),
            hostpath_base=os.path.join(self.work, "node"))
        self.sensor, self.tr = name, tr
        cfg = yaml.safe_load(open(os.path.join(tr["host_paths"]["/etc/oisp-sensor"],
                                               "config.yaml")))
        out = cfg["output"]["path"]
        mount = [m for m in tr["host_paths"] if out.startswith(m + "/")]
        if not mount:
            raise Setup("output.path %s is on no hostPath volume" % out)
        self.container_events = out
        self.host_events = tr["host_paths"][mount[0]] + out[len(mount[0]):]
        log("sensor: podman run " + " ".join(tr["argv"][:-3]) + " ...")
        self.pm.containers.append(name)
        self.pm("create", *ulimit_flags(), *tr["argv"])
        # Created, not started: runc init holds the container's mounts, and
        # no sensor answers the readiness probe yet.
        self.pm("init", name)
        pid = self.pm("inspect", "--format", "{{.State.Pid}}", name).stdout.strip()
        rp = self.tr["readiness"]["exec"]["command"]
        p = subprocess.run(["nsenter", "-t", pid, "-m"] + rp, capture_output=True, text=True,
                           timeout=30)
        if p.returncode == 0:
            raise AssertionError("readiness passed before the sensor started")
        log("readiness before start: exit %d (%s)" % (p.returncode, p.stderr.strip()[:120]))
        m = cfg.get("metrics") or {}
        if m.get("enabled") and self.http_code(pid, m["port"], "/readyz") == "200":
            raise AssertionError("/readyz answered 200 before the sensor started")
        self.pm("start", name)
        pid = self.pm("inspect", "--format", "{{.State.Pid}}", name).stdout.strip()
        deadline = time.monotonic() + 60
        fails = 0
        while True:
            p = subprocess.run(["nsenter", "-t", pid, "-m"] + rp, capture_output=True,
                               text=True, timeout=30)
            logs = self.logs()
            if p.returncode == 0:
                if "ready:" not in logs:
                    raise AssertionError("readiness passed before the sensor attached:\n"
                                         + logs)
                break
            if "ready:" not in logs:
                fails += 1
            if self.pm("inspect", "--format", "{{.State.Running}}", name).stdout.strip() \
                    != "true":
                raise AssertionError("the sensor exited at start:\n" + logs)
            if time.monotonic() > deadline:
                raise AssertionError("readiness still fails after 60 s:\n" + logs)
            time.sleep(0.05)
        log("readiness: failed %d time(s) after start, before the sensor attached; "
            "passes once attached" % fails)
        p = self.pm("exec", name, *rp, check=False)
        if p.returncode != 0:
            raise AssertionError("readiness through podman exec: exit %d %s"
                                 % (p.returncode, p.stderr))
        p = self.pm("healthcheck", "run", name, check=False)
        if p.returncode != 0:
            raise AssertionError("podman healthcheck run (the liveness probe): exit %d %s"
                                 % (p.returncode, p.stdout + p.stderr))
        log("liveness (podman healthcheck run) and readiness (podman exec) pass")
        if m.get("enabled"):
            # The HTTP endpoints, from inside the pod's network namespace
            # (the ConfigMap admits 127.0.0.1 only).
            for path in ("/healthz", "/readyz"):
                code = self.http_code(pid, m["port"], path)
                if code != "200":
                    raise AssertionError("%s in the pod: %s" % (path, code))
            log("/healthz and /readyz answer 200 on port %d in the pod" % m["port"])

    @staticmethod
    def http_code(pid, port, path):
        """curl http://127.0.0.1:PORT/PATH in the network namespace of
        process PID: the status code, "000" when nothing answers."""
        p = subprocess.run(["nsenter", "-t", pid, "-n", "curl", "-sS", "-o", "/dev/null",
                            "-w", "%{http_code}", "--noproxy", "*",
                            "http://127.0.0.1:%d%s" % (port, path)],
                           capture_output=True, text=True, timeout=30)
        return p.stdout.strip() or "000"

    def logs(self):
        p = self.pm("logs", self.sensor, check=False)
        return p.stdout + p.stderr

    def status(self, json_out=False):
        p = self.pm("exec", self.sensor, "oisp-sensor", "status",
                    *(["--json"] if json_out else []), check=False, timeout=60)
        if p.returncode != 0:
            raise AssertionError("podman exec %s oisp-sensor status: exit %d %s"
                                 % (self.sensor, p.returncode, p.stderr))
        return json.loads(p.stdout) if json_out else p.stdout

    def events(self):
        """The events file, read as kubectl exec would."""
        p = self.pm("exec", self.sensor, "cat", self.container_events, check=False)
        if p.returncode != 0:
            return []
        return jsonl(p.stdout)

    def wait_events(self, pred, n, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            got = [e for e in self.events() if pred(e)]
            if len(got) >= n or time.monotonic() > deadline:
                return got
            time.sleep(0.5)

    def stop_sensor(self):
        self.pm("stop", self.sensor, timeout=120)
        rc = self.pm("inspect", "--format", "{{.State.ExitCode}}", self.sensor).stdout.strip()
        if rc != "0":
            raise AssertionError("the sensor exited %s on SIGTERM:\n%s" % (rc, self.logs()))
        log("sensor stopped (podman stop): exit 0")

    # -- scenarios -------------------------------------------------------
    def client_flags(self):
        """The fixture server's address for the test app's Service names."""
        flags = []
        for svc in self.objs:
            if svc.get("kind") != "Service" or svc["metadata"].get("labels", {}).get(
                    "app.kubernetes.io/part-of") != "oisp-test-app":
                continue
            n, ns = svc["metadata"]["name"], svc["metadata"]["namespace"]
            for h in ("%s.%s.svc.cluster.local" % (n, ns), "%s.%s.svc" % (n, ns),
                      "%s.%s" % (n, ns)):
                flags += ["--add-host", "%s:%s" % (h, self.server.openai_ip)]
        if not flags:
            raise Setup("the test app has no Service")
        return flags

    def job(self):
        job = kube2podman.find(self.objs, "Job", "openai-client", "oisp-test-app")
        (c,) = kube2podman.pod_template(job)[1]["containers"]
        name = self.pm.name("job")
        tr = kube2podman.translate(
            self.objs, job, c["name"], name=name, image_map={c["image"]: self.client_image},
            volumes_dir=os.path.join(self.work, "job-volumes"),
            hostpath_base=os.path.join(self.work, "node"), network="host",
            extra_flags=self.client_flags())
        log("client Job: podman run %s ... (the Job's script)" % " ".join(tr["argv"][:8]))
        p = self.pm.run(name, tr["argv"], timeout=300)
        sys.stdout.write("".join("  client| " + l[:160] + "\n"
                                 for l in p.stdout.splitlines() if l.strip()))
        if p.returncode != 0:
            raise AssertionError("the client Job's container exited %d: %s"
                                 % (p.returncode, p.stderr[-2000:]))
        cid = self.pm.inspect_id(name)
        mine = self.wait_events(lambda e: (e.get("process") or {}).get("container_id") == cid,
                                6)
        path = os.path.join(self.work, "client-events.jsonl")
        with open(path, "w") as f:
            f.writelines(json.dumps(e) + "\n" for e in mine)
        if self.a.events_out:
            shutil.copyfile(path, self.a.events_out)
        v = subprocess.run([e2elib.PYTHON, VALIDATOR, path, EXPECTED], capture_output=True,
                           text=True, timeout=60)
        sys.stdout.write("".join("  validate| " + l + "\n"
                                 for l in (v.stdout + v.stderr).splitlines()))
        if v.returncode != 0:
            others = [e for e in self.events() if e not in mine
                      and (e.get("process") or {}).get("name") == "curl"]
            sys.stdout.write("".join("  other curl event| %s\n" % json.dumps(
                {k: e.get(k) for k in ("event_type", "process", "host")})[:400] for e in others))
            sys.stdout.write("".join("  status| " + l + "\n"
                                     for l in self.status().splitlines()[:40]))
            raise AssertionError("the client's events do not match expected-events.json")
        types = {e["event_type"] for e in json.load(open(EXPECTED))["events"]}
        for e in mine:
            host_ctr = (e.get("host") or {}).get("container") or {}
            if e.get("event_type") not in types or host_ctr.get("id") != cid \
                    or host_ctr.get("runtime") != "podman":
                raise AssertionError("event not as expected of container %s: %s"
                                     % (cid, json.dumps(e)[:600]))
        log("%d events of container %s (podman inspect's Id) match expected-events.json"
            % (len(mine), cid[:12]))
        # The exec'd read is the file on the node's path.
        with open(self.host_events) as f:
            host = jsonl(f.read())
        execd = self.events()
        if execd[:len(host)] != host[:len(execd)] or not execd:
            raise AssertionError("podman exec cat %s differs from %s"
                                 % (self.container_events, self.host_events))
        st = self.status()
        if "files_attached" not in st or "Output" not in st:
            raise AssertionError("podman exec oisp-sensor status:\n" + st)
        log("podman exec cat /output/events.jsonl (%d events) and oisp-sensor status answer"
            % len(execd))

    def many(self):
        image = self.many_image
        before = {(f["dev"], f["ino"]) for f in self.status(True)["attach"]["list"]}
        names = [self.pm.name("many-%d" % i) for i in range(MANY)]
        # Each container warms up (its first process maps the image's
        # libssl, which the sensor attaches to), then makes its call.
        script = ('curl -sS -k -o /dev/null --retry 5 --retry-all-errors '
                  'https://api.openai.com/ && sleep 1 && '
                  'curl -sS -k --fail-with-body https://api.openai.com/v1/chat/completions '
                  '-H "Authorization: Bearer sk-test" -H "Content-Type: application/json" '
                  '-d "{\\"model\\":\\"gpt-4o-mini\\",\\"messages\\":[{\\"role\\":\\"user\\",'
                  '\\"content\\":\\"many $N\\"}]}"')
        for i, n in enumerate(names):
            p = self.pm.run(n, ["--name", n, "--network", "host", "--add-host",
                                "api.openai.com:%s" % self.server.openai_ip,
                                "--env", "N=%d" % i, image, "sh", "-c", script], detach=True)
            if p.returncode != 0:
                raise AssertionError("podman run %s: %s" % (n, p.stderr))
        for n in names:
            p = self.pm("wait", n, timeout=120)
            if p.stdout.strip() != "0":
                raise AssertionError("%s exited %s: %s" % (n, p.stdout.strip(),
                                                           self.pm("logs", n).stderr))
        ids = {self.pm.inspect_id(n): i for i, n in enumerate(names)}
        got = self.wait_events(lambda e: e.get("event_type") == "ai.request"
                               and user_message(e).startswith("many "), MANY)
        seen = {}
        for e in got:
            cid = (e.get("process") or {}).get("container_id")
            k = int(user_message(e).split()[1])
            if ids.get(cid) != k:
                raise AssertionError("call 'many %d' carries container id %s, not %s's"
                                     % (k, cid, names[k]))
            seen[k] = cid
        if len(seen) != MANY:
            raise AssertionError("%d of %d calls captured" % (len(seen), MANY))
        counts = {}
        for e in got:
            counts[user_message(e)] = counts.get(user_message(e), 0) + 1
        if any(v != 1 for v in counts.values()):
            raise AssertionError("calls captured more than once: %r" % counts)
        new = [f for f in self.status(True)["attach"]["list"]
               if (f["dev"], f["ino"]) not in before and f["stack"].lower() == "openssl"]
        log("ten containers of %s: OpenSSL files attached since: %s" % (
            image, ", ".join("%s (dev %d ino %d)" % (f["path"], f["dev"], f["ino"])
                             for f in new)))
        if not new or not all(f["path"].endswith("/libssl.so.3") for f in new):
            raise AssertionError("the image's libssl should be attached, not %r" % new)
        if len({f["ino"] for f in new}) != 1:
            raise AssertionError("the ten containers' libssl should be one file, not %r" % new)
        if len(new) != 1:
            raise AssertionError("the shared lower-layer libssl is attached %d times, not once"
                                 % len(new))
        if new[0].get("aliases", 0) < 1:
            raise AssertionError("the other containers' mounts are not joined to %r" % new[0])
        log("ten containers at once: %d calls, each once, with %d container ids"
            % (MANY, len(set(seen.values()))))

    def short_lived(self):
        runs = self.a.runs
        ids, timing = {}, []
        for i, image in enumerate(self.race_images):
            n = self.pm.name("race-%d" % i)
            p = self.pm.run(n, ["--name", n, "--network", "host", "--entrypoint",
                                '["/usr/local/bin/tlsfirst"]', image, self.server.openai_ip,
                                "443", "api.openai.com", "race-%d" % i,
                                str(SECOND_CALL_GAP_MS)], timeout=120)
            if p.returncode != 0:
                raise AssertionError("%s exited %d: %s" % (n, p.returncode,
                                                           p.stdout + p.stderr))
            first = p.stdout.splitlines()[0].split()
            timing.append((int(first[3]), int(first[5])))    # connect_us, write_us
            ids[self.pm.inspect_id(n)] = i
            self.pm("rm", n, check=False)
        got = self.wait_events(lambda e: e.get("event_type") == "ai.request"
                               and user_message(e).startswith("race-"), 2 * runs)
        first, second = set(), set()
        for e in got:
            tag, _, k = user_message(e).split()
            i = int(tag.split("-")[1])
            if ids.get((e.get("process") or {}).get("container_id")) != i:
                raise AssertionError("%s carries the wrong container id" % user_message(e))
            (first if k == "1" else second).add(i)
        cs = sorted(c for c, _ in timing)
        ws = sorted(w for _, w in timing)
        log("short-lived containers: first call (SSL_connect %.1f-%.1f ms after main, median "
            "%.1f; SSL_write %.1f-%.1f ms, median %.1f) captured in %d/%d runs; second call "
            "(%d ms later) in %d/%d"
            % (cs[0] / 1e3, cs[-1] / 1e3, cs[len(cs) // 2] / 1e3, ws[0] / 1e3, ws[-1] / 1e3,
               ws[len(ws) // 2] / 1e3, len(first), runs, SECOND_CALL_GAP_MS, len(second),
               runs))
        if len(second) != runs:
            raise AssertionError("second calls captured in %d of %d runs"
                                 % (len(second), runs))
        if len(first) * 50 < FIRST_CALL_FLOOR * runs:
            raise AssertionError("first calls captured in %d of %d runs, under the floor "
                                 "of %d/50" % (len(first), runs, FIRST_CALL_FLOOR))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--runs", type=int, default=50, help="short-lived container runs")
    ap.add_argument("--events-out", help="copy the client Job's events there")
    ap.add_argument("--sensor-image", help="use this image of the sensor (kept) instead "
                    "of building one from Dockerfile")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("podman-mode: needs root (eBPF)", file=sys.stderr)
        return 2
    for tool in ("podman", "runc", "kubectl", "nsenter"):
        if not shutil.which(tool):
            print("podman-mode: %s is missing (tests/install-deps.sh)" % tool, file=sys.stderr)
            return 2
    work = tempfile.mkdtemp(prefix="oisp-cookbook-podman-")
    pm = Podman("%d" % os.getpid())
    run = lock = None
    rc, why = 1, "interrupted"
    try:
        run = Run(a, work, pm)
        run.images()
        lock = e2e_lock()
        run.server = e2elib.Server(work).start()
        run.start_sensor()
        run.job()
        run.many()
        run.short_lived()
        run.stop_sensor()
        rc = 0
        log("PASS")
    except (Setup, kube2podman.Unsupported) as e:
        why = "ERROR: %s" % e
        log(why)
        rc = 2
    except (AssertionError, subprocess.TimeoutExpired) as e:
        why = "FAIL: %s" % e
        log(why)
        rc = 1
    finally:
        if rc != 0 and run and run.sensor:
            sys.stdout.write("".join("  sensor| " + l + "\n"
                                     for l in run.logs().splitlines()[-40:]))
        pm.cleanup()
        if run and getattr(run, "server", None):
            run.server.stop()
        if lock is not None:
            os.close(lock)
        if a.keep or os.environ.get("OISP_E2E_KEEP"):
            log("files kept in " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
        if rc != 0:
            # Last, for test-all.sh's one-line result.
            log(why.splitlines()[0][:300])
    return rc


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
    sys.exit(main())

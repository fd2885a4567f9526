#!/usr/bin/python3
"""Host mode of the kubernetes/daemonset cookbook: the same scenario as
test.sh, without a cluster (CI has no Docker engine).

  host_test.py [--keep] [--events-out FILE]

1. `kubectl kustomize manifests/` is rendered and parsed.  Nothing below is
   copied by hand from the manifests.
2. The sensor is started as the DaemonSet's container would be:
   - its command and args (`oisp-sensor` is build/oisp-sensor);
   - its env (fieldRef spec.nodeName is this host's name);
   - its capabilities: the bounding set is exactly securityContext.
     capabilities.add (after drop ALL), with setpriv;
   - the ConfigMap's config.yaml written where the container's volume mount
     puts it.
   Every path under one of the container's volume mounts (/etc/oisp-sensor,
   /output, /run/oisp-sensor) is mapped to a stand-in directory in a temp
   dir.  The only config values changed are therefore output.path and
   status.socket (the same files, under the stand-in directories) and
   metrics.port (a free port).
3. The readiness and liveness probes (exec, with the paths mapped as
   below, or httpGet) are checked once the sensor is up.
4. The test app's client Job runs its exact command in a container-style
   process (tests/mkrootfs.sh, `unshare --pid --mount --fork chroot`, the
   Job's uid), with its env.  The test app's Service names resolve (the
   chroot's /etc/hosts) to the e2e fixture server (tests/e2e/e2elib.py),
   which answers like OpenAI on port 443.
5. The sensor is stopped with SIGTERM; its events file is checked against
   expected-events.json with tests/validate-expected.py.

Exit status: 0 pass, 1 fail, 2 error (cannot set up).  Root only.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import e2elib  # noqa: E402

MANIFESTS = os.path.join(ROOT, "manifests")
EXPECTED = os.path.join(HERE, "expected-events.json")
VALIDATOR = os.path.join(ROOT, "tests", "validate-expected.py")
MKROOTFS = os.path.join(ROOT, "tests", "mkrootfs.sh")
SENSOR = e2elib.SENSOR


class Setup(Exception):
    """Cannot run the scenario (exit 2)."""


def log(msg):
    print("host-mode: " + msg, flush=True)


# ---------------------------------------------------------------------------
# The rendered manifests

def render():
    p = subprocess.run(["kubectl", "kustomize", MANIFESTS], capture_output=True,
                       text=True, timeout=60, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise Setup("kubectl kustomize manifests/ failed: " + p.stderr)
    return [d for d in yaml.safe_load_all(p.stdout) if d]


def find(objs, kind, name=None, namespace=None, pred=None):
    got = [o for o in objs if o.get("kind") == kind
           and (name is None or o["metadata"]["name"] == name)
           and (namespace is None or o["metadata"].get("namespace") == namespace)
           and (pred is None or pred(o))]
    if len(got) != 1:
        raise Setup("expected one %s %s/%s in the rendered manifests, found %d"
                    % (kind, namespace, name, len(got)))
    return got[0]


def part_of(app):
    return lambda o: o["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") == app


class PathMap:
    """Container paths under the volume mounts -> stand-in host paths."""

    def __init__(self, pod_spec, container, base):
        self.mounts = []                       # (mountPath, host dir, volume)
        vols = {v["name"]: v for v in pod_spec.get("volumes", [])}
        for m in container.get("volumeMounts", []):
            vol = vols[m["name"]]
            host = os.path.join(base, m["name"])
            if "hostPath" in vol and vol["hostPath"]["path"].startswith("/sys/"):
                host = vol["hostPath"]["path"]  # the kernel's own files
            else:
                os.makedirs(host, exist_ok=True)
            self.mounts.append((m["mountPath"].rstrip("/"), host, vol, m))
        self.mounts.sort(key=lambda t: -len(t[0]))

    def host(self, path):
        for mp, host, _, _ in self.mounts:
            if path == mp or path.startswith(mp + "/"):
                return host + path[len(mp):]
        return None

    def volume_at(self, mount_path):
        for mp, host, vol, m in self.mounts:
            if mp == mount_path.rstrip("/"):
                return vol, m, host
        raise Setup("no volume mounted at %s in the DaemonSet" % mount_path)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def container_env(container, what):
    env = {}
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = str(e["value"])
        elif e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName":
            env[e["name"]] = socket.gethostname()
        else:
            raise Setup("%s: env %s: only value and fieldRef spec.nodeName are "
                        "supported in host mode" % (what, e["name"]))
    return env


def caps_of(container):
    sc = container.get("securityContext", {})
    if sc.get("privileged"):
        raise Setup("the DaemonSet is privileged; host mode checks the capabilities only")
    caps = sc.get("capabilities", {})
    if [c.upper() for c in caps.get("drop", [])] != ["ALL"]:
        raise Setup("the DaemonSet must drop ALL capabilities before adding some")
    return [c.lower().replace("cap_", "") for c in caps.get("add", [])]


# ---------------------------------------------------------------------------
# The sensor, as the DaemonSet runs it

class HostSensor:
    def __init__(self, objs, work):
        self.ds = find(objs, "DaemonSet", "oisp-sensor", "oisp-sensor")
        pod = self.ds["spec"]["template"]["spec"]
        conts = pod["containers"]
        if len(conts) != 1:
            raise Setup("the DaemonSet should have one container")
        self.c = c = conts[0]
        self.paths = PathMap(pod, c, os.path.join(work, "pod"))
        # The ConfigMap, where the container sees it.
        vol, mount, host_dir = self.paths.volume_at("/etc/oisp-sensor")
        if "configMap" not in vol:
            raise Setup("/etc/oisp-sensor is not a ConfigMap volume")
        cm = find(objs, "ConfigMap", vol["configMap"]["name"], self.ds["metadata"]["namespace"])
        self.config = yaml.safe_load(cm["data"]["config.yaml"])
        # Container paths that the config names -> their stand-ins.
        out = self.config["output"]["path"]
        self.events = self.paths.host(out)
        if self.events is None:
            raise Setup("output.path %s is not on a volume of the DaemonSet" % out)
        sock = (self.config.get("status") or {}).get("socket", "/run/oisp-sensor/status.sock")
        self.sock = self.paths.host(sock)
        if self.sock is None:
            raise Setup("status.socket %s is not on a volume of the DaemonSet" % sock)
        cfg = yaml.safe_load(cm["data"]["config.yaml"])
        cfg["output"]["path"] = self.events
        cfg.setdefault("status", {})["socket"] = self.sock
        self.metrics = cfg.get("metrics") or {}
        if self.metrics.get("enabled"):
            self.port = cfg["metrics"]["port"] = free_port()
        for key in cm["data"]:
            with open(os.path.join(host_dir, key), "w") as f:
                if key == "config.yaml":
                    yaml.safe_dump(cfg, f, default_flow_style=False, sort_keys=False)
                else:
                    f.write(cm["data"][key])
        # The command line.
        cmd = list(c.get("command", [])) + list(c.get("args", []))
        if not cmd or os.path.basename(cmd[0]) != "oisp-sensor":
            raise Setup("the DaemonSet's command is not oisp-sensor: %r" % cmd)
        self.argv = [SENSOR] + [self.paths.host(a) or a for a in cmd[1:]]
        self.env = e2elib.clean_env(extra=container_env(c, "DaemonSet"))
        self.caps = caps_of(c)
        self.log_path = os.path.join(work, "sensor.log")
        self.proc = None

    def start(self, timeout=30):
        bounding = ",".join(["-all"] + ["+" + c for c in self.caps])
        argv = ["setpriv", "--bounding-set", bounding, "--inh-caps", "-all"] + self.argv
        log("sensor: " + " ".join(argv))
        logf = open(self.log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.env,
                                     start_new_session=True,
                                     preexec_fn=e2elib._die_with_parent)
        logf.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("the sensor exited %d at start:\n%s"
                                     % (self.proc.returncode, self.tail()))
            p = subprocess.run([SENSOR, "status", "--status-socket", self.sock],
                               capture_output=True, timeout=10, stdin=subprocess.DEVNULL)
            if p.returncode == 0:
                return
            time.sleep(0.2)
        raise AssertionError("the sensor was not up after %d s:\n%s" % (timeout, self.tail()))

    def probe_once(self, probe):
        """200 or 0 when @probe passes, else what it answered."""
        if "exec" in probe:
            cmd = probe["exec"]["command"]
            if os.path.basename(cmd[0]) != "oisp-sensor":
                raise Setup("an exec probe runs %r, not oisp-sensor" % cmd)
            argv = [SENSOR] + [self.paths.host(a) or a for a in cmd[1:]]
            p = subprocess.run(argv, capture_output=True, text=True, env=self.env,
                               timeout=probe.get("timeoutSeconds", 5) + 5,
                               stdin=subprocess.DEVNULL)
            return 0 if p.returncode == 0 else "exit %d: %s" % (p.returncode, p.stderr)
        http = probe["httpGet"]
        ports = {p.get("name"): p["containerPort"] for p in self.c.get("ports", [])}
        port = ports[http["port"]] if isinstance(http["port"], str) else http["port"]
        if port != self.config["metrics"]["port"]:
            raise AssertionError("httpGet port %s is not metrics.port %s"
                                 % (port, self.config["metrics"]["port"]))
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, http["path"]),
                                        timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError as e:
            return str(e)

    def check_probes(self, timeout=20):
        """The DaemonSet's probes, against the sensor."""
        for kind in ("readinessProbe", "livenessProbe"):
            probe = self.c[kind]
            deadline = time.monotonic() + timeout
            while True:
                got = self.probe_once(probe)
                if got in (0, 200):
                    log("%s: pass" % kind)
                    break
                if time.monotonic() > deadline:
                    raise AssertionError("%s %r: %s" % (kind, probe, got))
                time.sleep(0.5)

    def stop(self):
        rc = e2elib.stop_process(self.proc, timeout=20)
        log("sensor exited %s" % rc)
        return rc

    def tail(self, n=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


# ---------------------------------------------------------------------------
# The test app's client, as a container-style process

class HostClient:
    def __init__(self, objs, work, server):
        job = find(objs, "Job", pred=part_of("oisp-test-app"))
        pod = job["spec"]["template"]["spec"]
        (c,) = pod["containers"]
        self.argv = list(c.get("command", [])) + list(c.get("args", []))
        if self.argv[:2] != ["sh", "-c"]:
            raise Setup("the client Job's command is not sh -c SCRIPT: %r" % self.argv[:2])
        sc = dict(pod.get("securityContext", {}), **c.get("securityContext", {}))
        self.user = "%d:%d" % (sc.get("runAsUser", 0), sc.get("runAsGroup", sc.get("runAsUser", 0)))
        self.env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp"}
        self.env.update(container_env(c, "client Job"))
        self.root = os.path.join(work, "client-rootfs")
        p = subprocess.run(["sh", MKROOTFS, self.root, "sh", "curl", "sleep"],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise Setup("mkrootfs.sh failed: " + p.stderr)
        # Cluster DNS: every name of the test app's Services -> the fixture
        # server's OpenAI address (it listens on 443, as the Services do).
        names = []
        for svc in [o for o in objs if o.get("kind") == "Service" and part_of("oisp-test-app")(o)]:
            n, ns = svc["metadata"]["name"], svc["metadata"]["namespace"]
            if [p["port"] for p in svc["spec"]["ports"]] != [443]:
                raise Setup("Service %s/%s: host mode maps port 443 only" % (ns, n))
            names += ["%s.%s.svc.cluster.local" % (n, ns), "%s.%s.svc" % (n, ns),
                      "%s.%s" % (n, ns)]
        if not names:
            raise Setup("the test app has no Service")
        with open(os.path.join(self.root, "etc", "hosts"), "w") as f:
            f.write("127.0.0.1\tlocalhost\n%s\t%s\n" % (server.openai_ip, " ".join(names)))
        log("client hosts: %s -> %s" % (" ".join(names), server.openai_ip))

    def run(self, timeout=180):
        # The host's unshare and chroot (the env below is the container's).
        argv = [shutil.which("unshare"), "--pid", "--mount", "--fork",
                shutil.which("chroot"), "--userspec", self.user,
                self.root] + self.argv
        log("client: unshare --pid --mount --fork chroot --userspec %s ROOTFS sh -c <the Job's script>"
            % self.user)
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           env=self.env, stdin=subprocess.DEVNULL, cwd="/",
                           preexec_fn=e2elib._die_with_parent)
        sys.stdout.write("".join("  client| " + l[:160] + "\n"
                                 for l in p.stdout.splitlines() if l.strip()))
        sys.stdout.write("".join("  client! " + l + "\n" for l in p.stderr.splitlines()))
        if p.returncode != 0:
            raise AssertionError("the client exited %d" % p.returncode)


# ---------------------------------------------------------------------------

def client_events(events, root):
    """Writes the events of the processes run from root to a file next to
    events; returns its path."""
    import json
    out = os.path.join(os.path.dirname(events), "client-events.jsonl")
    prefix = root.rstrip("/") + "/"
    n = kept = 0
    with open(events, "rb") as f, open(out, "wb") as o:
        for line in f:
            try:
                ev = json.loads(line)
            except ValueError:
                o.write(line)          # a bad line fails the validator
                continue
            n += 1
            if str((ev.get("process") or {}).get("exe", "")).startswith(prefix):
                o.write(line)
                kept += 1
    client_events.counts = (kept, n)
    return out


def validate(events):
    p = subprocess.run([e2elib.PYTHON, VALIDATOR, events, EXPECTED], capture_output=True,
                       text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--events-out", help="copy the captured events there")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("host-mode: needs root (eBPF)", file=sys.stderr)
        return 2
    if not os.path.exists(SENSOR):
        print("host-mode: %s is missing (make)" % SENSOR, file=sys.stderr)
        return 2
    work = tempfile.mkdtemp(prefix="oisp-cookbook-k8s-")
    sensor = server = None
    rc = 1
    try:
        objs = render()
        sensor = HostSensor(objs, work)
        server = e2elib.Server(work).start()
        client = HostClient(objs, work, server)
        sensor.start()
        sensor.check_probes()
        client.run()
        # Give the sensor a moment to read the last records; then a clean
        # SIGTERM flushes what is left, as when the pod stops.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if (os.path.exists(sensor.events)
                    and validate(client_events(sensor.events, client.root))[0] == 0):
                break
            time.sleep(0.5)
        src = sensor.stop()
        if src != 0:
            raise AssertionError("the sensor exited %s on SIGTERM:\n%s" % (src, sensor.tail()))
        if not os.path.exists(sensor.events):
            raise AssertionError("no events file at output.path (%s):\n%s"
                                 % (sensor.events, sensor.tail()))
        # The sensor sees every process of this host (other tests too); the
        # test app's events are those of the programs in its root
        # filesystem, whose executables the sensor reports by their path
        # seen from the host.
        mine = client_events(sensor.events, client.root)
        if a.events_out:
            shutil.copyfile(mine, a.events_out)
        vrc, out = validate(mine)
        log("%d of the %d events written are the test app's" % client_events.counts)
        sys.stdout.write("".join("  validate| " + l + "\n" for l in out.splitlines()))
        rc = 0 if vrc == 0 else 1
        log("PASS" if rc == 0 else "FAIL: events do not match expected-events.json")
    except Setup as e:
        log("ERROR: %s" % e)
        rc = 2
    except (AssertionError, subprocess.TimeoutExpired) as e:
        log("FAIL: %s" % e)
        rc = 1
    finally:
        if sensor and sensor.proc and sensor.proc.poll() is None:
            sensor.stop()
        if server:
            server.stop()
        if rc != 0 and sensor:
            sys.stdout.write("".join("  sensor| " + l for l in sensor.tail().splitlines(True)))
        if a.keep or os.environ.get("OISP_E2E_KEEP"):
            log("files kept in " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sys.exit(main())

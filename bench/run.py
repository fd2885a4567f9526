#!/usr/bin/python3
"""oisp-sensor benchmarks: `make bench` runs this.

Sections (results in bench/results/RESULTS.md and results.json; a
section run again replaces its previous figures, the others are kept):

  cost      what probes cost the traced program: bench/tlsbench rounds
            with no probes, with counting-only probes (bench/count, the
            floor), with counting probes on writes at entry only, and
            under the real sensor, alternating in repetitions
  cost_gnutls  the same for GnuTLS: bench/gnutlsbench (bio mode) with
            no probes, counting probes on the functions the sensor
            probes in libgnutls (bench/count --stack gnutls), and the
            sensor
  cost_go   the same for Go's crypto/tls: bench/gotlsbench (built with
            Debian's go) with no probes, counting probes where the sensor
            probes (*tls.Conn).Write and Read (bench/count --stack go),
            and the sensor
  cost_bun  the same for the BoringSSL inside Bun: bench/bunbench.js
            run by Bun 1.4.5 from the test cache (tests/fetch-agent-exes.sh)
            with no probes, counting probes on the SSL_write and SSL_read
            the sensor finds (bench/count --stack boringssl), and the
            sensor
  cost_rustls  the same for rustls over aws-lc: bench/denobench.js run by
            Deno 2.9.6 from the test cache with no probes, counting probes
            on the EVP_AEAD_CTX_seal/_open/_init the sensor finds
            (bench/count --stack rustls), and the sensor
  cost_rustls_host  the host-wide cost of rustls's socket tracepoints
            (sock_recv_length, inet_sock_set_state, tcp_destroy_sock),
            attached while a rustls file is probed: ns per getppid(),
            read() and a Unix socket pair's write()+read()
            (bench/syscallbench) with no sensor, with the sensor and no
            rustls process, and with a deno process probed
  replay    pipeline throughput: `oisp-sensor replay` of generated
            capture files (bench/gencap.py) on one core
  footprint resident memory idle and under load, CPU idle over 30 s
  loss      the largest paced call rate with no lost records
  startup   time to attach with 1000 processes mapping 50 libssl copies
  hostile   the hostile captures (tests/fixtures/hostile): the longest
            the pipeline takes over one record (how long the live
            sensor's event loop would stall) and peak memory, default
            config, one core

Needs root for everything but replay.  Runs in a few minutes.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LIBSSL = "/lib/x86_64-linux-gnu/libssl.so.3"
LIBGNUTLS = "/lib/x86_64-linux-gnu/libgnutls.so.30"
# Agent-sized calls too: a 1 MB and a 4 MiB request in one write, the
# cost over the floor of copying them whole (capture.max_bytes_per_call).
SIZES = (128, 4096, 65536, 1 << 20, 4 << 20)
# Loss: small and 64 KiB calls, and 4 MiB calls in flight at once; the
# ramp of each starts at this many rounds per second (tlsbench runs
# rounds in sixteens: 4 MiB steps take some 16 s each).
LOSS_SIZES = {4096: 250, 65536: 250, 4 << 20: 2}
MODES = ("bio", "sock")
SECTIONS = ("cost", "cost_gnutls", "cost_go", "cost_bun", "cost_rustls", "cost_rustls_host",
            "ring", "replay", "footprint", "loss", "startup", "hostile")
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


class Env:
    def __init__(self, build):
        self.build = os.path.abspath(build)
        self.sensor = os.path.join(self.build, "oisp-sensor")
        # make bench-libc: the same sources, linked with glibc's malloc.
        self.sensor_libc = os.path.join(self.build, "bench", "libc", "oisp-sensor")
        self.tlsbench = os.path.join(self.build, "bench", "tlsbench")
        self.gnutlsbench = os.path.join(self.build, "bench", "gnutlsbench")
        self.gotlsbench = os.path.join(self.build, "bench", "gotlsbench")
        self.count = os.path.join(self.build, "bench", "count")
        self.dlsleeper = os.path.join(self.build, "bench", "dlsleeper")
        self.tmp = tempfile.mkdtemp(prefix="oisp-bench-")
        self.bun = os.path.join(os.environ.get("OISP_TEST_CACHE", "/var/cache/oisp-test"),
                                "npm", "@oven", "bun-linux-x64@1.4.5", "package", "bin", "bun")
        self.bunbench = os.path.join(HERE, "bunbench.js")
        self.deno = os.path.join(os.environ.get("OISP_TEST_CACHE", "/var/cache/oisp-test"),
                                 "npm", "@deno", "linux-x64-glibc@2.9.6", "package", "deno")
        self.denobench = os.path.join(HERE, "denobench.js")
        self.syscallbench = os.path.join(self.build, "bench", "syscallbench")
        self.ringbench = os.path.join(self.build, "bench", "ringbench")
        self.deno_tls = None
        self.bun_tls = None

    def bun_cert(self):
        """A self-signed certificate and key for bunbench, made once."""
        if not self.bun_tls:
            cert, key = os.path.join(self.tmp, "bun.crt"), os.path.join(self.tmp, "bun.key")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                            "-days", "2", "-subj", "/CN=api.openai.com"],
                           check=True, capture_output=True)
            self.bun_tls = (cert, key)
        return self.bun_tls

    def deno_cert(self):
        """A self-signed end-entity certificate for 127.0.0.1 and its key
        for denobench, made once (rustls refuses a CA certificate as a
        server's)."""
        if not self.deno_tls:
            cert, key = os.path.join(self.tmp, "deno.crt"), os.path.join(self.tmp, "deno.key")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                            "-days", "2", "-subj", "/CN=127.0.0.1",
                            "-addext", "subjectAltName=IP:127.0.0.1",
                            "-addext", "basicConstraints=critical,CA:FALSE"],
                           check=True, capture_output=True)
            self.deno_tls = (cert, key)
        return self.deno_tls

    def deno_env(self):
        """denobench's environment: its cache under the bench's tmp."""
        return dict(os.environ, DENO_DIR=os.path.join(self.tmp, "deno"),
                    DENO_NO_UPDATE_CHECK="1", NO_COLOR="1")

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


# ---------------------------------------------------------------- helpers

def machine():
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    osname = ""
    if os.path.exists("/etc/os-release"):
        with open("/etc/os-release") as f:
            m = re.search(r'^PRETTY_NAME="?([^"\n]*)', f.read(), re.M)
            osname = m.group(1) if m else ""
    ssl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    # Under a hypervisor, and without PCID, each kernel entry (a uprobe's
    # trap) flushes the TLB: the figures depend on it (design-rustls.md).
    dmesg = subprocess.run(["dmesg"], capture_output=True, text=True)
    m = re.search(r"Hypervisor detected: (\S+)", dmesg.stdout)
    with open("/proc/cpuinfo") as f:
        flags = re.search(r"^flags\s*:(.*)$", f.read(), re.M)
    return {"hypervisor": m.group(1) if m else
            "none found" if dmesg.returncode == 0 else "unknown (dmesg unreadable)",
            "pcid": bool(flags and " pcid" in flags.group(1)),
            "kernel": platform.release(), "os": osname, "cpu": cpu,
            "cpus": os.cpu_count(), "mem_gib": round(mem_kb / 2**20, 1),
            "openssl": ssl, "commit": commit,
            "virt": subprocess.run(["systemd-detect-virt"], capture_output=True,
                                   text=True).stdout.strip() or "unknown"}


def proc_stat(pid):
    """(utime + stime) in seconds, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_mem(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                out[k] = int(v.split()[0]) / 1024.0    # MiB
    return out


def bpf_progs():
    p = subprocess.run(["bpftool", "prog", "show", "--json"], capture_output=True,
                       text=True, check=True)
    return json.loads(p.stdout)


def prog_ids_of(pid):
    """Ids of the BPF programs process @pid holds (from /proc/PID/fdinfo)."""
    ids = set()
    d = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(d):
        try:
            with open(os.path.join(d, fd)) as f:
                m = re.search(r"^prog_id:\s*(\d+)", f.read(), re.M)
        except OSError:
            continue
        if m:
            ids.add(int(m.group(1)))
    return ids


def bpf_prog_runs(ids, prefix):
    """{prog id: (run_cnt, run_time_ns)} of the programs in @ids whose name
    starts with @prefix (needs kernel.bpf_stats_enabled=1)."""
    return {q["id"]: (q.get("run_cnt", 0), q.get("run_time_ns", 0))
            for q in bpf_progs() if q["id"] in ids and q.get("name", "").startswith(prefix)}


def foreign_uprobes(mine):
    """Uprobe/kprobe programs loaded by someone else (another sensor, a
    test run): they would make the "no probes" baseline a lie."""
    return sorted(q["id"] for q in bpf_progs()
                  if q.get("type") == "kprobe" and q["id"] not in mine)


def wait_quiet(mine, timeout):
    """Waits up to @timeout s for foreign uprobes to go; returns those left."""
    deadline = time.monotonic() + timeout
    left = foreign_uprobes(mine)
    if left:
        log("waiting for foreign uprobe programs to go: %s" % left[:8])
    while left and time.monotonic() < deadline:
        time.sleep(1)
        left = foreign_uprobes(mine)
    return left


def runs_delta(before, after):
    cnt = sum(after[i][0] - before.get(i, (0, 0))[0] for i in after)
    ns = sum(after[i][1] - before.get(i, (0, 0))[1] for i in after)
    return cnt, ns


class BpfStats:
    """kernel.bpf_stats_enabled=1 for the duration (restored after)."""

    PATH = "/proc/sys/kernel/bpf_stats_enabled"

    def __enter__(self):
        with open(self.PATH) as f:
            self.old = f.read().strip()
        with open(self.PATH, "w") as f:
            f.write("1")
        return self

    def __exit__(self, *exc):
        with open(self.PATH, "w") as f:
            f.write(self.old)


class Sensor:
    """`oisp-sensor run` with its own status socket and output file."""

    def __init__(self, env, cpus=None, output="/dev/null", extra=(), config=""):
        self.env = env
        self.sock = os.path.join(env.tmp, "status.sock")
        self.errlog = os.path.join(env.tmp, "sensor.log")
        cfg = os.path.join(env.tmp, "sensor.yaml")
        with open(cfg, "w") as f:
            f.write(config)
        argv = [env.sensor, "run", "--output", output, "--status-socket", self.sock,
                "--config", cfg] + list(extra)
        if cpus is not None:
            argv = ["taskset", "-c", cpus] + argv
        self.t0 = time.monotonic()
        with open(self.errlog, "w") as err:
            self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err,
                                         stdin=subprocess.DEVNULL)
        self.pid = self.proc.pid

    def status(self):
        p = subprocess.run([self.env.sensor, "status", "--json", "--status-socket", self.sock],
                           capture_output=True, text=True)
        return json.loads(p.stdout) if p.returncode == 0 else None

    def wait_ready(self, timeout=60, files=1):
        """Seconds from start until status answers with @files attached."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sensor exited: " + open(self.errlog).read())
            st = self.status()
            if st and st["capture"]["files_attached"] >= files:
                return time.monotonic() - self.t0
            time.sleep(0.01)
        raise RuntimeError("sensor not ready in %ds" % timeout)

    def wait_probed(self, pid, timeout=60):
        """Waits until status lists the executable of process @pid as
        attached (its probes are in place once it is listed)."""
        exe = os.path.realpath("/proc/%d/exe" % pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.status()
            for f in (st or {}).get("attach", {}).get("list", []):
                if os.path.realpath(f["path"]) == exe:
                    if f.get("skipped"):
                        raise RuntimeError("%s not probed: %s" % (exe, f))
                    return
            time.sleep(0.05)
        raise RuntimeError("%s not probed in %ds" % (exe, timeout))

    def stop(self):
        t = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return time.monotonic() - t


class Counter:
    """bench/count: counting-only probes (the floor)."""

    def __init__(self, env, writes="both", reads="both", stack="openssl"):
        lib = {"gnutls": LIBGNUTLS, "go": env.gotlsbench,
               "boringssl": env.bun, "rustls": env.deno}.get(stack, LIBSSL)
        self.proc = subprocess.Popen([env.count, "--lib", lib, "--stack", stack,
                                      "--writes", writes, "--reads", reads],
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.pid = self.proc.pid
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError("count did not attach")

    def hits(self):
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(30)


def sync_bench_argv(env, stack, size, seconds):
    """The command line of gotlsbench, bunbench (@stack boringssl) or
    denobench (rustls) with --sync, and its environment (None: ours)."""
    if stack == "boringssl":
        # The sensor searches a Bun executable at its exec (0.15-0.3 s).
        cert, key = env.bun_cert()
        argv, penv = [env.bun, env.bunbench, "--cert", cert, "--key", key,
                      "--warmup", "1.5"], None
    elif stack == "rustls":
        # The sensor identifies a Deno executable at its exec (0.4-0.8 s).
        cert, key = env.deno_cert()
        argv, penv = [env.deno, "run", "--allow-net", "--allow-read", env.denobench,
                      "--cert", cert, "--key", key, "--warmup", "2"], env.deno_env()
    else:
        argv, penv = [env.gotlsbench], None
    return argv + ["--size", str(size), "--seconds", str(seconds), "--sync"], penv


def tlsbench(env, mode, size, seconds, rate=None, cpus="0", stack="openssl", before=None,
             probed=None):
    """One run of the stack's bench program; @before() runs when it starts
    measuring: at once, or for gotlsbench after its warm-up (the sensor
    probes a Go executable at its exec), which it does not count.
    denobench opens its measured connection only once @probed() (if
    given) has returned: the sensor must see that connection's
    handshake, and identifying deno takes seconds on a busy machine."""
    if stack in ("go", "boringssl", "rustls"):
        argv, penv = sync_bench_argv(env, stack, size, seconds)
        if cpus is not None:
            argv = ["taskset", "-c", cpus] + argv
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             env=penv)
        if p.stdout.readline().strip() != "warm":
            raise RuntimeError("%s bench failed" % stack)
        if stack == "rustls":
            if probed:
                probed(p.pid)
            p.stdin.write("\n")
            p.stdin.flush()
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError("%s bench failed" % stack)
        if before:
            before()
        out, _ = p.communicate("\n")
        if p.returncode:
            raise RuntimeError("%s exited %d" % (stack, p.returncode))
        return json.loads(out)
    if before:
        before()
    if stack == "gnutls":
        argv = [env.gnutlsbench, "--size", str(size), "--seconds", str(seconds)]
    else:
        argv = [env.tlsbench, "--mode", mode, "--size", str(size), "--seconds", str(seconds)]
    if rate:
        argv += ["--rate", str(rate)]
    if cpus is not None:
        argv = ["taskset", "-c", cpus] + argv
    p = subprocess.run(argv, capture_output=True, text=True, check=True)
    return json.loads(p.stdout)


# ---------------------------------------------------------------- 1. cost

COST_CONFIGS = (
    ("none", "no probes"),
    ("floor", "counting uprobe+uretprobe on all four functions"),
    ("floor_w1", "counting: writes uprobe only, reads uprobe+uretprobe"),
    ("floor_busy", "`floor` with CPU 1 (the sensor's) kept busy by a spinning process: what "
     "work on the other vCPU alone costs tlsbench in this VM, probes aside"),
    ("sensor", "oisp-sensor run (default config, events to /dev/null): tlsbench's server "
     "end is recognised at its first request and no longer copied (`capture.skipped_calls`)"),
    ("sensor_all", "oisp-sensor run with `filters.server_side: true`: both ends are parsed "
     "and reported, so every call is copied, as for a program that is only an AI client"),
    ("sensor_w1", "oisp-sensor run with `capture.write_probe: entry` (one hit per write)"),
    ("sensor_unsel", "oisp-sensor run in targeted mode selecting another program "
     "(`capture.targets.comm: [no-such-program]`): tlsbench is not selected"),
)
# Every SSL call captured and parsed: both of tlsbench's ends are reported.
ALL_CONFIG = "filters:\n  server_side: true\n"
SENSOR_CONFIGS = {
    "sensor": "",
    "sensor_all": ALL_CONFIG,
    "sensor_w1": "capture:\n  write_probe: entry\n",
    "sensor_unsel": "capture:\n  targets:\n    comm: [no-such-program]\n",
}


def cpu_seconds(pid):
    """utime + stime of @pid from /proc/PID/stat, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Burner:
    """A process spinning on @cpu (the floor_busy control)."""

    def __init__(self, cpu="1"):
        self.proc = subprocess.Popen(["taskset", "-c", cpu, sys.executable, "-c",
                                      "while True: pass"])

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def cost_case(env, cfg, probe, mode, size, seconds, quiet_timeout, stack="openssl"):
    """One tlsbench (gnutlsbench) run under @probe; returns its figures
    plus hits."""
    mine = prog_ids_of(probe.pid) if probe else set()
    foreign = wait_quiet(mine, quiet_timeout)
    # rustls: the uprobes, and the socket-read tracepoint, which runs in
    # the traced thread at each socket read (names are cut at 15
    # characters); its cost to other programs is section
    # cost_rustls_host's.
    progs = {"gnutls": "gnutls_", "go": "go_", "boringssl": "boringssl_",
             "rustls": ("rustls_enter", "rustls_return", SOCK_PROGS[0])}.get(stack, "ssl_")
    snap = {}

    def before():
        if cfg.startswith("sensor"):
            snap.update(st0=probe.status(), runs0=bpf_prog_runs(mine, progs),
                        cpu0=cpu_seconds(probe.pid))
        elif cfg.startswith("floor"):
            snap.update(h0=probe.hits(), runs0=bpf_prog_runs(mine, "cnt_"))

    probed = None
    if stack == "rustls" and cfg.startswith("sensor"):
        probed = probe.wait_probed
    r = tlsbench(env, mode, size, seconds, stack=stack, before=before, probed=probed)
    st0, runs0, cpu0, h0 = (snap.get(k) for k in ("st0", "runs0", "cpu0", "h0"))
    if cfg.startswith("sensor"):
        r["sensor_cpu_s"] = cpu_seconds(probe.pid) - cpu0
    r["foreign_uprobes"] = len(set(foreign) | set(foreign_uprobes(mine)))
    if cfg.startswith("sensor"):
        time.sleep(0.2)       # let the reader drain before counting
        st1, runs1 = probe.status(), bpf_prog_runs(mine, progs)
        r["hits"], r["bpf_ns"] = runs_delta(runs0, runs1)
        c0, c1 = st0["capture"], st1["capture"]
        r["captured_calls"] = c1["calls"] - c0["calls"]
        r["skipped_calls"] = c1.get("skipped_calls", 0) - c0.get("skipped_calls", 0)
        r["lost_records"] = c1["lost_records"] - c0["lost_records"]
        r["events"] = (st1["pipeline"]["events_request"] + st1["pipeline"]["events_response"]
                       - st0["pipeline"]["events_request"] - st0["pipeline"]["events_response"])
    elif cfg.startswith("floor"):
        h1, runs1 = probe.hits(), bpf_prog_runs(mine, "cnt_")
        r["hits"] = sum(h1.values()) - sum(h0.values())
        r["bpf_ns"] = runs_delta(runs0, runs1)[1]
        if stack == "rustls":
            # The counting socket-read program alone (bench/count.bpf.c).
            sock = bpf_prog_runs(mine, "cnt_sock_recv")
            r["sock_ns"] = runs_delta(runs0, {i: runs1[i] for i in sock})[1]
    return r


def prime(env, sensor, stack):
    """Has @sensor identify the bench's Bun or Deno executable before the
    measured runs, with an idle process of it: from then on the sensor
    probes each new process of that build at its exec (capture/idcache.c),
    before it runs, as the floor's counting probes are from the start and
    as a deployed sensor does once it has seen a build.  A process probed
    only after it started (its build identified meanwhile) ran the
    sensor's programs about 40 % slower per call in this VM, all its run
    long (Deno, 4 KiB, 2026-12-06); RESULTS.md 1e says so."""
    if stack == "rustls":
        argv, penv = [env.deno, "eval", "await new Promise(r => setTimeout(r, 30000))"], \
            env.deno_env()
    elif stack == "boringssl":
        argv, penv = [env.bun, "-e", "await Bun.sleep(30000)"], None
    else:
        return
    p = subprocess.Popen(argv, env=penv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    try:
        sensor.wait_probed(p.pid)
    finally:
        p.kill()
        p.wait()


def bench_cost(env, a, configs=COST_CONFIGS, modes=MODES, stack="openssl", sizes=SIZES):
    raw = []
    with BpfStats():
        for rep in range(a.reps):
            for cfg, _ in configs:
                log("cost %s: repetition %d/%d, %s" % (stack, rep + 1, a.reps, cfg))
                probe = burner = None
                if cfg == "floor":
                    probe = Counter(env, stack=stack)
                elif cfg == "floor_busy":
                    probe, burner = Counter(env), Burner()
                elif cfg == "floor_w1":
                    probe = Counter(env, writes="entry")
                elif cfg.startswith("sensor"):
                    probe = Sensor(env, cpus="1", config=SENSOR_CONFIGS[cfg])
                    probe.wait_ready()
                    prime(env, probe, stack)
                try:
                    for mode in modes:
                        for size in sizes:
                            r = cost_case(env, cfg, probe, mode, size, a.seconds,
                                          a.quiet_timeout, stack)
                            r.update(config=cfg, rep=rep)
                            raw.append(r)
                finally:
                    if probe:
                        probe.stop()
                    if burner:
                        burner.stop()
    return {"seconds_per_case": a.seconds, "reps": a.reps, "raw": raw,
            "summary": cost_summary(raw, configs, modes, sizes)}


def bench_cost_gnutls(env, a):
    """The cost section's floor and sensor cases for GnuTLS, bio mode."""
    return bench_cost(env, a, GNUTLS_COST_CONFIGS, ("bio",), "gnutls")


def bench_cost_go(env, a):
    """The cost section's floor and sensor cases for Go's crypto/tls."""
    return bench_cost(env, a, GO_COST_CONFIGS, ("bio",), "go")


def bench_cost_bun(env, a):
    """The cost section's floor and sensor cases for Bun's BoringSSL."""
    if not os.path.exists(env.bun):
        raise RuntimeError("%s missing: run tests/fetch-agent-exes.sh" % env.bun)
    res = bench_cost(env, a, BUN_COST_CONFIGS, ("sock",), "boringssl")
    return add_inproc(env, a, res, "boringssl", SIZES)


def bench_cost_rustls(env, a):
    """The cost section's floor and sensor cases for rustls over aws-lc,
    in Deno.  Sizes of 16 and 64 KiB are left out: there denobench's
    rounds wait on delayed ACKs (Deno's TLS listener cannot set
    TCP_NODELAY), which would hide the probes' cost."""
    if not os.path.exists(env.deno):
        raise RuntimeError("%s missing: run tests/fetch-agent-exes.sh" % env.deno)
    sizes = (128, 4096, 1 << 20)
    res = bench_cost(env, a, RUSTLS_COST_CONFIGS, ("sock",), "rustls", sizes)
    return add_inproc(env, a, res, "rustls", sizes)


def add_inproc(env, a, res, stack, sizes):
    """Section @res of @stack with the floor measured in one process
    (floor_in_process()), a.reps times per size, and the in-thread
    figures against it."""
    res["inproc"] = []
    with BpfStats():
        for rep in range(a.reps):
            for size in sizes:
                log("cost %s: floor in one process, repetition %d/%d, %d B"
                    % (stack, rep + 1, a.reps, size))
                r = floor_in_process(env, size, a.seconds, stack, a.quiet_timeout)
                r.update(size=size, rep=rep)
                res["inproc"].append(r)
    for s in res["summary"]:
        inproc_summary(s, [r for r in res["inproc"] if r["size"] == s["size"]])
    return res


def clean_runs(runs):
    """@runs without those made while another tracer's uprobes were
    loaded, or all of them when every one was."""
    return [r for r in runs if not r.get("foreign_uprobes")] or runs


def floor_in_process(env, size, seconds, stack="rustls", quiet_timeout=0):
    """The floor's cost per call in one denobench (@stack rustls) or
    bunbench (boringssl) process: a phase of @seconds without probes, one
    with count's (attached while the bench waits between phases), one
    without again (detached).  Across fresh processes Deno's own speed
    varies by a third, and the floor's cost, the difference of two such
    runs, by a factor of five; within one process the two phases without
    probes mostly agree within a tenth (RESULTS.md gives the largest
    difference).  Returns µs per call of each phase, and how many other
    tracers' uprobe programs were loaded during it (after waiting up to
    @quiet_timeout s for them to go, as cost_case() does)."""
    foreign = set(wait_quiet(set(), quiet_timeout))
    argv, penv = sync_bench_argv(env, stack, size, seconds)
    argv = ["taskset", "-c", "0"] + argv + ["--phases", "3"]
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                         env=penv)
    phases, counter = [], None

    def step(expect=None):
        p.stdin.write("\n")
        p.stdin.flush()
        line = p.stdout.readline()
        if expect:
            if line.strip() != expect:
                raise RuntimeError("%s bench: %r, not %s" % (stack, line, expect))
        else:
            r = json.loads(line)
            phases.append(r["seconds"] / (r["writes"] + r["reads"]) * 1e6)

    try:
        if p.stdout.readline().strip() != "warm":
            raise RuntimeError("%s bench failed" % stack)
        if stack == "rustls":
            step("ready")
        step()
        counter = Counter(env, stack=stack)
        step()
        foreign |= set(foreign_uprobes(prog_ids_of(counter.proc.pid)))
        counter.stop()
        counter = None
        step()
        foreign |= set(foreign_uprobes(set()))
        if p.wait(30):
            raise RuntimeError("%s bench exited %d" % (stack, p.returncode))
    finally:
        if counter:
            counter.stop()
        if p.poll() is None:
            p.kill()
            p.wait()
    return {"none_us": [phases[0], phases[2]], "floor_us": phases[1],
            "added_us": phases[1] - (phases[0] + phases[2]) / 2,
            "foreign_uprobes": len(foreign)}


def inproc_summary(s, runs):
    """Adds to cost summary row @s (one size) the in-process floor of
    @runs (floor_in_process()) and the sensor's in-thread figures against
    it: the same work of the sensor's programs per call, divided by the
    floor's cost measured in one process."""
    if not runs:
        return
    dirty = sum(1 for r in runs if r.get("foreign_uprobes"))
    runs = clean_runs(runs)
    added = [r["added_us"] for r in runs]
    fl = s["configs"].get("floor")
    s["inproc"] = {"added_us": statistics.median(added), "added_us_min": min(added),
                   "added_us_max": max(added), "none_spread": max(
                       abs(r["none_us"][0] - r["none_us"][1]) / min(r["none_us"])
                       for r in runs), "dirty": dirty}
    for cfg in ("sensor", "sensor_all"):
        row = s["configs"].get(cfg)
        if not row or not fl or s["inproc"]["added_us"] <= 0:
            continue
        row["in_thread_inproc_pct"] = 100 * extra_bpf_us(row, fl) / s["inproc"]["added_us"]


RUSTLS_COST_CONFIGS = (
    ("none", "no probes"),
    ("floor", "counting programs at every hook the sensor runs in the traced thread: "
     "uprobes where the sensor puts its own, found by the sensor's resolver "
     "(`capture/rustls.c`), on the entries of aws-lc's `EVP_AEAD_CTX_seal`, `_open` and "
     "`_init` and on `_open`'s return (uretprobe), and the socket-read tracepoint "
     "`sock_recv_length` (BTF), which the sensor's rustls capture needs at each socket read"),
    ("sensor", "oisp-sensor run (default config): denobench's server end is recognised at "
     "its first request and no longer copied"),
    ("sensor_all", "oisp-sensor run with `filters.server_side: true`: every call copied"),
)


SYSCALLS = ("getppid", "read", "sockpair")
RUSTLS_HOST_CONFIGS = (
    ("none", "no sensor"),
    ("sensor", "oisp-sensor run, no rustls file probed: the socket tracepoints are not "
     "attached"),
    ("sensor_rustls", "oisp-sensor run with an idle deno process probed: the socket "
     "tracepoints are attached and run for every socket read, TCP state change and TCP "
     "socket destruction on the host"),
)
# The socket tracepoints' programs, as the kernel names them (15
# characters at most).
SOCK_PROGS = ("rustls_sock_rec", "rustls_sock_sta", "rustls_sock_des")


class IdleDeno:
    """A deno process waiting on stdin, so that the sensor probes it."""

    def __init__(self, env):
        self.proc = subprocess.Popen(
            [env.deno, "eval", "await Deno.stdin.read(new Uint8Array(1))"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env.deno_env())

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(30)


def sock_progs_attached(sensor):
    """Whether @sensor holds its rustls socket tracepoints attached (a
    tracing link to each)."""
    ids = {q["id"] for q in bpf_progs() if q.get("name", "").startswith(SOCK_PROGS)
           and q["id"] in prog_ids_of(sensor.pid)}
    p = subprocess.run(["bpftool", "link", "show", "--json"], capture_output=True,
                       text=True, check=True)
    return len(ids & {l.get("prog_id") for l in json.loads(p.stdout)}) == len(SOCK_PROGS)


def bench_cost_rustls_host(env, a):
    """ns per system call (bench/syscallbench on CPU 0) under each of
    RUSTLS_HOST_CONFIGS, alternated in a.reps repetitions."""
    raw = []
    for rep in range(a.reps):
        for cfg, _ in RUSTLS_HOST_CONFIGS:
            log("cost_rustls_host: repetition %d/%d, %s" % (rep + 1, a.reps, cfg))
            sensor = deno = None
            try:
                if cfg != "none":
                    sensor = Sensor(env, cpus="1")
                    sensor.wait_ready(files=0)
                if cfg == "sensor_rustls":
                    deno = IdleDeno(env)
                    deadline = time.monotonic() + 30
                    while not sock_progs_attached(sensor):
                        if time.monotonic() > deadline:
                            raise RuntimeError("socket tracepoints not attached with deno "
                                               "running")
                        time.sleep(0.1)
                # Another rustls program on the host (a test run) would
                # have them attached: such cases are marked and left out.
                attached = bool(sensor) and sock_progs_attached(sensor)
                for call in SYSCALLS:
                    p = subprocess.run(["taskset", "-c", "0", env.syscallbench, "--call", call,
                                        "--seconds", str(a.seconds)],
                                       capture_output=True, text=True, check=True)
                    r = json.loads(p.stdout)
                    r.update(config=cfg, rep=rep, loadavg=os.getloadavg()[0],
                             attached=attached)
                    raw.append(r)
                if attached:
                    raw.append(sock_prog_run(env, a, sensor, cfg, rep))
            finally:
                if deno:
                    deno.stop()
                if sensor:
                    sensor.stop()
    summary = []
    prog = [r for r in raw if r.get("call") == "prog"]
    raw = [r for r in raw if r.get("call") != "prog"]
    for call in SYSCALLS:
        rows = {}
        for cfg, _ in RUSTLS_HOST_CONFIGS:
            rs = [r for r in raw if r["call"] == call and r["config"] == cfg]
            rs = [r for r in rs if r["attached"] == (cfg == "sensor_rustls")] or rs
            rows[cfg] = {"ns_per_call": statistics.median(r["ns_per_call"] for r in rs),
                         "min": min(r["ns_per_call"] for r in rs),
                         "max": max(r["ns_per_call"] for r in rs)}
        for cfg in rows:
            rows[cfg]["added_ns"] = rows[cfg]["ns_per_call"] - rows["none"]["ns_per_call"]
        summary.append({"call": call, "configs": rows})
    out = {"seconds_per_case": a.seconds, "reps": a.reps, "raw": raw + prog,
           "summary": summary, "loadavg": [r["loadavg"] for r in raw]}
    if prog:
        out["prog_ns_per_run"] = statistics.median(r["ns_per_run"] for r in prog)
        out["prog_ns_per_run_range"] = (min(r["ns_per_run"] for r in prog),
                                        max(r["ns_per_run"] for r in prog))
        out["prog_runs_per_call"] = statistics.median(r["runs_per_call"] for r in prog)
    return out


def sock_prog_run(env, a, sensor, cfg, rep):
    """The socket-read program's own run time, ns per run (BPF run_time_ns
    with kernel.bpf_stats_enabled=1), over a socket-pair loop of
    syscallbench: kept apart from the timed runs, because the statistics
    cost every run two clock reads."""
    mine = prog_ids_of(sensor.pid)
    with BpfStats():
        runs0 = bpf_prog_runs(mine, SOCK_PROGS[0])
        p = subprocess.run(["taskset", "-c", "0", env.syscallbench, "--call", "sockpair",
                            "--seconds", str(a.seconds)], capture_output=True, text=True,
                           check=True)
        cnt, ns = runs_delta(runs0, bpf_prog_runs(mine, SOCK_PROGS[0]))
    calls = json.loads(p.stdout)["calls"]
    return {"call": "prog", "config": cfg, "rep": rep, "runs": cnt,
            "ns_per_run": ns / max(1, cnt), "runs_per_call": cnt / max(1, calls)}


BUN_COST_CONFIGS = (
    ("none", "no probes"),
    ("floor", "counting uprobe+uretprobe on the `SSL_write` and `SSL_read` the sensor finds "
     "in Bun (`capture/boringssl.c`, by the same resolver)"),
    ("sensor", "oisp-sensor run (default config): bunbench's server end is recognised at "
     "its first request and no longer copied"),
    ("sensor_all", "oisp-sensor run with `filters.server_side: true`: every call copied"),
)


GO_COST_CONFIGS = (
    ("none", "no probes"),
    ("floor", "counting uprobes where the sensor puts its own, found by the sensor's "
     "resolver (`capture/gotls.c`): the start of `(*tls.Conn).Write`'s body (after its "
     "stack check), the entry of `Read` and each of `Read`'s return instructions (no "
     "uretprobe in Go)"),
    ("sensor", "oisp-sensor run (default config): gotlsbench's server end is recognised at "
     "its first request and no longer copied"),
    ("sensor_all", "oisp-sensor run with `filters.server_side: true`: every call copied"),
)


GNUTLS_COST_CONFIGS = (
    ("none", "no probes"),
    ("floor", "counting uprobe+uretprobe on `gnutls_record_send`, `_send2`, `_recv` and "
     "`_recv_seq` (what the sensor probes; a send enters `gnutls_record_send` and the "
     "`gnutls_record_send2` it jumps to)"),
    ("sensor", "oisp-sensor run (default config): gnutlsbench's server end is recognised at "
     "its first request and no longer copied"),
    ("sensor_all", "oisp-sensor run with `filters.server_side: true`: every call copied"),
)


def extra_bpf_us(row, floor):
    """The sensor's own work in the traced thread, in µs per call: the BPF
    run time per call of summary @row beyond the counting programs' of
    @floor's."""
    return (row["bpf_ns_per_hit"] * row["hits_per_call"]
            - floor["bpf_ns_per_hit"] * floor["hits_per_call"]) / 1e3


def cost_summary(raw, configs=COST_CONFIGS, modes=MODES, sizes=SIZES):
    out = []
    for mode in modes:
        for size in sizes:
            rows = {}
            for cfg, _ in configs:
                rs = [r for r in raw if r["config"] == cfg and r["mode"] == mode
                      and r["size"] == size]
                rs = clean_runs(rs)
                if not rs:
                    continue
                calls = sum(r["writes"] + r["reads"] for r in rs)
                # Probes attached for a whole tlsbench run also see its
                # warm-up calls: per-call counts and times are over all.
                probed = calls + sum(r.get("warm_calls", 0) for r in rs)
                rps = statistics.median(r["rounds"] / r["seconds"] for r in rs)
                row = {"rounds_per_s": rps,
                       "rounds_per_s_min": min(r["rounds"] / r["seconds"] for r in rs),
                       "rounds_per_s_max": max(r["rounds"] / r["seconds"] for r in rs),
                       "calls_per_round": calls / sum(r["rounds"] for r in rs),
                       "writes_per_round": sum(r["writes"] for r in rs) / sum(r["rounds"] for r in rs),
                       "reads_per_round": sum(r["reads"] for r in rs) / sum(r["rounds"] for r in rs),
                       "write_us": statistics.median(r["write_ns"] / r["writes"] / 1e3 for r in rs),
                       "read_us": statistics.median(r["read_ns"] / r["reads"] / 1e3 for r in rs)}
                if "hits" in rs[0]:
                    row["hits_per_call"] = sum(r["hits"] for r in rs) / probed
                    row["bpf_ns_per_hit"] = (sum(r["bpf_ns"] for r in rs)
                                             / max(1, sum(r["hits"] for r in rs)))
                if "sock_ns" in rs[0]:
                    row["sock_ns_per_call"] = sum(r["sock_ns"] for r in rs) / probed
                if "captured_calls" in rs[0]:
                    row["captured_per_call"] = sum(r["captured_calls"] for r in rs) / probed
                    row["skipped_per_call"] = sum(r.get("skipped_calls", 0) for r in rs) / probed
                    row["lost_records"] = sum(r["lost_records"] for r in rs)
                    # A lost record's reservation failed: its copy was not
                    # made, and it cost the traced thread less.
                    row["lost_per_captured"] = row["lost_records"] / max(
                        1, sum(r["captured_calls"] for r in rs))
                    row["events"] = sum(r["events"] for r in rs)
                    row["sensor_cpu_pct"] = statistics.median(
                        100 * r["sensor_cpu_s"] / r["seconds"] for r in rs)
                rows[cfg] = row
            base = rows.get("none")
            for cfg, row in rows.items():
                if not base or cfg == "none":
                    continue
                per_round = 1e6 / row["rounds_per_s"] - 1e6 / base["rounds_per_s"]
                row["added_us_per_round"] = per_round
                row["added_us_per_call"] = per_round / row["calls_per_round"]
                row["throughput_ratio"] = row["rounds_per_s"] / base["rounds_per_s"]
                row["added_write_us"] = row["write_us"] - base["write_us"]
                row["added_read_us"] = row["read_us"] - base["read_us"]
            floor = rows.get("floor")
            for cfg in ("sensor", "sensor_all", "floor_busy"):
                if cfg in rows and floor:
                    rows[cfg]["over_floor_pct"] = 100 * (
                        rows[cfg]["added_us_per_call"] / floor["added_us_per_call"] - 1)
            for cfg in ("sensor", "sensor_all"):
                if cfg not in rows or not floor:
                    continue
                # The sensor's own work in the traced thread: its BPF run
                # time per call beyond the counting programs'.
                rows[cfg]["in_thread_over_floor_pct"] = 100 * extra_bpf_us(
                    rows[cfg], floor) / floor["added_us_per_call"]
            out.append({"mode": mode, "size": size, "configs": rows})
    return out


# ---------------------------------------------------------------- 2. replay

REPLAY_CASES = (
    # name, generator kind, MiB of plaintext, extra replay args, target MB/s
    ("ai-json", "ai-json", 96, [], 200),
    ("ai-sse", "ai-sse", 96, [], 200),
    ("ai-gzip", "ai-gzip", 96, [], 200),
    ("ai-mix", "ai-mix", 96, [], 200),
    ("ws-responses", "ws-responses", 96, [], 200),
    ("ws-plain", "ws-plain", 96, [], 200),
    ("ws-deflate", "ws-deflate", 96, [], None),
    ("h2-json", "h2-json", 96, [], 200),
    ("h2-sse", "h2-sse", 96, [], 200),
    ("h2-mix", "h2-mix", 96, [], 200),
    ("nonai", "nonai", 1024, [], 1000),
    ("nonai --all", "nonai", 1024, ["--all"], None),
)
REPLAY_SUMMARY = re.compile(r"replay: (\d+) records .* (\d+) HTTP messages, (\d+) ai.request "
                            r"and (\d+) ai.response events")


def replay_once(env, path, extra, sensor=None):
    argv = ["taskset", "-c", "0", sensor or env.sensor, "replay", path, "--output", "/dev/null",
            "--config", os.path.join(env.tmp, "empty.yaml")] + extra
    ru0 = os.times()
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, check=True)
    wall = time.monotonic() - t0
    ru1 = os.times()
    m = REPLAY_SUMMARY.search(p.stderr)
    return {"wall_s": wall,
            "cpu_s": (ru1.children_user - ru0.children_user) + (ru1.children_system - ru0.children_system),
            "records": int(m.group(1)), "http_messages": int(m.group(2)),
            "events": int(m.group(3)) + int(m.group(4))}


def replay_profile(env, path):
    """Top symbols (self time) of one replay, with perf when it works."""
    if not shutil.which("perf"):
        return []
    data = os.path.join(env.tmp, "perf.data")
    # 32 KiB of stack per sample: with 16 KiB, over half the samples lost
    # the frames up to cmd_replay and the children view undercounted.
    p = subprocess.run(["perf", "record", "-q", "-o", data, "--call-graph", "dwarf,32768",
                        "-F", "2000", "--", "taskset", "-c", "0", env.sensor, "replay", path,
                        "--output", "/dev/null"], capture_output=True, text=True)
    if p.returncode != 0:
        return []
    out = []
    for sort, children in (("dso", False), ("sym", False), ("sym", True)):
        rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--sort", sort,
                              "--children" if children else "--no-children"],
                             capture_output=True, text=True).stdout
        lines = [l.rstrip() for l in rep.splitlines()
                 if re.match(r"^\s+\d+\.\d+%", l) and "[k]" not in l
                 and not re.search(r"\] 0x[0-9a-f]+$", l)]
        out.append({"sort": sort, "children": children, "top": lines[:25]})
    return out


def bench_replay(env, a):
    open(os.path.join(env.tmp, "empty.yaml"), "w").close()
    empty = os.path.join(env.tmp, "empty.cap")
    subprocess.run([sys.executable, os.path.join(HERE, "gencap.py"), "--kind", "ai-json",
                    "--mib", "0", empty], check=True, capture_output=True)
    start = min(replay_once(env, empty, [])["wall_s"] for _ in range(3))
    cases, gen, paths = [], {}, []
    capdir = tempfile.mkdtemp(prefix="oisp-bench-cap-", dir="/dev/shm")
    try:
        for name, kind, mib, extra, target in REPLAY_CASES:
            mib = max(1, int(mib * a.replay_scale))
            path = os.path.join(capdir, "%s-%d.cap" % (kind, mib))
            paths.append(path)
            if path not in gen:
                log("replay: generating %s (%d MiB)" % (kind, mib))
                p = subprocess.run([sys.executable, os.path.join(HERE, "gencap.py"),
                                    "--kind", kind, "--mib", str(mib), path],
                                   check=True, capture_output=True, text=True)
                gen[path] = json.loads(p.stdout)
        # Rounds over every case, so that on a host whose load varies
        # each case meets the same spells: their ratios hold.
        runs = [[] for _ in REPLAY_CASES]
        libc = [[] for _ in REPLAY_CASES]
        for r in range(a.replay_runs):
            log("replay: round %d of %d" % (r + 1, a.replay_runs))
            for k, (name, kind, mib, extra, target) in enumerate(REPLAY_CASES):
                runs[k].append(replay_once(env, paths[k], extra))
                if os.path.exists(env.sensor_libc):
                    libc[k].append(replay_once(env, paths[k], extra, env.sensor_libc)["wall_s"])
        for k, (name, kind, mib, extra, target) in enumerate(REPLAY_CASES):
            best = min(runs[k], key=lambda r: r["wall_s"])
            info = gen[paths[k]]
            lib = min(libc[k]) if libc[k] else None
            cases.append({
                "name": name, "kind": kind, "args": extra, "target_mb_s": target,
                "plaintext_bytes": info["plaintext_bytes"], "file_bytes": info["file_bytes"],
                "records": info["records"], "exchanges": info["exchanges"],
                "connections": info["connections"], "runs": runs[k],
                "events": best["events"], "http_messages": best["http_messages"],
                "mb_s": info["plaintext_bytes"] / 1e6 / best["wall_s"],
                "mb_s_net": info["plaintext_bytes"] / 1e6 / max(1e-6, best["wall_s"] - start),
                "events_s": best["events"] / best["wall_s"],
                "mb_s_glibc_malloc": info["plaintext_bytes"] / 1e6 / lib if lib else None,
                "records_s": info["records"] / best["wall_s"],
                "met": None if target is None else
                info["plaintext_bytes"] / 1e6 / best["wall_s"] >= target})
        profile = []
        if a.profile:
            log("replay: perf profile of ai-mix")
            mix = [p for p in gen if "/ai-mix-" in p]
            profile = replay_profile(env, mix[0]) if mix else []
    finally:
        shutil.rmtree(capdir, ignore_errors=True)
    return {"startup_s": start, "cases": cases, "profile": profile}


LONGEST_STEP = re.compile(r"replay: longest step ([0-9.]+) ms")


def bench_hostile(env, a):
    """Each hostile capture replayed with the default config: the longest
    single step (replay --log-level debug) and the peak RSS."""
    hostile = os.path.join(ROOT, "tests", "fixtures", "hostile")
    sys.path.insert(0, hostile)
    import mkhostile  # noqa: E402
    open(os.path.join(env.tmp, "empty.yaml"), "w").close()
    d = tempfile.mkdtemp(prefix="oisp-bench-hostile-", dir="/dev/shm")
    cases = []
    try:
        for name in mkhostile.CAPS:
            mkhostile.write(name, d)
        paths = sorted(os.path.join(d, f) for f in os.listdir(d))
        paths += sorted(os.path.join(hostile, "budget", f)
                        for f in os.listdir(os.path.join(hostile, "budget"))
                        if f.endswith(".hostile"))
        for path in paths:
            log("hostile: %s" % os.path.basename(path))
            best = None
            for _ in range(a.replay_runs):
                p = subprocess.Popen(["taskset", "-c", "0", env.sensor, "replay", path,
                                      "--output", "/dev/null", "--log-level", "debug",
                                      "--config", os.path.join(env.tmp, "empty.yaml")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
                t0 = time.monotonic()
                err = p.stderr.read()
                _, status, ru = os.wait4(p.pid, 0)
                p.returncode = os.waitstatus_to_exitcode(status)
                wall = time.monotonic() - t0
                m = LONGEST_STEP.search(err)
                run = {"wall_s": wall, "exit": p.returncode, "rss_mib": ru.ru_maxrss / 1024,
                       "longest_ms": float(m.group(1)) if m else None}
                if best is None or (run["longest_ms"] or 0) < (best["longest_ms"] or 0):
                    best = run
            best.update({"name": os.path.basename(path),
                         "file_bytes": os.path.getsize(path)})
            cases.append(best)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return {"cases": cases}


# ---------------------------------------------------------------- 3. footprint

def sample_mem(pid, proc, until):
    peak = 0.0
    while time.monotonic() < until and proc.poll() is None:
        peak = max(peak, proc_mem(pid).get("VmRSS", 0))
        time.sleep(0.1)
    return peak


def bench_footprint(env, a):
    s = Sensor(env, config=ALL_CONFIG)
    try:
        ready = s.wait_ready()
        time.sleep(2)
        idle_mem = proc_mem(s.pid)
        log("footprint: idle CPU over %ds" % a.idle_seconds)
        c0, t0 = proc_stat(s.pid), time.monotonic()
        time.sleep(a.idle_seconds)
        c1, t1 = proc_stat(s.pid), time.monotonic()
        loads = []
        for mode, size in (("sock", 4096), ("bio", 65536), ("bio", 128)):
            log("footprint: load tlsbench %s %d" % (mode, size))
            st0, cpu0, w0 = s.status(), proc_stat(s.pid), time.monotonic()
            # Two copies, on both cores, unpinned, like a busy host.
            procs = [subprocess.Popen([env.tlsbench, "--mode", mode, "--size", str(size),
                                       "--seconds", str(a.load_seconds)],
                                      stdout=subprocess.PIPE, text=True) for _ in range(2)]
            peak = sample_mem(s.pid, procs[0], time.monotonic() + a.load_seconds + 5)
            outs = [json.loads(p.communicate()[0]) for p in procs]
            time.sleep(0.3)
            st1, cpu1, w1 = s.status(), proc_stat(s.pid), time.monotonic()
            loads.append({
                "mode": mode, "size": size, "peak_rss_mib": peak,
                "calls_s": sum((o["writes"] + o["reads"]) / o["seconds"] for o in outs),
                "plaintext_mb_s": sum(o["rounds"] * (o["req_bytes"] + o["resp_bytes"]) * 2
                                      / o["seconds"] for o in outs) / 1e6,
                "sensor_cpu_pct": 100 * (cpu1 - cpu0) / (w1 - w0),
                "events": (st1["pipeline"]["events_request"] + st1["pipeline"]["events_response"]
                           - st0["pipeline"]["events_request"] - st0["pipeline"]["events_response"]),
                "lost_records": st1["capture"]["lost_records"] - st0["capture"]["lost_records"]})
        load_mem = proc_mem(s.pid)
    finally:
        s.stop()
    return {"ready_s": ready, "idle_mem_mib": idle_mem,
            "idle_cpu_pct": 100 * (c1 - c0) / (t1 - t0), "idle_seconds": t1 - t0,
            "loads": loads, "after_load_mem_mib": load_mem,
            "met_rss": load_mem["VmHWM"] < 64,
            "met_idle_cpu": 100 * (c1 - c0) / (t1 - t0) < 1}


# ---------------------------------------------------------------- 4. loss

def bench_loss(env, a):
    s = Sensor(env, config=ALL_CONFIG)
    steps = []
    try:
        s.wait_ready()
        for size, rate in LOSS_SIZES.items():
            refined = False
            while True:
                st0 = s.status()
                # Two clients, one per core: the most calls this host makes.
                procs = [subprocess.Popen([env.tlsbench, "--mode", "bio", "--size", str(size),
                                           "--seconds", str(a.loss_seconds),
                                           "--rate", str(rate / 2)],
                                          stdout=subprocess.PIPE, text=True) for _ in range(2)]
                outs = [json.loads(p.communicate()[0]) for p in procs]
                time.sleep(0.3)
                st1 = s.status()
                got = sum(o["rounds"] / o["seconds"] for o in outs)
                step = {"size": size, "target_rounds_s": rate, "rounds_s": got,
                        "calls_s": sum((o["writes"] + o["reads"]) / o["seconds"] for o in outs),
                        "plaintext_mb_s": sum(o["rounds"] * (o["req_bytes"] + o["resp_bytes"]) * 2
                                              / o["seconds"] for o in outs) / 1e6,
                        "lost_records": st1["capture"]["lost_records"] - st0["capture"]["lost_records"],
                        "records": st1["capture"]["records"] - st0["capture"]["records"]}
                steps.append(step)
                log("loss: size %d, %d rounds/s asked, %.0f done, %d lost"
                    % (size, rate, got, step["lost_records"]))
                if step["lost_records"]:
                    # Between the last clean rate and this one: once more
                    # at three quarters, so the clean rate is within 25 %.
                    if rate > LOSS_SIZES[size] and not refined:
                        refined = True
                        rate = rate * 3 // 4
                        continue
                    break
                if refined or got < 0.9 * rate:
                    break
                rate *= 2
    finally:
        s.stop()
    best = {}
    for size in LOSS_SIZES:
        ok = [x for x in steps if x["size"] == size and not x["lost_records"]]
        bad = [x for x in steps if x["size"] == size and x["lost_records"]]
        best[str(size)] = {"max_clean_calls_s": max((x["calls_s"] for x in ok), default=0),
                           "max_clean_mb_s": max((x["plaintext_mb_s"] for x in ok), default=0),
                           "first_lossy": min(bad, key=lambda x: x["calls_s"]) if bad else None}
    return {"steps": steps, "best": best}


# ---------------------------------------------------------------- 5. startup

def bench_startup(env, a):
    libdir = os.path.join(env.tmp, "libs")
    os.makedirs(libdir, exist_ok=True)
    libs = []
    for i in range(a.copies):
        dst = os.path.join(libdir, "libssl-copy%02d.so.3" % i)
        shutil.copyfile(LIBSSL, dst)
        libs.append(dst)
    procs = []
    try:
        log("startup: %d processes over %d copies" % (a.procs, a.copies))
        for i in range(a.procs):
            procs.append(subprocess.Popen([env.dlsleeper, libs[i % len(libs)]],
                                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL))
        deadline = time.monotonic() + 120
        for p in procs:
            lib = libs[procs.index(p) % len(libs)]
            while True:
                with open("/proc/%d/maps" % p.pid) as f:
                    if lib in f.read():
                        break
                if p.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("dlsleeper %d did not map its library" % p.pid)
                time.sleep(0.01)
        runs = []
        for _ in range(a.startup_runs):
            s = Sensor(env)
            try:
                ready = s.wait_ready(timeout=300, files=a.copies)
                st = s.status()
                rss = proc_mem(s.pid)
            finally:
                stop = s.stop()
            runs.append({"ready_s": ready, "files": st["capture"]["files_attached"],
                         "processes": st["capture"]["procs_traced"], "stop_s": stop,
                         "rss_mib": rss.get("VmRSS")})
            log("startup: ready in %.2fs (%d files), stop %.2fs"
                % (ready, st["capture"]["files_attached"], stop))
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait()
    return {"copies": a.copies, "processes": a.procs, "runs": runs,
            "ready_s": statistics.median(r["ready_s"] for r in runs),
            "stop_s": statistics.median(r["stop_s"] for r in runs)}


# ---------------------------------------------------------------- report

def fmt(x, nd=1):
    return "n/a" if x is None else ("%.*f" % (nd, x))


def md_cost(c, configs=COST_CONFIGS, head=None):
    out = head or ["## 1. Cost to the traced program", "",
           "`bench/tlsbench` makes HTTP/1.1 rounds: one OpenAI-style chat request "
           "(`POST /v1/chat/completions`, JSON body of SIZE bytes) sent with one `SSL_write`, "
           "and its JSON response (body of SIZE bytes) sent with one `SSL_write`; each side "
           "reads with `SSL_read` until it has the whole message (one call per TLS record, "
           "16 KiB at most). *bio*: client and server in one thread over an in-memory BIO pair "
           "(no system calls). *sock*: client and server threads over loopback TCP. "
           "tlsbench is pinned to CPU 0 (both threads in sock mode), the sensor to CPU 1, so "
           "the figures are the cost inside the traced program, not CPU contention.",
           "",
           ""]
    out += ["Configurations, alternated in %d repetitions of %.1f s per case (medians shown):" %
            (c["reps"], c["seconds_per_case"]), ""]
    for cfg, desc in configs:
        out.append("- `%s`: %s" % (cfg, desc))
    out += ["",
            "*added/call* = (1/rounds-per-s − 1/rounds-per-s without probes) ÷ calls per round. "
            "*write/read added* = the same from the time measured around each call "
            "(meaningful in bio mode only: in sock mode a read waits for the peer). "
            "*hits/call* = BPF program runs ÷ SSL calls (`run_cnt` with "
            "`kernel.bpf_stats_enabled=1`, on during this section; tlsbench's and "
            "gnutlsbench's calls include their warm-up's, which the probes see too), "
            "*BPF ns/hit* = the programs' own run time. *over floor*: added/call ÷ the floor's added/call − 1, "
            "end to end. *in thread*: the sensor's BPF time per call beyond the counting "
            "programs' (BPF ns/hit × hits/call), ÷ the floor's added/call: the work the sensor "
            "does inside the traced thread. The end-to-end figure also holds what the sensor's "
            "own CPU use (*sensor CPU*, % of a core, on CPU 1) costs CPU 0 in this VM, which "
            "`floor_busy` shows for a fully busy CPU 1. *captured/call* = `capture.calls` ÷ SSL "
            "calls; *skipped/call* = `capture.skipped_calls` ÷ SSL calls (calls of connections "
            "the sensor ignores, not copied).", "",
            "| mode | size | config | rounds/s (min–max) | calls/round | throughput vs none | added µs/call "
            "| SSL_write added µs | SSL_read added µs | hits/call | BPF ns/hit | over floor "
            "| in thread | sensor CPU | captured/call | skipped/call | lost records |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in c["summary"]:
        for cfg, _ in configs:
            r = s["configs"].get(cfg)
            if not r:
                continue
            bio = s["mode"] == "bio"
            out.append("| %s | %d | %s | %.0f (%.0f–%.0f) | %.1f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                s["mode"], s["size"], cfg, r["rounds_per_s"], r["rounds_per_s_min"],
                r["rounds_per_s_max"], r["calls_per_round"],
                fmt(r.get("throughput_ratio"), 3), fmt(r.get("added_us_per_call"), 2),
                fmt(r.get("added_write_us"), 2) if bio or cfg == "none" else "–",
                fmt(r.get("added_read_us"), 2) if bio or cfg == "none" else "–",
                fmt(r.get("hits_per_call"), 2), fmt(r.get("bpf_ns_per_hit"), 0),
                ("%+.0f %%" % r["over_floor_pct"]) if "over_floor_pct" in r else "",
                ("%+.1f %%" % r["in_thread_over_floor_pct"])
                if "in_thread_over_floor_pct" in r else "",
                ("%.0f %%" % r["sensor_cpu_pct"]) if "sensor_cpu_pct" in r else "",
                fmt(r.get("captured_per_call"), 2), fmt(r.get("skipped_per_call"), 2),
                r["lost_records"] if "lost_records" in r else ""))
    lost = sum(s["configs"].get(cfg, {}).get("lost_records", 0) for s in c["summary"]
               for cfg in SENSOR_CONFIGS)
    dirty = sum(1 for r in c["raw"] if r.get("foreign_uprobes"))
    out += ["", "Sensor records lost during these runs: %d. Cases run while another tracer's "
            "uprobes were loaded (figures unreliable): %d of %d. Target: the sensor adds "
            "≤ 10 %% per call over the floor." % (lost, dirty, len(c["raw"])), ""]
    for cfg, what in VERDICT_CONFIGS:
        worst = max((s["configs"][cfg]["in_thread_over_floor_pct"] for s in c["summary"]
                     if "in_thread_over_floor_pct" in s["configs"].get(cfg, {})), default=None)
        if worst is None:
            continue
        lossy = ["%d B (%.0f %%)" % (s["size"], 100 * s["configs"][cfg]["lost_per_captured"])
                 for s in c["summary"]
                 if s["configs"].get(cfg, {}).get("lost_per_captured", 0) > 0.01]
        out += [verdict("In the traced thread, %s: the sensor adds at most %%+.1f %%%% over the "
                        "floor" % what, worst) + "%s%s" % (
                    (" The sensor could not keep up in %s: records lost per captured call "
                     "in parentheses. A lost record is not copied and costs the traced thread "
                     "less, so those cases' *in thread* figures are lower bounds."
                     % ", ".join(lossy)) if lossy else "", in_thread_spread(c, cfg)), ""]
    return out


# The sensor configurations each cost section gives a verdict for.
VERDICT_CONFIGS = (("sensor", "default config"),
                   ("sensor_all", "every call copied (`filters.server_side: true`)"))


def verdict(head, worst):
    """@head (a format with one %f: @worst, in %) and the 1.1× target's
    verdict on it."""
    return (head + " (target ≤ 10 %%: %s).") % (worst, "met" if worst <= 10 else "**not met**")


def in_thread_spread(c, cfg):
    """The in-thread figure of @cfg per repetition: its run against the
    floor and none runs of the same repetition, as a range per case.  The
    floor's cost per call is a difference of two end-to-end figures, each
    from a fresh process, and it moves the most."""
    runs = {}
    for r in c["raw"]:
        runs[(r["config"], r["mode"], r["size"], r["rep"])] = r
    modes = sorted({r["mode"] for r in c["raw"]})
    per_call = lambda r: r["seconds"] / (r["writes"] + r["reads"]) * 1e6
    bpf_call = lambda r: r["bpf_ns"] / (r["writes"] + r["reads"] + r.get("warm_calls", 0)) / 1e3
    parts, floors = [], []
    for s in c["summary"]:
        pct = []
        for (k, m, size, rep), r in runs.items():
            if k != cfg or m != s["mode"] or size != s["size"]:
                continue
            f, n = runs.get(("floor", m, size, rep)), runs.get(("none", m, size, rep))
            if not f or not n or "bpf_ns" not in r or "bpf_ns" not in f:
                continue
            add = per_call(f) - per_call(n)
            floors.append(add)
            if add > 0:
                pct.append(100 * (bpf_call(r) - bpf_call(f)) / add)
        if len(pct) > 1:
            parts.append("%s%d B %+.1f to %+.1f %%" % (
                s["mode"] + " " if len(modes) > 1 else "", s["size"], min(pct), max(pct)))
    if not parts:
        return ""
    return (" Per repetition (each run against the floor and none runs of its repetition) "
            "the figure ranged %s, while the floor's own cost per call ranged %.1f to %.1f µs."
            % (", ".join(parts), min(floors), max(floors)))


def md_cost_gnutls(c):
    return md_cost(c, GNUTLS_COST_CONFIGS, [
        "## 1b. Cost to the traced program, GnuTLS", "",
        "`bench/gnutlsbench` makes tlsbench's bio-mode rounds over GnuTLS: a client and a "
        "server session in one thread whose records move through in-memory queues (no "
        "system calls), `gnutls_record_send` per record (16 KiB at most) and `gnutls_record_recv` until "
        "it is whole. Pinned to CPU 0, the sensor to CPU 1. The columns are section 1's; "
        "*SSL_write*/*SSL_read* are `gnutls_record_send`/`_recv`, and the floor counts on "
        "the functions the sensor probes, so a send takes two entry hits in both.", ""])


def md_cost_go(c):
    return md_cost(c, GO_COST_CONFIGS, [
        "## 1c. Cost to the traced program, Go crypto/tls", "",
        "`bench/gotlsbench` (Go, built with Debian's go at bench time) makes tlsbench's "
        "bio-mode rounds over `crypto/tls`: a client and a server `*tls.Conn` in one "
        "goroutine whose records move through in-memory queues (no system calls), one "
        "`Write` per message and `Read` until it is whole (one call per TLS record, 16 KiB "
        "at most). Its first 0.5 s are not measured (the sensor probes a Go executable at "
        "its exec); the counters are read when it starts measuring. Pinned to CPU 0, the sensor to CPU 1. The columns are section 1's; "
        "*SSL_write*/*SSL_read* are `(*tls.Conn).Write`/`Read`; a read takes two hits "
        "(entry and return instruction), a write one, in the floor as in the sensor.", ""])


def md_cost_bun(c):
    return md_cost(c, BUN_COST_CONFIGS, [
        "## 1d. Cost to the traced program, Bun (BoringSSL)", "",
        "`bench/bunbench.js`, run by Bun 1.4.5 (npm, stripped, BoringSSL linked in), makes "
        "tlsbench's rounds over Bun's own TLS: a server (`Bun.listen`) and a client "
        "(`Bun.connect`) in one process and one thread over loopback TCP, one `write()` per "
        "message and data callbacks until it is whole. Its first 1.5 s are not measured (the "
        "sensor searches a Bun executable at its exec); the counters are read when it starts "
        "measuring. Pinned to CPU 0, the sensor to CPU 1. The columns are section 1's; "
        "*calls/round* counts `write()` calls and data callbacks (a callback is one or more "
        "`SSL_read` calls: *hits/call* above 2 is the extra reads), and *SSL_write*/*SSL_read* "
        "added are not measured (–). " + PRIMED, ""]) + md_inproc(c, "Bun", "bunbench")


# Sections 1d and 1e: see prime().
PRIMED = ("Each sensor run first identifies the executable with an idle process of it, so "
          "that every measured process is probed at its exec, before it runs, as the floor's "
          "probes are and as a deployed sensor probes a build it has seen. A process probed "
          "only after it started (its build identified meanwhile) ran the sensor's programs "
          "about 40 % slower per call all its run long (Deno, 4 KiB, 2026-12-06: 1,437 against "
          "1,029 ns); before 2026-12-06 the first size of each sensor run was measured so.")


def md_replay(r):
    out = ["## 2. Pipeline throughput (replay)", "",
           "`bench/gencap.py` writes capture files (sensor/capture/recfile.h format) of 64 keep-alive "
           "connections in 16 processes; `taskset -c 0 oisp-sensor replay FILE --output /dev/null` "
           "(empty config: defaults), best of %d rounds over every case. *ai-json*: OpenAI chat, JSON response; "
           "*ai-sse*: streamed, chunked SSE, one `SSL_read` per event; *ai-gzip*: JSON response "
           "gzip-encoded; *ai-mix*: a third of each; *h2-json*, *h2-sse*, *h2-mix*: the same "
           "calls over HTTP/2, 2 to 6 streams at once per connection, their frames "
           "interleaved, HPACK with dynamic tables, one `DATA` frame per SSE event (bench/gencap.py "
           "says how); *nonai*: GET of 1 MiB "
           "`application/octet-stream` bodies from a host no rule knows. MB = 10^6 bytes of "
           "plaintext (both directions). Start-up of a replay (empty file): %.3f s, included. "
           "*glibc malloc*: the same sources built with `make MALLOC=libc` "
           "(`make bench-libc`), best of as many runs. Replay writes its events in blocks of up "
           "to 64 KiB; the live sensor writes each line with its own `write(2)`, which cost "
           "h2-json's replay about 8 %% more." %
           (len(r["cases"][0]["runs"]) if r["cases"] else 0, r["startup_s"]), "",
           "| traffic | plaintext MB | records | events | MB/s | events/s | MB/s, glibc malloc "
           "| target | met |",
           "|---|---|---|---|---|---|---|---|---|"]
    for c in r["cases"]:
        libc = c.get("mb_s_glibc_malloc")
        out.append("| %s | %.0f | %d | %d | %.0f | %.0f | %s | %s | %s |" % (
            c["name"], c["plaintext_bytes"] / 1e6, c["records"], c["events"], c["mb_s"],
            c["events_s"], "%.0f" % libc if libc else "–",
            ("≥ %d MB/s" % c["target_mb_s"]) if c["target_mb_s"] else "–",
            {True: "yes", False: "**no**", None: "–"}[c["met"]]))
    if r.get("profile"):
        out += ["", "Profile of the ai-mix replay (`perf record --call-graph dwarf`; "
                "user-space symbols only):", "", "```"]
        for p in r["profile"]:
            out.append("# sort=%s %s" % (p["sort"], "children" if p["children"] else "self"))
            out += p["top"][:20]
        out += ["```"]
    out.append("")
    return out


def md_hostile(h):
    out = ["## 6. Hostile captures", "",
           "The captures of `tests/fixtures/hostile` (findings of the hostile-input review) "
           "replayed with the default configuration on one core: *longest step* is the most "
           "time the pipeline spent on one record and the events it completed (`replay "
           "--log-level debug`), which is how long the live sensor's event loop stalls on it; "
           "best of as many runs as replay.", "",
           "| capture | file KB | exit | longest step ms | wall s | peak RSS MiB |",
           "|---|---|---|---|---|---|"]
    for c in h["cases"]:
        out.append("| %s | %.0f | %d | %s | %.2f | %.0f |" % (
            c["name"], c["file_bytes"] / 1e3, c["exit"],
            "%.1f" % c["longest_ms"] if c["longest_ms"] is not None else "–",
            c["wall_s"], c["rss_mib"]))
    worst = max((c["longest_ms"] or 0 for c in h["cases"]), default=0)
    out += ["", "Longest stall on the hostile corpus: %.0f ms." % worst, ""]
    return out


def md_footprint(f):
    out = ["## 3. Footprint", "",
           "`oisp-sensor run` with `filters.server_side: true` (both ends of tlsbench's "
           "connections copied, parsed and reported; events to /dev/null), unpinned. Idle: no TLS "
           "traffic on the host. Load: two tlsbench processes (both cores) at full speed, "
           "AI-shaped traffic, for each row.", "",
           "| state | VmRSS MiB | VmHWM MiB | CPU % of a core |", "|---|---|---|---|",
           "| idle (%.0f s) | %.1f | %.1f | %.2f |" % (f["idle_seconds"], f["idle_mem_mib"]["VmRSS"],
                                                    f["idle_mem_mib"]["VmHWM"], f["idle_cpu_pct"])]
    for l in f["loads"]:
        out.append("| load %s %d B: %.0f calls/s, %.0f MB/s captured, %d events, %d lost | peak %.1f | | %.0f |"
                   % (l["mode"], l["size"], l["calls_s"], l["plaintext_mb_s"], l["events"],
                      l["lost_records"], l["peak_rss_mib"], l["sensor_cpu_pct"]))
    m = f["after_load_mem_mib"]
    out += ["| after the loads | %.1f | %.1f | |" % (m["VmRSS"], m["VmHWM"]), "",
            "Targets: < 64 MiB resident under load: %s; < 1 %% of a core idle: %s." % (
                "met" if f["met_rss"] else "**not met**",
                "met" if f["met_idle_cpu"] else "**not met**"), ""]
    return out


def md_loss(l):
    out = ["## 4a. Loss under load", "",
           "Two paced tlsbench bio clients (one per core, unpinned), the offered rate doubled "
           "each step until records are lost or the clients cannot keep the pace. The sensor "
           "runs with `filters.server_side: true`, so that every call is copied (by default "
           "tlsbench's server end would not be, and half the calls would cost the ring nothing); "
           "`capture.lost_records` from status. Calls/s are SSL calls, both sides; captured "
           "MB/s counts each byte twice (the writer's and the reader's call).", "",
           "| size | rounds/s asked | rounds/s done | calls/s | captured MB/s | ring records | lost |",
           "|---|---|---|---|---|---|---|"]
    for s in l["steps"]:
        out.append("| %d | %d | %.0f | %.0f | %.1f | %d | %d |" % (
            s["size"], s["target_rounds_s"], s["rounds_s"], s["calls_s"], s["plaintext_mb_s"],
            s["records"], s["lost_records"]))
    out.append("")
    for size, b in l["best"].items():
        if not b["max_clean_calls_s"]:
            out.append("- %s B bodies: records lost already at the lowest step (%.0f calls/s, "
                       "%.1f MB/s captured)" % (size, b["first_lossy"]["calls_s"],
                                               b["first_lossy"]["plaintext_mb_s"]))
            continue
        out.append("- %s B bodies: largest clean rate %.0f calls/s (%.1f MB/s captured)%s" % (
            size, b["max_clean_calls_s"], b["max_clean_mb_s"],
            "; losses from %.0f calls/s" % b["first_lossy"]["calls_s"] if b["first_lossy"]
            else "; no loss up to the most this host's clients can make under probes"))
    out.append("")
    return out


def md_startup(s):
    out = ["## 4b. Start-up with many libssl copies", "",
           "%d copies of libssl.so.3 (distinct inodes), %d sleeping processes each "
           "`dlopen()`ing one of them (`bench/dlsleeper`). Time from exec of `oisp-sensor run` "
           "to `status` answering with at least %d files attached; stop = SIGTERM to exit." %
           (s["copies"], s["processes"], s["copies"]), "",
           "| run | ready s | files | processes | stop s | VmRSS MiB |", "|---|---|---|---|---|---|"]
    for i, r in enumerate(s["runs"]):
        out.append("| %d | %.2f | %d | %d | %.2f | %.1f |" % (
            i + 1, r["ready_s"], r["files"], r["processes"], r["stop_s"], r["rss_mib"] or 0))
    out.append("")
    return out


def md_inproc(c, runtime, bench):
    """Section 1d's or 1e's floor measured in one process of @runtime
    running @bench (floor_in_process()), and the in-thread verdicts
    against it."""
    rows = [s for s in c["summary"] if "inproc" in s]
    if not rows:
        return []
    out = ["**The floor measured in one process.** The floor's cost per call above is the "
           "difference of two end-to-end figures, each from a fresh %s process, and a fresh "
           "process runs faster or slower than the last (Deno here by up to a third): the "
           "*in thread* figures move with it (see the spread per repetition above). So each "
           "repetition also ran one %s process through three phases of %.1f s on one "
           "connection: without probes, with `bench/count`'s (attached while it waits "
           "between phases), and without again; the floor's cost per call is the middle "
           "phase's time per call less the mean of the other two. The two phases without "
           "probes differed by at most %.0f %%. The sensor's work per call is the same as "
           "above (its BPF time beyond the floor's programs'), divided by this floor." % (
               runtime, bench, c["seconds_per_case"],
               100 * max(s["inproc"]["none_spread"] for s in rows)) + (
               " Runs while another tracer's uprobes were loaded (left out where a clean run "
               "of the size exists): %d." % sum(s["inproc"]["dirty"] for s in rows)
               if "dirty" in rows[0]["inproc"] else ""), "",
           "| size | floor, µs/call (min–max) | in thread, default | in thread, every call "
           "copied |", "|---|---|---|---|"]
    for s in rows:
        i, cf = s["inproc"], s["configs"]
        out.append("| %d | %.2f (%.2f–%.2f) | %s | %s |" % (
            s["size"], i["added_us"], i["added_us_min"], i["added_us_max"],
            *[("%+.1f %%" % cf[k]["in_thread_inproc_pct"])
              if "in_thread_inproc_pct" in cf.get(k, {}) else "–"
              for k in ("sensor", "sensor_all")]))
    out.append("")
    for cfg, what in VERDICT_CONFIGS:
        vals = [s["configs"][cfg]["in_thread_inproc_pct"] for s in rows
                if "in_thread_inproc_pct" in s["configs"].get(cfg, {})]
        if vals:
            out += [verdict("In the traced thread against the floor measured in one "
                            "process, %s: the sensor adds at most %%+.1f %%%%" % what,
                            max(vals)), ""]
    return out


def md_cost_rustls(c):
    return md_cost(c, RUSTLS_COST_CONFIGS, [
        "## 1e. Cost to the traced program, Deno (rustls over aws-lc)", "",
        "`bench/denobench.js`, run by Deno 2.9.6 (npm, stripped, rustls 0.23.40 on aws-lc-rs), "
        "makes tlsbench's rounds over Deno's own TLS: a server (`Deno.listenTls`) and a client "
        "(`Deno.connect` with TCP_NODELAY, then `Deno.startTls`) in one process over loopback "
        "TCP, one `write()` per message (rustls cuts it into records of 16 KiB at most) and "
        "`read()` until it is whole. Its first 2 s are not measured (the sensor identifies a "
        "Deno executable at its exec); the measured connection is opened after them, once the "
        "sensor's status lists deno as probed, so that the sensor sees its handshake, and the "
        "counters are read when it starts measuring. Pinned to "
        "CPU 0, the sensor to CPU 1. The columns are section 1's; *calls/round* counts "
        "`write()` and `read()` calls, and the probes fire per TLS record (*hits/call*). "
        "The sensor's BPF time counts its uprobes and its socket-read tracepoint "
        "(`sock_recv_length`, which runs in the traced thread at each socket read; its "
        "host-wide cost is section 1f's), and the floor has a counting program at each of "
        "those hooks: the floor is what any capture at them costs, the rest is the "
        "sensor's own work.%s " % sock_floor_note(c) + PRIMED, ""]) + md_inproc(
            c, "Deno", "denobench")


def sock_floor_note(c):
    """What the floor's counting socket-read program costs per call: how
    much higher *in thread* would be with uprobes alone in the floor."""
    parts = []
    for s in c["summary"]:
        f = s["configs"].get("floor", {})
        if "sock_ns_per_call" in f and f.get("added_us_per_call"):
            parts.append("%d B: %.0f ns (%.1f points)" % (
                s["size"], f["sock_ns_per_call"],
                100 * f["sock_ns_per_call"] / 1e3 / f["added_us_per_call"]))
    if not parts:
        return ""
    return (" The floor's counting socket-read program took per call " + ", ".join(parts)
            + ": with uprobes alone in the floor, *in thread* would be that many points "
            "higher.")


# Ring section: record sizes (bytes of plaintext), ring sizes, and the
# wait between records in the traced thread (as between TLS calls).
RING_LENS = (128, 512, 2048, 4096, 16384, 65536)
RING_SIZES = (4 << 20, 32 << 20)
RING_GAP_US = 25
# Variants of the large records' layout and copy, one change each from the
# sensor's (ringbench's defaults), in the large ring.
RING_VARIANT_LENS = (4096, 16384, 65536)
RING_VARIANT_RING = 32 << 20
RING_VARIANTS = (
    ("sensor", "as the sensor: a store into each page, then the copy; header 88 B", []),
    ("no_touch", "no store before the copy", ["--touch", "0"]),
    ("touch_1k", "a store every 1 KiB instead of every 4 KiB", ["--touch", "1024"]),
    ("dst_0", "payload 64-byte aligned in every record (header padded to 120 B)",
     ["--hdr", "120", "--round64"]),
    ("dst_8", "payload at +8 in its cache line in every record", ["--hdr", "64", "--round64"]),
    ("dst_32", "payload at +32 in every record (header 88 B, records padded to 64 B)",
     ["--round64"]),
    ("src_0", "source page-aligned (else malloc()'s)", ["--src-off", "0"]),
    ("src_8", "source at +8 from a page", ["--src-off", "8"]),
    ("src_32", "source at +32 from a page", ["--src-off", "32"]),
    ("src_touch", "a byte of each page of the source read first", ["--src-touch"]),
    ("ring_8m", "a large ring of 8 MiB", ["--ring", str(8 << 20)]),
    ("ring_16m", "a large ring of 16 MiB", ["--ring", str(16 << 20)]),
    ("prequery", "the ring's positions and size read before the reservation",
     ["--prequery"]),
    ("perf", "a perf buffer instead of the ring (32 MiB in all), the bytes staged in task "
     "storage; a 64 KiB call as two samples", ["--perf"]),
    ("stage", "calls over 2 KiB copied into a staging slot (a hash map's kmalloc()ed value, "
     "64 KiB each, as many as the ring holds) named by a small record; the reader copies the "
     "slot out and gives it back", ["--stage"]),
)


def ringbench(env, size, n, extra):
    p = subprocess.run(["taskset", "-c", "0", env.ringbench, "--ring", str(size),
                        "--len", str(n), "--count", "40000",
                        "--gap-us", str(RING_GAP_US)] + extra,
                       capture_output=True, text=True, check=True)
    return json.loads(p.stdout)


def ring_stats(rs):
    v = sorted(r["ns_per_record"] for r in rs)
    c = sorted(r["copy_ns"] for r in rs)
    return {"ns": statistics.median(v), "min": v[0], "max": v[-1],
            "copy_ns": statistics.median(c), "lost": sum(r["lost"] for r in rs)}


def bench_ring(env, a):
    """ns per ring-buffer record (bench/ringbench), by record and ring
    size, and by variant of the layout and the copy, alternated in a.reps
    repetitions; medians."""
    raw = []
    for rep in range(a.reps):
        for n in RING_LENS:
            for size in RING_SIZES:
                log("ring: repetition %d/%d, %d B records, %d MiB ring" % (
                    rep + 1, a.reps, n, size >> 20))
                r = ringbench(env, size, n, [])
                r["rep"] = rep
                r["variant"] = "sensor"
                raw.append(r)
        for n in RING_VARIANT_LENS:
            for name, _, extra in RING_VARIANTS[1:]:
                log("ring: repetition %d/%d, %d B records, variant %s" % (
                    rep + 1, a.reps, n, name))
                r = ringbench(env, RING_VARIANT_RING, n, extra)
                r["rep"] = rep
                r["variant"] = name
                raw.append(r)
    summary = []
    for n in RING_LENS:
        row = {"len": n, "rings": {}}
        for size in RING_SIZES:
            row["rings"][str(size)] = ring_stats(
                [r for r in raw if r["len"] == n and r["ring"] == size and
                 r["variant"] == "sensor"])
        summary.append(row)
    variants = []
    for name, desc, _ in RING_VARIANTS:
        row = {"variant": name, "desc": desc, "lens": {}}
        for n in RING_VARIANT_LENS:
            row["lens"][str(n)] = ring_stats(
                [r for r in raw if r["len"] == n and r["variant"] == name and
                 (name != "sensor" or r["ring"] == RING_VARIANT_RING)])
        variants.append(row)
    return {"reps": a.reps, "gap_us": RING_GAP_US, "raw": raw, "summary": summary,
            "variants": variants, "loadavg": os.getloadavg()[0]}


def md_ring(c):
    out = ["## 1g. Two rings: what one record costs, by ring size", "",
           "`bench/ringbench` writes one record per call as the sensor's probes do "
           "(`bpf/capture.bpf.h`, put_chunk(): a size class reserved, the 88-byte header, a "
           "store into each 4 KiB page of the payload, the call's bytes copied from user memory, "
           "submitted with the sensor's wakeup rule) and "
           "times that work alone inside its uprobe (bpf_ktime_get_ns included). The traced "
           "thread (CPU 0) touches 32 KiB of its own memory and waits %d µs between records, as "
           "a program does its own work between TLS calls; a reader thread on CPU 1 drains the "
           "ring as the sensor does (woken when a quarter is full, else every 50 ms) and reads "
           "every cache line of each record. %d repetitions of 40,000 records, alternated; "
           "medians (min–max) in ns per record." % (c["gap_us"], c["reps"]), "",
           "| record bytes | " + " | ".join("%d MiB ring" % (s >> 20) for s in RING_SIZES) +
           " | lost |", "|---|" + "---|" * len(RING_SIZES) + "---|"]
    for row in c["summary"]:
        cells = []
        lost = 0
        for size in RING_SIZES:
            r = row["rings"][str(size)]
            cells.append("%.0f (%.0f–%.0f)" % (r["ns"], r["min"], r["max"]))
            lost += r["lost"]
        out.append("| %d | %s | %d |" % (row["len"], " | ".join(cells), lost))
    out += ["", "A record writes a few cache lines. In a ring of a few MiB they are still cached "
            "when the ring comes round again; in one of 32 MiB they are not, and a small record "
            "costs several times more. Large records stream through memory at about the same "
            "cost in either, and the large ring holds megabyte calls whole. So the sensor has "
            "two: calls of at most 2 KiB and the control records go to a 4 MiB ring "
            "(`capture.small_ring_buffer_bytes`), the chunks of larger calls to the 32 MiB one "
            "(`capture.ring_buffer_bytes`), and the reader merges them in time order "
            "(`sensor/capture/rings.h`).", ""]
    if c.get("variants"):
        out += ["What a large record costs, by variant of its layout and copy, one change each "
                "from the sensor's (in the %d MiB ring unless the variant says): ns per record, "
                "and in parentheses the "
                "`bpf_probe_read_user()` alone (medians of %d). ringbench options in brackets." %
                (RING_VARIANT_RING >> 20, c["reps"]), "",
                "| variant | " + " | ".join("%d B" % n for n in RING_VARIANT_LENS) + " |",
                "|---|" + "---|" * len(RING_VARIANT_LENS)]
        opts = {name: " ".join(extra) for name, _, extra in RING_VARIANTS}
        for row in c["variants"]:
            cells = []
            for n in RING_VARIANT_LENS:
                r = row["lens"][str(n)]
                cells.append("%.0f (%.0f)" % (r["ns"], r["copy_ns"]))
            out.append("| %s%s | %s |" % (row["desc"], " [`%s`]" % opts[row["variant"]]
                                          if opts.get(row["variant"]) else "",
                                          " | ".join(cells)))
        out += ["", "The ring is `vmap()`ed in 4 KiB pages, and the CPU reports no PCID with the "
                "kernel running PTI, so each kernel entry (the uprobe's) flushes the TLB: each "
                "page of a large record misses it whatever the ring's size (the 8 and 16 MiB "
                "rows), and under virtualisation a walk costs a few hundred ns. The copy "
                "(`rep movsb`) meets those misses one after the other; a store into each page "
                "first lets the CPU walk for them in parallel, and the copy itself then runs at "
                "cache speed. Reading a byte of each source page first does not pay: each read "
                "waits for its miss. Alignment of the payload or the source made no difference "
                "beyond the noise on this CPU (AMD EPYC, ERMS and FSRM), so the record layout is "
                "unchanged. A record also costs a fixed part (the reservation, the header, the "
                "first page): one of 64 KiB costs about two and a half of 16 KiB, so large calls "
                "are cut into records of 64 KiB when the large ring holds at least 1 MiB (the "
                "4 MiB ring's losses of 64 KiB records are ringbench's reader, woken when a "
                "quarter is full).", "",
                "Three ways around the ring's own pages were tried too. Reading its positions and "
                "size first (`bpf_ringbuf_query()`), so that the misses on the pages that hold "
                "them could overlap, changed nothing beyond the noise. A perf buffer's pages are "
                "the kernel's direct map, in 2 MiB pages, not a `vmap()` of 4 KiB ones; but "
                "`bpf_perf_event_output()` copies from BPF memory only, so the bytes go first "
                "into the thread's task storage and are copied twice, and a sample holds less "
                "than 64 KiB. A 4 KiB record cost a little more than in the ring, and one of 16 or "
                "64 KiB about twice as much: the second copy costs more than the misses it "
                "saves. A third way copies once, into direct-mapped memory: slots that are the "
                "values of a hash map without preallocation (each `kmalloc()`ed), taken from a "
                "queue of free slot numbers and named by a small ring record. It cost about twice "
                "the ring's at every size: the queue and the lookup add most of a microsecond, "
                "and the copy into those slots, as cold in the cache as the ring, took twice as "
                "long as into the ring. Under this hypervisor the direct map saves no misses "
                "either. The ring stays.", ""]
    out += ["1-minute load average at the end: %.2f." % c["loadavg"], ""]
    return out


def md_cost_rustls_host(c):
    out = ["## 1f. Host-wide cost of rustls's socket tracepoints", "",
           "While a rustls file is probed the sensor attaches three BTF tracepoint programs "
           "that run for every process on the host (bpf/rustls.bpf.c): `sock_recv_length`, at "
           "each socket read, keeps the socket a thread last read data from; "
           "`inet_sock_set_state` and `tcp_destroy_sock` see a connection's end. "
           "`bench/syscallbench` (CPU 0) times `getppid()`, a 1-byte `read()` of /dev/zero, and "
           "a 1-byte `write()` and `read()` over a Unix socket pair (*sockpair*: a call is "
           "the pair) in a loop of %.1f s; syscallbench is traced like any process in the "
           "default config. %d repetitions, alternated; medians (min–max). "
           "Configurations:" % (c["seconds_per_case"], c["reps"]), ""]
    for cfg, desc in RUSTLS_HOST_CONFIGS:
        out.append("- `%s`: %s" % (cfg, desc))
    out += ["", "| system call | config | ns/call (min–max) | added ns/call |",
            "|---|---|---|---|"]
    for s in c["summary"]:
        for cfg, _ in RUSTLS_HOST_CONFIGS:
            r = s["configs"][cfg]
            out.append("| %s | %s | %.0f (%.0f–%.0f) | %+.0f |" % (
                s["call"], cfg, r["ns_per_call"], r["min"], r["max"], r["added_ns"]))
    if "prog_ns_per_run" in c:
        lo, hi = c["prog_ns_per_run_range"]
        out += ["", "The socket-read program's own run time (BPF `run_time_ns` ÷ `run_cnt`, "
                "with `kernel.bpf_stats_enabled=1`, over a separate *sockpair* loop; every "
                "socket read on the host counts): %.0f ns per run (%.0f–%.0f), %.2f runs per "
                "*sockpair* call. Other system calls run no program of the sensor's." % (
                    c["prog_ns_per_run"], lo, hi, c["prog_runs_per_call"])]
    out += ["", "1-minute load average during the runs: %.2f–%.2f." % (
        min(c["loadavg"]), max(c["loadavg"])), ""]
    return out


def render(res):
    m = res["machine"]
    out = ["# oisp-sensor benchmark results", "",
           "Machine: %s, %d CPUs (%s%s), %.1f GiB, kernel %s, %s, %s; latest run at commit %s "
           "(each section says when it ran)." % (
               m["cpu"], m["cpus"], m["virt"],
               (", hypervisor %s, %s" % (m["hypervisor"], "PCID" if m["pcid"] else "no PCID"))
               if "hypervisor" in m else "",
               m["mem_gib"], m["kernel"], m["os"], m["openssl"], m["commit"]), "",
           "Command: `make bench` (`bench/run.py`); raw figures in `results.json`.", ""]
    for name, fn in (("cost", md_cost), ("cost_gnutls", md_cost_gnutls), ("cost_go", md_cost_go),
                     ("cost_bun", md_cost_bun), ("cost_rustls", md_cost_rustls),
                     ("cost_rustls_host", md_cost_rustls_host), ("ring", md_ring),
                     ("replay", md_replay), ("footprint", md_footprint),
                     ("loss", md_loss), ("startup", md_startup), ("hostile", md_hostile)):
        sec = res["sections"].get(name)
        if sec:
            out += fn(sec["data"])
            at = ", commit %s" % sec["commit"] if sec.get("commit") else ""
            out += ["Run: %s%s, `%s`." % (sec["date"], at, sec["command"]), ""]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 2)[2])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--only", default=",".join(SECTIONS),
                    help="comma-separated sections (default: all)")
    ap.add_argument("--seconds", type=float, default=2.0, help="per cost case")
    ap.add_argument("--reps", type=int, default=3, help="cost repetitions")
    ap.add_argument("--quiet-timeout", type=float, default=300,
                    help="cost: wait this long for other tracers' uprobes to go")
    ap.add_argument("--replay-scale", type=float, default=1.0)
    ap.add_argument("--replay-runs", type=int, default=3)
    ap.add_argument("--no-profile", dest="profile", action="store_false")
    ap.add_argument("--idle-seconds", type=float, default=30)
    ap.add_argument("--load-seconds", type=float, default=4)
    ap.add_argument("--loss-seconds", type=float, default=2)
    ap.add_argument("--copies", type=int, default=50)
    ap.add_argument("--procs", type=int, default=1000)
    ap.add_argument("--startup-runs", type=int, default=1)
    ap.add_argument("--render", action="store_true",
                    help="only rewrite RESULTS.md from results.json")
    a = ap.parse_args()
    only = [s for s in a.only.split(",") if s]
    for s in only:
        if s not in SECTIONS:
            ap.error("unknown section %s" % s)
    if os.geteuid() != 0 and set(only) - {"replay", "hostile"} and not a.render:
        ap.error("needs root (eBPF); only --only replay runs without")

    os.makedirs(a.out, exist_ok=True)
    jpath = os.path.join(a.out, "results.json")
    res = {"sections": {}}
    if os.path.exists(jpath):
        with open(jpath) as f:
            res = json.load(f)
    if a.render:
        with open(os.path.join(a.out, "RESULTS.md"), "w") as f:
            f.write(render(res))
        return 0
    res["machine"] = machine()
    env = Env(a.build)
    fns = {"cost": bench_cost, "cost_gnutls": bench_cost_gnutls, "cost_go": bench_cost_go,
           "cost_bun": bench_cost_bun, "cost_rustls": bench_cost_rustls,
           "cost_rustls_host": bench_cost_rustls_host, "ring": bench_ring,
           "replay": bench_replay, "footprint": bench_footprint,
           "loss": bench_loss, "startup": bench_startup, "hostile": bench_hostile}
    try:
        for s in only:
            t = time.monotonic()
            data = fns[s](env, a)
            res["sections"][s] = {
                "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                "command": " ".join(["bench/run.py"] + sys.argv[1:]),
                "commit": res["machine"]["commit"],
                "elapsed_s": time.monotonic() - t, "data": data}
            with open(jpath, "w") as f:
                json.dump(res, f, indent=1)
            with open(os.path.join(a.out, "RESULTS.md"), "w") as f:
                f.write(render(res))
            log("%s done in %.0fs" % (s, time.monotonic() - t))
    finally:
        env.cleanup()
    print(render(res))


if __name__ == "__main__":
    sys.exit(main())

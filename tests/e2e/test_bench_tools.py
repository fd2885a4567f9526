"""The bench's own tools, kept working (bench/, `make bench`).

`make bench` is how the cost targets are measured, and it runs outside
`make test`; these tests run its tools briefly through bench/run.py's
own functions, so that a change to the sensor, the record ABI or the
bench cannot break them unseen.  They check what each tool counts, not
how fast anything is: the figures are make bench's.
"""
import json
import os
import subprocess
import sys

import pytest

import e2elib

sys.path.insert(0, os.path.join(e2elib.ROOT, "bench"))
import run  # noqa: E402  (bench/run.py)


@pytest.fixture(scope="module")
def env():
    e = run.Env(os.path.join(e2elib.ROOT, "build"))
    for tool in (e.tlsbench, e.count, e.ringbench):
        assert os.access(tool, os.X_OK), "%s not built (make test-e2e builds it)" % tool
    yield e
    e.cleanup()


def test_floor_counts_each_call_twice(env):
    """count (the floor) puts a counting uprobe and uretprobe on each of
    libssl's read and write functions: in bio mode each SSL call of
    tlsbench is two hits, its warm-up's included (the probes are there
    for the whole run), and the programs' run time is counted."""
    with run.BpfStats():
        c = run.Counter(env)
        try:
            r = run.cost_case(env, "floor", c, "bio", 128, 0.5, 5)
        finally:
            c.stop()
    calls = r["writes"] + r["reads"]
    assert calls > 1000, r
    assert r["warm_calls"] > 0, r
    assert r["hits"] == 2 * (calls + r["warm_calls"]), r
    assert r["bpf_ns"] > 0, r


def test_sensor_case_counts_every_copied_call(env):
    """A sensor case as make bench runs it with every call copied: the
    sensor captures each of tlsbench's SSL calls (the warm-up's too: it
    runs for the whole process), and its programs' runs and the events it
    made are counted."""
    with run.BpfStats():
        s = run.Sensor(env, cpus="1", config=run.ALL_CONFIG)
        try:
            s.wait_ready()
            r = run.cost_case(env, "sensor_all", s, "bio", 128, 0.5, 5)
        finally:
            s.stop()
    calls = r["writes"] + r["reads"]
    assert calls > 1000, r
    assert r["captured_calls"] == calls + r["warm_calls"], r
    assert r["skipped_calls"] == 0, r
    # and its SSL_free() of its two SSL objects, which the sensor probes
    # (a connection's end) and the floor does not
    assert r["hits"] == 2 * (calls + r["warm_calls"]) + 2, r
    assert r["events"] > 0, r


def test_floor_in_one_deno_process(env):
    """Section 1e's floor measured in one denobench process: the phase
    with count's probes (attached between phases) is slower per call
    than the two without, which agree with each other."""
    assert os.access(env.deno, os.X_OK), "%s missing (tests/fetch-agent-exes.sh)" % env.deno
    # Programs of the tests before may take a moment to be freed.
    r = run.floor_in_process(env, 128, 0.5, quiet_timeout=30)
    a, b = r["none_us"]
    assert r["floor_us"] > max(a, b), r
    assert r["added_us"] > 0, r
    assert 0.5 < a / b < 2, r
    # count's own programs are not another tracer's (no other runs
    # under the e2e lock)
    assert r["foreign_uprobes"] == 0, r


def test_ringbench_writes_every_record(env):
    """ringbench's uprobe writes one record per call, which its reader
    drains; at this pace none is lost and the copy is timed."""
    p = subprocess.run(["taskset", "-c", "0", env.ringbench, "--ring", str(4 << 20),
                        "--len", "4096", "--count", "2000"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    # The first tenth of the calls is not counted.
    assert 1790 <= out["records"] <= 1800, out
    assert out["lost"] == 0, out
    assert 0 < out["copy_ns"] < out["ns_per_record"], out


def test_results_render_from_their_data():
    """bench/results/RESULTS.md is what run.py renders from results.json:
    the committed figures and the text that reads them agree."""
    root = os.path.join(e2elib.ROOT, "bench", "results")
    with open(os.path.join(root, "results.json")) as f:
        res = json.load(f)
    with open(os.path.join(root, "RESULTS.md")) as f:
        assert run.render(res) == f.read()

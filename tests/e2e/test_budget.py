"""The memory budget against hostile captures (issue 12, findings 1 and 5).

The captures of tests/fixtures/hostile/budget/ (written by
tests/fixtures/hostile/mkbudget.py) are replayed with
`build/oisp-sensor replay` under an address-space limit (RLIMIT_AS, set
in the child before exec) and a time bound, with a small
capture.memory_budget_bytes so that shedding happens.  Each replay must
exit 0, report through its summary what was shed, write an event for
every message (the shed ones partial with the reason memory_budget) and
stay within its budget.  A full-size variant of the first capture (64
bodies one byte short of the production max_body, 4 MiB) is written to
a temporary directory and must keep the replay's peak RSS near the
budget, where it was 297 MB without one.

No root, no BPF.
"""
import json
import os
import re
import resource
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SENSOR = os.path.join(ROOT, "build", "oisp-sensor")
HOSTILE = os.path.join(ROOT, "tests", "fixtures", "hostile")
BUDGET_DIR = os.path.join(HOSTILE, "budget")
MIB = 1 << 20
AS_LIMIT = 512 * MIB          # the DaemonSet's memory limit
TIME_LIMIT = 120              # seconds, a bound on the harness, not a claim

SUMMARY = re.compile(r"memory budget: (\d+) messages shed \((\d+) body bytes\), "
                     r"(\d+) connections closed, high water (\d+) of (\d+) bytes")


def _limit_as():
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


def replay(tmp_path, cap, budget, max_body=None, measure=False):
    """Replays @cap; returns (events, summary match, peak RSS in KiB)."""
    out = tmp_path / "events.jsonl"
    conf = tmp_path / "config.yaml"
    lines = ["capture:", "  memory_budget_bytes: %d" % budget]
    if max_body:
        lines.append("  max_body_bytes: %d" % max_body)
    lines += ["output:", "  path: %s" % out, "filters:", "  ai_only: false"]
    conf.write_text("\n".join(lines) + "\n")
    cmd = [SENSOR, "replay", "--config", str(conf), "--output", str(out), cap]
    if measure:
        # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: run
        # the replay under a fresh Python so that only it counts.
        cmd = [sys.executable, "-c",
               "import os,resource,subprocess,sys\n"
               "r=subprocess.run(sys.argv[1:])\n"
               "sys.stderr.write('MAXRSS %d\\n' % resource.getrusage("
               "resource.RUSAGE_CHILDREN).ru_maxrss)\n"
               "sys.exit(r.returncode)"] + cmd
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                       timeout=TIME_LIMIT, preexec_fn=_limit_as)
    assert p.returncode == 0, "replay of %s failed (%d):\n%s" % (cap, p.returncode, p.stderr)
    m = SUMMARY.search(p.stderr)
    assert m, "no memory budget line in:\n" + p.stderr
    rss = re.search(r"MAXRSS (\d+)", p.stderr)
    with open(out) as f:
        events = [json.loads(line) for line in f]
    return events, [int(x) for x in m.groups()], int(rss.group(1)) if rss else None


def reasons(ev):
    return ev["confidence"].get("reasons", [])


@pytest.fixture(scope="module", autouse=True)
def built():
    if not os.access(SENSOR, os.X_OK):
        pytest.fail("%s not built: run make" % SENSOR)


def test_short_bodies_are_shed_within_budget(tmp_path):
    """64 x 32 KiB bodies, each one byte short, under a 1 MiB budget."""
    events, (shed, shed_bytes, closed, high, limit), _ = replay(
        tmp_path, os.path.join(BUDGET_DIR, "short64.hostile"), MIB)
    assert limit == MIB
    assert high <= limit
    assert shed >= 32 and shed_bytes >= 32 * 30000
    assert closed == 0
    # Every message still has its event, with its headers' fields.
    assert len(events) == 64
    assert all(ev["data"]["http"]["method"] == "POST" for ev in events)
    assert all(ev["confidence"]["completeness"] == "partial" for ev in events)
    assert sum("memory_budget" in reasons(ev) for ev in events) == shed


def test_gzip_bomb_is_bounded(tmp_path):
    """32 KB of gzip decoding to 32 MiB, request and response."""
    events, (shed, _, _, high, limit), _ = replay(
        tmp_path, os.path.join(BUDGET_DIR, "gzip_bomb.hostile"), 8 * MIB)
    assert high <= limit
    assert [ev["event_type"] for ev in events] == ["ai.request", "ai.response"]
    for ev in events:
        assert "decoded_body_truncated" in reasons(ev) or "memory_budget" in reasons(ev)
    assert shed >= 1
    # No event line anywhere near the decoded size.
    assert all(len(json.dumps(ev)) < 64 * 1024 for ev in events)


def test_full_size_short_bodies_keep_rss_near_the_budget(tmp_path):
    """The review's case at production size: 64 connections, each one
    byte short of a 4 MiB Content-Length, held 297 MB; with a 64 MiB
    budget the replay's peak RSS stays within budget plus fixed costs."""
    subprocess.run([sys.executable, os.path.join(HOSTILE, "mkbudget.py"),
                    "--out", str(tmp_path), "--body-bytes", str(4 * MIB)],
                   check=True, capture_output=True, timeout=TIME_LIMIT)
    events, (shed, _, _, high, limit), rss_kib = replay(
        tmp_path, str(tmp_path / "short64.hostile"), 64 * MIB, measure=True)
    assert high <= limit
    assert len(events) == 64
    assert shed >= 64 - 64 * MIB // (4 * MIB)
    # Budget + the process's own (rules, allocator, libraries): 48 MiB.
    assert rss_kib * 1024 < limit + 48 * MIB, "peak RSS %d KiB" % rss_kib

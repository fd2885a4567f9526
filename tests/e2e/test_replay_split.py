"""The events do not depend on where TLS calls cut the byte stream.

A read returns whatever the TLS records and the caller's buffer make of
the stream (Go's net/http server reads a request's first byte alone), and
a write may be cut too.  Each theme of tests/fixtures/captures/mkcaps.py
whose calls are whole and follow one another without loss is built twice:
as it is, and with every single-record call cut into pieces of 1 to 1000
bytes (seeded, so a failure can be replayed), each piece a call of its
own at the same time and thread.  Both are replayed, with the default
configuration and with --all; the events must be the same, byte for byte
after golden.py's normalisation, and so must the summary's counts of
events.  (Its counts of HTTP messages and parse errors may differ on a
connection the pipeline stops parsing, a server end or another protocol:
what it parsed before it knew depends on where the calls end.)

Left out: the themes that lose or cut records (gaps, truncated_call,
h2_resync, h2_joined, idle, the malformed ones), where a call's start is
where the pipeline looks for its footing again; pipelined, where a call
that begins with a request while a response is half read means a reused
connection id, a call boundary by definition; and big_request, whose
calls span several records.

No root, no BPF: build/oisp-sensor replay only.
"""
import os
import random
import re
import struct
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fixtures", "captures"))
import golden  # noqa: E402
import mkcaps  # noqa: E402

THEMES = ("openai_chat", "openai_responses", "openai_embeddings", "anthropic", "gemini",
          "sse_split", "encodings", "keepalive", "interleaved", "server_side",
          "split_start_line", "not_http1", "ws_responses", "ws_realtime", "ws_other",
          "nonai", "errors", "h2_client", "h2_abort", "h2_server_side")
PIECES = (1, 2, 3, 5, 8, 13, 64, 500, 1000)
SUMMARY_EVENTS = re.compile(r"(\d+) ai\.request and (\d+) ai\.response events, (\d+) partial")


def split_records(recs, seed):
    """@recs with each data record that is a whole call cut into calls of
    PIECES bytes (drawn from a Random(@seed)); call ids renumbered in
    order, one per call."""
    rng = random.Random(seed)
    out, ids = [], {}
    hdr = mkcaps.DATA_HDR

    def new_id(old):
        return ids.setdefault(old, (len(ids) + 1) << 8)

    seq = 0
    for rec in recs:
        kind = struct.unpack_from("<I", rec)[0]
        if kind != mkcaps.KIND_DATA:
            out.append(rec)
            continue
        f = list(hdr.unpack_from(rec))
        # kind tgid tid uid gid pad ts comm conn call_id dir flags call_len offset len pad
        call_id, flags, call_len, offset, n = f[9], f[11], f[12], f[13], f[14]
        data = rec[hdr.size:hdr.size + n]
        if flags or offset or n != call_len or n < 2:
            f[9] = new_id(call_id)
            out.append(hdr.pack(*f) + data)
            continue
        off = 0
        while off < n:
            k = min(rng.choice(PIECES), n - off)
            seq += 1
            f[9] = new_id(("piece", seq))
            f[12], f[13], f[14] = k, 0, k
            out.append(hdr.pack(*f) + data[off:off + k])
            off += k
    return out


def build(name, path, seed=None):
    cap = mkcaps.Capture()
    mkcaps.THEMES[name](cap)
    if seed is not None:
        cap.recs = split_records(cap.recs, seed)
    cap.save(path)
    return len(cap.recs)


def replay(path, variant):
    argv = [golden.SENSOR, "replay", "--config", "/dev/null", "--output", "-"]
    argv += golden.VARIANTS[variant] + [path]
    p = subprocess.run(argv, capture_output=True, timeout=120, stdin=subprocess.DEVNULL,
                       env=dict(os.environ, LC_ALL="C"))
    return golden.normalise(p.stdout.decode("utf-8", "replace"),
                            p.stderr.decode("utf-8", "replace"), p.returncode)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6, 7, 8])
@pytest.mark.parametrize("name", THEMES)
def test_events_do_not_depend_on_call_boundaries(name, seed, tmp_path):
    if not os.access(golden.SENSOR, os.X_OK):
        pytest.fail("%s not built: run make" % golden.SENSOR)
    whole, cut = str(tmp_path / "whole.cap"), str(tmp_path / "cut.cap")
    n_whole = build(name, whole)
    n_cut = build(name, cut, seed)
    assert n_cut > n_whole, "nothing was cut"
    seen = 0
    for variant in golden.VARIANTS:
        ev_whole, sum_whole = replay(whole, variant)
        ev_cut, sum_cut = replay(cut, variant)
        a, b = ev_whole.splitlines(), ev_cut.splitlines()
        seen += len(a)
        assert len(a) == len(b), "%s%s, seed %d: %d events whole, %d cut\n%s" % (
            name, variant, seed, len(a), len(b), sum_cut)
        for i, (x, y) in enumerate(zip(a, b)):
            assert x == y, "%s%s, seed %d: event %d differs\nwhole: %.2000s\ncut:   %.2000s" % (
                name, variant, seed, i + 1, x, y)
        counts = [SUMMARY_EVENTS.search(s) for s in (sum_whole, sum_cut)]
        assert counts[0] and counts[1], (sum_whole, sum_cut)
        assert counts[0].groups() == counts[1].groups(), (sum_whole, sum_cut)
    assert seen, "%s produced no events" % name

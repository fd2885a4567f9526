"""Golden replay: every capture file under tests/ (*.cap, found
recursively) is replayed with build/oisp-sensor replay, with the default
configuration and with --all, and the events and the replay summary
(stderr and exit status) must match expected/NAME[.all].{jsonl,summary}
next to the capture, after normalising ULIDs and this host's uname
(tests/fixtures/captures/golden.py says exactly what and why).

No root, no BPF, no sensor or server fixtures.  After an intended change
in the events, regenerate and review the diff:

  /usr/bin/python3 tests/fixtures/captures/mkcaps.py --update-expected
"""
import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "fixtures", "captures"))
import golden  # noqa: E402

REGEN = "/usr/bin/python3 tests/fixtures/captures/mkcaps.py --expected-only"

CAPS = golden.captures()


def _id(cap):
    return os.path.relpath(cap, os.path.join(golden.ROOT, "tests"))


def test_captures_found():
    assert CAPS, "no *.cap under %s/tests" % golden.ROOT


@pytest.mark.parametrize("variant", list(golden.VARIANTS), ids=["default", "all"])
@pytest.mark.parametrize("cap", CAPS, ids=[_id(c) for c in CAPS])
def test_replay_golden(cap, variant):
    if not os.access(golden.SENSOR, os.X_OK):
        pytest.fail("%s not built: run make" % golden.SENSOR)
    exp_events, exp_summary = golden.expected_paths(cap, variant)
    missing = [p for p in (exp_events, exp_summary) if not os.path.exists(p)]
    if missing:
        pytest.fail("no expected output for %s: %s\ncreate it with\n  %s\nand review it "
                    "before committing it" % (
                        os.path.relpath(cap, golden.ROOT),
                        ", ".join(os.path.relpath(p, golden.ROOT) for p in missing), REGEN),
                    pytrace=False)
    events, summary = golden.replay(cap, variant)
    for i, line in enumerate(events.splitlines()):
        try:
            json.loads(line)
        except ValueError as e:
            pytest.fail("event %d of %s is not JSON (%s): %.300s" % (i + 1, _id(cap), e, line))
    flags = " ".join(golden.VARIANTS[variant]) or "default configuration"
    with open(exp_events) as f:
        want_events = f.read()
    with open(exp_summary) as f:
        want_summary = f.read()
    problems = []
    if events != want_events:
        problems.append(golden.describe_diff("events", want_events, events))
    if summary != want_summary:
        problems.append(golden.describe_diff("summary (stderr, exit status)",
                                             want_summary, summary))
    if problems:
        pytest.fail("replay of %s (%s) changed:\n%s\n\nIf the change is intended, "
                    "regenerate with\n  %s\nand review the diff of expected/." % (
                        _id(cap), flags, "\n\n".join(problems), REGEN), pytrace=False)

"""Helpers of the tests that run AI agents' real executables from npm
(Bun, Claude Code): where tests/fetch-agent-exes.sh cached them, when the
sensor has probed one, and comparing a program's output over two runs.
"""
import json
import os
import re

import e2elib

CACHE = os.path.join(os.environ.get("OISP_TEST_CACHE", "/var/cache/oisp-test"), "npm")
FETCH = os.path.join(e2elib.ROOT, "tests", "fetch-agent-exes.sh")


def agent_exe(package, version, rel):
    """The executable @rel inside npm package @package@@version, as
    tests/fetch-agent-exes.sh unpacked it; fails when it is not there."""
    path = os.path.join(CACHE, "%s@%s" % (package, version), "package", rel)
    assert os.access(path, os.X_OK), "%s is missing: run %s" % (path, FETCH)
    return path


def status_entry(sensor, exe):
    """@exe's entry in the sensor's status attach list, or None."""
    real = os.path.realpath(exe)
    # None while the sensor is busy identifying a large file
    st = sensor.status()
    for f in (st["attach"]["list"] if st else []):
        if os.path.realpath(f["path"]) == real:
            return f
    return None


def wait_probed(sensor, exe, stack="BoringSSL", timeout=30):
    """@exe's status entry once the sensor has decided on it (it reads a
    file once); fails unless it is probed as @stack."""
    try:
        f = e2elib.wait_until(lambda: status_entry(sensor, exe), timeout, "not listed")
    except AssertionError:
        raise AssertionError("%s is not in the sensor's status after %d s:\n%s" % (
            exe, timeout, sensor.log_tail(20)))
    assert f["stack"] == stack and "skipped" not in f, "%s not probed: %s" % (exe, json.dumps(f))
    return f


def same_output(a, b, tag_a, tag_b):
    """Asserts that the outputs @a and @b of two runs are the same once
    each run's message tag (@tag_a, @tag_b) and the fixture server's ids
    ("id":"chatcmpl-fx000001", which count its calls) are replaced by
    placeholders."""
    ids = re.compile(r'"id":"[a-z_-]+fx[0-9]+"')
    a = ids.sub('"id":"<id>"', a.replace(tag_a, "<tag>"))
    b = ids.sub('"id":"<id>"', b.replace(tag_b, "<tag>"))
    assert a == b, "the output differs with the sensor:\n--- without\n%s\n--- with\n%s" % (a, b)


def stop_and_check(sensor, server):
    """Stops @sensor: it must exit 0 and its whole events file pass
    e2elib.check_lines_valid and check_whole_file."""
    assert sensor.stop() == 0, sensor.log_tail()
    e2elib.check_lines_valid(sensor.out)
    e2elib.check_whole_file(sensor.out, server.pid)

"""Fixtures of the end-to-end tests.

Every test names the sensor it needs with a fixture of explicit scope, so
no test depends on the order in which files or tests run; set
OISP_E2E_REVERSE=1 to run them in reverse order (pytest_collection_-
modifyitems below) and see.

Shared by every module (this file):

workdir          session   temporary directory: test CA, server log, and
                           the shared sensor's config, socket, log and events
server           session   the fixture HTTPS server (test CA, loopback
                           addresses, hosts file)
shared_sensor    session   owns the shared sensor, build/oisp-sensor run over
                           every OpenSSL on the host, writing
                           workdir/events.jsonl.  Nothing starts it but
                           sensor_run; no_other_sensor stops it, and the next
                           sensor_run starts it again (appending to the same
                           events file).  Each time it stops, and at the end
                           of the session, it must have exited 0 at SIGTERM
                           and its events file must pass
                           e2elib.check_lines_valid and check_whole_file; a
                           failure is an error of the test that stopped it,
                           or of the session's teardown.
sensor_run       function  the shared sensor, running for this test (started
                           if it is not): .sensor (the e2elib.Sensor),
                           .events (EventLog of its events file), .server,
                           .known_pids
events           function  sensor_run.events
no_other_sensor  function  no sensor of this session runs and no uprobe is
                           loaded on the host while the test runs: the
                           shared sensor is stopped if it was running.  For
                           tests that read OpenSSL's code bytes in processes
                           (test_targeted.py).

A test that needs a sensor of its own starts it in its tmp_path
(e2elib.Sensor), or through a fixture of its module:

test_targeted.targeted                  function  targeted-mode sensor
                                                  (needs no_other_sensor)
test_sensor_early.early_then_sensor     function  a client, then a sensor
test_sensor_h2_join.h2_early_then_sensor
                                        function  an h2 client, then a sensor
test_sensor_shutdown.shutdown_run       module    a sensor driven with real
                                                  traffic, then SIGTERMed
test_metrics.msensor                    module    a sensor with --metrics
test_k8s_metadata.k8s_env               function  sensors with kubernetes
                                                  metadata

Set OISP_E2E_KEEP=1 to keep the temporary directory (CA, server log,
sensor logs, events) for debugging; its path is printed.
"""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """OISP_E2E_REVERSE=1: run the tests in reverse order, which no test
    may notice."""
    if os.environ.get("OISP_E2E_REVERSE"):
        items.reverse()


@pytest.fixture(scope="session")
def workdir():
    d = e2elib.workdir()
    yield d
    if os.environ.get("OISP_E2E_KEEP"):
        print("\ne2e files kept in", d)
    else:
        e2elib.rmtree(d)


@pytest.fixture(scope="session")
def server(workdir):
    s = e2elib.Server(workdir).start()
    yield s
    s.stop()


class SharedSensor:
    """The shared sensor, through every start and stop of the session.
    Tests get it from sensor_run, running."""

    def __init__(self, server, workdir):
        self.server = server
        self.workdir = workdir
        self.events = e2elib.EventLog(os.path.join(workdir, "events.jsonl"))
        self.known_pids = set()
        self.sensor = None          # the e2elib.Sensor of the last start
        self.starts = 0

    @property
    def running(self):
        return self.sensor is not None and self.sensor.returncode is None

    def ensure_running(self):
        if self.running:
            assert self.sensor.proc.poll() is None, "the shared sensor died (%d):\n%s" % (
                self.sensor.proc.returncode, self.sensor.log_tail())
            return self
        s = e2elib.Sensor(self.workdir)
        assert s.out == self.events.path
        if self.starts:
            # keep the log of the previous run
            os.replace(s.log_path, "%s.%d" % (s.log_path, self.starts))
        self.sensor = s.start()
        self.starts += 1
        return self

    def stop(self, why):
        """SIGTERM it, if it runs; it must exit 0, and its events file
        must pass the whole-file checks."""
        if not self.running:
            return
        rc = self.sensor.stop()
        assert rc == 0, "the shared sensor, stopped %s, exited %r:\n%s" % (
            why, rc, self.sensor.log_tail())
        e2elib.check_lines_valid(self.sensor.out)
        e2elib.check_whole_file(self.sensor.out, self.server.pid)


@pytest.fixture(scope="session")
def shared_sensor(server, workdir):
    sh = SharedSensor(server, workdir)
    try:
        yield sh
        sh.stop("at the end of the session")
    finally:
        if sh.sensor is not None:
            sh.sensor.stop()
            if os.environ.get("OISP_E2E_KEEP"):
                print("\nshared sensor log:", sh.sensor.log_path)


@pytest.fixture(scope="function")
def sensor_run(shared_sensor):
    return shared_sensor.ensure_running()


@pytest.fixture(scope="function")
def events(sensor_run):
    return sensor_run.events


@pytest.fixture(scope="function")
def no_other_sensor(shared_sensor, request):
    assert "sensor_run" not in request.fixturenames, \
        "a test cannot have both the shared sensor and no other sensor"
    shared_sensor.stop("for " + request.node.nodeid)
    # The links go with the sensor's last file descriptors.
    deadline = time.monotonic() + 10
    while True:
        left = e2elib.uprobes_loaded()
        if not left:
            break
        assert time.monotonic() < deadline, "another tracer has uprobes loaded: %s" % left
        time.sleep(0.1)
    yield

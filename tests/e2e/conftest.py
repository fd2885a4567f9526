"""Session fixtures for the end-to-end tests.

server   the fixture HTTPS server (test CA, loopback addresses, hosts file)
sensor   build/oisp-sensor run, started once for the session; a client that
         was already running before it started is part of its setup
events   the sensor's events file (e2elib.EventLog)

Set OISP_E2E_KEEP=1 to keep the temporary directory (CA, server log,
sensor log, events) for debugging; its path is printed.
"""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402


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


class SensorRun:
    def __init__(self, sensor, events, early, server):
        self.sensor = sensor
        self.events = events
        self.early = early
        self.server = server
        self.known_pids = set()


@pytest.fixture(scope="session")
def sensor_run(server, workdir):
    # A client that is already running (libssl mapped, connection open)
    # when the sensor starts.
    early = e2elib.Client(server, [e2elib.PYTHON, os.path.join(e2elib.CLIENTS, "py_early.py"),
                                   "tag-early"], stdin=True)
    sensor = e2elib.Sensor(workdir)
    try:
        first = json.loads(early.proc.stdout.readline() or "null")
        ready = json.loads(early.proc.stdout.readline() or "null")
        assert first and first["status"] == 200 and ready == {"ready": True, "pid": early.pid}, (
            first, ready, early.proc.stderr.read() if early.proc.poll() is not None else "")
        early.before = first
        sensor.start()
        run = SensorRun(sensor, e2elib.EventLog(sensor.out), early, server)
        yield run
    finally:
        early.kill()
        sensor.stop()
        if os.environ.get("OISP_E2E_KEEP"):
            print("\nsensor log:", sensor.log_path)


@pytest.fixture
def events(sensor_run):
    return sensor_run.events

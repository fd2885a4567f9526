"""OISP_SENSOR_<SECTION>_<KEY> environment overrides, end to end.

- A DaemonSet whose container `env` sets OISP_SENSOR_OUTPUT_PATH (a
  kustomize patch over manifests/, as an operator would write it for one
  node pool) runs as in the kubernetes/daemonset cookbook's host mode
  (its args, the ConfigMap's config.yaml, its env and capabilities): the
  events go to the variable's path, not the ConfigMap's, and
  `status --json` says that output.path came from env and the rest from
  the file.  Root, eBPF.
- Flags override the environment, which overrides the file.
- A bad value stops `run` before it attaches anything, naming the variable.
"""
import importlib.util
import json
import os
import subprocess
import uuid

import yaml

import e2elib

ROOT = e2elib.ROOT
HOST_TEST = os.path.join(ROOT, "cookbook", "kubernetes", "daemonset", "host_test.py")
# A path under the DaemonSet's /output mount that is not the ConfigMap's.
ENV_OUTPUT = "/output/pool-a-events.jsonl"


def host_mode():
    spec = importlib.util.spec_from_file_location("host_test", HOST_TEST)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def render_with_env(tmp_path, env):
    """manifests/ with @env added to the DaemonSet's container."""
    d = tmp_path / "overlay"
    d.mkdir()
    patch = [{"op": "add", "path": "/spec/template/spec/containers/0/env/-",
              "value": {"name": k, "value": v}} for k, v in env.items()]
    (d / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "resources": [os.path.relpath(os.path.join(ROOT, "manifests"), d)],
        "patches": [{"target": {"kind": "DaemonSet", "name": "oisp-sensor"},
                     "patch": yaml.safe_dump(patch)}]}))
    p = subprocess.run(["kubectl", "kustomize", str(d)], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    return [o for o in yaml.safe_load_all(p.stdout) if o]


def chat_call(server, marker):
    body = json.dumps({"model": "gpt-4o-mini", "max_tokens": 16,
                       "messages": [{"role": "user", "content": marker}]})
    e2elib.run_client(server, [
        "curl", "--cacert", server.ca, "-sS", "--fail-with-body",
        "-H", "Authorization: Bearer sk-test-env-0123456789abcdef",
        "-H", "Content-Type: application/json", "-d", body,
        "https://%s/v1/chat/completions" % e2elib.OPENAI_HOST])


def test_daemonset_env_changes_the_output_path(server, tmp_path):
    ht = host_mode()
    objs = render_with_env(tmp_path, {"OISP_SENSOR_OUTPUT_PATH": ENV_OUTPUT})
    s = ht.HostSensor(objs, str(tmp_path / "work"))
    assert s.c["env"][-1] == {"name": "OISP_SENSOR_OUTPUT_PATH", "value": ENV_OUTPUT}
    # The container's path, under the stand-in of its volume (as host mode
    # does for the ConfigMap's paths).
    env_out = s.paths.host(ENV_OUTPUT)
    assert env_out and env_out != s.events
    s.env["OISP_SENSOR_OUTPUT_PATH"] = env_out
    marker = "env-output-" + uuid.uuid4().hex[:8]
    s.start()
    try:
        s.check_probes()
        p = subprocess.run([e2elib.SENSOR, "status", "--json", "--status-socket", s.sock],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 0, p.stderr
        cfg = json.loads(p.stdout)["config"]
        chat_call(server, marker)
        events = e2elib.EventLog(env_out)
        got = events.wait(lambda e: marker in json.dumps(e), count=2, timeout=15)
        assert len(got) == 2, s.tail()
    finally:
        rc = s.stop()
    assert rc == 0, s.tail()
    assert cfg["output.path"] == {"value": env_out, "source": "env"}
    assert json.loads(p.stdout)["output"]["path"] == env_out
    # the rest is the ConfigMap's, or the defaults
    assert cfg["output.rotate.max_bytes"] == {"value": str(100 << 20), "source": "file"}
    assert cfg["metrics.allowed_ips"] == {"value": "127.0.0.1/32", "source": "file"}
    assert cfg["capture.max_connections"] == {"value": "16384", "source": "default"}
    assert set(cfg) >= {"output.path", "redaction.patterns", "kubernetes.ca_path"}
    assert all(v["source"] in ("default", "file", "env", "flag") for v in cfg.values())
    # nothing went to the ConfigMap's path
    if os.path.exists(s.events):
        with open(s.events) as f:
            assert marker not in f.read()
    e2elib.check_lines_valid(env_out)


def test_flags_override_env_which_overrides_the_file(tmp_path):
    config = e2elib.SENSOR_CONFIG + "capture:\n  idle_timeout_seconds: 60\n  max_connections: 100\n"
    s = e2elib.Sensor(str(tmp_path), config=config, env={
        "OISP_SENSOR_OUTPUT_PATH": str(tmp_path / "env.jsonl"),
        "OISP_SENSOR_CAPTURE_IDLE_TIMEOUT_SECONDS": "77"})
    s.start()
    try:
        cfg = s.status()["config"]
    finally:
        assert s.stop() == 0, s.log_tail()
    assert cfg["output.path"] == {"value": s.out, "source": "flag"}     # --output
    assert cfg["capture.idle_timeout_seconds"] == {"value": "77", "source": "env"}
    assert cfg["capture.max_connections"] == {"value": "100", "source": "file"}
    assert cfg["filters.server_side"] == {"value": "false", "source": "default"}
    assert cfg["rules.path"] == {"value": None, "source": "default"}


def test_bad_env_value_stops_run_naming_the_variable(tmp_path):
    conf = tmp_path / "c.yaml"
    conf.write_text(e2elib.SENSOR_CONFIG.format(out=tmp_path / "ev.jsonl"))
    for var, value, why in [
            ("OISP_SENSOR_CAPTURE_RING_BUFFER_BYTES", "1000",
             "OISP_SENSOR_CAPTURE_RING_BUFFER_BYTES (capture.ring_buffer_bytes): "
             "1000 is out of range (65536..1073741824)"),
            ("OISP_SENSOR_FILTERS_AIONLY", "true",
             "OISP_SENSOR_FILTERS_AIONLY: unknown configuration variable")]:
        p = subprocess.run([e2elib.SENSOR, "run", "--config", str(conf), "--status-socket",
                            str(tmp_path / "s.sock")],
                           env=dict(e2elib.clean_env(), **{var: value}), capture_output=True,
                           text=True, timeout=30, stdin=subprocess.DEVNULL)
        assert p.returncode == 2, p.stderr
        assert why in p.stderr, p.stderr
        # refused before anything was opened
        assert not (tmp_path / "ev.jsonl").exists()
        assert not (tmp_path / "s.sock").exists()

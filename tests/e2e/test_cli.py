"""The command line: configuration errors, status without a sensor,
replay of a capture file. No BPF needed."""
import json
import os
import struct
import subprocess
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SENSOR = os.path.join(ROOT, "build", "oisp-sensor")
VALIDATE = os.path.join(ROOT, "tests", "validate-events.py")


def run(*args, **kw):
    assert os.path.exists(SENSOR), "build/oisp-sensor is missing: run make"
    return subprocess.run([SENSOR, *args], capture_output=True, text=True,
                          timeout=30, stdin=subprocess.DEVNULL, **kw)


@pytest.fixture
def tmp():
    with tempfile.TemporaryDirectory(prefix="oisp-cli-") as d:
        yield d


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


@pytest.mark.parametrize("yaml_text,line,words", [
    ("output:\n  path: /tmp/x\n  colour: blue\n", 3, "colour"),
    ("filters:\n  ai_only: maybe\n", 2, "ai_only"),
    ("capture:\n  max_bytes_per_call: 12\n", 2, "max_bytes_per_call"),
    ("redaction:\n  enabled: true\n  patterns:\n    - name: bad\n      regex: '(unclosed'\n", 5, "bad"),
    ("output: [\n", 1, ""),
])
def test_bad_config_is_refused_with_file_and_line(tmp, yaml_text, line, words):
    cfg = write(os.path.join(tmp, "bad.yaml"), yaml_text)
    p = run("run", "--config", cfg, "--output", os.path.join(tmp, "ev.jsonl"),
            "--status-socket", os.path.join(tmp, "s.sock"))
    assert p.returncode != 0
    assert f"{cfg}:{line}" in p.stderr or f"{cfg}:{line + 1}" in p.stderr, p.stderr
    assert words in p.stderr
    assert not os.path.exists(os.path.join(tmp, "ev.jsonl"))


def test_bad_flag_value_is_refused(tmp):
    p = run("run", "--max-call-bytes", "lots", "--status-socket",
            os.path.join(tmp, "s.sock"))
    assert p.returncode == 2
    assert "max_bytes_per_call" in p.stderr


def test_status_without_sensor_fails(tmp):
    p = run("status", "--status-socket", os.path.join(tmp, "none.sock"))
    assert p.returncode == 1
    assert "no sensor is running" in p.stderr


def test_unknown_command():
    p = run("frobnicate")
    assert p.returncode == 2


CAP_DATA_HDR = struct.Struct("<IIIIIIQ16sQQIIIIII")
assert CAP_DATA_HDR.size == 88


def cap_record(tgid, ssl, call_id, direction, payload, ts):
    return CAP_DATA_HDR.pack(1, tgid, tgid, 0, 0, 0, ts, b"pytest", ssl,
                             call_id, direction, 0, len(payload), 0,
                             len(payload), 0) + payload


def capture_file(path, records):
    with open(path, "wb") as f:
        f.write(b"OISPCAP\0" + struct.pack("<IIQ", 1, 88, 0) + b"host".ljust(64, b"\0"))
        for r in records:
            f.write(struct.pack("<I", len(r)) + r)


def test_replay_writes_valid_events(tmp):
    body = json.dumps({"model": "gpt-4o-mini", "messages": [
        {"role": "user", "content": "replayed"}]}).encode()
    req = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\n"
           b"Content-Length: %d\r\n\r\n" % len(body)) + body
    rbody = json.dumps({"id": "chatcmpl-9", "model": "gpt-4o-mini",
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                                     "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}).encode()
    resp = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(rbody)) + rbody
    cap = os.path.join(tmp, "c.cap")
    capture_file(cap, [cap_record(42, 0x1000, 1, 1, req, 10**9),
                       cap_record(42, 0x1000, 2, 2, resp, 2 * 10**9)])
    out = os.path.join(tmp, "ev.jsonl")
    p = run("replay", cap, "--output", out)
    assert p.returncode == 0, p.stderr
    events = [json.loads(l) for l in open(out)]
    assert [e["event_type"] for e in events] == ["ai.request", "ai.response"]
    assert events[0]["data"]["messages"][0]["content"] == "replayed"
    assert events[1]["data"]["usage"]["total_tokens"] == 4
    assert events[1]["data"]["latency_ms"] == pytest.approx(1000.0)
    v = subprocess.run(["/usr/bin/python3", VALIDATE, out], capture_output=True, text=True)
    assert v.returncode == 0, v.stdout + v.stderr


def test_replay_of_corrupt_file_names_file_and_offset(tmp):
    cap = os.path.join(tmp, "bad.cap")
    capture_file(cap, [b"\x01\x00"])
    p = run("replay", cap, "--output", os.path.join(tmp, "ev.jsonl"))
    assert p.returncode == 1
    assert cap in p.stderr and "offset" in p.stderr


def test_default_build_allocates_with_mimalloc():
    """make links mimalloc (Makefile MALLOC): version names it, and the
    dynamic loader maps it into the sensor."""
    p = run("version")
    assert p.returncode == 0
    assert p.stdout.startswith("oisp-sensor ") and "(mimalloc 2." in p.stdout, p.stdout
    maps = subprocess.run(["ldd", SENSOR], capture_output=True, text=True,
                          check=True).stdout
    assert "libmimalloc.so.2 => /" in maps, maps


def runtime_packages(dockerfile):
    """The packages the last stage of @dockerfile installs with apt-get."""
    text = open(dockerfile).read().replace("\\\n", " ")
    last = text.rsplit("\nFROM ", 1)[1]
    pkgs = set()
    for line in last.splitlines():
        if "apt-get install" in line:
            cmd = line.split("apt-get install", 1)[1].split("&&", 1)[0]
            pkgs |= {w for w in cmd.split() if not w.startswith("-")}
    return pkgs


def test_dockerfile_runtime_stage_has_every_linked_library():
    """Each library the sensor is linked against (DT_NEEDED) comes from a
    Debian package the image's runtime stage installs, or from libc6,
    which debian:12-slim has: a library added to the build and not to the
    image would fail only when the image starts."""
    wanted = runtime_packages(os.path.join(ROOT, "Dockerfile"))
    dyn = subprocess.run(["readelf", "-d", SENSOR], capture_output=True, text=True,
                         check=True).stdout
    needed = [l.split("[", 1)[1].rstrip("]") for l in dyn.splitlines() if "(NEEDED)" in l]
    assert "libmimalloc.so.2" in needed and "libcjson.so.1" in needed, needed
    paths = {}
    for l in subprocess.run(["ldd", SENSOR], capture_output=True, text=True,
                            check=True).stdout.splitlines():
        if "=> /" in l:
            name, path = l.split("=>")
            paths[name.strip()] = path.split("(")[0].strip()
    missing = []
    for lib in needed:
        real = os.path.realpath(paths[lib])
        owner = None
        for cand in (real, real.replace("/usr/lib/", "/lib/", 1), paths[lib]):
            p = subprocess.run(["dpkg", "-S", cand], capture_output=True, text=True)
            if p.returncode == 0:
                owner = p.stdout.split(":", 1)[0]
                break
        assert owner, "no package owns %s (%s)" % (lib, real)
        if owner != "libc6" and owner not in wanted:
            missing.append("%s (%s)" % (owner, lib))
    assert not missing, "Dockerfile runtime stage lacks: %s" % ", ".join(missing)

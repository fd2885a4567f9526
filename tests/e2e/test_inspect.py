"""`oisp-sensor inspect`: what the sensor finds and would probe in an
executable, without root and without running it.

Over every release of the AI agents that the capture tests run (a year of
Bun, eight months of Claude Code, three OpenCode releases, six months of
Codex, sixteen of Deno, and the Copilot CLI's runtime.node), and Bun's
build for musl (Alpine images; these tests cannot run it): each carries
its TLS stack, found with the functions the probes need, and would be
probed.  The same
identification as `run` (stack__match_all()), so a release that it
refuses here would not be captured; the capture tests run the same
releases for real.  Also: Debian's libssl, a program without TLS, and
files that are not executables."""
import json
import os
import shutil
import subprocess

import pytest

import agentlib
import e2elib
from test_sensor_bun import VERSIONS as BUNS
from test_sensor_claude import VERSIONS as CLAUDES
from test_sensor_opencode import VERSIONS as OPENCODES, opencode_exe
from test_sensor_rustls import (CODEX_RELEASES, CODEX_RING, DENO_RELEASES, RUNTIME, codex_exe,
                                copilot_exe, deno_exe)

BORINGSSL = {"SSL_write", "SSL_read"}
RUSTLS = {"aws-lc EVP_AEAD_CTX_seal (rustls)", "aws-lc EVP_AEAD_CTX_open (rustls)",
          "aws-lc EVP_AEAD_CTX_init (rustls)"}
OSSL3 = {"ssl_write_internal (OpenSSL 3, static)", "ssl_read_internal (OpenSSL 3, static)"}
# Bun's musl build (dynamically linked against musl and its libstdc++)
BUN_MUSL = "1.4.4"


def inspect(*paths, json_out=True):
    argv = [e2elib.SENSOR, "inspect"] + (["--json"] if json_out else []) + list(paths)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    if not json_out:
        return p
    return p, [json.loads(l) for l in p.stdout.splitlines()]


def stacks(entry):
    return {s["stack"]: s for s in entry["stacks"]}


def check_probed(s, needed):
    """Stack entry @s is probed, with every function of @needed at a
    distinct offset, the reads with their return."""
    assert s["probed"], s
    assert "why" not in s, s
    names = {p.get("function") for p in s["probes"]}
    assert needed <= names, (needed, s)
    offs = [p["offset"] for p in s["probes"]]
    assert len(set(offs)) == len(offs) and all(o > 0 for o in offs), s
    return {p.get("function"): p for p in s["probes"]}


def agents():
    """(kind, path) of every release the capture tests run."""
    out = [("bun", agentlib.agent_exe("@oven/bun-linux-x64", v, "bin/bun")) for v in BUNS]
    out.append(("bun", agentlib.agent_exe("@oven/bun-linux-x64-musl", BUN_MUSL, "bin/bun")))
    out += [("claude", agentlib.agent_exe("@anthropic-ai/claude-code-linux-x64", v, "claude"))
            for v in CLAUDES]
    out += [("opencode", opencode_exe(v)) for v in sorted(OPENCODES)]
    out += [("codex", codex_exe(v)) for v in CODEX_RELEASES + [CODEX_RING]]
    out += [("deno", deno_exe(v)) for v in DENO_RELEASES]
    _, sea = copilot_exe()
    out.append(("copilot", os.path.join(sea, RUNTIME)))
    return out


def test_inspect_agent_releases():
    want = agents()
    p, res = inspect(*[path for _, path in want])
    assert p.returncode == 0, p.stderr
    assert [r["path"] for r in res] == [path for _, path in want]
    for (kind, path), r in zip(want, res):
        by = stacks(r)
        if kind in ("bun", "claude", "opencode"):
            assert list(by) == ["boringssl"], r
            fns = check_probed(by["boringssl"], BORINGSSL)
            assert fns["SSL_read"]["return"] and fns["SSL_write"]["return"], r
            assert "each reached by decoding" in by["boringssl"]["found"], r
        elif kind == "deno":
            assert list(by) == ["rustls"], r
            check_probed(by["rustls"], RUSTLS)
            assert "rustls 0.23." in by["rustls"]["found"], r
            # up to 2.7, ring is linked beside aws-lc-rs; 2.9 has aws-lc-rs alone
            assert ("ring 0.17" in by["rustls"]["found"]) == ("@2.9." not in path), r
        else:
            # Codex and runtime.node carry a static OpenSSL 3 beside rustls
            assert list(by) == ["rustls", "openssl_static"], r
            check_probed(by["rustls"], RUSTLS)
            check_probed(by["openssl_static"], OSSL3)
            if CODEX_RING in path:
                assert "; ring 0.17.14 also linked: connections that use its provider are not seen" \
                    in by["rustls"]["found"], r
            assert "OpenSSL 3." in by["openssl_static"]["found"], r


def test_inspect_text_and_errors(tmp_path):
    libssl = "/usr/lib/x86_64-linux-gnu/libssl.so.3"
    text = tmp_path / "notes.txt"
    text.write_text("not an executable\n")
    missing = str(tmp_path / "missing")
    p, res = inspect(libssl, "/bin/true", str(text), missing)
    # a file that cannot be read makes the exit status 1; the others are reported
    assert p.returncode == 1, p.stderr
    assert [r["path"] for r in res] == [libssl, "/bin/true", str(text), missing]
    fns = check_probed(stacks(res[0])["openssl"], {"SSL_write", "SSL_read", "SSL_free"})
    assert not fns["SSL_free"]["return"], res[0]
    assert res[1]["stacks"] == [] and "error" not in res[1], res[1]
    assert res[2]["error"] == "not an ELF file of this machine", res[2]
    assert res[3]["error"] == "No such file or directory", res[3]

    p = inspect(libssl, "/bin/true", json_out=False)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(libssl + "\n  openssl: probed\n"), p.stdout
    assert "SSL_free" in p.stdout and "/bin/true\n  no TLS stack found: not probed\n" in p.stdout


def test_inspect_escapes_for_a_terminal(tmp_path):
    """A path is the operator's, but what it names may not be: a file called with
    terminal controls (an OSC title, a newline that fakes a line) reaches the
    terminal escaped, in text and in JSON, as in `status`."""
    hostile = tmp_path / "a\x1b]0;pwned\x07\nb\\x1b"
    shutil.copy("/bin/true", hostile)
    p = subprocess.run([e2elib.SENSOR, "inspect", str(hostile)], capture_output=True)
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode()
    assert "\x1b" not in out and "\x07" not in out, out
    assert out == str(tmp_path) + "/a\\x1b]0;pwned\\x07\\x0ab\\\\x1b\n" \
        "  no TLS stack found: not probed\n", out
    p = subprocess.run([e2elib.SENSOR, "inspect", "--json", str(hostile)], capture_output=True)
    assert p.returncode == 0, p.stderr
    assert b"\x1b" not in p.stdout and b"\x07" not in p.stdout, p.stdout
    assert json.loads(p.stdout)["path"] == str(hostile)


@pytest.mark.parametrize("argv, msg", [([], "missing FILE"), (["--bogus", "/bin/true"], "unknown option")])
def test_inspect_usage(argv, msg):
    p = subprocess.run([e2elib.SENSOR, "inspect"] + argv, capture_output=True, text=True)
    assert p.returncode == 2 and msg in p.stderr, (p.returncode, p.stderr)

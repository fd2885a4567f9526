#!/usr/bin/python3
"""Writes the seed of fuzz_ossl3 (tests/fuzz/fuzz_ossl3.c): the split,
then .text with ERR_new, ERR_set_debug and ERR_set_error (each a RET),
ssl_read_internal with one ERR_raise site and ssl_write_internal with
two, as OpenSSL 3 compiles them (tests/unit/test_ossl3.c)."""
import os
import struct
import sys

TEXT, RODATA = 0x401000, 0x200000
S_FILE = 1
S_WRITE = S_FILE + len("external/openssl+/ssl/ssl_lib.c") + 1
S_READ = S_WRITE + len("ssl_write_internal") + 1

text = bytearray(b"\xc3\xc3\xc3")
ERR_NEW, SET_DEBUG, SET_ERROR = TEXT, TEXT + 1, TEXT + 2


def here():
    return TEXT + len(text)


def call(t):
    text.extend(b"\xe8" + struct.pack("<i", t - (here() + 5)))


def lea(reg, off):
    text.extend(bytes([0x48, 0x8d, 0x05 | reg << 3]) +
                struct.pack("<i", RODATA + off - (here() + 7)))


def site(name, line):
    call(ERR_NEW)
    lea(7, S_FILE)
    lea(2, name)
    text.extend(b"\xbe" + struct.pack("<I", line))
    call(SET_DEBUG)
    text.extend(b"\xbf" + struct.pack("<I", 20) + b"\xbe" + struct.pack("<I", 0x19c) + b"\x31\xd2")
    call(SET_ERROR)


def func(names):
    while len(text) % 16:
        text.append(0xcc)
    start = len(text)
    text.append(0x55)
    for i, n in enumerate(names):
        site(n, 100 + i)
    text.extend(b"\x5d\xc3")
    return start


func([S_READ])
split = func([S_WRITE, S_WRITE])
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_ossl3")
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "synthetic"), "wb") as f:
    f.write(struct.pack("<H", split) + bytes(text))
sys.exit(0)

#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed of fuzz_bssl: .text at 0x401000 holding an error
function, SSL_write, ssl_read_impl and SSL_read as Bun 1.4.5 compiles
them (the layout of tests/unit/test_bssl.c's synthetic code), with the
ssl_lib.cc file name at 0x200001 as fuzz_bssl's .rodata has it."""
import os
import struct
import sys

TEXT, FILE_NAME = 0x401000, 0x200001


class Img:
    def __init__(self):
        self.b = bytearray(b"\xc3")   # the error function
        self.errfn = TEXT

    def here(self):
        return TEXT + len(self.b)

    def pad(self):
        self.b += b"\xcc"
        while len(self.b) % 16:
            self.b += b"\xcc"

    def call(self, target):
        self.b += b"\xe8" + struct.pack("<i", target - (self.here() + 5))

    def func(self):
        self.pad()
        a = self.here()
        self.b += b"\x55\x48\x89\xe5"      # push rbp; mov rbp, rsp
        return a

    def site(self, reason, line):
        self.b += b"\xb9" + struct.pack("<I", FILE_NAME)   # mov ecx, FILE
        self.b += b"\xbf\x10\x00\x00\x00\x31\xf6"          # mov edi,16; xor esi,esi
        self.b += b"\xba" + struct.pack("<I", reason)      # mov edx, reason
        self.b += b"\x41\xb8" + struct.pack("<I", line)    # mov r8d, line
        self.call(self.errfn)

    def ret(self):
        self.b += b"\x5d\xc3"


m = Img()
m.func()
for r, l in ((66, 953), (226, 958), (215, 973), (111, 979)):
    m.site(r, l)
m.ret()
impl = m.func()
m.site(226, 837)
m.site(215, 870)
m.ret()
m.func()
m.site(66, 931)
m.call(impl)
m.ret()
m.pad()
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "corpus", "fuzz_bssl", "synthetic")
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "wb") as f:
    f.write(m.b)

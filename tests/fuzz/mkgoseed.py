#!/usr/bin/python3
"""Writes the seed of fuzz_gosym: the smallest ELF file that the Go stack
(sensor/capture/gotls.c) accepts.  One PT_LOAD maps the whole file at
0x400000; sections .text (Write, Read, Close: a stack check, spills of
RAX and RBX, and returns) and .gopclntab in the Go 1.20 layout
(src/runtime/symtab.go: pcHeader, funcnametab, functab, _func).
Usage: mkgoseed.py OUT"""
import struct
import sys

BASE = 0x400000
FUNCS = ["crypto/tls.(*Conn).Write", "crypto/tls.(*Conn).Read",
         "crypto/tls.(*Conn).Close"]
# cmp rsp,[r14+16]; jbe +0; push rbp; sub rsp,0x10; mov [rsp+0x20],rax;
# mov [rsp+0x28],rbx; mov eax,0xc3c3c3c3; add rsp,0x10; pop rbp; ret;
# xor eax,eax; ret; int3 padding
BODY = bytes.fromhex("493b6610" "7600" "55" "4883ec10" "4889442420" "48895c2428"
                     "b8c3c3c3c3" "4883c410" "5d" "c3" "31c0" "c3") + b"\xcc" * 4


def main():
    text = b"".join(BODY for _ in FUNCS)
    names = b"".join(n.encode() + b"\0" for n in FUNCS)
    name_offs = [names.index(n.encode()) for n in FUNCS]
    nf = len(FUNCS)
    hdr_len = 72
    funcname_off = hdr_len
    cu_off = funcname_off + len(names)
    pcln_off = (cu_off + 7) & ~7
    functab = b""
    funcs = b""
    func_base = (nf + 1) * 8
    for i in range(nf):
        functab += struct.pack("<II", i * len(BODY), func_base + i * 8)
        funcs += struct.pack("<Ii", i * len(BODY), name_offs[i])
    functab += struct.pack("<II", nf * len(BODY), 0)
    pcln = functab + funcs

    # layout: ehdr(64) phdr(56) | .text @0x100 | .gopclntab | .shstrtab | shdrs
    text_off = 0x100
    pc_off = (text_off + len(text) + 31) & ~31
    shstr = b"\0.text\0.gopclntab\0.shstrtab\0"
    pc_len = pcln_off + len(pcln)
    shstr_off = pc_off + pc_len
    sh_off = (shstr_off + len(shstr) + 7) & ~7
    size = sh_off + 4 * 64
    hdr = struct.pack("<IBBBBQQQQQQQQ", 0xfffffff1, 0, 0, 1, 8, nf, 0,
                      BASE + text_off, funcname_off, cu_off, cu_off, cu_off, pcln_off)
    gopclntab = hdr + names + b"\0" * (pcln_off - cu_off) + pcln

    f = bytearray(size)
    f[0:64] = struct.pack("<4sBBBBB7sHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0,
                          b"\0" * 7, 2, 62, 1, BASE + text_off, 64, sh_off, 0,
                          64, 56, 1, 64, 4, 3)
    f[64:120] = struct.pack("<IIQQQQQQ", 1, 5, 0, BASE, BASE, size, size, 0x1000)
    f[text_off:text_off + len(text)] = text
    f[pc_off:pc_off + pc_len] = gopclntab
    f[shstr_off:shstr_off + len(shstr)] = shstr

    def sh(name, typ, flags, addr, off, sz):
        return struct.pack("<IIQQQQIIQQ", name, typ, flags, addr, off, sz, 0, 0, 16, 0)
    shdrs = (b"\0" * 64 + sh(1, 1, 6, BASE + text_off, text_off, len(text))
             + sh(7, 1, 2, BASE + pc_off, pc_off, pc_len)
             + sh(18, 3, 0, 0, shstr_off, len(shstr)))
    f[sh_off:sh_off + len(shdrs)] = shdrs
    with open(sys.argv[1], "wb") as out:
        out.write(f)


main()
